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
 *   zwnd      A peer that takes the window as a Linux sender does (a smaller
 *             window only from an ACK that advances SND.UNA) fills a
 *             receiver that never reads, sending out of order; exit 0 if
 *             it is told of the zero window, 1 if it is left retransmitting
 *             into a window only the receiver considers closed
 *             (zwnd_result=stuck), see mode_zwnd().
 *
 * All print the kernel socket's SO_COOKIE as sock_cookie=N.
 *
 * The blog reproducer pair and the checked streams are tcp_stream.c.
 */
#include "tun_peer.h"

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
		printf("# FAIL write: %s\n", strerror(errno));
		return KSFT_FAIL;
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
		/* only a kernel without CONFIG_PACKET is a skip */
		printf("# %s AF_PACKET socket: %s\n",
		       errno == EAFNOSUPPORT ? "SKIP" : "FAIL", strerror(errno));
		exit(errno == EAFNOSUPPORT ? KSFT_SKIP : KSFT_FAIL);
	}
	setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &big, sizeof(big));
	sll.sll_family = AF_PACKET;
	sll.sll_protocol = htons(0x0800);
	sll.sll_ifindex = if_nametoindex(tun_name);
	if (bind(fd, (void *)&sll, sizeof(sll)) < 0) {
		printf("# FAIL bind AF_PACKET: %s\n", strerror(errno));
		exit(KSFT_FAIL);
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

/* zwnd: does the zero window reach the sender?  The peer sends as a Linux
 * sender would, inside the window it has taken (lx_una + lx_wnd), in
 * batches of 200-byte segments sent highest first, so that all but the
 * last segment of a batch arrive out of order and are answered by
 * duplicate ACKs; an AF_PACKET tap keeps every skb cloned (no coalescing),
 * the receiver never reads.  Unacknowledged data with the window still
 * open is retransmitted from SND.UNA, as an RTO would.  Pass: the peer
 * takes a zero window (the receiver announced it in an ACK that advances
 * SND.UNA).  Fail "stuck": five retransmissions into a window the peer
 * still has open were not acknowledged - the receiver went to a zero
 * window in ACKs a Linux sender ignores and drops the data, a connection
 * that tcp_retries2 would kill.
 */
static int mode_zwnd(void)
{
	const uint32_t seglen = 200;
	const int batch = 16;
	long zwd0, qdrop0, ofo0;
	uint32_t rmem, rcvbuf, sent_bytes;
	int tap, rtx = 0, rtx_total = 0;
	const char *result = "timeout";
	double t_end;

	setup_tun();
	tap = open_tap();
	zwd0 = mib("TCPZeroWindowDrop");
	qdrop0 = mib("TCPRcvQDrop");
	ofo0 = mib("TCPOFOQueue");
	handshake();
	t_end = now() + 30;
	while (now() < t_end) {
		uint32_t edge = lx_una + lx_wnd, len;
		int n = 0, i;

		if (lx_wnd == 0) {
			result = "learned";
			break;
		}
		while (n < batch && !seq_after(snd_nxt + (n + 1) * seglen, edge))
			n++;
		if (n) {
			for (i = n - 1; i >= 0; i--)
				send_seg(snd_nxt + i * seglen, rcv_ack, F_ACK | F_PSH,
					 65535, NULL, 0, seglen);
			snd_nxt += n * seglen;
			rtx = 0;
			pump(20, NULL, NULL);
			continue;
		}
		pump(100, NULL, NULL);
		if (lx_wnd == 0)
			continue;
		if (lx_una == snd_nxt) {
			/* all acknowledged, less than a segment of window */
			len = lx_wnd;
			send_seg(snd_nxt, rcv_ack, F_ACK | F_PSH, 65535, NULL, 0, len);
			snd_nxt += len;
			continue;
		}
		if (++rtx > 5) {
			result = "stuck";
			break;
		}
		rtx_total++;
		len = snd_nxt - lx_una < seglen ? snd_nxt - lx_una : seglen;
		send_seg(lx_una, rcv_ack, F_ACK | F_PSH, 65535, NULL, 0, len);
	}
	meminfo(kfd, &rmem, &rcvbuf);
	sent_bytes = snd_nxt - iss - 1;
	printf("# zwnd: sent %u bytes in batches of %d x %u sent highest first; the peer (Linux update rule) has SND.UNA=+%u SND.WND=%u, SND.NXT=+%u\n",
	       sent_bytes, batch, seglen, lx_una - iss - 1, lx_wnd, sent_bytes);
	printf("# zwnd: receiver rmem_alloc=%u rcvbuf=%u, last advertised window %u; ACKs with a smaller window the peer ignored: %lu (zero: %lu)\n",
	       rmem, rcvbuf, last_win, lx_ignored_smaller, lx_ignored_zero);
	printf("# zwnd: retransmissions %d; TCPZeroWindowDrop+=%ld TCPRcvQDrop+=%ld TCPOFOQueue+=%ld\n",
	       rtx_total, mib("TCPZeroWindowDrop") - zwd0,
	       mib("TCPRcvQDrop") - qdrop0, mib("TCPOFOQueue") - ofo0);
	printf("zwnd_result=%s\nzwnd_ignored_zero=%lu\n", result, lx_ignored_zero);
	close(tap);
	return strcmp(result, "learned") ? KSFT_FAIL : KSFT_PASS;
}

int main(int argc, char **argv)
{
	setvbuf(stdout, NULL, _IOLBF, 0);
	if (argc >= 2 && !strcmp(argv[1], "retract"))
		return mode_retract();
	if (argc >= 2 && !strcmp(argv[1], "zwnd"))
		return mode_zwnd();
	if (argc >= 2 && !strcmp(argv[1], "clamp")) {
		if (argc > 3)
			listen_rcvbuf = atoi(argv[3]);
		return mode_clamp(argc > 2 ? atoi(argv[2]) : 3000);
	}
	fprintf(stderr,
		"usage: %s retract | clamp [N [SO_RCVBUF]] | zwnd\n",
		argv[0]);
	return 2;
}
