// SPDX-License-Identifier: GPL-2.0
/*
 * The measurement floor of P3: programs that do nothing, attached to the
 * tracepoints rcvgovd uses per segment and per read. With run-time stats on,
 * the kernel charges every run the cost of its own two clock reads; what an
 * empty program is charged is that overhead, not work, and rcvgov's cost is
 * what it is charged above it (bench/p2-throughput.sh).
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

char LICENSE[] SEC("license") = "GPL";

SEC("tp_btf/tcp_probe")
int BPF_PROG(floor_tcp_probe, struct sock *sk)
{
	return 0;
}

SEC("tp_btf/sock_recv_length")
int BPF_PROG(floor_sock_recv_length, struct sock *sk)
{
	return 0;
}

SEC("tp_btf/tcp_rcvbuf_grow")
int BPF_PROG(floor_tcp_rcvbuf_grow, struct sock *sk)
{
	return 0;
}

SEC("tp_btf/tcp_rcv_space_adjust")
int BPF_PROG(floor_tcp_rcv_space_adjust, struct sock *sk)
{
	return 0;
}

SEC("tp_btf/inet_sock_set_state")
int BPF_PROG(floor_inet_sock_set_state, struct sock *sk)
{
	return 0;
}
