#include "tracker/consistency.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace rcvgov::tracker {

// Reaches into the tracker to break it on purpose: the checker must see it.
struct TrackerTestAccess {
	static void add_account_usage(Tracker &t, AccountId a, uint64_t d)
	{
		t.accounts_[a.index].usage += d;
	}
	static void set_participant_usage(Tracker &t, ParticipantId p, uint32_t u)
	{
		t.participants_[p.index].usage = u;
	}
	static void detach_from_list(Tracker &t, AccountId a)
	{
		t.accounts_cold_[a.index].first_participant = UINT32_MAX;
	}
	static void make_cycle(Tracker &t, AccountId a)
	{
		t.accounts_cold_[a.index].first_child = a.index;
	}
	static constexpr uint32_t kGenerationLimit = Tracker::kGenerationLimit;
	static void set_generation(Tracker &t, ParticipantId p, uint32_t gen)
	{
		auto &s = t.participants_[p.index];
		const uint32_t low = (1u << Tracker::kGenShift) - 1;
		s.gen_flags = gen << Tracker::kGenShift | (s.gen_flags & low);
	}
	static void set_state_behind(Tracker &t, ParticipantId p, EnforceState st)
	{
		auto &s = t.participants_[p.index];
		s.gen_flags =
			(s.gen_flags & ~Tracker::kStateMask) | uint32_t(st) << Tracker::kStateShift;
	}
	static void forget_over(Tracker &t, ParticipantId p)
	{
		t.participants_[p.index].clear(Tracker::kInOverList);
	}
};

namespace {

using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::Not;

class TrackerConsistency : public ::testing::Test {
protected:
	void SetUp() override
	{
		s = *t.create_account(t.system(), ScopeKind::Service, "web");
		p = *t.create_account(s, ScopeKind::Peer, "192.0.2.0/24");
		a = *t.create_participant(p, 1);
		ASSERT_TRUE(t.set_usage(a, Usage{1000, 0, std::chrono::seconds(1)}).ok());
		ASSERT_THAT(check_consistency(t), IsEmpty());
	}
	std::string report() const
	{
		std::string all;
		for (const auto &e : check_consistency(t))
			all += e + "\n";
		return all;
	}

	ManualClock clock;
	Tracker t{clock};
	AccountId s, p;
	ParticipantId a;
};

TEST_F(TrackerConsistency, ReportsAWrongTotal)
{
	TrackerTestAccess::add_account_usage(t, s, 5);
	EXPECT_THAT(report(), HasSubstr("account 1 (service 'web'): usage 1005 but its "
					"participants hold 1000"));
}

TEST_F(TrackerConsistency, ReportsAParticipantWhoseUsageChangedBehindTheTotals)
{
	TrackerTestAccess::set_participant_usage(t, a, 7);
	EXPECT_THAT(report(), HasSubstr("usage 1000 but its participants hold 7"));
}

TEST_F(TrackerConsistency, ReportsABrokenList)
{
	TrackerTestAccess::detach_from_list(t, p);
	EXPECT_THAT(report(), HasSubstr("live but in no account's list"));
}

TEST_F(TrackerConsistency, ReportsACycle)
{
	TrackerTestAccess::make_cycle(t, p);
	EXPECT_THAT(report(), Not(IsEmpty()));
}

TEST_F(TrackerConsistency, ReportsAMissingWorkListEntry)
{
	Limits l;
	l.per_socket = 500;
	ASSERT_THAT(t.set_limits(l), IsEmpty());
	TrackerTestAccess::forget_over(t, a);
	EXPECT_THAT(report(), HasSubstr("over its socket limit but not on the work list"));
}

TEST_F(TrackerConsistency, ReportsAStateChangedBehindTheCounters)
{
	TrackerTestAccess::set_state_behind(t, a, EnforceState::Clamped);
	const std::string r = report();
	EXPECT_THAT(r, HasSubstr("clamped without a clamp held"));
	EXPECT_THAT(r, HasSubstr("state none: counts 1 participants, has 0"));
	EXPECT_THAT(r, HasSubstr("state clamped: counts 0 participants, has 1"));
}

TEST_F(TrackerConsistency, ReportsPendingBytesBehindTheTotals)
{
	TrackerTestAccess::set_state_behind(t, a, EnforceState::WouldReclaim);
	const std::string r = report();
	EXPECT_THAT(r, HasSubstr("pending 0 but its pending participants hold 1000"));
	EXPECT_THAT(r, HasSubstr("would-reclaim but its deadline is not on the deadline list"));
}

TEST(TrackerGenerations, AnExhaustedSlotIsRetiredNotReused)
{
	ManualClock clock;
	Tracker t(clock);
	auto a = *t.create_participant(t.system(), 1);
	TrackerTestAccess::set_generation(t, a, TrackerTestAccess::kGenerationLimit - 1);
	a = *t.find_participant(1);
	ASSERT_TRUE(t.remove_participant(a).ok());
	EXPECT_EQ(t.stats().retired_slots, 1u);
	auto b = *t.create_participant(t.system(), 2);
	EXPECT_NE(b.index, a.index);
	EXPECT_EQ(t.set_usage(a, Usage{}), Status(Error::StaleHandle));
	EXPECT_THAT(check_consistency(t), IsEmpty());
}

} // namespace
} // namespace rcvgov::tracker
