// The enforcement state of every participant: what decide() issued, what
// settle() learnt of it, and the deadlines after which a state ends. See
// docs/tracker.md ("Enforcement state").
#include <algorithm>

#include "tracker/tracker.h"

namespace rcvgov::tracker {

namespace {

int64_t ns(Time t)
{
	return t.time_since_epoch().count();
}

} // namespace

int64_t Tracker::deadline(Time now) const
{
	int64_t until;
	if (__builtin_add_overflow(ns(now), limits_.pending_timeout.count(), &until))
		until = INT64_MAX;
	return until;
}

// The one place a state changes: counters follow, and so do the pending
// bytes of every scope above when the state starts or stops holding them
// (a scope may be over its limit again once they count).
void Tracker::set_state(uint32_t i, EnforceState s)
{
	ParticipantHot &p = participants_[i];
	const EnforceState old = p.state();
	if (old == s)
		return;
	--state_counts_[size_t(old)];
	++state_counts_[size_t(s)];
	p.gen_flags = (p.gen_flags & ~kStateMask) | uint32_t(s) << kStateShift;
	const bool held = (kPendingBytes >> uint32_t(old)) & 1;
	if (held != p.in(kPendingBytes) && p.usage > 0)
		add_pending(p.account, held ? -int64_t(p.usage) : int64_t(p.usage));
	if (!p.in(kTimed))
		participants_cold_[i].pending_until = 0;
}

void Tracker::set_state_until(uint32_t i, EnforceState s, int64_t until)
{
	set_state(i, s);
	participants_cold_[i].pending_until = until;
	push_deadline(i, until);
}

// Deadlines are pushed in time order (now + pending_timeout, `now` not
// going back); a clock that did, or a shorter pending_timeout, inserts in
// place instead.
void Tracker::push_deadline(uint32_t i, int64_t until)
{
	const PendingRef r{i, participants_[i].generation(), until};
	if (deadlines_.size() == deadline_head_ || deadlines_.back().deadline <= until) {
		deadlines_.push_back(r);
		return;
	}
	auto at = std::upper_bound(deadlines_.begin() + deadline_head_, deadlines_.end(), until,
				   [](int64_t d, const PendingRef &x) { return d < x.deadline; });
	deadlines_.insert(at, r);
}

// The end of a decision that left nothing in place: back to Clamped when a
// clamp of ours still holds the socket, else to None, eligible again.
void Tracker::back_to_rest(uint32_t i)
{
	if (participants_[i].has(kClampHeld)) {
		set_state(i, EnforceState::Clamped);
	} else {
		set_state(i, EnforceState::None);
		note_socket(i);
	}
}

// A reclaim that left its bytes in place (held back, failed, gone) means
// the reclamation it was part of is not finished: its scope stays in its
// hysteresis band, so the next decide() looks again and stops only when
// the scope really is within low water. Without this, a scope whose last
// victims were held back by a budget would sit between low water and max
// for good.
void Tracker::rearm(const Decision &d)
{
	if (d.action != Action::Reclaim)
		return;
	if (d.scope == ScopeKind::System) {
		system_reclaiming_ = true;
		return;
	}
	const uint32_t a = account_index(d.account);
	if (a == kNone || a == 0)
		return;
	accounts_[a].flags |= kAccReclaiming;
	note_account_over(a);
}

size_t Tracker::expire_pending(Time now)
{
	constexpr uint32_t kCounted = state_bit(EnforceState::PendingClamp) |
				      state_bit(EnforceState::PendingReclaim) |
				      state_bit(EnforceState::Destroyed);
	size_t expired = 0;
	const int64_t t = ns(now);
	while (deadline_head_ < deadlines_.size() && deadlines_[deadline_head_].deadline <= t) {
		const PendingRef r = deadlines_[deadline_head_++];
		const ParticipantHot &p = participants_[r.index];
		// Gone, reused, or in another state or deadline since.
		if (!p.has(kLive) || p.generation() != r.generation || !p.in(kTimed) ||
		    participants_cold_[r.index].pending_until != r.deadline)
			continue;
		// Unsettled decisions and sockets destroyed but still there did
		// not take effect; a failure's hold and a dry run's simply end.
		expired += p.in(kCounted);
		back_to_rest(r.index);
	}
	if (deadline_head_ > 0 && deadline_head_ * 2 >= deadlines_.size()) {
		deadlines_.erase(deadlines_.begin(), deadlines_.begin() + deadline_head_);
		deadline_head_ = 0;
	}
	stats_.pending_expired += expired;
	return expired;
}

Status Tracker::settle(const Decision &d, Outcome o, Time now)
{
	const uint32_t i = participant_index(d.participant);
	if (i == kNone || participants_[i].cookie != d.cookie)
		return stale();
	ParticipantHot &p = participants_[i];
	const bool clamp = d.action == Action::Clamp;
	const EnforceState want = clamp ? EnforceState::PendingClamp : EnforceState::PendingReclaim;
	if (p.state() != want || (d.action != Action::Clamp && d.action != Action::Reclaim)) {
		++stats_.invalid_settlements;
		return Error::NotPending;
	}
	switch (o) {
	case Outcome::Done:
		++stats_.settled_done;
		if (clamp) {
			p.set(kClampHeld);
			set_state(i, EnforceState::Clamped);
		} else {
			set_state_until(i, EnforceState::Destroyed, deadline(now));
		}
		return {};
	case Outcome::DryRun:
		++stats_.settled_dry_run;
		if (clamp)
			set_state(i, EnforceState::WouldClamp);
		else
			set_state_until(i, EnforceState::WouldReclaim, deadline(now));
		return {};
	case Outcome::Failed:
		++stats_.settled_failed;
		set_state_until(i, EnforceState::Failed, deadline(now));
		rearm(d);
		return {};
	case Outcome::Skipped:
		++stats_.settled_skipped;
		back_to_rest(i);
		rearm(d);
		return {};
	case Outcome::Gone:
		++stats_.settled_gone;
		back_to_rest(i);
		rearm(d);
		return {};
	}
	++stats_.invalid_settlements; // not an Outcome
	return Error::NotPending;
}

std::vector<uint64_t> Tracker::cookies_in_state(EnforceState s) const
{
	std::vector<uint64_t> out;
	out.reserve(count_in_state(s));
	for (const ParticipantHot &p : participants_)
		if (p.has(kLive) && p.state() == s)
			out.push_back(p.cookie);
	return out;
}

std::vector<uint64_t> Tracker::cookies() const
{
	std::vector<uint64_t> out;
	out.reserve(live_participants_);
	for (const ParticipantHot &p : participants_)
		if (p.has(kLive))
			out.push_back(p.cookie);
	return out;
}

std::vector<uint64_t> Tracker::cookies_clamped() const
{
	std::vector<uint64_t> out;
	for (const ParticipantHot &p : participants_)
		if (p.has(kLive) && p.has(kClampHeld))
			out.push_back(p.cookie);
	return out;
}

} // namespace rcvgov::tracker
