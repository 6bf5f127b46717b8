#include "governor/governor.h"

#include <algorithm>
#include <spdlog/spdlog.h>
#include <stdexcept>

#include "common/clock.h"
#include "core/format.h"
#include "governor/plan.h"
#include "tracker/peer_key.h"

namespace rcvgov::governor {

namespace {

constexpr uint64_t summary_window_ns = 10'000'000'000ULL;

tracker::Time to_time(uint64_t now_ns)
{
	return tracker::Time(std::chrono::nanoseconds(now_ns));
}

std::string socket_text(const SocketInfo *s, uint64_t cookie)
{
	if (!s)
		return "socket=" + std::to_string(cookie);
	return "socket=" + std::to_string(cookie) + " local=" + format_endpoint(s->local) +
	       " peer=" + format_endpoint(s->peer);
}

void throw_if_invalid(const std::vector<tracker::ConfigError> &errs)
{
	if (!errs.empty())
		throw std::invalid_argument("invalid limits: " + errs.front().text());
}

} // namespace

Governor::Governor(const config::Config &cfg, tracker::Limits limits, Actuators act,
		   std::unique_ptr<enforce::NetnsSysctl> sysctl, Environment env)
    : cfg_(cfg), tracker_(std::make_unique<tracker::Tracker>(clock_)), act_(std::move(act)),
      sysctl_(std::move(sysctl)), env_(std::move(env)), safety_(cfg.allow, cfg.safety),
      actions_(cfg.audit_actions)
{
	throw_if_invalid(tracker_->set_limits(std::move(limits)));
	// No more reclaims decided per round than the safety budget lets through.
	tracker_->set_reclaim_cap(cfg.safety.destroy_per_round);
}

Governor::~Governor() = default;

void Governor::reconfigure(const config::Config &cfg, tracker::Limits limits)
{
	throw_if_invalid(tracker_->set_limits(std::move(limits)));
	bool allow_changed = cfg.allow.cidrs.size() != cfg_.allow.cidrs.size() ||
			     cfg.allow.cgroups != cfg_.allow.cgroups ||
			     cfg.allow.ports != cfg_.allow.ports;
	for (size_t i = 0; !allow_changed && i < cfg.allow.cidrs.size(); ++i)
		allow_changed = cfg.allow.cidrs[i].text != cfg_.allow.cidrs[i].text;
	cfg_ = cfg;
	safety_.reconfigure(cfg.allow, cfg.safety);
	tracker_->set_reclaim_cap(cfg.safety.destroy_per_round);
	actions_.set_capacity(cfg.audit_actions);
	breaker_announced_ = false;
	if (!allow_changed)
		return;
	// Accounts carry the allowlist: rebuild them, and their participants,
	// from the next round's table. Enforcement state goes with them, which
	// is what a changed allowlist asks for; the clamp journal stays.
	for (const auto &r : tracker_->resources())
		if (!r.parent.is_null() && r.parent == tracker_->system())
			(void)tracker_->remove_account(r.id);
}

void Governor::on_namespaces(const netns::Registry &registry)
{
	if (!sysctl_)
		return;
	if (!cfg_.ladder.shrink_window) {
		sysctl_->forget_missing(registry);
		return;
	}
	sysctl_->set_target(cfg_.ladder.shrink_strict ? 2 : 1);
	(void)sysctl_->apply(registry, dry_run());
}

std::string Governor::service_of(const SocketInfo &s) const
{
	std::string cg = env_.cgroup_path ? env_.cgroup_path(s.owner.cgroup_id) : "";
	// Sockets of the root cgroup (or an unknown one) are told apart by
	// their network namespace: that is what containers without their own
	// cgroup still have.
	return (cg.empty() || cg == "/") ? "netns:" + std::to_string(s.owner.netns_cookie) : cg;
}

tracker::AccountId Governor::account_for(const SocketInfo &s)
{
	std::string service_key = service_of(s);
	auto service = tracker_->find_account(tracker_->system(), service_key);
	if (!service) {
		std::string cg = env_.cgroup_path ? env_.cgroup_path(s.owner.cgroup_id) : "";
		bool allow = !cg.empty() && cfg_.allow.cgroup_allowed(cg);
		service = tracker_->create_account(tracker_->system(), tracker::ScopeKind::Service,
						   service_key, {.allowlisted = allow});
		if (!service)
			return tracker_->system();
	}
	std::string peer_key = tracker::peer_key(s.peer.family, s.peer.addr).value_or("unknown");
	bool allow = cfg_.allow.peer_allowed(s.peer.family, s.peer.addr) ||
		     cfg_.allow.port_allowed(s.local.port);
	if (allow)
		peer_key = "allowlisted " + peer_key;
	auto peer = tracker_->find_account(*service, peer_key);
	if (!peer)
		peer = tracker_->create_account(*service, tracker::ScopeKind::Peer, peer_key,
						{.allowlisted = allow});
	return peer ? *peer : *service;
}

std::optional<tracker::Tracker::CookieUpdate> Governor::update_for(const SocketInfo &s,
								   uint64_t now_ns)
{
	if (!tracker_->find_participant(s.cookie) &&
	    !tracker_->create_participant(account_for(s), s.cookie)) {
		++counters_["tracker_errors"];
		return std::nullopt;
	}
	tracker::Usage u;
	u.rmem_alloc = s.rmem_alloc;
	u.entitlement = s.autotuned_rcvbuf;
	u.stalled_for = std::chrono::milliseconds(s.stall_ms(now_ns));
	u.inflated = s.inflated();
	return tracker::Tracker::CookieUpdate{s.cookie, u};
}

void Governor::sync(const SocketTable &table, uint64_t now_ns)
{
	// Participants whose socket left the table go first, with whatever
	// was decided for them.
	for (uint64_t cookie : tracker_->cookies()) {
		if (table.find(cookie))
			continue;
		if (auto p = tracker_->find_participant(cookie))
			(void)tracker_->remove_participant(*p);
		journal_.forget(cookie);
	}
	if (Status st = journal_.commit(); !st.ok())
		spdlog::error("journal: {}", st.error().message);
	// One batch: the tracker overlaps the cache misses of the updates.
	std::vector<tracker::Tracker::CookieUpdate> updates;
	updates.reserve(table.size());
	table.for_each([&](const SocketInfo &s) {
		if (auto u = update_for(s, now_ns))
			updates.push_back(*u);
	});
	size_t applied = tracker_->set_usage(updates, to_time(now_ns));
	counters_["tracker_errors"] += updates.size() - applied;
	// Peer and service accounts left without sockets would pile up.
	for (const auto &r : tracker_->resources())
		if (!r.parent.is_null() && r.participants == 0)
			(void)tracker_->remove_account(r.id);
}

void Governor::round(const SocketTable &table, uint64_t now_ns)
{
	clock_.set(to_time(now_ns));
	sync(table, now_ns);
	// The destroy budget per round also covers the reactions until the
	// next round (react() does not start a new one).
	safety_.begin_round();
	act(tracker_->decide(to_time(now_ns)), table, now_ns, ReactionPath::Round);
	std::erase_if(triggers_, [&](const auto &kv) {
		return !table.find(kv.first) || now_ns - kv.second > kTriggerTtlNs;
	});
	summarize(now_ns);
}

void Governor::note_trigger(uint64_t cookie, uint64_t ts_ns)
{
	// The first time it passed the limit counts, not the latest.
	triggers_.try_emplace(cookie, ts_ns);
}

void Governor::react(const SocketTable &table, std::span<const uint64_t> cookies, uint64_t now_ns)
{
	clock_.set(to_time(now_ns));
	std::vector<tracker::Tracker::CookieUpdate> updates;
	updates.reserve(cookies.size());
	for (uint64_t cookie : cookies)
		if (const SocketInfo *s = table.find(cookie))
			if (auto u = update_for(*s, now_ns))
				updates.push_back(*u);
	if (updates.empty())
		return;
	counters_["tracker_errors"] +=
		updates.size() - tracker_->set_usage(updates, to_time(now_ns));
	++counters_["reactions"];
	act(tracker_->decide(to_time(now_ns)), table, now_ns, ReactionPath::Event);
}

uint64_t Governor::quiet_below() const
{
	const tracker::Limits &l = tracker_->limits();
	auto low = [&](uint64_t limit) { return limit / 100 * l.scope_low_water_percent; };
	uint64_t q = std::min({l.low_water, low(l.per_service), low(l.per_peer), l.per_socket});
	for (const tracker::Override &o : l.overrides)
		q = std::min(q, o.scope == "socket" ? o.limit : low(o.limit));
	return q;
}

bool Governor::busy() const
{
	// A socket passed its limit and nothing acted on it yet (with
	// react_to_events off, only a round will).
	return !triggers_.empty() || tracker_->system_reclaiming() ||
	       tracker_->count_in_state(tracker::EnforceState::PendingClamp) != 0 ||
	       tracker_->count_in_state(tracker::EnforceState::PendingReclaim) != 0;
}

void Governor::note_reaction(const tracker::Decision &d, ReactionPath path)
{
	auto it = triggers_.find(d.cookie);
	if (it == triggers_.end())
		return;
	reactions_.record(path, it->second, mono_ns());
	triggers_.erase(it);
}

void Governor::settle(const tracker::Decision &d, tracker::Outcome o)
{
	if (!tracker_->settle(d, o).ok())
		++counters_["settle_errors"];
}

void Governor::act(const std::vector<tracker::Decision> &decisions, const SocketTable &table,
		   uint64_t now_ns, ReactionPath path)
{
	if (decisions.empty())
		return;
	Plan p = plan(decisions, table,
		      PlanOptions{.ladder = cfg_.ladder, .position_is_seq = env_.position_is_seq});
	for (const Settlement &s : p.settled) {
		settle(decisions[s.decision], s.outcome);
		++counters_[std::string("not_acted_") + s.why];
	}

	// The safety rules, right before acting; what they hold is settled
	// as Skipped and decided afresh next round.
	const bool dry = dry_run();
	std::vector<Step> go;
	for (const Step &st : p.steps) {
		const SocketInfo *s = table.find(st.action.target.cookie);
		std::string cg = env_.cgroup_path ? env_.cgroup_path(s->owner.cgroup_id) : "";
		Hold h = safety_.check(st.action, *s, cg, dry, now_ns);
		if (h == Hold::None) {
			go.push_back(st);
			continue;
		}
		settle(decisions[st.decision], tracker::Outcome::Skipped);
		++counters_[std::string("held_by_") + (h == Hold::Allowlist ? "allowlist"
						       : h == Hold::Pause   ? "pause"
									    : "budget")];
		if (h != Hold::Pause)
			spdlog::debug("held {} {}: {}", enforce::to_string(st.action.kind),
				      socket_text(s, s->cookie), to_string(h));
	}
	if (safety_.tripped() && !breaker_announced_) {
		breaker_announced_ = true;
		++counters_["breaker_trips"];
		spdlog::error("BREAKER TRIPPED: {}. rcvgovd now only logs what it would do "
			      "(dry-run) until it is restarted or reloaded; check the quota with "
			      "`rcvgovctl resources` and the configuration's [safety] section.",
			      safety_.trip_reason());
	}

	// Each step to the actuator that can do it, in batches per actuator.
	// A breaker that tripped in this round holds back the destroys beyond
	// the budget; those within it go ahead as checked.
	std::map<enforce::Actuator *, std::vector<const Step *>> batches;
	for (const Step &st : go) {
		enforce::Actuator *a = nullptr;
		if (dry)
			a = &dry_;
		else if (act_.bpf && act_.bpf->supports(st.action.kind))
			a = act_.bpf.get();
		else if (act_.diag && act_.diag->supports(st.action.kind))
			a = act_.diag.get();
		if (!a) {
			settle(decisions[st.decision], tracker::Outcome::Failed);
			if (counters_["action_unsupported"]++ == 0)
				spdlog::warn("no actuator can {} here ({}): such decisions are "
					     "counted as action_unsupported and retried after "
					     "pending_timeout",
					     enforce::to_string(st.action.kind),
					     st.action.kind == enforce::Kind::Destroy
						     ? "neither bpf_sock_destroy nor SOCK_DESTROY"
						     : "window clamps need the BPF enforcement "
						       "programs");
			continue;
		}
		batches[a].push_back(&st);
	}
	logged_this_round_ = 0;
	for (auto &[actuator, steps] : batches) {
		std::vector<enforce::Action> actions;
		actions.reserve(steps.size());
		for (const Step *st : steps)
			actions.push_back(st->action);
		if (Status j = journal_intents(actions, table, actuator == &dry_); !j.ok()) {
			spdlog::error("not acting on {} sockets: the journal cannot be written: {}",
				      steps.size(), j.error().message);
			for (const Step *st : steps)
				settle(decisions[st->decision], tracker::Outcome::Failed);
			continue;
		}
		std::vector<enforce::ActResult> results = actuator->apply(actions);
		for (size_t i = 0; i < steps.size(); ++i) {
			const Step &st = *steps[i];
			const enforce::ActResult &r =
				i < results.size()
					? results[i]
					: enforce::ActResult::of(enforce::Outcome::Failed, 0,
								 "no result");
			const tracker::Decision &d = decisions[st.decision];
			settle(d, r.outcome);
			if (r.outcome == enforce::Outcome::Done) {
				if (st.action.kind == enforce::Kind::Destroy)
					safety_.destroyed(now_ns);
				else
					journal_.clamped(st.action.target, r.before);
				note_reaction(d, path);
			} else if (r.outcome == enforce::Outcome::Gone) {
				journal_.forget(st.action.target.cookie);
			}
			report(d, table.find(d.cookie), st.action, r, actuator == &dry_, now_ns);
			audit(d, table.find(d.cookie), st.action, r, actuator == &dry_, path);
		}
		if (Status j = journal_.commit(); !j.ok())
			spdlog::error("journal: {}", j.error().message);
	}
}

Status Governor::journal_intents(std::span<const enforce::Action> actions, const SocketTable &table,
				 bool dry)
{
	if (dry)
		return {};
	for (const enforce::Action &a : actions)
		if (a.kind == enforce::Kind::Clamp) {
			const SocketInfo *s = table.find(a.target.cookie);
			journal_.intend(a.target, s ? s->window_clamp : 0, a.window_clamp);
		}
	return journal_.commit();
}

void Governor::report(const tracker::Decision &d, const SocketInfo *s, const enforce::Action &a,
		      const enforce::ActResult &r, bool dry_run, uint64_t now_ns)
{
	const std::string verb(enforce::to_string(a.kind));
	std::string scope(tracker::to_string(d.scope));
	if (!d.account.is_null())
		if (auto sr = tracker_->scope(d.account); sr && !sr->key.empty())
			scope += " " + sr->key;
	const std::string why = std::string(tracker::to_string(d.reason)) + " " + scope +
				": limit " + format_bytes(d.limit);
	const uint64_t stall = s ? s->stall_ms(now_ns) : 0;
	// A storm of decisions must not become a storm of log lines.
	const auto level = ++logged_this_round_ <= kLogLinesPerRound ? spdlog::level::info
								     : spdlog::level::debug;
	if (dry_run) {
		++counters_["dry_run_" + verb];
		spdlog::info(
			"dry-run: would have done {} {} because=\"{}\" usage={} scope_usage={} "
			"stall_ms={}",
			verb, socket_text(s, d.cookie), why, d.usage, d.scope_usage, stall);
		return;
	}
	switch (r.outcome) {
	case enforce::Outcome::Done:
		++counters_[verb == "destroy" ? "destroyed" : "clamped"];
		if (protected_window_start_ns_ == 0)
			protected_window_start_ns_ = now_ns;
		++protected_window_[why];
		spdlog::log(level,
			    "action: {} {} because=\"{}\" usage={} scope_usage={} stall_ms={}",
			    verb, socket_text(s, d.cookie), why, d.usage, d.scope_usage, stall);
		if (a.kind == enforce::Kind::Destroy)
			spdlog::log(level, "destroyed {} holding {} bytes",
				    socket_text(s, d.cookie), r.before);
		else
			spdlog::log(level, "clamped {} window_clamp {} -> {}, rcvbuf locked at {}",
				    socket_text(s, d.cookie), r.before, r.after, r.rcvbuf_after);
		break;
	case enforce::Outcome::Skipped:
		++counters_["skipped_progress"];
		spdlog::log(level, "skipped {} {}: {}", verb, socket_text(s, d.cookie), r.detail);
		break;
	case enforce::Outcome::Gone:
		++counters_["action_gone"];
		spdlog::debug("{} {}: gone ({})", verb, socket_text(s, d.cookie), r.detail);
		break;
	case enforce::Outcome::Failed:
	case enforce::Outcome::DryRun:
		++counters_["action_errors"];
		++counters_[verb + "_errors"]; // by class, for rcvgov_actions_total
		spdlog::warn("{} on {} failed: {}", verb, socket_text(s, d.cookie), r.detail);
		break;
	}
}

void Governor::audit(const tracker::Decision &d, const SocketInfo *s, const enforce::Action &a,
		     const enforce::ActResult &r, bool dry_run, ReactionPath path)
{
	ActionRecord rec = action_record(d, a, r, dry_run);
	rec.path = path == ReactionPath::Event ? "event" : "round";
	if (!d.account.is_null())
		if (auto sr = tracker_->scope(d.account))
			rec.scope_key = sr->key;
	if (s) {
		rec.service = service_of(*s);
		rec.data_age_lower_bound = s->age_lower_bound;
	}
	actions_.add(std::move(rec));
}

void Governor::summarize(uint64_t now_ns)
{
	if (!protected_window_start_ns_ || now_ns - protected_window_start_ns_ < summary_window_ns)
		return;
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

void Governor::shutdown(const netns::Registry &registry)
{
	journal::Journal &j = journal_.journal();
	if (cfg_.keep_on_exit) {
		spdlog::info("keep_on_exit: leaving tcp_shrink_window and {} window clamps as they "
			     "are, as configured, and removing the journal {}: nothing will put "
			     "them back",
			     journal_.size(), j.path());
		if (Status st = j.discard(); !st.ok())
			spdlog::error("journal: {}", st.error().message);
		return;
	}
	if (sysctl_)
		sysctl_->restore(registry);
	if (journal_.size() != 0 && act_.bpf) {
		auto actions = journal_.restore_actions();
		size_t restored = 0;
		auto results = act_.bpf->apply(actions);
		for (size_t i = 0; i < results.size() && i < actions.size(); ++i) {
			restored += results[i].outcome == enforce::Outcome::Done;
			counters_["release_errors"] +=
				results[i].outcome == enforce::Outcome::Failed;
			if (results[i].outcome == enforce::Outcome::Done ||
			    results[i].outcome == enforce::Outcome::Gone)
				journal_.forget(actions[i].target.cookie);
		}
		counters_["released"] += restored;
		spdlog::info("restored the window clamp of {} of {} clamped sockets (the others "
			     "are gone)",
			     restored, actions.size());
	}
	Status st = j.empty() ? j.discard() : j.commit();
	if (!st.ok())
		spdlog::error("journal: {}", st.error().message);
	else if (!j.empty())
		spdlog::error(
			"{} namespaces and {} sockets could not be restored: they stay in the "
			"journal {} for the next start or `rcvgovd --restore`",
			j.contents().sysctls.size(), j.contents().clamps.size(), j.path());
}

std::vector<tracker::ScopeReport> Governor::resources() const
{
	auto rows = tracker_->resources();
	std::stable_sort(rows.begin(), rows.end(),
			 [](const auto &a, const auto &b) { return a.percent > b.percent; });
	return rows;
}

std::string_view Governor::state_of(uint64_t cookie) const
{
	auto p = tracker_->find_participant(cookie);
	if (!p)
		return "none";
	auto r = tracker_->participant(*p);
	return r ? tracker::to_string(r->state) : "none";
}

GovernorStatus Governor::status() const
{
	GovernorStatus s;
	s.config_source = cfg_.source;
	s.mode = safety_.tripped() ? "breaker-tripped" : cfg_.dry_run ? "dry-run" : "enforcing";
	s.breaker_tripped = safety_.tripped();
	s.breaker_reason = safety_.trip_reason();
	s.keep_on_exit = cfg_.keep_on_exit;
	s.ladder = cfg_.ladder;
	s.safety = cfg_.safety;
	s.limits = tracker_->limits();
	auto name_of = [&](enforce::Kind k) -> std::string {
		if (act_.bpf && act_.bpf->supports(k))
			return std::string(act_.bpf->name());
		if (act_.diag && act_.diag->supports(k))
			return std::string(act_.diag->name());
		return "";
	};
	s.clamp_with = name_of(enforce::Kind::Clamp);
	s.destroy_with = name_of(enforce::Kind::Destroy);
	s.total = tracker_->total();
	s.reclaiming = tracker_->system_reclaiming();
	s.participants = tracker_->participant_count();
	s.clamped_sockets = tracker_->count_in_state(tracker::EnforceState::Clamped);
	s.counters = counters_;
	if (sysctl_)
		s.shrink_window = sysctl_->report();
	s.reaction_event = reactions_.summary(ReactionPath::Event);
	s.reaction_round = reactions_.summary(ReactionPath::Round);
	s.actions_recorded = actions_.total();
	s.actions_kept = actions_.size();
	s.actions_capacity = actions_.capacity();
	return s;
}

} // namespace rcvgov::governor
