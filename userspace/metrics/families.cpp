// Values -> Prometheus families. Names follow the Prometheus conventions:
// the rcvgov_ prefix, base units in the name (_bytes, _seconds), _total on
// counters, _info on constant-1 gauges that carry labels.
#include <limits>

#include "metrics/values.h"

namespace rcvgov::metrics {

namespace pm = prometheus;

void Histogram::observe(double v)
{
	size_t i = 0;
	while (i < bounds_.size() && v > bounds_[i])
		++i;
	++counts_[i];
	++count_;
	sum_ += v;
}

void Histogram::clear()
{
	std::fill(counts_.begin(), counts_.end(), 0);
	count_ = 0;
	sum_ = 0;
}

namespace {

using Labels = std::vector<pm::ClientMetric::Label>;

pm::MetricFamily family(const char *name, const char *help, pm::MetricType type)
{
	pm::MetricFamily f;
	f.name = name;
	f.help = help;
	f.type = type;
	return f;
}

void add(pm::MetricFamily &f, double v, Labels labels = {})
{
	pm::ClientMetric m;
	m.label = std::move(labels);
	if (f.type == pm::MetricType::Counter)
		m.counter.value = v;
	else
		m.gauge.value = v;
	f.metric.push_back(std::move(m));
}

pm::MetricFamily gauge(const char *name, const char *help, double v)
{
	auto f = family(name, help, pm::MetricType::Gauge);
	add(f, v);
	return f;
}

pm::MetricFamily counter(const char *name, const char *help, double v)
{
	auto f = family(name, help, pm::MetricType::Counter);
	add(f, v);
	return f;
}

pm::MetricFamily histogram(const char *name, const char *help, const Histogram &h)
{
	auto f = family(name, help, pm::MetricType::Histogram);
	pm::ClientMetric m;
	m.histogram.sample_count = h.count();
	m.histogram.sample_sum = h.sum();
	uint64_t cumulative = 0;
	for (size_t i = 0; i < h.counts().size(); ++i) {
		cumulative += h.counts()[i];
		double bound = i < h.bounds().size() ? h.bounds()[i]
						     : std::numeric_limits<double>::infinity();
		m.histogram.bucket.push_back({cumulative, bound});
	}
	f.metric.push_back(std::move(m));
	return f;
}

} // namespace

std::vector<pm::MetricFamily> families(const Values &v)
{
	std::vector<pm::MetricFamily> out;
	using pm::MetricType;

	auto build = family("rcvgov_build_info", "rcvgov's version and commit; always 1.",
			    MetricType::Gauge);
	add(build, 1, {{"version", v.version}, {"commit", v.commit}});
	out.push_back(std::move(build));

	auto mode = family("rcvgov_mode",
			   "What the daemon does now: 1 on the active mode, 0 on the others.",
			   MetricType::Gauge);
	for (const char *m : kModes)
		add(mode, v.mode == m ? 1 : 0, {{"mode", m}});
	out.push_back(std::move(mode));

	auto obs = family("rcvgov_observer_info",
			  "Where socket events come from: BPF programs or the sock_diag "
			  "polling fallback; always 1.",
			  MetricType::Gauge);
	add(obs, 1, {{"source", v.source}});
	out.push_back(std::move(obs));

	auto paths = family("rcvgov_attach_path_info",
			    "The program serving each hook (\"none\" when no program does); "
			    "always 1.",
			    MetricType::Gauge);
	for (const auto &p : v.paths)
		add(paths, 1, {{"hook", p.hook}, {"path", p.path}});
	out.push_back(std::move(paths));

	auto events = family("rcvgov_events_total", "Ring-buffer events received, by type.",
			     MetricType::Counter);
	for (const auto &[type, n] : v.events)
		add(events, static_cast<double>(n), {{"type", type}});
	out.push_back(std::move(events));

	out.push_back(counter("rcvgov_ring_drops_total",
			      "Ring-buffer records the kernel side could not send (buffer full).",
			      static_cast<double>(v.ring_drops)));
	out.push_back(histogram("rcvgov_snapshot_duration_seconds",
				"Time a full snapshot of every namespace took.",
				v.snapshot_seconds));
	out.push_back(gauge("rcvgov_tracked_sockets", "TCP sockets in the daemon's table.",
			    static_cast<double>(v.tracked_sockets)));
	out.push_back(gauge("rcvgov_receive_memory_bytes",
			    "Receive memory held by every tracked socket together.",
			    static_cast<double>(v.receive_memory_bytes)));
	out.push_back(gauge("rcvgov_system_limit_bytes",
			    "The system (global) receive memory limit in force.",
			    static_cast<double>(v.system_limit_bytes)));
	out.push_back(gauge("rcvgov_low_water_bytes",
			    "The system low water mark: reclamation stops below it.",
			    static_cast<double>(v.low_water_bytes)));

	auto usage = family("rcvgov_service_usage_bytes",
			    "Receive memory per service: the top metrics.top_services by usage, "
			    "the rest summed as service=\"other\".",
			    MetricType::Gauge);
	auto limit = family("rcvgov_service_limit_bytes",
			    "Receive memory limit per service (same services as "
			    "rcvgov_service_usage_bytes; \"other\" sums the limits of the rest).",
			    MetricType::Gauge);
	for (const auto &s : v.services) {
		add(usage, static_cast<double>(s.usage), {{"service", s.name}});
		add(limit, static_cast<double>(s.limit), {{"service", s.name}});
	}
	out.push_back(std::move(usage));
	out.push_back(std::move(limit));

	out.push_back(histogram("rcvgov_socket_receive_memory_bytes",
				"Receive memory per socket at the last full snapshot (a fresh "
				"distribution each snapshot, not cumulative).",
				v.socket_bytes));
	out.push_back(histogram("rcvgov_socket_data_age_seconds",
				"Age of the oldest unread data per socket holding data, at the "
				"last full snapshot (a fresh distribution each snapshot).",
				v.data_age_seconds));
	out.push_back(counter("rcvgov_inflations_total",
			      "Receive buffer inflations seen (rmem_alloc past rcvbuf, rcvbuf "
			      "raised).",
			      static_cast<double>(v.inflations)));

	auto actions = family("rcvgov_actions_total", "Enforcement actions by class and result.",
			      MetricType::Counter);
	for (size_t c = 0; c < kActionClasses.size(); ++c)
		for (size_t r = 0; r < kActionResults.size(); ++r)
			add(actions, static_cast<double>(v.actions[c][r]),
			    {{"class", kActionClasses[c]}, {"result", kActionResults[r]}});
	out.push_back(std::move(actions));

	out.push_back(gauge("rcvgov_reclaiming",
			    "1 while the system scope is reclaiming (destroying, or in dry-run "
			    "would destroy, the sockets stalled longest), else 0.",
			    v.reclaiming ? 1 : 0));

	auto reloads = family("rcvgov_reloads_total", "Configuration reloads (SIGHUP) by result.",
			      MetricType::Counter);
	add(reloads, static_cast<double>(v.reloads_ok), {{"result", "ok"}});
	add(reloads, static_cast<double>(v.reloads_error), {{"result", "error"}});
	out.push_back(std::move(reloads));

	auto ns = family("rcvgov_namespaces", "Network namespaces by state.", MetricType::Gauge);
	for (size_t i = 0; i < kNamespaceStates.size(); ++i)
		add(ns, static_cast<double>(v.namespaces[i]), {{"state", kNamespaceStates[i]}});
	out.push_back(std::move(ns));

	out.push_back(gauge("rcvgov_process_resident_memory_bytes",
			    "Resident memory of the rcvgovd process.",
			    static_cast<double>(v.resident_bytes)));
	out.push_back(counter("rcvgov_process_cpu_seconds_total",
			      "CPU time of the rcvgovd process, user and system.", v.cpu_seconds));
	return out;
}

size_t series_count(const std::vector<pm::MetricFamily> &f)
{
	size_t n = 0;
	for (const auto &fam : f)
		for (const auto &m : fam.metric)
			n += fam.type == pm::MetricType::Histogram ? m.histogram.bucket.size() + 2
								   : 1;
	return n;
}

} // namespace rcvgov::metrics
