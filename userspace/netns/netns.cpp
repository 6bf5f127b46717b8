// The real kernel side of netns/: setns(), SO_NETNS_COOKIE, the namespace
// files under /proc and /run/netns.
#include "netns/netns.h"

#include <cerrno>
#include <cstdlib>
#include <fcntl.h>
#include <sched.h>
#include <spdlog/spdlog.h>
#include <sys/socket.h>
#include <sys/stat.h>

#include "common/errno_text.h"

namespace rcvgov::netns {

namespace {

constexpr const char *thread_self = "/proc/thread-self/ns/net";

class SystemOps final : public NamespaceOps {
public:
	Result<Id> stat(const std::string &path) override
	{
		struct stat st;
		if (::stat(path.c_str(), &st) != 0)
			return Error::sys(errno, "stat " + path);
		return Id{static_cast<uint64_t>(st.st_dev), static_cast<uint64_t>(st.st_ino)};
	}

	Result<Opened> open(const std::string &path) override
	{
		UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
		if (!fd)
			return Error::sys(errno, "open " + path);
		struct stat st;
		if (fstat(fd.get(), &st) != 0)
			return Error::sys(errno, "fstat " + path);
		return Opened{std::move(fd), Id{static_cast<uint64_t>(st.st_dev),
						static_cast<uint64_t>(st.st_ino)}};
	}

	Result<uint64_t> cookie_of(const Namespace &ns) override
	{
		return run_in(ns, [] { return current_cookie(); });
	}
};

} // namespace

std::unique_ptr<NamespaceOps> system_ops()
{
	return std::make_unique<SystemOps>();
}

Result<uint64_t> current_cookie()
{
	UniqueFd fd(socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0));
	if (!fd)
		fd.reset(socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0));
	if (!fd)
		return Error::sys(errno, "socket");
	uint64_t cookie = 0;
	socklen_t len = sizeof(cookie);
	if (getsockopt(fd.get(), SOL_SOCKET, SO_NETNS_COOKIE, &cookie, &len) != 0)
		return Error::sys(errno, "getsockopt(SO_NETNS_COOKIE) (needs Linux 5.14+)");
	return cookie;
}

namespace detail {

Entered::~Entered()
{
	if (!back_)
		return;
	if (setns(back_.get(), CLONE_NEWNET) != 0) {
		spdlog::critical("cannot return to the daemon's network namespace: {}",
				 errno_text(errno));
		std::abort();
	}
}

Result<Entered> enter(const Namespace &ns)
{
	// Our own namespace needs no setns() (which would need CAP_SYS_ADMIN
	// even to "enter" the namespace we are already in).
	struct stat own;
	if (::stat(thread_self, &own) == 0 && static_cast<uint64_t>(own.st_dev) == ns.dev &&
	    static_cast<uint64_t>(own.st_ino) == ns.ino)
		return Entered();
	UniqueFd self(::open(thread_self, O_RDONLY | O_CLOEXEC));
	if (!self)
		return Error::sys(errno, std::string("open ") + thread_self);
	if (!ns.fd)
		return Error::msg("netns " + ns.origin + " is not held open", EBADF);
	if (setns(ns.fd.get(), CLONE_NEWNET) != 0)
		return Error::sys(errno, "setns " + ns.origin + " (netns cookie " +
						 std::to_string(ns.cookie) + ")");
	return Entered(std::move(self));
}

} // namespace detail

} // namespace rcvgov::netns
