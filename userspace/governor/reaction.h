// Reaction time: from the moment the kernel showed a socket passing its
// limit (the BPF event's timestamp, CLOCK_MONOTONIC) to the moment the
// enforcement was in place (the actuator returned Done). One series per
// path: "event" (targeted enforcement from the ring buffer) and "round"
// (the periodic snapshot round). The last kWindow samples of each give the
// percentiles; counts and the maximum cover the whole run.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <vector>

namespace rcvgov::governor {

enum class ReactionPath : uint8_t { Event, Round };

struct ReactionSummary {
	uint64_t samples = 0; // since start
	uint64_t p50_us = 0;  // over the last kWindow samples
	uint64_t p99_us = 0;
	uint64_t max_us = 0; // since start
};

class ReactionStats {
public:
	static constexpr size_t kWindow = 4096;

	void record(ReactionPath path, uint64_t trigger_ns, uint64_t done_ns);
	ReactionSummary summary(ReactionPath path) const;

private:
	struct Series {
		std::vector<uint64_t> ring; // microseconds
		size_t next = 0;
		uint64_t samples = 0;
		uint64_t max_us = 0;
	};
	std::array<Series, 2> series_;
};

} // namespace rcvgov::governor
