// Limits for every scope, configured at three levels (as Kubo does for the
// libp2p resource manager):
//   1. computed defaults from the machine (compute_default_limits),
//   2. a few knobs on top (apply_knobs),
//   3. a full override table by scope and key (Limits::overrides).
// The library reads nothing itself: RAM and net.ipv4.tcp_mem are passed in.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "tracker/clock.h"
#include "tracker/scope.h"

namespace rcvgov::tracker {

inline constexpr uint64_t KiB = 1024;
inline constexpr uint64_t MiB = 1024 * KiB;
inline constexpr uint64_t GiB = 1024 * MiB;

// net.ipv4.tcp_mem, in pages: {min, pressure, max}.
struct TcpMem {
	uint64_t min = 0;
	uint64_t pressure = 0;
	uint64_t max = 0;
};

// One entry of the override table. `scope` is text ("service", "peer",
// "socket") so that a typo in a config file is a validation error rather
// than a silently ignored line. Socket keys are decimal socket cookies.
struct Override {
	std::string scope;
	std::string key;
	uint64_t limit = 0;
};

struct Limits {
	// System quota with hysteresis: above `max`, reclaim the longest-stalled
	// sockets first until the total would be <= `low_water`.
	uint64_t max = 256 * MiB;
	uint64_t low_water = 192 * MiB;
	// Default limit of every service and every peer account.
	uint64_t per_service = 256 * MiB;
	uint64_t per_peer = 32 * MiB;
	// A socket's limit: this percentage of its entitlement (the autotuned
	// rcvbuf), and never more than per_socket (which alone applies while
	// the entitlement is unknown, i.e. reported as 0).
	uint32_t per_socket_entitlement_percent = 200;
	uint64_t per_socket = 16 * MiB;
	// Service and peer scopes stop acting at this percentage of their limit.
	uint32_t scope_low_water_percent = 75;
	// A decision not yet effective (the socket still reports memory) is not
	// issued again, nor counted twice, until this long has passed.
	Duration pending_timeout = std::chrono::seconds(5);
	// A service or peer still over its limit this long after its sockets
	// were first clamped has its sockets reclaimed, oldest data first.
	Duration escalate_after = std::chrono::seconds(10);
	// Reclamation takes only sockets whose reader has made no progress for
	// at least this long (Usage::stalled_for); a reader that progresses is
	// clamped, never destroyed.
	Duration min_stall = std::chrono::seconds(2);

	std::vector<Override> overrides;
};

struct Knobs {
	std::optional<uint64_t> max_memory;
	std::optional<uint64_t> low_water;
	std::optional<uint64_t> per_service;
	std::optional<uint64_t> per_peer;
	std::optional<uint64_t> per_socket;
};

struct ConfigError {
	std::string field; // "low_water", "overrides[2].scope", ...
	std::string message;
	std::string text() const { return field + ": " + message; }
};

// Level 1. max = min(R, T) where
//   R = 40% of RAM (75% when RAM < 8 GiB), clamped to 256 MiB..8 GiB
//       (tor-memquota's default for a process-wide memory quota), and
//   T = tcp_mem.pressure * page_size, the point where the kernel itself
//       starts squeezing every TCP socket (ignored when zero);
// low_water = 75% of max; per_service = max; per_peer = max / 8;
// per_socket = max / 16 and 200% of the entitlement. See docs/tracker.md.
Limits compute_default_limits(uint64_t ram_bytes, TcpMem tcp_mem_pages, uint64_t page_size);

// Level 2. A knob replaces its value; values derived from max (low water,
// per service, per peer, per socket) follow a new max unless set too.
Limits apply_knobs(const Limits &defaults, const Knobs &knobs);

// Every problem, in field order; empty means valid.
std::vector<ConfigError> validate(const Limits &limits);

} // namespace rcvgov::tracker
