#include "enforce/owner_fd.h"

#include <cerrno>
#include <charconv>
#include <cstring>
#include <dirent.h>
#include <fcntl.h>
#include <memory>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <string_view>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "common/errno_text.h"

namespace rcvgov::enforce {

namespace {

// Through syscall(): Debian 12's <sys/pidfd.h> (glibc 2.36) declares the
// wrappers without C linkage, so C++ cannot link against them.
int sys_pidfd_open(pid_t pid)
{
	return static_cast<int>(syscall(SYS_pidfd_open, pid, 0));
}

int sys_pidfd_getfd(int pidfd, int fd)
{
	return static_cast<int>(syscall(SYS_pidfd_getfd, pidfd, fd, 0));
}

Result<uint32_t> get_int(int sock, int level, int opt, const char *what)
{
	int v = 0;
	socklen_t len = sizeof(v);
	if (getsockopt(sock, level, opt, &v, &len) != 0)
		return Error::sys(errno, what);
	return static_cast<uint32_t>(v);
}

struct DirClose {
	void operator()(DIR *d) const { closedir(d); }
};

} // namespace

Result<int> find_socket_fd(pid_t pid, uint32_t ino, const std::string &proc)
{
	const std::string dir = proc + "/" + std::to_string(pid) + "/fd";
	std::unique_ptr<DIR, DirClose> d(opendir(dir.c_str()));
	if (!d)
		return Error::sys(errno == ENOENT ? ESRCH : errno, "opening " + dir);
	char want[32];
	auto [end, ec] = std::to_chars(want, want + sizeof(want), ino);
	const std::string target = "socket:[" + std::string(want, end) + "]";
	char link[64];
	while (dirent *e = readdir(d.get())) {
		if (e->d_name[0] < '0' || e->d_name[0] > '9')
			continue;
		ssize_t n = readlinkat(dirfd(d.get()), e->d_name, link, sizeof(link));
		if (n < 0 || std::string_view(link, size_t(n)) != target)
			continue;
		int fd = 0;
		std::from_chars(e->d_name, e->d_name + std::strlen(e->d_name), fd);
		return fd;
	}
	return Error::msg("process " + std::to_string(pid) + " holds no " + target, ENOENT);
}

Result<UniqueFd> borrow_socket(pid_t pid, int fd, uint64_t cookie)
{
	UniqueFd pidfd(sys_pidfd_open(pid));
	if (!pidfd)
		return Error::sys(errno, "pidfd_open(" + std::to_string(pid) + ")");
	UniqueFd sock(sys_pidfd_getfd(pidfd.get(), fd));
	if (!sock)
		return Error::sys(errno, "pidfd_getfd(" + std::to_string(pid) + ", " +
						 std::to_string(fd) + ")");
	// Between the finder and here the owner may have closed the descriptor
	// and reused its number, or the pid may name another process: act only
	// on the very socket decided on.
	uint64_t have = 0;
	socklen_t len = sizeof(have);
	if (getsockopt(sock.get(), SOL_SOCKET, SO_COOKIE, &have, &len) != 0 || have != cookie)
		return Error::msg("descriptor " + std::to_string(fd) + " of process " +
					  std::to_string(pid) + " now names another socket",
				  ESTALE);
	return sock;
}

ActResult apply_on_fd(int sock, const Action &a)
{
	auto before = get_int(sock, IPPROTO_TCP, TCP_WINDOW_CLAMP, "TCP_WINDOW_CLAMP");
	if (!before)
		return ActResult::of(Outcome::Failed, before.error().errnum,
				     before.error().message);
	int val = static_cast<int>(a.window_clamp);
	if (setsockopt(sock, IPPROTO_TCP, TCP_WINDOW_CLAMP, &val, sizeof(val)) != 0)
		return ActResult::of(Outcome::Failed, errno, errno_text(errno));
	if (a.kind == Kind::Clamp && a.rcvbuf_lock) {
		val = static_cast<int>(a.rcvbuf_lock / 2);
		if (setsockopt(sock, SOL_SOCKET, SO_RCVBUF, &val, sizeof(val)) != 0)
			return ActResult::of(Outcome::Failed, errno, errno_text(errno));
	}
	auto after = get_int(sock, IPPROTO_TCP, TCP_WINDOW_CLAMP, "TCP_WINDOW_CLAMP");
	auto rcvbuf = get_int(sock, SOL_SOCKET, SO_RCVBUF, "SO_RCVBUF");
	ActResult r = ActResult::of(Outcome::Done);
	r.before = *before;
	r.after = after ? *after : 0;
	r.rcvbuf_after = rcvbuf ? *rcvbuf : 0;
	return r;
}

bool owner_fd_unusable(const Error &e)
{
	return e.errnum == ENOSYS || e.errnum == EPERM;
}

} // namespace rcvgov::enforce
