// The fast path for clamps: act on a socket through a copy of the
// descriptor its owning process holds, instead of an iter/tcp walk over
// every socket of its namespace (about 1.5 us a socket: 15 ms at 10 k).
//
// The observer records, once per socket and in the owner's context, the
// owner's tgid and the socket's inode (rcvgov_owner in bpf/rcvgov_abi.h).
// find_socket_fd() reads /proc/PID/fd for the entry that links to
// "socket:[INO]"; borrow_socket() takes a copy with pidfd_getfd(2)
// (PTRACE_MODE_ATTACH: CAP_SYS_PTRACE, and Yama below 3) and checks with
// SO_COOKIE that it is still the socket decided on; apply_on_fd() runs
// the same setsockopt()s as enforce_clamp in bpf/enforce.bpf.c, which
// reach the same kernel code (tcp_set_window_clamp, __sock_set_rcvbuf).
// Anything that goes wrong here sends the action down the iterator path
// instead: nothing depends on this path working.
#pragma once

#include <cstdint>
#include <string>
#include <sys/types.h>

#include "common/error.h"
#include "common/unique_fd.h"
#include "enforce/actuator.h"

namespace rcvgov::enforce {

// The descriptor under which process `pid` holds the socket whose sockfs
// inode is `ino`, from `proc`/PID/fd (the first one if it holds several).
// ESRCH: no such process; ENOENT: it holds no such socket. Costs one
// readlink per descriptor of that process.
Result<int> find_socket_fd(pid_t pid, uint32_t ino, const std::string &proc = "/proc");

// A copy of descriptor `fd` of process `pid`, checked (SO_COOKIE) to be the
// socket `cookie`. Errors keep the errno: ESRCH (process gone), EPERM (not
// allowed to ptrace it), EBADF (descriptor closed), ESTALE (the descriptor
// now names another socket, or none).
Result<UniqueFd> borrow_socket(pid_t pid, int fd, uint64_t cookie);

// Applies a Clamp or RestoreClamp to a socket descriptor as enforce_clamp
// does: TCP_WINDOW_CLAMP, then for a Clamp with rcvbuf_lock SO_RCVBUF at
// half of it (the kernel doubles it; capped by net.core.rmem_max in both
// paths). Reports the clamp before and after and sk_rcvbuf after; a
// refused setsockopt is Failed with its errno.
ActResult apply_on_fd(int sock, const Action &a);

// Whether an error of the path says it cannot work for any process (the
// kernel lacks pidfd_getfd, or the daemon may not ptrace), so the caller
// stops trying it, rather than something about one socket.
bool owner_fd_unusable(const Error &e);

} // namespace rcvgov::enforce
