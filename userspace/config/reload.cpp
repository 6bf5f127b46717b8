#include "config/reload.h"

#include <functional>

namespace rcvgov::config {

namespace {

struct Row {
	KeyPolicy policy;
	std::function<std::string(const Config &)> get;
	// Restart keys: copies the running value into the reloaded config.
	std::function<void(const Config &, Config &)> keep;
};

std::string str(bool b)
{
	return b ? "true" : "false";
}
std::string str(uint64_t v)
{
	return std::to_string(v);
}
std::string str(const std::optional<uint64_t> &v)
{
	return v ? std::to_string(*v) : "auto";
}
std::string str(const std::string &v)
{
	return v;
}

template <class V> std::string list(const std::vector<V> &v, auto fn)
{
	std::string s = "[";
	for (size_t i = 0; i < v.size(); ++i)
		s += (i ? ", " : "") + fn(v[i]);
	return s + "]";
}

#define LIVE(key, expr)                                                                            \
	Row                                                                                        \
	{                                                                                          \
		{key, Reload::Live, ""}, [](const Config &c) { return str(expr); }, {}             \
	}

const std::vector<Row> &rows()
{
	static const std::vector<Row> r = {
		LIVE("daemon.interval_ms", uint64_t(c.interval_ms)),
		LIVE("daemon.netns_scan_ms", uint64_t(c.netns_scan_ms)),
		LIVE("daemon.resync_ms", uint64_t(c.resync_ms)),
		LIVE("daemon.react_to_events", c.react_to_events),
		Row{{"daemon.events_per_sec", Reload::Restart, "fixed at BPF load"},
		    [](const Config &c) { return str(uint64_t(c.events_per_sec)); },
		    [](const Config &run, Config &neu) {
			    neu.events_per_sec = run.events_per_sec;
		    }},
		LIVE("daemon.dry_run", c.dry_run),
		LIVE("daemon.keep_on_exit", c.keep_on_exit),
		LIVE("daemon.audit_actions", uint64_t(c.audit_actions)),
		LIVE("limits.max_memory", c.knobs.max_memory),
		LIVE("limits.low_water", c.knobs.low_water),
		LIVE("limits.per_service", c.knobs.per_service),
		LIVE("limits.per_peer", c.knobs.per_peer),
		LIVE("limits.per_socket", c.knobs.per_socket),
		Row{{"limits.min_stall_ms", Reload::Live, ""},
		    [](const Config &c) {
			    return str(c.min_stall_ms.value_or(default_min_stall_ms));
		    },
		    {}},
		LIVE("limits.force_below_floor", c.force_below_floor),
		LIVE("ladder.shrink_window", c.ladder.shrink_window),
		LIVE("ladder.shrink_window (strict)", c.ladder.shrink_strict),
		LIVE("ladder.clamp", c.ladder.clamp),
		LIVE("ladder.reclaim", c.ladder.reclaim),
		LIVE("safety.destroy_per_round", uint64_t(c.safety.destroy_per_round)),
		LIVE("safety.destroy_per_minute", uint64_t(c.safety.destroy_per_minute)),
		LIVE("safety.breaker", c.safety.breaker),
		LIVE("safety.reclaim_pause_ms", uint64_t(c.safety.reclaim_pause_ms)),
		// The exporter is restarted on the new address (metrics/metrics.h).
		LIVE("metrics.enabled", c.metrics.enabled),
		LIVE("metrics.listen", c.metrics.listen),
		LIVE("metrics.top_services", uint64_t(c.metrics.top_services)),
		Row{{"allowlist.cidrs", Reload::Live, ""},
		    [](const Config &c) {
			    return list(c.allow.cidrs, [](const Cidr &x) { return x.text; });
		    },
		    {}},
		Row{{"allowlist.cgroups", Reload::Live, ""},
		    [](const Config &c) {
			    return list(c.allow.cgroups, [](const std::string &x) { return x; });
		    },
		    {}},
		Row{{"allowlist.ports", Reload::Live, ""},
		    [](const Config &c) {
			    return list(c.allow.ports,
					[](uint16_t p) { return std::to_string(p); });
		    },
		    {}},
		Row{{"override", Reload::Live, ""},
		    [](const Config &c) {
			    return list(c.overrides, [](const tracker::Override &o) {
				    return o.scope + " " + o.key + " " + std::to_string(o.limit);
			    });
		    },
		    {}},
	};
	return r;
}

#undef LIVE

} // namespace

const std::vector<KeyPolicy> &reload_policy()
{
	static const std::vector<KeyPolicy> p = [] {
		std::vector<KeyPolicy> v;
		for (const auto &r : rows())
			v.push_back(r.policy);
		return v;
	}();
	return p;
}

std::string ReloadChange::text() const
{
	std::string s = key + " " + from + " -> " + to;
	if (reload == Reload::Live)
		return s + " (live)";
	return s + " refused: " + why + ", restart to apply";
}

size_t ReloadChanges::refused() const
{
	size_t n = 0;
	for (const auto &c : changes)
		n += c.reload == Reload::Restart;
	return n;
}

std::string ReloadChanges::summary() const
{
	if (changes.empty())
		return "no change";
	std::string s;
	for (const auto &c : changes)
		s += (s.empty() ? "" : "; ") + c.text();
	return s;
}

ReloadChanges reload_changes(const Config &running, const Config &reloaded)
{
	ReloadChanges out;
	for (const auto &r : rows()) {
		std::string from = r.get(running), to = r.get(reloaded);
		if (from == to)
			continue;
		out.changes.push_back({std::string(r.policy.key), std::move(from), std::move(to),
				       r.policy.reload, std::string(r.policy.why)});
	}
	return out;
}

void keep_restart_only(const Config &running, Config &reloaded)
{
	for (const auto &r : rows())
		if (r.policy.reload == Reload::Restart)
			r.keep(running, reloaded);
}

} // namespace rcvgov::config
