#include "cli/render.h"

#include <algorithm>
#include <cstdio>
#include <sstream>
#include <vector>

#include "core/format.h"

namespace rcvgov::cli {

std::string table(const std::vector<std::vector<std::string>> &rows, bool header)
{
	std::vector<size_t> width;
	for (const auto &r : rows) {
		width.resize(std::max(width.size(), r.size()));
		for (size_t i = 0; i < r.size(); ++i)
			width[i] = std::max(width[i], r[i].size());
	}
	std::ostringstream out;
	for (size_t n = header ? 0 : 1; n < rows.size(); ++n) {
		const auto &r = rows[n];
		std::string line;
		for (size_t i = 0; i < r.size(); ++i) {
			line += r[i];
			if (i + 1 < r.size())
				line += std::string(width[i] - r[i].size() + 2, ' ');
		}
		out << line << '\n';
	}
	return out.str();
}

namespace cell {

std::string u64(const nlohmann::json &j, const char *key)
{
	return j.contains(key) && j[key].is_number() ? std::to_string(j[key].get<uint64_t>()) : "-";
}

std::string bytes(const nlohmann::json &j, const char *key)
{
	return j.contains(key) && j[key].is_number() ? format_bytes(j[key].get<uint64_t>()) : "-";
}

std::string str(const nlohmann::json &j, const char *key)
{
	return j.contains(key) && j[key].is_string() ? j[key].get<std::string>() : "-";
}

// How long the reader has made no progress with data waiting.
std::string stall(const nlohmann::json &s)
{
	if (!s.contains("stall_ms") || !s["stall_ms"].is_number())
		return "-";
	uint64_t ms = s["stall_ms"];
	std::string a = ms < 10000 ? std::to_string(ms) + "ms" : std::to_string(ms / 1000) + "s";
	if (s.value("stall_lower_bound", false) || s.value("data_age_lower_bound", false))
		a = ">" + a;
	return a;
}

// The enforcement state (none, clamped, destroyed, ...) when the daemon
// sends it, ",locked" when sk_rcvbuf is locked.
std::string enforcement(const nlohmann::json &s)
{
	if (s.contains("enforcement") && s["enforcement"].is_string())
		return s["enforcement"].get<std::string>() +
		       (s.value("rcvbuf_locked", false) ? ",locked" : "");
	return str(s, "state");
}

} // namespace cell

using namespace cell;

std::string render_owner(const nlohmann::json &o, bool with_cgroup)
{
	if (!o.is_object())
		return "-";
	std::string s;
	if (o.contains("pid") && o["pid"].is_number())
		s = std::to_string(o["pid"].get<uint64_t>()) + "/" + str(o, "comm");
	else
		s = "?";
	if (with_cgroup)
		s += " cg=" + u64(o, "cgroup_id");
	s += " ns=" + u64(o, "netns_cookie");
	return s;
}

std::string render_sockets(const nlohmann::json &sockets, bool header)
{
	std::vector<std::vector<std::string>> rows{{"COOKIE", "R", "RB", "AUTOTUNED", "INFL",
						    "STALL", "STATE", "LOCAL", "PEER", "SERVICE",
						    "OWNER"}};
	for (const auto &s : sockets) {
		// The service path says more than the bare cgroup id.
		const bool service = s.contains("service") && s["service"].is_string();
		rows.push_back({u64(s, "cookie"), bytes(s, "rmem_alloc"), bytes(s, "rcvbuf"),
				bytes(s, "autotuned_rcvbuf"), u64(s, "inflations"), stall(s),
				enforcement(s), str(s, "local"), str(s, "peer"), str(s, "service"),
				render_owner(s.contains("owner") ? s["owner"] : nlohmann::json(),
					     !service)});
	}
	return table(rows, header);
}

std::string render_resources(const nlohmann::json &scopes)
{
	std::vector<std::vector<std::string>> rows{
		{"SCOPE", "KEY", "USAGE", "LIMIT", "USE%", "SOCKETS", "FLAGS"}};
	for (const auto &s : scopes) {
		char pct[16] = "-";
		if (s.contains("percent") && s["percent"].is_number())
			std::snprintf(pct, sizeof(pct), "%.1f", s["percent"].get<double>());
		std::string flags;
		if (s.value("allowlisted", false))
			flags += "allowlisted ";
		if (s.value("reclaiming", false))
			flags += "reclaiming ";
		if (s.value("pending", 0) > 0)
			flags += "pending=" + format_bytes(s["pending"].get<uint64_t>());
		rows.push_back({str(s, "scope"), str(s, "key"), bytes(s, "usage"),
				bytes(s, "limit"), pct, u64(s, "participants"), flags});
	}
	return table(rows);
}

std::string render_events(const nlohmann::json &events)
{
	std::vector<std::vector<std::string>> rows{
		{"TYPE", "COOKIE", "RB BEFORE", "RB AFTER", "R", "LOCAL", "PEER", "SOURCE"}};
	for (const auto &e : events)
		rows.push_back({str(e, "type"), u64(e, "cookie"), bytes(e, "rcvbuf_before"),
				bytes(e, "rcvbuf_after"), bytes(e, "rmem_alloc"), str(e, "local"),
				str(e, "peer"), str(e, "source")});
	return table(rows);
}

std::string render_actions(const nlohmann::json &actions)
{
	std::vector<std::vector<std::string>> rows{{"TIME", "ACTION", "RESULT", "COOKIE", "SCOPE",
						    "LIMIT", "USAGE", "AGE", "SERVICE", "DETAIL"}};
	for (const auto &a : actions) {
		std::string scope = str(a, "scope");
		if (a.contains("scope_key") && a["scope_key"].is_string() &&
		    !a["scope_key"].get<std::string>().empty())
			scope += " " + a["scope_key"].get<std::string>();
		// Age: as the socket list prints a stall; usage: the scope's when
		// it is not the socket itself.
		nlohmann::json age = {
			{"stall_ms",
			 a.contains("data_age_ms") ? a["data_age_ms"] : nlohmann::json()},
			{"data_age_lower_bound", a.value("data_age_lower_bound", false)}};
		std::string detail;
		if (a.contains("error") && a["error"].is_string())
			detail = a["error"].get<std::string>();
		else if (str(a, "action") == "clamp" && str(a, "result") == "ok")
			detail = "window_clamp " + u64(a, "window_clamp_before") + " -> " +
				 u64(a, "window_clamp") + ", rcvbuf locked at " +
				 bytes(a, "rcvbuf_locked");
		else if (str(a, "action") == "destroy" && str(a, "result") == "ok")
			detail = "freed " + bytes(a, "freed");
		rows.push_back(
			{str(a, "time"), str(a, "action"), str(a, "result"), u64(a, "cookie"),
			 scope, bytes(a, "limit"),
			 str(a, "scope") == "socket" ? bytes(a, "usage") : bytes(a, "scope_usage"),
			 stall(age), str(a, "service"), detail});
	}
	return table(rows);
}

std::string render_status(const nlohmann::json &st)
{
	std::ostringstream out;
	out << "rcvgovd pid " << u64(st, "pid") << ", up " << u64(st, "uptime_s") << " s, mode "
	    << str(st, "mode") << "\n";
	if (st.contains("bpf_error"))
		out << "BPF unavailable: " << str(st, "bpf_error") << "\n";
	out << "sockets tracked: " << u64(st, "sockets_tracked")
	    << ", network namespaces: " << u64(st, "netns_seen") << "\n";
	if (st.contains("netns_scan") && st["netns_scan"].is_object() &&
	    !st["netns_scan"].value("degraded", std::string()).empty())
		out << "NETNS SCAN DEGRADED: " << str(st["netns_scan"], "degraded") << "\n";
	out << "\n";
	std::vector<std::vector<std::string>> rows{{"HOOK", "PATH", "WHY NOT THE FIRST CHOICE"}};
	for (const auto &h : st.value("hooks", nlohmann::json::array()))
		rows.push_back({str(h, "hook"), str(h, "path"),
				h.value("first_choice", false) ? "" : str(h, "reason")});
	out << table(rows) << "\n";
	std::vector<std::vector<std::string>> counters{{"COUNTER", "VALUE"}};
	// "control": the control socket's own counters (refused, evicted...).
	for (const char *group : {"kernel_counters", "counters", "control"})
		if (st.contains(group) && st[group].is_object())
			for (const auto &[k, v] : st[group].items())
				counters.push_back(
					{(group == std::string("control") ? "control_" : "") + k,
					 v.is_number() ? std::to_string(v.get<uint64_t>())
						       : v.dump()});
	out << table(counters);
	if (st.contains("governance") && st["governance"].is_object()) {
		const auto &g = st["governance"];
		out << "\ngovernance: config " << str(g, "config")
		    << (g.value("dry_run", false) ? ", DRY RUN (nothing is changed)" : "") << "\n";
		if (g.contains("ladder"))
			out << "ladder: shrink_window=" << g["ladder"].value("shrink_window", false)
			    << " clamp=" << g["ladder"].value("clamp", false)
			    << " reclaim=" << g["ladder"].value("reclaim", false)
			    << " (destroy with " << str(g["ladder"], "destroy_with") << ")\n";
		if (g.contains("limits"))
			out << "system: " << bytes(g, "total") << " of max "
			    << bytes(g["limits"], "max") << ", low water "
			    << bytes(g["limits"], "low_water")
			    << (g.value("reclaiming", false) ? " (reclaiming)" : "") << "\n";
		if (g.contains("safety") && g["safety"].is_object())
			out << "safety: destroy_per_round=" << u64(g["safety"], "destroy_per_round")
			    << " destroy_per_minute=" << u64(g["safety"], "destroy_per_minute")
			    << " breaker=" << g["safety"].value("breaker", false)
			    << " reclaim_pause_ms=" << u64(g["safety"], "reclaim_pause_ms") << "\n";
		if (g.contains("actions") && g["actions"].is_object())
			out << "audit trail: " << u64(g["actions"], "recorded")
			    << " actions recorded, the last " << u64(g["actions"], "kept")
			    << " of at most " << u64(g["actions"], "capacity")
			    << " kept (rcvgovctl events --type action)\n";
		if (g.contains("breaker") && g["breaker"].value("tripped", false))
			out << "BREAKER TRIPPED (dry-run until restart or reload): "
			    << str(g["breaker"], "reason") << "\n";
		// {"set", "refixed", "failed", "namespaces": [...]}, or a plain array.
		nlohmann::json sw = g.value("shrink_window", nlohmann::json::array());
		nlohmann::json list =
			sw.is_object() ? sw.value("namespaces", nlohmann::json::array()) : sw;
		if (sw.is_object())
			out << "tcp_shrink_window: set " << u64(sw, "set") << ", re-fixed "
			    << u64(sw, "refixed") << ", failed " << u64(sw, "failed") << "\n";
		std::vector<std::vector<std::string>> ns{
			{"NETNS", "FOUND AT", "SHRINK_WINDOW", "BEFORE", "SET BY RCVGOV", "ERROR"}};
		for (const auto &n : list)
			ns.push_back({u64(n, "cookie"), str(n, "origin"),
				      n.value("exists", false) ? std::to_string(n.value("now", -1))
							       : "absent",
				      std::to_string(n.value("before", -1)),
				      n.value("changed", false) ? "yes" : "no",
				      n.contains("error") ? str(n, "error") : ""});
		out << "\n" << table(ns);
	}
	return out.str();
}

} // namespace rcvgov::cli
