#include "common/private_dir.h"

#include <cerrno>
#include <cstdio>
#include <sys/stat.h>
#include <unistd.h>

namespace rcvgov {

namespace {

std::string octal(mode_t m)
{
	char buf[8];
	std::snprintf(buf, sizeof(buf), "%04o", static_cast<unsigned>(m & 07777));
	return buf;
}

} // namespace

std::string parent_dir(const std::string &path)
{
	auto slash = path.rfind('/');
	if (slash == std::string::npos)
		return ".";
	return slash == 0 ? "/" : path.substr(0, slash);
}

Status check_private_dir(const std::string &dir)
{
	struct stat st;
	if (lstat(dir.c_str(), &st) != 0)
		return Error::sys(errno, "lstat " + dir);
	if (S_ISLNK(st.st_mode))
		return Error::msg(dir + " is a symbolic link: rcvgovd keeps its journal, lock and "
					"control socket only in a real directory (remove the link "
					"or use --runtime-dir/--socket elsewhere)",
				  ELOOP);
	if (!S_ISDIR(st.st_mode))
		return Error::msg(dir + " is not a directory", ENOTDIR);
	const uid_t me = geteuid();
	if (st.st_uid != me)
		return Error::msg(
			dir + " is owned by uid " + std::to_string(st.st_uid) + ", not by uid " +
				std::to_string(me) +
				" (rcvgovd): refusing to keep the journal, lock or control "
				"socket where another user can replace them (fix: chown " +
				std::to_string(me) + " " + dir + " && chmod 0700 " + dir +
				", or use a directory of its own)",
			EPERM);
	if ((st.st_mode & 07777) != 0700)
		return Error::msg(dir + " has mode " + octal(st.st_mode) +
					  ": rcvgovd needs a directory only its owner can use "
					  "(0700) and does not chmod a directory it did not create "
					  "(fix: chmod 0700 " +
					  dir +
					  ", or use a private directory, e.g. a new one inside it)",
				  EPERM);
	return {};
}

Status prepare_private_dir(const std::string &dir, bool *created)
{
	if (created)
		*created = false;
	if (mkdir(dir.c_str(), 0700) == 0) {
		// Ours: the umask may have taken bits away, never added any, but
		// make sure of exactly 0700.
		if (chmod(dir.c_str(), 0700) != 0)
			return Error::sys(errno, "chmod " + dir);
		if (created)
			*created = true;
		return check_private_dir(dir);
	}
	if (errno != EEXIST)
		return Error::sys(errno, "mkdir " + dir);
	return check_private_dir(dir);
}

} // namespace rcvgov
