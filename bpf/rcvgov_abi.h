/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * The one ABI shared by the BPF programs and rcvgovd: the per-socket state
 * kept in sk_storage, the records the iter/tcp snapshot writes, the events
 * sent through the ring buffer and the counters in the stats map.
 *
 * Fixed-width types and explicit padding only: the C++ side static_asserts
 * every size and offset it reads, so a change here that forgets the other
 * side fails to compile instead of decoding garbage.
 */
#ifndef RCVGOV_ABI_H
#define RCVGOV_ABI_H

#ifdef __bpf__
/* vmlinux.h already provides __u8 .. __u64. */
#else
#include <linux/types.h>
#endif

#define RCVGOV_ABI_VERSION 2
#define RCVGOV_COMM_LEN 16

enum rcvgov_event_type {
	RCVGOV_EV_INFLATION = 1, /* sk_rcvbuf raised beyond autotuning */
	RCVGOV_EV_OVERSHOOT = 2, /* sk_rmem_alloc above sk_rcvbuf */
	RCVGOV_EV_ESTABLISHED = 3, /* socket entered TCP_ESTABLISHED */
	RCVGOV_EV_CLOSED = 4, /* socket entered TCP_CLOSE */
};

/* Which program produced an event or a piece of state. */
enum rcvgov_source {
	RCVGOV_SRC_NONE = 0,
	RCVGOV_SRC_FEXIT_TCP_TRY_COALESCE = 1,
	RCVGOV_SRC_TP_TCP_PROBE = 2,
	RCVGOV_SRC_FEXIT_TCP_CLAMP_WINDOW = 3,
	RCVGOV_SRC_FEXIT_TCP_TRY_RMEM_SCHEDULE = 4,
	RCVGOV_SRC_TP_TCP_RCVBUF_GROW = 5,
	RCVGOV_SRC_TP_TCP_RCV_SPACE_ADJUST = 6,
	RCVGOV_SRC_TP_SOCK_RECV_LENGTH = 7,
	RCVGOV_SRC_TP_INET_SOCK_SET_STATE = 8,
	RCVGOV_SRC_ITER_TCP = 9,
	RCVGOV_SRC_TP_TCP_RCVBUF_PRUNE = 10, /* patches/linux-{6.1,6.12}/0003 */
	RCVGOV_SRC__MAX = 11,
};

/* Counters in the per-CPU stats array, summed by userspace. */
enum rcvgov_stat {
	RCVGOV_STAT_EV_SUBMITTED = 0,
	RCVGOV_STAT_EV_DROPPED = 1, /* ring buffer full: event lost */
	RCVGOV_STAT_EV_RATELIMITED = 2, /* suppressed by the per-socket limit */
	RCVGOV_STAT_STORAGE_FAIL = 3, /* sk_storage could not be created */
	RCVGOV_STAT_INFLATIONS = 4,
	RCVGOV_STAT_OVERSHOOTS = 5,
	RCVGOV_STAT_AUTOTUNE_GROWS = 6,
	/* ESTABLISHED/CLOSED not sent: over the global lifecycle budget */
	RCVGOV_STAT_EV_OVER_BUDGET = 7,
	RCVGOV_STAT__MAX = 8,
};

/*
 * The global lifecycle-event budget: one second's window and how many
 * ESTABLISHED/CLOSED events it has sent, over all CPUs (one array entry).
 */
struct rcvgov_lifecycle_budget {
	__u64 window; /* CLOCK_MONOTONIC seconds */
	__u64 sent;
};

/* Flags in rcvgov_sock_state.flags. */
#define RCVGOV_F_OWNER_TASK (1u << 0) /* pid/comm/ino are known */
/* Seen first with data queued: the stall start is a lower bound. */
#define RCVGOV_F_AGE_LOWER (1u << 1)
#define RCVGOV_F_IPV6 (1u << 2)

struct rcvgov_sock_id {
	__u64 cookie;
	__u8 saddr[16]; /* IPv4 in the first 4 bytes, network order */
	__u8 daddr[16];
	__u16 sport; /* host order */
	__u16 dport; /* host order */
	__u16 family; /* AF_INET or AF_INET6 */
	__u16 pad;
};

struct rcvgov_owner {
	__u64 cgroup_id;
	__u64 netns_cookie;
	__u32 pid; /* tgid of the creating/accepting/reading task, 0 unknown */
	/*
	 * Inode number of the socket's file in sockfs (what /proc/PID/fd/N
	 * links to as "socket:[ino]"), read with pid; 0 unknown. With pid it
	 * lets the daemon find the owner's descriptor (the clamp fast path).
	 */
	__u32 ino;
	char comm[RCVGOV_COMM_LEN];
};

/* Per-socket state in the sk_storage map. */
struct rcvgov_sock_state {
	struct rcvgov_sock_id id;
	struct rcvgov_owner owner;
	__u64 inflation_bytes; /* sum of all inflation steps */
	/*
	 * CLOCK_MONOTONIC: since when data has waited with the reader making
	 * no progress (copied_seq unchanged); 0 = not stalled (queue empty or
	 * the reader just progressed). See note_progress() in rcvgov.bpf.c.
	 */
	__u64 stalled_since_ns;
	__u64 rl_window_ns; /* start of the current rate-limit window */
	__u32 rl_count; /* events sent in that window */
	__u32 autotuned_rcvbuf; /* rcvbuf as autotuning set it, before inflation */
	__u32 last_rcvbuf; /* rcvbuf at the last check */
	__u32 pending_rcvbuf; /* rcvbuf at fentry, for the fexit comparison */
	__u32 inflations;
	__u32 overshoots;
	__u32 max_overshoot; /* largest rmem_alloc - rcvbuf seen, bytes */
	__u32 last_window_clamp; /* window_clamp at the last check */
	__u32 autotune_grows;
	__u32 flags;
	__u32 last_copied_seq; /* tp->copied_seq when progress was last checked */
	__u8 rcv_wscale; /* receive window scale, fixed at the handshake */
	__u8 pad[3];
};

/* One record per full TCP socket, written by the iter/tcp snapshot. */
struct rcvgov_snapshot_rec {
	struct rcvgov_sock_id id;
	struct rcvgov_owner owner;
	__u64 inflation_bytes;
	__u64 stalled_since_ns; /* 0 = not stalled; see rcvgov_sock_state */
	__u64 now_ns; /* bpf_ktime_get_ns() when written */
	__u32 rmem_alloc;
	__u32 rcvbuf;
	__u32 autotuned_rcvbuf;
	__u32 inflations;
	__u32 overshoots;
	__u32 max_overshoot;
	__u32 unread; /* rcv_nxt - copied_seq */
	__u32 rcv_wnd;
	__u32 window_clamp;
	__u32 flags;
	__u32 copied_seq; /* tp->copied_seq: the reader's position */
	__u8 state; /* TCP_ESTABLISHED, ... */
	__u8 rcv_wscale;
	__u8 pad[2];
};

struct rcvgov_event {
	__u32 type; /* enum rcvgov_event_type */
	__u32 source; /* enum rcvgov_source */
	__u64 ts_ns; /* CLOCK_MONOTONIC */
	struct rcvgov_sock_id id;
	struct rcvgov_owner owner;
	__u64 inflation_bytes;
	__u32 rmem_alloc;
	__u32 rcvbuf_before;
	__u32 rcvbuf_after;
	__u32 autotuned_rcvbuf;
	__u32 inflations;
	__u32 overshoots;
	__u8 rcv_wscale;
	__u8 pad[7];
};

/* Enforcement: what userspace asks enforce.bpf.c to do, keyed by cookie. */
enum rcvgov_action_kind {
	RCVGOV_ACT_CLAMP = 1, /* TCP_WINDOW_CLAMP = value */
	RCVGOV_ACT_RESTORE = 2, /* TCP_WINDOW_CLAMP back to value */
	RCVGOV_ACT_DESTROY =
		3, /* bpf_sock_destroy(), after a progress re-check */
};

struct rcvgov_action {
	__u64 cookie;
	__u32 kind; /* enum rcvgov_action_kind */
	__u32 value; /* the window clamp in bytes, for CLAMP and RESTORE */
	__u32 rcvbuf; /* CLAMP: lock sk_rcvbuf at this many bytes (0: don't) */
	/*
	 * DESTROY: tp->copied_seq as seen when the decision was made. At the
	 * moment of destroy enforce.bpf.c skips the socket (rc -EAGAIN) if
	 * copied_seq moved since or the receive queue is empty.
	 */
	__u32 copied_seq;
};

/* One record per action taken, read back from the iterator. */
struct rcvgov_action_result {
	__u64 cookie;
	__u32 kind;
	/*
	 * 0 or -errno from bpf_setsockopt / bpf_sock_destroy, or for DESTROY
	 * -EAGAIN: skipped, the reader made progress or the queue drained
	 * since the decision (nothing was done to the socket).
	 */
	__s32 rc;
	__u32 before; /* window_clamp before (clamp) or rmem_alloc (destroy) */
	__u32 after; /* window_clamp after */
	__u32 rcvbuf_after;
	__u32 pad;
};

#endif /* RCVGOV_ABI_H */
