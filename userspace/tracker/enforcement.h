// The enforcement state of a socket, as the tracker keeps it: what was
// decided, and what became of it once the governor acted (settle()). The
// tracker is the one owner of this state; nothing else keeps a parallel map.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>

namespace rcvgov::tracker {

// Why a decision was made.
enum class Reason : uint8_t {
	OverLimit, // a scope (system, service, peer or the socket) is over its limit
	Inflated,  // the kernel raised sk_rcvbuf beyond the autotuned limit
};

// What became of a decision, reported by the governor with Tracker::settle().
enum class Outcome : uint8_t {
	Done,	 // the action is in place (clamp set and rcvbuf locked / socket destroyed)
	DryRun,	 // recorded as "would have": nothing changed in the kernel
	Failed,	 // the kernel refused; not retried before pending_timeout
	Skipped, // a safety rule or the at-destroy re-check held it back: decide afresh next round
	Gone,	 // the socket vanished before the action
};

// One per participant. Values fit in 3 bits (the tracker packs them).
enum class EnforceState : uint8_t {
	None,		// nothing decided, or back to nothing
	PendingClamp,	// a clamp decided, not yet settled
	PendingReclaim, // a reclaim decided, not yet settled; its bytes are pending
	Clamped,	// the clamp is in place: never clamped again while it lives
	Destroyed,	// destroyed; bytes pending until it leaves or pending_timeout
	Failed,		// the kernel refused; nothing decided before pending_timeout
	WouldClamp,	// dry run: treated as Clamped for decisions
	WouldReclaim,	// dry run: treated as Destroyed (pending until pending_timeout)
};
inline constexpr size_t kEnforceStates = 8;

// A set of states as a bit mask: state_bit(a) | state_bit(b).
constexpr uint32_t state_bit(EnforceState s)
{
	return 1u << uint32_t(s);
}

std::string_view to_string(Reason r);
std::string_view to_string(Outcome o);
std::string_view to_string(EnforceState s);

} // namespace rcvgov::tracker
