// cgroup v2 ids (what the kernel puts in sk_cgrp_data) to paths, for
// service accounts and the cgroup allowlist. The id of a cgroup v2
// directory is its inode number in the cgroup2 mount.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>
#include <unordered_map>

namespace rcvgov::enforce {

// The mount point of the cgroup v2 hierarchy, from mountinfo text (the
// fifth field of the first line whose filesystem type is cgroup2); "" when
// there is none.
std::string cgroup2_mount_in(const std::string &mountinfo);
std::string cgroup2_mount(); // /proc/self/mountinfo, "/sys/fs/cgroup" when absent

class CgroupPaths {
public:
	// root: the cgroup v2 mount; by default the one /proc/self/mountinfo
	// names (hosts with v1 and v2 side by side mount v2 elsewhere, e.g.
	// /sys/fs/cgroup/unified), /sys/fs/cgroup when none is found.
	explicit CgroupPaths(std::string root = cgroup2_mount()) : root_(std::move(root)) {}
	// "/" for the root cgroup, "" when unknown.
	std::string path(uint64_t id);

private:
	void rescan();
	std::string root_;
	std::unordered_map<uint64_t, std::string> paths_;
	bool scanned_ = false;
	std::chrono::steady_clock::time_point last_scan_;
};

} // namespace rcvgov::enforce
