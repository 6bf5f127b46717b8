// The crash-safe journal of every kernel change rcvgovd makes, so that a
// host is never left worse than rcvgovd found it: before a change, what
// will be changed and its original value are written to
// <runtime dir>/journal (a temp file renamed over it); an entry goes when
// its change has been put back or its object (namespace, socket) is gone.
// A kill -9 at any point leaves a journal that the next start or
// `rcvgovd --restore` acts on (journal/restore.h).
//
// Nothing is fsync()ed: everything the journal describes (socket clamps,
// namespace sysctls) lives in the running kernel and is gone after a
// reboot, and what a dead rcvgovd wrote is in the page cache for the next
// one. The header names the boot it was written in (kernel.random.boot_id);
// a journal of an earlier boot, whole or torn by a power loss, describes
// nothing that exists and is ignored. Not syncing keeps a reaction's
// intent write (before every clamp) at a write() and a rename(), where
// two fsync()s cost milliseconds on a disk-backed /run.
//
// The file is JSON lines, bounded by what exists (one line per changed
// namespace and per clamped socket):
//
//   {"rcvgov_journal":1,"pid":4242,"boot":"0f6a...-..."}
//   {"sysctl":"net.ipv4.tcp_shrink_window","netns":4096,"dev":4,"ino":4026532281,
//    "origin":"/run/netns/a","before":0,"set":1}
//   {"clamp":8812,"netns":4096,"family":2,"local":"10.0.0.2","lport":80,
//    "peer":"10.0.0.1","pport":5000,"before":65535,"set":32768,"done":true}
//   {"end":2}
//
// The "end" line counts the entries: a file without it, or with a wrong
// count, is torn and refused (with the line) rather than half-trusted.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>

#include "common/error.h"
#include "core/socket_info.h"

namespace rcvgov::journal {

inline constexpr const char *shrink_window_sysctl = "net.ipv4.tcp_shrink_window";

// tcp_shrink_window of one namespace: `before` is the original value, `set`
// what rcvgovd writes. A namespace is found again after a crash by its
// cookie (netns cookies cannot be opened: the restore looks through
// /run/netns/* and /proc/*/ns/net); origin and (dev, ino) say where it was.
struct SysctlEntry {
	uint64_t netns = 0;
	uint64_t dev = 0, ino = 0;
	std::string origin;
	int before = 0;
	int set = 1;
	bool operator==(const SysctlEntry &) const = default;
};

// The window clamp of one socket. `done`: the kernel confirmed the change
// and `before` is the value it reported; otherwise an intent whose
// `before` comes from the last snapshot.
struct ClampEntry {
	uint64_t cookie = 0;
	uint64_t netns = 0;
	Endpoint local, peer;
	uint32_t before = 0;
	uint32_t set = 0;
	bool done = false;
	bool operator==(const ClampEntry &) const = default;
};

struct Contents {
	uint32_t pid = 0;			 // the rcvgovd that wrote it
	std::string boot;			 // its boot_id; "" unknown (old files)
	std::map<uint64_t, SysctlEntry> sysctls; // by netns cookie
	std::map<uint64_t, ClampEntry> clamps;	 // by socket cookie
	bool empty() const { return sysctls.empty() && clamps.empty(); }
	bool operator==(const Contents &) const = default;
};

std::string serialize(const Contents &c);
// `name` goes in front of every error ("<name>:3: ...").
Result<Contents> parse(std::string_view text, const std::string &name);

// This boot's kernel.random.boot_id, "" if it cannot be read.
const std::string &current_boot_id();

// The journal at `path`; std::nullopt when there is none or it was written
// in an earlier boot. An unreadable, torn or garbage file of this boot is
// an Error naming the file and line.
Result<std::optional<Contents>> load(const std::string &path);
// Atomically replaces `path`: a temp file renamed over it.
Status store(const std::string &path, const Contents &c);
// Removes `path` (absent is fine).
Status remove(const std::string &path);

// The live journal of this rcvgovd. Changes are made in memory and written
// by commit() (nothing is written when nothing changed); an empty path
// keeps it in memory only (tests, dry-run tools).
class Journal {
public:
	explicit Journal(std::string path = {}, Contents adopted = {});

	const std::string &path() const { return path_; }
	const Contents &contents() const { return c_; }
	bool empty() const { return c_.empty(); }

	// The original value recorded for a namespace (also one adopted from a
	// previous rcvgovd whose restore failed): it wins over what is read now.
	std::optional<int> sysctl_before(uint64_t netns) const;
	// Records an intent; an existing entry keeps its `before`.
	void note_sysctl(const SysctlEntry &e);
	void drop_sysctl(uint64_t netns);

	// Records a clamp intent; an existing entry keeps its `before`.
	void note_clamp(const ClampEntry &e);
	// The kernel confirmed the clamp and reported the value it replaced.
	void clamp_done(uint64_t cookie, uint32_t before);
	void drop_clamp(uint64_t cookie);

	// Writes the file if anything changed since the last commit.
	Status commit();
	// Removes the file and forgets every entry.
	Status discard();

private:
	std::string path_;
	Contents c_;
	bool dirty_ = false;
};

} // namespace rcvgov::journal
