// SPDX-License-Identifier: GPL-2.0
/*
 * tcp_stream: the two ends of a checked TCP byte stream for the tcp_rcvbuf
 * kselftests (IPv4 or IPv6, chosen by the address).
 *
 *   tcp_stream send ADDR PORT [options]
 *	Connects (retrying until the listener is there) and writes a known
 *	byte pattern: byte i of the stream is pattern(i).  -n BYTES ends
 *	after BYTES bytes, then shuts down the write side and waits until
 *	the peer has closed (it verified everything); -t SECS ends after
 *	SECS seconds and closes.  -c CHUNK bytes per write, -i USECS between
 *	writes (0: as fast as the socket takes them).  Samples TCP_INFO
 *	every 100 ms: total retransmits, highest RTO backoff, highest RTO.
 *
 *   tcp_stream recv ADDR PORT [options]
 *	Listens, accepts one connection (bounded by -T), reads and checks
 *	every byte against pattern(offset).  -n BYTES: the stream must be
 *	exactly BYTES long and end with a FIN; -t SECS: read for SECS
 *	seconds, then close (no length check).  -c CHUNK bytes per read,
 *	-i USECS between reads (0: whenever data is there).
 *	--stall-at B --stall-secs S: stop reading for S seconds once B
 *	bytes are read, then resume.  --clamp N: during the stall, once
 *	sk_rmem_alloc >= --clamp-rmem BYTES (default 0: at once), set
 *	SO_RCVBUF to N (what a userspace governor does to a live socket).  --rcvbuf N:
 *	SO_RCVBUF on the listener (inherited, locked from the start).
 *	Samples SO_MEMINFO (rcvbuf/rmem maxima) while running.
 *
 *   Both: -T SECS overall limit (default 60).  Results are printed as
 *   key=value lines; the last is "<side>_result=ok" or
 *   "<side>_result=<reason> ..." (corrupt, reset, timeout, short, error).
 *   Exit 0 ok, 1 failure, 2 usage error.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <linux/sock_diag.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#ifndef SO_MEMINFO
#define SO_MEMINFO 55
#endif

static struct {
	long long bytes;	/* -n */
	double secs;		/* -t */
	int chunk;		/* -c */
	int interval_us;	/* -i */
	double timeout;		/* -T */
	long long stall_at;
	double stall_secs;
	int clamp;
	int clamp_rmem;
	int rcvbuf;
} opt = { .bytes = -1, .chunk = 65536, .timeout = 60, .stall_at = -1 };

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

/* byte i of the stream: a shifted or repeated range never matches */
static inline uint8_t pattern(uint64_t i)
{
	return (uint8_t)((i * 0x9E3779B97F4A7C15ull) >> 56);
}

static int parse_addr(const char *a, int port, struct sockaddr_storage *ss,
		      socklen_t *len)
{
	struct sockaddr_in *s4 = (struct sockaddr_in *)ss;
	struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)ss;

	memset(ss, 0, sizeof(*ss));
	if (inet_pton(AF_INET6, a, &s6->sin6_addr) == 1) {
		s6->sin6_family = AF_INET6;
		s6->sin6_port = htons(port);
		*len = sizeof(*s6);
		return AF_INET6;
	}
	if (inet_pton(AF_INET, a, &s4->sin_addr) == 1) {
		s4->sin_family = AF_INET;
		s4->sin_port = htons(port);
		*len = sizeof(*s4);
		return AF_INET;
	}
	return -1;
}

static const char *errname(int e)
{
	switch (e) {
	case ECONNRESET: return "ECONNRESET";
	case ETIMEDOUT: return "ETIMEDOUT";
	case EPIPE: return "EPIPE";
	case ECONNREFUSED: return "ECONNREFUSED";
	case EHOSTUNREACH: return "EHOSTUNREACH";
	default: return strerrorname_np(e) ? strerrorname_np(e) : "E?";
	}
}

struct sample {
	uint32_t rcvbuf_max, rmem_max, backoff_max, rto_max_us, total_retrans;
	uint32_t probes_max;
	double next;
};

static void sample(int fd, struct sample *s, int force)
{
	uint32_t mi[SK_MEMINFO_VARS] = { 0 };
	struct tcp_info ti;
	socklen_t l = sizeof(mi);

	if (!force && now() < s->next)
		return;
	s->next = now() + 0.1;
	if (!getsockopt(fd, SOL_SOCKET, SO_MEMINFO, mi, &l)) {
		if (mi[SK_MEMINFO_RCVBUF] > s->rcvbuf_max)
			s->rcvbuf_max = mi[SK_MEMINFO_RCVBUF];
		if (mi[SK_MEMINFO_RMEM_ALLOC] > s->rmem_max)
			s->rmem_max = mi[SK_MEMINFO_RMEM_ALLOC];
	}
	l = sizeof(ti);
	if (!getsockopt(fd, IPPROTO_TCP, TCP_INFO, &ti, &l)) {
		if (ti.tcpi_backoff > s->backoff_max)
			s->backoff_max = ti.tcpi_backoff;
		if (ti.tcpi_rto > s->rto_max_us)
			s->rto_max_us = ti.tcpi_rto;
		if (ti.tcpi_probes > s->probes_max)
			s->probes_max = ti.tcpi_probes;
		s->total_retrans = ti.tcpi_total_retrans;
	}
}

/* One turn of a transfer loop: sample, then 1 once the -t time is up,
 * -1 past the deadline, 0 to go on.
 */
static int turn(int fd, struct sample *s, double stop, double end)
{
	sample(fd, s, 0);
	if (stop && now() >= stop)
		return 1;
	return now() > end ? -1 : 0;
}

/* CPU time of this process so far, in ms (user + system) */
static long cpu_ms(void)
{
	struct rusage ru;

	getrusage(RUSAGE_SELF, &ru);
	return (ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) * 1000 +
	       (ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1000;
}

static int sock_error(int fd)
{
	int e = 0;
	socklen_t l = sizeof(e);

	getsockopt(fd, SOL_SOCKET, SO_ERROR, &e, &l);
	return e;
}

static int do_send(const char *addr, int port)
{
	struct sockaddr_storage ss;
	socklen_t sl;
	int fam = parse_addr(addr, port, &ss, &sl), fd = -1;
	double t0 = now(), end = t0 + opt.timeout, stop = opt.secs > 0 ? t0 + opt.secs : 0;
	long long off = 0;
	struct sample s = { 0 };
	uint8_t *buf;
	char tail;

	if (fam < 0)
		return 2;
	for (;;) {
		fd = socket(fam, SOCK_STREAM, 0);
		if (fd >= 0 && !connect(fd, (void *)&ss, sl))
			break;
		if (now() > t0 + 10) {
			printf("send_result=error connect %s\n", errname(errno));
			return 1;
		}
		close(fd);
		usleep(100000);
	}
	fcntl(fd, F_SETFL, O_NONBLOCK);
	buf = malloc(opt.chunk);
	while (opt.bytes < 0 || off < opt.bytes) {
		struct pollfd p = { .fd = fd, .events = POLLOUT };
		long long want = opt.chunk;
		ssize_t n;
		int i, t;

		t = turn(fd, &s, stop, end);
		if (t > 0)
			break;
		if (t < 0) {
			printf("send_bytes=%lld\nsend_result=timeout wrote %lld bytes\n", off, off);
			return 1;
		}
		if (poll(&p, 1, 100) <= 0)
			continue;
		if (opt.bytes >= 0 && opt.bytes - off < want)
			want = opt.bytes - off;
		for (i = 0; i < want; i++)
			buf[i] = pattern(off + i);
		n = send(fd, buf, want, MSG_NOSIGNAL);
		if (n < 0 && stop && (errno == EPIPE || errno == ECONNRESET))
			break; /* -t: the reader may close first */
		if (n < 0 && errno != EAGAIN) {
			int e = errno;

			sample(fd, &s, 1);
			printf("send_bytes=%lld\nsend_total_retrans=%u\nsend_max_backoff=%u\n",
			       off, s.total_retrans, s.backoff_max);
			printf("send_result=%s %s after %lld bytes\n",
			       e == ECONNRESET ? "reset" : "error", errname(e), off);
			return 1;
		}
		if (n > 0)
			off += n;
		if (opt.interval_us)
			usleep(opt.interval_us);
	}
	sample(fd, &s, 1);
	printf("send_bytes=%lld\nsend_total_retrans=%u\nsend_max_backoff=%u\nsend_max_rto_ms=%u\nsend_max_probes=%u\nsend_cpu_ms=%ld\n",
	       off, s.total_retrans, s.backoff_max, s.rto_max_us / 1000, s.probes_max, cpu_ms());
	if (stop) {
		close(fd);
		printf("send_result=ok\n");
		return 0;
	}
	/* the peer closes once it has checked every byte */
	shutdown(fd, SHUT_WR);
	for (;;) {
		struct pollfd p = { .fd = fd, .events = POLLIN };
		ssize_t n;

		if (now() > end) {
			printf("send_result=timeout peer did not close\n");
			return 1;
		}
		if (poll(&p, 1, 100) <= 0)
			continue;
		n = recv(fd, &tail, 1, 0);
		if (n == 0)
			break;
		if (n < 0 && errno != EAGAIN) {
			printf("send_result=error %s waiting for the peer's close (%d)\n",
			       errname(errno), sock_error(fd));
			return 1;
		}
	}
	close(fd);
	printf("send_result=ok\n");
	return 0;
}

static int do_recv(const char *addr, int port)
{
	struct sockaddr_storage ss;
	socklen_t sl;
	int fam = parse_addr(addr, port, &ss, &sl), lfd, fd, one = 1, stalled = 0;
	double t0 = now(), end = t0 + opt.timeout, stop = 0, resumed = 0, tacc;
	long long off = 0;
	struct sample s = { 0 };
	uint8_t *buf;

	if (fam < 0)
		return 2;
	lfd = socket(fam, SOCK_STREAM, 0);
	setsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (opt.rcvbuf)
		setsockopt(lfd, SOL_SOCKET, SO_RCVBUF, &opt.rcvbuf, sizeof(opt.rcvbuf));
	if (bind(lfd, (void *)&ss, sl) || listen(lfd, 1)) {
		printf("recv_result=error bind/listen %s\n", errname(errno));
		return 1;
	}
	printf("# listening on %s port %d\n", addr, port);
	for (;;) {
		struct pollfd p = { .fd = lfd, .events = POLLIN };
		int left = (int)((end - now()) * 1000);

		if (left <= 0 || poll(&p, 1, left) < 0) {
			printf("recv_result=timeout no connection within %.0f s\n", opt.timeout);
			return 1;
		}
		if (p.revents & POLLIN)
			break;
	}
	fd = accept(lfd, NULL, NULL);
	if (fd < 0) {
		printf("recv_result=error accept %s\n", errname(errno));
		return 1;
	}
	close(lfd);
	tacc = now();
	fcntl(fd, F_SETFL, O_NONBLOCK);
	if (opt.secs > 0)
		stop = now() + opt.secs;
	buf = malloc(opt.chunk);
	sample(fd, &s, 1);
	printf("recv_rcvbuf_initial=%u\n", s.rcvbuf_max);
	for (;;) {
		struct pollfd p = { .fd = fd, .events = POLLIN };
		ssize_t n;
		int i, t;

		t = turn(fd, &s, stop, end);
		if (t > 0)
			break;
		if (t < 0) {
			printf("recv_bytes=%lld\nrecv_result=timeout got %lld of %lld bytes\n",
			       off, off, opt.bytes);
			return 1;
		}
		if (!stalled && opt.stall_at >= 0 && off >= opt.stall_at) {
			double until = now() + opt.stall_secs;

			int clamped = 0;

			stalled = 1;
			printf("# stall at %lld bytes for %.1f s\n", off, opt.stall_secs);
			while (now() < until) {
				uint32_t mi[SK_MEMINFO_VARS] = { 0 };
				socklen_t l = sizeof(mi);

				getsockopt(fd, SOL_SOCKET, SO_MEMINFO, mi, &l);
				if (opt.clamp && !clamped &&
				    mi[SK_MEMINFO_RMEM_ALLOC] >= (uint32_t)opt.clamp_rmem) {
					setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &opt.clamp,
						   sizeof(opt.clamp));
					printf("# SO_RCVBUF clamped to %d with rmem_alloc %u rcvbuf %u\n",
					       opt.clamp, mi[SK_MEMINFO_RMEM_ALLOC],
					       mi[SK_MEMINFO_RCVBUF]);
					clamped = 1;
				}
				usleep(clamped || !opt.clamp ? 10000 : 500);
				sample(fd, &s, 0);
			}
			resumed = now();
			printf("# resumed\n");
		}
		if (opt.interval_us)
			usleep(opt.interval_us);
		else if (poll(&p, 1, 100) <= 0)
			continue;
		n = recv(fd, buf, opt.chunk, 0);
		if (n < 0 && errno == EAGAIN)
			continue;
		if (n < 0) {
			printf("recv_bytes=%lld\nrecv_result=%s %s after %lld bytes\n", off,
			       errno == ECONNRESET ? "reset" : "error", errname(errno), off);
			return 1;
		}
		if (n == 0)
			break;
		for (i = 0; i < n; i++) {
			if (buf[i] != pattern(off + i)) {
				printf("recv_bytes=%lld\nrecv_result=corrupt at offset %lld: 0x%02x, want 0x%02x\n",
				       off + i, off + i, buf[i], pattern(off + i));
				return 1;
			}
		}
		off += n;
	}
	sample(fd, &s, 1);
	printf("recv_bytes=%lld\nrecv_rcvbuf_max=%u\nrecv_rmem_max=%u\nrecv_secs=%.3f\nrecv_cpu_ms=%ld\n",
	       off, s.rcvbuf_max, s.rmem_max, now() - tacc, cpu_ms());
	if (resumed)
		printf("recv_resume_to_end_ms=%.0f\n", (now() - resumed) * 1000);
	close(fd);
	if (opt.bytes >= 0 && off != opt.bytes) {
		printf("recv_result=short got %lld of %lld bytes\n", off, opt.bytes);
		return 1;
	}
	printf("recv_result=ok\n");
	return 0;
}

int main(int argc, char **argv)
{
	static const struct option lo[] = {
		{ "stall-at", 1, NULL, 'A' }, { "stall-secs", 1, NULL, 'S' },
		{ "clamp", 1, NULL, 'C' },    { "rcvbuf", 1, NULL, 'R' },
		{ "clamp-rmem", 1, NULL, 'D' },
		{ NULL, 0, NULL, 0 }
	};
	int c;

	setvbuf(stdout, NULL, _IOLBF, 0);
	while ((c = getopt_long(argc, argv, "n:t:c:i:T:", lo, NULL)) != -1) {
		switch (c) {
		case 'n': opt.bytes = atoll(optarg); break;
		case 't': opt.secs = atof(optarg); break;
		case 'c': opt.chunk = atoi(optarg); break;
		case 'i': opt.interval_us = atoi(optarg); break;
		case 'T': opt.timeout = atof(optarg); break;
		case 'A': opt.stall_at = atoll(optarg); break;
		case 'S': opt.stall_secs = atof(optarg); break;
		case 'C': opt.clamp = atoi(optarg); break;
		case 'R': opt.rcvbuf = atoi(optarg); break;
		case 'D': opt.clamp_rmem = atoi(optarg); break;
		default: goto usage;
		}
	}
	if (opt.chunk <= 0 || argc - optind != 3)
		goto usage;
	if (!strcmp(argv[optind], "send"))
		return do_send(argv[optind + 1], atoi(argv[optind + 2]));
	if (!strcmp(argv[optind], "recv"))
		return do_recv(argv[optind + 1], atoi(argv[optind + 2]));
usage:
	fprintf(stderr,
		"usage: %s [-n BYTES | -t SECS] [-c CHUNK] [-i USECS] [-T SECS]\n"
		"          [--stall-at B --stall-secs S] [--clamp N [--clamp-rmem B]] [--rcvbuf N]\n"
		"          send|recv ADDR PORT\n",
		argv[0]);
	return 2;
}
