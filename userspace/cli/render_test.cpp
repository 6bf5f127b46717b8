#include "cli/render.h"

#include <gtest/gtest.h>

namespace rcvgov::cli {
namespace {

TEST(Render, SocketsTable)
{
	nlohmann::json socks = nlohmann::json::array();
	socks.push_back({{"cookie", 2},
			 {"rmem_alloc", 27178136},
			 {"rcvbuf", 27175240},
			 {"autotuned_rcvbuf", 131072},
			 {"inflations", 6442},
			 {"stall_ms", 19000},
			 {"data_age_lower_bound", false},
			 {"state", "clamped"},
			 {"local", "10.77.0.2:5001"},
			 {"peer", "10.77.0.1:40540"},
			 {"owner",
			  {{"pid", 9013},
			   {"comm", "rcvgov-reader"},
			   {"cgroup_id", 1},
			   {"netns_cookie", 4101}}}});
	std::string out = render_sockets(socks);
	EXPECT_NE(out.find("COOKIE"), std::string::npos);
	EXPECT_NE(out.find("25.9M"), std::string::npos) << out;
	EXPECT_NE(out.find("128.0K"), std::string::npos);
	EXPECT_NE(out.find("19s"), std::string::npos);
	EXPECT_NE(out.find("STALL"), std::string::npos);
	EXPECT_NE(out.find("clamped"), std::string::npos) << out;
	EXPECT_NE(out.find("9013/rcvgov-reader cg=1 ns=4101"), std::string::npos) << out;
	// header + one row
	EXPECT_EQ(std::count(out.begin(), out.end(), '\n'), 2);
}

TEST(Render, SocketsShowServiceAndLock)
{
	nlohmann::json socks = nlohmann::json::array();
	socks.push_back({{"cookie", 2},
			 {"enforcement", "clamped"},
			 {"rcvbuf_locked", true},
			 {"service", "/app.slice/web.service"},
			 {"owner",
			  {{"pid", 9013},
			   {"comm", "rcvgov-reader"},
			   {"cgroup_id", 1234},
			   {"netns_cookie", 4101}}}});
	std::string out = render_sockets(socks);
	EXPECT_NE(out.find("SERVICE"), std::string::npos) << out;
	EXPECT_NE(out.find("clamped,locked"), std::string::npos) << out;
	EXPECT_NE(out.find("/app.slice/web.service"), std::string::npos) << out;
	EXPECT_NE(out.find("9013/rcvgov-reader ns=4101"), std::string::npos) << out;
	EXPECT_EQ(out.find("cg=1234"), std::string::npos) << "a bare cgroup id: " << out;
}

TEST(Render, Actions)
{
	nlohmann::json acts = nlohmann::json::array();
	acts.push_back({{"time", "2026-12-02T12:15:29.123Z"},
			{"action", "clamp"},
			{"result", "ok"},
			{"cookie", 77},
			{"scope", "socket"},
			{"scope_key", ""},
			{"limit", 4 << 20},
			{"usage", 5 << 20},
			{"scope_usage", 5 << 20},
			{"data_age_ms", nullptr},
			{"service", "netns:4101"},
			{"window_clamp_before", 1073725440},
			{"window_clamp", 65536},
			{"rcvbuf_locked", 262144}});
	acts.push_back({{"time", "2026-12-02T12:15:30.001Z"},
			{"action", "destroy"},
			{"result", "error"},
			{"cookie", 78},
			{"scope", "service"},
			{"scope_key", "/app.slice/web.service"},
			{"limit", 1 << 20},
			{"usage", 65536},
			{"scope_usage", 3 << 20},
			{"data_age_ms", 12500},
			{"data_age_lower_bound", true},
			{"service", "/app.slice/web.service"},
			{"error", "EPERM: Operation not permitted"}});
	std::string out = render_actions(acts);
	EXPECT_NE(out.find("TIME"), std::string::npos);
	EXPECT_NE(out.find("2026-12-02T12:15:29.123Z  clamp"), std::string::npos) << out;
	EXPECT_NE(out.find("window_clamp 1073725440 -> 65536, rcvbuf locked at 256.0K"),
		  std::string::npos)
		<< out;
	EXPECT_NE(out.find("service /app.slice/web.service"), std::string::npos) << out;
	EXPECT_NE(out.find(">12s"), std::string::npos) << out;
	EXPECT_NE(out.find("3.0M"), std::string::npos) << "the scope's usage: " << out;
	EXPECT_NE(out.find("EPERM: Operation not permitted"), std::string::npos) << out;
	EXPECT_EQ(std::count(out.begin(), out.end(), '\n'), 3);
}

TEST(Render, MissingFieldsShowDash)
{
	nlohmann::json socks = nlohmann::json::array({nlohmann::json::object()});
	std::string out = render_sockets(socks);
	EXPECT_NE(out.find("-"), std::string::npos);
}

TEST(Render, OwnerUnknown)
{
	EXPECT_EQ(render_owner({{"pid", nullptr}, {"cgroup_id", 5}, {"netns_cookie", 1}}),
		  "? cg=5 ns=1");
}

TEST(Render, Resources)
{
	nlohmann::json scopes = nlohmann::json::array();
	scopes.push_back({{"scope", "peer"},
			  {"key", "10.213.0.0/24"},
			  {"usage", 1 << 20},
			  {"limit", 2 << 20},
			  {"percent", 50.0},
			  {"participants", 3},
			  {"allowlisted", false},
			  {"reclaiming", true},
			  {"pending", 0}});
	std::string out = render_resources(scopes);
	EXPECT_NE(out.find("USE%"), std::string::npos);
	EXPECT_NE(out.find("10.213.0.0/24"), std::string::npos);
	EXPECT_NE(out.find("50.0"), std::string::npos);
	EXPECT_NE(out.find("reclaiming"), std::string::npos);
	EXPECT_NE(out.find("1.0M"), std::string::npos) << out;
}

TEST(Render, StatusShowsFallbackReason)
{
	nlohmann::json st = {{"pid", 1},
			     {"uptime_s", 2},
			     {"mode", "bpf"},
			     {"sockets_tracked", 3},
			     {"netns_seen", 1},
			     {"hooks",
			      {{{"hook", "coalesce"},
				{"path", "tp_btf/tcp_probe"},
				{"first_choice", false},
				{"reason", "fexit refused: EPERM"}},
			       {{"hook", "lifecycle"},
				{"path", "tp_btf/inet_sock_set_state"},
				{"first_choice", true},
				{"reason", ""}}}},
			     {"kernel_counters", {{"events_dropped", 0}}}};
	std::string out = render_status(st);
	EXPECT_NE(out.find("fexit refused: EPERM"), std::string::npos);
	EXPECT_NE(out.find("events_dropped"), std::string::npos);
	EXPECT_NE(out.find("mode bpf"), std::string::npos);
}

TEST(Render, StatusGovernance)
{
	nlohmann::json st = {
		{"pid", 1},
		{"netns_seen", 2},
		{"netns_scan", {{"degraded", "EMFILE: 3 namespaces could not be opened"}}},
		{"governance",
		 {{"config", "embedded defaults"},
		  {"safety",
		   {{"destroy_per_round", 32},
		    {"destroy_per_minute", 128},
		    {"breaker", true},
		    {"reclaim_pause_ms", 3000}}},
		  {"breaker", {{"tripped", true}, {"reason", "129 destroys in a minute"}}},
		  {"shrink_window",
		   {{"set", 1},
		    {"refixed", 2},
		    {"failed", 0},
		    {"namespaces",
		     {{{"cookie", 4101},
		       {"origin", "/run/netns/blue"},
		       {"exists", true},
		       {"before", 0},
		       {"now", 1},
		       {"changed", true}},
		      {{"cookie", 1},
		       {"origin", "/proc/self/ns/net"},
		       {"exists", false},
		       {"before", -1},
		       {"now", -1},
		       {"changed", false}}}}}}}}};
	std::string out = render_status(st);
	EXPECT_NE(out.find("NETNS SCAN DEGRADED: EMFILE"), std::string::npos) << out;
	EXPECT_NE(out.find("destroy_per_minute=128"), std::string::npos) << out;
	EXPECT_NE(out.find("BREAKER TRIPPED"), std::string::npos);
	EXPECT_NE(out.find("set 1, re-fixed 2, failed 0"), std::string::npos);
	EXPECT_NE(out.find("4101"), std::string::npos);
	EXPECT_NE(out.find("/run/netns/blue"), std::string::npos);
	EXPECT_NE(out.find("absent"), std::string::npos);
	EXPECT_NE(out.find("yes"), std::string::npos);
}

} // namespace
} // namespace rcvgov::cli
