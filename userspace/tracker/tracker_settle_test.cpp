// The enforcement state: settle() outcomes, inflation clamps, and the rules
// that keep progressing readers from being reclaimed.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>

#include "tracker/consistency.h"
#include "tracker/tracker.h"

namespace rcvgov::tracker {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;
using ::testing::ElementsAre;
using ::testing::IsEmpty;

class TrackerSettle : public ::testing::Test {
protected:
	void SetUp() override
	{
		Limits l;
		l.max = 1000;
		l.low_water = 750;
		l.per_service = 1000000;
		l.per_peer = 1000000;
		l.per_socket = 1000000;
		ASSERT_EQ(l.min_stall, seconds(2)) << "the default";
		ASSERT_THAT(t.set_limits(l), IsEmpty());
		web = *t.create_account(t.system(), ScopeKind::Service, "web");
	}
	void TearDown() override { EXPECT_THAT(check_consistency(t), IsEmpty()); }

	void set_limits(const std::function<void(Limits &)> &f)
	{
		Limits l = t.limits();
		f(l);
		ASSERT_THAT(t.set_limits(l), IsEmpty());
	}
	// A socket holding `usage` bytes, its reader stalled for `stall`
	// (0: progressing).
	ParticipantId sock(AccountId a, uint64_t cookie, uint64_t usage, Duration stall,
			   bool inflated = false, uint64_t entitlement = 0)
	{
		auto p = t.create_participant(a, cookie);
		EXPECT_TRUE(p) << to_string(p.error());
		EXPECT_TRUE(t.set_usage(*p, Usage{usage, entitlement, stall, inflated}).ok());
		return *p;
	}
	EnforceState state(uint64_t cookie) { return t.participant(id(cookie))->state; }
	ParticipantId id(uint64_t cookie) { return *t.find_participant(cookie); }
	uint64_t pending() { return t.scope(t.system())->pending; }
	static std::vector<uint64_t> cookies(const std::vector<Decision> &ds, Action only)
	{
		std::vector<uint64_t> c;
		for (const Decision &d : ds)
			if (d.action == only)
				c.push_back(d.cookie);
		return c;
	}
	// One reclaim of socket 1 (600 bytes, stalled 10 s) out of 1100.
	Decision one_reclaim()
	{
		sock(web, 1, 600, seconds(10));
		sock(web, 2, 500, seconds(3));
		auto ds = t.decide();
		EXPECT_EQ(ds.size(), 1u);
		EXPECT_EQ(ds[0].cookie, 1u);
		EXPECT_EQ(ds[0].action, Action::Reclaim);
		EXPECT_EQ(state(1), EnforceState::PendingReclaim);
		EXPECT_EQ(pending(), 600u);
		EXPECT_EQ(t.count_in_state(EnforceState::PendingReclaim), 1u);
		return ds.at(0);
	}
	// One clamp of socket 7 (over its own limit).
	Decision one_clamp()
	{
		set_limits([](Limits &l) { l.per_socket = 100; });
		sock(web, 7, 300, Duration::zero());
		auto ds = t.decide();
		EXPECT_EQ(ds.size(), 1u);
		EXPECT_EQ(ds[0].action, Action::Clamp);
		EXPECT_EQ(ds[0].reason, Reason::OverLimit);
		EXPECT_EQ(state(7), EnforceState::PendingClamp);
		return ds.at(0);
	}

	ManualClock clock;
	Tracker t{clock};
	AccountId web;
};

TEST_F(TrackerSettle, ClampDoneIsNeverClampedAgain)
{
	const Decision d = one_clamp();
	EXPECT_EQ(t.count_in_state(EnforceState::PendingClamp), 1u);
	EXPECT_TRUE(t.settle(d, Outcome::Done).ok());
	EXPECT_EQ(state(7), EnforceState::Clamped);
	EXPECT_TRUE(t.participant(id(7))->clamp_held);
	EXPECT_EQ(t.count_in_state(EnforceState::Clamped), 1u);
	EXPECT_EQ(t.count_in_state(EnforceState::PendingClamp), 0u);
	EXPECT_EQ(t.stats().settled_done, 1u);
	EXPECT_THAT(t.cookies_in_state(EnforceState::Clamped), ElementsAre(7));
	EXPECT_THAT(t.cookies_clamped(), ElementsAre(7));
	for (int k = 0; k < 5; ++k) {
		clock.advance(seconds(6));
		ASSERT_TRUE(t.set_usage(id(7), Usage{400, 0, std::nullopt}).ok());
		EXPECT_THAT(t.decide(), IsEmpty());
	}
	EXPECT_EQ(state(7), EnforceState::Clamped);
	EXPECT_EQ(t.stats().pending_expired, 0u);
}

TEST_F(TrackerSettle, SettlingTwiceOrTheWrongActionIsRefused)
{
	const Decision d = one_clamp();
	ASSERT_TRUE(t.settle(d, Outcome::Done).ok());
	EXPECT_EQ(t.settle(d, Outcome::Done), Status(Error::NotPending));
	EXPECT_EQ(t.settle(d, Outcome::Skipped), Status(Error::NotPending));
	Decision wrong = d;
	wrong.action = Action::Reclaim;
	EXPECT_EQ(t.settle(wrong, Outcome::Done), Status(Error::NotPending));
	EXPECT_EQ(state(7), EnforceState::Clamped) << "nothing changed";
	EXPECT_EQ(t.stats().invalid_settlements, 3u);
	EXPECT_EQ(t.stats().settled_done, 1u);
	EXPECT_EQ(t.stats().settled_skipped, 0u);
}

TEST_F(TrackerSettle, StaleHandleChangesNothing)
{
	const Decision d = one_reclaim();
	EXPECT_EQ(t.settle(Decision{}, Outcome::Done), Status(Error::StaleHandle));
	Decision other = d;
	other.cookie = 99;
	EXPECT_EQ(t.settle(other, Outcome::Done), Status(Error::StaleHandle));
	ASSERT_TRUE(t.remove_participant(d.participant).ok()); // the socket closed
	EXPECT_EQ(pending(), 0u);
	EXPECT_EQ(t.settle(d, Outcome::Done), Status(Error::StaleHandle));
	EXPECT_EQ(t.stats().stale_handles, 3u);
	EXPECT_EQ(t.stats().settled_done, 0u);
	EXPECT_EQ(t.count_in_state(EnforceState::PendingReclaim), 0u);
	EXPECT_EQ(t.count_in_state(EnforceState::None), 1u);
	EXPECT_THAT(t.cookies(), ElementsAre(2));
}

TEST_F(TrackerSettle, ClampDryRunIsWouldClampLoggedOnce)
{
	const Decision d = one_clamp();
	ASSERT_TRUE(t.settle(d, Outcome::DryRun).ok());
	EXPECT_EQ(state(7), EnforceState::WouldClamp);
	EXPECT_FALSE(t.participant(id(7))->clamp_held);
	EXPECT_THAT(t.cookies_clamped(), IsEmpty()) << "nothing to restore";
	EXPECT_EQ(t.stats().settled_dry_run, 1u);
	clock.advance(seconds(60));
	EXPECT_THAT(t.decide(), IsEmpty());
	EXPECT_EQ(t.count_in_state(EnforceState::WouldClamp), 1u);
}

TEST_F(TrackerSettle, DestroyedKeepsItsBytesPendingUntilRemoved)
{
	const Decision d = one_reclaim();
	ASSERT_TRUE(t.settle(d, Outcome::Done).ok());
	EXPECT_EQ(state(1), EnforceState::Destroyed);
	EXPECT_EQ(pending(), 600u);
	clock.advance(seconds(4));
	ASSERT_TRUE(t.set_usage(id(1), Usage{650, 0, seconds(14)}).ok()); // still reported
	EXPECT_EQ(pending(), 650u) << "pending bytes follow the socket's usage";
	EXPECT_THAT(t.decide(), IsEmpty());
	ASSERT_TRUE(t.remove_participant(id(1)).ok()); // gone from the table
	EXPECT_EQ(pending(), 0u);
	EXPECT_EQ(t.count_in_state(EnforceState::Destroyed), 0u);
	EXPECT_EQ(t.stats().pending_expired, 0u);
}

TEST_F(TrackerSettle, DestroyedButStillThereExpiresAfterPendingTimeout)
{
	const Decision d = one_reclaim();
	clock.advance(seconds(1));
	ASSERT_TRUE(t.settle(d, Outcome::Done).ok());
	clock.advance(seconds(4)); // 5 s after the decision, 4 s after settling
	EXPECT_THAT(t.decide(), IsEmpty());
	EXPECT_EQ(state(1), EnforceState::Destroyed);
	clock.advance(seconds(1));
	const auto ds = t.decide();
	EXPECT_EQ(t.stats().pending_expired, 1u);
	EXPECT_THAT(cookies(ds, Action::Reclaim), ElementsAre(1)) << "counts again: again";
}

TEST_F(TrackerSettle, ReclaimDryRunHoldsUntilPendingTimeoutThenLogsAgain)
{
	const Decision d = one_reclaim();
	ASSERT_TRUE(t.settle(d, Outcome::DryRun).ok());
	EXPECT_EQ(state(1), EnforceState::WouldReclaim);
	EXPECT_EQ(pending(), 600u) << "as a real run would";
	clock.advance(seconds(4));
	EXPECT_THAT(t.decide(), IsEmpty());
	clock.advance(seconds(1));
	const auto ds = t.decide();
	EXPECT_THAT(cookies(ds, Action::Reclaim), ElementsAre(1));
	EXPECT_EQ(t.stats().pending_expired, 0u) << "a dry run's hold ends, nothing failed";
	EXPECT_EQ(t.stats().settled_dry_run, 1u);
}

TEST_F(TrackerSettle, FailedIsNotDecidedAgainBeforePendingTimeout)
{
	const Decision d = one_reclaim();
	clock.advance(seconds(1));
	ASSERT_TRUE(t.settle(d, Outcome::Failed).ok());
	EXPECT_EQ(state(1), EnforceState::Failed);
	EXPECT_EQ(pending(), 0u) << "released at once";
	EXPECT_EQ(t.stats().settled_failed, 1u);
	// Still over max: the next stalled socket goes instead.
	auto ds = t.decide();
	EXPECT_THAT(cookies(ds, Action::Reclaim), ElementsAre(2));
	ASSERT_TRUE(t.settle(ds[0], Outcome::Skipped).ok());
	clock.advance(seconds(4)); // 5 s after the decision, 4 s after failing
	for (const Decision &x : t.decide()) {
		EXPECT_NE(x.cookie, 1u);
		ASSERT_TRUE(t.settle(x, Outcome::Skipped).ok());
	}
	clock.advance(seconds(1));
	ds = t.decide();
	EXPECT_EQ(t.count_in_state(EnforceState::Failed), 0u);
	EXPECT_THAT(cookies(ds, Action::Reclaim), ElementsAre(1));
}

TEST_F(TrackerSettle, SkippedAndGoneAreDecidedAfreshNextRound)
{
	Decision d = one_reclaim();
	ASSERT_TRUE(t.settle(d, Outcome::Skipped).ok());
	EXPECT_EQ(state(1), EnforceState::None);
	EXPECT_EQ(pending(), 0u);
	auto ds = t.decide();
	ASSERT_THAT(cookies(ds, Action::Reclaim), ElementsAre(1));
	ASSERT_TRUE(t.settle(ds[0], Outcome::Gone).ok());
	EXPECT_EQ(state(1), EnforceState::None);
	EXPECT_EQ(pending(), 0u);
	EXPECT_EQ(t.stats().settled_skipped, 1u);
	EXPECT_EQ(t.stats().settled_gone, 1u);
	EXPECT_EQ(t.stats().reclaim_decisions, 2u);
}

TEST_F(TrackerSettle, AnUnsettledDecisionStillExpires)
{
	one_clamp();
	clock.advance(seconds(5));
	const auto ds = t.decide();
	EXPECT_EQ(t.stats().pending_expired, 1u);
	EXPECT_THAT(cookies(ds, Action::Clamp), ElementsAre(7)) << "re-issued";
}

TEST_F(TrackerSettle, AClampedSocketMayBeReclaimedAndKeepsItsClamp)
{
	// Over max with one socket whose stall is below min_stall: a clamp.
	sock(web, 1, 1100, seconds(1));
	auto ds = t.decide();
	ASSERT_EQ(ds.size(), 1u);
	EXPECT_EQ(ds[0].action, Action::Clamp) << "stalled 1 s < min_stall: not a victim";
	EXPECT_EQ(ds[0].scope, ScopeKind::System);
	EXPECT_EQ(t.stats().system_shortfall, 350u);
	ASSERT_TRUE(t.settle(ds[0], Outcome::Done).ok());
	clock.advance(seconds(2)); // stalled 3 s now
	ds = t.decide();
	ASSERT_EQ(ds.size(), 1u);
	EXPECT_EQ(ds[0].action, Action::Reclaim);
	EXPECT_EQ(ds[0].age, Duration(seconds(3)));
	EXPECT_TRUE(t.participant(id(1))->clamp_held);
	EXPECT_THAT(t.cookies_clamped(), ElementsAre(1)) << "restored at shutdown";
	ASSERT_TRUE(t.settle(ds[0], Outcome::Skipped).ok());
	EXPECT_EQ(state(1), EnforceState::Clamped) << "back to its clamp, not to None";
}

TEST_F(TrackerSettle, InflatedSocketGetsOneClamp)
{
	sock(web, 1, 500, Duration::zero(), true, 1000); // within 200% of 1000
	sock(web, 2, 500, Duration::zero(), false, 1000);
	auto ds = t.decide();
	ASSERT_EQ(ds.size(), 1u);
	EXPECT_EQ(ds[0].cookie, 1u);
	EXPECT_EQ(ds[0].action, Action::Clamp);
	EXPECT_EQ(ds[0].reason, Reason::Inflated);
	EXPECT_EQ(ds[0].scope, ScopeKind::Socket);
	EXPECT_TRUE(ds[0].account.is_null());
	EXPECT_EQ(ds[0].limit, 1000u) << "its entitlement";
	EXPECT_EQ(ds[0].scope_usage, 500u);
	EXPECT_EQ(t.stats().inflation_clamp_decisions, 1u);
	EXPECT_TRUE(t.participant(id(1))->inflated);
	ASSERT_TRUE(t.settle(ds[0], Outcome::Done).ok());
	for (int k = 0; k < 4; ++k) {
		clock.advance(seconds(3));
		ASSERT_TRUE(t.set_usage(id(1), Usage{600, 1000, std::nullopt, true}).ok());
		EXPECT_THAT(t.decide(), IsEmpty());
	}
	EXPECT_EQ(t.stats().clamp_decisions, 1u);
}

TEST_F(TrackerSettle, InflationThatEndsBeforeDecideIsNotClamped)
{
	const ParticipantId p = sock(web, 1, 500, Duration::zero(), true, 1000);
	ASSERT_TRUE(t.set_usage(p, Usage{500, 1000, std::nullopt, false}).ok());
	EXPECT_THAT(t.decide(), IsEmpty());
	ASSERT_TRUE(t.set_usage(p, Usage{500, 1000, std::nullopt, true}).ok());
	EXPECT_EQ(t.decide().size(), 1u);
}

TEST_F(TrackerSettle, AllowlistedInflatedSocketIsLeftAlone)
{
	const AccountId safe =
		*t.create_account(t.system(), ScopeKind::Service, "backup", {.allowlisted = true});
	sock(safe, 1, 500, Duration::zero(), true, 1000);
	EXPECT_THAT(t.decide(), IsEmpty());
	EXPECT_EQ(t.stats().inflation_clamp_decisions, 0u);
}

TEST_F(TrackerSettle, OverLimitAndInflatedIsAnOverLimitClamp)
{
	set_limits([](Limits &l) {
		l.max = 1000000;
		l.low_water = 750000;
	});
	sock(web, 1, 2500, Duration::zero(), true, 1000);
	const auto ds = t.decide();
	ASSERT_EQ(ds.size(), 1u);
	EXPECT_EQ(ds[0].reason, Reason::OverLimit);
	EXPECT_EQ(ds[0].limit, 2000u);
	EXPECT_EQ(t.stats().inflation_clamp_decisions, 0u);
}

// 5 progressing readers holding most of the memory, 30 stalled sockets.
class TrackerProgress : public TrackerSettle {
protected:
	void populate(uint64_t progressing_base, uint64_t stalled_each)
	{
		set_limits([](Limits &l) {
			l.max = 100000;
			l.low_water = 75000;
		});
		for (uint64_t c = 1; c <= 5; ++c) // 100 to 104: largest first is 100
			sock(web, 99 + c, progressing_base - 2000 * (c - 1), Duration::zero());
		for (uint64_t c = 1; c <= 30; ++c) // stalled 3 s (cookie 1) to 32 s (30)
			sock(web, c, stalled_each, seconds(2 + c));
	}
};

TEST_F(TrackerProgress, OnlyStalledSocketsAreReclaimedOldestStallFirst)
{
	populate(14000, 2000); // 50000 + 60000 = 110000: 35000 to free
	const auto ds = t.decide();
	EXPECT_THAT(cookies(ds, Action::Clamp), IsEmpty()) << "the stalled are enough";
	std::vector<uint64_t> want;
	for (uint64_t c = 30; c >= 13; --c) // 18 x 2000 = 36000
		want.push_back(c);
	EXPECT_EQ(cookies(ds, Action::Reclaim), want);
	for (uint64_t c = 100; c <= 104; ++c)
		EXPECT_EQ(state(c), EnforceState::None);
	EXPECT_FALSE(t.system_reclaiming());
}

TEST_F(TrackerProgress, ProgressingReadersAreClampedWhenTheStalledAreNotEnough)
{
	populate(24000, 1000); // 100000 + 30000: 55000 to free, 30000 stalled
	auto ds = t.decide();
	std::vector<uint64_t> want;
	for (uint64_t c = 30; c >= 1; --c)
		want.push_back(c);
	EXPECT_EQ(cookies(ds, Action::Reclaim), want);
	// 100000 left, all progressing: clamp 24000, 22000 -> 54000 unclamped.
	EXPECT_THAT(cookies(ds, Action::Clamp), ElementsAre(100, 101));
	for (const Decision &d : ds)
		EXPECT_EQ(d.scope, ScopeKind::System);
	EXPECT_EQ(t.stats().system_shortfall, 25000u);
	EXPECT_TRUE(t.system_reclaiming());
	for (const Decision &d : ds)
		ASSERT_TRUE(t.settle(d, Outcome::Done).ok());
	for (uint64_t c = 1; c <= 30; ++c)
		ASSERT_TRUE(t.remove_participant(id(c)).ok());
	clock.advance(seconds(30));
	EXPECT_THAT(t.decide(), IsEmpty()) << "clamped readers are not clamped again";
	EXPECT_EQ(t.count_in_state(EnforceState::Clamped), 2u);
}

TEST_F(TrackerProgress, AScopeOfProgressingReadersIsClampedNeverReclaimed)
{
	set_limits([](Limits &l) {
		l.max = 1000000;
		l.low_water = 750000;
		l.overrides.push_back({"peer", "192.0.2.0/24", 1000});
		l.escalate_after = Duration::zero(); // straight to the reclaim phase
	});
	const AccountId peer = *t.create_account(web, ScopeKind::Peer, "192.0.2.0/24");
	sock(peer, 1, 500, Duration::zero());
	sock(peer, 2, 400, Duration::zero());
	sock(peer, 3, 300, Duration::zero());
	auto ds = t.decide();
	EXPECT_TRUE(t.scope(peer)->reclaiming);
	EXPECT_THAT(cookies(ds, Action::Reclaim), IsEmpty());
	EXPECT_THAT(cookies(ds, Action::Clamp), ElementsAre(1)); // 1200 -> 700 unclamped
	for (const Decision &d : ds) {
		EXPECT_EQ(d.scope, ScopeKind::Peer);
		ASSERT_TRUE(t.settle(d, Outcome::Done).ok());
	}
	for (int k = 0; k < 20; ++k) {
		clock.advance(seconds(3));
		for (uint64_t c = 1; c <= 3; ++c) // the readers keep reading
			ASSERT_TRUE(t.set_usage(id(c), Usage{c == 3 ? 800u : 500u, 0, std::nullopt})
					    .ok());
		ds = t.decide();
		EXPECT_THAT(cookies(ds, Action::Reclaim), IsEmpty()) << "round " << k;
		for (const Decision &d : ds)
			ASSERT_TRUE(t.settle(d, Outcome::Done).ok());
	}
	EXPECT_EQ(state(3), EnforceState::Clamped) << "the unclamped rest grew past low water";
	EXPECT_EQ(state(2), EnforceState::None);
}

TEST_F(TrackerProgress, BelowMinStallIsNotReclaimed)
{
	set_limits([](Limits &l) { l.min_stall = seconds(5); });
	sock(web, 1, 600, milliseconds(4999));
	sock(web, 2, 600, seconds(5));
	const auto ds = t.decide();
	EXPECT_THAT(cookies(ds, Action::Reclaim), ElementsAre(2));
	EXPECT_THAT(cookies(ds, Action::Clamp), IsEmpty()) << "1200 - 600 is within low water";
}

TEST(TrackerEnforceNames, EveryValueHasAName)
{
	EXPECT_EQ(to_string(EnforceState::WouldReclaim), "would-reclaim");
	EXPECT_EQ(to_string(EnforceState::PendingClamp), "pending-clamp");
	EXPECT_EQ(to_string(Outcome::DryRun), "dry-run");
	EXPECT_EQ(to_string(Reason::Inflated), "inflated");
	EXPECT_EQ(to_string(Error::NotPending),
		  "no decision of this action is pending for this participant");
}

} // namespace
} // namespace rcvgov::tracker
