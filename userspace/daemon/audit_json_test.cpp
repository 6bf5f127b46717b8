#include "daemon/audit_json.h"

#include <gtest/gtest.h>

namespace rcvgov {
namespace {

governor::ActionRecord clamp(uint64_t cookie)
{
	governor::ActionRecord r;
	r.wall_ns = 1796213729123456789ULL;
	r.action = "clamp";
	r.result = governor::ActionResult::Ok;
	r.reason = "inflated";
	r.path = "event";
	r.via = "owner fd";
	r.cookie = cookie;
	r.scope = "socket";
	r.service = "/app.slice/web.service";
	r.limit = 4 << 20;
	r.usage = 5 << 20;
	r.data_age_ms = 1500;
	r.before = 1 << 30;
	r.after = 65536;
	r.rcvbuf_locked = 262144;
	return r;
}

TEST(AuditJson, ActionFields)
{
	auto j = action_json(clamp(7));
	EXPECT_EQ(j["type"], "action");
	EXPECT_EQ(j["time"], "2026-12-02T12:15:29.123Z");
	EXPECT_EQ(j["wall_ms"], 1796213729123ULL);
	EXPECT_EQ(j["action"], "clamp");
	EXPECT_EQ(j["result"], "ok");
	EXPECT_EQ(j["scope"], "socket");
	EXPECT_EQ(j["service"], "/app.slice/web.service");
	EXPECT_EQ(j["limit"], 4u << 20);
	EXPECT_EQ(j["usage"], 5u << 20);
	EXPECT_EQ(j["data_age_ms"], 1500);
	EXPECT_EQ(j["window_clamp"], 65536);
	EXPECT_EQ(j["rcvbuf_locked"], 262144);
	EXPECT_EQ(j["via"], "owner fd");
	EXPECT_FALSE(j.contains("error"));
	EXPECT_FALSE(j.contains("freed"));

	auto d = clamp(8);
	d.action = "destroy";
	d.result = governor::ActionResult::Error;
	d.errnum = 1;
	d.error = "EPERM: Operation not permitted";
	d.data_age_ms.reset();
	auto e = action_json(d);
	EXPECT_EQ(e["result"], "error");
	EXPECT_EQ(e["errno"], 1);
	EXPECT_EQ(e["error"], "EPERM: Operation not permitted");
	EXPECT_TRUE(e["data_age_ms"].is_null());
	EXPECT_TRUE(e.contains("freed"));
}

TEST(AuditJson, PagesNewestFirstEachInTimeOrder)
{
	governor::ActionLog log(10);
	for (uint64_t c = 1; c <= 5; ++c)
		log.add(clamp(c));
	control::Request r;
	r.command = control::Command::Events;
	r.actions = true;
	r.limit = 2;
	auto first = actions_page(log, r);
	EXPECT_EQ(first["total"], 5);
	ASSERT_EQ(first["items"].size(), 2u);
	EXPECT_EQ(first["items"][0]["cookie"], 4);
	EXPECT_EQ(first["items"][1]["cookie"], 5);
	EXPECT_EQ(first["next_offset"], 2);
	r.offset = 4;
	auto last = actions_page(log, r);
	ASSERT_EQ(last["items"].size(), 1u);
	EXPECT_EQ(last["items"][0]["cookie"], 1);
	EXPECT_TRUE(last["next_offset"].is_null());
	governor::ActionLog empty;
	r.offset = 0;
	EXPECT_EQ(actions_page(empty, r)["items"].size(), 0u);
}

TEST(AuditJson, NetstatTcpExt)
{
	const char *text = "TcpExt: SyncookiesSent PruneCalled RcvPruned TCPWantZeroWindowAdv "
			   "TCPToZeroWindowAdv\n"
			   "TcpExt: 0 12 3 40 5\n"
			   "IpExt: InNoRoutes PruneCalled\n"
			   "IpExt: 1 999\n";
	auto m = parse_netstat(text);
	EXPECT_EQ(m.at("PruneCalled"), 12u) << "IpExt's must not win";
	EXPECT_EQ(m.at("RcvPruned"), 3u);
	EXPECT_EQ(m.at("TCPWantZeroWindowAdv"), 40u);
	EXPECT_EQ(m.at("TCPToZeroWindowAdv"), 5u);
	EXPECT_FALSE(m.count("InNoRoutes"));
	EXPECT_TRUE(parse_netstat("").empty());
	EXPECT_TRUE(parse_netstat("TcpExt: A B\nTcpExt: x\n").empty());
}

} // namespace
} // namespace rcvgov
