// assemble() (file + command line, at start and at reload), the floor under
// the limits, min_stall, the reload policy and the allowlist.
#include <arpa/inet.h>
#include <cstdlib>
#include <fstream>
#include <gtest/gtest.h>
#include <unistd.h>

#include "config/config.h"
#include "config/reload.h"

namespace rcvgov::config {
namespace {

class TempFile {
public:
	explicit TempFile(const std::string &content)
	{
		char tmpl[] = "/tmp/rcvgov-cfg-XXXXXX";
		int fd = mkstemp(tmpl);
		close(fd);
		path_ = tmpl;
		std::ofstream(path_) << content;
	}
	~TempFile() { unlink(path_.c_str()); }
	const std::string &path() const { return path_; }

private:
	std::string path_;
};

const Machine machine_16g{16ull << 30, {100000, 200000, 300000}, 4096};

TEST(Assemble, CommandLineWinsOverTheFileEveryTime)
{
	TempFile f("[daemon]\ninterval_ms = 2000\nevents_per_sec = 5\n");
	CliOverrides cli{.interval_ms = 500, .events_per_sec = 50, .dry_run = true};
	auto c = assemble(f.path(), cli, true);
	ASSERT_TRUE(c.ok()) << text(c.errors());
	EXPECT_EQ(c->interval_ms, 500u);
	EXPECT_EQ(c->events_per_sec, 50u);
	EXPECT_TRUE(c->dry_run);
	EXPECT_EQ(c->source, f.path());

	// A reload assembles the same way: the overrides are not dropped.
	std::ofstream(f.path()) << "[daemon]\ninterval_ms = 3000\n";
	auto again = assemble(f.path(), cli, true);
	ASSERT_TRUE(again.ok());
	EXPECT_EQ(again->interval_ms, 500u);
	EXPECT_EQ(again->events_per_sec, 50u);

	// Without overrides the file decides, and --dry-run absent does not
	// turn a file's dry_run off.
	std::ofstream(f.path()) << "[daemon]\ninterval_ms = 3000\ndry_run = true\n";
	auto plain = assemble(f.path(), CliOverrides{}, true);
	ASSERT_TRUE(plain.ok());
	EXPECT_EQ(plain->interval_ms, 3000u);
	EXPECT_EQ(plain->events_per_sec, 20u);
	EXPECT_TRUE(plain->dry_run);
}

TEST(Assemble, DefaultPathMissingIsEmbeddedDefaultsExplicitPathMissingIsAnError)
{
	CliOverrides cli;
	cli.interval_ms = 700;
	auto dflt = assemble("/nonexistent/rcvgov.toml", cli, false);
	ASSERT_TRUE(dflt.ok());
	EXPECT_EQ(dflt->source, "embedded defaults");
	EXPECT_EQ(dflt->interval_ms, 700u);

	auto expl = assemble("/nonexistent/rcvgov.toml", CliOverrides{}, true);
	ASSERT_FALSE(expl.ok());
	EXPECT_NE(text(expl.errors()).find("/nonexistent/rcvgov.toml"), std::string::npos);
}

TEST(Assemble, ErrorsAreAList)
{
	TempFile f("[daemon]\ninterval_ms = 1\n[limits]\nmax_memroy = 5\n");
	auto c = assemble(f.path(), CliOverrides{}, true);
	ASSERT_FALSE(c.ok());
	ASSERT_EQ(c.errors().size(), 2u);
	EXPECT_EQ(c.errors()[0].text().rfind(f.path() + ":2: daemon.interval_ms: ", 0), 0u)
		<< text(c.errors());
	// It is a std::variant too.
	EXPECT_NE(std::get_if<Errors>(&c), nullptr);
}

TEST(Limits, FloorUnderMaxMemory)
{
	EXPECT_EQ(memory_floor(machine_16g), 64ull << 20); // RAM/256
	EXPECT_EQ(memory_floor(Machine{1ull << 30, {}, 4096}), 16ull << 20);

	Config c;
	c.source = "rcvgov.toml";
	c.knobs.max_memory = 16ull << 10; // "16K" typed for "16G"
	c.knobs.low_water = 8ull << 10;
	auto r = effective_limits(c, machine_16g);
	ASSERT_FALSE(r.ok());
	const Error &e = r.errors().front();
	EXPECT_EQ(e.key, "limits.max_memory");
	EXPECT_NE(e.message.find("below the floor of 64 MiB"), std::string::npos) << e.text();
	EXPECT_NE(e.message.find("limits.force_below_floor = true"), std::string::npos);

	c.force_below_floor = true;
	auto forced = effective_limits(c, machine_16g);
	ASSERT_TRUE(forced.ok()) << text(forced.errors());
	EXPECT_EQ(forced->max, 16ull << 10);

	c.force_below_floor = false;
	c.knobs.max_memory = 64ull << 20; // at the floor: accepted
	c.knobs.low_water.reset();
	EXPECT_TRUE(effective_limits(c, machine_16g).ok());
}

TEST(Limits, ErrorsFoundLaterStillNameTheirLine)
{
	auto c = parse("[limits]\nmax_memory = \"8K\"\nlow_water = \"1G\"\n", "r.toml");
	ASSERT_TRUE(c.ok());
	auto r = effective_limits(c.value(), machine_16g);
	ASSERT_FALSE(r.ok());
	ASSERT_EQ(r.errors().size(), 2u) << text(r.errors());
	EXPECT_EQ(r.errors()[0].text().rfind("r.toml:2: limits.max_memory: 8 KiB (8192 bytes) "
					     "is below the floor of 64 MiB",
					     0),
		  0u)
		<< r.errors()[0].text();
	EXPECT_EQ(r.errors()[1].text().rfind("r.toml:3: limits.low_water: ", 0), 0u)
		<< r.errors()[1].text();
}

TEST(Limits, MinStall)
{
	Config c;
	auto dflt = effective_limits(c, machine_16g);
	ASSERT_TRUE(dflt.ok());
	EXPECT_EQ(dflt->min_stall, std::chrono::milliseconds(2000));
	c.min_stall_ms = 500;
	EXPECT_EQ(effective_limits(c, machine_16g)->min_stall, std::chrono::milliseconds(500));
}

TEST(Reload, ChangesAreListedLiveOrRefused)
{
	Config running, reloaded;
	reloaded.interval_ms = 500;
	reloaded.events_per_sec = 50;
	reloaded.knobs.max_memory = 1ull << 30;
	auto ch = reload_changes(running, reloaded);
	ASSERT_EQ(ch.changes.size(), 3u);
	EXPECT_EQ(ch.refused(), 1u);
	EXPECT_EQ(ch.summary(), "daemon.interval_ms 1000 -> 500 (live); daemon.events_per_sec 20 "
				"-> 50 refused: fixed at BPF load, restart to apply; "
				"limits.max_memory auto -> 1073741824 (live)");

	keep_restart_only(running, reloaded);
	EXPECT_EQ(reloaded.events_per_sec, 20u) << "the running value stays in force";
	EXPECT_EQ(reloaded.interval_ms, 500u);
	EXPECT_EQ(reload_changes(running, running).summary(), "no change");
}

TEST(Reload, ListsAndSafetyAreCompared)
{
	Config running, reloaded;
	reloaded.allow.cgroups = {"/system.slice"};
	reloaded.allow.cidrs = {*parse_cidr("10.0.0.0/8")};
	reloaded.safety.breaker = false;
	reloaded.overrides = {{"peer", "192.0.2.0/24", 1024}};
	auto ch = reload_changes(running, reloaded);
	EXPECT_EQ(ch.refused(), 0u);
	std::string s = ch.summary();
	EXPECT_NE(s.find("safety.breaker true -> false (live)"), std::string::npos) << s;
	EXPECT_NE(s.find("allowlist.cidrs [] -> [10.0.0.0/8] (live)"), std::string::npos) << s;
	EXPECT_NE(s.find("allowlist.cgroups [] -> [/system.slice] (live)"), std::string::npos);
	EXPECT_NE(s.find("override [] -> [peer 192.0.2.0/24 1024] (live)"), std::string::npos);
}

TEST(Reload, EveryPolicyRowHasAReasonWhenRefused)
{
	bool events = false;
	for (const auto &p : reload_policy()) {
		if (p.reload == Reload::Restart) {
			EXPECT_FALSE(p.why.empty()) << p.key;
		}
		events |= p.key == "daemon.events_per_sec" && p.reload == Reload::Restart;
	}
	EXPECT_TRUE(events);
}

TEST(Allowlist, CgroupSubtreeByComponents)
{
	Allowlist a;
	a.cgroups = {"/a/b", "/system.slice/sshd.service"};
	EXPECT_TRUE(a.cgroup_allowed("/a/b"));
	EXPECT_TRUE(a.cgroup_allowed("/a/b/c"));
	EXPECT_TRUE(a.cgroup_allowed("/a/b/c/d"));
	EXPECT_FALSE(a.cgroup_allowed("/a/bc"));
	EXPECT_FALSE(a.cgroup_allowed("/a"));
	EXPECT_FALSE(a.cgroup_allowed("/"));
	EXPECT_FALSE(a.cgroup_allowed(""));
	EXPECT_TRUE(a.cgroup_allowed("/system.slice/sshd.service/session"));
	EXPECT_FALSE(a.cgroup_allowed("/system.slice/sshd.services"));
	a.cgroups = {"/"};
	EXPECT_TRUE(a.cgroup_allowed("/anything/at/all"));
}

TEST(Allowlist, ConfigTrailingSlashIsTheSameSubtree)
{
	auto c = parse("[allowlist]\ncgroups = [\"/a/b/\"]\n", "t.toml");
	ASSERT_TRUE(c.ok()) << text(c.errors());
	EXPECT_EQ(c->allow.cgroups, std::vector<std::string>{"/a/b"});
	EXPECT_TRUE(c->allow.cgroup_allowed("/a/b/c"));
	EXPECT_FALSE(c->allow.cgroup_allowed("/a/bc"));
}

TEST(Allowlist, PeersAndPorts)
{
	Allowlist a;
	a.cidrs = {*parse_cidr("10.0.0.0/8"), *parse_cidr("fd00::/8")};
	a.ports = {22, 443};
	std::array<uint8_t, 16> addr{};
	inet_pton(AF_INET, "10.9.8.7", addr.data());
	EXPECT_TRUE(a.peer_allowed(AF_INET, addr));
	inet_pton(AF_INET, "11.0.0.1", addr.data());
	EXPECT_FALSE(a.peer_allowed(AF_INET, addr));
	inet_pton(AF_INET6, "fd12::1", addr.data());
	EXPECT_TRUE(a.peer_allowed(AF_INET6, addr));
	inet_pton(AF_INET6, "::ffff:10.1.2.3", addr.data());
	EXPECT_TRUE(a.peer_allowed(AF_INET6, addr)) << "IPv4-mapped matches the IPv4 CIDR";
	inet_pton(AF_INET6, "::ffff:11.1.2.3", addr.data());
	EXPECT_FALSE(a.peer_allowed(AF_INET6, addr));
	EXPECT_TRUE(a.port_allowed(22));
	EXPECT_FALSE(a.port_allowed(80));
	EXPECT_TRUE(Allowlist{}.empty());
	EXPECT_FALSE(a.empty());
}

} // namespace
} // namespace rcvgov::config
