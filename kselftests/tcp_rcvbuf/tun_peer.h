// SPDX-License-Identifier: GPL-2.0
/*
 * tun_peer.h: a scripted remote TCP peer on a tun device, for the
 * tcp_rcvbuf kselftest helpers.  One kernel socket listens on the tun
 * device; the helper writes raw IPv4/TCP segments to the tun fd and reads
 * what the kernel sends back.  Single-file helpers: everything is static.
 *
 * pump() tracks the kernel's window two ways: as advertised in the last
 * ACK (last_win, last_edge, max_edge), and as a Linux sender would take it
 * (lx_una, lx_wnd: tcp_may_update_window() - a smaller window is taken
 * only from an ACK that advances SND.UNA).
 */
#ifndef TUN_PEER_H
#define TUN_PEER_H

#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <net/if.h>
#include <linux/if_tun.h>
#include <linux/sock_diag.h>
#include <linux/sockios.h>
#include <netinet/in.h>
#include <netinet/ip.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#ifndef SO_MEMINFO
#define SO_MEMINFO 55
#endif

#define KSFT_PASS 0
#define KSFT_FAIL 1
#define KSFT_SKIP 4

static const char *tun_name = "rtun0";
static const char *local_ip = "10.77.0.1";	/* kernel side */
static const char *peer_ip = "10.77.0.2";	/* scripted peer */
static const int kport = 5000, pport = 40000;

static int tunfd = -1, lfd = -1, kfd = -1;
static uint32_t irs;		/* kernel's initial sequence number */
static uint32_t iss = 1000000;	/* ours */
static uint32_t snd_nxt;	/* our next seq */
static uint32_t rcv_ack;	/* what we acknowledge of the kernel's data */
static int kwscale = -1;	/* kernel's receive window shift */
static uint32_t max_edge, last_edge, last_win;
static uint32_t last_ack;
static int have_edge;
static unsigned long acks_seen, zero_wins_seen;
/* the window as a Linux sender takes it (tcp_may_update_window()) */
static uint32_t lx_una, lx_wnd, lx_wl1;
static unsigned long lx_ignored_smaller, lx_ignored_zero;
static int listen_rcvbuf;	/* SO_RCVBUF on the listener (0: autotuned) */

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static int seq_after(uint32_t a, uint32_t b)
{
	return (int32_t)(a - b) > 0;
}

static uint16_t csum_fold(uint32_t sum)
{
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return ~sum;
}

static uint32_t csum_add(uint32_t sum, const void *data, size_t len)
{
	const uint8_t *p = data;
	size_t i;

	for (i = 0; i + 1 < len; i += 2)
		sum += (p[i] << 8) | p[i + 1];
	if (len & 1)
		sum += p[len - 1] << 8;
	return sum;
}

/* Build and write one IPv4/TCP segment from the peer to the kernel. */
static void send_seg(uint32_t seq, uint32_t ack, uint8_t flags, uint16_t win,
		     const void *opts, int optlen, int paylen)
{
	uint8_t pkt[2048];
	struct iphdr *ip = (struct iphdr *)pkt;
	struct tcphdr *th = (struct tcphdr *)(pkt + sizeof(*ip));
	int thlen = sizeof(*th) + optlen;
	int tot = sizeof(*ip) + thlen + paylen;
	uint32_t sum;
	struct {
		uint32_t s, d;
		uint8_t z, p;
		uint16_t l;
	} __attribute__((packed)) ph;

	memset(pkt, 0, tot);
	ip->version = 4;
	ip->ihl = 5;
	ip->tot_len = htons(tot);
	ip->ttl = 64;
	ip->protocol = IPPROTO_TCP;
	inet_pton(AF_INET, peer_ip, &ip->saddr);
	inet_pton(AF_INET, local_ip, &ip->daddr);
	ip->check = htons(csum_fold(csum_add(0, ip, sizeof(*ip))));

	th->source = htons(pport);
	th->dest = htons(kport);
	th->seq = htonl(seq);
	th->ack_seq = htonl(ack);
	th->doff = thlen / 4;
	((uint8_t *)th)[13] = flags;
	th->window = htons(win);
	if (optlen)
		memcpy(th + 1, opts, optlen);
	memset((uint8_t *)th + thlen, 'x', paylen);

	ph.s = ip->saddr;
	ph.d = ip->daddr;
	ph.z = 0;
	ph.p = IPPROTO_TCP;
	ph.l = htons(thlen + paylen);
	sum = csum_add(0, &ph, sizeof(ph));
	sum = csum_add(sum, th, thlen + paylen);
	th->check = htons(csum_fold(sum));

	if (write(tunfd, pkt, tot) != tot) {
		perror("write tun");
		exit(KSFT_FAIL);
	}
}

#define F_FIN 0x01
#define F_SYN 0x02
#define F_RST 0x04
#define F_PSH 0x08
#define F_ACK 0x10

/* Read what the kernel sent for up to ms milliseconds; track its window. */
static int pump(int ms, uint8_t *synack_opts, int *synack_optlen)
{
	double end = now() + ms / 1000.0;
	int got = 0;

	for (;;) {
		uint8_t buf[65536];
		struct pollfd pfd = { .fd = tunfd, .events = POLLIN };
		int left = (int)((end - now()) * 1000);
		struct iphdr *ip = (struct iphdr *)buf;
		struct tcphdr *th;
		uint32_t win, ack, seq, edge;
		int n, dlen;

		if (left < 0)
			left = 0;
		if (poll(&pfd, 1, left) <= 0)
			return got;
		n = read(tunfd, buf, sizeof(buf));
		if (n < (int)sizeof(*ip) || ip->version != 4 ||
		    ip->protocol != IPPROTO_TCP)
			continue;
		th = (struct tcphdr *)(buf + ip->ihl * 4);
		if (ntohs(th->dest) != pport)
			continue;
		got++;
		seq = ntohl(th->seq);
		ack = ntohl(th->ack_seq);
		win = ntohs(th->window);
		dlen = ntohs(ip->tot_len) - ip->ihl * 4 - th->doff * 4;
		if (th->syn) {
			irs = seq;
			rcv_ack = irs + 1;
			/* the window in a SYN-ACK is never scaled */
			last_ack = ack;
			last_win = win;
			last_edge = max_edge = ack + win;
			have_edge = 1;
			lx_una = ack;
			lx_wnd = win;
			lx_wl1 = seq;
			if (synack_opts) {
				*synack_optlen = th->doff * 4 - sizeof(*th);
				memcpy(synack_opts, th + 1, *synack_optlen);
			}
			continue;
		}
		(void)dlen;
		if (!th->ack || kwscale < 0)
			continue;
		acks_seen++;
		win <<= kwscale;
		edge = ack + win;
		last_win = win;
		last_ack = ack;
		last_edge = edge;
		if (!win)
			zero_wins_seen++;
		if (seq_after(ack, lx_una) || seq_after(seq, lx_wl1) ||
		    (seq == lx_wl1 && win > lx_wnd)) {
			lx_una = seq_after(ack, lx_una) ? ack : lx_una;
			lx_wnd = win;
			lx_wl1 = seq;
		} else if (win < lx_wnd) {
			lx_ignored_smaller++;
			if (!win)
				lx_ignored_zero++;
		}
		if (!have_edge || seq_after(edge, max_edge))
			max_edge = edge;
		have_edge = 1;
	}
}

static void run(const char *cmd)
{
	if (system(cmd) != 0) {
		printf("# command failed: %s\n", cmd);
		exit(KSFT_FAIL);
	}
}

static void setup_tun(void)
{
	struct ifreq ifr = { 0 };
	char cmd[256];

	tunfd = open("/dev/net/tun", O_RDWR);
	if (tunfd < 0) {
		printf("# SKIP cannot open /dev/net/tun: %s\n", strerror(errno));
		exit(KSFT_SKIP);
	}
	ifr.ifr_flags = IFF_TUN | IFF_NO_PI;
	strncpy(ifr.ifr_name, tun_name, IFNAMSIZ - 1);
	if (ioctl(tunfd, TUNSETIFF, &ifr) < 0) {
		printf("# SKIP TUNSETIFF: %s\n", strerror(errno));
		exit(KSFT_SKIP);
	}
	snprintf(cmd, sizeof(cmd),
		 "ip link set %s up && ip addr add %s/24 dev %s && ip link set lo up",
		 tun_name, local_ip, tun_name);
	run(cmd);
	/* no IPv6 chatter (router solicitations, MLD) on the tun device */
	snprintf(cmd, sizeof(cmd),
		 "echo 1 > /proc/sys/net/ipv6/conf/%s/disable_ipv6 2>/dev/null; true",
		 tun_name);
	run(cmd);
}

/* Listen, complete a handshake as the peer, accept.  Peer's wscale 7. */
static void handshake(void)
{
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons(kport) };
	uint8_t opts[] = { 2, 4, 0x05, 0xb4,	/* MSS 1460 */
			   1, 1, 4, 2,		/* NOP NOP SACK permitted */
			   1, 3, 3, 7 };	/* NOP, wscale 7 */
	uint8_t so[64];
	int solen = 0, one = 1, i;

	lfd = socket(AF_INET, SOCK_STREAM, 0);
	setsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (listen_rcvbuf)
		setsockopt(lfd, SOL_SOCKET, SO_RCVBUF, &listen_rcvbuf,
			   sizeof(listen_rcvbuf));
	inet_pton(AF_INET, local_ip, &sa.sin_addr);
	if (bind(lfd, (void *)&sa, sizeof(sa)) || listen(lfd, 4)) {
		printf("# FAIL bind/listen: %s\n", strerror(errno));
		exit(KSFT_FAIL);
	}
	send_seg(iss, 0, F_SYN, 65535, opts, sizeof(opts), 0);
	snd_nxt = iss + 1;
	pump(1000, so, &solen);
	if (!rcv_ack) {
		printf("# FAIL no SYN-ACK from the kernel\n");
		exit(KSFT_FAIL);
	}
	kwscale = 0;
	for (i = 0; i < solen;) {
		if (so[i] == 0)
			break;
		if (so[i] == 1) {
			i++;
			continue;
		}
		if (so[i] == 3)
			kwscale = so[i + 2];
		i += so[i + 1] ? so[i + 1] : 1;
	}
	send_seg(snd_nxt, rcv_ack, F_ACK, 65535 >> 0, NULL, 0, 0);
	/* the connection must be there at once: never block on accept() */
	{
		struct pollfd p = { .fd = lfd, .events = POLLIN };

		if (poll(&p, 1, 2000) != 1) {
			printf("# FAIL the handshake did not complete (no connection to accept)\n");
			exit(KSFT_FAIL);
		}
	}
	kfd = accept(lfd, NULL, NULL);
	if (kfd < 0) {
		printf("# FAIL accept: %s\n", strerror(errno));
		exit(KSFT_FAIL);
	}
	fcntl(kfd, F_SETFL, O_NONBLOCK);
	{
		uint64_t cookie = 0;
		socklen_t cl = sizeof(cookie);

		getsockopt(kfd, SOL_SOCKET, SO_COOKIE, &cookie, &cl);
		printf("sock_cookie=%llu\n", (unsigned long long)cookie);
	}
	pump(20, NULL, NULL);
	printf("# handshake done: kernel rcv_wscale=%d (SYN-ACK options:", kwscale);
	for (i = 0; i < solen; i++)
		printf(" %u", so[i]);
	printf(")\n");
}

static void meminfo(int fd, uint32_t *rmem, uint32_t *rcvbuf)
{
	uint32_t mi[SK_MEMINFO_VARS] = { 0 };
	socklen_t l = sizeof(mi);

	getsockopt(fd, SOL_SOCKET, SO_MEMINFO, mi, &l);
	*rmem = mi[SK_MEMINFO_RMEM_ALLOC];
	*rcvbuf = mi[SK_MEMINFO_RCVBUF];
}

static long mib(const char *name)
{
	char line[8192], names[8192];
	FILE *f = fopen("/proc/net/netstat", "r");
	long val = -1;

	if (!f)
		return -1;
	while (fgets(names, sizeof(names), f) && fgets(line, sizeof(line), f)) {
		char *sn, *sv, *n, *v;

		n = strtok_r(names, " \n", &sn);
		v = strtok_r(line, " \n", &sv);
		while (n && v) {
			if (!strcmp(n, name))
				val = atol(v);
			n = strtok_r(NULL, " \n", &sn);
			v = strtok_r(NULL, " \n", &sv);
		}
	}
	fclose(f);
	return val;
}

#endif /* TUN_PEER_H */
