#include "tracker/consistency.h"

#include <array>
#include <unordered_set>

namespace rcvgov::tracker {

namespace {

uint64_t ref_key(uint32_t index, uint32_t generation)
{
	return uint64_t(index) << 32 | generation;
}

} // namespace

std::vector<std::string> ConsistencyChecker::check(const Tracker &t)
{
	using T = Tracker;
	std::vector<std::string> errs;
	auto err = [&](std::string s) {
		if (errs.size() < 100) // one broken invariant can cascade
			errs.push_back(std::move(s));
	};
	const auto &acc = t.accounts_;
	const auto &accc = t.accounts_cold_;
	const auto &par = t.participants_;
	const auto &parc = t.participants_cold_;
	const uint32_t na = static_cast<uint32_t>(acc.size());
	const uint32_t np = static_cast<uint32_t>(par.size());
	auto name = [&](uint32_t a) {
		return "account " + std::to_string(a) + " (" + std::string(to_string(acc[a].kind)) +
		       " '" + std::string(accc[a].key.data(), accc[a].key.size()) + "')";
	};
	auto live_acc = [&](uint32_t a) { return a < na && (acc[a].flags & T::kAccLive); };

	// ---- the account tree, walked from the root through the child lists.
	if (na == 0 || !live_acc(0) || acc[0].kind != ScopeKind::System ||
	    acc[0].parent != T::kNone || acc[0].depth != 0) {
		err("the system account is missing or malformed");
		return errs;
	}
	std::vector<uint8_t> reached(na, 0);
	std::vector<uint32_t> order; // pre-order: parents before children
	std::vector<uint32_t> stack{0};
	reached[0] = 1;
	while (!stack.empty()) {
		const uint32_t a = stack.back();
		stack.pop_back();
		order.push_back(a);
		uint32_t prev = T::kNone, steps = 0;
		for (uint32_t c = accc[a].first_child; c != T::kNone; c = accc[c].next_sibling) {
			if (++steps > na || !live_acc(c)) {
				err(name(a) + ": child list broken at " + std::to_string(c));
				break;
			}
			if (reached[c]) {
				err(name(c) +
				    ": reached twice in the tree (cycle or shared child)");
				break;
			}
			reached[c] = 1;
			if (acc[c].parent != a)
				err(name(c) + ": in the children of " + name(a) +
				    " but its parent is " + std::to_string(acc[c].parent));
			if (accc[c].prev_sibling != prev)
				err(name(c) + ": prev_sibling link broken");
			if (acc[c].depth != acc[a].depth + 1)
				err(name(c) + ": depth " + std::to_string(acc[c].depth) +
				    ", expected " + std::to_string(acc[a].depth + 1));
			if (acc[c].depth >= kMaxDepth)
				err(name(c) + ": deeper than kMaxDepth");
			if ((acc[c].kind != ScopeKind::Service && acc[c].kind != ScopeKind::Peer) ||
			    acc[c].kind < acc[a].kind)
				err(name(c) + ": kind not allowed under " + name(a));
			const bool eff = (acc[c].flags & T::kAccAllowlisted) ||
					 (acc[a].flags & T::kAccAllowlistedEff);
			if (eff != bool(acc[c].flags & T::kAccAllowlistedEff))
				err(name(c) + ": effective allowlist mark is wrong");
			prev = c;
			stack.push_back(c);
		}
		if (accc[a].last_child != prev)
			err(name(a) + ": last_child is " + std::to_string(accc[a].last_child) +
			    ", the list ends at " + std::to_string(prev));
	}
	size_t live_accounts = 0;
	for (uint32_t a = 0; a < na; ++a) {
		if (!live_acc(a)) {
			if (acc[a].flags != 0)
				err("free account slot " + std::to_string(a) + " has flags set");
			continue;
		}
		++live_accounts;
		if (!reached[a])
			err(name(a) + ": live but not reachable from the system account");
	}
	if (live_accounts != t.live_accounts_)
		err("live account count " + std::to_string(t.live_accounts_) + ", counted " +
		    std::to_string(live_accounts));
	{
		size_t free_count = 0;
		std::vector<uint8_t> seen(na, 0);
		for (uint32_t a = t.free_account_; a != T::kNone; a = accc[a].next_sibling) {
			if (a >= na || live_acc(a) || seen[a]) {
				err("account free list broken at " + std::to_string(a));
				break;
			}
			seen[a] = 1;
			++free_count;
		}
		if (free_count + live_accounts != na)
			err("account free list holds " + std::to_string(free_count) + " of " +
			    std::to_string(na - live_accounts) + " free slots");
	}
	if (t.account_keys_.size() != live_accounts - 1)
		err("account key index holds " + std::to_string(t.account_keys_.size()) +
		    " entries for " + std::to_string(live_accounts - 1) + " accounts");
	t.account_keys_.for_each([&](uint32_t a, uint32_t tag) {
		if (!live_acc(a) || a == 0) {
			err("account key index points at dead slot " + std::to_string(a));
			return;
		}
		const uint64_t h = t.key_hash(a);
		if (IndexTable::tag_of(h) != tag)
			err(name(a) + ": key index entry has the wrong hash");
	});
	for (uint32_t a = 1; a < na; ++a) {
		if (!live_acc(a))
			continue;
		auto found =
			t.find_account(t.account_handle(acc[a].parent),
				       std::string_view(accc[a].key.data(), accc[a].key.size()));
		if (!found || found->index != a)
			err(name(a) + ": not found by its key under its parent");
	}

	// ---- participants: lists, indexes, marks; totals from scratch.
	std::vector<uint64_t> usage(na, 0), pending(na, 0), count(na, 0);
	std::vector<uint8_t> listed(np, 0);
	size_t live_participants = 0;
	for (uint32_t a : order) {
		uint32_t prev = T::kNone, steps = 0;
		for (uint32_t i = accc[a].first_participant; i != T::kNone; i = parc[i].next) {
			if (i >= np || ++steps > np || !par[i].has(T::kLive) || listed[i]) {
				err(name(a) + ": participant list broken at " + std::to_string(i));
				break;
			}
			listed[i] = 1;
			const auto &p = par[i];
			if (p.account != a)
				err("participant " + std::to_string(i) + ": listed under " +
				    name(a) + " but names account " + std::to_string(p.account));
			if (parc[i].prev != prev)
				err("participant " + std::to_string(i) + ": prev link broken");
			if (p.has(T::kAllowlisted) != bool(acc[a].flags & T::kAccAllowlistedEff))
				err("participant " + std::to_string(i) +
				    ": allowlist mark is wrong");
			prev = i;
			for (uint32_t x = a; x != T::kNone; x = acc[x].parent) {
				usage[x] += p.usage;
				if (p.in(T::kPendingBytes))
					pending[x] += p.usage;
				++count[x];
			}
		}
	}
	std::unordered_set<uint64_t> over_refs, pending_refs;
	for (const auto &r : t.sockets_over_)
		over_refs.insert(ref_key(r.index, r.generation));
	if (t.deadline_head_ > t.deadlines_.size())
		err("deadline list head beyond its end");
	for (size_t k = t.deadline_head_; k < t.deadlines_.size(); ++k) {
		const auto &r = t.deadlines_[k];
		if (r.index < np && par[r.index].has(T::kLive) &&
		    par[r.index].generation() == r.generation &&
		    parc[r.index].pending_until == r.deadline)
			pending_refs.insert(ref_key(r.index, r.generation));
		if (k > t.deadline_head_ && r.deadline < t.deadlines_[k - 1].deadline)
			err("deadline list out of order at " + std::to_string(k));
	}
	std::array<size_t, kEnforceStates> states{};
	for (uint32_t i = 0; i < np; ++i) {
		const auto &p = par[i];
		auto who = [&] {
			return "participant " + std::to_string(i) + " (cookie " +
			       std::to_string(p.cookie) + ")";
		};
		if (!p.has(T::kLive)) {
			if ((p.gen_flags & ((1u << T::kGenShift) - 1)) != 0)
				err("free participant slot " + std::to_string(i) +
				    " has flags or a state set");
			continue;
		}
		const EnforceState st = p.state();
		++states[size_t(st)];
		++live_participants;
		if (!listed[i])
			err(who() + ": live but in no account's list");
		if (!live_acc(p.account))
			err(who() + ": its account is not live");
		auto found = t.find_participant(p.cookie);
		if (!found || found->index != i)
			err(who() + ": not found by its cookie");
		if (p.has(T::kSocketOverride) != bool(t.socket_overrides_.count(p.cookie)))
			err(who() + ": socket override mark is wrong");
		const uint64_t key = ref_key(i, p.generation());
		if (t.needs_socket_check(p) && !p.has(T::kInOverList))
			err(who() + (p.usage > t.socket_limit(p)
					     ? ": over its socket limit but not on the work list"
					     : ": inflated but not on the work list"));
		if (p.has(T::kInOverList) && !over_refs.count(key))
			err(who() + ": marked on the socket work list but absent from it");
		if (p.in(T::kTimed) && !pending_refs.count(key))
			err(who() + ": " + std::string(to_string(st)) +
			    " but its deadline is not on the deadline list");
		if (!p.in(T::kTimed) && parc[i].pending_until != 0)
			err(who() + ": " + std::string(to_string(st)) + " with a deadline");
		// A clamp of ours is held from settle(Clamp, Done) until the
		// socket goes: Clamped, or a later reclaim's states.
		constexpr uint32_t with_clamp =
			state_bit(EnforceState::Clamped) | state_bit(EnforceState::PendingReclaim) |
			state_bit(EnforceState::Destroyed) | state_bit(EnforceState::Failed) |
			state_bit(EnforceState::WouldReclaim);
		if (p.has(T::kClampHeld) && !p.in(with_clamp))
			err(who() + ": holds a clamp in state " + std::string(to_string(st)));
		if (!p.has(T::kClampHeld) && st == EnforceState::Clamped)
			err(who() + ": clamped without a clamp held");
	}
	for (size_t s = 0; s < kEnforceStates; ++s)
		if (states[s] != t.state_counts_[s])
			err("state " + std::string(to_string(EnforceState(s))) + ": counts " +
			    std::to_string(t.state_counts_[s]) + " participants, has " +
			    std::to_string(states[s]));
	if (live_participants != t.live_participants_)
		err("live participant count " + std::to_string(t.live_participants_) +
		    ", counted " + std::to_string(live_participants));
	if (t.cookies_.size() != live_participants)
		err("cookie index holds " + std::to_string(t.cookies_.size()) + " entries for " +
		    std::to_string(live_participants) + " participants");
	t.cookies_.for_each([&](uint32_t i, uint32_t tag) {
		if (i >= np || !par[i].has(T::kLive))
			err("cookie index points at dead slot " + std::to_string(i));
		else if (IndexTable::tag_of(t.cookie_hash(par[i].cookie)) != tag)
			err("participant " + std::to_string(i) +
			    ": cookie index has the wrong hash");
	});
	{
		size_t free_count = 0, retired = 0;
		std::vector<uint8_t> seen(np, 0);
		uint32_t last = T::kNone;
		for (uint32_t i = t.free_head_; i != T::kNone; i = parc[i].next) {
			if (i >= np || par[i].has(T::kLive) || t.retired(i) || seen[i]) {
				err("participant free list broken at " + std::to_string(i));
				break;
			}
			seen[i] = 1;
			last = i;
			++free_count;
		}
		if (last != t.free_tail_)
			err("participant free list tail is wrong");
		for (uint32_t i = 0; i < np; ++i)
			retired += t.retired(i);
		if (free_count + retired + live_participants != np)
			err("participant free list holds " + std::to_string(free_count) + " of " +
			    std::to_string(np - live_participants - retired) + " free slots");
	}

	// ---- totals and work lists per account.
	std::unordered_set<uint64_t> acc_refs;
	for (const auto &r : t.accounts_over_)
		acc_refs.insert(ref_key(r.index, r.generation));
	for (uint32_t a : order) {
		const auto &s = acc[a];
		if (accc[a].participants != count[a])
			err(name(a) + ": counts " + std::to_string(accc[a].participants) +
			    " participants, has " + std::to_string(count[a]));
		if (s.usage != usage[a])
			err(name(a) + ": usage " + std::to_string(s.usage) +
			    " but its participants hold " + std::to_string(usage[a]));
		if (s.pending != pending[a])
			err(name(a) + ": pending " + std::to_string(s.pending) +
			    " but its pending participants hold " + std::to_string(pending[a]));
		if (a == 0)
			continue;
		const bool over = s.usage - s.pending > s.limit || (s.flags & T::kAccReclaiming);
		if (over && !(s.flags & T::kAccAllowlistedEff) && !(s.flags & T::kAccInOverList))
			err(name(a) + ": over its limit but not on the scope work list");
		if ((s.flags & T::kAccInOverList) &&
		    !acc_refs.count(ref_key(a, accc[a].generation)))
			err(name(a) + ": marked on the scope work list but absent from it");
	}
	if (acc[0].limit != UINT64_MAX)
		err("the system account has a scope limit (its quota is max, with hysteresis)");
	if (t.unit_accounts_ != [&] {
		    size_t n = 0;
		    for (uint32_t a : order)
			    n += bool(acc[a].flags & T::kAccUnit);
		    return n;
	    }())
		err("count of reclaim-as-unit accounts is wrong");
	return errs;
}

} // namespace rcvgov::tracker
