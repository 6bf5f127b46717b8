#include "cli/top.h"

#include <algorithm>
#include <gtest/gtest.h>
#include <sstream>

namespace rcvgov::cli {
namespace {

nlohmann::json status(uint64_t events, uint64_t inflations, uint64_t actions, int pid = 100)
{
	return {{"pid", pid},
		{"mode", "bpf"},
		{"sockets_tracked", 3},
		{"counters",
		 {{"events_inflation", inflations},
		  {"events_established", events - inflations},
		  {"events_lost", 999}}},
		{"governance",
		 {{"mode", "enforcing"},
		  {"total", 50 << 20},
		  {"clamped_sockets", 1},
		  {"reclaiming", false},
		  {"limits", {{"max", 200 << 20}, {"low_water", 150 << 20}}},
		  {"actions", {{"recorded", actions}, {"kept", actions}, {"capacity", 1024}}}}}};
}

TopSample sample(double t, nlohmann::json st)
{
	TopSample s;
	s.status = std::move(st);
	s.t_s = t;
	s.wall = "2026-12-02 12:15:29 UTC";
	s.resources = nlohmann::json::array(
		{{{"scope", "system"},
		  {"key", "system"},
		  {"usage", 50 << 20},
		  {"limit", 200 << 20}},
		 {{"scope", "service"},
		  {"key", "/a.slice/small.service"},
		  {"usage", 1 << 20},
		  {"limit", 100 << 20},
		  {"participants", 1}},
		 {{"scope", "service"},
		  {"key", "/kubepods.slice/kubepods-burstable.slice/"
			  "kubepods-burstable-pod0123456789abcdef.slice/cri-containerd-feed.scope"},
		  {"usage", 40 << 20},
		  {"limit", 100 << 20},
		  {"participants", 2}},
		 {{"scope", "peer"}, {"key", "10.0.0.1"}, {"usage", 60 << 20}}});
	s.sockets = nlohmann::json::array({{{"cookie", 11},
					    {"rmem_alloc", 30 << 20},
					    {"rcvbuf", 32 << 20},
					    {"stall_ms", 4000},
					    {"enforcement", "clamped"},
					    {"rcvbuf_locked", true},
					    {"service", "/a.slice/small.service"},
					    {"local", "10.0.0.2:5001"},
					    {"peer", "10.0.0.1:40000"}}});
	return s;
}

TEST(Top, RatesFromTwoSamples)
{
	TopSample a = sample(10.0, status(100, 10, 2));
	TopSample b = sample(12.0, status(300, 50, 6));
	Rates r = compute_rates(&a, b);
	ASSERT_TRUE(r.events && r.inflations && r.actions);
	EXPECT_DOUBLE_EQ(*r.events, 100.0) << "events_lost is not an event";
	EXPECT_DOUBLE_EQ(*r.inflations, 20.0);
	EXPECT_DOUBLE_EQ(*r.actions, 2.0);
	EXPECT_EQ(events_total(b.status), 300u);
	EXPECT_EQ(inflations_total(b.status), 50u);
	EXPECT_EQ(actions_total(b.status), 6u);
}

TEST(Top, NoRatesWithoutAPreviousSampleOrAcrossARestart)
{
	TopSample b = sample(12.0, status(300, 50, 6));
	EXPECT_FALSE(compute_rates(nullptr, b).events);
	TopSample restarted = sample(10.0, status(100, 10, 2, 200));
	EXPECT_FALSE(compute_rates(&restarted, b).events) << "another daemon (pid)";
	TopSample later = sample(10.0, status(400, 10, 2));
	Rates r = compute_rates(&later, b);
	EXPECT_FALSE(r.events) << "a counter went backwards";
	EXPECT_TRUE(r.inflations);
	TopSample same_time = sample(12.0, status(100, 10, 2));
	EXPECT_FALSE(compute_rates(&same_time, b).events);
}

TEST(Top, Truncation)
{
	EXPECT_EQ(truncate_right("abcdef", 6), "abcdef");
	EXPECT_EQ(truncate_right("abcdef", 5), "ab...");
	EXPECT_EQ(truncate_right("abcdef", 3), "abc");
	EXPECT_EQ(truncate_left("/system.slice/foo.service", 12), "...o.service");
	EXPECT_EQ(truncate_left("/a", 12), "/a");
	EXPECT_EQ(truncate_left("abcdef", 2), "ef");
	EXPECT_EQ(truncate_right("", 0), "");
}

TEST(Top, LayoutSharesTheRows)
{
	TopLayout l = layout_for(120, 40, 2);
	EXPECT_EQ(l.width, 120u);
	EXPECT_EQ(l.services + l.sockets, 40u - 9u);
	EXPECT_GE(l.sockets, l.services);
	EXPECT_DOUBLE_EQ(l.interval_s, 2);
	TopLayout tiny = layout_for(5, 3, 1);
	EXPECT_EQ(tiny.width, 20u);
	EXPECT_GE(tiny.services, 1u);
	EXPECT_GE(tiny.sockets, 1u);
	EXPECT_LE(layout_for(200, 100, 1).services, 10u);
}

TEST(Top, FrameFromFixedSamples)
{
	TopSample a = sample(10.0, status(100, 10, 2));
	TopSample b = sample(11.0, status(150, 15, 3));
	TopLayout l;
	l.width = 200;
	l.services = 1;
	l.sockets = 5;
	const std::string f = render_top(&a, b, l);
	EXPECT_NE(f.find("rcvgov top  2026-12-02 12:15:29 UTC  every 1.0 s"), std::string::npos)
		<< f;
	EXPECT_NE(f.find("per second: events 50.0, inflations 5.0, actions 1.0"), std::string::npos)
		<< f;
	EXPECT_NE(f.find("memory: 50.0M of max 200.0M (25.0%), low water 150.0M"),
		  std::string::npos)
		<< f;
	EXPECT_NE(f.find("bpf, enforcing, 3 sockets, 1 clamped"), std::string::npos) << f;
	// Services by usage, the largest only, its path cut at the front.
	EXPECT_NE(f.find("\n...bcdef.slice/cri-containerd-feed.scope  40.0M  100.0M  40.0%  2\n"),
		  std::string::npos)
		<< f;
	EXPECT_EQ(f.find("\n/a.slice/small.service"), std::string::npos)
		<< "only one service: " << f;
	EXPECT_NE(f.find("(1 more)"), std::string::npos) << f;
	EXPECT_EQ(f.find("\n10.0.0.1"), std::string::npos) << "peers are not services";
	EXPECT_NE(f.find("clamped,locked"), std::string::npos) << f;
	EXPECT_NE(f.find("40.0%"), std::string::npos) << f;

	// Column widths: the header's columns line up with the row's.
	std::istringstream in(f);
	std::string line, header, row;
	while (std::getline(in, line))
		if (line.rfind("COOKIE", 0) == 0) {
			header = line;
			std::getline(in, row);
		}
	ASSERT_FALSE(row.empty()) << f;
	EXPECT_EQ(header.find("SERVICE"), row.find("/a.slice/small.service"));
	EXPECT_EQ(header.find("PEER"), row.find("10.0.0.1:40000"));

	// No earlier sample: rates unknown.
	EXPECT_NE(render_top(nullptr, b, l).find("events -, inflations -, actions -"),
		  std::string::npos);
}

TEST(Top, EveryLineFitsTheWidth)
{
	TopSample b = sample(11.0, status(150, 15, 3));
	TopLayout l;
	l.width = 40;
	std::istringstream in(render_top(nullptr, b, l));
	std::string line;
	size_t lines = 0;
	while (std::getline(in, line)) {
		++lines;
		EXPECT_LE(line.size(), 40u) << line;
	}
	EXPECT_GT(lines, 8u);
}

TEST(Top, MissingFieldsDoNotThrow)
{
	TopSample empty;
	empty.status = nlohmann::json::object();
	EXPECT_NO_THROW(render_top(nullptr, empty, TopLayout{}));
	empty.status = nullptr;
	empty.resources = nullptr;
	empty.sockets = nullptr;
	EXPECT_NO_THROW(render_top(&empty, empty, TopLayout{}));
}

} // namespace
} // namespace rcvgov::cli
