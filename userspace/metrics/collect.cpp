#include "metrics/collect.h"

#include <algorithm>
#include <fstream>
#include <set>
#include <sys/resource.h>
#include <unistd.h>

#include "bpf/observer.h"
#include "common/version.h"
#include "core/event.h"

namespace rcvgov::metrics {

namespace {

uint64_t get(const std::map<std::string, uint64_t> &m, const std::string &key)
{
	auto it = m.find(key);
	return it == m.end() ? 0 : it->second;
}

std::string mode_label(const std::string &mode)
{
	if (mode == "dry-run")
		return "dry_run";
	if (mode == "breaker-tripped")
		return "breaker_tripped";
	return "enforcing";
}

} // namespace

std::vector<ServiceUsage> top_services(const std::vector<tracker::ScopeReport> &rows, uint32_t n)
{
	std::vector<const tracker::ScopeReport *> services;
	for (const auto &r : rows)
		if (r.kind == tracker::ScopeKind::Service)
			services.push_back(&r);
	auto more = [](const tracker::ScopeReport *a, const tracker::ScopeReport *b) {
		return a->usage != b->usage ? a->usage > b->usage : a->key < b->key;
	};
	const size_t top = std::min<size_t>(n, services.size());
	std::partial_sort(services.begin(), services.begin() + static_cast<ptrdiff_t>(top),
			  services.end(), more);
	std::vector<ServiceUsage> out;
	out.reserve(top + 1);
	for (size_t i = 0; i < top; ++i)
		out.push_back({services[i]->key, services[i]->usage, services[i]->limit});
	ServiceUsage other{"other", 0, 0};
	for (size_t i = top; i < services.size(); ++i) {
		other.usage += services[i]->usage;
		other.limit += services[i]->limit;
	}
	out.push_back(std::move(other));
	return out;
}

void observe_sockets(const SocketTable &table, uint64_t now_ns, Histogram &bytes,
		     Histogram &age_seconds)
{
	bytes.clear();
	age_seconds.clear();
	table.for_each([&](const SocketInfo &s) {
		bytes.observe(s.rmem_alloc);
		if (s.stalled_since_ns != 0 && s.stalled_since_ns <= now_ns)
			age_seconds.observe(static_cast<double>(now_ns - s.stalled_since_ns) / 1e9);
	});
}

void fill(Values &v, const DaemonFacts &f, const governor::GovernorStatus &g)
{
	const auto &dc = *f.counters;
	const auto &gc = g.counters;
	v.version = std::string(version());
	v.commit = std::string(commit());
	v.mode = mode_label(g.mode);
	v.source = f.observer ? "bpf" : "sock_diag";
	v.paths.clear();
	if (f.observer)
		for (const auto &p : f.observer->paths())
			v.paths.push_back({p.hook, p.path});
	else
		v.paths.push_back({"snapshot", "sock_diag"});

	v.events.clear();
	for (EventType t : {EventType::Inflation, EventType::Overshoot, EventType::Established,
			    EventType::Closed}) {
		std::string name(event_type_name(t));
		v.events.emplace_back(name, get(dc, "events_" + name));
	}
	if (f.observer) {
		auto st = f.observer->stats();
		v.ring_drops = st[RCVGOV_STAT_EV_DROPPED];
		v.inflations = st[RCVGOV_STAT_INFLATIONS];
	} else {
		v.ring_drops = 0;
		v.inflations = get(dc, "events_inflation");
	}
	v.tracked_sockets = f.sockets_tracked;
	v.receive_memory_bytes = g.total;
	v.system_limit_bytes = g.limits.max;
	v.low_water_bytes = g.limits.low_water;

	auto &a = v.actions; // kActionClasses x kActionResults
	a[0] = {get(gc, "clamped"), get(gc, "clamp_errors"), get(gc, "dry_run_clamp")};
	a[1] = {get(gc, "destroyed"), get(gc, "destroy_errors"), get(gc, "dry_run_destroy")};
	a[2] = {get(gc, "released"), get(gc, "release_errors"), 0};
	v.reclaiming = g.reclaiming;
	v.reloads_ok = get(dc, "reloads");
	v.reloads_error = get(dc, "reload_failures");

	v.namespaces = {};
	if (f.netns) {
		std::set<uint64_t> failed;
		for (const auto &n : g.shrink_window.namespaces)
			if (!n.error.empty())
				failed.insert(n.cookie);
		for (const auto &ns : f.netns->all()) {
			if (!f.netns->reachable(*ns))
				++v.namespaces[1];
			else if (failed.count(ns->cookie))
				++v.namespaces[2];
			else
				++v.namespaces[0];
		}
		v.namespaces[2] += f.netns->last_report().open_failures;
	}
	ProcessStats p = read_process();
	v.resident_bytes = p.resident_bytes;
	v.cpu_seconds = p.cpu_seconds;
}

ProcessStats read_process()
{
	ProcessStats p;
	std::ifstream statm("/proc/self/statm");
	uint64_t size = 0, resident = 0;
	if (statm >> size >> resident) {
		long page = sysconf(_SC_PAGESIZE);
		p.resident_bytes = resident * static_cast<uint64_t>(page > 0 ? page : 4096);
	}
	rusage ru{};
	if (getrusage(RUSAGE_SELF, &ru) == 0)
		p.cpu_seconds =
			static_cast<double>(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) +
			static_cast<double>(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6;
	return p;
}

} // namespace rcvgov::metrics
