// Network namespaces on this host, keyed by netns cookie. iter/tcp,
// sock_diag and /proc/sys/net only see the namespace they are used in, so
// the daemon visits every namespace it can find: those of running processes
// (containers) and the named ones (/run/netns/*).
//
// The Registry holds an fd of every namespace while it is reachable: a
// namespace we hold cannot be freed, so its inode cannot be reused under us
// and a (dev, ino) we already hold is the same namespace. Its identity for
// everything else (sockets, logs, control) is the netns cookie
// (SO_NETNS_COOKIE, 5.14+), unique for the boot and never reused.
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "common/error.h"
#include "common/unique_fd.h"

namespace rcvgov::netns {

struct Namespace {
	uint64_t cookie = 0; // SO_NETNS_COOKIE read inside it: unique for the boot, never reused
	uint64_t dev = 0, ino = 0;
	std::string origin; // a path it was found through, for logs
	UniqueFd fd;	    // held open while reachable (so its inode cannot be reused under us)
	uint64_t last_seen_ns = 0;
};

// The kernel behind the Registry, so its bookkeeping is unit-tested with a
// fake. Errors carry the errno: ENOENT/ESRCH mean "the process is gone".
class NamespaceOps {
public:
	struct Id {
		uint64_t dev = 0, ino = 0;
		auto operator<=>(const Id &) const = default;
	};
	struct Opened {
		UniqueFd fd;
		Id id; // fstat() of fd: what was really opened
	};
	virtual ~NamespaceOps() = default;
	// stat() of a namespace path (following the magic link).
	virtual Result<Id> stat(const std::string &path) = 0;
	// open(O_RDONLY|O_CLOEXEC) and fstat().
	virtual Result<Opened> open(const std::string &path) = 0;
	// The netns cookie of ns: setns() into it and SO_NETNS_COOKIE.
	virtual Result<uint64_t> cookie_of(const Namespace &ns) = 0;
};

// The real kernel.
std::unique_ptr<NamespaceOps> system_ops();

struct ScanReport {
	size_t found = 0, added = 0, forgotten = 0;
	size_t open_failures =
		0;	      // EMFILE/ENFILE/EACCES... (NOT counting ENOENT/ESRCH = process gone)
	int last_errno = 0;   // of the open failures
	std::string degraded; // "" or e.g. "EMFILE: 37 namespaces could not be opened (fd
			      // limit 20000): they are not governed"
};

class Registry {
public:
	struct Options {
		std::string self_path = "/proc/self/ns/net"; // "" for none (tests)
		std::string proc_root = "/proc";	     // walks <proc_root>/<pid>/ns/net
		std::string run_netns_dir = "/run/netns";    // walks <run_netns_dir>/*
		std::chrono::nanoseconds grace = std::chrono::seconds(2);
	};

	explicit Registry(std::chrono::nanoseconds grace = std::chrono::seconds(2));
	Registry(Options opts, std::unique_ptr<NamespaceOps> ops);
	Registry(const Registry &) = delete;
	Registry &operator=(const Registry &) = delete;

	// Walks self_path, run_netns_dir/* and proc_root/*/ns/net. A (dev,ino)
	// we already hold open is the same namespace; a new one is opened and
	// its cookie read. Namespaces not reachable for longer than `grace` are
	// closed and forgotten. EMFILE/ENFILE are logged (rate-limited) and
	// reported in ScanReport.degraded, never treated as "process gone".
	ScanReport scan(uint64_t now_ns);

	// nullptr when unknown. Pointers stay valid until the namespace is
	// forgotten by a later scan().
	const Namespace *find(uint64_t cookie) const;
	// Found by the latest scan (not only kept for its grace period): the
	// namespaces worth visiting for sockets.
	bool reachable(const Namespace &ns) const { return ns.last_seen_ns == last_scan_ns_; }
	// Every namespace held, in the order they were first found (the
	// daemon's own first). Includes namespaces missed by recent scans but
	// still within the grace period.
	const std::vector<std::unique_ptr<Namespace>> &all() const { return all_; }
	size_t size() const { return all_.size(); }
	// The namespace found through self_path (the daemon's own); 0 before
	// the first scan.
	uint64_t self_cookie() const { return self_cookie_; }
	// The last scan's report.
	const ScanReport &last_report() const { return last_; }

private:
	Options opts_;
	std::unique_ptr<NamespaceOps> ops_;
	std::vector<std::unique_ptr<Namespace>> all_;
	std::map<NamespaceOps::Id, Namespace *> by_id_;
	std::map<uint64_t, Namespace *> by_cookie_;
	uint64_t self_cookie_ = 0;
	uint64_t last_scan_ns_ = 0;
	ScanReport last_;
	uint64_t last_degraded_log_ns_ = 0;
	bool logged_degraded_ = false;
};

namespace detail {

// While alive, the calling thread is in the namespace entered; the
// destructor switches back and aborts the process if it cannot (its state
// would be unknown).
class Entered {
public:
	Entered() = default;
	explicit Entered(UniqueFd back) : back_(std::move(back)) {}
	Entered(Entered &&) = default;
	Entered &operator=(Entered &&) = delete;
	~Entered();

private:
	UniqueFd back_; // -1: nothing to switch back (already in that namespace)
};

Result<Entered> enter(const Namespace &ns);

} // namespace detail

// Runs fn inside ns on the calling thread and always switches back (abort if
// switching back fails). Returns fn's own result (fn returns Status or
// Result<T>); an Error when entering failed.
template <class F> auto run_in(const Namespace &ns, F &&fn) -> decltype(fn())
{
	Result<detail::Entered> entered = detail::enter(ns);
	if (!entered)
		return entered.error();
	return fn();
}

// The netns cookie of the calling thread's namespace.
Result<uint64_t> current_cookie();

} // namespace rcvgov::netns
