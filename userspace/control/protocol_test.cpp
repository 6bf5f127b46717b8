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
	EXPECT_EQ(command_names(), "status, sockets, events, resources");
}

TEST(Protocol, UnknownCommandListsTheKnownOnes)
{
	auto r = parse_command("stauts");
	ASSERT_FALSE(r.ok());
	EXPECT_EQ(r.error().message,
		  "unknown command \"stauts\" (try status, sockets, events, resources)");
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
	EXPECT_EQ(all->limit, SIZE_MAX);
	EXPECT_EQ(all->event_types.size(), event_types.size());

	auto one = parse_request({{"cmd", "events"}, {"type", "closed"}});
	ASSERT_TRUE(one.ok());
	EXPECT_EQ(one->event_types, std::vector<EventType>{EventType::Closed});

	for (const nlohmann::json &bad :
	     {nlohmann::json{{"cmd", "events"}, {"type", 3}},
	      nlohmann::json{{"cmd", "events"}, {"type", "nope"}},
	      nlohmann::json{{"cmd", "sockets"}, {"limit", -1}},
	      nlohmann::json{{"cmd", "sockets"}, {"limit", "ten"}}, nlohmann::json{{"cmd", "nope"}},
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

} // namespace
} // namespace rcvgov::control
