#include <algorithm>
#include <gtest/gtest.h>
#include <prometheus/text_serializer.h>
#include <set>
#include <sstream>

#include "metrics/collect.h"
#include "metrics/values.h"

namespace rcvgov::metrics {
namespace {

namespace pm = prometheus;

// docs/metrics.md and /work/notes/metrics-contract.md: every family, no more.
const std::set<std::string> kContract = {
	"rcvgov_build_info",
	"rcvgov_mode",
	"rcvgov_observer_info",
	"rcvgov_attach_path_info",
	"rcvgov_events_total",
	"rcvgov_ring_drops_total",
	"rcvgov_snapshot_duration_seconds",
	"rcvgov_tracked_sockets",
	"rcvgov_receive_memory_bytes",
	"rcvgov_system_limit_bytes",
	"rcvgov_low_water_bytes",
	"rcvgov_service_usage_bytes",
	"rcvgov_service_limit_bytes",
	"rcvgov_socket_receive_memory_bytes",
	"rcvgov_socket_data_age_seconds",
	"rcvgov_inflations_total",
	"rcvgov_actions_total",
	"rcvgov_reclaiming",
	"rcvgov_reloads_total",
	"rcvgov_namespaces",
	"rcvgov_process_resident_memory_bytes",
	"rcvgov_process_cpu_seconds_total",
};

tracker::ScopeReport scope(tracker::ScopeKind kind, std::string key, uint64_t usage, uint64_t limit)
{
	tracker::ScopeReport r;
	r.kind = kind;
	r.key = std::move(key);
	r.usage = usage;
	r.limit = limit;
	return r;
}

// A host with `services` services, one peer scope per socket and `sockets`
// sockets, every socket holding data and stalled: the worst case for
// cardinality if anything were labelled per socket, peer or service.
struct Host {
	std::vector<tracker::ScopeReport> rows;
	SocketTable table;
	std::map<std::string, uint64_t> daemon_counters{
		{"events_inflation", 7}, {"reloads", 2}, {"reload_failures", 1}};
	governor::GovernorStatus gov;

	Host(size_t services, size_t sockets)
	{
		rows.push_back(scope(tracker::ScopeKind::System, "", 0, 1 << 30));
		for (size_t i = 0; i < services; ++i)
			rows.push_back(scope(tracker::ScopeKind::Service,
					     "/svc" + std::to_string(i) + ".service", i * 1000,
					     1 << 26));
		for (size_t i = 0; i < sockets; ++i) {
			rows.push_back(scope(tracker::ScopeKind::Peer,
					     "10.0.0." + std::to_string(i), 100, 1 << 20));
			SocketInfo s;
			s.cookie = i + 1;
			s.rmem_alloc = static_cast<uint32_t>((i * 4099) % (64u << 20));
			s.stalled_since_ns = 1'000'000'000ULL + i;
			table.upsert(s);
		}
		gov.mode = "dry-run";
		gov.counters = {{"clamped", 3}, {"dry_run_destroy", 4}, {"destroy_errors", 1}};
	}

	Values values(uint32_t top)
	{
		Values v;
		v.services = top_services(rows, top);
		observe_sockets(table, 60'000'000'000ULL, v.socket_bytes, v.data_age_seconds);
		v.snapshot_seconds.observe(0.02);
		DaemonFacts f;
		f.counters = &daemon_counters;
		f.sockets_tracked = table.size();
		fill(v, f, gov);
		return v;
	}
};

std::string text_of(const std::vector<pm::MetricFamily> &f)
{
	std::ostringstream out;
	pm::TextSerializer().Serialize(out, f);
	return out.str();
}

TEST(Metrics, SeriesAreBoundedWhateverTheNumberOfSocketsAndServices)
{
	Host small(3, 10), big(5000, 100000);
	for (uint32_t top : {0u, 1u, 10u, 100u}) {
		auto fs = families(small.values(top));
		auto fb = families(big.values(top));
		// sock_diag: one attach path. 74 fixed series (histogram buckets,
		// _sum and _count included), one per attach path, and two per
		// service (usage and limit) for at most top + "other".
		const size_t fixed = 74 + 1;
		EXPECT_EQ(series_count(fs), fixed + 2 * (std::min<size_t>(top, 3) + 1)) << top;
		EXPECT_EQ(series_count(fb), fixed + 2 * (top + 1)) << top;
		// Prometheus' own view: every sample line of the text format.
		size_t lines = 0;
		std::istringstream in(text_of(fb));
		for (std::string l; std::getline(in, l);)
			lines += !l.empty() && l[0] != '#';
		EXPECT_EQ(lines, series_count(fb));
	}
}

TEST(Metrics, NoLabelValueComesFromASocketOrPeer)
{
	Host big(50, 20000);
	std::set<std::string> names, services;
	for (const auto &f : families(big.values(10))) {
		names.insert(f.name);
		for (const auto &m : f.metric)
			for (const auto &l : m.label) {
				EXPECT_TRUE(l.value.find("10.0.0.") == std::string::npos)
					<< f.name << " " << l.name << "=" << l.value;
				if (l.name == "service")
					services.insert(l.value);
			}
	}
	EXPECT_EQ(names, kContract);
	EXPECT_EQ(services.size(), 11u);
	EXPECT_TRUE(services.count("other"));
	EXPECT_TRUE(services.count("/svc49.service")); // the most used
}

TEST(Metrics, NamingConventions)
{
	Host h(2, 5);
	// rcvgov_[a-z_]+ (no <regex>: GCC 12 warns inside it under ASan).
	auto conventional = [](const std::string &n) {
		return n.size() > 7 && n.rfind("rcvgov_", 0) == 0 &&
		       std::all_of(n.begin() + 7, n.end(),
				   [](char c) { return (c >= 'a' && c <= 'z') || c == '_'; });
	};
	for (const auto &f : families(h.values(10))) {
		EXPECT_TRUE(conventional(f.name)) << f.name;
		EXPECT_FALSE(f.help.empty()) << f.name;
		const bool total =
			f.name.size() > 6 && f.name.substr(f.name.size() - 6) == "_total";
		EXPECT_EQ(total, f.type == pm::MetricType::Counter) << f.name;
		if (f.name.find("_info") == std::string::npos)
			continue;
		for (const auto &m : f.metric) {
			EXPECT_EQ(m.gauge.value, 1) << f.name;
		}
	}
	const std::string text = text_of(families(h.values(10)));
	for (const auto &n : kContract) {
		EXPECT_NE(text.find("# HELP " + n + " "), std::string::npos) << n;
		EXPECT_NE(text.find("# TYPE " + n + " "), std::string::npos) << n;
	}
}

TEST(Metrics, ValuesFromTheDaemonAndGovernor)
{
	Host h(2, 5);
	Values v = h.values(10);
	EXPECT_EQ(v.mode, "dry_run");
	EXPECT_EQ(v.source, "sock_diag");
	EXPECT_EQ(v.inflations, 7u); // sock_diag: the daemon's event counter
	EXPECT_EQ(v.actions[0][0], 3u);
	EXPECT_EQ(v.actions[1][1], 1u);
	EXPECT_EQ(v.actions[1][2], 4u);
	EXPECT_EQ(v.reloads_ok, 2u);
	EXPECT_EQ(v.reloads_error, 1u);
	EXPECT_EQ(v.tracked_sockets, 5u);
	EXPECT_GT(v.resident_bytes, 0u);
	EXPECT_GT(v.cpu_seconds, 0);
	const std::string text = text_of(families(v));
	EXPECT_NE(text.find("rcvgov_mode{mode=\"dry_run\"} 1"), std::string::npos) << text;
	EXPECT_NE(text.find("rcvgov_mode{mode=\"enforcing\"} 0"), std::string::npos);
	EXPECT_NE(text.find("rcvgov_actions_total{class=\"destroy\",result=\"dry_run\"} 4"),
		  std::string::npos);
	EXPECT_NE(text.find("rcvgov_socket_receive_memory_bytes_bucket{le=\"+Inf\"} 5"),
		  std::string::npos)
		<< text;
}

TEST(Metrics, TopServicesAndOther)
{
	std::vector<tracker::ScopeReport> rows = {
		scope(tracker::ScopeKind::Service, "/b", 50, 100),
		scope(tracker::ScopeKind::Peer, "1.2.3.4", 900, 1000),
		scope(tracker::ScopeKind::Service, "/a", 50, 100),
		scope(tracker::ScopeKind::Service, "/c", 70, 100),
		scope(tracker::ScopeKind::Service, "/d", 10, 200),
	};
	auto t = top_services(rows, 2);
	ASSERT_EQ(t.size(), 3u);
	EXPECT_EQ(t[0].name, "/c");
	EXPECT_EQ(t[1].name, "/a"); // a tie: by name
	EXPECT_EQ(t[2].name, "other");
	EXPECT_EQ(t[2].usage, 60u);
	EXPECT_EQ(t[2].limit, 300u);
	auto none = top_services(rows, 0);
	ASSERT_EQ(none.size(), 1u);
	EXPECT_EQ(none[0].usage, 180u);
	auto all = top_services(rows, 10);
	ASSERT_EQ(all.size(), 5u);
	EXPECT_EQ(all.back().usage, 0u);
}

TEST(Metrics, HistogramBuckets)
{
	Histogram h(kSocketBytesBounds);
	h.observe(0);
	h.observe(4096);       // le 4096: bounds are inclusive
	h.observe(4097);       // le 16384
	h.observe(1ULL << 40); // +Inf
	EXPECT_EQ(h.counts().front(), 2u);
	EXPECT_EQ(h.counts()[1], 1u);
	EXPECT_EQ(h.counts().back(), 1u);
	EXPECT_EQ(h.count(), 4u);
	Values v;
	v.socket_bytes = h;
	for (const auto &f : families(v))
		if (f.name == "rcvgov_socket_receive_memory_bytes") {
			const auto &b = f.metric.at(0).histogram.bucket;
			ASSERT_EQ(b.size(), kSocketBytesBounds.size() + 1);
			EXPECT_EQ(b[0].cumulative_count, 2u);
			EXPECT_EQ(b[1].cumulative_count, 3u);
			EXPECT_EQ(b.back().cumulative_count, 4u);
			EXPECT_TRUE(std::isinf(b.back().upper_bound));
		}
	h.clear();
	EXPECT_EQ(h.count(), 0u);
}

} // namespace
} // namespace rcvgov::metrics
