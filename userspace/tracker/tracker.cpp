#include "tracker/tracker.h"

#include <algorithm>
#include <atomic>
#include <functional>

namespace rcvgov::tracker {

namespace {

std::atomic<uint32_t> next_serial{1};

int64_t ns(Time t)
{
	return t.time_since_epoch().count();
}

} // namespace

Tracker::Tracker(const Clock &clock)
    : clock_(&clock), serial_(next_serial++), accounts_(CountingAllocator<AccountHot>(&bytes_)),
      accounts_cold_(CountingAllocator<AccountCold>(&bytes_)), account_keys_(&bytes_),
      participants_(CountingAllocator<ParticipantHot>(&bytes_)),
      participants_cold_(CountingAllocator<ParticipantCold>(&bytes_)), cookies_(&bytes_),
      sockets_over_(CountingAllocator<Ref>(&bytes_)),
      accounts_over_(CountingAllocator<Ref>(&bytes_)),
      pending_reclaims_(CountingAllocator<PendingRef>(&bytes_)),
      candidates_(CountingAllocator<Candidate>(&bytes_)),
      ordered_(CountingAllocator<Candidate>(&bytes_)),
      histogram_(CountingAllocator<uint64_t>(&bytes_))
{
	if (serial_ == 0) // wrapped: 0 would match zero-initialised handles
		serial_ = next_serial++;
	AccountHot &sys = accounts_.emplace_back();
	accounts_cold_.emplace_back(CountingAllocator<char>(&bytes_));
	sys.kind = ScopeKind::System;
	sys.flags = kAccLive;
	sys.limit = UINT64_MAX; // the system quota has its own hysteresis
	live_accounts_ = 1;
}

Tracker::~Tracker() = default;

// ---- handles ---------------------------------------------------------------

Status Tracker::stale()
{
	++stats_.stale_handles;
	return Error::StaleHandle;
}

AccountId Tracker::system() const
{
	return account_handle(0);
}

// ---- accounting ------------------------------------------------------------

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

void Tracker::note_socket(uint32_t i)
{
	ParticipantHot &p = participants_[i];
	if (p.has(kInOverList) || p.has(kAllowlisted) || p.usage <= socket_limit(p))
		return;
	p.set(kInOverList);
	sockets_over_.push_back(Ref{i, p.generation()});
}

// Pending reclaims are part of usage and also of `pending`, so that
// "usage - pending" is what will be left once they take effect.
void Tracker::apply_usage(uint32_t i, uint64_t usage)
{
	ParticipantHot &p = participants_[i];
	const int64_t delta = int64_t(usage) - int64_t(p.usage);
	p.usage = static_cast<uint32_t>(usage);
	if (delta != 0)
		add_usage(p.account, delta, p.has(kPendingReclaim));
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
	if (u.oldest_age) {
		// Saturating: an absurd age must not overflow, and INT64_MIN is
		// the "no age" rank in decide().
		int64_t since;
		if (__builtin_sub_overflow(now_ns, std::max<int64_t>(u.oldest_age->count(), 0),
					   &since) ||
		    since == INT64_MIN)
			since = INT64_MIN + 1;
		p.since = since;
		p.set(kHasAge);
	} else {
		p.clear(kHasAge);
	}
	p.entitlement = static_cast<uint32_t>(ent);
	apply_usage(i, rmem);
	// More memory or a lower entitlement can put the socket over its limit.
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
	if (p.usage == 0 && usage > 0 && !p.has(kHasAge)) {
		p.since = ns(now);
		p.set(kHasAge);
	}
	apply_usage(i, usage);
	note_socket(i);
	return st;
}

Status Tracker::release(ParticipantId id, uint64_t bytes)
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
	if (usage == 0)
		p.clear(kHasAge); // the queue is empty: nothing is old any more
	apply_usage(i, usage);
	return st;
}

int64_t Tracker::deadline(Time now) const
{
	int64_t until;
	if (__builtin_add_overflow(ns(now), limits_.pending_timeout.count(), &until))
		until = INT64_MAX;
	return until;
}

void Tracker::set_clamp_pending(uint32_t i, Time now)
{
	participants_[i].set(kPendingClamp);
	participants_cold_[i].pending_until = deadline(now);
}

void Tracker::clear_pending(uint32_t i)
{
	ParticipantHot &p = participants_[i];
	if (p.has(kPendingReclaim)) {
		p.clear(kPendingReclaim);
		// What was pending counts again: a scope may be over once more.
		add_pending(p.account, -int64_t(p.usage));
	}
	p.clear(kPendingClamp);
}

size_t Tracker::expire_pending(Time now)
{
	size_t expired = 0;
	const int64_t t = ns(now);
	while (pending_head_ < pending_reclaims_.size() &&
	       pending_reclaims_[pending_head_].deadline <= t) {
		const PendingRef r = pending_reclaims_[pending_head_++];
		const ParticipantHot &p = participants_[r.index];
		// Gone, reused, or pending again since (with a later deadline).
		if (!p.has(kLive) || p.generation() != r.generation || !p.has(kPendingReclaim) ||
		    participants_cold_[r.index].pending_until > t)
			continue;
		clear_pending(r.index);
		++expired;
	}
	if (pending_head_ > 0 && pending_head_ * 2 >= pending_reclaims_.size()) {
		pending_reclaims_.erase(pending_reclaims_.begin(),
					pending_reclaims_.begin() + pending_head_);
		pending_head_ = 0;
	}
	stats_.pending_expired += expired;
	return expired;
}

// ---- structure -------------------------------------------------------------

uint64_t Tracker::account_hash(uint32_t parent, std::string_view key) const
{
	return mix64(std::hash<std::string_view>()(key) + 0x9e3779b97f4a7c15ULL * (parent + 1));
}

uint64_t Tracker::key_hash(uint32_t a) const
{
	const Key &k = accounts_cold_[a].key;
	return account_hash(accounts_[a].parent, std::string_view(k.data(), k.size()));
}

uint64_t Tracker::account_limit(ScopeKind kind, std::string_view key) const
{
	const auto &table = kind == ScopeKind::Service ? service_overrides_ : peer_overrides_;
	if (!table.empty()) {
		auto it = table.find(std::string(key));
		if (it != table.end())
			return it->second;
	}
	return kind == ScopeKind::Service ? limits_.per_service : limits_.per_peer;
}

void Tracker::link_child(uint32_t a, uint32_t parent)
{
	AccountCold &s = accounts_cold_[a];
	AccountCold &p = accounts_cold_[parent];
	accounts_[a].parent = parent;
	s.prev_sibling = p.last_child;
	s.next_sibling = kNone;
	if (p.last_child != kNone)
		accounts_cold_[p.last_child].next_sibling = a;
	else
		p.first_child = a;
	p.last_child = a;
}

void Tracker::unlink_child(uint32_t a)
{
	AccountCold &s = accounts_cold_[a];
	AccountCold &p = accounts_cold_[accounts_[a].parent];
	if (s.prev_sibling != kNone)
		accounts_cold_[s.prev_sibling].next_sibling = s.next_sibling;
	else
		p.first_child = s.next_sibling;
	if (s.next_sibling != kNone)
		accounts_cold_[s.next_sibling].prev_sibling = s.prev_sibling;
	else
		p.last_child = s.prev_sibling;
	accounts_[a].parent = kNone;
	s.next_sibling = s.prev_sibling = kNone;
}

void Tracker::link_participant(uint32_t i, uint32_t a)
{
	ParticipantHot &p = participants_[i];
	ParticipantCold &c = participants_cold_[i];
	AccountCold &s = accounts_cold_[a];
	p.account = a;
	c.prev = kNone;
	c.next = s.first_participant;
	if (s.first_participant != kNone)
		participants_cold_[s.first_participant].prev = i;
	s.first_participant = i;
	if (accounts_[a].flags & kAccAllowlistedEff)
		p.set(kAllowlisted);
	else
		p.clear(kAllowlisted);
}

void Tracker::unlink_participant(uint32_t i)
{
	ParticipantHot &p = participants_[i];
	ParticipantCold &c = participants_cold_[i];
	AccountCold &s = accounts_cold_[p.account];
	if (c.prev != kNone)
		participants_cold_[c.prev].next = c.next;
	else
		s.first_participant = c.next;
	if (c.next != kNone)
		participants_cold_[c.next].prev = c.prev;
	p.account = kNone;
	c.next = c.prev = kNone;
}

uint32_t Tracker::subtree_height(uint32_t a) const
{
	uint32_t h = 0;
	for (uint32_t c = accounts_cold_[a].first_child; c != kNone;
	     c = accounts_cold_[c].next_sibling)
		h = std::max(h, 1 + subtree_height(c));
	return h;
}

void Tracker::refresh_allowlist(uint32_t a)
{
	for_each_account(a, [&](uint32_t acc) {
		AccountHot &s = accounts_[acc];
		const bool eff =
			(s.flags & kAccAllowlisted) ||
			(s.parent != kNone && (accounts_[s.parent].flags & kAccAllowlistedEff));
		const bool was = s.flags & kAccAllowlistedEff;
		s.flags = eff ? (s.flags | kAccAllowlistedEff) : (s.flags & ~kAccAllowlistedEff);
		if (was && !eff && over(acc))
			note_account_over(acc);
		for (uint32_t i = accounts_cold_[acc].first_participant; i != kNone;
		     i = participants_cold_[i].next) {
			ParticipantHot &p = participants_[i];
			if (eff) {
				p.set(kAllowlisted);
			} else if (p.has(kAllowlisted)) {
				p.clear(kAllowlisted);
				note_socket(i);
			}
		}
	});
}

Expected<AccountId> Tracker::create_account(AccountId parent, ScopeKind kind, std::string_view key,
					    AccountOptions options)
{
	const uint32_t pi = account_index(parent);
	if (pi == kNone)
		return stale().error();
	if ((kind != ScopeKind::Service && kind != ScopeKind::Peer) || kind < accounts_[pi].kind) {
		++stats_.invalid_operations;
		return Error::InvalidKind;
	}
	if (accounts_[pi].depth + 1u >= kMaxDepth) {
		++stats_.invalid_operations;
		return Error::DepthExceeded;
	}
	if (find_account(parent, key)) {
		++stats_.duplicates;
		return Error::DuplicateKey;
	}
	uint32_t a = free_account_;
	if (a != kNone) {
		free_account_ = accounts_cold_[a].next_sibling;
	} else {
		if (accounts_.size() >= kNone - 1) {
			++stats_.invalid_operations;
			return Error::CapacityExceeded;
		}
		a = static_cast<uint32_t>(accounts_.size());
		accounts_.emplace_back();
		accounts_cold_.emplace_back(CountingAllocator<char>(&bytes_));
	}
	AccountHot &s = accounts_[a];
	AccountCold &c = accounts_cold_[a];
	c.key.assign(key);
	c.participants = 0;
	c.first_child = c.last_child = c.first_participant = kNone;
	s.kind = kind;
	s.depth = static_cast<uint8_t>(accounts_[pi].depth + 1);
	s.usage = s.pending = 0;
	s.limit = account_limit(kind, key);
	s.flags = kAccLive | (options.allowlisted ? kAccAllowlisted : 0) |
		  (options.reclaim_as_unit ? kAccUnit : 0);
	if (options.allowlisted || (accounts_[pi].flags & kAccAllowlistedEff))
		s.flags |= kAccAllowlistedEff;
	unit_accounts_ += options.reclaim_as_unit;
	link_child(a, pi);
	account_keys_.insert(key_hash(a), a, [&](uint32_t x) { return key_hash(x); });
	++live_accounts_;
	return account_handle(a);
}

Expected<AccountId> Tracker::find_account(AccountId parent, std::string_view key) const
{
	const uint32_t pi = account_index(parent);
	if (pi == kNone)
		return Error::StaleHandle;
	const uint32_t a = account_keys_.find(account_hash(pi, key), [&](uint32_t x) {
		const Key &k = accounts_cold_[x].key;
		return accounts_[x].parent == pi && std::string_view(k.data(), k.size()) == key;
	});
	if (a == kNone)
		return Error::StaleHandle;
	return account_handle(a);
}

Status Tracker::set_allowlisted(AccountId id, bool allowlisted)
{
	const uint32_t a = account_index(id);
	if (a == kNone)
		return stale();
	AccountHot &s = accounts_[a];
	s.flags = allowlisted ? (s.flags | kAccAllowlisted) : (s.flags & ~kAccAllowlisted);
	refresh_allowlist(a);
	return {};
}

Status Tracker::set_reclaim_as_unit(AccountId id, bool unit)
{
	const uint32_t a = account_index(id);
	if (a == kNone)
		return stale();
	if (a == 0) {
		++stats_.invalid_operations;
		return Error::SystemAccount;
	}
	AccountHot &s = accounts_[a];
	unit_accounts_ -= bool(s.flags & kAccUnit);
	s.flags = unit ? (s.flags | kAccUnit) : (s.flags & ~kAccUnit);
	unit_accounts_ += unit;
	return {};
}

Status Tracker::move_account(AccountId id, AccountId new_parent)
{
	const uint32_t a = account_index(id);
	const uint32_t np = account_index(new_parent);
	if (a == kNone || np == kNone)
		return stale();
	if (a == 0) {
		++stats_.invalid_operations;
		return Error::SystemAccount;
	}
	if (accounts_[a].parent == np)
		return {};
	if (accounts_[a].kind < accounts_[np].kind) {
		++stats_.invalid_operations;
		return Error::InvalidKind;
	}
	for (uint32_t x = np; x != kNone; x = accounts_[x].parent) {
		if (x == a) {
			++stats_.invalid_operations;
			return Error::Cycle;
		}
	}
	if (accounts_[np].depth + 1u + subtree_height(a) >= kMaxDepth) {
		++stats_.invalid_operations;
		return Error::DepthExceeded;
	}
	const Key &key = accounts_cold_[a].key;
	if (find_account(new_parent, std::string_view(key.data(), key.size()))) {
		++stats_.duplicates;
		return Error::DuplicateKey;
	}
	const auto hash_of = [&](uint32_t x) { return key_hash(x); };
	const uint64_t usage = accounts_[a].usage, pending = accounts_[a].pending;
	const uint32_t count = accounts_cold_[a].participants;
	for (uint32_t x = accounts_[a].parent; x != kNone; x = accounts_[x].parent) {
		accounts_[x].usage -= usage;
		accounts_[x].pending -= pending;
		accounts_cold_[x].participants -= count;
	}
	account_keys_.erase(key_hash(a), a, hash_of);
	unlink_child(a);
	link_child(a, np);
	account_keys_.insert(key_hash(a), a, hash_of);
	for (uint32_t x = np; x != kNone; x = accounts_[x].parent) {
		accounts_[x].usage += usage;
		accounts_[x].pending += pending;
		accounts_cold_[x].participants += count;
		if (over(x))
			note_account_over(x);
	}
	for_each_account(a, [&](uint32_t x) {
		accounts_[x].depth = static_cast<uint8_t>(accounts_[accounts_[x].parent].depth + 1);
	});
	refresh_allowlist(a);
	return {};
}

void Tracker::free_account(uint32_t a)
{
	account_keys_.erase(key_hash(a), a, [&](uint32_t x) { return key_hash(x); });
	unlink_child(a);
	AccountHot &s = accounts_[a];
	AccountCold &c = accounts_cold_[a];
	unit_accounts_ -= bool(s.flags & kAccUnit);
	c.key.clear();
	c.key.shrink_to_fit(); // hand a long key's memory back
	s = AccountHot{};
	++c.generation;
	c.next_sibling = free_account_;
	free_account_ = a;
	--live_accounts_;
}

Expected<size_t> Tracker::remove_account(AccountId id)
{
	const uint32_t a = account_index(id);
	if (a == kNone)
		return stale().error();
	if (a == 0) {
		++stats_.invalid_operations;
		return Error::SystemAccount;
	}
	std::vector<uint32_t> subtree;
	for_each_account(a, [&](uint32_t x) { subtree.push_back(x); });
	size_t removed = 0;
	// Children before parents, so that every account is a leaf when freed.
	for (auto it = subtree.rbegin(); it != subtree.rend(); ++it) {
		while (accounts_cold_[*it].first_participant != kNone) {
			free_participant(accounts_cold_[*it].first_participant);
			++removed;
		}
		free_account(*it);
	}
	return removed;
}

Expected<ParticipantId> Tracker::create_participant(AccountId account, uint64_t cookie)
{
	const uint32_t a = account_index(account);
	if (a == kNone)
		return stale().error();
	if (find_participant(cookie)) {
		++stats_.duplicates;
		return Error::DuplicateCookie;
	}
	uint32_t i = free_head_;
	if (i != kNone) {
		free_head_ = participants_cold_[i].next;
		if (free_head_ == kNone)
			free_tail_ = kNone;
	} else {
		if (participants_.size() >= kNone - 1) {
			++stats_.invalid_operations;
			return Error::CapacityExceeded;
		}
		i = static_cast<uint32_t>(participants_.size());
		participants_.emplace_back();
		participants_cold_.emplace_back();
	}
	ParticipantHot &p = participants_[i];
	const uint32_t gen = p.generation();
	p = ParticipantHot{};
	participants_cold_[i] = ParticipantCold{};
	p.cookie = cookie;
	p.gen_flags = gen << 8 | kLive;
	if (!socket_overrides_.empty() && socket_overrides_.count(cookie))
		p.set(kSocketOverride);
	link_participant(i, a);
	add_count(a, 1);
	cookies_.insert(cookie_hash(cookie), i,
			[&](uint32_t x) { return cookie_hash(participants_[x].cookie); });
	++live_participants_;
	return participant_handle(i);
}

Expected<ParticipantId> Tracker::find_participant(uint64_t cookie) const
{
	const uint32_t i = cookies_.find(
		cookie_hash(cookie), [&](uint32_t x) { return participants_[x].cookie == cookie; });
	if (i == kNone)
		return Error::UnknownCookie;
	return participant_handle(i);
}

void Tracker::free_participant(uint32_t i)
{
	clear_pending(i);
	apply_usage(i, 0);
	ParticipantHot &p = participants_[i];
	add_count(p.account, -1);
	unlink_participant(i);
	cookies_.erase(cookie_hash(p.cookie), i,
		       [&](uint32_t x) { return cookie_hash(participants_[x].cookie); });
	const uint32_t gen = p.generation() + 1;
	p = ParticipantHot{};
	participants_cold_[i] = ParticipantCold{};
	--live_participants_;
	if (gen >= kGenerationLimit) {
		// Never reuse: a handle from 2^24 lives ago must not come back.
		p.gen_flags = gen << 8 | kRetired;
		++stats_.retired_slots;
		return;
	}
	p.gen_flags = gen << 8;
	if (free_tail_ != kNone)
		participants_cold_[free_tail_].next = i;
	else
		free_head_ = i;
	free_tail_ = i;
}

Status Tracker::remove_participant(ParticipantId id)
{
	const uint32_t i = participant_index(id);
	if (i == kNone)
		return stale();
	free_participant(i);
	return {};
}

Status Tracker::move_participant(ParticipantId id, AccountId account)
{
	const uint32_t i = participant_index(id);
	const uint32_t a = account_index(account);
	if (i == kNone || a == kNone)
		return stale();
	ParticipantHot &p = participants_[i];
	if (p.account == a)
		return {};
	const int64_t usage = p.usage;
	const bool pending = p.has(kPendingReclaim);
	add_usage(p.account, -usage, pending);
	add_count(p.account, -1);
	unlink_participant(i);
	link_participant(i, a);
	add_count(a, 1);
	add_usage(a, usage, pending);
	note_socket(i);
	return {};
}

// ---- configuration ---------------------------------------------------------

std::vector<ConfigError> Tracker::set_limits(Limits limits)
{
	std::vector<ConfigError> errors = validate(limits);
	if (!errors.empty())
		return errors;
	const bool retimed = limits.pending_timeout != limits_.pending_timeout;
	limits_ = std::move(limits);
	if (retimed) {
		// Decisions already issued keep their deadlines, which the new
		// ones no longer follow in order: restore the order once.
		std::stable_sort(pending_reclaims_.begin() + pending_head_, pending_reclaims_.end(),
				 [](const PendingRef &a, const PendingRef &b) {
					 return a.deadline < b.deadline;
				 });
	}
	service_overrides_.clear();
	peer_overrides_.clear();
	socket_overrides_.clear();
	for (const Override &o : limits_.overrides) {
		const ScopeKind k = *parse_scope_kind(o.scope); // validated
		if (k == ScopeKind::Service)
			service_overrides_[o.key] = o.limit;
		else if (k == ScopeKind::Peer)
			peer_overrides_[o.key] = o.limit;
		else
			socket_overrides_[std::stoull(o.key)] = o.limit;
	}
	for (uint32_t a = 1; a < accounts_.size(); ++a) {
		AccountHot &s = accounts_[a];
		if (!(s.flags & kAccLive))
			continue;
		const Key &k = accounts_cold_[a].key;
		s.limit = account_limit(s.kind, std::string_view(k.data(), k.size()));
		if (over(a))
			note_account_over(a);
	}
	for (uint32_t i = 0; i < participants_.size(); ++i) {
		ParticipantHot &p = participants_[i];
		if (!p.has(kLive))
			continue;
		if (!socket_overrides_.empty() && socket_overrides_.count(p.cookie))
			p.set(kSocketOverride);
		else
			p.clear(kSocketOverride);
		note_socket(i);
	}
	return {};
}

} // namespace rcvgov::tracker
