#include "daemon/instance_lock.h"

#include <cerrno>
#include <cstdlib>
#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

namespace rcvgov {

Result<InstanceLock> InstanceLock::acquire(const std::string &path)
{
	UniqueFd fd(open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600));
	if (!fd)
		return Error::sys(errno, "open " + path);
	if (flock(fd.get(), LOCK_EX | LOCK_NB) != 0) {
		int e = errno;
		if (e != EWOULDBLOCK)
			return Error::sys(e, "flock " + path);
		char buf[32] = {};
		ssize_t n = pread(fd.get(), buf, sizeof(buf) - 1, 0);
		long pid = n > 0 ? std::strtol(buf, nullptr, 10) : 0;
		return Error::msg("another rcvgovd (pid " +
					  (pid > 0 ? std::to_string(pid) : std::string("unknown")) +
					  ") holds " + path,
				  EWOULDBLOCK);
	}
	std::string pid = std::to_string(getpid()) + "\n";
	if (ftruncate(fd.get(), 0) != 0 ||
	    pwrite(fd.get(), pid.data(), pid.size(), 0) != static_cast<ssize_t>(pid.size()))
		return Error::sys(errno, "writing the pid into " + path);
	return InstanceLock(path, std::move(fd));
}

} // namespace rcvgov
