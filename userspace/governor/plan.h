// From the tracker's decisions to actions: a pure function of the
// decisions, the socket table and the ladder, so every rule here is
// unit-tested without a kernel. Every decision comes out exactly once,
// either as a step to act on or as a settlement that needs no action (the
// socket is gone, the ladder step is off), so the tracker never keeps a
// decision pending that nothing acted on.
#pragma once

#include <cstddef>
#include <span>
#include <vector>

#include "config/config.h"
#include "core/socket_table.h"
#include "enforce/actuator.h"
#include "tracker/decision.h"
#include "tracker/enforcement.h"

namespace rcvgov::governor {

struct Step {
	size_t decision = 0; // index into the decisions given to plan()
	enforce::Action action;
};

struct Settlement {
	size_t decision = 0;
	tracker::Outcome outcome = tracker::Outcome::Skipped;
	const char *why = "";
};

struct Plan {
	std::vector<Step> steps;
	std::vector<Settlement> settled;
};

struct PlanOptions {
	config::Ladder ladder;
	// Reader positions come from BPF (tp->copied_seq) rather than from
	// sock_diag (bytes_received - rqueue).
	bool position_is_seq = true;
};

// The window clamp that matches the autotuned buffer. The kernel's own
// formula (tcp_win_from_space) depends on tcp_adv_win_scale or, from 6.6,
// on a per-socket scaling ratio; half the buffer is what both give for
// default settings and a typical MSS, and never less than the kernel
// minimum (TCP_MIN_RCVMSS * 4 / 2).
uint32_t clamp_for(const SocketInfo &s);

enforce::Target target_of(const SocketInfo &s, bool position_is_seq);

Plan plan(std::span<const tracker::Decision> decisions, const SocketTable &table,
	  const PlanOptions &opts);

} // namespace rcvgov::governor
