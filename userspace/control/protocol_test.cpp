#include "control/protocol.h"

#include <gtest/gtest.h>
#include <set>

namespace rcvgov::control {
namespace {

TEST(Protocol, EveryCommandOnceWithHelp)
{
	std::set<std::string_view> names;
	for (const auto &c : commands) {
		EXPECT_TRUE(names.insert(c.name).second) << c.name;
		EXPECT_FALSE(c.help.empty()) << c.name;
		auto parsed = parse_command(c.name);
		ASSERT_TRUE(parsed.ok());
		EXPECT_EQ(*parsed, c.command);
		EXPECT_EQ(command_name(c.command), c.name);
	}
	EXPECT_EQ(command_names(), "status, sockets, events, resources, sample");
}

TEST(Protocol, UnknownCommandListsTheKnownOnes)
{
	auto r = parse_command("stauts");
	ASSERT_FALSE(r.ok());
	EXPECT_EQ(r.error().message,
		  "unknown command \"stauts\" (try status, sockets, events, resources, sample)");
}

TEST(Protocol, EventTypesComeFromCoreNames)
{
	EXPECT_EQ(event_type_names(), "inflation, overshoot, established, closed");
	for (const auto &t : event_types) {
		auto parsed = parse_event_type(event_type_name(t.type));
		ASSERT_TRUE(parsed.ok());
		EXPECT_EQ(*parsed, t.type);
		EXPECT_FALSE(t.help.empty());
	}
	auto bad = parse_event_type("inflations");
	ASSERT_FALSE(bad.ok());
	EXPECT_NE(bad.error().message.find("(inflation, overshoot"), std::string::npos);
}

TEST(Protocol, ParseRequest)
{
	auto r = parse_request({{"cmd", "sockets"}, {"limit", 5}});
	ASSERT_TRUE(r.ok());
	EXPECT_EQ(r->command, Command::Sockets);
	EXPECT_EQ(r->limit, 5u);

	auto all = parse_request({{"cmd", "events"}});
	ASSERT_TRUE(all.ok());
	EXPECT_EQ(all->limit, default_page_rows);
	EXPECT_EQ(all->offset, 0u);
	EXPECT_EQ(all->event_types.size(), event_types.size());

	auto one = parse_request({{"cmd", "events"}, {"type", "closed"}});
	ASSERT_TRUE(one.ok());
	EXPECT_EQ(one->event_types, std::vector<EventType>{EventType::Closed});

	for (const nlohmann::json &bad :
	     {nlohmann::json{{"cmd", "events"}, {"type", 3}},
	      nlohmann::json{{"cmd", "events"}, {"type", "nope"}},
	      nlohmann::json{{"cmd", "sockets"}, {"limit", -1}},
	      nlohmann::json{{"cmd", "sockets"}, {"limit", "ten"}},
	      nlohmann::json{{"cmd", "sockets"}, {"offset", -5}},
	      nlohmann::json{{"cmd", "sockets"}, {"offset", 1.5}}, nlohmann::json{{"cmd", "nope"}},
	      nlohmann::json{{"cmd", 1}}, nlohmann::json::array()})
		EXPECT_FALSE(parse_request(bad).ok()) << bad.dump();
}

TEST(Protocol, MakeRequestRoundTrips)
{
	auto j = make_request(Command::Events, 7, EventType::Inflation);
	EXPECT_EQ(j.dump(), R"({"cmd":"events","limit":7,"type":"inflation"})");
	auto back = parse_request(j);
	ASSERT_TRUE(back.ok());
	EXPECT_EQ(back->limit, 7u);
	EXPECT_EQ(make_request(Command::Status, 7).dump(), R"({"cmd":"status"})");
	EXPECT_EQ(make_request(Command::Sockets, 0).dump(), R"({"cmd":"sockets"})");
}

TEST(Protocol, ActionEvents)
{
	auto j = make_action_request(50, 100);
	EXPECT_EQ(j.dump(), R"({"cmd":"events","limit":50,"offset":100,"type":"action"})");
	auto r = parse_request(j);
	ASSERT_TRUE(r.ok());
	EXPECT_TRUE(r->actions);
	EXPECT_TRUE(r->event_types.empty());
	EXPECT_EQ(r->limit, 50u);
	EXPECT_EQ(r->offset, 100u);
	EXPECT_EQ(make_action_request().dump(), R"({"cmd":"events","type":"action"})");
	// Kernel events only unless actions are asked for by name.
	auto all = parse_request({{"cmd", "events"}});
	ASSERT_TRUE(all.ok());
	EXPECT_FALSE(all->actions);
	auto bad = parse_request({{"cmd", "events"}, {"type", "actions"}});
	ASSERT_FALSE(bad.ok());
	EXPECT_EQ(bad.error().message, "unknown event type \"actions\" (inflation, overshoot, "
				       "established, closed, action)");
}

TEST(Protocol, SampleRequest)
{
	auto by_cookie = make_sample_request(12345, 0);
	EXPECT_EQ(by_cookie.dump(), R"({"cmd":"sample","cookie":12345})");
	auto r = parse_request(by_cookie);
	ASSERT_TRUE(r.ok());
	EXPECT_EQ(r->command, Command::Sample);
	EXPECT_EQ(r->cookie, 12345u);
	EXPECT_EQ(r->port, 0u);

	auto by_port = make_sample_request(0, 5012);
	EXPECT_EQ(by_port.dump(), R"({"cmd":"sample","port":5012})");
	r = parse_request(by_port);
	ASSERT_TRUE(r.ok());
	EXPECT_EQ(r->cookie, 0u);
	EXPECT_EQ(r->port, 5012u);

	for (const nlohmann::json &bad :
	     {nlohmann::json{{"cmd", "sample"}},
	      nlohmann::json{{"cmd", "sample"}, {"cookie", 1}, {"port", 2}},
	      nlohmann::json{{"cmd", "sample"}, {"cookie", 0}},
	      nlohmann::json{{"cmd", "sample"}, {"cookie", -1}},
	      nlohmann::json{{"cmd", "sample"}, {"cookie", "1"}},
	      nlohmann::json{{"cmd", "sample"}, {"port", 0}},
	      nlohmann::json{{"cmd", "sample"}, {"port", 65536}},
	      nlohmann::json{{"cmd", "sample"}, {"port", 80.5}}})
		EXPECT_FALSE(parse_request(bad).ok()) << bad.dump();
}

TEST(Protocol, LimitAndOffset)
{
	auto r = parse_request({{"cmd", "sockets"}, {"limit", 10}, {"offset", 30}});
	ASSERT_TRUE(r.ok());
	EXPECT_EQ(r->limit, 10u);
	EXPECT_EQ(r->offset, 30u);
	auto big = parse_request({{"cmd", "sockets"}, {"limit", 1u << 30}});
	ASSERT_TRUE(big.ok());
	EXPECT_EQ(big->limit, max_page_rows);
	auto j = make_request(Command::Sockets, 50, std::nullopt, 100);
	EXPECT_EQ(j.dump(), R"({"cmd":"sockets","limit":50,"offset":100})");
	EXPECT_EQ(make_request(Command::Status, 5, std::nullopt, 9).dump(), R"({"cmd":"status"})");
}

TEST(Protocol, Pages)
{
	Request r;
	r.limit = 10;
	r.offset = 95;
	EXPECT_EQ(page_bounds(r, 100), std::make_pair(size_t{95}, size_t{100}));
	r.offset = 500;
	EXPECT_EQ(page_bounds(r, 100), std::make_pair(size_t{100}, size_t{100}));
	r.offset = 0;
	EXPECT_EQ(page_bounds(r, 100), std::make_pair(size_t{0}, size_t{10}));

	auto mid = parse_page(make_page({1, 2, 3}, 10, 20));
	ASSERT_TRUE(mid.ok());
	EXPECT_EQ(mid->items.size(), 3u);
	EXPECT_EQ(mid->total, 20u);
	EXPECT_EQ(mid->next_offset, std::optional<size_t>(13));
	auto last = parse_page(make_page({1, 2}, 18, 20));
	ASSERT_TRUE(last.ok());
	EXPECT_FALSE(last->next_offset);
	EXPECT_EQ(make_page(nlohmann::json::array(), 0, 0).dump(),
		  R"({"items":[],"next_offset":null,"offset":0,"total":0})");
	// A page that does not advance, or no page at all: refused.
	EXPECT_FALSE(
		parse_page({{"items", nlohmann::json::array()}, {"offset", 5}, {"next_offset", 5}})
			.ok());
	EXPECT_FALSE(parse_page(nlohmann::json::array()).ok());
}

} // namespace
} // namespace rcvgov::control
