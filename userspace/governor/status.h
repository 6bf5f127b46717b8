// What the governor reports, as plain values: control/ turns them into
// JSON, metrics (later) into series. No JSON types here.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "config/config.h"
#include "enforce/netns_sysctl.h"
#include "governor/reaction.h"
#include "tracker/limits.h"

namespace rcvgov::governor {

struct GovernorStatus {
	std::string config_source;
	// "enforcing", "dry-run" (configured) or "breaker-tripped".
	std::string mode;
	bool breaker_tripped = false;
	std::string breaker_reason;
	bool keep_on_exit = false;
	config::Ladder ladder;
	config::Safety safety;
	tracker::Limits limits;
	std::string clamp_with;	  // the actuator that clamps, "" when none
	std::string destroy_with; // the actuator that destroys, "" when none
	uint64_t total = 0;
	bool reclaiming = false;
	size_t participants = 0;
	size_t clamped_sockets = 0;
	std::map<std::string, uint64_t> counters;
	enforce::SysctlReport shrink_window;
	// Reaction time (see governor/reaction.h) by path.
	ReactionSummary reaction_event;
	ReactionSummary reaction_round;
	// The audit trail (governor/action_log.h): actions ever recorded, how
	// many are kept now and at most.
	uint64_t actions_recorded = 0;
	size_t actions_kept = 0;
	size_t actions_capacity = 0;
};

} // namespace rcvgov::governor
