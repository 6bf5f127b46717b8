#include "governor/action_log.h"

#include <arpa/inet.h>
#include <cerrno>
#include <gtest/gtest.h>

namespace rcvgov::governor {
namespace {

ActionRecord rec(uint64_t cookie)
{
	ActionRecord r;
	r.cookie = cookie;
	r.action = "clamp";
	return r;
}

TEST(ActionLog, KeepsTheNewestInOrder)
{
	ActionLog log(3);
	for (uint64_t c = 1; c <= 5; ++c)
		EXPECT_EQ(log.add(rec(c)), c);
	EXPECT_EQ(log.total(), 5u);
	ASSERT_EQ(log.size(), 3u);
	EXPECT_EQ(log.at(0).cookie, 3u);
	EXPECT_EQ(log.at(1).cookie, 4u);
	EXPECT_EQ(log.at(2).cookie, 5u);
	EXPECT_EQ(log.at(2).seq, 5u);
	EXPECT_EQ(log.latest_for(4)->seq, 4u);
	EXPECT_EQ(log.latest_for(1), nullptr) << "dropped from the ring";
}

TEST(ActionLog, LatestForTheSameSocket)
{
	ActionLog log(10);
	log.add(rec(7));
	log.add(rec(8));
	auto r = rec(7);
	r.action = "destroy";
	log.add(r);
	ASSERT_NE(log.latest_for(7), nullptr);
	EXPECT_EQ(log.latest_for(7)->action, "destroy");
	EXPECT_EQ(log.latest_for(7)->seq, 3u);
}

TEST(ActionLog, ZeroCapacityOnlyCounts)
{
	ActionLog log(0);
	log.add(rec(1));
	log.add(rec(2));
	EXPECT_EQ(log.size(), 0u);
	EXPECT_EQ(log.total(), 2u);
	EXPECT_EQ(log.latest_for(1), nullptr);
}

TEST(ActionLog, ResizeKeepsTheNewest)
{
	ActionLog log(4);
	for (uint64_t c = 1; c <= 6; ++c) // wrapped: 3 4 5 6
		log.add(rec(c));
	log.set_capacity(2);
	ASSERT_EQ(log.size(), 2u);
	EXPECT_EQ(log.at(0).cookie, 5u);
	EXPECT_EQ(log.at(1).cookie, 6u);
	log.add(rec(7));
	EXPECT_EQ(log.at(0).cookie, 6u);
	EXPECT_EQ(log.at(1).cookie, 7u);
	log.set_capacity(5); // grows: nothing lost, room for more
	log.add(rec(8));
	ASSERT_EQ(log.size(), 3u);
	EXPECT_EQ(log.at(0).cookie, 6u);
	EXPECT_EQ(log.at(2).cookie, 8u);
	EXPECT_EQ(log.total(), 8u);
}

TEST(ActionLog, Rfc3339WithMilliseconds)
{
	EXPECT_EQ(rfc3339_ms(0), "1970-01-01T00:00:00.000Z");
	// 2026-12-02T12:15:29.123456789Z
	EXPECT_EQ(rfc3339_ms(1796213729123456789ULL), "2026-12-02T12:15:29.123Z");
	const uint64_t now = wall_ns();
	EXPECT_GT(now, 1700000000ULL * 1000000000ULL) << "CLOCK_REALTIME, not monotonic";
}

TEST(ActionLog, RecordFromADecisionAndItsResult)
{
	tracker::Decision d;
	d.action = tracker::Action::Reclaim;
	d.reason = tracker::Reason::OverLimit;
	d.scope = tracker::ScopeKind::Service;
	d.limit = 1 << 20;
	d.scope_usage = 3 << 20;
	d.cookie = 42;
	d.usage = 65536;
	d.age = std::chrono::milliseconds(12500);
	enforce::Action a;
	a.kind = enforce::Kind::Destroy;
	a.target.cookie = 42;
	a.target.netns_cookie = 9;
	a.target.local.family = a.target.peer.family = AF_INET;
	inet_pton(AF_INET, "10.0.0.2", a.target.local.addr.data());
	a.target.local.port = 5001;
	inet_pton(AF_INET, "10.0.0.1", a.target.peer.addr.data());
	a.target.peer.port = 40000;

	auto failed = action_record(
		d, a, enforce::ActResult::of(enforce::Outcome::Failed, EPERM, "bpf_sock_destroy"),
		false);
	EXPECT_EQ(failed.action, "destroy");
	EXPECT_EQ(failed.result, ActionResult::Error);
	EXPECT_EQ(failed.errnum, EPERM);
	EXPECT_NE(failed.error.find("EPERM"), std::string::npos) << failed.error;
	EXPECT_NE(failed.error.find("bpf_sock_destroy"), std::string::npos) << failed.error;
	EXPECT_EQ(failed.reason, "over-limit");
	EXPECT_EQ(failed.scope, "service");
	EXPECT_EQ(failed.limit, 1u << 20);
	EXPECT_EQ(failed.scope_usage, 3u << 20);
	EXPECT_EQ(failed.usage, 65536u);
	EXPECT_EQ(failed.data_age_ms, std::optional<uint64_t>(12500));
	EXPECT_EQ(failed.netns_cookie, 9u);
	EXPECT_EQ(failed.local, "10.0.0.2:5001");
	EXPECT_EQ(failed.peer, "10.0.0.1:40000");
	EXPECT_GT(failed.wall_ns, 0u);

	// The dry-run actuator's answer, whatever it says, is a dry run.
	auto dry = action_record(d, a, enforce::ActResult::of(enforce::Outcome::Done), true);
	EXPECT_EQ(dry.result, ActionResult::DryRun);
	EXPECT_EQ(dry.via, "");
	auto done = enforce::ActResult::of(enforce::Outcome::Done);
	done.via = "owner fd";
	auto ok = action_record(d, a, done, false);
	EXPECT_EQ(ok.via, "owner fd");
	EXPECT_EQ(ok.error, "");
	d.age.reset();
	auto gone = action_record(d, a, enforce::ActResult::of(enforce::Outcome::Gone), false);
	EXPECT_EQ(gone.result, ActionResult::Gone);
	EXPECT_FALSE(gone.data_age_ms);
	EXPECT_EQ(to_string(ActionResult::Ok), "ok");
	EXPECT_EQ(to_string(ActionResult::DryRun), "dry_run");
	EXPECT_EQ(to_string(ActionResult::Error), "error");
}

} // namespace
} // namespace rcvgov::governor
