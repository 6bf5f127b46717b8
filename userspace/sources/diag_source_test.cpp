#include "sources/diag_source.h"

#include <gtest/gtest.h>
#include <netinet/in.h>

#include <map>

#include "sources/source.h"

namespace rcvgov {
namespace {

constexpr uint64_t kSec = 1'000'000'000;
constexpr uint64_t kNs = 4096; // a netns cookie

diag::DiagSocket sock(uint64_t cookie, uint32_t rmem, uint32_t rcvbuf = 131072)
{
	diag::DiagSocket d;
	d.cookie = cookie;
	d.family = AF_INET;
	d.sport = 5001;
	d.dport = 40000;
	d.state = diag::kTcpEstablished;
	d.rmem_alloc = rmem;
	d.rcvbuf = rcvbuf;
	return d;
}

// One poll: the inferred sockets by cookie.
std::map<uint64_t, SocketInfo> poll(DiagInference &inf, const std::vector<diag::DiagSocket> &dump,
				    uint64_t now_ns, uint64_t netns = kNs)
{
	std::map<uint64_t, SocketInfo> out;
	inf.apply(dump, netns, now_ns, [&](SocketInfo &&s) { out[s.cookie] = s; });
	return out;
}

TEST(DiagSource, InfersInflationFromClampSignature)
{
	DiagInference inf;
	poll(inf, {sock(1, 120000, 131072)}, 1 * kSec);
	// Queue reached the limit and rcvbuf followed it: the clamp.
	auto s = poll(inf, {sock(1, 400000, 400000)}, 2 * kSec).at(1);
	EXPECT_EQ(s.inflations, 1u);
	EXPECT_EQ(s.inflation_bytes, 400000u - 131072u);
	EXPECT_EQ(s.autotuned_rcvbuf, 131072u);
	EXPECT_TRUE(s.inflated());
	// Counters are kept across polls.
	s = poll(inf, {sock(1, 400000, 400000)}, 3 * kSec).at(1);
	EXPECT_EQ(s.inflations, 1u);
	EXPECT_EQ(s.autotuned_rcvbuf, 131072u);
}

TEST(DiagSource, TreatsRiseWithRoomAsAutotuning)
{
	DiagInference inf;
	poll(inf, {sock(1, 1000, 131072)}, 1 * kSec);
	auto s = poll(inf, {sock(1, 2000, 600000)}, 2 * kSec).at(1);
	EXPECT_EQ(s.inflations, 0u);
	EXPECT_EQ(s.autotuned_rcvbuf, 600000u);
	EXPECT_FALSE(s.inflated());
}

TEST(DiagSource, OvershootIsCounted)
{
	DiagInference inf;
	auto s = poll(inf, {sock(1, 140000, 131072)}, 1 * kSec).at(1);
	EXPECT_EQ(s.overshoots, 1u);
	EXPECT_EQ(s.max_overshoot, 140000u - 131072u);
}

TEST(DiagSource, BulkReaderWhoseQueueNeverDrainsIsNeverStalled)
{
	DiagInference inf;
	diag::DiagSocket d = sock(1, 500000);
	d.rqueue = 400000;
	d.bytes_received = 1'000'000;
	for (uint64_t t = 1; t <= 20; ++t) {
		// 10 MB more arrive and are read each poll; 400 KB always wait.
		d.bytes_received += 10'000'000;
		auto s = poll(inf, {d}, t * kSec).at(1);
		EXPECT_EQ(s.unread, 400000u);
		if (t == 1) {
			EXPECT_TRUE(s.age_lower_bound);
			continue;
		}
		EXPECT_EQ(s.stall_ms(t * kSec), 0u) << "poll " << t;
		EXPECT_EQ(s.copied_seq, static_cast<uint32_t>(d.bytes_received - d.rqueue));
		EXPECT_FALSE(s.age_lower_bound);
	}
}

TEST(DiagSource, NeverReaderStallGrowsPollByPoll)
{
	DiagInference inf;
	diag::DiagSocket d = sock(1, 100000);
	d.rqueue = 50000;
	d.bytes_received = 50000; // nothing was ever read
	auto first = poll(inf, {d}, 10 * kSec).at(1);
	EXPECT_EQ(first.stalled_since_ns, 10 * kSec);
	EXPECT_TRUE(first.age_lower_bound) << "already queued when first seen";
	uint64_t last = 0;
	for (uint64_t t = 11; t <= 15; ++t) {
		d.rqueue += 1000; // more arrives, the reader never moves
		d.bytes_received += 1000;
		auto s = poll(inf, {d}, t * kSec).at(1);
		EXPECT_EQ(s.stall_ms(t * kSec), (t - 10) * 1000) << "poll " << t;
		EXPECT_GT(s.stall_ms(t * kSec), last);
		EXPECT_TRUE(s.age_lower_bound);
		last = s.stall_ms(t * kSec);
	}
}

TEST(DiagSource, StallStartsAtTheFirstPollWithoutProgress)
{
	DiagInference inf;
	diag::DiagSocket d = sock(1, 1000);
	d.bytes_received = 1000;
	EXPECT_EQ(poll(inf, {d}, 1 * kSec).at(1).stalled_since_ns, 0u) << "empty queue";
	d.bytes_received += 5000;
	d.rqueue = 5000; // data arrived, the reader has not moved
	EXPECT_EQ(poll(inf, {d}, 2 * kSec).at(1).stalled_since_ns, 2 * kSec);
	EXPECT_FALSE(poll(inf, {d}, 3 * kSec).at(1).age_lower_bound);
	EXPECT_EQ(poll(inf, {d}, 4 * kSec).at(1).stall_ms(4 * kSec), 2000u);
	// The reader reads 1 byte: the clock restarts.
	d.rqueue -= 1;
	auto s = poll(inf, {d}, 5 * kSec).at(1);
	EXPECT_EQ(s.stalled_since_ns, 5 * kSec);
	EXPECT_EQ(s.stall_ms(7 * kSec), 2000u);
	// It drains the queue: not stalled.
	d.rqueue = 0;
	EXPECT_EQ(poll(inf, {d}, 6 * kSec).at(1).stalled_since_ns, 0u);
}

TEST(DiagSource, WithoutBytesReceivedTheStallRunsUntilTheQueueDrains)
{
	DiagInference inf;
	diag::DiagSocket d = sock(1, 1000);
	d.rqueue = 100; // bytes_received 0: an old kernel
	poll(inf, {d}, 1 * kSec);
	d.rqueue = 50;
	EXPECT_EQ(poll(inf, {d}, 3 * kSec).at(1).stall_ms(3 * kSec), 2000u);
	d.rqueue = 0;
	EXPECT_EQ(poll(inf, {d}, 4 * kSec).at(1).stall_ms(4 * kSec), 0u);
}

TEST(DiagSource, HistoryIsPrunedToTheLastDumpOfEachNamespace)
{
	DiagInference inf;
	poll(inf, {sock(1, 10), sock(2, 10)}, 1 * kSec, kNs);
	poll(inf, {sock(7, 10)}, 1 * kSec, kNs + 1);
	EXPECT_EQ(inf.tracked(), 3u);
	// Socket 2 is gone from kNs; the other namespace is untouched.
	poll(inf, {sock(1, 10)}, 2 * kSec, kNs);
	EXPECT_EQ(inf.tracked(), 2u);
	// A cookie back after a missed dump starts fresh.
	diag::DiagSocket back = sock(2, 400000, 400000);
	auto s = poll(inf, {sock(1, 10), back}, 3 * kSec, kNs).at(2);
	EXPECT_EQ(s.inflations, 0u);
	EXPECT_EQ(s.autotuned_rcvbuf, 400000u);
	// A namespace not dumped for long is forgotten.
	poll(inf, {sock(1, 10)}, 3 * kSec + DiagInference::kForgetNamespaceNs + 1, kNs);
	EXPECT_EQ(inf.tracked(), 1u);
}

TEST(DiagSource, FillsIdentityAndOwner)
{
	DiagInference inf;
	diag::DiagSocket d = sock(9, 10);
	d.cgroup_id = 77;
	d.rcv_wscale = 7;
	auto s = poll(inf, {d}, 1 * kSec, kNs).at(9);
	EXPECT_EQ(s.local.port, 5001);
	EXPECT_EQ(s.peer.port, 40000);
	EXPECT_EQ(s.owner.cgroup_id, 77u);
	EXPECT_EQ(s.owner.netns_cookie, kNs);
	EXPECT_EQ(s.rcv_wscale, 7);
	EXPECT_EQ(s.updated_ns, 1 * kSec);
}

TEST(DiagSource, MakesANamedSource)
{
	EXPECT_EQ(make_diag_source()->name(), "sock_diag");
}

} // namespace
} // namespace rcvgov
