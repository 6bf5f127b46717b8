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
#include <array>
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
#include "tracker/enforcement.h"
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
	// How long data has been waiting in the receive queue with the reader
	// making NO progress (copied_seq not advancing). nullopt or 0: not
	// stalled (queue empty, or the reader read recently). Only a socket
	// stalled at least Limits::min_stall is ever reclaimed.
	std::optional<Duration> stalled_for;
	// The kernel raised sk_rcvbuf beyond the autotuned limit
	// (tcp_clamp_window inflation): the socket gets one clamp.
	bool inflated = false;
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
	std::optional<Duration> stalled_for; // at the time of the query; nullopt: not stalled
	bool inflated = false;		     // as last reported
	EnforceState state = EnforceState::None;
	// A clamp of ours is in place in the kernel: state Clamped, or a later
	// reclaim of the clamped socket pending, destroyed, failed or dry-run.
	bool clamp_held = false;
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
	uint64_t retired_slots = 0;   // generation exhausted, never reused
	uint64_t clamp_decisions = 0; // all reasons, inflation included
	uint64_t reclaim_decisions = 0;
	uint64_t inflation_clamp_decisions = 0;
	// Decisions that did not take effect in time: pending (never settled)
	// or destroyed but still reported, past pending_timeout.
	uint64_t pending_expired = 0;
	// settle() calls by outcome, and the refused ones (not pending:
	// settled twice, or the action does not match).
	uint64_t settled_done = 0;
	uint64_t settled_dry_run = 0;
	uint64_t settled_failed = 0;
	uint64_t settled_skipped = 0;
	uint64_t settled_gone = 0;
	uint64_t invalid_settlements = 0;
	// Bytes the last system reclamation could not get below low water
	// (too few stalled sockets: the rest were clamped, allowlisted or
	// already pending).
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

	// Deltas. A claim on a socket that is not stalled starts its stall at
	// `now` (data waits); a release is reader progress: the stall restarts
	// at `now`, or ends when the queue is empty. Release below zero floors
	// at zero and returns Error::ReleaseBelowZero; a claim past the maximum
	// saturates and returns Error::Overflow.
	Status claim(ParticipantId p, uint64_t bytes) { return claim(p, bytes, clock_->now()); }
	Status claim(ParticipantId p, uint64_t bytes, Time now);
	Status release(ParticipantId p, uint64_t bytes) { return release(p, bytes, clock_->now()); }
	Status release(ParticipantId p, uint64_t bytes, Time now);

	// Decisions, in this order: scopes over their limit in their reclaim
	// phase (deepest first, confined to the scope), the system quota
	// (reclaim the longest-stalled first with hysteresis, clamp progressing
	// readers when that is not enough), scopes in their clamp phase (the
	// first escalate_after), sockets over their own limit or inflated
	// (clamp). A participant gets at most one decision per call, none while
	// an earlier one is pending or held (see EnforceState), and never a
	// second clamp.
	std::vector<Decision> decide() { return decide(clock_->now()); }
	// At most `n` reclaim victims per decide() call (0: no cap; a unit
	// counts as one victim and goes whole). What a scope still needs is
	// decided in later calls: it stays reclaiming, and no progressing
	// reader is clamped in its place meanwhile. The governor sets this to
	// what its safety budget lets through in one round, so decide() does
	// not decide (and the governor then hold) hundreds of thousands of
	// reclaims it will not make.
	void set_reclaim_cap(size_t n) { reclaim_cap_ = n; }
	std::vector<Decision> decide(Time now);
	// Appends to `out` (which the caller may reuse across calls).
	void decide(Time now, std::vector<Decision> &out);
	// Ends every state whose pending_timeout has passed (decide() does this
	// first); returns how many decisions expired (pending_expired).
	size_t expire_pending(Time now);

	// Every decision returned by decide() must be settled exactly once (the
	// governor settles all of them in the same round):
	//   Clamp   Done -> Clamped, DryRun -> WouldClamp (never clamped again);
	//   Reclaim Done -> Destroyed, DryRun -> WouldReclaim (bytes stay
	//           pending until the participant is removed or pending_timeout);
	//   Failed -> Failed (pending bytes released, nothing decided before
	//           pending_timeout); Skipped, Gone -> back at once (None, or
	//           Clamped when a clamp of ours is held).
	// Error::StaleHandle for an unknown or removed participant;
	// Error::NotPending when the decision is not the one pending (settled
	// twice, another action). Either way nothing changes.
	Status settle(const Decision &d, Outcome o, Time now);
	Status settle(const Decision &d, Outcome o) { return settle(d, o, clock_->now()); }
	// Live participants in a state; O(1).
	size_t count_in_state(EnforceState s) const { return state_counts_[size_t(s)]; }
	// Their cookies, in slot order; O(slots).
	std::vector<uint64_t> cookies_in_state(EnforceState s) const;
	// Every socket with a clamp of ours in place (clamp_held), whatever its
	// state since: what to restore at shutdown. O(slots).
	std::vector<uint64_t> cookies_clamped() const;
	// Every participant's cookie, in slot order: to find those whose
	// socket left the kernel's table. O(slots).
	std::vector<uint64_t> cookies() const;

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

	// gen_flags: generation (23 bits) << 9 | EnforceState (3 bits) << 6 |
	// flags (6 bits). A retired slot is one not live whose generation is
	// kGenerationLimit; "not stalled" is since == kNotStalled.
	enum ParticipantFlag : uint32_t {
		kLive = 1,
		kSocketOverride = 2,
		kAllowlisted = 4, // copy of the account's effective allowlist
		kInOverList = 8,  // on sockets_over_ (over its limit, or inflated)
		kInflated = 16,	  // as last reported (Usage::inflated)
		kClampHeld = 32,  // our clamp is in place (settled Done)
	};
	static constexpr uint32_t kStateShift = 6, kGenShift = 9;
	static constexpr uint32_t kStateMask = 7u << kStateShift;
	static constexpr uint32_t kGenerationLimit = (1u << (32 - kGenShift)) - 1;
	static constexpr int64_t kNotStalled = INT64_MAX;
	static_assert(kEnforceStates <= 8, "EnforceState is packed in 3 bits");
	// Sets of states, as bit masks (state_bit(), enforcement.h).
	static constexpr uint32_t kPendingBytes = state_bit(EnforceState::PendingReclaim) |
						  state_bit(EnforceState::Destroyed) |
						  state_bit(EnforceState::WouldReclaim);
	static constexpr uint32_t kTimed = kPendingBytes | state_bit(EnforceState::PendingClamp) |
					   state_bit(EnforceState::Failed);
	static constexpr uint32_t kReclaimable = state_bit(EnforceState::None) |
						 state_bit(EnforceState::Clamped) |
						 state_bit(EnforceState::WouldClamp);
	static constexpr uint32_t kClampLike = state_bit(EnforceState::PendingClamp) |
					       state_bit(EnforceState::Clamped) |
					       state_bit(EnforceState::WouldClamp);
	struct alignas(32) ParticipantHot {
		uint32_t gen_flags = 0; // see above
		uint32_t usage = 0;
		uint32_t entitlement = 0;
		uint32_t account = kNone;
		int64_t since = kNotStalled; // ns, stalled since (reader made no progress)
		uint64_t cookie = 0;

		uint32_t generation() const { return gen_flags >> kGenShift; }
		EnforceState state() const
		{
			return EnforceState((gen_flags & kStateMask) >> kStateShift);
		}
		bool in(uint32_t states) const { return (states >> uint32_t(state())) & 1; }
		bool has(uint32_t f) const { return gen_flags & f; }
		void set(uint32_t f) { gen_flags |= f; }
		void clear(uint32_t f) { gen_flags &= ~f; }
		// Never clamped again: a clamp is in place or was dry-run.
		bool clamp_final() const
		{
			return has(kClampHeld) || in(state_bit(EnforceState::Clamped) |
						     state_bit(EnforceState::WouldClamp));
		}
	};
	static_assert(sizeof(ParticipantHot) == 32);
	struct ParticipantCold {
		int64_t pending_until = 0;	     // ns, while in a timed state (kTimed)
		uint32_t next = kNone, prev = kNone; // account's list; next: free list
	};
	static_assert(sizeof(ParticipantCold) == 16);

	struct Ref {
		uint32_t index;
		uint32_t generation;
	};
	// Every timed state's deadline, in deadline order: expiry looks at the
	// front only, whatever the number outstanding. An entry whose slot has
	// moved on (another state or deadline) is skipped.
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
	bool needs_socket_check(const ParticipantHot &p) const
	{
		return !p.has(kAllowlisted) && !p.clamp_final() &&
		       (p.has(kInflated) || p.usage > socket_limit(p));
	}
	std::optional<Duration> stalled_of(const ParticipantHot &p, Time now) const;

	// Enforcement state (tracker_settle.cpp).
	void set_state(uint32_t i, EnforceState s);
	void set_state_until(uint32_t i, EnforceState s, int64_t until);
	void back_to_rest(uint32_t i);
	void rearm(const Decision &d);
	int64_t deadline(Time now) const;
	void push_deadline(uint32_t i, int64_t until);
	bool retired(uint32_t i) const
	{
		return !participants_[i].has(kLive) &&
		       participants_[i].generation() == kGenerationLimit;
	}

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
	int64_t stall_cutoff(Time now) const;
	bool reclaim_candidate(const ParticipantHot &p, int64_t cutoff) const
	{
		return (p.gen_flags & (kLive | kAllowlisted)) == kLive && p.usage > 0 &&
		       p.in(kReclaimable) && p.since <= cutoff;
	}
	// True when it stopped at the cap on reclaims (set_reclaim_cap).
	bool reclaim_oldest(uint32_t scope, uint64_t &eff, uint64_t low, const Decision &why,
			    Time now, std::vector<Decision> &out);
	void clamp_largest(uint32_t scope, uint64_t eff, uint64_t low, const Decision &why,
			   Time now, std::vector<Decision> &out);
	uint32_t reclaim_unit(uint32_t i, uint32_t stop_at) const;
	void reclaim(uint32_t victim, uint32_t stop_at, const Decision &why, Time now,
		     std::vector<Decision> &out, uint64_t &reclaimed);
	Decision &emit(const Decision &why, uint32_t i, Action act, Time now,
		       std::vector<Decision> &out);

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
	Vec<PendingRef> deadlines_;
	size_t deadline_head_ = 0;			    // entries before it are done
	std::array<size_t, kEnforceStates> state_counts_{}; // live participants
	// decide()'s scratch space, kept between calls (and counted).
	Vec<Candidate> candidates_;
	Vec<Candidate> ordered_;
	size_t reclaim_cap_ = 0;
	size_t reclaims_left_ = 0; // in this decide() call
	// With a cap, candidates_ keeps only the oldest reclaims_left_ of the
	// scope's candidates (a heap while gathering); this counts them all.
	size_t candidates_seen_ = 0;
	void begin_candidates();
	void add_candidate(const Candidate &c);
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

inline std::optional<Duration> Tracker::stalled_of(const ParticipantHot &p, Time now) const
{
	if (p.since == kNotStalled)
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
