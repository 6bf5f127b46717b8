#include "config/config.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>

namespace rcvgov::config {
namespace {

std::vector<Error> errors_of(const std::string &text)
{
	auto r = parse(text, "test.toml");
	return r.ok() ? std::vector<Error>{} : r.errors();
}

Config config_of(const std::string &toml)
{
	auto r = parse(toml, "test.toml");
	if (!r) {
		ADD_FAILURE() << text(r.errors());
		return {};
	}
	return r.value();
}

TEST(Config, EmptyFileIsDefaults)
{
	Config c = config_of("");
	EXPECT_TRUE(c.ladder.shrink_window);
	EXPECT_TRUE(c.ladder.clamp);
	EXPECT_TRUE(c.ladder.reclaim);
	EXPECT_FALSE(c.dry_run);
	EXPECT_FALSE(c.knobs.max_memory);
	EXPECT_FALSE(c.min_stall_ms);
	EXPECT_FALSE(c.force_below_floor);
	EXPECT_EQ(c.safety.destroy_per_round, 32u);
	EXPECT_EQ(c.safety.destroy_per_minute, 128u);
	EXPECT_TRUE(c.safety.breaker);
	EXPECT_EQ(c.safety.reclaim_pause_ms, 3000u);
}

TEST(Config, LadderReclaimPauseIsADeprecatedAlias)
{
	Config c = config_of("[ladder]\nreclaim = true\nreclaim_pause_ms = 700\n");
	EXPECT_EQ(c.safety.reclaim_pause_ms, 700u);
	ASSERT_EQ(c.warnings.size(), 1u);
	EXPECT_EQ(
		c.warnings[0],
		"test.toml:3: ladder.reclaim_pause_ms is deprecated, use safety.reclaim_pause_ms");
}

TEST(Config, SafetyBadValues)
{
	auto e = errors_of("[safety]\ndestroy_per_round = -1\nbreaker = 1\nbogus = 2\n"
			   "[limits]\nmin_stall_ms = \"2s\"\nforce_below_floor = \"yes\"\n");
	std::vector<std::string> keys;
	for (const auto &x : e)
		keys.push_back(x.key);
	EXPECT_EQ(keys, (std::vector<std::string>{"safety.destroy_per_round", "safety.breaker",
						  "safety.bogus", "limits.min_stall_ms",
						  "limits.force_below_floor"}));
}

TEST(Config, FullFile)
{
	Config c = config_of(R"(
[daemon]
interval_ms = 500
dry_run = true
keep_on_exit = true
audit_actions = 16

[limits]
max_memory = "512M"
low_water = 268435456
per_peer = "auto"
min_stall_ms = 5000
force_below_floor = true

[ladder]
shrink_window = false

[safety]
destroy_per_round = 4
destroy_per_minute = 10
breaker = false
reclaim_pause_ms = 1000

[allowlist]
cidrs = ["10.0.0.0/8", "fd00::/8"]
cgroups = ["/system.slice/ssh.service"]
ports = [22]

[[override]]
scope = "peer"
key = "192.0.2.0/24"
limit = "1G"
)");
	EXPECT_EQ(c.interval_ms, 500u);
	EXPECT_TRUE(c.dry_run);
	EXPECT_TRUE(c.keep_on_exit);
	EXPECT_EQ(c.audit_actions, 16u);
	EXPECT_EQ(config_of("").audit_actions, 1024u);
	EXPECT_EQ(c.knobs.max_memory, 512ull << 20);
	EXPECT_EQ(c.knobs.low_water, 268435456ull);
	EXPECT_FALSE(c.knobs.per_peer) << "auto means computed";
	EXPECT_FALSE(c.ladder.shrink_window);
	EXPECT_EQ(c.min_stall_ms, 5000u);
	EXPECT_TRUE(c.force_below_floor);
	EXPECT_EQ(c.safety.destroy_per_round, 4u);
	EXPECT_EQ(c.safety.destroy_per_minute, 10u);
	EXPECT_FALSE(c.safety.breaker);
	EXPECT_EQ(c.safety.reclaim_pause_ms, 1000u);
	EXPECT_TRUE(c.warnings.empty());
	ASSERT_EQ(c.allow.cidrs.size(), 2u);
	EXPECT_EQ(c.allow.ports, std::vector<uint16_t>{22});
	ASSERT_EQ(c.overrides.size(), 1u);
	EXPECT_EQ(c.overrides[0].scope, "peer");
	EXPECT_EQ(c.overrides[0].limit, 1ull << 30);
}

TEST(Config, SyntaxErrorNamesFileAndLine)
{
	auto e = errors_of("[daemon]\ninterval_ms = = 3\n");
	ASSERT_EQ(e.size(), 1u);
	EXPECT_EQ(e[0].line, 2);
	EXPECT_EQ(e[0].text().rfind("test.toml:2: ", 0), 0u) << e[0].text();
}

TEST(Config, UnknownKeyNamesLineAndKey)
{
	auto e = errors_of("[daemon]\ninterval_ms = 100\nintervall_ms = 3\n[bogus]\n");
	ASSERT_EQ(e.size(), 2u);
	EXPECT_EQ(e[0].key, "daemon.intervall_ms");
	EXPECT_EQ(e[0].line, 3);
	EXPECT_NE(e[0].message.find("unknown key"), std::string::npos);
	EXPECT_EQ(e[1].key, "bogus");
}

TEST(Config, BadValues)
{
	auto e = errors_of(R"([limits]
max_memory = "lots"
per_socket = 0
[daemon]
interval_ms = 1
dry_run = "yes"
audit_actions = -1
[allowlist]
cidrs = ["10.0.0.0/33"]
ports = [0]
[[override]]
scope = "galaxy"
key = ""
)");
	std::vector<std::string> keys;
	for (const auto &x : e)
		keys.push_back(x.key);
	for (const char *k :
	     {"limits.max_memory", "limits.per_socket", "daemon.interval_ms", "daemon.dry_run",
	      "daemon.audit_actions", "allowlist.cidrs", "allowlist.ports", "override[0].scope",
	      "override[0].key", "override[0].limit"})
		EXPECT_NE(std::find(keys.begin(), keys.end(), k), keys.end()) << k;
	for (const auto &x : e)
		EXPECT_GT(x.line, 0) << x.text();
}

TEST(Config, ShrinkWindowStrict)
{
	Config c = config_of("[ladder]\nshrink_window = \"strict\"\n");
	EXPECT_TRUE(c.ladder.shrink_window);
	EXPECT_TRUE(c.ladder.shrink_strict);
	c = config_of("[ladder]\nshrink_window = true\n");
	EXPECT_TRUE(c.ladder.shrink_window);
	EXPECT_FALSE(c.ladder.shrink_strict);
	auto e = errors_of("[ladder]\nshrink_window = \"strictly\"\n");
	ASSERT_EQ(e.size(), 1u);
	EXPECT_EQ(e[0].key, "ladder.shrink_window");
	EXPECT_NE(e[0].text().find("\"strict\""), std::string::npos) << e[0].text();
}

// Floats are not integers, whatever their size: 2.6e62 once reached
// toml++'s float-to-int64 conversion, undefined behaviour (config_fuzz).
TEST(Config, FloatsAreNotIntegers)
{
	auto e = errors_of(R"([limits]
max_memory = 2.68435e+62
[daemon]
interval_ms = 50.0
[allowlist]
ports = [80.0]
)");
	std::vector<std::string> keys;
	for (const auto &x : e)
		keys.push_back(x.key);
	EXPECT_EQ(keys, (std::vector<std::string>{"limits.max_memory", "daemon.interval_ms",
						  "allowlist.ports"}));
}

TEST(Config, ImpossibleLimitsAreRejected)
{
	Config c = config_of("[limits]\nmax_memory = \"100M\"\nlow_water = \"200M\"\n");
	Machine m{16ull << 30, {100000, 200000, 300000}, 4096};
	auto r = effective_limits(c, m);
	ASSERT_FALSE(r.ok());
	EXPECT_NE(r.errors().front().text().find("low_water"), std::string::npos)
		<< text(r.errors());
}

TEST(Config, EffectiveLimitsFollowKnobs)
{
	Config c = config_of("[limits]\nmax_memory = \"1G\"\n");
	Machine m{16ull << 30, {100000, 200000, 300000}, 4096};
	auto r = effective_limits(c, m);
	ASSERT_TRUE(r.ok()) << text(r.errors());
	const tracker::Limits &l = r.value();
	EXPECT_EQ(l.max, 1ull << 30);
	EXPECT_EQ(l.low_water, (1ull << 30) / 4 * 3);
}

TEST(Config, MissingFileIsEmbeddedDefaults)
{
	auto r = load("/nonexistent/rcvgov.toml");
	ASSERT_TRUE(r.ok());
	EXPECT_EQ(r->source, "embedded defaults");
	auto strict = load("/nonexistent/rcvgov.toml", true);
	ASSERT_FALSE(strict.ok());
	EXPECT_EQ(strict.errors().front().text(),
		  "/nonexistent/rcvgov.toml: no such file (given with --config)");
}

TEST(Config, Sizes)
{
	EXPECT_EQ(parse_size("512M"), 512ull << 20);
	EXPECT_EQ(parse_size("2G"), 2ull << 30);
	EXPECT_EQ(parse_size("4096"), 4096u);
	EXPECT_FALSE(parse_size("1.5G"));
	EXPECT_FALSE(parse_size("M"));
	EXPECT_FALSE(parse_size("99999999999999999999"));
}

TEST(Config, Cidrs)
{
	auto c = parse_cidr("10.1.0.0/16");
	ASSERT_TRUE(c);
	std::array<uint8_t, 16> a{};
	inet_pton(AF_INET, "10.1.200.3", a.data());
	EXPECT_TRUE(c->contains(AF_INET, a));
	inet_pton(AF_INET, "10.2.0.1", a.data());
	EXPECT_FALSE(c->contains(AF_INET, a));
	EXPECT_FALSE(c->contains(AF_INET6, a));
	auto v6 = parse_cidr("fd00:1::/33");
	ASSERT_TRUE(v6);
	inet_pton(AF_INET6, "fd00:1:7fff::1", a.data());
	EXPECT_TRUE(v6->contains(AF_INET6, a));
	inet_pton(AF_INET6, "fd00:1:8000::1", a.data());
	EXPECT_FALSE(v6->contains(AF_INET6, a));
	EXPECT_FALSE(parse_cidr("10.0.0.0/33"));
	EXPECT_FALSE(parse_cidr("nope/8"));
	EXPECT_FALSE(parse_cidr("10.0.0.0/"));
}

} // namespace
} // namespace rcvgov::config
