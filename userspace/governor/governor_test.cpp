// The governor with the real tracker, a socket table filled by hand (the
// fake source) and fake actuators: what reaches the kernel, and what not.
#include "governor/governor.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>

#include "governor/fake_actuator.h"

namespace rcvgov::governor {
namespace {

using testing::FakeActuator;
constexpr uint64_t kSec = 1'000'000'000ULL;
constexpr uint64_t kT0 = 3600 * kSec;

struct Rig {
	config::Config cfg;
	tracker::Limits limits;
	FakeActuator *bpf = nullptr;
	FakeActuator *diag = nullptr;
	std::unique_ptr<Governor> gov;
	SocketTable table;
	std::map<uint64_t, std::string> cgroups; // cgroup id -> path

	Rig()
	{
		limits.max = 1000000;
		limits.low_water = 600000;
		limits.per_service = limits.per_peer = 1ULL << 30;
		limits.per_socket = 1ULL << 30;
		limits.min_stall = std::chrono::seconds(2);
		cfg.safety.destroy_per_round = 1000;
		cfg.safety.destroy_per_minute = 1000;
		cfg.safety.reclaim_pause_ms = 0;
	}
	void start(bool bpf_destroys = true)
	{
		Actuators a;
		auto b = std::make_unique<FakeActuator>(bpf_destroys);
		auto d = std::make_unique<FakeActuator>(true);
		bpf = b.get();
		diag = d.get();
		a.bpf = std::move(b);
		a.diag = std::move(d);
		Environment env;
		env.cgroup_path = [this](uint64_t id) {
			auto it = cgroups.find(id);
			return it == cgroups.end() ? std::string("/") : it->second;
		};
		gov = std::make_unique<Governor>(cfg, limits, std::move(a), nullptr, env);
	}
	// A socket holding `rmem` bytes; stalled for `stall_s` seconds at kT0
	// (0: its reader progresses).
	void add(uint64_t cookie, uint32_t rmem, uint64_t stall_s, uint16_t lport = 8080,
		 const char *peer = "198.51.100.7", uint64_t cgroup = 0)
	{
		SocketInfo s;
		s.cookie = cookie;
		s.local.family = s.peer.family = AF_INET;
		inet_pton(AF_INET, "192.0.2.1", s.local.addr.data());
		inet_pton(AF_INET, peer, s.peer.addr.data());
		s.local.port = lport;
		s.peer.port = uint16_t(40000 + cookie);
		s.state = 1;
		s.rmem_alloc = rmem;
		s.rcvbuf = s.autotuned_rcvbuf = std::max<uint32_t>(rmem, 131072);
		s.unread = rmem;
		s.stalled_since_ns = stall_s ? kT0 - stall_s * kSec : 0;
		s.owner.cgroup_id = cgroup;
		s.owner.netns_cookie = 1;
		table.upsert(s);
	}
	void inflate(uint64_t cookie)
	{
		SocketInfo s = *table.find(cookie);
		s.inflations = 3;
		s.rcvbuf = s.autotuned_rcvbuf * 4;
		table.upsert(s);
	}
	std::set<uint64_t> acted(enforce::Kind k) const
	{
		std::set<uint64_t> out;
		for (auto *f : {bpf, diag})
			for (const auto &a : f->applied)
				if (a.kind == k)
					out.insert(a.target.cookie);
		return out;
	}
};

TEST(Governor, BulkReadersAreClampedNeverDestroyed)
{
	Rig r;
	r.start();
	// Five readers that read all the time with a queue that never drains
	// (not stalled), 400 KB each, and twenty never-readers of 50 KB with
	// stalls of 3..22 s: 3 MB in all over a 1 MB quota.
	for (uint64_t c = 1; c <= 5; ++c)
		r.add(c, 400000, 0);
	for (uint64_t c = 100; c < 120; ++c)
		r.add(c, 50000, 3 + (c - 100));
	r.gov->round(r.table, kT0);

	auto destroyed = r.acted(enforce::Kind::Destroy);
	auto clamped = r.acted(enforce::Kind::Clamp);
	for (uint64_t c = 1; c <= 5; ++c)
		EXPECT_FALSE(destroyed.count(c)) << "bulk reader " << c << " destroyed";
	// Every never-reader goes (they are not enough to reach low water), the
	// readers are clamped instead.
	EXPECT_EQ(destroyed.size(), 20u);
	EXPECT_GE(clamped.size(), 1u);
	for (uint64_t c : clamped)
		EXPECT_LE(c, 5u);
	EXPECT_EQ(r.gov->state_of(1) == "clamped" || r.gov->state_of(1) == "none", true);
	EXPECT_EQ(r.gov->state_of(100), "destroyed");
	EXPECT_EQ(r.gov->status().counters.at("destroyed"), 20u);
}

TEST(Governor, ShortStallsAreNotReclaimed)
{
	Rig r;
	r.start();
	for (uint64_t c = 1; c <= 30; ++c)
		r.add(c, 50000, 1); // stalled 1 s < min_stall 2 s
	r.gov->round(r.table, kT0);
	EXPECT_TRUE(r.acted(enforce::Kind::Destroy).empty());
}

TEST(Governor, OldestStallFirstUntilLowWater)
{
	Rig r;
	r.start();
	for (uint64_t c = 1; c <= 30; ++c)
		r.add(c, 50000, 2 + c); // 1.5 MB, older with the cookie
	r.gov->round(r.table, kT0);
	auto destroyed = r.acted(enforce::Kind::Destroy);
	// Down to 600 KB: the 18 oldest (cookies 13..30) go.
	EXPECT_EQ(destroyed.size(), 18u);
	EXPECT_EQ(*destroyed.begin(), 13u);
	// They stay pending until they leave the table: nothing more next round.
	r.gov->round(r.table, kT0 + kSec);
	EXPECT_EQ(r.acted(enforce::Kind::Destroy).size(), 18u);
}

TEST(Governor, InflatedSocketClampedOnceAndAllowlistRespected)
{
	Rig r;
	r.cfg.allow.cidrs.push_back(*config::parse_cidr("203.0.113.0/24"));
	r.cfg.allow.cgroups.push_back("/allowed.slice");
	r.cgroups[42] = "/allowed.slice/app.service";
	r.start();
	r.add(1, 1000, 0);			     // ordinary
	r.add(2, 1000, 0, 8080, "203.0.113.5");	     // allowlisted peer
	r.add(3, 1000, 0, 8080, "198.51.100.9", 42); // allowlisted cgroup subtree
	for (uint64_t c = 1; c <= 3; ++c)
		r.inflate(c);
	r.gov->round(r.table, kT0);
	r.gov->round(r.table, kT0 + kSec);
	EXPECT_EQ(r.acted(enforce::Kind::Clamp), std::set<uint64_t>{1});
	EXPECT_EQ(r.bpf->count(enforce::Kind::Clamp), 1u) << "clamped more than once";
	EXPECT_EQ(r.gov->state_of(1), "clamped");
	EXPECT_EQ(r.gov->state_of(2), "none");
}

TEST(Governor, DestroyBudgetAndBreaker)
{
	Rig r;
	r.cfg.safety.destroy_per_round = 20;
	r.cfg.safety.destroy_per_minute = 50;
	r.start();
	for (uint64_t c = 1; c <= 2000; ++c)
		r.add(c, 10000, 10);
	size_t before = 0;
	for (int round = 0; round < 6; ++round) {
		r.gov->round(r.table, kT0 + uint64_t(round) * kSec);
		size_t now = r.bpf->count(enforce::Kind::Destroy);
		EXPECT_LE(now - before, 20u) << "round " << round;
		before = now;
	}
	EXPECT_EQ(r.bpf->count(enforce::Kind::Destroy), 50u);
	auto st = r.gov->status();
	EXPECT_TRUE(st.breaker_tripped);
	EXPECT_EQ(st.mode, "breaker-tripped");
	EXPECT_GT(r.gov->dry_run_record().total(), 0u);
	EXPECT_GT(st.counters.at("held_by_budget"), 0u);
	// A reload resets the breaker.
	r.gov->reconfigure(r.cfg, r.limits);
	EXPECT_EQ(r.gov->status().mode, "enforcing");
}

TEST(Governor, HeldByTheRoundBudgetIsFinishedNextRound)
{
	Rig r;
	r.cfg.safety.destroy_per_round = 16;
	r.start();
	for (uint64_t c = 1; c <= 30; ++c)
		r.add(c, 50000, 2 + c); // 1.5 MB: 18 must go to reach 600 KB
	r.gov->round(r.table, kT0);
	EXPECT_EQ(r.bpf->count(enforce::Kind::Destroy), 16u);
	// 700 KB left: under max, over low water: the reclamation goes on.
	r.gov->round(r.table, kT0 + kSec);
	EXPECT_EQ(r.bpf->count(enforce::Kind::Destroy), 18u);
	r.gov->round(r.table, kT0 + 2 * kSec);
	EXPECT_EQ(r.bpf->count(enforce::Kind::Destroy), 18u);
}

TEST(Governor, DryRunReachesNoActuator)
{
	Rig r;
	r.cfg.dry_run = true;
	r.start();
	for (uint64_t c = 1; c <= 30; ++c)
		r.add(c, 50000, 5);
	r.inflate(1);
	r.gov->round(r.table, kT0);
	EXPECT_TRUE(r.bpf->applied.empty());
	EXPECT_TRUE(r.diag->applied.empty());
	EXPECT_GT(r.gov->dry_run_record().total(), 0u);
	EXPECT_EQ(r.gov->status().mode, "dry-run");
	EXPECT_EQ(r.gov->state_of(30), "would-reclaim");
}

TEST(Governor, EveryActionIsInTheAuditTrail)
{
	Rig r;
	r.cfg.audit_actions = 64;
	r.cgroups[42] = "/app.slice/web.service";
	r.start();
	r.add(1, 1000, 0, 8080, "198.51.100.7", 42);
	r.inflate(1);
	for (uint64_t c = 100; c < 120; ++c)
		r.add(c, 50000, 3 + (c - 100)); // 1 MB of never-readers, root cgroup
	r.bpf->by_cookie[119] = enforce::Outcome::Failed;
	const uint64_t before = wall_ns();
	r.gov->round(r.table, kT0);
	const ActionLog &log = r.gov->actions();
	const uint64_t acted = r.bpf->applied.size();
	EXPECT_EQ(log.total(), acted);
	EXPECT_EQ(log.size(), acted);
	EXPECT_EQ(r.gov->status().actions_recorded, acted);
	const ActionRecord *clamp = log.latest_for(1);
	ASSERT_NE(clamp, nullptr) << "the clamp fell out of the ring";
	EXPECT_EQ(clamp->action, "clamp");
	EXPECT_EQ(clamp->result, ActionResult::Ok);
	EXPECT_EQ(clamp->reason, "inflated");
	EXPECT_EQ(clamp->service, "/app.slice/web.service");
	EXPECT_EQ(clamp->path, "round");
	EXPECT_GE(clamp->wall_ns, before);
	EXPECT_LE(clamp->wall_ns, wall_ns());
	for (const auto &a : r.bpf->applied) {
		if (a.kind == enforce::Kind::Clamp) {
			EXPECT_EQ(clamp->rcvbuf_locked, a.rcvbuf_lock);
		}
	}
	const ActionRecord *failed = log.latest_for(119);
	ASSERT_NE(failed, nullptr);
	EXPECT_EQ(failed->action, "destroy");
	EXPECT_EQ(failed->result, ActionResult::Error);
	EXPECT_EQ(failed->scope, "system");
	EXPECT_EQ(failed->limit, r.limits.max);
	EXPECT_EQ(failed->usage, 50000u);
	EXPECT_EQ(failed->data_age_ms, std::optional<uint64_t>(22000));
	EXPECT_EQ(failed->service, "netns:1");
	// A reload resizes the ring, the newest kept.
	r.cfg.audit_actions = 2;
	r.gov->reconfigure(r.cfg, r.limits);
	EXPECT_EQ(log.size(), 2u);
	EXPECT_EQ(log.at(1).seq, acted);
}

TEST(Governor, DryRunActionsAreAuditedAsSuch)
{
	Rig r;
	r.cfg.dry_run = true;
	r.start();
	r.add(1, 1000, 0);
	r.inflate(1);
	r.gov->round(r.table, kT0);
	const ActionRecord *a = r.gov->actions().latest_for(1);
	ASSERT_NE(a, nullptr);
	EXPECT_EQ(a->action, "clamp");
	EXPECT_EQ(a->result, ActionResult::DryRun);
}

TEST(Governor, SkippedByTheRecheckIsDecidedAgain)
{
	Rig r;
	r.start();
	for (uint64_t c = 1; c <= 30; ++c) {
		r.add(c, 50000, 2 + c);
		r.bpf->by_cookie[c] = enforce::Outcome::Skipped; // every reader read meanwhile
	}
	r.gov->round(r.table, kT0);
	EXPECT_EQ(r.gov->state_of(30), "none");
	EXPECT_EQ(r.gov->status().counters.at("skipped_progress"), 18u);
	// Still over the quota: the same sockets are decided again.
	r.bpf->by_cookie.clear();
	r.gov->round(r.table, kT0 + kSec);
	EXPECT_EQ(r.gov->state_of(30), "destroyed");
	EXPECT_EQ(r.bpf->count(enforce::Kind::Destroy), 36u);
}

TEST(Governor, DestroysGoToSockDiagWhereBpfCannot)
{
	Rig r;
	r.start(/*bpf_destroys=*/false);
	for (uint64_t c = 1; c <= 30; ++c)
		r.add(c, 50000, 5);
	r.gov->round(r.table, kT0);
	EXPECT_EQ(r.bpf->count(enforce::Kind::Destroy), 0u);
	EXPECT_GT(r.diag->count(enforce::Kind::Destroy), 0u);
}

TEST(Governor, GoneSocketsLeaveTheTrackerAndTheJournal)
{
	Rig r;
	r.start();
	r.add(1, 1000, 0);
	r.inflate(1);
	r.add(2, 1000, 0);
	r.inflate(2);
	r.gov->round(r.table, kT0);
	EXPECT_EQ(r.gov->status().participants, 2u);
	r.table.erase(2);
	r.gov->round(r.table, kT0 + kSec);
	EXPECT_EQ(r.gov->status().participants, 1u);
	// Shutdown restores the one clamp that still exists, to its old value.
	netns::Registry none(netns::Registry::Options{"", "/nonexistent", "/nonexistent"},
			     netns::system_ops());
	r.bpf->applied.clear();
	r.gov->shutdown(none);
	ASSERT_EQ(r.bpf->applied.size(), 1u);
	EXPECT_EQ(r.bpf->applied[0].kind, enforce::Kind::RestoreClamp);
	EXPECT_EQ(r.bpf->applied[0].target.cookie, 1u);
	EXPECT_EQ(r.bpf->applied[0].window_clamp, 4194304u);
}

} // namespace
} // namespace rcvgov::governor

namespace rcvgov::governor {
namespace {

// Targeted enforcement between rounds: an inflation event's socket is
// clamped by react() alone, the others wait for the round, and the
// reaction is measured from the event's timestamp.
TEST(Governor, ReactClampsTheTriggeredSocketWithoutARound)
{
	Rig r;
	r.start();
	r.gov->round(r.table, kT0); // an empty first round
	r.add(1, 1000, 0);
	r.add(2, 1000, 0);
	r.inflate(1);
	r.inflate(2);
	r.gov->note_trigger(1, kT0 + 1);
	const uint64_t triggered[] = {1};
	r.gov->react(r.table, triggered, kT0 + 2);
	EXPECT_EQ(r.acted(enforce::Kind::Clamp), std::set<uint64_t>{1});
	EXPECT_EQ(r.gov->state_of(1), "clamped");
	EXPECT_EQ(r.gov->state_of(2), "none") << "react() must not act on what it was not told";
	auto st = r.gov->status();
	EXPECT_EQ(st.reaction_event.samples, 1u);
	EXPECT_EQ(st.reaction_round.samples, 0u);
	EXPECT_EQ(st.counters["reactions"], 1u);
	// A socket not clamped yet keeps rounds going (the scan gate asks).
	r.gov->note_trigger(2, kT0 + 3);
	EXPECT_TRUE(r.gov->busy());
	r.gov->round(r.table, kT0 + kSec);
	EXPECT_EQ(r.gov->state_of(2), "clamped");
	EXPECT_EQ(r.gov->status().reaction_round.samples, 1u);
	EXPECT_FALSE(r.gov->busy());
	EXPECT_EQ(r.bpf->count(enforce::Kind::Clamp), 2u);
}

// Reacting to a socket the table no longer has does nothing.
TEST(Governor, ReactToAGoneSocketIsANoOp)
{
	Rig r;
	r.start();
	const uint64_t triggered[] = {99};
	r.gov->react(r.table, triggered, kT0);
	EXPECT_TRUE(r.bpf->applied.empty());
	EXPECT_EQ(r.gov->status().counters.count("reactions"), 0u);
}

// The scan gate's threshold is the smallest limit or low water in force.
TEST(Governor, QuietBelowIsTheSmallestLimit)
{
	Rig r;
	r.limits.per_peer = 400000; // low water 75 % = 300000
	r.start();
	EXPECT_EQ(r.gov->quiet_below(), 300000u);
	r.limits.overrides.push_back({"socket", "7", 1000});
	r.gov->reconfigure(r.cfg, r.limits);
	EXPECT_EQ(r.gov->quiet_below(), 1000u);
}

} // namespace
} // namespace rcvgov::governor
