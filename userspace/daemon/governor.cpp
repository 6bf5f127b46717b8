#include "daemon/governor.h"

#include <algorithm>
#include <spdlog/spdlog.h>
#include <unistd.h>

#include "common/errno_text.h"
#include "core/format.h"
#include "diag/sock_diag.h"
#include "tracker/peer_key.h"

namespace rcvgov {

namespace {

constexpr uint64_t summary_window_ns = 10'000'000'000ULL;

tracker::Time to_time(uint64_t now_ns)
{
	return tracker::Time(std::chrono::nanoseconds(now_ns));
}

// The window that matches the autotuned buffer. The kernel's own formula
// (tcp_win_from_space) depends on tcp_adv_win_scale or, from 6.6, on a
// per-socket scaling ratio; half the buffer is what both give for default
// settings and a typical MSS, and never less than the kernel minimum.
uint32_t clamp_for(const SocketInfo &s)
{
	uint32_t base = s.autotuned_rcvbuf ? s.autotuned_rcvbuf : s.rcvbuf;
	return std::max<uint32_t>(base / 2, 2304);
}

std::string socket_text(const SocketInfo *s, uint64_t cookie)
{
	if (!s)
		return "socket=" + std::to_string(cookie);
	return "socket=" + std::to_string(cookie) + " local=" + format_endpoint(s->local) +
	       " peer=" + format_endpoint(s->peer);
}

std::string scope_text(const tracker::Decision &d, const std::string &key)
{
	std::string s(tracker::to_string(d.scope));
	if (!key.empty())
		s += " " + key;
	return s + ": limit " + format_bytes(d.limit);
}

// A second handle on one namespace of the set, for an enforcement pass
// confined to it.
std::vector<netns::Namespace> only(const NamespaceSet &ns, size_t idx)
{
	std::vector<netns::Namespace> one;
	const auto &n = ns.all[idx];
	one.push_back({n.dev, n.ino, n.origin, UniqueFd(dup(n.fd.get()))});
	return one;
}

} // namespace

Governor::Governor(config::Config cfg, tracker::Limits limits,
		   std::unique_ptr<enforce::BpfEnforcer> enforcer)
    : cfg_(std::move(cfg)), tracker_(clock_), enforcer_(std::move(enforcer)), sysctl_(cfg_.dry_run)
{
	auto errs = tracker_.set_limits(std::move(limits));
	if (!errs.empty())
		throw std::runtime_error("invalid limits: " + errs.front().text());
}

Governor::~Governor() = default;

void Governor::reconfigure(config::Config cfg, tracker::Limits limits)
{
	auto errs = tracker_.set_limits(std::move(limits));
	if (!errs.empty())
		throw std::runtime_error("invalid limits: " + errs.front().text());
	bool dry_run_changed = cfg.dry_run != cfg_.dry_run;
	cfg_ = std::move(cfg);
	if (dry_run_changed)
		sysctl_ = enforce::ShrinkWindowSysctl(cfg_.dry_run);
	// Allowlists may have changed: accounts are rebuilt from scratch on
	// the next round.
	for (const auto &[cookie, p] : participants_)
		(void)tracker_.remove_participant(p);
	participants_.clear();
	for (const auto &r : tracker_.resources())
		if (!r.parent.is_null() && r.parent == tracker_.system())
			(void)tracker_.remove_account(r.id);
}

void Governor::on_namespaces(const NamespaceSet &ns)
{
	sysctl_.forget_missing(ns.all);
	if (!cfg_.ladder.shrink_window)
		return;
	size_t n = sysctl_.apply(ns.all);
	counters_["shrink_window_set"] += n;
}

bool Governor::allowlisted(const SocketInfo &s, const std::string &cgroup) const
{
	for (const auto &c : cfg_.allow.cidrs)
		if (c.contains(s.peer.family, s.peer.addr))
			return true;
	for (uint16_t p : cfg_.allow.ports)
		if (s.local.port == p)
			return true;
	(void)cgroup; // cgroups are allowlisted at the service level
	return false;
}

tracker::AccountId Governor::account_for(const SocketInfo &s)
{
	std::string cg = cgroups_.path(s.owner.cgroup_id);
	// Sockets of the root cgroup (or an unknown one) are told apart by
	// their network namespace: that is what containers without their own
	// cgroup still have.
	std::string service_key =
		(cg.empty() || cg == "/") ? "netns:" + std::to_string(s.owner.netns_cookie) : cg;
	auto service = tracker_.find_account(tracker_.system(), service_key);
	if (!service) {
		bool allow = std::find(cfg_.allow.cgroups.begin(), cfg_.allow.cgroups.end(), cg) !=
			     cfg_.allow.cgroups.end();
		service = tracker_.create_account(tracker_.system(), tracker::ScopeKind::Service,
						  service_key, {.allowlisted = allow});
		if (!service)
			return tracker_.system();
	}
	std::string peer_key = tracker::peer_key(s.peer.family, s.peer.addr).value_or("unknown");
	bool allow = allowlisted(s, cg);
	if (allow)
		peer_key = "allowlisted " + peer_key;
	auto peer = tracker_.find_account(*service, peer_key);
	if (!peer)
		peer = tracker_.create_account(*service, tracker::ScopeKind::Peer, peer_key,
					       {.allowlisted = allow});
	return peer ? *peer : *service;
}

void Governor::sync(const SocketTable &table, uint64_t now_ns)
{
	std::set<uint64_t> seen;
	// One batch: the tracker overlaps the cache misses of the updates.
	std::vector<tracker::Tracker::CookieUpdate> updates;
	updates.reserve(table.size());
	table.for_each([&](const SocketInfo &s) {
		seen.insert(s.cookie);
		if (!participants_.count(s.cookie)) {
			auto p = tracker_.create_participant(account_for(s), s.cookie);
			if (!p) {
				++counters_["tracker_errors"];
				return;
			}
			participants_.emplace(s.cookie, *p);
		}
		tracker::Usage u;
		u.rmem_alloc = s.rmem_alloc;
		u.entitlement = s.autotuned_rcvbuf;
		u.oldest_age = std::chrono::milliseconds(s.data_age_ms(now_ns));
		updates.push_back({s.cookie, u});
	});
	size_t applied = tracker_.set_usage(updates, to_time(now_ns));
	counters_["tracker_errors"] += updates.size() - applied;
	for (auto it = participants_.begin(); it != participants_.end();) {
		if (seen.count(it->first)) {
			++it;
			continue;
		}
		(void)tracker_.remove_participant(it->second);
		clamped_.erase(it->first);
		destroyed_.erase(it->first);
		it = participants_.erase(it);
	}
	// Peer and service accounts left without sockets would pile up.
	for (const auto &r : tracker_.resources())
		if (!r.parent.is_null() && r.participants == 0)
			(void)tracker_.remove_account(r.id);
}

void Governor::note_protected(const std::string &what, uint64_t now_ns)
{
	if (protected_window_start_ns_ == 0)
		protected_window_start_ns_ = now_ns;
	++protected_window_[what];
}

void Governor::govern(const SocketTable &table, const NamespaceSet &ns, uint64_t now_ns)
{
	sync(table, now_ns);
	// Counters lag a destroy by a snapshot or two: deciding again before
	// they settle would destroy more than needed. The tracker is not even
	// asked meanwhile, since a decision it makes counts as pending there
	// whether or not we act on it.
	std::vector<tracker::Decision> decisions;
	if (now_ns >= reclaim_paused_until_ns_)
		decisions = tracker_.decide(to_time(now_ns));

	// Step 2 also covers what the tracker does not see as over a limit:
	// any socket whose rcvbuf was inflated beyond its autotuned limit.
	table.for_each([&](const SocketInfo &s) {
		if (s.inflations == 0 || s.rcvbuf <= s.autotuned_rcvbuf || clamped_.count(s.cookie))
			return;
		tracker::Decision d;
		d.action = tracker::Action::Clamp;
		d.scope = tracker::ScopeKind::Socket;
		d.limit = s.autotuned_rcvbuf;
		d.scope_usage = s.rcvbuf;
		d.cookie = s.cookie;
		d.usage = s.rmem_alloc;
		decisions.push_back(d);
	});
	act(decisions, table, ns, now_ns);

	if (protected_window_start_ns_ &&
	    now_ns - protected_window_start_ns_ >= summary_window_ns) {
		uint64_t total = 0;
		std::string what;
		for (const auto &[k, n] : protected_window_) {
			total += n;
			what += (what.empty() ? "" : "; ") + k + " (" + std::to_string(n) + "x)";
		}
		spdlog::info("Protected from exceeding limits {} times in the last 10 s: {}. "
			     "Inspect with `rcvgovctl resources`.",
			     total, what);
		protected_window_.clear();
		protected_window_start_ns_ = 0;
	}
}

void Governor::act(const std::vector<tracker::Decision> &decisions, const SocketTable &table,
		   const NamespaceSet &ns, uint64_t now_ns)
{
	std::vector<rcvgov_action> actions;
	std::vector<const tracker::Decision *> chosen;
	for (const auto &d : decisions) {
		const SocketInfo *s = table.find(d.cookie);
		if (!s || destroyed_.count(d.cookie))
			continue;
		std::string key;
		if (!d.account.is_null())
			if (auto r = tracker_.scope(d.account))
				key = r->key;
		std::string scope = scope_text(d, key);
		if (d.action == tracker::Action::Clamp) {
			if (!cfg_.ladder.clamp || clamped_.count(d.cookie))
				continue;
			// Freeze rcvbuf where it is now: what the socket already holds
			// stays (no data is thrown away) but it cannot grow further.
			actions.push_back({d.cookie, RCVGOV_ACT_CLAMP, clamp_for(*s),
					   std::max(s->rcvbuf, s->autotuned_rcvbuf), 0});
		} else {
			if (!cfg_.ladder.reclaim)
				continue;
			actions.push_back({d.cookie, RCVGOV_ACT_DESTROY, 0, 0, 0});
		}
		chosen.push_back(&d);
		note_protected(scope, now_ns);
		std::string verb = d.action == tracker::Action::Clamp ? "clamp" : "destroy";
		spdlog::info("{}{} {} scope=\"{}\" usage={} scope_usage={} age_ms={}",
			     cfg_.dry_run ? "dry-run: would have done " : "action: ", verb,
			     socket_text(s, d.cookie), scope, d.usage, d.scope_usage,
			     s->data_age_ms(now_ns));
	}
	if (actions.empty())
		return;
	if (cfg_.dry_run) {
		for (const auto &a : actions) {
			// Mark them so the log says it once per socket, not every round.
			if (a.kind == RCVGOV_ACT_DESTROY) {
				destroyed_.insert(a.cookie);
				++counters_["dry_run_destroy"];
			} else {
				clamped_[a.cookie] = {};
				++counters_["dry_run_clamp"];
			}
		}
		return;
	}

	// Each socket is acted on in its own namespace.
	std::map<size_t, std::vector<rcvgov_action>> per_ns;
	std::vector<rcvgov_action> diag_destroys;
	for (const auto &a : actions) {
		const SocketInfo *s = table.find(a.cookie);
		auto it = ns.by_cookie.find(s->owner.netns_cookie);
		if (it == ns.by_cookie.end()) {
			++counters_["action_netns_unknown"];
			continue;
		}
		if (a.kind == RCVGOV_ACT_DESTROY && (!enforcer_ || !enforcer_->can_destroy()))
			diag_destroys.push_back(a);
		else if (enforcer_)
			per_ns[it->second].push_back(a);
	}
	bool destroyed_any = false;
	for (const auto &[idx, acts] : per_ns) {
		std::vector<enforce::ActionResult> results;
		try {
			results = enforcer_->apply(acts, only(ns, idx));
		} catch (const std::exception &e) {
			spdlog::warn("enforcement failed: {}", e.what());
			++counters_["action_errors"];
			continue;
		}
		for (const auto &r : results) {
			const SocketInfo *s = table.find(r.cookie);
			if (r.rc != 0) {
				++counters_["action_errors"];
				spdlog::warn("{} on {} failed: {}",
					     r.kind == RCVGOV_ACT_DESTROY ? "destroy" : "clamp",
					     socket_text(s, r.cookie), errno_text(-r.rc));
				continue;
			}
			if (r.kind == RCVGOV_ACT_DESTROY) {
				destroyed_.insert(r.cookie);
				destroyed_any = true;
				++counters_["destroyed"];
				spdlog::info("destroyed {} holding {} bytes",
					     socket_text(s, r.cookie), r.before);
			} else {
				clamped_[r.cookie] = {r.before, s ? s->owner.netns_cookie : 0};
				++counters_["clamped"];
				spdlog::info(
					"clamped {} window_clamp {} -> {}, rcvbuf locked at {}",
					socket_text(s, r.cookie), r.before, r.after,
					r.rcvbuf_after);
			}
		}
	}
	for (const auto &a : diag_destroys) {
		const SocketInfo *s = table.find(a.cookie);
		auto it = ns.by_cookie.find(s->owner.netns_cookie);
		diag::DiagSocket d;
		d.cookie = s->cookie;
		d.family = s->local.family;
		d.saddr = s->local.addr;
		d.daddr = s->peer.addr;
		d.sport = s->local.port;
		d.dport = s->peer.port;
		d.state = s->state;
		std::string err;
		diag::Error derr;
		netns::run_in(
			ns.all[it->second], [&] { derr = diag::destroy(d); }, err);
		if (!err.empty() || !derr.ok()) {
			++counters_["action_errors"];
			spdlog::warn("SOCK_DESTROY of {} failed: {}", socket_text(s, a.cookie),
				     err.empty() ? derr.message : err);
			continue;
		}
		destroyed_.insert(a.cookie);
		destroyed_any = true;
		++counters_["destroyed"];
		spdlog::info("destroyed {} with SOCK_DESTROY", socket_text(s, a.cookie));
	}
	if (destroyed_any)
		reclaim_paused_until_ns_ =
			now_ns + uint64_t(cfg_.ladder.reclaim_pause_ms) * 1000000;
}

void Governor::shutdown(const NamespaceSet &ns)
{
	if (cfg_.keep_on_exit) {
		spdlog::info(
			"keep_on_exit: leaving tcp_shrink_window and {} window clamps as they are",
			clamped_.size());
		return;
	}
	sysctl_.restore(ns.all);
	if (!enforcer_ || cfg_.dry_run)
		return;
	std::map<size_t, std::vector<rcvgov_action>> per_ns;
	for (const auto &[cookie, c] : clamped_) {
		auto it = ns.by_cookie.find(c.netns_cookie);
		if (it != ns.by_cookie.end() && c.before)
			per_ns[it->second].push_back({cookie, RCVGOV_ACT_RESTORE, c.before, 0, 0});
	}
	size_t restored = 0;
	for (const auto &[idx, acts] : per_ns) {
		try {
			for (const auto &r : enforcer_->apply(acts, only(ns, idx)))
				restored += r.rc == 0;
		} catch (const std::exception &e) {
			spdlog::warn("restoring window clamps: {}", e.what());
		}
	}
	if (!clamped_.empty())
		spdlog::info("restored the window clamp of {} of {} clamped sockets", restored,
			     clamped_.size());
}

nlohmann::json Governor::resources() const
{
	auto rows = tracker_.resources();
	std::stable_sort(rows.begin(), rows.end(),
			 [](const auto &a, const auto &b) { return a.percent > b.percent; });
	nlohmann::json arr = nlohmann::json::array();
	for (const auto &r : rows)
		arr.push_back({{"scope", tracker::to_string(r.kind)},
			       {"key", r.kind == tracker::ScopeKind::System ? "system" : r.key},
			       {"limit", r.limit},
			       {"usage", r.usage},
			       {"percent", r.percent},
			       {"participants", r.participants},
			       {"pending", r.pending},
			       {"allowlisted", r.allowlisted},
			       {"reclaiming", r.reclaiming}});
	return arr;
}

nlohmann::json Governor::status() const
{
	const auto &l = tracker_.limits();
	nlohmann::json c = nlohmann::json::object();
	for (const auto &[k, v] : counters_)
		c[k] = v;
	return {{"config", cfg_.source},
		{"dry_run", cfg_.dry_run},
		{"keep_on_exit", cfg_.keep_on_exit},
		{"ladder",
		 {{"shrink_window", cfg_.ladder.shrink_window},
		  {"clamp", cfg_.ladder.clamp},
		  {"reclaim", cfg_.ladder.reclaim},
		  {"reclaim_pause_ms", cfg_.ladder.reclaim_pause_ms},
		  {"destroy_with", enforcer_ && enforcer_->can_destroy()
					   ? "bpf_sock_destroy"
					   : "sock_diag SOCK_DESTROY"}}},
		{"limits",
		 {{"max", l.max},
		  {"low_water", l.low_water},
		  {"per_service", l.per_service},
		  {"per_peer", l.per_peer},
		  {"per_socket", l.per_socket},
		  {"per_socket_entitlement_percent", l.per_socket_entitlement_percent}}},
		{"total", tracker_.total()},
		{"reclaiming", tracker_.system_reclaiming()},
		{"participants", tracker_.participant_count()},
		{"clamped_sockets", clamped_.size()},
		{"counters", c},
		{"shrink_window", sysctl_.report()}};
}

} // namespace rcvgov
