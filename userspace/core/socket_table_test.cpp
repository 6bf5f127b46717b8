#include "core/socket_table.h"

#include <gtest/gtest.h>

namespace rcvgov {
namespace {

SocketInfo sock(uint64_t cookie, uint32_t rmem, uint32_t rcvbuf = 131072)
{
	SocketInfo s;
	s.cookie = cookie;
	s.local.family = s.peer.family = 2;
	s.rmem_alloc = rmem;
	s.rcvbuf = rcvbuf;
	s.autotuned_rcvbuf = rcvbuf;
	s.state = 1;
	return s;
}

Event event(EventType t, uint64_t cookie)
{
	Event e;
	e.type = t;
	e.cookie = cookie;
	e.local.family = e.peer.family = 2;
	return e;
}

TEST(SocketTable, RoundDropsSocketsNotSeen)
{
	SocketTable t;
	t.begin_round();
	t.upsert(sock(1, 10));
	t.upsert(sock(2, 20));
	EXPECT_EQ(t.end_round(), 0u);
	t.begin_round();
	t.upsert(sock(2, 25));
	EXPECT_EQ(t.end_round(), 1u);
	ASSERT_EQ(t.size(), 1u);
	EXPECT_EQ(t.find(2)->rmem_alloc, 25u);
	EXPECT_EQ(t.find(1), nullptr);
}

TEST(SocketTable, TopByRmem)
{
	SocketTable t;
	t.begin_round();
	for (uint64_t c = 1; c <= 10; ++c)
		t.upsert(sock(c, static_cast<uint32_t>(c * 100)));
	t.end_round();
	auto top = t.top_by_rmem(3);
	ASSERT_EQ(top.size(), 3u);
	EXPECT_EQ(top[0].cookie, 10u);
	EXPECT_EQ(top[2].cookie, 8u);
	EXPECT_EQ(t.top_by_rmem(100).size(), 10u);
}

TEST(SocketTable, InflationEventUpdatesAndCloseRemoves)
{
	SocketTable t;
	t.begin_round();
	t.upsert(sock(7, 1000));
	t.end_round();
	Event e = event(EventType::Inflation, 7);
	e.rcvbuf_before = 131072;
	e.rcvbuf_after = 300000;
	e.rmem_alloc = 300000;
	e.autotuned_rcvbuf = 131072;
	e.inflations = 4;
	e.inflation_bytes = 500000;
	e.owner.pid = 5;
	e.owner.comm = "reader";
	t.apply(e);
	const SocketInfo *s = t.find(7);
	ASSERT_NE(s, nullptr);
	EXPECT_EQ(s->rcvbuf, 300000u);
	EXPECT_EQ(s->inflations, 4u);
	EXPECT_EQ(s->inflation_bytes, 500000u);
	EXPECT_EQ(s->owner.comm, "reader");
	t.apply(event(EventType::Closed, 7));
	EXPECT_EQ(t.find(7), nullptr);
	EXPECT_EQ(t.recent_events(EventType::Inflation).size(), 1u);
	EXPECT_EQ(t.recent_events(EventType::Closed).size(), 1u);
}

TEST(SocketTable, EventCreatesUnknownSocket)
{
	SocketTable t;
	Event e = event(EventType::Established, 9);
	e.autotuned_rcvbuf = 131072;
	e.rcvbuf_after = 131072;
	e.ts_ns = 77;
	t.apply(e);
	ASSERT_NE(t.find(9), nullptr);
	EXPECT_EQ(t.find(9)->stalled_since_ns, 0u) << "an event alone says nothing of a stall";
	EXPECT_EQ(t.find(9)->updated_ns, 77u);
}

TEST(SocketTable, SnapshotKeepsOwnerLearnedFromEvent)
{
	SocketTable t;
	Event e = event(EventType::Inflation, 3);
	e.owner.pid = 1234;
	e.owner.ino = 99;
	e.owner.comm = "slow";
	t.apply(e);
	t.begin_round();
	t.upsert(sock(3, 50));
	t.end_round();
	EXPECT_EQ(t.find(3)->owner.pid, 1234u);
	EXPECT_EQ(t.find(3)->owner.ino, 99u);
	EXPECT_EQ(t.find(3)->owner.comm, "slow");
}

TEST(SocketTable, RecentEventsBounded)
{
	SocketTable t(4);
	t.apply(event(EventType::Inflation, 100));
	for (uint64_t i = 0; i < 10; ++i)
		t.apply(event(EventType::Overshoot, i));
	ASSERT_EQ(t.recent_events(EventType::Overshoot).size(), 4u);
	EXPECT_EQ(t.recent_events(EventType::Overshoot).front().cookie, 6u);
	ASSERT_EQ(t.recent_events(EventType::Inflation).size(), 1u);
	EXPECT_EQ(t.recent_events(EventType::Inflation).front().cookie, 100u);
}

TEST(SocketTable, EraseForgetsOneSocket)
{
	SocketTable t;
	t.begin_round();
	t.upsert(sock(1, 10));
	t.upsert(sock(2, 20));
	t.end_round();
	t.erase(1);
	t.erase(99); // unknown: nothing happens
	EXPECT_EQ(t.find(1), nullptr);
	ASSERT_NE(t.find(2), nullptr);
	EXPECT_EQ(t.size(), 1u);
}

TEST(SocketTable, UpsertStoresWhatTheSourceSays)
{
	SocketTable t;
	SocketInfo s = sock(1, 100);
	s.stalled_since_ns = 5;
	s.copied_seq = 1234;
	s.inflations = 2;
	t.begin_round();
	t.upsert(s);
	t.end_round();
	// A later round replaces the socket wholesale: no inference here.
	s.stalled_since_ns = 0;
	s.inflations = 0;
	t.begin_round();
	t.upsert(s);
	t.end_round();
	EXPECT_EQ(t.find(1)->stalled_since_ns, 0u);
	EXPECT_EQ(t.find(1)->inflations, 0u);
	EXPECT_EQ(t.find(1)->copied_seq, 1234u);
}

TEST(SocketTable, TopByRmemTiesAndZeroLimit)
{
	SocketTable t;
	t.begin_round();
	for (uint64_t c = 1; c <= 100; ++c)
		t.upsert(sock(c, static_cast<uint32_t>((c % 7) * 10)));
	t.end_round();
	auto top = t.top_by_rmem(5);
	ASSERT_EQ(top.size(), 5u);
	// rmem 60 for cookies 6, 13, 20, ...: the lower cookies first.
	EXPECT_EQ(top[0].cookie, 6u);
	EXPECT_EQ(top[1].cookie, 13u);
	EXPECT_EQ(top[4].cookie, 34u);
	for (size_t i = 1; i < top.size(); ++i)
		EXPECT_GE(top[i - 1].rmem_alloc, top[i].rmem_alloc);
	EXPECT_TRUE(t.top_by_rmem(0).empty());
	auto all = t.top_by_rmem(1000);
	ASSERT_EQ(all.size(), 100u);
	EXPECT_EQ(all.back().rmem_alloc, 0u);
	EXPECT_EQ(all.back().cookie, 98u);
	// Pages: the same order, cut.
	auto page = t.top_by_rmem(10, 95);
	ASSERT_EQ(page.size(), 5u);
	EXPECT_EQ(page[0].cookie, all[95].cookie);
	EXPECT_EQ(page[4].cookie, 98u);
	EXPECT_EQ(t.top_by_rmem(3, 2)[0].cookie, top[2].cookie);
	EXPECT_TRUE(t.top_by_rmem(10, 100).empty());
}

// A CLOSED event lost (ring buffer full, over the budget) leaves the entry
// its ESTABLISHED event made only until the next full round.
TEST(SocketTable, LostCloseGoneAfterNextRound)
{
	SocketTable t;
	t.begin_round();
	t.upsert(sock(1, 10));
	t.end_round();
	t.apply(event(EventType::Established, 2));
	t.apply(event(EventType::Inflation, 3));
	ASSERT_EQ(t.size(), 3u);
	t.begin_round();
	t.upsert(sock(1, 10));
	EXPECT_EQ(t.end_round(), 2u);
	EXPECT_EQ(t.size(), 1u);
	EXPECT_EQ(t.find(2), nullptr);
	EXPECT_EQ(t.find(3), nullptr);
}

TEST(SocketTable, FirstInflationLogGoesWithTheSocket)
{
	SocketTable t;
	EXPECT_FALSE(t.first_inflation_log(1)); // not in the table
	t.apply(event(EventType::Inflation, 1));
	EXPECT_TRUE(t.first_inflation_log(1));
	EXPECT_FALSE(t.first_inflation_log(1));
	t.begin_round();
	t.upsert(sock(1, 10)); // a snapshot keeps the mark
	t.end_round();
	EXPECT_FALSE(t.first_inflation_log(1));
	t.apply(event(EventType::Closed, 1));
	t.apply(event(EventType::Inflation, 1)); // a reused cookie is news again
	EXPECT_TRUE(t.first_inflation_log(1));
}

TEST(Comm, InlineAndBounded)
{
	Owner o;
	EXPECT_TRUE(o.comm.empty());
	o.comm = "rcvgov-reader";
	EXPECT_EQ(o.comm, "rcvgov-reader");
	EXPECT_EQ(o.comm.size(), 13u);
	o.comm = "0123456789abcdefXYZ";
	EXPECT_EQ(o.comm.view(), "0123456789abcdef");
	o.comm = std::string_view("ab\0cd", 5);
	EXPECT_EQ(o.comm.view(), "ab");
	static_assert(sizeof(Comm) == 16);
}

} // namespace
} // namespace rcvgov
