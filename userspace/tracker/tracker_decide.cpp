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

Decision Tracker::make_decision(uint32_t i, Action act, ScopeKind scope, uint32_t account,
				uint64_t limit, uint64_t scope_usage, Time now) const
{
	const ParticipantHot &p = participants_[i];
	Decision d;
	d.action = act;
	d.scope = scope;
	if (account != kNone)
		d.account = account_handle(account);
	d.limit = limit;
	d.scope_usage = scope_usage;
	d.participant = participant_handle(i);
	d.cookie = p.cookie;
	d.usage = p.usage;
	d.age = age_of(p, now);
	return d;
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

// What will be left of every scope above it drops by its usage now, so
// that nothing is decided twice for the same bytes.
void Tracker::set_reclaim_pending(uint32_t i, int64_t until)
{
	ParticipantHot &p = participants_[i];
	p.clear(kPendingClamp);
	p.set(kPendingReclaim);
	participants_cold_[i].pending_until = until;
	for (uint32_t a = p.account; a != kNone; a = accounts_[a].parent)
		accounts_[a].pending += p.usage;
	pending_reclaims_.push_back(PendingRef{i, p.generation(), until});
}

void Tracker::reclaim(uint32_t victim, uint32_t stop_at, const Decision &why, Time now,
		      std::vector<Decision> &out, uint64_t &reclaimed)
{
	const int64_t until = deadline(now);
	auto one = [&](uint32_t i, uint32_t unit) {
		ParticipantHot &p = participants_[i];
		if (p.has(kPendingReclaim) || p.has(kAllowlisted))
			return;
		Decision &d = out.emplace_back(why);
		d.action = Action::Reclaim;
		d.participant = participant_handle(i);
		d.cookie = p.cookie;
		d.usage = p.usage;
		d.age = age_of(p, now);
		if (unit != kNone)
			d.unit = account_handle(unit);
		++stats_.reclaim_decisions;
		reclaimed += p.usage;
		set_reclaim_pending(i, until);
	};
	const uint32_t unit = reclaim_unit(victim, stop_at);
	if (unit == kNone)
		one(victim, kNone);
	else
		for_each_participant(unit, [&](uint32_t i) { one(i, unit); });
}

// candidates_ holds the scope's candidates: take the oldest until what is
// left of the scope (`eff`) is within `low`.
void Tracker::reclaim_oldest(uint32_t scope, uint64_t &eff, uint64_t low, const Decision &why,
			     Time now, std::vector<Decision> &out)
{
	ordered_.clear();
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
			if (participants_[i].has(kPendingReclaim)) // taken with an earlier unit
				continue;
			uint64_t freed = 0;
			reclaim(i, scope, why, now, out, freed);
			eff -= std::min(eff, freed);
		}
	}
}

// Scopes first (a misbehaving peer should pay before the system quota
// looks for the oldest data anywhere), then the system quota, then clamps.
// Reclaims come before clamps so that no participant gets both in one call.
void Tracker::decide(Time now, std::vector<Decision> &out)
{
	expire_pending(now);

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

// One service or peer over its limit: decisions confined to its subtree.
// Clamp phase: the largest sockets are clamped until the unclamped rest is
// within the scope's low water. Reclaim phase (after escalate_after):
// oldest data first until the scope would be within its low water.
void Tracker::decide_scope(uint32_t a, Time now, std::vector<Decision> &out)
{
	const uint64_t limit = accounts_[a].limit;
	const uint64_t low = percent_of(limit, limits_.scope_low_water_percent);
	const uint64_t usage = accounts_[a].usage;
	uint64_t eff = usage - accounts_[a].pending;
	const bool reclaiming = accounts_[a].flags & kAccReclaiming;
	const int64_t t = ns(now);

	candidates_.clear();
	uint64_t clamped = 0;
	for_each_participant(a, [&](uint32_t i) {
		ParticipantHot &p = participants_[i];
		if (p.has(kPendingClamp) && t >= participants_cold_[i].pending_until)
			p.clear(kPendingClamp);
		if (p.has(kPendingReclaim) || p.has(kAllowlisted))
			return;
		if (p.has(kPendingClamp) && !reclaiming) {
			clamped += p.usage;
			return;
		}
		if (p.usage == 0)
			return;
		candidates_.push_back(Candidate{p.has(kHasAge) ? p.since : INT64_MIN, i, p.usage});
	});

	Decision why;
	why.scope = accounts_[a].kind;
	why.account = account_handle(a);
	why.limit = limit;
	why.scope_usage = usage;

	if (reclaiming) {
		if (eff > low)
			reclaim_oldest(a, eff, low, why, now, out);
		if (eff <= low)
			accounts_[a].flags &= ~(kAccReclaiming | kAccOver);
		return;
	}
	uint64_t unclamped = eff > clamped ? eff - clamped : 0;
	std::make_heap(candidates_.begin(), candidates_.end(), SmallerUsage());
	while (unclamped > low && !candidates_.empty()) {
		std::pop_heap(candidates_.begin(), candidates_.end(), SmallerUsage());
		const uint32_t i = candidates_.back().index;
		candidates_.pop_back();
		out.push_back(make_decision(i, Action::Clamp, why.scope, a, limit, usage, now));
		++stats_.clamp_decisions;
		set_clamp_pending(i, now);
		unclamped -= std::min<uint64_t>(unclamped, participants_[i].usage);
	}
}

// The system quota, with hysteresis: start when what will be left (usage
// minus pending reclaims) exceeds max, then reclaim oldest data first until
// it would be within low water, and stay quiet until max is exceeded again.
void Tracker::decide_system(Time now, std::vector<Decision> &out)
{
	uint64_t eff = accounts_[0].usage - accounts_[0].pending;
	if (!system_reclaiming_) {
		if (eff <= limits_.max)
			return;
		system_reclaiming_ = true;
	}
	if (eff > limits_.low_water) {
		candidates_.clear();
		candidates_.reserve(live_participants_);
		const size_t n = participants_.size();
		for (uint32_t i = 0; i < n; ++i) {
			const ParticipantHot &p = participants_[i];
			if ((p.gen_flags & (kLive | kPendingReclaim | kAllowlisted)) != kLive ||
			    p.usage == 0)
				continue;
			candidates_.push_back(
				Candidate{p.has(kHasAge) ? p.since : INT64_MIN, i, p.usage});
		}
		Decision why;
		why.scope = ScopeKind::System;
		why.account = account_handle(0);
		why.limit = limits_.max;
		why.scope_usage = accounts_[0].usage;
		reclaim_oldest(0, eff, limits_.low_water, why, now, out);
	}
	if (eff <= limits_.low_water) {
		system_reclaiming_ = false;
		stats_.system_shortfall = 0;
	} else {
		stats_.system_shortfall = eff - limits_.low_water;
	}
}

// Sockets over their own limit (a multiple of what autotuning gave them):
// clamp, never reclaim — one fat socket is the system quota's business only
// when memory as a whole runs short.
void Tracker::decide_sockets(Time now, std::vector<Decision> &out)
{
	const int64_t t = ns(now);
	auto keep = sockets_over_.begin();
	for (const Ref &r : sockets_over_) {
		if (r.index >= participants_.size())
			continue;
		ParticipantHot &p = participants_[r.index];
		if (!p.has(kLive) || p.generation() != r.generation || !p.has(kInOverList))
			continue;
		const uint64_t limit = socket_limit(p);
		if (p.has(kAllowlisted) || p.usage <= limit) {
			p.clear(kInOverList);
			continue;
		}
		*keep++ = r;
		if (p.has(kPendingClamp) && t >= participants_cold_[r.index].pending_until)
			p.clear(kPendingClamp);
		if (p.has(kPendingClamp) || p.has(kPendingReclaim))
			continue;
		out.push_back(make_decision(r.index, Action::Clamp, ScopeKind::Socket, kNone, limit,
					    p.usage, now));
		++stats_.clamp_decisions;
		set_clamp_pending(r.index, now);
	}
	sockets_over_.erase(keep, sockets_over_.end());
}

} // namespace rcvgov::tracker
