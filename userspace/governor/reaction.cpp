#include "governor/reaction.h"

#include <algorithm>

namespace rcvgov::governor {

void ReactionStats::record(ReactionPath path, uint64_t trigger_ns, uint64_t done_ns)
{
	Series &s = series_[static_cast<size_t>(path)];
	// A trigger stamped after the result (clocks never go back, but a
	// caller may pass 0 for "unknown") counts as no delay at all.
	const uint64_t us = done_ns > trigger_ns ? (done_ns - trigger_ns) / 1000 : 0;
	if (s.ring.size() < kWindow)
		s.ring.push_back(us);
	else
		s.ring[s.next] = us;
	s.next = (s.next + 1) % kWindow;
	++s.samples;
	s.max_us = std::max(s.max_us, us);
}

ReactionSummary ReactionStats::summary(ReactionPath path) const
{
	const Series &s = series_[static_cast<size_t>(path)];
	ReactionSummary r;
	r.samples = s.samples;
	r.max_us = s.max_us;
	if (s.ring.empty())
		return r;
	std::vector<uint64_t> v = s.ring;
	// Nearest rank: the smallest sample with at least p% at or below it.
	auto rank = [&](unsigned pct) {
		size_t k = (v.size() * pct + 99) / 100;
		k = std::clamp<size_t>(k, 1, v.size()) - 1;
		std::nth_element(v.begin(), v.begin() + static_cast<long>(k), v.end());
		return v[k];
	};
	r.p50_us = rank(50);
	r.p99_us = rank(99);
	return r;
}

} // namespace rcvgov::governor
