// Every rule that can hold an action back, in one place, checked right
// before acting (after the tracker decided and the plan was made):
//
//  - the allowlist, for every action class: peer CIDRs, local ports, and
//    cgroup v2 subtrees (the tracker already never decides for allowlisted
//    accounts; this is the last line, for whatever reached the plan);
//  - a destroy budget per round and per minute; a destroy beyond the
//    round's budget waits for the next round, one beyond the minute's
//    trips the breaker (when enabled), after which the governor only
//    records what it would have done, until restart or reload;
//  - a pause after destroying, so counters that lag a destroy cannot
//    cause an action storm.
//
// The at-destroy re-check (the reader must not have progressed) is the
// actuators' part, in the kernel (bpf/enforce.bpf.c) or just before
// SOCK_DESTROY (enforce/diag_actuator.cpp).
#pragma once

#include <cstdint>
#include <deque>
#include <string>
#include <string_view>

#include "config/config.h"
#include "core/socket_info.h"
#include "enforce/actuator.h"

namespace rcvgov::governor {

enum class Hold : uint8_t {
	None,	      // go ahead
	Allowlist,    // an allowlisted peer, port or cgroup subtree
	RoundBudget,  // destroy_per_round reached: next round
	MinuteBudget, // destroy_per_minute reached (trips the breaker)
	Pause,	      // within reclaim_pause_ms of the last destroy
};
std::string_view to_string(Hold h);

class Safety {
public:
	Safety(config::Allowlist allow, config::Safety rules)
	    : allow_(std::move(allow)), rules_(rules)
	{
	}

	// A reload: new rules, and a tripped breaker is reset (the operator
	// has looked at the configuration).
	void reconfigure(config::Allowlist allow, config::Safety rules);

	void begin_round() { round_destroys_ = 0; }
	// For one action about to run for real (dry-run actions pass through
	// the allowlist only). Destroys that pass are counted against the
	// budgets at once, so a round can never exceed them.
	Hold check(const enforce::Action &a, const SocketInfo &s, std::string_view cgroup_path,
		   bool dry_run, uint64_t now_ns);
	// What a destroy that passed check() came to: only one that was done
	// starts the pause.
	void destroyed(uint64_t now_ns) { last_destroy_ns_ = now_ns; }

	bool allowlisted(const SocketInfo &s, std::string_view cgroup_path) const;
	bool tripped() const { return tripped_; }
	const std::string &trip_reason() const { return trip_reason_; }

private:
	config::Allowlist allow_;
	config::Safety rules_;
	uint32_t round_destroys_ = 0;
	std::deque<uint64_t> minute_; // when each destroy of the last minute passed
	uint64_t last_destroy_ns_ = 0;
	bool tripped_ = false;
	std::string trip_reason_;
};

} // namespace rcvgov::governor
