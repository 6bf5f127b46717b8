#include "common/errno_text.h"

#include <cerrno>
#include <cstring>
#include <string_view>

namespace rcvgov {

namespace {

// The kernel-internal ENOTSUPP leaks out of BPF syscalls; libc has no name.
constexpr int ENOTSUPP_LINUX = 524;

std::string_view errno_name(int err)
{
	switch (err) {
	case EPERM: return "EPERM";
	case ENOENT: return "ENOENT";
	case ESRCH: return "ESRCH";
	case EINTR: return "EINTR";
	case EIO: return "EIO";
	case E2BIG: return "E2BIG";
	case EBADF: return "EBADF";
	case EAGAIN: return "EAGAIN";
	case ENOMEM: return "ENOMEM";
	case EACCES: return "EACCES";
	case EFAULT: return "EFAULT";
	case EBUSY: return "EBUSY";
	case EEXIST: return "EEXIST";
	case EINVAL: return "EINVAL";
	case ENOSPC: return "ENOSPC";
	case ENOSYS: return "ENOSYS";
	case EOPNOTSUPP: return "EOPNOTSUPP";
	case ENOTSUPP_LINUX: return "ENOTSUPP";
	default: return {};
	}
}

} // namespace

std::string errno_text(int err)
{
	if (err < 0)
		err = -err;
	std::string s = std::strerror(err);
	auto name = errno_name(err);
	if (!name.empty()) {
		s += " (";
		s += name;
		s += ")";
	}
	return s;
}

} // namespace rcvgov
