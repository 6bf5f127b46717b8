// JSON for the control protocol's answers about the daemon and the
// governor, built from plain values (nothing in governor/ or enforce/
// knows JSON).
#pragma once

#include <cstdint>
#include <map>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "config/config.h"
#include "governor/status.h"
#include "netns/netns.h"
#include "tracker/tracker.h"

namespace rcvgov {

namespace bpf {
class Observer;
}

struct DaemonFacts {
	int pid = 0;
	uint64_t uptime_s = 0;
	const bpf::Observer *observer = nullptr; // null in sock_diag mode
	std::string bpf_error;
	std::string source;
	const std::map<std::string, uint64_t> *counters = nullptr;
	size_t sockets_tracked = 0;
	const netns::Registry *netns = nullptr;
	const config::Config *config = nullptr;
	double last_snapshot_ms = 0;
	std::string last_snapshot_error;
	uint64_t last_full_age_ms = 0; // since the last full snapshot ended
	std::string scan_gate;	       // why the last tick scanned or not
};

nlohmann::json status_json(const DaemonFacts &f, const governor::GovernorStatus &g);
nlohmann::json governor_json(const governor::GovernorStatus &g);
nlohmann::json reaction_json(const governor::ReactionSummary &r);
nlohmann::json resources_json(const std::vector<tracker::ScopeReport> &rows);

} // namespace rcvgov
