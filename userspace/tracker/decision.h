// What the tracker asks the enforcer to do. Decisions are values: the
// tracker never acts, and a decision stays meaningful (by cookie) after the
// participant it names has gone.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "tracker/clock.h"
#include "tracker/enforcement.h"
#include "tracker/handles.h"
#include "tracker/scope.h"

namespace rcvgov::tracker {

enum class Action : uint8_t {
	Clamp,	 // stop the socket's window from growing (TCP_WINDOW_CLAMP)
	Reclaim, // free the socket's memory (destroy the socket)
};

std::string_view to_string(Action a);

// Every decision returned by Tracker::decide() is settled exactly once
// (Tracker::settle()) by the governor, in the same round.
struct Decision {
	Action action = Action::Clamp;
	Reason reason = Reason::OverLimit;
	// The scope whose limit was exceeded; `account` is its account (null
	// for ScopeKind::Socket, where the participant is the scope).
	ScopeKind scope = ScopeKind::System;
	AccountId account;
	uint64_t limit = 0;
	uint64_t scope_usage = 0; // the scope's usage when the decision was made

	ParticipantId participant;
	uint64_t cookie = 0;
	uint64_t usage = 0; // the participant's bytes when decided
	// How long its reader had made no progress (Usage::stalled_for) when
	// decided; nullopt: not stalled. Every Reclaim has age >= min_stall.
	std::optional<Duration> age;
	AccountId unit; // reclaimed as part of this account; null: alone
};

// One line for logs: "reclaim cookie=42 usage=65536 stalled=12.0s
// scope=system reason=over-limit limit=... scope_usage=...".
std::string describe(const Decision &d);

} // namespace rcvgov::tracker
