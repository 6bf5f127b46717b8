#include "enforce/shrink_sysctl.h"

#include <cerrno>
#include <fcntl.h>
#include <spdlog/spdlog.h>
#include <string>
#include <unistd.h>

#include "common/errno_text.h"
#include "common/unique_fd.h"

namespace rcvgov::enforce {

namespace {

// /proc/sys/net resolves to the namespace of the task that opens it, so
// these must run after setns() into the target namespace.
constexpr const char *path = "/proc/sys/net/ipv4/tcp_shrink_window";

} // namespace

int read_shrink_window(std::string &err)
{
	UniqueFd fd(open(path, O_RDONLY | O_CLOEXEC));
	if (!fd) {
		err = std::string(path) + ": " + errno_text(errno);
		return -1;
	}
	char buf[16] = {};
	ssize_t n = read(fd.get(), buf, sizeof(buf) - 1);
	if (n <= 0) {
		err = std::string(path) + ": read: " + errno_text(errno);
		return -1;
	}
	return std::atoi(buf);
}

bool write_shrink_window(int value, std::string &err)
{
	UniqueFd fd(open(path, O_WRONLY | O_CLOEXEC));
	std::string v = std::to_string(value) + "\n";
	if (!fd || write(fd.get(), v.data(), v.size()) != static_cast<ssize_t>(v.size())) {
		err = std::string(path) + ": " + errno_text(errno);
		return false;
	}
	return true;
}

size_t ShrinkWindowSysctl::apply(const std::vector<netns::Namespace> &namespaces)
{
	size_t newly = 0;
	for (const auto &ns : namespaces) {
		auto [it, fresh] = states_.try_emplace(ns.ino);
		NetnsSysctlState &st = it->second;
		// Known namespaces are revisited only if we could not act before
		// and someone may have changed the value since: cheap enough.
		if (!fresh && (st.now == 1 || !st.exists))
			continue;
		st.origin = ns.origin;
		std::string err;
		bool entered = netns::run_in(
			ns,
			[&] {
				std::string rerr;
				int cur = read_shrink_window(rerr);
				if (cur < 0) {
					st.exists = false;
					st.error = rerr;
					return;
				}
				st.exists = true;
				if (fresh)
					st.before = cur;
				if (cur == 1) {
					st.now = 1;
					return;
				}
				if (dry_run_) {
					if (fresh)
						spdlog::info(
							"dry-run: would have set "
							"net.ipv4.tcp_shrink_window=1 in netns {} "
							"(inode {}, now {})",
							ns.origin, ns.ino, cur);
					st.now = cur;
					return;
				}
				std::string werr;
				if (!write_shrink_window(1, werr)) {
					st.error = werr;
					st.now = cur;
					return;
				}
				st.now = 1;
				st.changed = true;
				++newly;
				spdlog::info(
					"set net.ipv4.tcp_shrink_window=1 in netns {} (inode {}, "
					"was {})",
					ns.origin, ns.ino, cur);
			},
			err);
		if (!entered) {
			st.error = err;
			// Entering can fail for a namespace that is going away.
			if (fresh)
				spdlog::debug("cannot enter netns {}: {}", ns.origin, err);
		}
	}
	return newly;
}

void ShrinkWindowSysctl::restore(const std::vector<netns::Namespace> &namespaces)
{
	for (const auto &ns : namespaces) {
		auto it = states_.find(ns.ino);
		if (it == states_.end() || !it->second.changed)
			continue;
		NetnsSysctlState &st = it->second;
		std::string err;
		netns::run_in(
			ns,
			[&] {
				if (write_shrink_window(st.before, err)) {
					st.now = st.before;
					st.changed = false;
					spdlog::info("restored net.ipv4.tcp_shrink_window={} in "
						     "netns {}",
						     st.before, ns.origin);
				}
			},
			err);
		if (!err.empty())
			spdlog::warn("could not restore tcp_shrink_window in netns {}: {}",
				     ns.origin, err);
	}
}

void ShrinkWindowSysctl::forget_missing(const std::vector<netns::Namespace> &namespaces)
{
	std::map<uint64_t, bool> live;
	for (const auto &ns : namespaces)
		live[ns.ino] = true;
	std::erase_if(states_, [&](const auto &kv) { return !live.count(kv.first); });
}

nlohmann::json ShrinkWindowSysctl::report() const
{
	nlohmann::json arr = nlohmann::json::array();
	for (const auto &[ino, st] : states_) {
		nlohmann::json j = {{"netns_inode", ino},
				    {"origin", st.origin},
				    {"sysctl_exists", st.exists},
				    {"before", st.before},
				    {"now", st.now},
				    {"changed_by_rcvgov", st.changed}};
		if (!st.error.empty())
			j["error"] = st.error;
		arr.push_back(j);
	}
	return arr;
}

} // namespace rcvgov::enforce
