// What /metrics exports (docs/metrics.md), as plain values: the collector
// (metrics/collect.h) fills them from the daemon's state on its own thread,
// families() turns them into Prometheus families. Every label takes its
// values from a set fixed in the code, except `service`, which is cut to
// the top N plus "other": the number of series never depends on how many
// sockets, peers or namespaces there are.
#pragma once

#include <array>
#include <cstdint>
#include <prometheus/metric_family.h>
#include <span>
#include <string>
#include <vector>

namespace rcvgov::metrics {

// Fixed bucket upper bounds (+Inf is implied).
inline constexpr std::array<double, 13> kSnapshotSecondsBounds = {
	0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10};
inline constexpr std::array<double, 9> kSocketBytesBounds = {
	4096, 16384, 65536, 262144, 1048576, 4194304, 16777216, 67108864, 268435456};
inline constexpr std::array<double, 11> kDataAgeSecondsBounds = {0.1, 0.5, 1,	2,   5,	  10,
								 30,  60,  300, 900, 3600};

class Histogram {
public:
	explicit Histogram(std::span<const double> bounds)
	    : bounds_(bounds), counts_(bounds.size() + 1, 0)
	{
	}
	void observe(double v);
	void clear();
	std::span<const double> bounds() const { return bounds_; }
	// Per bucket, not cumulative; the last one is +Inf.
	const std::vector<uint64_t> &counts() const { return counts_; }
	uint64_t count() const { return count_; }
	double sum() const { return sum_; }

private:
	std::span<const double> bounds_;
	std::vector<uint64_t> counts_;
	uint64_t count_ = 0;
	double sum_ = 0;
};

struct ServiceUsage {
	std::string name; // the service's key, or "other"
	uint64_t usage = 0;
	uint64_t limit = 0;
};

struct HookPath {
	std::string hook, path;
};

// rcvgov_actions_total's labels.
inline constexpr std::array<const char *, 3> kActionClasses = {"clamp", "destroy", "release"};
inline constexpr std::array<const char *, 3> kActionResults = {"ok", "error", "dry_run"};
// rcvgov_mode's and rcvgov_namespaces' labels.
inline constexpr std::array<const char *, 3> kModes = {"enforcing", "dry_run", "breaker_tripped"};
inline constexpr std::array<const char *, 3> kNamespaceStates = {"governed", "absent", "failed"};

struct Values {
	std::string version, commit;
	std::string mode = "enforcing"; // one of kModes
	std::string source = "bpf";	// "bpf" or "sock_diag"
	std::vector<HookPath> paths;
	// By event type name (core/event.h), every type present, 0 or not.
	std::vector<std::pair<std::string, uint64_t>> events;
	uint64_t ring_drops = 0;
	Histogram snapshot_seconds{kSnapshotSecondsBounds};
	uint64_t tracked_sockets = 0;
	uint64_t receive_memory_bytes = 0;
	uint64_t system_limit_bytes = 0;
	uint64_t low_water_bytes = 0;
	std::vector<ServiceUsage> services; // top N, then "other"
	Histogram socket_bytes{kSocketBytesBounds};
	Histogram data_age_seconds{kDataAgeSecondsBounds};
	uint64_t inflations = 0;
	// [class][result], indexed as kActionClasses x kActionResults.
	std::array<std::array<uint64_t, 3>, 3> actions{};
	bool reclaiming = false;
	uint64_t reloads_ok = 0, reloads_error = 0;
	std::array<uint64_t, 3> namespaces{}; // by kNamespaceStates
	uint64_t resident_bytes = 0;
	double cpu_seconds = 0;
};

// Every family, with HELP and TYPE, in the order of docs/metrics.md.
std::vector<prometheus::MetricFamily> families(const Values &v);

// How many series (samples, with each histogram bucket, _sum and _count)
// a set of families holds: what the cardinality tests count.
size_t series_count(const std::vector<prometheus::MetricFamily> &f);

} // namespace rcvgov::metrics
