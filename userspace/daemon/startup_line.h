// The log line rcvgovd prints once it is running: which configuration, which
// mode, the limits in force and the attach path of every hook, so that one
// journal line answers "what is this daemon doing on this host".
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "bpf/attach_plan.h"

namespace rcvgov {

struct StartupFacts {
	std::string config_source; // a path, or "embedded defaults"
	std::string mode;	   // enforcing, dry-run, breaker-tripped
	uint64_t max = 0, low_water = 0;
	std::vector<bpf::HookPath> hooks; // empty: no BPF (sock_diag polling)
	std::string source;		  // the snapshot source's name
	size_t sockets = 0, namespaces = 0;
	std::string socket_path;
};

// "rcvgovd 1.2.0 running: config /etc/rcvgov/rcvgov.toml, mode enforcing,
// limits system max 1.5G low water 1.1G, attach coalesce=fexit/... clamp=...,
// source iter/tcp, 12 sockets in 3 network namespaces, control socket ..."
std::string startup_line(const StartupFacts &f);

} // namespace rcvgov
