#include "core/loss_report.h"

#include <gtest/gtest.h>

namespace rcvgov {
namespace {

constexpr uint64_t kSec = 1'000'000'000ULL;

TEST(LossReport, NothingLostNothingReported)
{
	LossReport r;
	EXPECT_FALSE(r.update(0, 0, 1 * kSec));
	EXPECT_FALSE(r.update(0, 0, 100 * kSec));
}

TEST(LossReport, FirstAtOnceThenOncePerPeriodWithTheSum)
{
	LossReport r(10 * kSec);
	auto d = r.update(5, 0, 100 * kSec);
	ASSERT_TRUE(d);
	EXPECT_EQ(d->dropped, 5u);
	EXPECT_EQ(d->over_ns, 0u);
	// More loss within the period: held back, then summed.
	EXPECT_FALSE(r.update(7, 3, 101 * kSec));
	EXPECT_FALSE(r.update(9, 3, 109 * kSec));
	d = r.update(12, 4, 110 * kSec);
	ASSERT_TRUE(d);
	EXPECT_EQ(d->dropped, 7u);
	EXPECT_EQ(d->over_budget, 4u);
	EXPECT_EQ(d->over_ns, 10 * kSec);
	// No new loss: silent however long it is.
	EXPECT_FALSE(r.update(12, 4, 500 * kSec));
	d = r.update(12, 5, 501 * kSec);
	ASSERT_TRUE(d);
	EXPECT_EQ(d->dropped, 0u);
	EXPECT_EQ(d->over_budget, 1u);
}

} // namespace
} // namespace rcvgov
