#include "tracker/select_oldest.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <random>

namespace rcvgov::tracker::detail {
namespace {

using Out = std::vector<Candidate, CountingAllocator<Candidate>>;
using Hist = std::vector<uint64_t, CountingAllocator<uint64_t>>;

bool older(const Candidate &a, const Candidate &b)
{
	return a.since != b.since ? a.since < b.since : a.index < b.index;
}

// The selection must be a prefix of the fully sorted order that reaches
// `needed` (or everything), in that order.
void check(std::vector<Candidate> cands, uint64_t needed)
{
	size_t bytes = 0;
	Out out{CountingAllocator<Candidate>(&bytes)};
	Hist hist{CountingAllocator<uint64_t>(&bytes)};
	select_oldest(cands, needed, out, hist);
	std::sort(cands.begin(), cands.end(), older);
	uint64_t sum = 0;
	size_t reach = 0;
	while (reach < cands.size() && sum < needed)
		sum += cands[reach++].usage;
	ASSERT_GE(out.size(), reach) << "needed " << needed;
	ASSERT_LE(out.size(), cands.size());
	for (size_t k = 0; k < out.size(); ++k) {
		ASSERT_EQ(out[k].index, cands[k].index) << "position " << k;
		ASSERT_EQ(out[k].since, cands[k].since);
	}
}

TEST(TrackerSelectOldest, MatchesAFullSort)
{
	std::mt19937_64 rng(1);
	for (int round = 0; round < 200; ++round) {
		std::vector<Candidate> c(1 + rng() % 3000);
		const int64_t spread = int64_t(1) << (rng() % 50);
		for (uint32_t i = 0; i < c.size(); ++i) {
			const bool unaged = rng() % 20 == 0;
			c[i] = Candidate{unaged ? INT64_MIN
						: int64_t(rng() % uint64_t(spread)) - spread / 2,
					 i, uint32_t(rng() % 100000)};
		}
		uint64_t total = 0;
		for (const auto &x : c)
			total += x.usage;
		check(c, rng() % (total + total / 4 + 1));
	}
}

TEST(TrackerSelectOldest, EdgeCases)
{
	check({}, 100);
	check({{5, 0, 10}}, 0);
	check({{5, 0, 10}, {5, 1, 10}, {5, 2, 10}}, 15); // one age for all
	check({{INT64_MIN, 3, 0}, {INT64_MIN, 1, 5}, {7, 2, 1}}, 4);
	check({{INT64_MAX, 0, 1}, {INT64_MIN + 1, 1, 1}, {0, 2, 1}}, 3); // the whole range
}

} // namespace
} // namespace rcvgov::tracker::detail
