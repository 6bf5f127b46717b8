// SPDX-License-Identifier: GPL-2.0
/*
 * rcvbuf_helper: scripted TCP peers for the rcvgov kernel selftests.
 *
 * Modes (run inside a fresh network namespace made by the calling test):
 *
 *   retract   A kernel socket listens on a tun device; this program plays
 *             the remote peer by writing raw IPv4/TCP segments to the tun
 *             fd.  It fills the receiver (which never reads) until the
 *             receiver retracts its window to zero, sends one more segment
 *             inside the previously advertised window (as a real sender
 *             with data in flight would), then sends a pure ACK for the
 *             receiver's own data, with SEQ beyond the retracted edge but
 *             inside the highest edge ever advertised.  RFC 7323 2.4
 *             requires the receiver to process it.  Prints key=value
 *             figures; exit 0 if the ACK was processed (send queue
 *             drained), 1 if it was rejected (connection stuck), 4 if the
 *             scenario could not be set up.
 *
 *   clamp [N [SO_RCVBUF]]
 *             A kernel socket on a tun device that never reads; this
 *             program sends up to N in-order 200-byte segments inside the
 *             advertised window while an AF_PACKET socket on the device
 *             (never read) holds a clone of every skb, so no segment can be
 *             coalesced and sk_rmem_alloc goes over sk_rcvbuf:
 *             tcp_prune_queue() and tcp_clamp_window() run.  Prints
 *             sk_rcvbuf before/after/peak (SO_MEMINFO), the last advertised
 *             window and the netns MIB counters.  Exit 0 if sk_rcvbuf never
 *             rose, 1 if it did, 4 if the queue never went over sk_rcvbuf.
 *             SO_RCVBUF: set on the listener (the socket is then locked).
 *
 * Both print the kernel socket's SO_COOKIE as sock_cookie=N.
 *
 * The blog reproducer pair and the checked streams are tcp_stream.c.
 */
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
		exit(KSFT_SKIP);
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
		if (!have_edge || seq_after(edge, max_edge))
			max_edge = edge;
		have_edge = 1;
	}
}

static void run(const char *cmd)
{
	if (system(cmd) != 0) {
		printf("# command failed: %s\n", cmd);
		exit(KSFT_SKIP);
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
		printf("# SKIP bind/listen: %s\n", strerror(errno));
		exit(KSFT_SKIP);
	}
	send_seg(iss, 0, F_SYN, 65535, opts, sizeof(opts), 0);
	snd_nxt = iss + 1;
	pump(1000, so, &solen);
	if (!rcv_ack) {
		printf("# SKIP no SYN-ACK from the kernel\n");
		exit(KSFT_SKIP);
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
			printf("# SKIP the handshake did not complete (no connection to accept)\n");
			exit(KSFT_SKIP);
		}
	}
	kfd = accept(lfd, NULL, NULL);
	if (kfd < 0) {
		printf("# SKIP accept: %s\n", strerror(errno));
		exit(KSFT_SKIP);
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

static int mode_retract(void)
{
	const int seglen = 500;
	uint32_t rmem, rcvbuf, retracted, p;
	const char kdata[100] = "kernel data";
	int outq = -1, rounds = 0;
	long skipped0;

	setup_tun();
	handshake();

	/* the receiver sends 100 bytes; we do not acknowledge them yet */
	if (write(kfd, kdata, sizeof(kdata)) != sizeof(kdata)) {
		printf("# SKIP write: %s\n", strerror(errno));
		return KSFT_SKIP;
	}
	pump(50, NULL, NULL);

	/* fill the receiver, which never reads, within its window */
	while (rounds++ < 20000) {
		int sent = 0;

		while (have_edge && !seq_after(snd_nxt + seglen, last_edge) &&
		       sent < 16) {
			send_seg(snd_nxt, rcv_ack, F_ACK | F_PSH, 65535, NULL, 0,
				 seglen);
			snd_nxt += seglen;
			sent++;
		}
		pump(sent ? 5 : 20, NULL, NULL);
		if (have_edge && last_win == 0 && last_ack == snd_nxt)
			break;
		if (!sent && last_win == 0)
			break;
	}
	meminfo(kfd, &rmem, &rcvbuf);
	retracted = last_edge;
	printf("# filled: rcv_nxt=%u retracted_edge=%u max_edge=%u (+%u) last_win=%u rmem_alloc=%u rcvbuf=%u zero_window_acks=%lu\n",
	       last_ack - iss, retracted - iss, max_edge - iss,
	       max_edge - retracted, last_win, rmem, rcvbuf, zero_wins_seen);
	if (last_win != 0 || !seq_after(max_edge, retracted)) {
		printf("# SKIP the receiver did not retract its window (tcp_shrink_window off?)\n");
		return KSFT_SKIP;
	}

	/* data in flight when the retraction was seen: inside the window
	 * advertised before, beyond the retracted edge.  Dropped, fine.
	 */
	p = snd_nxt;
	if (seq_after(max_edge, snd_nxt)) {
		uint32_t len = max_edge - snd_nxt;

		if (len > (uint32_t)seglen)
			len = seglen;
		send_seg(snd_nxt, rcv_ack, F_ACK | F_PSH, 65535, NULL, 0, len);
		p = snd_nxt + len;
	}
	pump(50, NULL, NULL);
	printf("# peer SND.NXT=%u is %u bytes beyond the retracted edge, %u inside the max edge\n",
	       p - iss, p - retracted, max_edge - p);

	/* the segment that matters: a pure ACK of the receiver's 100 bytes,
	 * SEQ = our SND.NXT
	 */
	skipped0 = mib("TCPACKSkippedSeq");
	send_seg(p, rcv_ack + sizeof(kdata), F_ACK, 65535, NULL, 0, 0);
	pump(200, NULL, NULL);
	ioctl(kfd, SIOCOUTQ, &outq);
	printf("# after the ACK at SEQ beyond the retracted edge: receiver unacked bytes (SIOCOUTQ)=%d TCPACKSkippedSeq+=%ld\n",
	       outq, mib("TCPACKSkippedSeq") - skipped0);
	printf("retract_unacked_after=%d\n", outq);
	return outq == 0 ? KSFT_PASS : KSFT_FAIL;
}

/* An AF_PACKET tap on the tun device that never reads: every received skb
 * is cloned for it, and tcp_try_coalesce() cannot append to a cloned tail
 * skb, so every small segment stays a separate skb with a large truesize.
 */
static int open_tap(void)
{
	struct sockaddr_ll {
		unsigned short sll_family;
		unsigned short sll_protocol;
		int sll_ifindex;
		unsigned short sll_hatype;
		unsigned char sll_pkttype;
		unsigned char sll_halen;
		unsigned char sll_addr[8];
	} sll = { 0 };
	int fd = socket(AF_PACKET, SOCK_DGRAM, htons(0x0800));
	int big = 256 << 20;

	if (fd < 0) {
		printf("# SKIP AF_PACKET socket: %s\n", strerror(errno));
		exit(KSFT_SKIP);
	}
	setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &big, sizeof(big));
	sll.sll_family = AF_PACKET;
	sll.sll_protocol = htons(0x0800);
	sll.sll_ifindex = if_nametoindex(tun_name);
	if (bind(fd, (void *)&sll, sizeof(sll)) < 0) {
		printf("# SKIP bind AF_PACKET: %s\n", strerror(errno));
		exit(KSFT_SKIP);
	}
	return fd;
}

static int mode_clamp(int maxsegs)
{
	const int seglen = 200;
	uint32_t rmem0, rb0, rmem1, rb1, rmem, rb, rmem_peak = 0, rb_peak = 0;
	long prune0, rcvp0, zw0, coll0, coal0, ofop0;
	int sent = 0, rounds = 0, tap;

	setup_tun();
	tap = open_tap();
	prune0 = mib("PruneCalled");
	rcvp0 = mib("RcvPruned");
	zw0 = mib("TCPToZeroWindowAdv");
	coll0 = mib("TCPRcvCollapsed");
	coal0 = mib("TCPRcvCoalesce");
	ofop0 = mib("OfoPruned");
	handshake();
	meminfo(kfd, &rmem0, &rb0);
	/* in-order 200-byte segments, always inside the last advertised
	 * window, as fast as we can; ACKs are drained between segments
	 */
	while (sent < maxsegs && rounds < 200) {
		if (have_edge && !seq_after(snd_nxt + seglen, last_edge)) {
			send_seg(snd_nxt, rcv_ack, F_ACK | F_PSH, 65535, NULL, 0,
				 seglen);
			snd_nxt += seglen;
			sent++;
			pump(0, NULL, NULL);
		} else {
			rounds++;
			pump(300, NULL, NULL);
			if (have_edge && last_win == 0 && last_ack == snd_nxt)
				break;
		}
		meminfo(kfd, &rmem, &rb);
		if (rmem > rmem_peak)
			rmem_peak = rmem;
		if (rb > rb_peak)
			rb_peak = rb;
	}
	pump(100, NULL, NULL);
	meminfo(kfd, &rmem1, &rb1);
	printf("# clamp: sent %d in-order %d-byte segments (non-coalescing), receiver never reads\n",
	       sent, seglen);
	printf("# clamp: rcvbuf %u -> %u (peak %u), rmem_alloc %u -> %u (peak %u), last advertised window %u\n",
	       rb0, rb1, rb_peak, rmem0, rmem1, rmem_peak, last_win);
	printf("# clamp: PruneCalled+=%ld TCPRcvCollapsed+=%ld OfoPruned+=%ld RcvPruned+=%ld TCPRcvCoalesce+=%ld TCPToZeroWindowAdv+=%ld\n",
	       mib("PruneCalled") - prune0, mib("TCPRcvCollapsed") - coll0,
	       mib("OfoPruned") - ofop0, mib("RcvPruned") - rcvp0,
	       mib("TCPRcvCoalesce") - coal0, mib("TCPToZeroWindowAdv") - zw0);
	printf("clamp_rcvbuf_before=%u\nclamp_rcvbuf_after=%u\nclamp_rcvbuf_peak=%u\nclamp_last_window=%u\nclamp_prune_called=%ld\n",
	       rb0, rb1, rb_peak, last_win, mib("PruneCalled") - prune0);
	close(tap);
	if (mib("PruneCalled") - prune0 <= 0) {
		printf("# SKIP the receive queue never went over sk_rcvbuf\n");
		return KSFT_SKIP;
	}
	return rb_peak > rb0 ? KSFT_FAIL : KSFT_PASS;
}

int main(int argc, char **argv)
{
	setvbuf(stdout, NULL, _IOLBF, 0);
	if (argc >= 2 && !strcmp(argv[1], "retract"))
		return mode_retract();
	if (argc >= 2 && !strcmp(argv[1], "clamp")) {
		if (argc > 3)
			listen_rcvbuf = atoi(argv[3]);
		return mode_clamp(argc > 2 ? atoi(argv[2]) : 3000);
	}
	fprintf(stderr,
		"usage: %s retract | clamp [N [SO_RCVBUF]]\n",
		argv[0]);
	return 2;
}
