#include "journal/restore.h"

#include <ctime>
#include <spdlog/spdlog.h>

#include "common/clock.h"
#include "core/format.h"
#include "enforce/bpf_actuator.h"
#include "enforce/netns_sysctl.h"
#include "netns/netns.h"

namespace rcvgov::journal {

namespace {

std::string where(const SysctlEntry &e)
{
	return "netns cookie " + std::to_string(e.netns) + " (" + e.origin + ")";
}

std::string socket_text(const ClampEntry &e)
{
	return "socket=" + std::to_string(e.cookie) + " local=" + format_endpoint(e.local) +
	       " peer=" + format_endpoint(e.peer) + " netns=" + std::to_string(e.netns);
}

void restore_sysctls(const Contents &c, const netns::Registry &reg, RestoreSummary &s,
		     Contents &remaining)
{
	auto ops = enforce::system_sysctl_ops();
	for (const auto &[cookie, e] : c.sysctls) {
		const netns::Namespace *ns = reg.find(cookie);
		if (!ns) {
			++s.gone;
			spdlog::info("journal: {} is gone: its {} needs no restore", where(e),
				     shrink_window_sysctl);
			continue;
		}
		Result<int> cur = ops->read(*ns);
		if (!cur) {
			s.failures.push_back(where(e) + ": reading " + shrink_window_sysctl + ": " +
					     cur.error().message);
			remaining.sysctls[cookie] = e;
			continue;
		}
		if (*cur == e.before) {
			++s.unchanged;
			spdlog::info("journal: {}={} in {} is already the original value",
				     shrink_window_sysctl, e.before, where(e));
			continue;
		}
		if (*cur != e.set) {
			++s.left;
			spdlog::warn(
				"journal: {} in {} is {}, neither the original {} nor rcvgovd's "
				"{}: someone else changed it since; left as it is",
				shrink_window_sysctl, where(e), *cur, e.before, e.set);
			continue;
		}
		if (Status w = ops->write(*ns, e.before); !w.ok()) {
			s.failures.push_back(where(e) + ": writing " + shrink_window_sysctl + "=" +
					     std::to_string(e.before) + ": " + w.error().message);
			remaining.sysctls[cookie] = e;
			continue;
		}
		++s.restored;
		spdlog::warn("journal: restored {}={} in {} (rcvgovd had set {})",
			     shrink_window_sysctl, e.before, where(e), e.set);
	}
}

void restore_clamps(const Contents &c, const netns::Registry &reg, RestoreSummary &s,
		    Contents &remaining)
{
	std::vector<enforce::Action> actions;
	std::vector<const ClampEntry *> entries;
	for (const auto &[cookie, e] : c.clamps) {
		if (!reg.find(e.netns)) {
			++s.gone;
			continue;
		}
		if (e.before == 0) {
			// An intent from a snapshot without the value (sock_diag):
			// TCP_WINDOW_CLAMP cannot be set to 0 on a live socket.
			++s.left;
			spdlog::warn(
				"journal: {}: the window clamp before rcvgovd is unknown; left "
				"as it is",
				socket_text(e));
			continue;
		}
		enforce::Action a;
		a.kind = enforce::Kind::RestoreClamp;
		a.target.cookie = e.cookie;
		a.target.netns_cookie = e.netns;
		a.target.local = e.local;
		a.target.peer = e.peer;
		a.window_clamp = e.before;
		actions.push_back(a);
		entries.push_back(&e);
	}
	if (actions.empty())
		return;
	std::unique_ptr<enforce::BpfActuator> bpf;
	try {
		bpf = std::make_unique<enforce::BpfActuator>(reg);
	} catch (const std::exception &ex) {
		for (const ClampEntry *e : entries) {
			s.failures.push_back(socket_text(*e) + ": window clamp " +
					     std::to_string(e->before) + ": " + ex.what());
			remaining.clamps[e->cookie] = *e;
		}
		return;
	}
	std::vector<enforce::ActResult> results = bpf->apply(actions);
	for (size_t i = 0; i < entries.size(); ++i) {
		const ClampEntry &e = *entries[i];
		const enforce::ActResult r =
			i < results.size()
				? results[i]
				: enforce::ActResult::of(enforce::Outcome::Failed, 0, "no result");
		if (r.outcome == enforce::Outcome::Done) {
			++s.restored;
			spdlog::warn("journal: restored the window clamp of {}: {} -> {}",
				     socket_text(e), r.before, e.before);
		} else if (r.outcome == enforce::Outcome::Gone) {
			++s.gone;
		} else {
			s.failures.push_back(socket_text(e) + ": window clamp " +
					     std::to_string(e.before) + ": " + r.detail);
			remaining.clamps[e.cookie] = e;
		}
	}
}

} // namespace

std::string RestoreSummary::text() const
{
	std::string t = std::to_string(restored) + " restored, " + std::to_string(unchanged) +
			" already at their original value, " + std::to_string(left) +
			" changed by someone else (left as found), " + std::to_string(gone) +
			" gone, " + std::to_string(failures.size()) + " could not be restored";
	return t;
}

RestoreSummary restore(const Contents &contents, Contents &remaining)
{
	RestoreSummary s;
	s.found = true;
	s.writer_pid = contents.pid;
	remaining = Contents{};
	remaining.pid = contents.pid;
	if (contents.empty())
		return s;
	// Every namespace reachable now, each with its cookie: the journal's
	// cookies are looked up among them.
	netns::Registry reg;
	(void)reg.scan(mono_ns());
	restore_sysctls(contents, reg, s, remaining);
	restore_clamps(contents, reg, s, remaining);
	for (const auto &f : s.failures)
		spdlog::error("journal: could not restore {}", f);
	return s;
}

Result<RestoreSummary> restore_file(const std::string &path)
{
	Result<std::optional<Contents>> loaded = load(path);
	if (!loaded)
		return loaded.error();
	if (!*loaded)
		return RestoreSummary{};
	const Contents &c = **loaded;
	spdlog::warn("journal {} of a previous rcvgovd (pid {}) found: it did not put back what "
		     "it changed ({} namespaces, {} sockets); restoring the originals now",
		     path, c.pid, c.sysctls.size(), c.clamps.size());
	Contents remaining;
	RestoreSummary s = restore(c, remaining);
	Status st = remaining.empty() ? remove(path) : store(path, remaining);
	if (!st.ok())
		s.failures.push_back("updating the journal " + path + ": " + st.error().message);
	spdlog::warn("journal {}: {}{}", path, s.text(),
		     remaining.empty() ? "; journal removed"
				       : "; what could not be restored stays in the journal");
	return s;
}

} // namespace rcvgov::journal
