// Step 1 of the enforcement ladder: net.ipv4.tcp_shrink_window >= 1 in every
// network namespace (it is per namespace and every new one starts at 0),
// keyed by netns cookie, remembering what each was before so it can be put
// back. Any value >= the target is compliant and kept (2 is the strict
// mode of this project's kernel series); a lower one is raised to it. The
// target is 1, or 2 for [ladder] shrink_window = "strict", where a kernel
// that refuses 2 (EINVAL: no strict mode) gets 1. Every known namespace is
// re-read on every apply(), so a reset to 0 from inside is fixed within one
// scan period. With a journal attached (journal/journal.h), every change
// is recorded, with the original value and how to find the namespace
// again, before it is written to the kernel, and forgotten once put back.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "common/error.h"
#include "journal/journal.h"
#include "netns/netns.h"

namespace rcvgov::enforce {

// The kernel behind NetnsSysctl, so its logic is unit-tested with a fake.
// A kernel without the sysctl answers read() with an Error of errnum ENOENT.
class SysctlOps {
public:
	virtual ~SysctlOps() = default;
	virtual Result<int> read(const netns::Namespace &ns) = 0;
	virtual Status write(const netns::Namespace &ns, int value) = 0;
};

// /proc/sys/net/ipv4/tcp_shrink_window, read and written after setns() into
// the namespace (/proc/sys/net is the namespace of the task using it).
std::unique_ptr<SysctlOps> system_sysctl_ops();

struct NetnsSysctlEntry {
	uint64_t cookie = 0;
	std::string origin;	// a path the namespace was found through
	bool exists = false;	// the kernel has the sysctl
	int before = -1;	// value found the first time we looked
	int now = -1;		// value after our last visit
	bool changed = false;	// rcvgovd set it (restore() puts `before` back)
	std::string error;	// "" or the last failure
	bool no_strict = false; // the kernel refused 2: strict mode absent
};

struct NetnsSysctlCounters {
	uint64_t set = 0;	// 0 -> 1 the first time
	uint64_t refixed = 0;	// found at 0 again after it had been >= 1, set to 1
	uint64_t failed = 0;	// reads or writes that failed (not "absent")
	uint64_t would_set = 0; // dry-run: found at 0, left alone
};

struct SysctlReport {
	std::vector<NetnsSysctlEntry> namespaces; // by cookie
	NetnsSysctlCounters counters;		  // since start
};

struct RestoreReport {
	struct Failure {
		uint64_t cookie = 0;
		std::string origin;
		Error error;
	};
	size_t restored = 0;
	std::vector<Failure> failed;
};

class NetnsSysctl {
public:
	explicit NetnsSysctl(std::unique_ptr<SysctlOps> ops = system_sysctl_ops());

	// The value every namespace is brought to: 1 (default) or 2 (strict).
	void set_target(int target) { target_ = target; }

	// Visits every namespace: reads the value, sets 0 to 1 unless dry_run.
	// Namespaces no longer in `namespaces` (forgotten by the registry) are
	// forgotten here too. Returns the counts of this call.
	NetnsSysctlCounters apply(const std::vector<std::unique_ptr<netns::Namespace>> &namespaces,
				  bool dry_run);
	NetnsSysctlCounters apply(const netns::Registry &reg, bool dry_run)
	{
		return apply(reg.all(), dry_run);
	}

	// Forgets namespaces no longer in `namespaces` (apply() does this too;
	// for when step 1 is off and apply() is not called).
	void forget_missing(const std::vector<std::unique_ptr<netns::Namespace>> &namespaces);
	void forget_missing(const netns::Registry &reg) { forget_missing(reg.all()); }

	// Puts back the original value of every namespace rcvgovd changed (only
	// those), including namespaces missed by recent scans that the
	// registry still holds within its grace period.
	RestoreReport restore(const std::vector<std::unique_ptr<netns::Namespace>> &namespaces);
	RestoreReport restore(const netns::Registry &reg) { return restore(reg.all()); }

	SysctlReport report() const;
	const NetnsSysctlEntry *entry(uint64_t cookie) const;

	// Records every change in `j` (which outlives this) before making it;
	// an original value already in `j` (adopted from a previous rcvgovd)
	// wins over the value read now. A change that cannot be journaled is
	// not made.
	void attach_journal(journal::Journal *j) { journal_ = j; }

private:
	// Records the change to come and commits it; an Error means: do not
	// make it.
	Status journal_intent(const netns::Namespace &ns, int before, int set);
	void commit_journal();

	// Writes `want` (journaled first); for 2 refused with EINVAL, marks
	// the namespace no_strict and writes 1 instead when v is below it.
	Status raise(const netns::Namespace &ns, NetnsSysctlEntry &st, int v, int &want);

	std::unique_ptr<SysctlOps> ops_;
	int target_ = 1;
	journal::Journal *journal_ = nullptr;
	std::map<uint64_t, NetnsSysctlEntry> states_; // by netns cookie
	NetnsSysctlCounters total_;
};

} // namespace rcvgov::enforce
