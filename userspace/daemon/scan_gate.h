// When a full snapshot is worth its cost. A scan of every socket in every
// namespace costs ~2 us per socket (200 ms at 100 k sockets); on an idle
// host that would be most of rcvgovd's CPU. Between scans the BPF events
// keep the table current for what matters per socket (inflation and
// overshoot trigger targeted enforcement, see Governor::react), so a
// round is needed only when some quota could be over. The kernel keeps
// that figure for free: tcp_memory_allocated (the "mem" of
// /proc/net/sockstat, in pages, one counter for all namespaces) bounds
// the receive memory of every scope from above (it counts send buffers
// too, so the gate errs towards scanning).
//
// A scan runs when any of these holds, else the tick is skipped:
//   - no BPF events (sock_diag mode infers everything from scans),
//   - the TCP memory cannot be read,
//   - TCP memory >= the governor's quiet_below() (the smallest limit or
//     low water of any scope: below it no rule can fire),
//   - the governor is busy (a decision pending, the system reclaiming),
//   - resync_ms has passed since the last full scan (the table converges
//     to the kernel's truth: stall ages, sockets missed by lost events),
//   - resync_ms is 0 (every tick scans, the behaviour before the gate).
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>

#include "common/error.h"

namespace rcvgov {

struct GateInput {
	bool events_live = false;
	std::optional<uint64_t> tcp_memory; // bytes; none if unreadable
	uint64_t quiet_below = 0;
	bool governor_busy = false;
	uint64_t since_full_ns = 0;
	uint64_t resync_ns = 0;
};

struct GateDecision {
	bool scan = true;
	std::string_view why; // for the status and debug logs
};

GateDecision decide_scan(const GateInput &in);

// The "mem" field of the TCP line of /proc/net/sockstat, in pages.
Result<uint64_t> parse_sockstat_tcp_pages(std::string_view text);
// tcp_memory_allocated in bytes, from /proc/net/sockstat.
Result<uint64_t> read_tcp_memory();

} // namespace rcvgov
