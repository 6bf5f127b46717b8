#include "governor/plan.h"

#include <gtest/gtest.h>

namespace rcvgov::governor {
namespace {

SocketInfo sock(uint64_t cookie, uint32_t rcvbuf, uint32_t autotuned)
{
	SocketInfo s;
	s.cookie = cookie;
	s.rcvbuf = rcvbuf;
	s.autotuned_rcvbuf = autotuned;
	s.owner.netns_cookie = 77;
	s.copied_seq = 123456;
	s.state = 1;
	s.local.port = 80;
	s.peer.port = 40000;
	return s;
}

tracker::Decision decision(tracker::Action a, uint64_t cookie)
{
	tracker::Decision d;
	d.action = a;
	d.cookie = cookie;
	return d;
}

TEST(Plan, EveryDecisionComesOutExactlyOnce)
{
	SocketTable table;
	table.upsert(sock(1, 600000, 131072));
	table.upsert(sock(2, 131072, 131072));
	std::vector<tracker::Decision> ds = {
		decision(tracker::Action::Clamp, 1), decision(tracker::Action::Reclaim, 2),
		decision(tracker::Action::Reclaim, 3)}; // not in the table
	Plan p = plan(ds, table, {});
	ASSERT_EQ(p.steps.size(), 2u);
	ASSERT_EQ(p.settled.size(), 1u);
	EXPECT_EQ(p.settled[0].decision, 2u);
	EXPECT_EQ(p.settled[0].outcome, tracker::Outcome::Gone);

	const auto &clamp = p.steps[0];
	EXPECT_EQ(clamp.decision, 0u);
	EXPECT_EQ(clamp.action.kind, enforce::Kind::Clamp);
	EXPECT_EQ(clamp.action.window_clamp, 131072u / 2);
	// sk_rcvbuf frozen where it is: nothing already queued is thrown away.
	EXPECT_EQ(clamp.action.rcvbuf_lock, 600000u);

	const auto &destroy = p.steps[1];
	EXPECT_EQ(destroy.action.kind, enforce::Kind::Destroy);
	EXPECT_EQ(destroy.action.target.cookie, 2u);
	EXPECT_EQ(destroy.action.target.netns_cookie, 77u);
	EXPECT_EQ(destroy.action.target.copied_seq, 123456u);
	EXPECT_TRUE(destroy.action.target.position_is_seq);
	EXPECT_EQ(destroy.action.target.local.port, 80);
}

TEST(Plan, DisabledStepsAreSettledAsSkipped)
{
	SocketTable table;
	table.upsert(sock(1, 600000, 131072));
	table.upsert(sock(2, 131072, 131072));
	PlanOptions o;
	o.ladder.clamp = false;
	o.ladder.reclaim = false;
	o.position_is_seq = false;
	std::vector<tracker::Decision> ds = {decision(tracker::Action::Clamp, 1),
					     decision(tracker::Action::Reclaim, 2)};
	Plan p = plan(ds, table, o);
	EXPECT_TRUE(p.steps.empty());
	ASSERT_EQ(p.settled.size(), 2u);
	for (const auto &s : p.settled)
		EXPECT_EQ(s.outcome, tracker::Outcome::Skipped);
}

TEST(Plan, ClampNeverBelowTheKernelMinimum)
{
	EXPECT_EQ(clamp_for(sock(1, 4096, 4096)), 2304u);
	// Unknown autotuned limit: the buffer as it is.
	EXPECT_EQ(clamp_for(sock(1, 262144, 0)), 131072u);
}

} // namespace
} // namespace rcvgov::governor
