// Step 1 of the enforcement ladder: net.ipv4.tcp_shrink_window=1 in every
// network namespace (it is per namespace and every new one starts at 0),
// remembering what each was before so it can be put back.
#pragma once

#include <cstdint>
#include <map>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "netns/netns.h"

namespace rcvgov::enforce {

struct NetnsSysctlState {
	std::string origin;  // a path the namespace was found through
	bool exists = false; // the kernel has the sysctl
	int before = -1;     // value found the first time we looked
	int now = -1;	     // value after our last visit
	bool changed = false;
	std::string error;
};

class ShrinkWindowSysctl {
public:
	explicit ShrinkWindowSysctl(bool dry_run) : dry_run_(dry_run) {}

	// Visits namespaces not seen before (cheap for the others); returns
	// how many were newly set to 1.
	size_t apply(const std::vector<netns::Namespace> &namespaces);
	// Puts back the value every namespace had before we changed it.
	void restore(const std::vector<netns::Namespace> &namespaces);
	// Namespaces that no longer exist are forgotten.
	void forget_missing(const std::vector<netns::Namespace> &namespaces);

	nlohmann::json report() const;
	const std::map<uint64_t, NetnsSysctlState> &states() const { return states_; }

private:
	bool dry_run_;
	std::map<uint64_t, NetnsSysctlState> states_; // by netns inode
};

// Reads/writes /proc/sys/net/ipv4/tcp_shrink_window of the CURRENT netns.
// -1 with err set when missing or unreadable.
int read_shrink_window(std::string &err);
bool write_shrink_window(int value, std::string &err);

} // namespace rcvgov::enforce
