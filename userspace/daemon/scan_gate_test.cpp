#include "daemon/scan_gate.h"

#include <gtest/gtest.h>

namespace rcvgov {
namespace {

GateInput quiet()
{
	GateInput in;
	in.events_live = true;
	in.tcp_memory = 1 << 20;
	in.quiet_below = 16 << 20;
	in.since_full_ns = 1'000'000'000;
	in.resync_ns = 30'000'000'000;
	return in;
}

TEST(ScanGate, QuietHostSkips)
{
	EXPECT_FALSE(decide_scan(quiet()).scan);
}

TEST(ScanGate, EveryReasonToScan)
{
	auto in = quiet();
	in.events_live = false;
	EXPECT_TRUE(decide_scan(in).scan);
	in = quiet();
	in.tcp_memory.reset();
	EXPECT_TRUE(decide_scan(in).scan);
	in = quiet();
	in.tcp_memory = in.quiet_below; // at the limit: a rule may fire
	EXPECT_TRUE(decide_scan(in).scan);
	in = quiet();
	in.governor_busy = true;
	EXPECT_TRUE(decide_scan(in).scan);
	in = quiet();
	in.since_full_ns = in.resync_ns;
	EXPECT_EQ(decide_scan(in).why, "resync");
	in = quiet();
	in.resync_ns = 0;
	EXPECT_TRUE(decide_scan(in).scan);
}

TEST(ScanGate, ParsesSockstat)
{
	const char *text = "sockets: used 290\n"
			   "TCP: inuse 5 orphan 0 tw 2 alloc 7 mem 123\n"
			   "UDP: inuse 1 mem 4\n";
	auto v = parse_sockstat_tcp_pages(text);
	ASSERT_TRUE(v.ok());
	EXPECT_EQ(*v, 123u);
}

TEST(ScanGate, RejectsSockstatWithoutTcpMem)
{
	EXPECT_FALSE(parse_sockstat_tcp_pages("UDP: inuse 1 mem 4\n").ok());
	EXPECT_FALSE(parse_sockstat_tcp_pages("TCP: inuse 5 mem x\n").ok());
	EXPECT_FALSE(parse_sockstat_tcp_pages("").ok());
}

TEST(ScanGate, ReadsThisHost)
{
	auto v = read_tcp_memory();
	ASSERT_TRUE(v.ok()) << v.error().message;
}

} // namespace
} // namespace rcvgov
