// Tracker::decide(): turning usage and limits into decisions. See
// docs/tracker.md ("Decision rules") for why each rule is what it is.
#include <algorithm>

#include "tracker/tracker.h"

namespace rcvgov::tracker {

namespace {

int64_t ns(Time t)
{
	return t.time_since_epoch().count();
}

uint64_t percent_of(uint64_t v, uint64_t pct)
{
	return v / 100 * pct + v % 100 * pct / 100;
}

// std heaps keep the largest in front: "larger usage" compares as larger.
struct SmallerUsage {
	bool operator()(const detail::Candidate &a, const detail::Candidate &b) const
	{
		return a.usage != b.usage ? a.usage < b.usage : a.index > b.index;
	}
};

} // namespace

// A decision for participant i, from `why` (the scope, its limit and
// usage, the reason), and the participant's state that goes with it: a
// clamp or a reclaim pending until settled or pending_timeout.
Decision &Tracker::emit(const Decision &why, uint32_t i, Action act, Time now,
			std::vector<Decision> &out)
{
	const ParticipantHot &p = participants_[i];
	Decision &d = out.emplace_back(why);
	d.action = act;
	d.participant = participant_handle(i);
	d.cookie = p.cookie;
	d.usage = p.usage;
	d.age = stalled_of(p, now);
	if (act == Action::Clamp) {
		++stats_.clamp_decisions;
		stats_.inflation_clamp_decisions += why.reason == Reason::Inflated;
		set_state_until(i, EnforceState::PendingClamp, deadline(now));
	} else {
		++stats_.reclaim_decisions;
		set_state_until(i, EnforceState::PendingReclaim, deadline(now));
		// From WouldClamp, a clamp is no longer final: if the reclaim
		// comes back, the socket may need its clamp again.
		note_socket(i);
	}
	return d;
}

// A reclaim candidate is stalled since at or before this.
int64_t Tracker::stall_cutoff(Time now) const
{
	int64_t cutoff;
	if (__builtin_sub_overflow(ns(now), limits_.min_stall.count(), &cutoff))
		cutoff = INT64_MIN;
	return std::min(cutoff, kNotStalled - 1);
}

// The unit of reclamation for participant i: the nearest account flagged
// reclaim_as_unit between its own account and `stop_at` (the scope being
// relieved, so a unit never reaches outside it), or kNone for the socket
// alone.
uint32_t Tracker::reclaim_unit(uint32_t i, uint32_t stop_at) const
{
	if (unit_accounts_ == 0)
		return kNone;
	for (uint32_t a = participants_[i].account; a != kNone; a = accounts_[a].parent) {
		if (accounts_[a].flags & kAccUnit)
			return a;
		if (a == stop_at)
			break;
	}
	return kNone;
}

// The victim, or its whole unit. A unit's members go with it only if they
// are reclaim candidates themselves (stalled at least min_stall, not held
// by another decision): a unit never takes a reader that progresses. What
// will be left of every scope above drops by their usage at once (pending),
// so that nothing is decided twice for the same bytes.
void Tracker::reclaim(uint32_t victim, uint32_t stop_at, const Decision &why, Time now,
		      std::vector<Decision> &out, uint64_t &reclaimed)
{
	const int64_t cutoff = stall_cutoff(now);
	auto one = [&](uint32_t i, uint32_t unit) {
		const ParticipantHot &p = participants_[i];
		if (!reclaim_candidate(p, cutoff))
			return;
		reclaimed += p.usage;
		if (reclaims_left_)
			--reclaims_left_;
		Decision &d = emit(why, i, Action::Reclaim, now, out);
		if (unit != kNone)
			d.unit = account_handle(unit);
	};
	const uint32_t unit = reclaim_unit(victim, stop_at);
	if (unit == kNone)
		one(victim, kNone);
	else
		for_each_participant(unit, [&](uint32_t i) { one(i, unit); });
}

// Gathering a scope's candidates in one pass. Under a cap only the oldest
// reclaims_left_ can be taken: keep just those in a heap (youngest on top)
// instead of writing out every candidate and selecting afterwards.
void Tracker::begin_candidates()
{
	candidates_.clear();
	candidates_seen_ = 0;
}

void Tracker::add_candidate(const Candidate &c)
{
	++candidates_seen_;
	const size_t k = reclaim_cap_ ? reclaims_left_ : SIZE_MAX;
	const auto older = detail::older;
	if (candidates_.size() < k) {
		candidates_.push_back(c);
		if (reclaim_cap_)
			std::push_heap(candidates_.begin(), candidates_.end(), older);
	} else if (k && older(c, candidates_.front())) {
		std::pop_heap(candidates_.begin(), candidates_.end(), older);
		candidates_.back() = c;
		std::push_heap(candidates_.begin(), candidates_.end(), older);
	}
}

// candidates_ holds the scope's stalled candidates: take the longest
// stalled until what is left of the scope (`eff`) is within `low`.
bool Tracker::reclaim_oldest(uint32_t scope, uint64_t &eff, uint64_t low, const Decision &why,
			     Time now, std::vector<Decision> &out)
{
	ordered_.clear();
	if (reclaims_left_ == 0)
		return true;
	// Under a cap, candidates_ is already just the few that can be taken.
	const bool few = reclaim_cap_ != 0;
	if (few)
		detail::select_oldest_n(candidates_, reclaims_left_, ordered_);
	else
		detail::select_oldest(candidates_, eff - low, ordered_, histogram_);
	// Victims are scattered: in groups, fetch their slots, then the
	// accounts the slots name, then act (as the batched updates do).
	constexpr size_t kGroup = 32;
	const size_t n = ordered_.size();
	for (size_t base = 0; base < n && eff > low; base += kGroup) {
		const size_t m = std::min(kGroup, n - base);
		const Candidate *c = ordered_.data() + base;
		for (size_t k = 0; k < m; ++k) {
			__builtin_prefetch(&participants_[c[k].index], 1);
			__builtin_prefetch(&participants_cold_[c[k].index], 1);
		}
		for (size_t k = 0; k < m; ++k)
			__builtin_prefetch(&accounts_[participants_[c[k].index].account], 1);
		for (size_t k = 0; k < m && eff > low; ++k) {
			const uint32_t i = c[k].index;
			if (!participants_[i].in(kReclaimable)) // taken with an earlier unit
				continue;
			if (reclaims_left_ == 0)
				return true;
			uint64_t freed = 0;
			reclaim(i, scope, why, now, out, freed);
			eff -= std::min(eff, freed);
		}
	}
	// Stopped by the cap, or out of the few selected while others wait.
	return eff > low && (reclaims_left_ == 0 || (few && candidates_seen_ > ordered_.size()));
}

// Scopes first (a misbehaving peer should pay before the system quota
// looks for stalled sockets anywhere), then the system quota, then clamps.
// Every decision puts its participant in a pending state, which takes it
// out of every later rule of the call: at most one decision each.
void Tracker::decide(Time now, std::vector<Decision> &out)
{
	expire_pending(now);
	reclaims_left_ = reclaim_cap_ ? reclaim_cap_ : SIZE_MAX;

	std::vector<uint32_t> scopes;
	for (const Ref &r : accounts_over_) {
		if (r.index >= accounts_.size())
			continue;
		AccountHot &s = accounts_[r.index];
		if (!(s.flags & kAccLive) || accounts_cold_[r.index].generation != r.generation ||
		    !(s.flags & kAccInOverList))
			continue;
		s.flags &= ~kAccInOverList;
		scopes.push_back(r.index);
	}
	accounts_over_.clear();
	std::sort(scopes.begin(), scopes.end(), [&](uint32_t a, uint32_t b) {
		return accounts_[a].depth != accounts_[b].depth
			       ? accounts_[a].depth > accounts_[b].depth
			       : a < b;
	});

	std::vector<uint32_t> clamping;
	for (uint32_t a : scopes) {
		AccountHot &s = accounts_[a];
		if (s.flags & kAccAllowlistedEff) {
			s.flags &= ~(kAccOver | kAccReclaiming);
			continue;
		}
		if (!(s.flags & kAccReclaiming)) {
			if (!over(a)) {
				s.flags &= ~kAccOver;
				continue;
			}
			if (!(s.flags & kAccOver)) {
				s.flags |= kAccOver;
				accounts_cold_[a].over_since = now;
			}
			if (now - accounts_cold_[a].over_since >= limits_.escalate_after)
				s.flags |= kAccReclaiming;
		}
		// Still on the list next time: it is over its limit or reclaiming.
		note_account_over(a);
		if (accounts_[a].flags & kAccReclaiming)
			decide_scope(a, now, out);
		else
			clamping.push_back(a);
	}

	decide_system(now, out);

	for (uint32_t a : clamping)
		decide_scope(a, now, out);
	decide_sockets(now, out);
}

std::vector<Decision> Tracker::decide(Time now)
{
	std::vector<Decision> out;
	decide(now, out);
	return out;
}

// Clamps the largest sockets of a scope (the system: every socket) that
// have no clamp yet, until the bytes of those still unclamped are within
// `low`. Sockets clamped already (or pending a clamp) count as clamped;
// sockets pending a reclaim are out of `eff` already; the others (failed,
// allowlisted) are neither clamped nor candidates.
void Tracker::clamp_largest(uint32_t scope, uint64_t eff, uint64_t low, const Decision &why,
			    Time now, std::vector<Decision> &out)
{
	candidates_.clear();
	uint64_t clamped = 0;
	auto visit = [&](uint32_t i) {
		const ParticipantHot &p = participants_[i];
		if ((p.gen_flags & (kLive | kAllowlisted)) != kLive || p.in(kPendingBytes))
			return;
		if (p.in(kClampLike) || p.has(kClampHeld))
			clamped += p.usage;
		else if (p.state() == EnforceState::None && p.usage > 0)
			candidates_.push_back(Candidate{0, i, p.usage});
	};
	if (scope == 0) {
		const uint32_t n = static_cast<uint32_t>(participants_.size());
		for (uint32_t i = 0; i < n; ++i)
			visit(i);
	} else {
		for_each_participant(scope, visit);
	}
	uint64_t unclamped = eff > clamped ? eff - clamped : 0;
	if (unclamped <= low)
		return;
	std::make_heap(candidates_.begin(), candidates_.end(), SmallerUsage());
	while (unclamped > low && !candidates_.empty()) {
		std::pop_heap(candidates_.begin(), candidates_.end(), SmallerUsage());
		const uint32_t i = candidates_.back().index;
		candidates_.pop_back();
		unclamped -= std::min<uint64_t>(unclamped, participants_[i].usage);
		emit(why, i, Action::Clamp, now, out);
	}
}

// One service or peer over its limit: decisions confined to its subtree.
// Clamp phase: the largest sockets are clamped until the unclamped rest is
// within the scope's low water. Reclaim phase (after escalate_after): the
// longest-stalled sockets first until the scope would be within its low
// water, and when the stalled ones are not enough, clamps as in the clamp
// phase (a scope of progressing readers is clamped, never reclaimed).
void Tracker::decide_scope(uint32_t a, Time now, std::vector<Decision> &out)
{
	Decision why;
	why.scope = accounts_[a].kind;
	why.account = account_handle(a);
	why.limit = accounts_[a].limit;
	why.scope_usage = accounts_[a].usage;
	const uint64_t low = percent_of(why.limit, limits_.scope_low_water_percent);
	uint64_t eff = accounts_[a].usage - accounts_[a].pending;

	if (!(accounts_[a].flags & kAccReclaiming)) {
		clamp_largest(a, eff, low, why, now, out);
		return;
	}
	bool capped = false;
	if (eff > low) {
		const int64_t cutoff = stall_cutoff(now);
		begin_candidates();
		for_each_participant(a, [&](uint32_t i) {
			const ParticipantHot &p = participants_[i];
			if (reclaim_candidate(p, cutoff))
				add_candidate(Candidate{p.since, i, p.usage});
		});
		capped = reclaim_oldest(a, eff, low, why, now, out);
	}
	if (eff <= low)
		accounts_[a].flags &= ~(kAccReclaiming | kAccOver);
	else if (!capped)
		clamp_largest(a, eff, low, why, now, out);
}

// The system quota, with hysteresis: start when what will be left (usage
// minus pending reclaims) exceeds max, then reclaim the longest-stalled
// sockets first until it would be within low water, clamp the largest
// progressing readers when the stalled ones are not enough, and stay quiet
// until max is exceeded again.
void Tracker::decide_system(Time now, std::vector<Decision> &out)
{
	uint64_t eff = accounts_[0].usage - accounts_[0].pending;
	if (!system_reclaiming_) {
		if (eff <= limits_.max)
			return;
		system_reclaiming_ = true;
	}
	if (eff > limits_.low_water) {
		const int64_t cutoff = stall_cutoff(now);
		begin_candidates();
		if (!reclaim_cap_)
			candidates_.reserve(live_participants_);
		const size_t n = participants_.size();
		for (uint32_t i = 0; i < n; ++i) {
			const ParticipantHot &p = participants_[i];
			if (reclaim_candidate(p, cutoff))
				add_candidate(Candidate{p.since, i, p.usage});
		}
		Decision why;
		why.scope = ScopeKind::System;
		why.account = account_handle(0);
		why.limit = limits_.max;
		why.scope_usage = accounts_[0].usage;
		const bool capped = reclaim_oldest(0, eff, limits_.low_water, why, now, out);
		if (eff > limits_.low_water && !capped)
			clamp_largest(0, eff, limits_.low_water, why, now, out);
	}
	if (eff <= limits_.low_water) {
		system_reclaiming_ = false;
		stats_.system_shortfall = 0;
	} else {
		stats_.system_shortfall = eff - limits_.low_water;
	}
}

// Sockets over their own limit (a multiple of what autotuning gave them) or
// inflated by the kernel beyond it: one clamp, never a reclaim — one fat
// socket is the system quota's business only when memory as a whole runs
// short. An entry stays on the list while the socket may still need its
// clamp (a decision pending or failed may come back to None).
void Tracker::decide_sockets(Time now, std::vector<Decision> &out)
{
	auto keep = sockets_over_.begin();
	for (const Ref &r : sockets_over_) {
		if (r.index >= participants_.size())
			continue;
		ParticipantHot &p = participants_[r.index];
		if (!p.has(kLive) || p.generation() != r.generation || !p.has(kInOverList))
			continue;
		if (!needs_socket_check(p)) {
			p.clear(kInOverList);
			continue;
		}
		*keep++ = r;
		if (p.state() != EnforceState::None)
			continue;
		Decision why;
		why.scope = ScopeKind::Socket;
		why.scope_usage = p.usage;
		why.limit = socket_limit(p);
		if (p.usage <= why.limit) { // inflated, within its limit
			why.reason = Reason::Inflated;
			why.limit = p.entitlement;
		}
		emit(why, r.index, Action::Clamp, now, out);
	}
	sockets_over_.erase(keep, sockets_over_.end());
}

} // namespace rcvgov::tracker
