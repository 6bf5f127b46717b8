#include "daemon/startup_line.h"

#include <gtest/gtest.h>

#include "common/version.h"

namespace rcvgov {
namespace {

StartupFacts facts()
{
	StartupFacts f;
	f.config_source = "embedded defaults";
	f.mode = "enforcing";
	f.max = 1536ULL << 20;
	f.low_water = 1152ULL << 20;
	f.hooks = {{"coalesce", "fexit/tcp_try_coalesce", true, ""},
		   {"clamp", "tp_btf/tcp_rcvbuf_prune", false, "no fexit"}};
	f.source = "iter/tcp";
	f.sockets = 12;
	f.namespaces = 3;
	f.socket_path = "/run/rcvgov/rcvgovd.sock";
	return f;
}

TEST(StartupLine, NamesConfigModeLimitsAndAttachPaths)
{
	const std::string s = startup_line(facts());
	EXPECT_EQ(s, "rcvgovd " + std::string(version()) +
			     " running: config embedded defaults, mode enforcing, limits system "
			     "max 1.5G low water 1.1G, attach coalesce=fexit/tcp_try_coalesce "
			     "clamp=tp_btf/tcp_rcvbuf_prune, source iter/tcp, 12 sockets in 3 "
			     "network namespaces, control socket /run/rcvgov/rcvgovd.sock");
}

TEST(StartupLine, SaysDryRunAndTheFileAndNoBpf)
{
	StartupFacts f = facts();
	f.config_source = "/etc/rcvgov/rcvgov.toml";
	f.mode = "dry-run";
	f.hooks.clear();
	f.source = "sock_diag";
	const std::string s = startup_line(f);
	EXPECT_NE(s.find("config /etc/rcvgov/rcvgov.toml, mode dry-run,"), std::string::npos) << s;
	EXPECT_NE(s.find("attach none (no BPF: sock_diag polling)"), std::string::npos) << s;
}

} // namespace
} // namespace rcvgov
