// cgroup v2 ids (what the kernel puts in sk_cgrp_data) to paths, for
// service accounts and the cgroup allowlist. The id of a cgroup v2
// directory is its inode number in the cgroup2 mount.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>
#include <unordered_map>

namespace rcvgov::enforce {

class CgroupPaths {
public:
	explicit CgroupPaths(std::string root = "/sys/fs/cgroup") : root_(std::move(root)) {}
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
