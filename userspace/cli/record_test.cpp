#include "cli/record.h"

#include <algorithm>
#include <gtest/gtest.h>

namespace rcvgov::cli {
namespace {

nlohmann::json sample()
{
	return {{"cookie", 77},
		{"r", 2105344},
		{"rb", 2105344},
		{"rcv_space", 14480},
		{"rcv_ssthresh", 64088},
		{"rcv_wnd", 0},
		{"recv_q", 1880000},
		{"bytes_received", 1900000},
		{"drops", 3},
		{"want_zero_win", 10},
		{"to_zero_win", 2},
		{"prune_called", 7},
		{"rcv_pruned", nullptr},
		{"zero_window", true},
		{"last_action", nullptr}};
}

TEST(Record, HeaderIsLabShsColumnsThenOurs)
{
	// scripts/lab.sh's header, verbatim, then zero_window and action.
	EXPECT_EQ(record_header(),
		  "t_s,r,rb,rcv_space,rcv_ssthresh,rcv_wnd,recv_q,bytes_received,drops,"
		  "want_zero_win,to_zero_win,prune_called,rcv_pruned,zero_window,action\n");
}

TEST(Record, RowFromASample)
{
	EXPECT_EQ(record_row(1.25, sample(), "clamp"),
		  "1.250,2105344,2105344,14480,64088,0,1880000,1900000,3,10,2,7,,1,clamp\n");
	auto s = sample();
	s["zero_window"] = false;
	s["rcv_wnd"] = nullptr; // a kernel before tcpi_rcv_wnd
	s["zero_window"] = nullptr;
	EXPECT_EQ(record_row(0, s, ""),
		  "0.000,2105344,2105344,14480,64088,,1880000,1900000,3,10,2,7,,,\n");
}

TEST(Record, GoneSocketIsARowOfEmptyFields)
{
	const std::string row = record_row(3, nullptr, "clamp");
	EXPECT_EQ(row, "3.000,,,,,,,,,,,,,,\n");
	// As many fields as the header.
	const std::string header = record_header();
	EXPECT_EQ(std::count(row.begin(), row.end(), ','),
		  std::count(header.begin(), header.end(), ','));
}

TEST(Record, ActionOnlyOnceAndOnlyFromTheRecording)
{
	auto s = sample();
	s["last_action"] = {{"seq", 4}, {"action", "clamp"}, {"result", "ok"}, {"wall_ms", 500}};
	uint64_t last = 0;
	// Before the recording started (at wall 1000): remembered, not shown.
	EXPECT_EQ(new_action(s, last, 1000), "");
	EXPECT_EQ(last, 4u);
	s["last_action"] = {
		{"seq", 5}, {"action", "destroy"}, {"result", "dry_run"}, {"wall_ms", 1500}};
	EXPECT_EQ(new_action(s, last, 1000), "dry_run:destroy");
	EXPECT_EQ(new_action(s, last, 1000), "") << "the same action twice";
	s["last_action"] = {
		{"seq", 6}, {"action", "clamp"}, {"result", "error"}, {"wall_ms", 1600}};
	EXPECT_EQ(new_action(s, last, 1000), "error:clamp");
	s["last_action"] = {{"seq", 7}, {"action", "clamp"}, {"result", "ok"}, {"wall_ms", 1700}};
	EXPECT_EQ(new_action(s, last, 1000), "clamp");
	EXPECT_EQ(new_action(sample(), last, 1000), "");
	EXPECT_EQ(new_action(nullptr, last, 1000), "");
}

} // namespace
} // namespace rcvgov::cli
