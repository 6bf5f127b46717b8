// Turns rcvgovd from a viewer into a governor: every socket in the table
// is a participant of the tracker (accounts per service and per peer), the
// tracker's decisions become enforcement actions along the ladder
// (tcp_shrink_window per namespace, TCP_WINDOW_CLAMP per socket, socket
// destruction under the system quota), and every action is logged,
// counted and aggregated.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <set>
#include <string>
#include <vector>

#include "config/config.h"
#include "core/socket_table.h"
#include "enforce/bpf_enforcer.h"
#include "enforce/cgroup_paths.h"
#include "enforce/shrink_sysctl.h"
#include "netns/netns.h"
#include "tracker/tracker.h"

namespace rcvgov {

// The namespaces of one scan, with each one's netns cookie so a socket
// (which knows its netns cookie) can be acted on where it lives.
struct NamespaceSet {
	std::vector<netns::Namespace> all;
	std::map<uint64_t, size_t> by_cookie; // netns cookie -> index in all
};

class Governor {
public:
	Governor(config::Config cfg, tracker::Limits limits,
		 std::unique_ptr<enforce::BpfEnforcer> enforcer);
	~Governor();

	// SIGHUP: a validated new configuration.
	void reconfigure(config::Config cfg, tracker::Limits limits);

	// Step 1, on every namespace scan.
	void on_namespaces(const NamespaceSet &ns);
	// After every snapshot round: bring the tracker in line with the
	// table, decide, act.
	void govern(const SocketTable &table, const NamespaceSet &ns, uint64_t now_ns);
	// On exit: put back what we changed unless configured to keep it.
	void shutdown(const NamespaceSet &ns);

	nlohmann::json resources() const;
	nlohmann::json status() const;

private:
	struct Clamped {
		uint32_t before = 0; // window_clamp before we clamped
		uint64_t netns_cookie = 0;
	};
	void sync(const SocketTable &table, uint64_t now_ns);
	tracker::AccountId account_for(const SocketInfo &s);
	bool allowlisted(const SocketInfo &s, const std::string &cgroup) const;
	void act(const std::vector<tracker::Decision> &decisions, const SocketTable &table,
		 const NamespaceSet &ns, uint64_t now_ns);
	void note_protected(const std::string &what, uint64_t now_ns);

	config::Config cfg_;
	tracker::SteadyClock clock_;
	tracker::Tracker tracker_;
	std::unique_ptr<enforce::BpfEnforcer> enforcer_;
	enforce::ShrinkWindowSysctl sysctl_;
	enforce::CgroupPaths cgroups_;
	std::map<uint64_t, tracker::ParticipantId> participants_; // by cookie
	std::map<uint64_t, Clamped> clamped_;			  // by cookie
	std::set<uint64_t> destroyed_;				  // by cookie
	uint64_t reclaim_paused_until_ns_ = 0;
	std::map<std::string, uint64_t> counters_;
	// Aggregated "protected" log lines: what -> count in this window.
	std::map<std::string, uint64_t> protected_window_;
	uint64_t protected_window_start_ns_ = 0;
};

} // namespace rcvgov
