#include "enforce/cgroup_paths.h"

#include <filesystem>
#include <sys/stat.h>

namespace rcvgov::enforce {

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
