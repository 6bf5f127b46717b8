#include "daemon/status_json.h"

#include "bpf/observer.h"
#include "common/version.h"

namespace rcvgov {

namespace {

nlohmann::json counters_json(const std::map<std::string, uint64_t> &m)
{
	nlohmann::json c = nlohmann::json::object();
	for (const auto &[k, v] : m)
		c[k] = v;
	return c;
}

nlohmann::json shrink_json(const enforce::SysctlReport &r)
{
	nlohmann::json ns = nlohmann::json::array();
	for (const auto &n : r.namespaces) {
		nlohmann::json j = {{"cookie", n.cookie}, {"origin", n.origin},
				    {"exists", n.exists}, {"before", n.before},
				    {"now", n.now},	  {"changed", n.changed}};
		if (!n.error.empty())
			j["error"] = n.error;
		if (n.no_strict)
			j["no_strict"] = true; // shrink_window = "strict" refused: 1 there
		ns.push_back(std::move(j));
	}
	return {{"set", r.counters.set},
		{"refixed", r.counters.refixed},
		{"failed", r.counters.failed},
		{"would_set", r.counters.would_set},
		{"namespaces", ns}};
}

} // namespace

nlohmann::json governor_json(const governor::GovernorStatus &g)
{
	const auto &l = g.limits;
	return {{"config", g.config_source},
		{"mode", g.mode},
		{"breaker", {{"tripped", g.breaker_tripped}, {"reason", g.breaker_reason}}},
		{"keep_on_exit", g.keep_on_exit},
		{"ladder",
		 {{"shrink_window", g.ladder.shrink_window},
		  {"clamp", g.ladder.clamp},
		  {"reclaim", g.ladder.reclaim},
		  {"clamp_with", g.clamp_with},
		  {"destroy_with", g.destroy_with}}},
		{"safety",
		 {{"destroy_per_round", g.safety.destroy_per_round},
		  {"destroy_per_minute", g.safety.destroy_per_minute},
		  {"breaker", g.safety.breaker},
		  {"reclaim_pause_ms", g.safety.reclaim_pause_ms}}},
		{"limits",
		 {{"max", l.max},
		  {"low_water", l.low_water},
		  {"per_service", l.per_service},
		  {"per_peer", l.per_peer},
		  {"per_socket", l.per_socket},
		  {"per_socket_entitlement_percent", l.per_socket_entitlement_percent},
		  {"min_stall_ms",
		   std::chrono::duration_cast<std::chrono::milliseconds>(l.min_stall).count()}}},
		{"total", g.total},
		{"reclaiming", g.reclaiming},
		{"participants", g.participants},
		{"clamped_sockets", g.clamped_sockets},
		{"counters", counters_json(g.counters)},
		{"shrink_window", shrink_json(g.shrink_window)},
		{"actions",
		 {{"recorded", g.actions_recorded},
		  {"kept", g.actions_kept},
		  {"capacity", g.actions_capacity}}},
		{"reaction",
		 {{"event", reaction_json(g.reaction_event)},
		  {"round", reaction_json(g.reaction_round)}}}};
}

nlohmann::json reaction_json(const governor::ReactionSummary &r)
{
	return {{"samples", r.samples},
		{"p50_us", r.p50_us},
		{"p99_us", r.p99_us},
		{"max_us", r.max_us}};
}

nlohmann::json status_json(const DaemonFacts &f, const governor::GovernorStatus &g)
{
	nlohmann::json j;
	j["version"] = version();
	j["commit"] = commit();
	j["pid"] = f.pid;
	j["uptime_s"] = f.uptime_s;
	j["mode"] = f.observer ? "bpf" : "sock_diag";
	j["source"] = f.source;
	if (!f.bpf_error.empty())
		j["bpf_error"] = f.bpf_error;
	j["hooks"] = nlohmann::json::array();
	if (f.observer) {
		for (const auto &p : f.observer->paths())
			j["hooks"].push_back({{"hook", p.hook},
					      {"path", p.path},
					      {"first_choice", p.first_choice},
					      {"reason", p.reason}});
		auto st = f.observer->stats();
		nlohmann::json k;
		for (int i = 0; i < RCVGOV_STAT__MAX; ++i)
			k[bpf::stat_name(i)] = st[i];
		j["kernel_counters"] = k;
	} else {
		j["hooks"].push_back({{"hook", "snapshot"},
				      {"path", "sock_diag (INET_DIAG_SKMEMINFO)"},
				      {"first_choice", false},
				      {"reason", f.bpf_error}});
	}
	j["counters"] = counters_json(*f.counters);
	j["sockets_tracked"] = f.sockets_tracked;
	if (f.netns) {
		const auto &r = f.netns->last_report();
		j["netns_seen"] = f.netns->size();
		j["netns_scan"] = {{"found", r.found},
				   {"added", r.added},
				   {"forgotten", r.forgotten},
				   {"open_failures", r.open_failures},
				   {"degraded", r.degraded}};
	}
	j["snapshot_interval_ms"] = f.config->interval_ms;
	j["netns_scan_ms"] = f.config->netns_scan_ms;
	j["resync_ms"] = f.config->resync_ms;
	j["react_to_events"] = f.config->react_to_events;
	j["scan_gate"] = f.scan_gate;
	j["last_full_snapshot_age_ms"] = f.last_full_age_ms;
	j["events_per_sec"] = f.config->events_per_sec;
	j["governance"] = governor_json(g);
	j["last_snapshot_ms"] = f.last_snapshot_ms;
	if (!f.last_snapshot_error.empty())
		j["last_snapshot_error"] = f.last_snapshot_error;
	return j;
}

nlohmann::json resources_json(const std::vector<tracker::ScopeReport> &rows)
{
	nlohmann::json arr = nlohmann::json::array();
	for (const auto &r : rows)
		arr.push_back({{"scope", tracker::to_string(r.kind)},
			       {"key", r.kind == tracker::ScopeKind::System ? "system" : r.key},
			       {"limit", r.limit},
			       {"usage", r.usage},
			       {"percent", r.percent},
			       {"participants", r.participants},
			       {"pending", r.pending},
			       {"allowlisted", r.allowlisted},
			       {"reclaiming", r.reclaiming}});
	return arr;
}

} // namespace rcvgov
