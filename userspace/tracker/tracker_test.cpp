#include "tracker/tracker.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <functional>

#include "tracker/consistency.h"

namespace rcvgov::tracker {
namespace {

using std::chrono::seconds;
using ::testing::ElementsAre;
using ::testing::IsEmpty;

class TrackerTest : public ::testing::Test {
protected:
	void SetUp() override
	{
		Limits l;
		l.max = 1000;
		l.low_water = 750;
		l.per_service = 100000;
		l.per_peer = 100000;
		l.per_socket = 100000;
		l.min_stall = seconds(1); // sock()'s default stall is a candidate
		ASSERT_THAT(t.set_limits(l), IsEmpty());
	}
	void TearDown() override { EXPECT_THAT(check_consistency(t), IsEmpty()); }

	void set_limits(const std::function<void(Limits &)> &f)
	{
		Limits l = t.limits();
		f(l);
		ASSERT_THAT(t.set_limits(l), IsEmpty());
	}
	AccountId account(AccountId parent, ScopeKind kind, std::string key, AccountOptions o = {})
	{
		auto a = t.create_account(parent, kind, key, o);
		EXPECT_TRUE(a) << to_string(a.error());
		return a ? *a : AccountId{};
	}
	AccountId service(std::string key, AccountOptions o = {})
	{
		return account(t.system(), ScopeKind::Service, key, o);
	}
	// A socket holding `usage` bytes whose reader has made no progress for
	// `age_s` (nullopt or 0: not stalled).
	ParticipantId sock(AccountId a, uint64_t cookie, uint64_t usage,
			   std::optional<int> age_s = 1, uint64_t entitlement = 0)
	{
		auto p = t.create_participant(a, cookie);
		EXPECT_TRUE(p) << to_string(p.error());
		std::optional<Duration> age;
		if (age_s)
			age = seconds(*age_s);
		EXPECT_TRUE(t.set_usage(*p, Usage{usage, entitlement, age}).ok());
		return *p;
	}
	static std::vector<uint64_t> cookies(const std::vector<Decision> &ds,
					     std::optional<Action> only = std::nullopt)
	{
		std::vector<uint64_t> c;
		for (const Decision &d : ds)
			if (!only || d.action == *only)
				c.push_back(d.cookie);
		return c;
	}
	static std::vector<uint64_t> sorted(std::vector<uint64_t> v)
	{
		std::sort(v.begin(), v.end());
		return v;
	}

	ManualClock clock;
	Tracker t{clock};
};

TEST_F(TrackerTest, OldestVictimChosen)
{
	const AccountId s = service("web");
	sock(s, 1, 400, 10);
	sock(s, 2, 400, 30);
	sock(s, 3, 300, 20);
	const auto ds = t.decide();
	ASSERT_EQ(ds.size(), 1u);
	EXPECT_EQ(ds[0].cookie, 2u);
	EXPECT_EQ(ds[0].action, Action::Reclaim);
	EXPECT_EQ(ds[0].scope, ScopeKind::System);
	EXPECT_EQ(ds[0].account, t.system());
	EXPECT_EQ(ds[0].limit, 1000u);
	EXPECT_EQ(ds[0].scope_usage, 1100u);
	EXPECT_EQ(ds[0].usage, 400u);
	EXPECT_EQ(ds[0].age, Duration(seconds(30)));
	EXPECT_TRUE(ds[0].unit.is_null());
	EXPECT_EQ(t.total(), 1100u) << "the tracker never acts; the socket still holds its memory";
	EXPECT_EQ(t.scope(t.system())->pending, 400u);
}

TEST_F(TrackerTest, ASocketThatIsNotStalledIsNeverReclaimed)
{
	const AccountId s = service("web");
	sock(s, 1, 400, 3600);
	sock(s, 2, 400, std::nullopt); // the old rule ranked it oldest
	sock(s, 3, 0, std::nullopt);   // holds nothing: never a victim
	sock(s, 4, 300, 10);
	const auto ds = t.decide();
	EXPECT_THAT(cookies(ds), ElementsAre(1));
	EXPECT_EQ(ds[0].age, Duration(seconds(3600)));
}

TEST_F(TrackerTest, HysteresisStopsAtLowWaterAndDoesNotFlap)
{
	const AccountId s = service("web");
	std::vector<ParticipantId> ps;
	for (uint64_t c = 1; c <= 10; ++c)
		ps.push_back(sock(s, c, 100, 100 - int(c))); // cookie 1 oldest
	EXPECT_THAT(t.decide(), IsEmpty()) << "at max is not over max";

	ps.push_back(sock(s, 11, 100, 0));
	auto ds = t.decide();
	// 1100 -> <= 750 needs 350 bytes: four sockets, oldest first.
	EXPECT_THAT(cookies(ds), ElementsAre(1, 2, 3, 4));
	EXPECT_FALSE(t.system_reclaiming());
	EXPECT_THAT(t.decide(), IsEmpty()) << "pending decisions are not issued again";

	for (int i = 0; i < 4; ++i) // the enforcer destroyed them
		ASSERT_TRUE(t.remove_participant(ps[i]).ok());
	EXPECT_EQ(t.total(), 700u);
	EXPECT_EQ(t.scope(t.system())->pending, 0u);

	// Hovering between low water and max: nothing, however often asked.
	for (int step = 0; step < 20; ++step) {
		ASSERT_TRUE(
			t.set_usage(ps[4], Usage{100 + 25 * uint64_t(step % 12), 0, seconds(50)})
				.ok());
		clock.advance(seconds(1));
		EXPECT_THAT(t.decide(), IsEmpty()) << "step " << step << " total " << t.total();
	}
	EXPECT_LE(t.total(), 1000u);
	EXPECT_GT(t.total(), 750u);

	// Past max again: reclamation resumes, oldest first, down to low water.
	ASSERT_TRUE(t.set_usage(ps[4], Usage{450, 0, seconds(50)}).ok()); // total 1050
	ds = t.decide();
	EXPECT_THAT(cookies(ds), ElementsAre(6, 7, 8)); // 1050 - 300 = 750
}

TEST_F(TrackerTest, PendingReclaimExpiresAndIsIssuedAgain)
{
	const AccountId s = service("web");
	sock(s, 1, 600, 20);
	sock(s, 2, 600, 10);
	EXPECT_THAT(cookies(t.decide()), ElementsAre(1));
	clock.advance(seconds(4));
	EXPECT_THAT(t.decide(), IsEmpty());
	clock.advance(seconds(1)); // pending_timeout: the socket is still there
	EXPECT_THAT(cookies(t.decide()), ElementsAre(1));
	EXPECT_EQ(t.stats().pending_expired, 1u);
}

TEST_F(TrackerTest, PeerOverItsLimitIsClampedWithoutTouchingOtherPeers)
{
	set_limits([](Limits &l) {
		l.max = 1000000;
		l.low_water = 750000;
		l.overrides.push_back({"peer", "192.0.2.0/24", 1000});
	});
	const AccountId s = service("web");
	const AccountId bad = account(s, ScopeKind::Peer, "192.0.2.0/24");
	const AccountId good = account(s, ScopeKind::Peer, "198.51.100.0/24");
	sock(bad, 1, 500, 30);
	sock(bad, 2, 600, 10);
	sock(bad, 3, 400, 20);
	sock(good, 4, 5000, 99);
	sock(good, 5, 4000, 98);
	EXPECT_EQ(t.scope(bad)->limit, 1000u);
	EXPECT_EQ(t.scope(good)->limit, 100000u);

	auto ds = t.decide();
	// Largest first until the unclamped rest (1500 - ...) is <= 750.
	EXPECT_THAT(cookies(ds), ElementsAre(2, 1));
	for (const Decision &d : ds) {
		EXPECT_EQ(d.action, Action::Clamp);
		EXPECT_EQ(d.scope, ScopeKind::Peer);
		EXPECT_EQ(d.account, bad);
		EXPECT_EQ(d.limit, 1000u);
		EXPECT_EQ(d.scope_usage, 1500u);
	}
	clock.advance(seconds(1));
	EXPECT_THAT(t.decide(), IsEmpty()) << "clamps are pending, nothing new";

	// Still over after escalate_after: reclaim inside the peer, oldest
	// first, until within its low water (750).
	clock.advance(seconds(9));
	ds = t.decide();
	EXPECT_THAT(cookies(ds), ElementsAre(1, 3));
	for (const Decision &d : ds) {
		EXPECT_EQ(d.action, Action::Reclaim);
		EXPECT_EQ(d.account, bad);
	}
	EXPECT_EQ(t.participant(*t.find_participant(4))->state, EnforceState::None);
	EXPECT_EQ(t.participant(*t.find_participant(5))->state, EnforceState::None);
}

TEST_F(TrackerTest, ScopeBackUnderItsLimitStopsActing)
{
	set_limits([](Limits &l) {
		l.max = 1000000;
		l.low_water = 750000;
		l.per_peer = 1000;
	});
	const AccountId p = account(service("web"), ScopeKind::Peer, "192.0.2.0/24");
	const ParticipantId a = sock(p, 1, 1200, 5);
	EXPECT_THAT(cookies(t.decide(), Action::Clamp), ElementsAre(1));
	ASSERT_TRUE(t.set_usage(a, Usage{900, 0, seconds(6)}).ok()); // the clamp worked
	clock.advance(seconds(30));
	EXPECT_THAT(t.decide(), IsEmpty());
	EXPECT_FALSE(t.scope(p)->reclaiming);
}

TEST_F(TrackerTest, AllowlistIsNeverChosen)
{
	set_limits([](Limits &l) { l.per_socket = 500; });
	const AccountId safe = service("backup", {.allowlisted = true});
	const AccountId safe_peer = account(safe, ScopeKind::Peer, "10.0.0.0/24");
	const AccountId web = service("web");
	sock(safe, 1, 300, 1000);
	sock(safe_peer, 2, 600, 900); // over its socket limit too
	sock(web, 3, 200, 5);
	sock(web, 4, 200, 1);
	auto ds = t.decide();
	// 1300 -> 750: the web sockets are all there is to take.
	EXPECT_THAT(cookies(ds), ElementsAre(3, 4));
	EXPECT_EQ(t.stats().system_shortfall, 1300u - 400 - 750);
	EXPECT_TRUE(t.system_reclaiming()) << "still above low water: keeps going";
	EXPECT_TRUE(t.scope(safe_peer)->allowlisted);

	// Lifting the allowlist makes its sockets candidates again.
	ASSERT_TRUE(t.set_allowlisted(safe, false).ok());
	ds = t.decide();
	EXPECT_THAT(cookies(ds, Action::Reclaim), ElementsAre(1));
	EXPECT_THAT(cookies(ds, Action::Clamp), ElementsAre(2));
}

TEST_F(TrackerTest, ChildrenAreReclaimedWithTheirParentNeverTheOtherWayRound)
{
	const AccountId s = service("web");
	const AccountId unit = account(s, ScopeKind::Peer, "unit", {.reclaim_as_unit = true});
	const AccountId child = account(unit, ScopeKind::Peer, "child");
	const AccountId other = account(s, ScopeKind::Peer, "other");
	const AccountId inner = account(other, ScopeKind::Peer, "inner", {.reclaim_as_unit = true});
	sock(child, 1, 200, 100); // oldest: brings down the whole unit
	sock(unit, 2, 100, 1);
	sock(child, 3, 0, std::nullopt); // not stalled: a unit never takes it
	sock(other, 4, 400, 50);
	sock(inner, 5, 300, 90); // second oldest: a unit of its own
	sock(inner, 6, 50, 2);
	auto ds = t.decide(); // 1050 -> <= 750
	EXPECT_THAT(sorted(cookies(ds)), ElementsAre(1, 2));
	for (const Decision &d : ds)
		EXPECT_EQ(d.unit, unit);
	EXPECT_EQ(t.scope(unit)->pending, 300u);

	// The parent of a unit is not taken when the unit goes.
	clock.advance(seconds(1));
	ASSERT_TRUE(t.set_usage(*t.find_participant(4), Usage{700, 0, seconds(1)}).ok());
	ds = t.decide(); // 1350 - 300 pending = 1050 -> <= 750: the inner unit
	EXPECT_THAT(sorted(cookies(ds)), ElementsAre(5, 6));
	EXPECT_EQ(ds[0].unit, inner);
	EXPECT_EQ(t.participant(*t.find_participant(4))->state, EnforceState::None);
}

TEST_F(TrackerTest, UnitsStayInsideTheScopeBeingRelieved)
{
	set_limits([](Limits &l) {
		l.max = 1000000;
		l.low_water = 750000;
		l.per_peer = 1000;
		l.escalate_after = Duration::zero();
	});
	const AccountId s = service("web", {.reclaim_as_unit = true});
	const AccountId p = account(s, ScopeKind::Peer, "192.0.2.0/24");
	const AccountId q = account(s, ScopeKind::Peer, "198.51.100.0/24");
	sock(p, 1, 1100, 10);
	sock(q, 2, 100, 10);
	auto ds = t.decide();
	EXPECT_THAT(cookies(ds), ElementsAre(1)) << "the peer's limit cannot take its service";
	EXPECT_TRUE(ds[0].unit.is_null());
}

TEST_F(TrackerTest, AbsoluteUpdatesAfterDeltas)
{
	const AccountId s = service("web");
	const AccountId p = account(s, ScopeKind::Peer, "192.0.2.0/24");
	auto a = *t.create_participant(p, 7);
	EXPECT_TRUE(t.claim(a, 100).ok());
	EXPECT_EQ(t.participant(a)->stalled_for, Duration::zero()) << "data waits from now";
	clock.advance(seconds(3));
	EXPECT_TRUE(t.claim(a, 50).ok());
	EXPECT_EQ(t.participant(a)->stalled_for, Duration(seconds(3)));
	EXPECT_TRUE(t.release(a, 30).ok());
	EXPECT_EQ(t.participant(a)->usage, 120u);
	EXPECT_EQ(t.participant(a)->stalled_for, Duration::zero()) << "the reader progressed";
	EXPECT_EQ(t.scope(p)->usage, 120u);
	EXPECT_EQ(t.scope(s)->usage, 120u);

	EXPECT_TRUE(t.set_usage(a, Usage{500, 4096, seconds(1)}).ok());
	EXPECT_EQ(t.participant(a)->usage, 500u);
	EXPECT_EQ(t.participant(a)->stalled_for, Duration(seconds(1)));
	EXPECT_EQ(t.total(), 500u);

	EXPECT_TRUE(t.claim(a, 10).ok());
	EXPECT_EQ(t.release(a, 1000), Status(Error::ReleaseBelowZero));
	EXPECT_EQ(t.participant(a)->usage, 0u);
	EXPECT_FALSE(t.participant(a)->stalled_for) << "an empty queue is not stalled";
	EXPECT_EQ(t.total(), 0u);
	EXPECT_EQ(t.stats().releases_below_zero, 1u);

	EXPECT_TRUE(t.set_usage(a, Usage{64, 4096, std::nullopt}).ok());
	EXPECT_EQ(t.scope(s)->usage, 64u);
}

TEST_F(TrackerTest, OverflowIsSaturatedAndCounted)
{
	const AccountId s = service("web");
	auto a = *t.create_participant(s, 1);
	EXPECT_EQ(t.set_usage(a, Usage{uint64_t(1) << 40, 0, std::nullopt}),
		  Status(Error::Overflow));
	EXPECT_EQ(t.participant(a)->usage, kMaxParticipantBytes);
	EXPECT_EQ(t.claim(a, UINT64_MAX), Status(Error::Overflow));
	EXPECT_EQ(t.participant(a)->usage, kMaxParticipantBytes);
	EXPECT_EQ(t.total(), kMaxParticipantBytes);
	EXPECT_EQ(t.stats().overflows, 2u);
}

TEST_F(TrackerTest, RemovalOfParticipantsAndAccountsMidReclamation)
{
	const AccountId s = service("web");
	const AccountId p = account(s, ScopeKind::Peer, "192.0.2.0/24");
	const AccountId q = account(s, ScopeKind::Peer, "198.51.100.0/24");
	std::vector<ParticipantId> ps;
	for (uint64_t c = 1; c <= 6; ++c)
		ps.push_back(sock(c % 2 ? p : q, c, 200, 100 - int(c))); // 1 oldest
	auto ds = t.decide(); // 1200 -> 750: three victims
	EXPECT_THAT(cookies(ds), ElementsAre(1, 2, 3));

	// One victim closes, the peer holding another disappears entirely
	// (with socket 5, which was never chosen).
	ASSERT_TRUE(t.remove_participant(ps[0]).ok());
	auto removed = t.remove_account(p);
	ASSERT_TRUE(removed);
	EXPECT_EQ(*removed, 2u); // 3 and 5
	EXPECT_EQ(t.remove_participant(ps[2]), Status(Error::StaleHandle));
	EXPECT_EQ(t.set_usage(ps[4], Usage{1, 0, std::nullopt}), Status(Error::StaleHandle));
	EXPECT_EQ(t.scope(p).error(), Error::StaleHandle);
	EXPECT_EQ(t.total(), 600u);
	EXPECT_EQ(t.scope(t.system())->pending, 200u); // socket 2, still pending
	EXPECT_THAT(t.decide(), IsEmpty());

	// Socket 2 goes too; the rest grows past max again.
	ASSERT_TRUE(t.remove_participant(ps[1]).ok());
	ASSERT_TRUE(t.set_usage(ps[3], Usage{900, 0, seconds(96)}).ok());
	ds = t.decide(); // 900 + 200 = 1100 -> <= 750
	EXPECT_THAT(cookies(ds), ElementsAre(4));
}

TEST_F(TrackerTest, SocketOverItsLimitIsClamped)
{
	set_limits([](Limits &l) {
		l.per_socket = 10000;
		l.max = 1000000;
		l.low_water = 750000;
		l.overrides.push_back({"socket", "3", 100});
	});
	const AccountId s = service("web");
	sock(s, 1, 2500, 1, 1000); // > 200% of its entitlement
	sock(s, 2, 2000, 1, 1000); // = 200%: fine
	sock(s, 3, 150, 1, 1000);  // its own override
	sock(s, 4, 12000, 1, 0);   // entitlement unknown: per_socket applies
	auto ds = t.decide();
	EXPECT_THAT(sorted(cookies(ds, Action::Clamp)), ElementsAre(1, 3, 4));
	for (const Decision &d : ds) {
		EXPECT_EQ(d.scope, ScopeKind::Socket);
		EXPECT_TRUE(d.account.is_null());
		const uint64_t want = d.cookie == 1 ? 2000 : d.cookie == 3 ? 100 : 10000;
		EXPECT_EQ(d.limit, want) << d.cookie;
	}
	EXPECT_THAT(t.decide(), IsEmpty());
	clock.advance(seconds(5));
	EXPECT_THAT(sorted(cookies(t.decide())), ElementsAre(1, 3, 4)) << "still over: again";
	// A raised entitlement (autotuning granted more) lifts the limit.
	ASSERT_TRUE(t.set_usage(*t.find_participant(1), Usage{2500, 2000, seconds(1)}).ok());
	clock.advance(seconds(5));
	EXPECT_THAT(sorted(cookies(t.decide())), ElementsAre(3, 4));
}

TEST_F(TrackerTest, StaleHandlesAreErrorsNeverAnotherObject)
{
	const AccountId s = service("web");
	auto a = *t.create_participant(s, 1);
	ASSERT_TRUE(t.remove_participant(a).ok());
	auto b = *t.create_participant(s, 2); // reuses the slot
	EXPECT_EQ(a.index, b.index);
	EXPECT_EQ(t.set_usage(a, Usage{1, 0, std::nullopt}), Status(Error::StaleHandle));
	EXPECT_EQ(t.participant(b)->usage, 0u);
	EXPECT_EQ(t.remove_participant(ParticipantId{}), Status(Error::StaleHandle));

	ManualClock other_clock;
	Tracker other(other_clock);
	EXPECT_EQ(other.create_participant(s, 3).error(), Error::StaleHandle);
	EXPECT_EQ(other.set_usage(b, Usage{1, 0, std::nullopt}), Status(Error::StaleHandle));
	EXPECT_EQ(t.create_account(other.system(), ScopeKind::Service, "x").error(),
		  Error::StaleHandle);
	EXPECT_EQ(t.find_participant(99).error(), Error::UnknownCookie);
	EXPECT_EQ(t.create_participant(s, 2).error(), Error::DuplicateCookie);
	EXPECT_EQ(t.stats().stale_handles, 3u);
	EXPECT_EQ(other.stats().stale_handles, 2u);
	EXPECT_EQ(t.stats().duplicates, 1u);
}

TEST_F(TrackerTest, AccountTreeRules)
{
	const AccountId s = service("web");
	const AccountId p = account(s, ScopeKind::Peer, "192.0.2.0/24");
	EXPECT_EQ(t.create_account(p, ScopeKind::Service, "x").error(), Error::InvalidKind);
	EXPECT_EQ(t.create_account(s, ScopeKind::Socket, "x").error(), Error::InvalidKind);
	EXPECT_EQ(t.create_account(s, ScopeKind::System, "x").error(), Error::InvalidKind);
	EXPECT_EQ(t.create_account(s, ScopeKind::Peer, "192.0.2.0/24").error(),
		  Error::DuplicateKey);
	EXPECT_EQ(t.find_account(s, "192.0.2.0/24")->index, p.index);
	EXPECT_TRUE(t.create_account(t.system(), ScopeKind::Peer, "192.0.2.0/24"))
		<< "keys are per parent";
	EXPECT_EQ(t.remove_account(t.system()).error(), Error::SystemAccount);
	EXPECT_EQ(t.move_account(s, p), Status(Error::InvalidKind)) << "a service under a peer";
	const AccountId nested = account(s, ScopeKind::Service, "nested");
	EXPECT_EQ(t.move_account(s, nested), Status(Error::Cycle));
	EXPECT_EQ(t.move_account(p, p), Status(Error::Cycle));
	EXPECT_EQ(t.set_reclaim_as_unit(t.system(), true), Status(Error::SystemAccount));

	// Nested services (cgroups) up to kMaxDepth.
	AccountId deep = t.system();
	for (uint32_t d = 1; d < kMaxDepth; ++d)
		deep = account(deep, ScopeKind::Service, "s" + std::to_string(d));
	EXPECT_EQ(t.create_account(deep, ScopeKind::Peer, "x").error(), Error::DepthExceeded);
	EXPECT_EQ(t.move_account(s, deep), Status(Error::DepthExceeded));
}

TEST_F(TrackerTest, MovesCarryTheirUsage)
{
	const AccountId a = service("a");
	const AccountId b = service("b");
	const AccountId p = account(a, ScopeKind::Peer, "192.0.2.0/24");
	const ParticipantId x = sock(p, 1, 300, 1);
	const ParticipantId y = sock(a, 2, 100, 1);
	ASSERT_TRUE(t.move_participant(y, b).ok());
	EXPECT_EQ(t.scope(a)->usage, 300u);
	EXPECT_EQ(t.scope(b)->usage, 100u);
	ASSERT_TRUE(t.move_account(p, b).ok());
	EXPECT_EQ(t.scope(a)->usage, 0u);
	EXPECT_EQ(t.scope(b)->usage, 400u);
	EXPECT_EQ(t.scope(b)->participants, 2u);
	EXPECT_EQ(t.scope(p)->depth, 2u);
	EXPECT_EQ(t.participant(x)->account, p);
	ASSERT_TRUE(t.set_allowlisted(b, true).ok());
	EXPECT_TRUE(t.participant(x)->allowlisted);
	ASSERT_TRUE(t.move_account(p, a).ok());
	EXPECT_FALSE(t.participant(x)->allowlisted);
}

TEST_F(TrackerTest, ResourcesViewListsEveryScope)
{
	const AccountId s = service("web");
	const AccountId p = account(s, ScopeKind::Peer, "192.0.2.0/24");
	sock(p, 1, 250, 1);
	sock(s, 2, 250, 1);
	const auto rows = t.resources();
	ASSERT_EQ(rows.size(), 3u);
	EXPECT_EQ(rows[0].kind, ScopeKind::System);
	EXPECT_EQ(rows[0].usage, 500u);
	EXPECT_DOUBLE_EQ(rows[0].percent, 50.0);
	EXPECT_EQ(rows[1].key, "web");
	EXPECT_EQ(rows[1].participants, 2u);
	EXPECT_EQ(rows[2].key, "192.0.2.0/24");
	EXPECT_EQ(rows[2].parent, s);
	EXPECT_EQ(rows[2].limit, 100000u);
	EXPECT_DOUBLE_EQ(rows[2].percent, 0.25);
	const auto r = *t.participant(*t.find_participant(1));
	EXPECT_EQ(r.limit, 100000u);
}

TEST_F(TrackerTest, InvalidLimitsAreRefusedAndTheOldOnesKept)
{
	Limits bad = t.limits();
	bad.low_water = bad.max;
	const auto errs = t.set_limits(bad);
	ASSERT_EQ(errs.size(), 1u);
	EXPECT_EQ(errs[0].field, "low_water");
	EXPECT_EQ(t.limits().low_water, 750u);
}

TEST_F(TrackerTest, LoweredLimitsApplyToExistingScopes)
{
	const AccountId p = account(service("web"), ScopeKind::Peer, "192.0.2.0/24");
	sock(p, 1, 900, 1);
	EXPECT_THAT(t.decide(), IsEmpty());
	set_limits([](Limits &l) { l.per_peer = 800; });
	EXPECT_THAT(cookies(t.decide()), ElementsAre(1));
}

TEST_F(TrackerTest, MemoryPerParticipantIsBoundedAndMeasured)
{
	const size_t empty = t.memory_bytes();
	const AccountId s = service("web");
	for (uint64_t c = 0; c < 20000; ++c) {
		auto p = t.create_participant(s, c);
		ASSERT_TRUE(p);
		ASSERT_TRUE(t.set_usage(*p, Usage{c, 0, seconds(1)}).ok());
	}
	const double per = double(t.memory_bytes() - empty) / 20000;
	EXPECT_LE(per, 128.0);
	for (uint64_t c = 0; c < 20000; ++c)
		ASSERT_TRUE(t.remove_participant(*t.find_participant(c)).ok());
	// Slots are reused, not leaked: churn does not grow the tracker.
	const size_t after_one_round = t.memory_bytes();
	for (uint64_t c = 20000; c < 40000; ++c)
		ASSERT_TRUE(t.create_participant(s, c));
	for (uint64_t c = 20000; c < 40000; ++c)
		ASSERT_TRUE(t.remove_participant(*t.find_participant(c)).ok());
	EXPECT_EQ(t.memory_bytes(), after_one_round);
}

TEST_F(TrackerTest, BatchesAreTheSameAsSingleUpdates)
{
	const AccountId s = service("web");
	const AccountId p = account(s, ScopeKind::Peer, "192.0.2.0/24");
	std::vector<Tracker::HandleUpdate> by_handle;
	std::vector<Tracker::CookieUpdate> by_cookie;
	for (uint64_t c = 1; c <= 200; ++c) {
		auto id = *t.create_participant(c % 3 ? p : s, c * 1000);
		by_handle.push_back({id, Usage{c, 0, seconds(c)}});
		by_cookie.push_back({c * 1000, Usage{2 * c, 0, std::nullopt}});
	}
	by_handle.push_back({ParticipantId{}, Usage{1, 0, std::nullopt}});
	by_cookie.push_back({7, Usage{1, 0, std::nullopt}});
	EXPECT_EQ(t.set_usage(by_handle, clock.now()), 200u);
	EXPECT_EQ(t.total(), 200u * 201 / 2);
	EXPECT_EQ(t.participant(by_handle[9].id)->stalled_for, Duration(seconds(10)));
	EXPECT_EQ(t.stats().stale_handles, 1u);
	EXPECT_EQ(t.set_usage(by_cookie, clock.now()), 200u);
	EXPECT_EQ(t.total(), 200u * 201);
	EXPECT_EQ(t.scope(s)->usage, t.total());
	EXPECT_FALSE(t.participant(by_handle[9].id)->stalled_for);
	EXPECT_EQ(t.stats().unknown_cookies, 1u);
}

TEST_F(TrackerTest, DecisionsDescribeThemselves)
{
	const AccountId s = service("web");
	sock(s, 42, 1200, 12);
	const auto ds = t.decide();
	ASSERT_EQ(ds.size(), 1u);
	EXPECT_EQ(describe(ds[0]),
		  "reclaim cookie=42 usage=1200 stalled=12.0s scope=system reason=over-limit "
		  "limit=1000 scope_usage=1200");
}

} // namespace
} // namespace rcvgov::tracker

namespace rcvgov::tracker {
namespace {

// A cap on reclaims per call (the governor's round budget): the oldest
// first, the scope stays reclaiming, no progressing reader is clamped in
// the meantime, and the next call goes on where this one stopped.
TEST_F(TrackerTest, ReclaimCapSpreadsVictimsOverCallsOldestFirst)
{
	const AccountId s = service("web");
	std::vector<ParticipantId> ps;
	for (uint64_t c = 1; c <= 40; ++c)
		ps.push_back(sock(s, c, 50, 1000 - int(c))); // cookie 1 oldest
	sock(s, 99, 400, std::nullopt);			     // a progressing reader
	t.set_reclaim_cap(3);
	// 2400 -> <= 750 needs 33 of the stalled ones.
	auto ds = t.decide();
	EXPECT_THAT(cookies(ds), ElementsAre(1, 2, 3));
	EXPECT_TRUE(t.system_reclaiming());
	for (int i = 0; i < 3; ++i)
		ASSERT_TRUE(t.remove_participant(ps[i]).ok());
	ds = t.decide();
	EXPECT_THAT(cookies(ds), ElementsAre(4, 5, 6)) << "no clamp of cookie 99 while capped";
	for (int i = 3; i < 6; ++i)
		ASSERT_TRUE(t.remove_participant(ps[i]).ok());
	// Without the cap the rest is decided at once: 2100 -> 750 is 27 more.
	t.set_reclaim_cap(0);
	ds = t.decide();
	EXPECT_EQ(cookies(ds, Action::Reclaim).size(), 27u);
	EXPECT_EQ(cookies(ds, Action::Reclaim).front(), 7u);
}

} // namespace
} // namespace rcvgov::tracker
