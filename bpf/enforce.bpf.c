// SPDX-License-Identifier: GPL-2.0
/*
 * rcvgov enforcement: acts on the sockets userspace names by cookie in the
 * `actions` map, from iter/tcp programs (the only place where both
 * bpf_setsockopt() on an arbitrary socket and the bpf_sock_destroy() kfunc
 * are allowed). Userspace creates an iterator in each network namespace
 * that holds a target and reads back one result record per action taken.
 *
 *  clamp:   TCP_WINDOW_CLAMP caps the advertised window at what the
 *           autotuned buffer allows, and SO_RCVBUF freezes sk_rcvbuf where
 *           it is. The second is what bounds memory: tcp_clamp_window()
 *           raises sk_rcvbuf only without SOCK_RCVBUF_LOCK, and with window
 *           scaling the window itself cannot be made to retract (measured:
 *           TCP_WINDOW_CLAMP alone let the blog pair reach 47.9 MB in 30 s).
 *           The old clamp is reported so the daemon can restore it.
 *  restore: sets TCP_WINDOW_CLAMP back to the value given.
 *  destroy: bpf_sock_destroy() (6.5+) resets the connection and frees its
 *           queue; where the kfunc is missing the loader leaves the program
 *           out and the daemon uses SOCK_DESTROY over sock_diag instead.
 *           The decision is re-checked at the moment of destroy: if the
 *           reader's copied_seq moved since the one the decision saw, or the
 *           queue is empty, the socket is left alone and reported -EAGAIN.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include <bpf/bpf_core_read.h>

#include "rcvgov_abi.h"

#define SOL_SOCKET 1
#define SO_RCVBUF 8
#define SOL_TCP 6
#define TCP_WINDOW_CLAMP 10
#define EAGAIN 11

char LICENSE[] SEC("license") = "GPL";

extern int bpf_sock_destroy(struct sock_common *sk) __ksym __weak;

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 65536);
	__type(key, __u64);
	__type(value, struct rcvgov_action);
} actions SEC(".maps");

static __always_inline struct rcvgov_action *lookup(struct sock_common *skc,
						    struct tcp_sock **tpp)
{
	struct tcp_sock *tp;
	__u64 cookie;

	if (!skc)
		return NULL;
	tp = bpf_skc_to_tcp_sock(skc);
	if (!tp)
		return NULL;
	cookie = bpf_get_socket_cookie(tp);
	*tpp = tp;
	return bpf_map_lookup_elem(&actions, &cookie);
}

static __always_inline void report(struct seq_file *seq, __u64 cookie,
				   __u32 kind, __s32 rc, __u32 before,
				   __u32 after, __u32 rcvbuf_after)
{
	struct rcvgov_action_result res = {
		.cookie = cookie,
		.kind = kind,
		.rc = rc,
		.before = before,
		.after = after,
		.rcvbuf_after = rcvbuf_after,
	};

	bpf_seq_write(seq, &res, sizeof(res));
}

SEC("iter/tcp")
int enforce_clamp(struct bpf_iter__tcp *ctx)
{
	struct rcvgov_action *act;
	struct tcp_sock *tp;
	__u32 before;
	int val, rc;

	act = lookup(ctx->sk_common, &tp);
	if (!act || act->kind == RCVGOV_ACT_DESTROY)
		return 0;
	before = tp->window_clamp;
	val = act->value;
	rc = bpf_setsockopt(tp, SOL_TCP, TCP_WINDOW_CLAMP, &val, sizeof(val));
	if (!rc && act->kind == RCVGOV_ACT_CLAMP && act->rcvbuf) {
		/* The kernel doubles SO_RCVBUF values (sock_setsockopt). */
		val = act->rcvbuf / 2;
		rc = bpf_setsockopt(tp, SOL_SOCKET, SO_RCVBUF, &val,
				    sizeof(val));
	}
	report(ctx->meta->seq, act->cookie, act->kind, rc, before,
	       tp->window_clamp, tp->inet_conn.icsk_inet.sk.sk_rcvbuf);
	return 0;
}

SEC("iter/tcp")
int enforce_destroy(struct bpf_iter__tcp *ctx)
{
	struct sock_common *skc = ctx->sk_common;
	struct rcvgov_action *act;
	struct tcp_sock *tp;
	__u32 rmem, copied;
	int rc;

	/* The kfunc wants the very pointer that was checked for NULL. */
	if (!skc)
		return 0;
	act = lookup(skc, &tp);
	if (!act || act->kind != RCVGOV_ACT_DESTROY)
		return 0;
	rmem = tp->inet_conn.icsk_inet.sk.sk_backlog.rmem_alloc.counter;
	copied = tp->copied_seq;
	/* The reader progressed or the queue drained since the decision. */
	if (copied != act->copied_seq || tp->rcv_nxt == copied) {
		report(ctx->meta->seq, act->cookie, act->kind, -EAGAIN, rmem, 0,
		       0);
		return 0;
	}
	rc = bpf_sock_destroy(skc);
	report(ctx->meta->seq, act->cookie, act->kind, rc, rmem, 0, 0);
	return 0;
}
