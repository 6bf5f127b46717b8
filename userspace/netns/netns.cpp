#include "netns/netns.h"

#include <cerrno>
#include <cstdlib>
#include <dirent.h>
#include <fcntl.h>
#include <sched.h>
#include <set>
#include <spdlog/spdlog.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <utility>

#include "common/errno_text.h"

namespace rcvgov::netns {

namespace {

void add(const std::string &path, std::set<std::pair<uint64_t, uint64_t>> &seen,
	 std::vector<Namespace> &out)
{
	struct stat st;
	if (stat(path.c_str(), &st) != 0)
		return;
	auto key =
		std::make_pair(static_cast<uint64_t>(st.st_dev), static_cast<uint64_t>(st.st_ino));
	if (seen.count(key))
		return;
	int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return; // the process exited meanwhile
	seen.insert(key);
	out.push_back(Namespace{key.first, key.second, path, UniqueFd(fd)});
}

void scan_dir(const char *dir, const std::function<void(const char *)> &fn)
{
	DIR *d = opendir(dir);
	if (!d)
		return;
	while (dirent *e = readdir(d)) {
		if (e->d_name[0] == '.')
			continue;
		fn(e->d_name);
	}
	closedir(d);
}

} // namespace

uint64_t current_cookie()
{
	UniqueFd fd(socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0));
	uint64_t cookie = 0;
	socklen_t len = sizeof(cookie);
	if (!fd || getsockopt(fd.get(), SOL_SOCKET, SO_NETNS_COOKIE, &cookie, &len) != 0)
		return 0;
	return cookie;
}

std::vector<Namespace> enumerate()
{
	std::vector<Namespace> out;
	std::set<std::pair<uint64_t, uint64_t>> seen;
	// Our own namespace first: it is where the daemon runs.
	add("/proc/self/ns/net", seen, out);
	scan_dir("/run/netns",
		 [&](const char *n) { add(std::string("/run/netns/") + n, seen, out); });
	scan_dir("/proc", [&](const char *n) {
		if (n[0] < '0' || n[0] > '9')
			return;
		add(std::string("/proc/") + n + "/ns/net", seen, out);
	});
	return out;
}

bool run_in(const Namespace &ns, const std::function<void()> &fn, std::string &err)
{
	// Our own namespace needs no setns() (which would need CAP_SYS_ADMIN
	// even to "enter" the namespace we are already in).
	struct stat own;
	if (stat("/proc/thread-self/ns/net", &own) == 0 &&
	    static_cast<uint64_t>(own.st_dev) == ns.dev &&
	    static_cast<uint64_t>(own.st_ino) == ns.ino) {
		fn();
		return true;
	}
	UniqueFd self(open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC));
	if (!self) {
		err = "open /proc/thread-self/ns/net: " + errno_text(errno);
		return false;
	}
	if (setns(ns.fd.get(), CLONE_NEWNET) != 0) {
		err = "setns " + ns.origin + ": " + errno_text(errno);
		return false;
	}
	struct Back {
		int fd;
		~Back()
		{
			if (setns(fd, CLONE_NEWNET) != 0) {
				spdlog::critical(
					"cannot return to the daemon's network namespace: {}",
					errno_text(errno));
				std::abort();
			}
		}
	} back{self.get()};
	fn();
	return true;
}

} // namespace rcvgov::netns
