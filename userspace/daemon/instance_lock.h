// One rcvgovd at a time, in a directory nobody else can write to.
//
// The runtime directory (default /run/rcvgov: the journal, the lock, the
// control socket) and the control socket's directory are checked before
// anything is created in them: a directory rcvgovd creates is made 0700;
// one that exists must be a real directory (not a symlink), owned by the
// user rcvgovd runs as (root) and not accessible to group or others, or
// rcvgovd refuses to start, saying why. A directory rcvgovd did not create
// is never chmod-ed.
//
// The instance lock is flock(LOCK_EX|LOCK_NB) on <runtime dir>/rcvgovd.lock,
// which holds the pid of its owner; a second rcvgovd (or `rcvgovd
// --restore` while one runs) is told "another rcvgovd (pid N) holds PATH".
#pragma once

#include <string>

#include "common/error.h"
#include "common/private_dir.h"
#include "common/unique_fd.h"

namespace rcvgov {

inline constexpr const char *default_runtime_dir = "/run/rcvgov";

class InstanceLock {
public:
	// Creates/opens `path`, takes the lock without waiting and writes our
	// pid into it. Error (errnum EWOULDBLOCK) when another process holds it.
	static Result<InstanceLock> acquire(const std::string &path);

	InstanceLock(InstanceLock &&) = default;
	InstanceLock &operator=(InstanceLock &&) = default;
	const std::string &path() const { return path_; }

private:
	InstanceLock(std::string path, UniqueFd fd) : path_(std::move(path)), fd_(std::move(fd)) {}
	std::string path_;
	UniqueFd fd_; // the lock lives as long as this fd (closed on exit, also on kill -9)
};

} // namespace rcvgov
