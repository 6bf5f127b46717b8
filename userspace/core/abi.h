// The BPF ABI as seen from C++. The static_asserts pin the layout the BPF
// programs write, so a one-sided change of bpf/rcvgov_abi.h fails the build.
#pragma once

#include <cstddef>

extern "C" {
#include "rcvgov_abi.h"
}

static_assert(sizeof(rcvgov_sock_id) == 48);
static_assert(offsetof(rcvgov_sock_id, saddr) == 8);
static_assert(offsetof(rcvgov_sock_id, daddr) == 24);
static_assert(offsetof(rcvgov_sock_id, sport) == 40);
static_assert(offsetof(rcvgov_sock_id, family) == 44);

static_assert(sizeof(rcvgov_owner) == 40);
static_assert(offsetof(rcvgov_owner, pid) == 16);
static_assert(offsetof(rcvgov_owner, comm) == 24);

static_assert(RCVGOV_ABI_VERSION == 2, "update the asserts below with the ABI");

static_assert(sizeof(rcvgov_sock_state) == 160);
static_assert(offsetof(rcvgov_sock_state, stalled_since_ns) == 96);
static_assert(offsetof(rcvgov_sock_state, last_copied_seq) == 152);
static_assert(offsetof(rcvgov_sock_state, rcv_wscale) == 156);

static_assert(sizeof(rcvgov_snapshot_rec) == 160);
static_assert(offsetof(rcvgov_snapshot_rec, inflation_bytes) == 88);
static_assert(offsetof(rcvgov_snapshot_rec, stalled_since_ns) == 96);
static_assert(offsetof(rcvgov_snapshot_rec, now_ns) == 104);
static_assert(offsetof(rcvgov_snapshot_rec, rmem_alloc) == 112);
static_assert(offsetof(rcvgov_snapshot_rec, flags) == 148);
static_assert(offsetof(rcvgov_snapshot_rec, copied_seq) == 152);
static_assert(offsetof(rcvgov_snapshot_rec, state) == 156);
static_assert(offsetof(rcvgov_snapshot_rec, rcv_wscale) == 157);
static_assert(sizeof(rcvgov_snapshot_rec) % 8 == 0);

static_assert(sizeof(rcvgov_event) == 144);

static_assert(sizeof(rcvgov_action) == 24);
static_assert(offsetof(rcvgov_action, rcvbuf) == 16);
static_assert(offsetof(rcvgov_action, copied_seq) == 20);
static_assert(sizeof(rcvgov_action_result) == 32);
static_assert(offsetof(rcvgov_action_result, rcvbuf_after) == 24);
static_assert(offsetof(rcvgov_event, id) == 16);
static_assert(offsetof(rcvgov_event, owner) == 64);
static_assert(offsetof(rcvgov_event, inflation_bytes) == 104);
static_assert(offsetof(rcvgov_event, rcv_wscale) == 136);
