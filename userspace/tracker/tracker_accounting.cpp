// Tracker accounting: usage updates (absolute, batched, deltas), totals up
// the account chain, and the work lists that decide() reads.
#include <algorithm>

#include "tracker/tracker.h"

namespace rcvgov::tracker {

namespace {

int64_t ns(Time t)
{
	return t.time_since_epoch().count();
}

} // namespace

// The one place totals change: the delta goes up the whole chain (at most
// kMaxDepth accounts), and a scope that this pushes over its limit is put
// on the work list for the next decide().
void Tracker::add_usage(uint32_t a, int64_t delta, bool pending)
{
	for (; a != kNone; a = accounts_[a].parent) {
		AccountHot &s = accounts_[a];
		s.usage += static_cast<uint64_t>(delta);
		if (pending)
			s.pending += static_cast<uint64_t>(delta);
		if (s.usage - s.pending > s.limit && !(s.flags & kAccInOverList)) [[unlikely]]
			note_account_over(a);
	}
}

void Tracker::add_pending(uint32_t a, int64_t delta)
{
	for (; a != kNone; a = accounts_[a].parent) {
		AccountHot &s = accounts_[a];
		s.pending += static_cast<uint64_t>(delta);
		if (delta < 0 && s.usage - s.pending > s.limit && !(s.flags & kAccInOverList))
			note_account_over(a);
	}
}

void Tracker::add_count(uint32_t a, int64_t delta)
{
	for (; a != kNone; a = accounts_[a].parent)
		accounts_cold_[a].participants += static_cast<uint32_t>(delta);
}

void Tracker::note_account_over(uint32_t a)
{
	AccountHot &s = accounts_[a];
	if ((s.flags & (kAccInOverList | kAccAllowlistedEff)) || a == 0)
		return;
	s.flags |= kAccInOverList;
	accounts_over_.push_back(Ref{a, accounts_cold_[a].generation});
}

uint64_t Tracker::socket_limit(const ParticipantHot &p) const
{
	if (p.has(kSocketOverride)) [[unlikely]] {
		auto it = socket_overrides_.find(p.cookie);
		if (it != socket_overrides_.end())
			return it->second;
	}
	uint64_t limit = limits_.per_socket;
	if (p.entitlement > 0)
		limit = std::min(limit, uint64_t(p.entitlement) *
						limits_.per_socket_entitlement_percent / 100);
	return limit;
}

// The socket work list: sockets over their own limit or inflated that may
// still need a clamp (not allowlisted, no clamp final).
void Tracker::note_socket(uint32_t i)
{
	ParticipantHot &p = participants_[i];
	if (p.has(kInOverList) || !needs_socket_check(p))
		return;
	p.set(kInOverList);
	sockets_over_.push_back(Ref{i, p.generation()});
}

// Pending reclaims (and destroyed or would-be-destroyed sockets still
// reported) are part of usage and also of `pending`, so that "usage -
// pending" is what will be left once they take effect.
void Tracker::apply_usage(uint32_t i, uint64_t usage)
{
	ParticipantHot &p = participants_[i];
	const int64_t delta = int64_t(usage) - int64_t(p.usage);
	p.usage = static_cast<uint32_t>(usage);
	if (delta != 0)
		add_usage(p.account, delta, p.in(kPendingBytes));
}

Status Tracker::update(uint32_t i, const Usage &u, int64_t now_ns)
{
	Status st;
	uint64_t rmem = u.rmem_alloc, ent = u.entitlement;
	if (rmem > kMaxParticipantBytes || ent > kMaxParticipantBytes) [[unlikely]] {
		++stats_.overflows;
		st = Error::Overflow;
		rmem = std::min(rmem, kMaxParticipantBytes);
		ent = std::min(ent, kMaxParticipantBytes);
	}
	ParticipantHot &p = participants_[i];
	if (u.stalled_for && u.stalled_for->count() > 0) {
		// Saturating: an absurd stall must not overflow, and neither end
		// of the range is a time (INT64_MIN ranks apart in select_oldest,
		// kNotStalled means not stalled).
		int64_t since;
		if (__builtin_sub_overflow(now_ns, u.stalled_for->count(), &since) ||
		    since == INT64_MIN)
			since = INT64_MIN + 1;
		p.since = std::min(since, kNotStalled - 1);
	} else {
		p.since = kNotStalled;
	}
	if (u.inflated)
		p.set(kInflated);
	else
		p.clear(kInflated);
	p.entitlement = static_cast<uint32_t>(ent);
	apply_usage(i, rmem);
	// More memory, a lower entitlement or inflation can call for a clamp.
	note_socket(i);
	return st;
}

Status Tracker::set_usage(ParticipantId id, const Usage &u, Time now)
{
	const uint32_t i = participant_index(id);
	if (i == kNone)
		return stale();
	return update(i, u, ns(now));
}

// In groups, as by cookie below: fetch a group's slots, then the accounts
// they name, then apply.
size_t Tracker::set_usage(std::span<const HandleUpdate> batch, Time now)
{
	constexpr size_t kGroup = 32;
	const int64_t t = ns(now);
	const size_t slots = participants_.size();
	size_t applied = 0;
	for (size_t base = 0; base < batch.size(); base += kGroup) {
		const size_t m = std::min(kGroup, batch.size() - base);
		const HandleUpdate *u = batch.data() + base;
		for (size_t k = 0; k < m; ++k)
			if (u[k].id.index < slots)
				__builtin_prefetch(&participants_[u[k].id.index], 1);
		for (size_t k = 0; k < m; ++k) {
			if (u[k].id.index >= slots)
				continue;
			const uint32_t a = participants_[u[k].id.index].account;
			if (a < accounts_.size())
				__builtin_prefetch(&accounts_[a], 1);
		}
		for (size_t k = 0; k < m; ++k) {
			const uint32_t i = participant_index(u[k].id);
			if (i == kNone) {
				++stats_.stale_handles;
				continue;
			}
			applied += update(i, u[k].usage, t).ok();
		}
	}
	return applied;
}

// By cookie, in groups: look up the hash buckets of a whole group (small
// independent loads the processor overlaps), then fetch the participant
// slots they name, then apply. Overlapping the misses is what makes a
// batch faster than as many single calls.
size_t Tracker::set_usage(std::span<const CookieUpdate> batch, Time now)
{
	constexpr size_t kGroup = 32;
	uint32_t found[kGroup];
	const int64_t t = ns(now);
	size_t applied = 0;
	for (size_t base = 0; base < batch.size(); base += kGroup) {
		const size_t m = std::min(kGroup, batch.size() - base);
		const CookieUpdate *u = batch.data() + base;
		for (size_t k = 0; k < m; ++k)
			cookies_.prefetch(cookie_hash(u[k].cookie));
		for (size_t k = 0; k < m; ++k) {
			found[k] = cookies_.first_match(cookie_hash(u[k].cookie));
			if (found[k] != IndexTable::kNone)
				__builtin_prefetch(&participants_[found[k]], 1);
		}
		for (size_t k = 0; k < m; ++k)
			if (found[k] != IndexTable::kNone)
				__builtin_prefetch(&accounts_[participants_[found[k]].account], 1);
		for (size_t k = 0; k < m; ++k) {
			uint32_t i = found[k];
			// The guess is the first bucket whose hash bits match; a
			// full lookup settles the rare case of another cookie.
			if (i == IndexTable::kNone || participants_[i].cookie != u[k].cookie) {
				const uint64_t cookie = u[k].cookie;
				i = cookies_.find(cookie_hash(cookie), [&](uint32_t x) {
					return participants_[x].cookie == cookie;
				});
			}
			if (i == IndexTable::kNone) {
				++stats_.unknown_cookies;
				continue;
			}
			applied += update(i, u[k].usage, t).ok();
		}
	}
	return applied;
}

Status Tracker::claim(ParticipantId id, uint64_t bytes, Time now)
{
	const uint32_t i = participant_index(id);
	if (i == kNone)
		return stale();
	ParticipantHot &p = participants_[i];
	Status st;
	uint64_t usage = p.usage;
	if (bytes > kMaxParticipantBytes - usage) {
		++stats_.overflows;
		st = Error::Overflow;
		usage = kMaxParticipantBytes;
	} else {
		usage += bytes;
	}
	if (usage > 0 && p.since == kNotStalled)
		p.since = std::min(ns(now), kNotStalled - 1); // data waits from now
	apply_usage(i, usage);
	note_socket(i);
	return st;
}

Status Tracker::release(ParticipantId id, uint64_t bytes, Time now)
{
	const uint32_t i = participant_index(id);
	if (i == kNone)
		return stale();
	ParticipantHot &p = participants_[i];
	Status st;
	uint64_t usage = p.usage;
	if (bytes > usage) {
		++stats_.releases_below_zero;
		st = Error::ReleaseBelowZero;
		usage = 0;
	} else {
		usage -= bytes;
	}
	// The reader progressed: whatever is left waits from now; an empty
	// queue is not stalled at all.
	p.since = usage == 0 ? kNotStalled : std::min(ns(now), kNotStalled - 1);
	apply_usage(i, usage);
	return st;
}

} // namespace rcvgov::tracker
