// SPDX-License-Identifier: GPL-2.0
/*
 * rcvgov observers: per-socket receive memory, rcvbuf inflation by
 * tcp_clamp_window, coalesce overshoot, reader progress and lifecycle.
 *
 * Every program here is optional: userspace probes the running kernel's BTF,
 * tries to load the first choice of each hook and disables (autoload=false)
 * whatever this kernel cannot run, so one object serves 6.1 to 6.18+.
 * The hook choices and their fallbacks (see docs/attach-paths.md):
 *
 *  coalesce overshoot: fexit tcp_try_coalesce sees rmem_alloc right after
 *    the tail skb grew, the exact moment rmem_alloc passes rcvbuf.
 *    Fallback: tp_btf tcp_probe compares rmem_alloc with rcvbuf once per
 *    segment, which sees the overshoot one segment late.
 *  inflation: the tcp:tcp_rcvbuf_prune tracepoint (added by this project's
 *    kernel series, patches/linux-<base>/0003) reports every clamp decision
 *    with the rcvbuf before it: exact, and no trampoline needed. Without it:
 *    tcp_clamp_window is inlined on most builds, so its caller
 *    tcp_try_rmem_schedule is traced instead: any sk_rcvbuf rise between its
 *    fentry and fexit is the clamp (nothing else on that path raises it).
 *    Fallback: at every check point (tcp_probe, the autotuning tracepoints,
 *    sock_recv_length, the iterator) a rise of sk_rcvbuf without a matching
 *    rise of window_clamp is the clamp: autotuning always moves window_clamp
 *    along with sk_rcvbuf, tcp_clamp_window never touches it.
 *  autotuning: tp_btf tcp_rcvbuf_grow (6.16+) fires only when growth is
 *    attempted; tcp_rcv_space_adjust fires on every read. Both serve as
 *    check points so a rise is attributed close to where it happened.
 *  reader progress (stall age): tp_btf sock_recv_length runs in the
 *    reader's context after every recvmsg and also names the owning task.
 *    Fallback: tcp_rcv_space_adjust, also in the reader's context after the
 *    copy. tcp_probe and the iterator are check points too. At each one
 *    note_progress() compares copied_seq with the last one seen: the stall
 *    clock runs only while data waits and copied_seq stands still.
 *  lifecycle: tp_btf inet_sock_set_state.
 *
 * Cost: tcp_probe runs for every segment received and sock_recv_length for
 * every read, so their budget is 100 ns a run (bpf_stats; what is left and
 * why: docs/attach-paths.md, "Cost per run"). Every program here is a
 * tracing program (tp_btf, fentry/fexit, iter) whose socket argument is a
 * BTF pointer: fields are read with plain loads, which the verifier turns
 * into direct loads guarded by the exception table (BPF_PROBE_MEM), about a
 * nanosecond each once the line is in cache. BPF_CORE_READ() would add a
 * bpf_probe_read_kernel() call to every field. vmlinux.h types carry
 * preserve_access_index, so plain loads are CO-RE relocated all the same.
 * The verifier checks a load against the type the pointer has, so tcp_sock
 * fields are read through the pointer bpf_skc_to_tcp_sock() returns
 * (tracing programs since 5.9), never through a cast of the struct sock
 * pointer. bpf_ktime_get_ns() is read only when a run needs the time (see
 * clock_now()).
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_endian.h>

#include "rcvgov_abi.h"
#include "core_fixes.bpf.h"

#define AF_INET 2
#define AF_INET6 10
#define NSEC_PER_SEC 1000000000ULL

/*
 * One load of a field another CPU or context may be writing (copied_seq is
 * moved by the reader, sk_rmem_alloc by softirq and the reader, sk_rcvbuf by
 * setsockopt): the value is compared and stored, so it must be loaded once.
 * &(x) of a vmlinux.h type is still CO-RE relocated.
 */
#ifndef READ_ONCE
#define READ_ONCE(x) (*(const volatile typeof(x) *)&(x))
#endif

char LICENSE[] SEC("license") = "GPL";

/* Set by the loader before load. */
const volatile __u32 rl_events_per_sec = 20;
/* ESTABLISHED + CLOSED events per second, all sockets; 0 = unlimited. */
const volatile __u32 lifecycle_events_per_sec = 5000;
/* tcp_probe does the overshoot check only without the fexit coalesce hook. */
const volatile bool probe_checks_overshoot = true;
/* Source reported for inflation seen by the fentry/fexit pair. */
const volatile __u32 clamp_source = RCVGOV_SRC_FEXIT_TCP_TRY_RMEM_SCHEDULE;
/*
 * TCP_RCVBUF_RAISED of the kernel's enum tcp_rcvbuf_prune_action, read from
 * its BTF by the loader (never hard-coded: see docs/kernel.md).
 */
const volatile __u32 prune_raised_flag = 0;

struct {
	__uint(type, BPF_MAP_TYPE_SK_STORAGE);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, int);
	__type(value, struct rcvgov_sock_state);
} sk_state SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 256 * 1024);
} events SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct rcvgov_lifecycle_budget);
} lifecycle_budget SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, RCVGOV_STAT__MAX);
	__type(key, __u32);
	__type(value, __u64);
} stats SEC(".maps");

static __always_inline void stat_inc(__u32 idx)
{
	__u64 *v = bpf_map_lookup_elem(&stats, &idx);

	if (v)
		(*v)++;
}

/*
 * The clock of one run, read on first use: most runs of the per-segment and
 * per-read programs need no time at all (no stall starts or restarts, no
 * event is sent, no state is created), and bpf_ktime_get_ns() would be a
 * good part of their cost. It is read at most once per run, so every
 * timestamp a run writes is the same one, as when it was read on entry.
 * 0 means "not read yet": CLOCK_MONOTONIC is never 0 once BPF runs.
 */
static __always_inline __u64 clock_now(__u64 *now)
{
	if (!*now)
		*now = bpf_ktime_get_ns();
	return *now;
}

static __always_inline __u32 sk_rmem(const struct sock *sk)
{
	return READ_ONCE(sk->sk_backlog.rmem_alloc.counter);
}

static __always_inline __u32 sk_rcvbuf(const struct sock *sk)
{
	return READ_ONCE(sk->sk_rcvbuf);
}

/*
 * The socket as a tcp_sock, or NULL if it is not a full TCP socket. The
 * verifier only allows loads inside the type a BTF pointer has, and
 * tcp_sock fields lie past the end of struct sock, so a cast would be
 * refused; this helper returns the same pointer typed as tcp_sock. It is
 * open to every tracing program (tp_btf, fentry/fexit, iter) since 5.9.
 */
static __always_inline const struct tcp_sock *sk_tcp(const struct sock *sk)
{
	return bpf_skc_to_tcp_sock((void *)sk);
}

/* A direct load: sk_protocol is a plain u16 since 5.6, a bitfield before. */
static __always_inline bool sk_is_tcp(const struct sock *sk)
{
	return BPF_CORE_READ_BITFIELD(sk, sk_protocol) == IPPROTO_TCP;
}

static __always_inline void fill_id(struct rcvgov_sock_id *id,
				    const struct sock *sk)
{
	const struct sock_common *skc = &sk->__sk_common;
	__u16 family = skc->skc_family;
	__u32 *saddr = (__u32 *)id->saddr;
	__u32 *daddr = (__u32 *)id->daddr;

	id->cookie = bpf_get_socket_cookie((void *)sk);
	id->family = family;
	id->sport = skc->skc_num;
	id->dport = bpf_ntohs(skc->skc_dport);
	if (family == AF_INET6) {
		/* Four 32-bit loads, each inside the in6_addr member. */
		saddr[0] = skc->skc_v6_rcv_saddr.in6_u.u6_addr32[0];
		saddr[1] = skc->skc_v6_rcv_saddr.in6_u.u6_addr32[1];
		saddr[2] = skc->skc_v6_rcv_saddr.in6_u.u6_addr32[2];
		saddr[3] = skc->skc_v6_rcv_saddr.in6_u.u6_addr32[3];
		daddr[0] = skc->skc_v6_daddr.in6_u.u6_addr32[0];
		daddr[1] = skc->skc_v6_daddr.in6_u.u6_addr32[1];
		daddr[2] = skc->skc_v6_daddr.in6_u.u6_addr32[2];
		daddr[3] = skc->skc_v6_daddr.in6_u.u6_addr32[3];
	} else {
		saddr[0] = skc->skc_rcv_saddr;
		daddr[0] = skc->skc_daddr;
	}
}

/*
 * Only call from process context: in softirq "current" is a bystander.
 * Records the socket's inode with the task: by now the socket has its file
 * (accept(), connect() and reads all come through one), and the inode
 * never changes, so this once is enough.
 */
static __always_inline void set_task_owner(struct rcvgov_sock_state *st,
					   const struct sock *sk)
{
	__u64 pid_tgid;

	/* Known after the first read: no helper call on every later one. */
	if (st->flags & RCVGOV_F_OWNER_TASK)
		return;
	pid_tgid = bpf_get_current_pid_tgid();
	if (!(pid_tgid >> 32))
		return;
	st->owner.pid = pid_tgid >> 32;
	st->owner.ino = BPF_CORE_READ(sk, sk_socket, file, f_inode, i_ino);
	bpf_get_current_comm(st->owner.comm, sizeof(st->owner.comm));
	st->flags |= RCVGOV_F_OWNER_TASK;
}

static __always_inline void init_state(struct rcvgov_sock_state *st,
				       const struct sock *sk,
				       const struct tcp_sock *tp, __u64 now)
{
	__u32 copied = READ_ONCE(tp->copied_seq);

	fill_id(&st->id, sk);
	st->owner.cgroup_id = rcvgov_sk_cgroup_id(sk);
	st->owner.netns_cookie = rcvgov_net_cookie(sk);
	st->autotuned_rcvbuf = sk_rcvbuf(sk);
	st->last_rcvbuf = st->autotuned_rcvbuf;
	st->last_window_clamp = READ_ONCE(tp->window_clamp);
	st->rcv_wscale = BPF_CORE_READ_BITFIELD(tp, rx_opt.rcv_wscale);
	st->last_copied_seq = copied;
	/*
	 * Data already queued when we first see it: since when the reader has
	 * stood still is unknown, so the stall starts now, as a lower bound.
	 */
	if (READ_ONCE(tp->rcv_nxt) != copied) {
		st->stalled_since_ns = now;
		st->flags |= RCVGOV_F_AGE_LOWER;
	}
	if (st->id.family == AF_INET6)
		st->flags |= RCVGOV_F_IPV6;
}

/*
 * The socket's state, created on first sight. tp is the socket as a
 * tcp_sock if the caller has it already, else NULL: it is looked up only
 * when the state has to be created (a socket that is not a full TCP socket
 * gets none).
 */
static __always_inline struct rcvgov_sock_state *
get_state(const struct sock *sk, const struct tcp_sock *tp, __u64 *now)
{
	struct rcvgov_sock_state *st;

	st = bpf_sk_storage_get(&sk_state, (void *)sk, 0, 0);
	if (st)
		return st;
	if (!tp)
		tp = sk_tcp(sk);
	if (!tp)
		return NULL;
	st = bpf_sk_storage_get(&sk_state, (void *)sk, 0,
				BPF_SK_STORAGE_GET_F_CREATE);
	if (!st) {
		stat_inc(RCVGOV_STAT_STORAGE_FAIL);
		return NULL;
	}
	init_state(st, sk, tp, clock_now(now));
	return st;
}

/* A pathological socket must not starve the ring buffer for the others. */
static __always_inline bool rl_allow(struct rcvgov_sock_state *st, __u64 now)
{
	if (now - st->rl_window_ns >= NSEC_PER_SEC) {
		st->rl_window_ns = now;
		st->rl_count = 0;
	}
	if (st->rl_count >= rl_events_per_sec) {
		stat_inc(RCVGOV_STAT_EV_RATELIMITED);
		return false;
	}
	st->rl_count++;
	return true;
}

/*
 * A connection storm must not flood the ring buffer (the snapshot finds every
 * socket anyway). The reset at a second's boundary races with other CPUs: at
 * worst a few events more than the budget in that second.
 */
static __always_inline bool lifecycle_allow(__u64 now)
{
	struct rcvgov_lifecycle_budget *b;
	__u64 sec = now / NSEC_PER_SEC;
	__u32 zero = 0;

	if (!lifecycle_events_per_sec)
		return true;
	b = bpf_map_lookup_elem(&lifecycle_budget, &zero);
	if (!b)
		return true;
	if (b->window != sec) {
		b->window = sec;
		b->sent = 0;
	}
	__sync_fetch_and_add(&b->sent, 1);
	if (b->sent > lifecycle_events_per_sec) {
		stat_inc(RCVGOV_STAT_EV_OVER_BUDGET);
		return false;
	}
	return true;
}

static __always_inline void emit(const struct rcvgov_sock_state *st,
				 const struct sock *sk, __u32 type,
				 __u32 source, __u64 now, __u32 before,
				 __u32 after)
{
	struct rcvgov_event *e;

	e = bpf_ringbuf_reserve(&events, sizeof(*e), 0);
	if (!e) {
		stat_inc(RCVGOV_STAT_EV_DROPPED);
		return;
	}
	e->type = type;
	e->source = source;
	e->ts_ns = now;
	e->id = st->id;
	e->owner = st->owner;
	e->inflation_bytes = st->inflation_bytes;
	e->rmem_alloc = sk_rmem(sk);
	e->rcvbuf_before = before;
	e->rcvbuf_after = after;
	e->autotuned_rcvbuf = st->autotuned_rcvbuf;
	e->inflations = st->inflations;
	e->overshoots = st->overshoots;
	e->rcv_wscale = st->rcv_wscale;
	__builtin_memset(e->pad, 0, sizeof(e->pad));
	bpf_ringbuf_submit(e, 0);
	stat_inc(RCVGOV_STAT_EV_SUBMITTED);
}

static __always_inline void record_inflation(struct rcvgov_sock_state *st,
					     const struct sock *sk,
					     __u32 before, __u32 after,
					     __u32 source, __u64 *now)
{
	st->inflations++;
	st->inflation_bytes += after - before;
	stat_inc(RCVGOV_STAT_INFLATIONS);
	if (rl_allow(st, clock_now(now)))
		emit(st, sk, RCVGOV_EV_INFLATION, source, *now, before, after);
}

/*
 * Attribute any sk_rcvbuf change since the last check: autotuning moves
 * window_clamp with sk_rcvbuf, tcp_clamp_window does not. cur is sk_rcvbuf
 * as the caller read it. window_clamp is read and kept on every check, not
 * only when sk_rcvbuf moved: a window_clamp lowered in between (a
 * TCP_WINDOW_CLAMP clamp) must not make the next autotuning step look like
 * an inflation. It is one load.
 */
static __always_inline void check_rcvbuf(struct rcvgov_sock_state *st,
					 const struct sock *sk,
					 const struct tcp_sock *tp, __u32 cur,
					 __u32 source, __u64 *now)
{
	__u32 clamp = READ_ONCE(tp->window_clamp);

	if (cur > st->last_rcvbuf) {
		if (clamp > st->last_window_clamp) {
			st->autotuned_rcvbuf = cur;
			st->autotune_grows++;
			stat_inc(RCVGOV_STAT_AUTOTUNE_GROWS);
		} else {
			record_inflation(st, sk, st->last_rcvbuf, cur, source,
					 now);
		}
	} else if (cur < st->autotuned_rcvbuf) {
		/* SO_RCVBUF or a shrink: the limit is whatever is set now. */
		st->autotuned_rcvbuf = cur;
	}
	st->last_rcvbuf = cur;
	st->last_window_clamp = clamp;
}

static __always_inline void check_overshoot(struct rcvgov_sock_state *st,
					    const struct sock *sk, __u32 rmem,
					    __u32 rcvbuf, __u32 source,
					    __u64 *now)
{
	if (rmem <= rcvbuf)
		return;
	st->overshoots++;
	if (rmem - rcvbuf > st->max_overshoot)
		st->max_overshoot = rmem - rcvbuf;
	stat_inc(RCVGOV_STAT_OVERSHOOTS);
	if (rl_allow(st, clock_now(now)))
		emit(st, sk, RCVGOV_EV_OVERSHOOT, source, *now, rcvbuf, rcvbuf);
}

/*
 * Stall age: the time since the reader last made progress while data was
 * waiting. copied_seq is the reader's position; any move of it restarts the
 * clock, so a bulk reader whose queue never drains is never "old". The
 * caller reads copied_seq and rcv_nxt once and passes them in. Only a start
 * or restart of the clock needs the time.
 */
static __always_inline void note_progress_seq(struct rcvgov_sock_state *st,
					      __u32 copied, __u32 rcv_nxt,
					      __u64 *now)
{
	if (rcv_nxt == copied) {
		/* Nothing waits: not stalled. */
		st->stalled_since_ns = 0;
		st->flags &= ~RCVGOV_F_AGE_LOWER;
	} else if (copied != st->last_copied_seq) {
		/* The reader progressed: the clock restarts, exactly. */
		st->last_copied_seq = copied;
		st->stalled_since_ns = clock_now(now);
		st->flags &= ~RCVGOV_F_AGE_LOWER;
	} else if (!st->stalled_since_ns) {
		/* Data waits, the reader has not moved since the last check. */
		st->stalled_since_ns = clock_now(now);
	}
}

static __always_inline void note_progress(struct rcvgov_sock_state *st,
					  const struct tcp_sock *tp, __u64 *now)
{
	__u32 copied = READ_ONCE(tp->copied_seq);

	note_progress_seq(st, copied, READ_ONCE(tp->rcv_nxt), now);
}

SEC("fexit/tcp_try_coalesce")
int BPF_PROG(coalesce_exit, struct sock *sk, struct sk_buff *to,
	     struct sk_buff *from, bool *fragstolen, bool ret)
{
	struct rcvgov_sock_state *st;
	__u64 now = 0;

	if (!ret)
		return 0;
	st = get_state(sk, NULL, &now);
	if (st)
		check_overshoot(st, sk, sk_rmem(sk), sk_rcvbuf(sk),
				RCVGOV_SRC_FEXIT_TCP_TRY_COALESCE, &now);
	return 0;
}

/*
 * The attach target is tcp_try_rmem_schedule unless the kernel exposes
 * tcp_clamp_window itself; the loader retargets both programs then. Only
 * the first argument (sk) is read, which both functions share.
 */
SEC("fentry/tcp_try_rmem_schedule")
int BPF_PROG(clamp_enter, struct sock *sk)
{
	const struct tcp_sock *tp = sk_tcp(sk);
	struct rcvgov_sock_state *st;
	__u64 now = 0;

	if (!tp)
		return 0;
	st = get_state(sk, tp, &now);
	if (!st)
		return 0;
	/* Attribute earlier rises before this call can add its own. */
	check_rcvbuf(st, sk, tp, sk_rcvbuf(sk), RCVGOV_SRC_TP_TCP_PROBE, &now);
	st->pending_rcvbuf = st->last_rcvbuf;
	return 0;
}

SEC("fexit/tcp_try_rmem_schedule")
int BPF_PROG(clamp_exit, struct sock *sk)
{
	struct rcvgov_sock_state *st;
	__u64 now = 0;
	__u32 cur;

	st = bpf_sk_storage_get(&sk_state, sk, 0, 0);
	if (!st)
		return 0;
	cur = sk_rcvbuf(sk);
	if (cur > st->pending_rcvbuf) {
		record_inflation(st, sk, st->pending_rcvbuf, cur, clamp_source,
				 &now);
		st->last_rcvbuf = cur;
	}
	return 0;
}

/*
 * The rcvgov kernel series' tcp:tcp_rcvbuf_prune (docs/kernel.md, "Tracepoint
 * ABI"): fires at the end of tcp_try_rmem_schedule()'s slow path; sk_rcvbuf is
 * already the new value.
 */
SEC("tp_btf/tcp_rcvbuf_prune")
int BPF_PROG(tcp_rcvbuf_prune, struct sock *sk, unsigned int size,
	     int rmem_alloc, int rcvbuf_old, unsigned int action)
{
	struct rcvgov_sock_state *st;
	__u64 now = 0;
	__u32 cur;

	if (!(action & prune_raised_flag))
		return 0;
	st = get_state(sk, NULL, &now);
	if (!st)
		return 0;
	cur = sk_rcvbuf(sk);
	if (cur > (__u32)rcvbuf_old) {
		record_inflation(st, sk, rcvbuf_old, cur,
				 RCVGOV_SRC_TP_TCP_RCVBUF_PRUNE, &now);
		st->last_rcvbuf = cur;
	}
	return 0;
}

/*
 * Every segment of every established socket: the hottest program. One
 * helper call for the tcp_sock pointer, one sk_storage lookup, five loads;
 * the clock only when a stall starts or an event is sent.
 */
SEC("tp_btf/tcp_probe")
int BPF_PROG(tcp_probe, struct sock *sk, struct sk_buff *skb)
{
	const struct tcp_sock *tp = sk_tcp(sk);
	struct rcvgov_sock_state *st;
	__u64 now = 0;
	__u32 rcvbuf;

	if (!tp)
		return 0;
	/*
	 * Per segment, and the socket's own fields are hot here while its
	 * sk_storage is not (a cold lookup is most of this program's cost).
	 * With less than half of sk_rcvbuf queued, nothing this check point
	 * watches can be happening: tcp_clamp_window() raises sk_rcvbuf only
	 * once rmem_alloc reaches it, an overshoot is rmem_alloc above it,
	 * and the reader hooks and the iterator check both as well. Only the
	 * start of a stall is seen later: when the queue passes half the
	 * buffer, or at the next read or snapshot (a later start is an
	 * under-estimate of the age, which only delays reclamation).
	 */
	rcvbuf = sk_rcvbuf(sk);
	if (sk_rmem(sk) < rcvbuf / 2)
		return 0;
	st = get_state(sk, tp, &now);
	if (!st)
		return 0;
	check_rcvbuf(st, sk, tp, rcvbuf, RCVGOV_SRC_TP_TCP_PROBE, &now);
	if (probe_checks_overshoot)
		check_overshoot(st, sk, sk_rmem(sk), rcvbuf,
				RCVGOV_SRC_TP_TCP_PROBE, &now);
	note_progress(st, tp, &now);
	return 0;
}

SEC("tp_btf/tcp_rcvbuf_grow")
int BPF_PROG(tcp_rcvbuf_grow, struct sock *sk, int time)
{
	const struct tcp_sock *tp;
	struct rcvgov_sock_state *st;
	__u64 now = 0;

	st = bpf_sk_storage_get(&sk_state, sk, 0, 0);
	if (!st)
		return 0;
	tp = sk_tcp(sk);
	if (tp)
		check_rcvbuf(st, sk, tp, sk_rcvbuf(sk),
			     RCVGOV_SRC_TP_TCP_RCVBUF_GROW, &now);
	return 0;
}

/*
 * Runs in the reader's context at the end of every recvmsg, after the copy:
 * where sock_recv_length is missing (before 6.3) it is the reader hook too.
 */
SEC("tp_btf/tcp_rcv_space_adjust")
int BPF_PROG(tcp_rcv_space_adjust, struct sock *sk)
{
	const struct tcp_sock *tp;
	struct rcvgov_sock_state *st;
	__u64 now = 0;

	st = bpf_sk_storage_get(&sk_state, sk, 0, 0);
	if (!st)
		return 0;
	tp = sk_tcp(sk);
	if (!tp)
		return 0;
	set_task_owner(st, sk);
	check_rcvbuf(st, sk, tp, sk_rcvbuf(sk),
		     RCVGOV_SRC_TP_TCP_RCV_SPACE_ADJUST, &now);
	note_progress(st, tp, &now);
	return 0;
}

/*
 * After every recvmsg on any socket, in the reader's context. A read that
 * leaves data queued restarts the stall clock and needs the time (about 2 in
 * 5 runs under a bulk transfer); the rest is loads.
 */
SEC("tp_btf/sock_recv_length")
int BPF_PROG(sock_recv_length, struct sock *sk, int ret, int flags)
{
	const struct tcp_sock *tp;
	struct rcvgov_sock_state *st;
	__u64 now = 0;

	/* One load turns away UDP, unix, ... before any helper call. */
	if (!sk_is_tcp(sk))
		return 0;
	tp = sk_tcp(sk);
	if (!tp)
		return 0;
	st = get_state(sk, tp, &now);
	if (!st)
		return 0;
	set_task_owner(st, sk);
	check_rcvbuf(st, sk, tp, sk_rcvbuf(sk), RCVGOV_SRC_TP_SOCK_RECV_LENGTH,
		     &now);
	note_progress(st, tp, &now);
	return 0;
}

SEC("tp_btf/inet_sock_set_state")
int BPF_PROG(inet_sock_set_state, const struct sock *sk, const int oldstate,
	     const int newstate)
{
	const struct tcp_sock *tp;
	struct rcvgov_sock_state *st;
	__u64 now = 0;

	if (newstate != TCP_SYN_SENT && newstate != TCP_ESTABLISHED &&
	    newstate != TCP_CLOSE)
		return 0;
	if (!sk_is_tcp(sk))
		return 0;
	if (newstate == TCP_CLOSE) {
		/* Sockets we never tracked are not worth an event. */
		st = bpf_sk_storage_get(&sk_state, (void *)sk, 0, 0);
		if (st && lifecycle_allow(clock_now(&now)))
			emit(st, sk, RCVGOV_EV_CLOSED,
			     RCVGOV_SRC_TP_INET_SOCK_SET_STATE, now,
			     st->last_rcvbuf, sk_rcvbuf(sk));
		return 0;
	}
	tp = sk_tcp(sk);
	if (!tp)
		return 0;
	st = get_state(sk, tp, &now);
	if (!st)
		return 0;
	if (newstate == TCP_SYN_SENT) {
		/* connect() runs in the owner's context. */
		set_task_owner(st, sk);
		return 0;
	}
	/* The 4-tuple is final only now (bind/connect may have changed it). */
	fill_id(&st->id, sk);
	st->rcv_wscale = BPF_CORE_READ_BITFIELD(tp, rx_opt.rcv_wscale);
	/* copied_seq is initialised only now (it was 0 at SYN_SENT). */
	st->last_copied_seq = READ_ONCE(tp->copied_seq);
	st->stalled_since_ns = 0;
	st->flags &= ~RCVGOV_F_AGE_LOWER;
	if (lifecycle_allow(clock_now(&now)))
		emit(st, sk, RCVGOV_EV_ESTABLISHED,
		     RCVGOV_SRC_TP_INET_SOCK_SET_STATE, now, st->last_rcvbuf,
		     sk_rcvbuf(sk));
	return 0;
}

/*
 * Once per full TCP socket per scan. ctx->sk_common and what
 * bpf_skc_to_tcp_sock() returns are BTF pointers: plain loads here too.
 */
SEC("iter/tcp")
int snapshot(struct bpf_iter__tcp *ctx)
{
	struct sock_common *skc = ctx->sk_common;
	struct rcvgov_snapshot_rec rec = {};
	struct rcvgov_sock_state *st;
	struct tcp_sock *tp;
	struct sock *sk;
	__u32 copied, rcv_nxt, rcvbuf;
	__u64 now;

	if (!skc)
		return 0;
	tp = bpf_skc_to_tcp_sock(skc);
	if (!tp)
		return 0; /* request and timewait sockets hold no receive queue */
	/* struct sock is at offset 0 of tcp_sock: its loads stay in bounds. */
	sk = (struct sock *)tp;
	rec.state = sk->__sk_common.skc_state;
	if (rec.state == TCP_LISTEN || rec.state == TCP_CLOSE)
		return 0;
	now = bpf_ktime_get_ns();
	st = get_state(sk, tp, &now);
	copied = READ_ONCE(tp->copied_seq);
	rcv_nxt = READ_ONCE(tp->rcv_nxt);
	rcvbuf = sk_rcvbuf(sk);
	if (st) {
		check_rcvbuf(st, sk, tp, rcvbuf, RCVGOV_SRC_ITER_TCP, &now);
		note_progress_seq(st, copied, rcv_nxt, &now);
		rec.id = st->id;
		rec.owner = st->owner;
		rec.inflation_bytes = st->inflation_bytes;
		rec.stalled_since_ns = st->stalled_since_ns;
		rec.autotuned_rcvbuf = st->autotuned_rcvbuf;
		rec.inflations = st->inflations;
		rec.overshoots = st->overshoots;
		rec.max_overshoot = st->max_overshoot;
		rec.flags = st->flags;
	} else {
		fill_id(&rec.id, sk);
		rec.owner.cgroup_id = rcvgov_sk_cgroup_id(sk);
		rec.owner.netns_cookie = rcvgov_net_cookie(sk);
		rec.autotuned_rcvbuf = rcvbuf;
		if (rcv_nxt != copied) {
			rec.stalled_since_ns = now;
			rec.flags = RCVGOV_F_AGE_LOWER;
		}
	}
	rec.now_ns = now;
	rec.rmem_alloc = sk_rmem(sk);
	rec.rcvbuf = rcvbuf;
	rec.unread = rcv_nxt - copied;
	rec.copied_seq = copied;
	rec.rcv_wnd = tp->rcv_wnd;
	rec.window_clamp = tp->window_clamp;
	rec.rcv_wscale = BPF_CORE_READ_BITFIELD(tp, rx_opt.rcv_wscale);
	bpf_seq_write(ctx->meta->seq, &rec, sizeof(rec));
	return 0;
}
