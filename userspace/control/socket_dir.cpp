// Where the control socket lives: its directory is the socket's only
// protection besides the peer uid check, so it is created 0700 or, when it
// exists, must already be root's and 0700 (never chmod'ed: it may be a
// directory someone else relies on, like /tmp). A socket file left by a
// crashed daemon is replaced; one a running daemon answers on is not.
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "common/private_dir.h"
#include "control/control.h"

namespace rcvgov::control {

Status prepare_socket_dir(const std::string &path)
{
	return prepare_private_dir(parent_dir(path));
}

Status clear_stale_socket(const std::string &path)
{
	struct stat st;
	if (lstat(path.c_str(), &st) != 0) {
		if (errno == ENOENT)
			return Status();
		return Error::sys(errno, "control socket " + path);
	}
	if (!S_ISSOCK(st.st_mode))
		return Error::msg(path + " exists and is not a socket: remove it or pick another "
					 "--socket",
				  EEXIST);
	sockaddr_un a{};
	a.sun_family = AF_UNIX;
	if (path.size() >= sizeof(a.sun_path))
		return Error::msg("control socket path too long: " + path, ENAMETOOLONG);
	std::memcpy(a.sun_path, path.c_str(), path.size() + 1);
	UniqueFd probe(socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0));
	if (!probe)
		return Error::sys(errno, "socket(AF_UNIX)");
	if (connect(probe.get(), reinterpret_cast<sockaddr *>(&a), sizeof(a)) == 0 ||
	    errno == EAGAIN)
		return Error::msg("another rcvgovd is listening on " + path +
					  ": stop it first, or give this one another --socket",
				  EADDRINUSE);
	if (errno != ECONNREFUSED)
		return Error::sys(errno, "probing the existing socket " + path);
	// Nobody answers: a crashed daemon's socket.
	if (unlink(path.c_str()) != 0 && errno != ENOENT)
		return Error::sys(errno, "removing the stale socket " + path);
	return Status();
}

} // namespace rcvgov::control
