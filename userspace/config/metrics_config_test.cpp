// [metrics]: defaults, values, and errors that name the key.
#include <arpa/inet.h>
#include <gtest/gtest.h>

#include "config/config.h"
#include "config/reload.h"

namespace rcvgov::config {
namespace {

TEST(MetricsConfig, Defaults)
{
	auto c = parse("", "t.toml");
	ASSERT_TRUE(c.ok());
	EXPECT_TRUE(c->metrics.enabled);
	EXPECT_EQ(c->metrics.listen, "127.0.0.1:9753");
	EXPECT_EQ(c->metrics.top_services, 10u);
	EXPECT_TRUE(parse_listen(c->metrics.listen));
}

TEST(MetricsConfig, Values)
{
	auto c = parse("[metrics]\nenabled = false\nlisten = \"[::1]:9100\"\ntop_services = 0\n",
		       "t.toml");
	ASSERT_TRUE(c.ok()) << text(c.errors());
	EXPECT_FALSE(c->metrics.enabled);
	EXPECT_EQ(c->metrics.listen, "[::1]:9100");
	EXPECT_EQ(c->metrics.top_services, 0u);
}

TEST(MetricsConfig, ErrorsNameTheKey)
{
	auto c = parse("[metrics]\nlisten = \"localhost:9753\"\ntop_services = 1000\n"
		       "enabled = \"yes\"\nport = 1\n",
		       "t.toml");
	ASSERT_FALSE(c.ok());
	std::vector<std::string> keys;
	for (const auto &e : c.errors())
		keys.push_back(e.key);
	EXPECT_EQ(keys, (std::vector<std::string>{"metrics.listen", "metrics.top_services",
						  "metrics.enabled", "metrics.port"}));
	EXPECT_NE(c.errors()[0].text().find("t.toml:2: metrics.listen: must be \"ADDRESS:PORT\""),
		  std::string::npos)
		<< c.errors()[0].text();
	EXPECT_NE(c.errors()[0].message.find("enabled = false"), std::string::npos);
}

TEST(MetricsConfig, ParseListen)
{
	auto v4 = parse_listen("0.0.0.0:9753");
	ASSERT_TRUE(v4);
	EXPECT_EQ(v4->family, AF_INET);
	EXPECT_EQ(v4->port, 9753);
	auto v6 = parse_listen("[::]:1");
	ASSERT_TRUE(v6);
	EXPECT_EQ(v6->family, AF_INET6);
	for (const char *bad : {"", ":9753", "127.0.0.1", "127.0.0.1:", "127.0.0.1:0",
				"127.0.0.1:65536", "127.0.0.1:80x", "::1:9753", "[::1]", "[]:80",
				"[127.0.0.1]:80", "host:80", "127.0.0.1:-1"})
		EXPECT_FALSE(parse_listen(bad)) << bad;
}

TEST(MetricsConfig, ReloadIsLive)
{
	Config a, b;
	b.metrics.listen = "127.0.0.1:9100";
	b.metrics.enabled = false;
	auto ch = reload_changes(a, b);
	EXPECT_EQ(ch.refused(), 0u);
	EXPECT_NE(ch.summary().find("metrics.listen 127.0.0.1:9753 -> 127.0.0.1:9100 (live)"),
		  std::string::npos)
		<< ch.summary();
	EXPECT_NE(ch.summary().find("metrics.enabled true -> false (live)"), std::string::npos);
}

} // namespace
} // namespace rcvgov::config
