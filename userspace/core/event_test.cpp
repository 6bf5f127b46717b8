#include "core/event.h"

#include <arpa/inet.h>
#include <cstring>
#include <gtest/gtest.h>
#include <vector>

#include "core/abi.h"

namespace rcvgov {
namespace {

rcvgov_event raw_inflation()
{
	rcvgov_event e{};
	e.type = RCVGOV_EV_INFLATION;
	e.source = RCVGOV_SRC_TP_TCP_PROBE;
	e.ts_ns = 123;
	e.id.cookie = 42;
	e.id.family = AF_INET;
	inet_pton(AF_INET, "10.0.0.2", e.id.saddr);
	inet_pton(AF_INET, "10.0.0.1", e.id.daddr);
	e.id.sport = 5001;
	e.id.dport = 40000;
	e.owner.pid = 77;
	e.owner.ino = 4242;
	std::memcpy(e.owner.comm, "rcvgov-reader\0\0", 16);
	e.owner.cgroup_id = 9;
	e.owner.netns_cookie = 4100;
	e.rcvbuf_before = 131072;
	e.rcvbuf_after = 262144;
	e.inflations = 3;
	return e;
}

std::span<const uint8_t> bytes_of(const auto &v)
{
	return {reinterpret_cast<const uint8_t *>(&v), sizeof(v)};
}

TEST(DecodeEvent, Inflation)
{
	auto raw = raw_inflation();
	auto e = decode_event(bytes_of(raw));
	ASSERT_TRUE(e) << e.error().message;
	EXPECT_EQ(e->type, EventType::Inflation);
	EXPECT_EQ(e->cookie, 42u);
	EXPECT_EQ(e->local.port, 5001);
	EXPECT_EQ(e->peer.port, 40000);
	EXPECT_EQ(e->local.family, AF_INET);
	EXPECT_EQ(e->owner.comm, "rcvgov-reader");
	EXPECT_EQ(e->owner.pid, 77u);
	EXPECT_EQ(e->owner.ino, 4242u);
	EXPECT_EQ(e->rcvbuf_after, 262144u);
	EXPECT_EQ(source_name(e->source), "tp_btf/tcp_probe");
}

TEST(DecodeEvent, CommWithoutTerminatorIsBounded)
{
	auto raw = raw_inflation();
	std::memset(raw.owner.comm, 'x', sizeof(raw.owner.comm));
	auto e = decode_event(bytes_of(raw));
	ASSERT_TRUE(e);
	EXPECT_EQ(e->owner.comm.size(), 16u);
}

TEST(DecodeEvent, RejectsWrongSize)
{
	auto raw = raw_inflation();
	auto e = decode_event(bytes_of(raw).first(sizeof(raw) - 8));
	ASSERT_FALSE(e);
	EXPECT_EQ(e.error().errnum, EBADMSG);
	EXPECT_NE(e.error().message.find("different builds"), std::string::npos)
		<< e.error().message;
}

TEST(DecodeEvent, RejectsUnknownTypeAndFamily)
{
	auto raw = raw_inflation();
	raw.type = 99;
	auto e = decode_event(bytes_of(raw));
	ASSERT_FALSE(e);
	EXPECT_NE(e.error().message.find("99"), std::string::npos);
	raw = raw_inflation();
	raw.id.family = 1;
	e = decode_event(bytes_of(raw));
	ASSERT_FALSE(e);
	EXPECT_NE(e.error().message.find("family"), std::string::npos);
}

std::span<const uint8_t> bytes_of_vec(const std::vector<rcvgov_snapshot_rec> &v)
{
	return {reinterpret_cast<const uint8_t *>(v.data()), v.size() * sizeof(v[0])};
}

TEST(DecodeSnapshot, Records)
{
	std::vector<rcvgov_snapshot_rec> recs(2);
	recs[0].id.cookie = 1;
	recs[0].id.family = AF_INET6;
	recs[0].rmem_alloc = 100;
	recs[0].unread = 10;
	recs[0].stalled_since_ns = 5;
	recs[0].copied_seq = 0xfffffff0u;
	recs[0].flags = RCVGOV_F_AGE_LOWER;
	recs[0].now_ns = 9;
	recs[1].id.cookie = 2;
	recs[1].id.family = AF_INET;
	recs[1].state = 1;
	std::vector<SocketInfo> v;
	Status st = decode_snapshot(bytes_of_vec(recs), [&](SocketInfo &&s) { v.push_back(s); });
	ASSERT_TRUE(st) << st.error().message;
	ASSERT_EQ(v.size(), 2u);
	EXPECT_EQ(v[0].cookie, 1u);
	EXPECT_TRUE(v[0].age_lower_bound);
	EXPECT_EQ(v[0].rmem_alloc, 100u);
	EXPECT_EQ(v[0].stalled_since_ns, 5u);
	EXPECT_EQ(v[0].copied_seq, 0xfffffff0u);
	EXPECT_EQ(v[0].updated_ns, 9u);
	EXPECT_EQ(v[1].state, 1);
	EXPECT_FALSE(v[1].age_lower_bound);
	EXPECT_EQ(v[1].stalled_since_ns, 0u);
}

TEST(DecodeSnapshot, RejectsPartialRecord)
{
	std::vector<uint8_t> buf(sizeof(rcvgov_snapshot_rec) + 3);
	size_t n = 0;
	Status st = decode_snapshot(buf, [&](SocketInfo &&) { ++n; });
	ASSERT_FALSE(st);
	EXPECT_EQ(st.error().errnum, EBADMSG);
	EXPECT_NE(st.error().message.find("whole number"), std::string::npos);
	EXPECT_EQ(n, 0u) << "nothing delivered from a chunk of the wrong size";
}

TEST(DecodeSnapshot, BadRecordStopsAndNamesItsIndex)
{
	std::vector<rcvgov_snapshot_rec> recs(3);
	for (auto &r : recs)
		r.id.family = AF_INET;
	recs[1].id.family = 7;
	size_t n = 0;
	Status st = decode_snapshot(bytes_of_vec(recs), [&](SocketInfo &&) { ++n; });
	ASSERT_FALSE(st);
	EXPECT_NE(st.error().message.find("record 1"), std::string::npos) << st.error().message;
	EXPECT_EQ(n, 1u);
}

TEST(DecodeSnapshot, Empty)
{
	size_t n = 0;
	Status st = decode_snapshot({}, [&](SocketInfo &&) { ++n; });
	EXPECT_TRUE(st);
	EXPECT_EQ(n, 0u);
}

TEST(SocketInfo, StallMs)
{
	SocketInfo s;
	EXPECT_EQ(s.stall_ms(3'000'000'000), 0u) << "not stalled";
	s.unread = 1;
	s.stalled_since_ns = 1'000'000'000;
	EXPECT_EQ(s.stall_ms(3'000'000'000), 2000u);
	EXPECT_EQ(s.stall_ms(500), 0u) << "clock before the stall began";
}

TEST(SocketInfo, Inflated)
{
	SocketInfo s;
	s.rcvbuf = s.autotuned_rcvbuf = 131072;
	EXPECT_FALSE(s.inflated());
	s.rcvbuf = 400000;
	EXPECT_FALSE(s.inflated()) << "a rise without an inflation is autotuning";
	s.inflations = 1;
	EXPECT_TRUE(s.inflated());
	s.rcvbuf = 131072;
	EXPECT_FALSE(s.inflated()) << "inflated once, back at the limit now";
}

} // namespace
} // namespace rcvgov

namespace rcvgov {
namespace {

TEST(EventType, NamesRoundTrip)
{
	for (auto t : {EventType::Inflation, EventType::Overshoot, EventType::Established,
		       EventType::Closed})
		EXPECT_EQ(event_type_from_name(event_type_name(t)), t);
	EXPECT_FALSE(event_type_from_name("bogus"));
}

} // namespace
} // namespace rcvgov
