// Rate-limited reporting of events the kernel side could not send: lost
// (ring buffer full) or held back (over the lifecycle budget). The first
// loss is reported at once; after that at most one report per period,
// with everything lost since the previous report. Pure: the caller reads
// the counters and logs.
#pragma once

#include <cstdint>
#include <optional>

namespace rcvgov {

class LossReport {
public:
	static constexpr uint64_t kDefaultPeriodNs = 10'000'000'000ULL;

	explicit LossReport(uint64_t period_ns = kDefaultPeriodNs) : period_ns_(period_ns) {}

	struct Delta {
		uint64_t dropped = 0;	  // since the previous report
		uint64_t over_budget = 0; // since the previous report
		uint64_t over_ns = 0;	  // time since the previous report (0: first)
	};
	// Cumulative counters as of now_ns (CLOCK_MONOTONIC). Returns what to
	// report now, if anything.
	std::optional<Delta> update(uint64_t dropped_total, uint64_t over_budget_total,
				    uint64_t now_ns);

private:
	uint64_t period_ns_;
	uint64_t dropped_ = 0;	   // totals at the previous report
	uint64_t over_budget_ = 0; // totals at the previous report
	uint64_t reported_ns_ = 0; // 0: never reported
};

} // namespace rcvgov
