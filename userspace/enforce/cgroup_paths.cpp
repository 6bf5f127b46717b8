#include "enforce/cgroup_paths.h"

#include <filesystem>
#include <fstream>
#include <sstream>
#include <sys/stat.h>

namespace rcvgov::enforce {

std::string cgroup2_mount_in(const std::string &mountinfo)
{
	std::istringstream in(mountinfo);
	std::string line;
	while (std::getline(in, line)) {
		// id parent major:minor root mount-point options [optional...] - fstype source ...
		auto dash = line.find(" - ");
		if (dash == std::string::npos)
			continue;
		std::istringstream tail(line.substr(dash + 3));
		std::string fstype;
		tail >> fstype;
		if (fstype != "cgroup2")
			continue;
		std::istringstream head(line.substr(0, dash));
		std::string f[5];
		for (auto &x : f)
			head >> x;
		return f[4];
	}
	return "";
}

std::string cgroup2_mount()
{
	std::ifstream f("/proc/self/mountinfo");
	std::stringstream ss;
	ss << f.rdbuf();
	std::string m = cgroup2_mount_in(ss.str());
	return m.empty() ? "/sys/fs/cgroup" : m;
}

void CgroupPaths::rescan()
{
	paths_.clear();
	namespace fs = std::filesystem;
	std::error_code ec;
	struct stat st;
	if (stat(root_.c_str(), &st) == 0)
		paths_.insert_or_assign(st.st_ino, std::string(1, '/'));
	for (auto it = fs::recursive_directory_iterator(
		     root_, fs::directory_options::skip_permission_denied, ec);
	     !ec && it != fs::recursive_directory_iterator(); it.increment(ec)) {
		if (!it->is_directory(ec))
			continue;
		if (stat(it->path().c_str(), &st) != 0)
			continue;
		paths_[st.st_ino] = it->path().string().substr(root_.size());
	}
	scanned_ = true;
	last_scan_ = std::chrono::steady_clock::now();
}

std::string CgroupPaths::path(uint64_t id)
{
	if (id == 0)
		return "";
	if (!scanned_)
		rescan();
	auto it = paths_.find(id);
	if (it != paths_.end())
		return it->second;
	// A cgroup created since the last scan: rescan, but at most once a
	// second (each scan walks the whole hierarchy).
	if (std::chrono::steady_clock::now() - last_scan_ > std::chrono::seconds(1)) {
		rescan();
		it = paths_.find(id);
		if (it != paths_.end())
			return it->second;
	}
	return "";
}

} // namespace rcvgov::enforce
