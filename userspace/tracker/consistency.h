// The consistency checker: recomputes everything the tracker maintains
// incrementally (totals, pending bytes and participant counts per scope, the
// account tree, the participant lists, the hash indexes, the free lists,
// the allowlist marks, the work lists) from the slots, and reports every
// difference. O(participants x depth); meant for tests and for a debug
// command, not for every event in production.
#pragma once

#include <string>
#include <vector>

#include "tracker/tracker.h"

namespace rcvgov::tracker {

class ConsistencyChecker {
public:
	// Empty when the tracker is consistent; otherwise one line per problem.
	static std::vector<std::string> check(const Tracker &t);
};

inline std::vector<std::string> check_consistency(const Tracker &t)
{
	return ConsistencyChecker::check(t);
}

} // namespace rcvgov::tracker
