// Network namespaces on this host. iter/tcp and sock_diag only see the
// namespace they are opened in, so the daemon visits every namespace it can
// find: those of running processes (containers) and the named ones.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "common/unique_fd.h"

namespace rcvgov::netns {

struct Namespace {
	uint64_t dev = 0;
	uint64_t ino = 0;   // the netns inode, stable while it exists
	std::string origin; // a path it was found through, for logs
	UniqueFd fd;	    // O_RDONLY|O_CLOEXEC, usable with setns()
};

// Every distinct network namespace reachable through /proc/<pid>/ns/net
// and /run/netns/*. Entries that vanish while scanning are skipped.
std::vector<Namespace> enumerate();

// The netns cookie of the calling thread's namespace (SO_NETNS_COOKIE,
// 5.14+), 0 when the kernel cannot tell.
uint64_t current_cookie();

// Runs fn inside ns on the calling thread and always switches back; if
// switching back fails the process is in an unknown state and aborts.
// Returns false (with err) when entering ns failed.
bool run_in(const Namespace &ns, const std::function<void()> &fn, std::string &err);

} // namespace rcvgov::netns
