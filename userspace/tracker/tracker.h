// The tracker: which sockets hold how much receive memory, in which scopes,
// and what should be done about it. After tor-memquota (a tracker, accounts
// with children, participants, oldest-data-first reclamation with
// hysteresis) and the libp2p resource manager (limits per scope, a
// `resources` view). Pure C++: no syscalls, no BPF, no threads; the daemon
// feeds it kernel values and hands its decisions to the enforcer.
//
// Not thread-safe: one owner (rcvgovd's event loop) calls it.
#pragma once

#include <algorithm>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "tracker/clock.h"
#include "tracker/counting_allocator.h"
#include "tracker/decision.h"
#include "tracker/handles.h"
#include "tracker/index_table.h"
#include "tracker/limits.h"
#include "tracker/result.h"
#include "tracker/scope.h"
#include "tracker/select_oldest.h"

namespace rcvgov::tracker {

// The longest account chain, system included: system -> service (cgroups
// may nest) -> peer. Bounds the work of every update.
inline constexpr uint32_t kMaxDepth = 8;
// sk_rmem_alloc and sk_rcvbuf are ints in the kernel; a larger value is
// saturated here and counted as Error::Overflow.
inline constexpr uint64_t kMaxParticipantBytes = UINT32_MAX;

// What the kernel reports for a socket: absolute values, not deltas.
struct Usage {
	uint64_t rmem_alloc = 0;  // sk_rmem_alloc
	uint64_t entitlement = 0; // the autotuned sk_rcvbuf; 0 when unknown
	// Time since the receive queue was last empty; nullopt when not
	// reported. A socket holding memory without an age ranks as oldest.
	std::optional<Duration> oldest_age;
};

struct AccountOptions {
	// Never chosen for any decision, nor anything below it. Its memory
	// still counts towards every limit above it.
	bool allowlisted = false;
	// Reclaiming any participant at or below this account reclaims the
	// whole account with its children (tor-memquota's account semantics).
	// Without it the unit of reclamation is the socket.
	bool reclaim_as_unit = false;
};

enum class Pending : uint8_t { None, Clamp, Reclaim };

// One row of the `resources` view.
struct ScopeReport {
	AccountId id;
	AccountId parent; // null for the system account
	ScopeKind kind = ScopeKind::System;
	std::string key;
	uint32_t depth = 0;
	uint64_t limit = 0;
	uint64_t usage = 0;   // every participant at or below this account
	uint64_t pending = 0; // of which decided for reclamation, not yet gone
	double percent = 0;   // usage * 100 / limit
	uint64_t participants = 0;
	bool allowlisted = false; // itself or an ancestor
	bool reclaim_as_unit = false;
	bool reclaiming = false; // inside its hysteresis band, acting
};

struct ParticipantReport {
	ParticipantId id;
	uint64_t cookie = 0;
	AccountId account;
	uint64_t usage = 0;
	uint64_t entitlement = 0;
	uint64_t limit = 0; // the per-socket limit in force
	double percent = 0;
	std::optional<Duration> age; // at the time of the query
	Pending pending = Pending::None;
	bool allowlisted = false;
};

// Counters; every anomaly is counted, none is fatal.
struct Stats {
	uint64_t stale_handles = 0;
	uint64_t unknown_cookies = 0;
	uint64_t duplicates = 0;	 // cookies or account keys
	uint64_t invalid_operations = 0; // bad kind, depth, cycle, system account
	uint64_t releases_below_zero = 0;
	uint64_t overflows = 0;
	uint64_t retired_slots = 0; // generation exhausted, never reused
	uint64_t clamp_decisions = 0;
	uint64_t reclaim_decisions = 0;
	uint64_t pending_expired = 0; // decisions that did not take effect in time
	// Bytes the last system reclamation could not get below low water
	// (everything left was allowlisted or already pending).
	uint64_t system_shortfall = 0;
};

class Tracker {
public:
	// Starts with the built-in Limits{} (the floor of the computed
	// defaults); call set_limits() with the configured ones. Neither
	// copyable nor movable (its containers count into a member): hold it
	// in place or by unique_ptr.
	explicit Tracker(const Clock &clock);
	Tracker(const Tracker &) = delete;
	Tracker &operator=(const Tracker &) = delete;
	~Tracker();

	// Validates and, only when valid, applies: every account and socket
	// limit is resolved again. Hysteresis and pending state are kept.
	std::vector<ConfigError> set_limits(Limits limits);
	const Limits &limits() const { return limits_; }

	// Accounts. The system account exists from the start and cannot be
	// removed or moved. A child's kind is Service or Peer, and never an
	// outer kind than its parent's (a service may hold services, as cgroups
	// nest; a peer never holds a service). Keys are opaque to the tracker
	// and unique among siblings.
	AccountId system() const;
	Expected<AccountId> create_account(AccountId parent, ScopeKind kind, std::string_view key,
					   AccountOptions options = {});
	Expected<AccountId> find_account(AccountId parent, std::string_view key) const;
	Status set_allowlisted(AccountId a, bool allowlisted);
	Status set_reclaim_as_unit(AccountId a, bool unit);
	Status move_account(AccountId a, AccountId new_parent);
	// Removes the account, its descendants and all their participants;
	// returns how many participants went with it.
	Expected<size_t> remove_account(AccountId a);

	// Participants: one per socket, keyed by socket cookie.
	Expected<ParticipantId> create_participant(AccountId account, uint64_t cookie);
	Expected<ParticipantId> find_participant(uint64_t cookie) const;
	Status remove_participant(ParticipantId p);
	Status move_participant(ParticipantId p, AccountId account);

	// Absolute update from the kernel. Returns Error::Overflow (applied,
	// saturated) for values beyond kMaxParticipantBytes.
	Status set_usage(ParticipantId p, const Usage &u) { return set_usage(p, u, clock_->now()); }
	Status set_usage(ParticipantId p, const Usage &u, Time now);
	// A batch of absolute updates, as the daemon drains them from the ring
	// buffer: the same as set_usage() on each, with the slots of a group
	// fetched before any is applied so that cache misses overlap. Stale
	// handles and unknown cookies are skipped and counted in stats();
	// returns how many were applied.
	struct HandleUpdate {
		ParticipantId id;
		Usage usage;
	};
	struct CookieUpdate {
		uint64_t cookie;
		Usage usage;
	};
	size_t set_usage(std::span<const HandleUpdate> batch, Time now);
	size_t set_usage(std::span<const CookieUpdate> batch, Time now);

	// Deltas. A claim on an empty socket starts its data age at `now`; a
	// release to zero clears it. Release below zero floors at zero and
	// returns Error::ReleaseBelowZero; a claim past the maximum saturates
	// and returns Error::Overflow.
	Status claim(ParticipantId p, uint64_t bytes) { return claim(p, bytes, clock_->now()); }
	Status claim(ParticipantId p, uint64_t bytes, Time now);
	Status release(ParticipantId p, uint64_t bytes);

	// Decisions, in this order: scopes over their limit in their reclaim
	// phase (deepest first, confined to the scope), the system quota
	// (reclaim oldest-first with hysteresis), scopes in their clamp phase
	// (the first escalate_after), sockets over their own limit (clamp).
	// A participant gets at most one decision per call and none while an
	// earlier one is pending.
	std::vector<Decision> decide() { return decide(clock_->now()); }
	std::vector<Decision> decide(Time now);
	// Appends to `out` (which the caller may reuse across calls).
	void decide(Time now, std::vector<Decision> &out);
	// Forgets pending decisions older than pending_timeout (decide() does
	// this first); returns how many reclaims expired.
	size_t expire_pending(Time now);

	// Queries.
	Expected<ScopeReport> scope(AccountId a) const;
	Expected<ParticipantReport> participant(ParticipantId p) const
	{
		return participant(p, clock_->now());
	}
	Expected<ParticipantReport> participant(ParticipantId p, Time now) const;
	// Every account, depth-first from the system account, children in
	// creation order.
	std::vector<ScopeReport> resources() const;
	uint64_t total() const;
	bool system_reclaiming() const { return system_reclaiming_; }
	size_t participant_count() const { return live_participants_; }
	size_t account_count() const { return live_accounts_; }
	const Stats &stats() const { return stats_; }
	// Heap bytes held by the tracker's containers (counted, not estimated),
	// plus the Tracker object itself.
	size_t memory_bytes() const;

private:
	friend class ConsistencyChecker;
	friend struct TrackerTestAccess;

	static constexpr uint32_t kNone = UINT32_MAX;
	static constexpr uint32_t kGenerationLimit = (1u << 24) - 1;

	template <class T> using Vec = std::vector<T, CountingAllocator<T>>;
	using Key = std::basic_string<char, std::char_traits<char>, CountingAllocator<char>>;

	// Slots are split in what every update touches (hot, 32 bytes, one
	// half cache line) and what only structural changes and decisions
	// touch (cold): an update costs one cache miss, not two.
	enum AccountFlag : uint8_t {
		kAccLive = 1,
		kAccAllowlisted = 2,	// set on this account
		kAccAllowlistedEff = 4, // set on this account or an ancestor
		kAccUnit = 8,
		kAccReclaiming = 16, // scope hysteresis: reclaiming to low water
		kAccInOverList = 32,
		kAccOver = 64, // over its limit since over_since
	};
	struct alignas(32) AccountHot {
		uint64_t usage = 0;   // every participant at or below
		uint64_t pending = 0; // of which pending reclaim
		uint64_t limit = 0;   // UINT64_MAX for the system (its quota is separate)
		uint32_t parent = kNone;
		uint8_t flags = 0;
		uint8_t depth = 0;
		ScopeKind kind = ScopeKind::System;
	};
	static_assert(sizeof(AccountHot) == 32);
	struct AccountCold {
		Key key;
		Time over_since{};
		uint32_t participants = 0; // subtree
		uint32_t first_child = kNone, last_child = kNone;
		uint32_t next_sibling = kNone, prev_sibling = kNone; // also the free list
		uint32_t first_participant = kNone;
		uint32_t generation = 0;

		explicit AccountCold(const CountingAllocator<char> &a) : key(a) {}
	};

	enum ParticipantFlag : uint32_t {
		kLive = 1,
		kHasAge = 2,
		kPendingClamp = 4,
		kPendingReclaim = 8,
		kSocketOverride = 16,
		kAllowlisted = 32, // copy of the account's effective allowlist
		kInOverList = 64,
		kRetired = 128,
	};
	struct alignas(32) ParticipantHot {
		uint32_t gen_flags = 0; // generation << 8 | flags
		uint32_t usage = 0;
		uint32_t entitlement = 0;
		uint32_t account = kNone;
		int64_t since = 0; // ns, oldest unread data since (kHasAge)
		uint64_t cookie = 0;

		uint32_t generation() const { return gen_flags >> 8; }
		bool has(uint32_t f) const { return gen_flags & f; }
		void set(uint32_t f) { gen_flags |= f; }
		void clear(uint32_t f) { gen_flags &= ~f; }
	};
	static_assert(sizeof(ParticipantHot) == 32);
	struct ParticipantCold {
		int64_t pending_until = 0;	     // ns, while a decision is pending
		uint32_t next = kNone, prev = kNone; // account's list; next: free list
	};
	static_assert(sizeof(ParticipantCold) == 16);

	struct Ref {
		uint32_t index;
		uint32_t generation;
	};
	// Reclaims in the order they were issued, so in deadline order: expiry
	// looks at the front only, whatever the number outstanding.
	struct PendingRef {
		uint32_t index;
		uint32_t generation;
		int64_t deadline;
	};

	using Candidate = detail::Candidate;

	// Handles.
	uint32_t account_index(AccountId a) const; // kNone when stale
	uint32_t participant_index(ParticipantId p) const;
	AccountId account_handle(uint32_t i) const;
	ParticipantId participant_handle(uint32_t i) const;
	Status stale();

	// Accounting.
	void add_usage(uint32_t account, int64_t delta, bool pending);
	void add_pending(uint32_t account, int64_t delta);
	void add_count(uint32_t account, int64_t delta);
	void apply_usage(uint32_t i, uint64_t usage);
	Status update(uint32_t i, const Usage &u, int64_t now_ns);
	uint64_t socket_limit(const ParticipantHot &p) const;
	void note_socket(uint32_t i);
	void note_account_over(uint32_t a);
	bool over(uint32_t a) const
	{
		return accounts_[a].usage - accounts_[a].pending > accounts_[a].limit;
	}
	void set_clamp_pending(uint32_t i, Time now);
	void set_reclaim_pending(uint32_t i, int64_t until);
	int64_t deadline(Time now) const;
	void clear_pending(uint32_t i);
	std::optional<Duration> age_of(const ParticipantHot &p, Time now) const;

	// Structure.
	void link_participant(uint32_t i, uint32_t account);
	void unlink_participant(uint32_t i);
	void link_child(uint32_t a, uint32_t parent);
	void unlink_child(uint32_t a);
	void free_participant(uint32_t i);
	void free_account(uint32_t a);
	void refresh_allowlist(uint32_t a);
	uint32_t subtree_height(uint32_t a) const;
	uint64_t account_limit(ScopeKind kind, std::string_view key) const;
	uint64_t account_hash(uint32_t parent, std::string_view key) const;
	uint64_t key_hash(uint32_t a) const;
	uint64_t cookie_hash(uint64_t cookie) const { return mix64(cookie); }
	template <class F> void for_each_participant(uint32_t a, F f) const;
	template <class F> void for_each_account(uint32_t a, F f) const;

	// Decisions.
	void decide_scope(uint32_t a, Time now, std::vector<Decision> &out);
	void decide_system(Time now, std::vector<Decision> &out);
	void decide_sockets(Time now, std::vector<Decision> &out);
	void reclaim_oldest(uint32_t scope, uint64_t &eff, uint64_t low, const Decision &why,
			    Time now, std::vector<Decision> &out);
	uint32_t reclaim_unit(uint32_t i, uint32_t stop_at) const;
	void reclaim(uint32_t victim, uint32_t stop_at, const Decision &why, Time now,
		     std::vector<Decision> &out, uint64_t &reclaimed);
	Decision make_decision(uint32_t i, Action act, ScopeKind scope, uint32_t account,
			       uint64_t limit, uint64_t scope_usage, Time now) const;

	const Clock *clock_;
	size_t bytes_ = 0; // what the CountingAllocator counts
	uint32_t serial_;  // this tracker's mark in its handles
	Limits limits_;
	std::unordered_map<std::string, uint64_t> service_overrides_, peer_overrides_;
	std::unordered_map<uint64_t, uint64_t> socket_overrides_;

	Vec<AccountHot> accounts_;
	Vec<AccountCold> accounts_cold_;
	uint32_t free_account_ = kNone;
	size_t live_accounts_ = 0;
	size_t unit_accounts_ = 0; // none: reclamation skips the unit lookup
	IndexTable account_keys_;

	Vec<ParticipantHot> participants_;
	Vec<ParticipantCold> participants_cold_;
	uint32_t free_head_ = kNone, free_tail_ = kNone; // FIFO: spreads reuse
	size_t live_participants_ = 0;
	IndexTable cookies_;

	// Work lists; entries may be stale (checked on use).
	Vec<Ref> sockets_over_;
	Vec<Ref> accounts_over_;
	Vec<PendingRef> pending_reclaims_;
	size_t pending_head_ = 0; // entries before it are done
	// decide()'s scratch space, kept between calls (and counted).
	Vec<Candidate> candidates_;
	Vec<Candidate> ordered_;
	Vec<uint64_t> histogram_;

	bool system_reclaiming_ = false;
	Stats stats_;
};

// Handles are checked on every call: keep that inlined.
inline uint32_t Tracker::account_index(AccountId a) const
{
	if (a.tracker != serial_ || a.index >= accounts_.size())
		return kNone;
	if (!(accounts_[a.index].flags & kAccLive) ||
	    accounts_cold_[a.index].generation != a.generation)
		return kNone;
	return a.index;
}

inline uint32_t Tracker::participant_index(ParticipantId p) const
{
	if (p.tracker != serial_ || p.index >= participants_.size())
		return kNone;
	const ParticipantHot &s = participants_[p.index];
	if (!s.has(kLive) || s.generation() != p.generation)
		return kNone;
	return p.index;
}

inline AccountId Tracker::account_handle(uint32_t i) const
{
	return AccountId{i, accounts_cold_[i].generation, serial_};
}

inline ParticipantId Tracker::participant_handle(uint32_t i) const
{
	return ParticipantId{i, participants_[i].generation(), serial_};
}

inline std::optional<Duration> Tracker::age_of(const ParticipantHot &p, Time now) const
{
	if (!p.has(kHasAge))
		return std::nullopt;
	int64_t age;
	if (__builtin_sub_overflow(now.time_since_epoch().count(), p.since, &age))
		age = INT64_MAX;
	return Duration(std::max<int64_t>(age, 0));
}

// Walks of a subtree; the callback may unlink what it is given.
template <class F> void Tracker::for_each_account(uint32_t a, F f) const
{
	f(a);
	for (uint32_t c = accounts_cold_[a].first_child; c != kNone;) {
		const uint32_t next = accounts_cold_[c].next_sibling; // f may unlink c
		for_each_account(c, f);
		c = next;
	}
}

template <class F> void Tracker::for_each_participant(uint32_t a, F f) const
{
	for_each_account(a, [&](uint32_t acc) {
		for (uint32_t i = accounts_cold_[acc].first_participant; i != kNone;) {
			const uint32_t next = participants_cold_[i].next;
			f(i);
			i = next;
		}
	});
}

} // namespace rcvgov::tracker
