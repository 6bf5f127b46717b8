// Tracker structure: construction, accounts and participants (the tree,
// the lists, the indexes, the free lists) and set_limits(). Accounting is in
// tracker_accounting.cpp, enforcement state in tracker_settle.cpp.
#include "tracker/tracker.h"

#include <algorithm>
#include <atomic>
#include <functional>

namespace rcvgov::tracker {

namespace {

std::atomic<uint32_t> next_serial{1};

} // namespace

Tracker::Tracker(const Clock &clock)
    : clock_(&clock), serial_(next_serial++), accounts_(CountingAllocator<AccountHot>(&bytes_)),
      accounts_cold_(CountingAllocator<AccountCold>(&bytes_)), account_keys_(&bytes_),
      participants_(CountingAllocator<ParticipantHot>(&bytes_)),
      participants_cold_(CountingAllocator<ParticipantCold>(&bytes_)), cookies_(&bytes_),
      sockets_over_(CountingAllocator<Ref>(&bytes_)),
      accounts_over_(CountingAllocator<Ref>(&bytes_)),
      deadlines_(CountingAllocator<PendingRef>(&bytes_)),
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
	p.gen_flags = gen << kGenShift | kLive;
	++state_counts_[size_t(EnforceState::None)];
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
	set_state(i, EnforceState::None); // pending bytes released
	--state_counts_[size_t(EnforceState::None)];
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
	p.gen_flags = gen << kGenShift;
	if (gen >= kGenerationLimit) {
		// Never reuse (retired()): a handle from 2^23 lives ago must not
		// come back.
		++stats_.retired_slots;
		return;
	}
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
	const bool pending = p.in(kPendingBytes);
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
	// States already timed keep their deadlines (push_deadline() keeps
	// the list in order when a new pending_timeout breaks it).
	limits_ = std::move(limits);
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
