#include "enforce/netns_sysctl.h"

#include <cerrno>
#include <cstdlib>
#include <fcntl.h>
#include <set>
#include <spdlog/spdlog.h>
#include <string>
#include <unistd.h>

#include "common/unique_fd.h"

namespace rcvgov::enforce {

namespace {

// /proc/sys/net resolves to the namespace of the task that opens it, so
// these run after setns() into the target namespace.
constexpr const char *path = "/proc/sys/net/ipv4/tcp_shrink_window";

Result<int> read_current()
{
	UniqueFd fd(open(path, O_RDONLY | O_CLOEXEC));
	if (!fd)
		return Error::sys(errno, path);
	char buf[16] = {};
	ssize_t n = ::read(fd.get(), buf, sizeof(buf) - 1);
	if (n < 0)
		return Error::sys(errno, std::string("read ") + path);
	char *end = nullptr;
	long v = std::strtol(buf, &end, 10);
	if (end == buf)
		return Error::msg(std::string(path) + ": not a number: \"" + buf + "\"", EINVAL);
	return static_cast<int>(v);
}

Status write_current(int value)
{
	UniqueFd fd(open(path, O_WRONLY | O_CLOEXEC));
	if (!fd)
		return Error::sys(errno, path);
	std::string v = std::to_string(value) + "\n";
	ssize_t n = ::write(fd.get(), v.data(), v.size());
	if (n < 0)
		return Error::sys(errno, std::string("write ") + path);
	if (n != static_cast<ssize_t>(v.size()))
		return Error::msg(std::string("write ") + path + ": short write", EIO);
	return Status();
}

class ShrinkWindowOps final : public SysctlOps {
public:
	Result<int> read(const netns::Namespace &ns) override
	{
		return netns::run_in(ns, [] { return read_current(); });
	}
	Status write(const netns::Namespace &ns, int value) override
	{
		return netns::run_in(ns, [value] { return write_current(value); });
	}
};

std::string where(const netns::Namespace &ns)
{
	return "netns cookie " + std::to_string(ns.cookie) + " (" + ns.origin + ")";
}

} // namespace

std::unique_ptr<SysctlOps> system_sysctl_ops()
{
	return std::make_unique<ShrinkWindowOps>();
}

NetnsSysctl::NetnsSysctl(std::unique_ptr<SysctlOps> ops) : ops_(std::move(ops)) {}

NetnsSysctlCounters
NetnsSysctl::apply(const std::vector<std::unique_ptr<netns::Namespace>> &namespaces, bool dry_run)
{
	NetnsSysctlCounters c;
	for (const auto &nsp : namespaces) {
		const netns::Namespace &ns = *nsp;
		auto [it, fresh] = states_.try_emplace(ns.cookie);
		NetnsSysctlEntry &st = it->second;
		st.cookie = ns.cookie;
		st.origin = ns.origin;
		const bool seen_before = st.exists && st.now >= 0;
		const int prev = st.now;

		Result<int> cur = ops_->read(ns);
		if (!cur) {
			if (cur.error().errnum == ENOENT) {
				// A kernel without the sysctl (before 6.5 / 6.1.59):
				// listed as absent, not an error, logged once.
				if (fresh || st.exists)
					spdlog::debug("net.ipv4.tcp_shrink_window is absent in {}",
						      where(ns));
				st.exists = false;
				st.now = -1;
				st.error.clear();
				continue;
			}
			if (st.error != cur.error().message)
				spdlog::warn("tcp_shrink_window: {}: {}", where(ns),
					     cur.error().message);
			st.error = cur.error().message;
			++c.failed;
			continue;
		}
		const int v = *cur;
		st.exists = true;
		st.error.clear();
		if (st.before < 0) {
			// A previous rcvgovd's original (its restore failed) wins.
			auto adopted = journal_ ? journal_->sysctl_before(ns.cookie) : std::nullopt;
			st.before = adopted ? *adopted : v;
			st.changed = adopted && *adopted != v;
		}
		// Compliant: at the target or above (2, strict mode, is kept
		// under target 1), or at 1 where the kernel has no strict mode.
		const int target = (target_ == 2 && st.no_strict) ? 1 : target_;
		if (v >= target) {
			st.now = v;
			continue;
		}
		if (dry_run) {
			if (!seen_before || prev != v) {
				spdlog::info(
					"dry-run: would have set net.ipv4.tcp_shrink_window={} "
					"in {} (now {})",
					target, where(ns), v);
				++c.would_set;
			}
			st.now = v;
			continue;
		}
		int want = target;
		if (Status w = raise(ns, st, v, want); !w) {
			if (st.error != w.error().message)
				spdlog::warn(
					"could not set net.ipv4.tcp_shrink_window={} in {}: {}",
					want, where(ns), w.error().message);
			st.error = w.error().message;
			st.now = v;
			++c.failed;
			continue;
		}
		if (want == v) { // strict refused, and 1 was already there
			st.now = v;
			continue;
		}
		st.now = want;
		st.changed = true;
		if (seen_before && prev >= want) {
			++c.refixed;
			spdlog::warn("net.ipv4.tcp_shrink_window was reset to {} in {}: set to {} "
				     "again",
				     v, where(ns), want);
		} else {
			++c.set;
			spdlog::info("set net.ipv4.tcp_shrink_window={} in {} (was {})", want,
				     where(ns), v);
		}
	}
	forget_missing(namespaces);
	total_.set += c.set;
	total_.refixed += c.refixed;
	total_.failed += c.failed;
	total_.would_set += c.would_set;
	return c;
}

void NetnsSysctl::forget_missing(const std::vector<std::unique_ptr<netns::Namespace>> &namespaces)
{
	std::set<uint64_t> live;
	for (const auto &ns : namespaces)
		live.insert(ns->cookie);
	std::erase_if(states_, [&](const auto &kv) {
		if (live.count(kv.first))
			return false;
		if (kv.second.changed)
			spdlog::debug("netns cookie {} ({}) is gone: its tcp_shrink_window is no "
				      "longer ours to restore",
				      kv.first, kv.second.origin);
		if (journal_)
			journal_->drop_sysctl(kv.first);
		return true;
	});
	commit_journal();
}

Status NetnsSysctl::raise(const netns::Namespace &ns, NetnsSysctlEntry &st, int v, int &want)
{
	Status w = journal_intent(ns, st.before, want);
	if (w.ok())
		w = ops_->write(ns, want);
	if (w.ok() || want != 2 || w.error().errnum != EINVAL)
		return w;
	st.no_strict = true;
	spdlog::warn("net.ipv4.tcp_shrink_window=2 (strict mode) refused in {}: this kernel "
		     "lacks the rcvgov series' strict mode; using 1 there",
		     where(ns));
	want = 1;
	if (v >= 1) {
		// Nothing changes: the intent for 2 goes, unless an earlier
		// change of ours is what the entry records.
		if (journal_ && !st.changed) {
			journal_->drop_sysctl(ns.cookie);
			commit_journal();
		}
		return {};
	}
	w = journal_intent(ns, st.before, 1);
	return w.ok() ? ops_->write(ns, 1) : w;
}

Status NetnsSysctl::journal_intent(const netns::Namespace &ns, int before, int set)
{
	if (!journal_)
		return {};
	journal_->note_sysctl({.netns = ns.cookie,
			       .dev = ns.dev,
			       .ino = ns.ino,
			       .origin = ns.origin,
			       .before = before,
			       .set = set});
	Status st = journal_->commit();
	if (!st.ok())
		return st.error().wrap("not changed: the journal cannot be written");
	return st;
}

void NetnsSysctl::commit_journal()
{
	if (!journal_)
		return;
	if (Status st = journal_->commit(); !st.ok())
		spdlog::error("journal: {}", st.error().message);
}

RestoreReport NetnsSysctl::restore(const std::vector<std::unique_ptr<netns::Namespace>> &namespaces)
{
	RestoreReport r;
	std::map<uint64_t, const netns::Namespace *> by_cookie;
	for (const auto &ns : namespaces)
		by_cookie[ns->cookie] = ns.get();
	for (auto &[cookie, st] : states_) {
		if (!st.changed)
			continue;
		auto it = by_cookie.find(cookie);
		if (it == by_cookie.end()) {
			r.failed.push_back({cookie, st.origin,
					    Error::msg("the namespace is no longer reachable")});
			continue;
		}
		Status w = ops_->write(*it->second, st.before);
		if (!w) {
			st.error = w.error().message;
			r.failed.push_back({cookie, st.origin, w.error()});
			spdlog::warn("could not restore net.ipv4.tcp_shrink_window={} in {}: {}",
				     st.before, where(*it->second), w.error().message);
			continue;
		}
		st.now = st.before;
		st.changed = false;
		if (journal_)
			journal_->drop_sysctl(cookie);
		++r.restored;
		spdlog::info("restored net.ipv4.tcp_shrink_window={} in {}", st.before,
			     where(*it->second));
	}
	commit_journal();
	return r;
}

SysctlReport NetnsSysctl::report() const
{
	SysctlReport r;
	r.namespaces.reserve(states_.size());
	for (const auto &[cookie, st] : states_)
		r.namespaces.push_back(st);
	r.counters = total_;
	return r;
}

const NetnsSysctlEntry *NetnsSysctl::entry(uint64_t cookie) const
{
	auto it = states_.find(cookie);
	return it == states_.end() ? nullptr : &it->second;
}

} // namespace rcvgov::enforce
