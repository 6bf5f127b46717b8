// The Registry's bookkeeping: which namespaces are reachable, which are new,
// which have been unreachable for longer than the grace period.
#include <algorithm>
#include <cerrno>
#include <dirent.h>
#include <map>
#include <set>
#include <spdlog/spdlog.h>
#include <sys/resource.h>

#include "common/errno_text.h"
#include "netns/netns.h"

namespace rcvgov::netns {

namespace {

// The process went away between finding the path and opening it: normal.
bool gone(int err)
{
	return err == ENOENT || err == ESRCH;
}

// "EMFILE", "EACCES": the symbolic name when known, else errno_text.
std::string errno_short(int err)
{
	switch (err) {
	case EMFILE: return "EMFILE";
	case ENFILE: return "ENFILE";
	default: break;
	}
	std::string t = errno_text(err); // "strerror (ENAME)"
	auto open = t.rfind(" (E");
	if (open != std::string::npos && t.back() == ')')
		return t.substr(open + 2, t.size() - open - 3);
	return t;
}

std::string limit_note(int err)
{
	if (err == EMFILE) {
		rlimit rl{};
		if (getrlimit(RLIMIT_NOFILE, &rl) == 0)
			return " (fd limit " + std::to_string(rl.rlim_cur) + ")";
	}
	if (err == ENFILE)
		return " (system-wide file limit, fs.file-max)";
	return "";
}

constexpr uint64_t degraded_log_every_ns = 60ULL * 1000000000ULL;

// Names in dir, without "." entries. ENOENT (no /run/netns) is an empty
// directory; other errors are returned.
Result<std::vector<std::string>> list_dir(const std::string &dir)
{
	std::vector<std::string> out;
	DIR *d = opendir(dir.c_str());
	if (!d) {
		if (errno == ENOENT)
			return out;
		return Error::sys(errno, "opendir " + dir);
	}
	while (dirent *e = readdir(d))
		if (e->d_name[0] != '.')
			out.emplace_back(e->d_name);
	closedir(d);
	return out;
}

} // namespace

Registry::Registry(std::chrono::nanoseconds grace) : Registry(Options{.grace = grace}, system_ops())
{
}

Registry::Registry(Options opts, std::unique_ptr<NamespaceOps> ops)
    : opts_(std::move(opts)), ops_(std::move(ops))
{
}

const Namespace *Registry::find(uint64_t cookie) const
{
	auto it = by_cookie_.find(cookie);
	return it == by_cookie_.end() ? nullptr : it->second;
}

ScanReport Registry::scan(uint64_t now_ns)
{
	using Id = NamespaceOps::Id;
	last_scan_ns_ = now_ns;
	ScanReport r;
	std::set<Id> seen, failed;
	std::map<int, size_t> failures_by_errno;
	std::string first_failure;
	auto note_failure = [&](const Error &e) {
		++r.open_failures;
		r.last_errno = e.errnum;
		++failures_by_errno[e.errnum];
		if (first_failure.empty())
			first_failure = e.message;
	};

	auto visit = [&](const std::string &path, bool self) {
		auto id = ops_->stat(path);
		if (!id) {
			if (!gone(id.error().errnum))
				note_failure(id.error());
			return;
		}
		if (auto it = by_id_.find(*id); it != by_id_.end()) {
			it->second->last_seen_ns = now_ns;
			seen.insert(*id);
			if (self)
				self_cookie_ = it->second->cookie;
			return;
		}
		if (failed.count(*id))
			return; // one failure per namespace and scan, not per process
		auto opened = ops_->open(path);
		if (!opened) {
			if (!gone(opened.error().errnum)) {
				failed.insert(*id);
				note_failure(opened.error());
			}
			return;
		}
		Id real = opened->id; // the path may have changed since stat()
		if (auto it = by_id_.find(real); it != by_id_.end()) {
			it->second->last_seen_ns = now_ns;
			seen.insert(real);
			return;
		}
		auto ns = std::make_unique<Namespace>();
		ns->dev = real.dev;
		ns->ino = real.ino;
		ns->origin = path;
		ns->fd = std::move(opened->fd);
		ns->last_seen_ns = now_ns;
		auto cookie = ops_->cookie_of(*ns);
		if (!cookie) {
			failed.insert(real);
			note_failure(cookie.error());
			return;
		}
		ns->cookie = *cookie;
		seen.insert(real);
		if (self)
			self_cookie_ = ns->cookie;
		if (by_cookie_.count(ns->cookie))
			return; // cannot happen while we hold it; keep the one we have
		by_id_[real] = ns.get();
		by_cookie_[ns->cookie] = ns.get();
		spdlog::debug("netns cookie {} found at {} (dev {} ino {})", ns->cookie, path,
			      real.dev, real.ino);
		all_.push_back(std::move(ns));
		++r.added;
	};

	auto walk = [&](const std::string &dir, auto &&path_of) {
		auto names = list_dir(dir);
		if (!names) {
			note_failure(names.error());
			return;
		}
		for (const auto &n : *names)
			if (auto p = path_of(n); !p.empty())
				visit(p, false);
	};

	if (!opts_.self_path.empty())
		visit(opts_.self_path, true);
	if (!opts_.run_netns_dir.empty())
		walk(opts_.run_netns_dir,
		     [&](const std::string &n) { return opts_.run_netns_dir + "/" + n; });
	if (!opts_.proc_root.empty())
		walk(opts_.proc_root, [&](const std::string &n) {
			bool pid = !n.empty() && std::all_of(n.begin(), n.end(), [](char c) {
				return c >= '0' && c <= '9';
			});
			return pid ? opts_.proc_root + "/" + n + "/ns/net" : std::string();
		});

	// Forget what has been unreachable for longer than the grace period.
	const auto grace = static_cast<uint64_t>(opts_.grace.count());
	std::erase_if(all_, [&](const std::unique_ptr<Namespace> &ns) {
		Id id{ns->dev, ns->ino};
		if (seen.count(id) || now_ns - ns->last_seen_ns <= grace)
			return false;
		spdlog::debug("netns cookie {} ({}) unreachable for {} ms: forgotten", ns->cookie,
			      ns->origin, (now_ns - ns->last_seen_ns) / 1000000);
		by_id_.erase(id);
		by_cookie_.erase(ns->cookie);
		++r.forgotten;
		return true;
	});
	r.found = seen.size();

	if (r.open_failures) {
		for (const auto &[err, n] : failures_by_errno)
			r.degraded += (r.degraded.empty() ? "" : "; ") + errno_short(err) + ": " +
				      std::to_string(n) + (n == 1 ? " namespace" : " namespaces") +
				      " could not be opened" + limit_note(err);
		r.degraded += ": they are not governed";
		if (!logged_degraded_ || now_ns - last_degraded_log_ns_ >= degraded_log_every_ns) {
			spdlog::warn("netns scan: {} (first: {})", r.degraded, first_failure);
			last_degraded_log_ns_ = now_ns;
			logged_degraded_ = true;
		}
	} else if (logged_degraded_) {
		spdlog::info("netns scan: every namespace could be opened again");
		logged_degraded_ = false;
	}
	last_ = r;
	return r;
}

} // namespace rcvgov::netns
