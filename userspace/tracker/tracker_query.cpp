// Read-only views of the tracker: the `resources` table and single lookups.
#include "tracker/tracker.h"

namespace rcvgov::tracker {

namespace {

double percent(uint64_t usage, uint64_t limit)
{
	return limit == 0 ? 0.0 : static_cast<double>(usage) * 100.0 / static_cast<double>(limit);
}

} // namespace

uint64_t Tracker::total() const
{
	return accounts_[0].usage;
}

Expected<ScopeReport> Tracker::scope(AccountId id) const
{
	const uint32_t a = account_index(id);
	if (a == kNone)
		return Error::StaleHandle;
	const AccountHot &s = accounts_[a];
	const AccountCold &c = accounts_cold_[a];
	ScopeReport r;
	r.id = id;
	if (s.parent != kNone)
		r.parent = account_handle(s.parent);
	r.kind = s.kind;
	r.key.assign(c.key.data(), c.key.size());
	r.depth = s.depth;
	r.limit = a == 0 ? limits_.max : s.limit;
	r.usage = s.usage;
	r.pending = s.pending;
	r.percent = percent(s.usage, r.limit);
	r.participants = c.participants;
	r.allowlisted = s.flags & kAccAllowlistedEff;
	r.reclaim_as_unit = s.flags & kAccUnit;
	r.reclaiming = a == 0 ? system_reclaiming_ : bool(s.flags & kAccReclaiming);
	return r;
}

std::vector<ScopeReport> Tracker::resources() const
{
	std::vector<ScopeReport> rows;
	rows.reserve(live_accounts_);
	for_each_account(0, [&](uint32_t a) { rows.push_back(*scope(account_handle(a))); });
	return rows;
}

Expected<ParticipantReport> Tracker::participant(ParticipantId id, Time now) const
{
	const uint32_t i = participant_index(id);
	if (i == kNone)
		return Error::StaleHandle;
	const ParticipantHot &p = participants_[i];
	ParticipantReport r;
	r.id = id;
	r.cookie = p.cookie;
	r.account = account_handle(p.account);
	r.usage = p.usage;
	r.entitlement = p.entitlement;
	r.limit = socket_limit(p);
	r.percent = percent(p.usage, r.limit);
	r.stalled_for = stalled_of(p, now);
	r.inflated = p.has(kInflated);
	r.state = p.state();
	r.clamp_held = p.has(kClampHeld);
	r.allowlisted = p.has(kAllowlisted);
	return r;
}

size_t Tracker::memory_bytes() const
{
	// The override tables are sized by the configuration, not by sockets;
	// they are estimated (node + bucket) rather than counted.
	size_t overrides = 0;
	for (const auto *m : {&service_overrides_, &peer_overrides_}) {
		overrides += m->bucket_count() * sizeof(void *);
		for (const auto &[k, v] : *m)
			overrides += 48 + (k.capacity() > 15 ? k.capacity() + 1 : 0);
	}
	overrides +=
		socket_overrides_.bucket_count() * sizeof(void *) + socket_overrides_.size() * 32;
	return sizeof(*this) + bytes_ + overrides;
}

} // namespace rcvgov::tracker
