#include "governor/reaction.h"

#include <gtest/gtest.h>

namespace rcvgov::governor {
namespace {

TEST(ReactionStats, EmptyReportsNothing)
{
	ReactionStats r;
	auto s = r.summary(ReactionPath::Event);
	EXPECT_EQ(s.samples, 0u);
	EXPECT_EQ(s.p99_us, 0u);
}

TEST(ReactionStats, PercentilesByNearestRank)
{
	ReactionStats r;
	// 1..100 ms, shuffled order does not matter.
	for (uint64_t ms = 100; ms >= 1; --ms)
		r.record(ReactionPath::Event, 1'000'000'000, 1'000'000'000 + ms * 1'000'000);
	auto s = r.summary(ReactionPath::Event);
	EXPECT_EQ(s.samples, 100u);
	EXPECT_EQ(s.p50_us, 50'000u);
	EXPECT_EQ(s.p99_us, 99'000u);
	EXPECT_EQ(s.max_us, 100'000u);
	// The other path is separate.
	EXPECT_EQ(r.summary(ReactionPath::Round).samples, 0u);
}

TEST(ReactionStats, WindowKeepsTheLatestSamplesButMaxIsForever)
{
	ReactionStats r;
	r.record(ReactionPath::Round, 0 + 1, 1 + 900'000'000); // 900 ms, once
	for (size_t i = 0; i < ReactionStats::kWindow; ++i)
		r.record(ReactionPath::Round, 1000, 1000 + 2'000'000); // 2 ms
	auto s = r.summary(ReactionPath::Round);
	EXPECT_EQ(s.samples, ReactionStats::kWindow + 1);
	EXPECT_EQ(s.p99_us, 2000u);
	EXPECT_EQ(s.max_us, 900'000u);
}

TEST(ReactionStats, DoneBeforeTriggerIsZeroNotHuge)
{
	ReactionStats r;
	r.record(ReactionPath::Event, 5'000'000, 4'000'000);
	EXPECT_EQ(r.summary(ReactionPath::Event).max_us, 0u);
}

} // namespace
} // namespace rcvgov::governor
