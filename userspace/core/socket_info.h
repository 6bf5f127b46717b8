// One TCP socket as the daemon knows it, whichever source filled it in
// (BPF snapshot and events, or sock_diag when BPF is unavailable).
#pragma once

#include <array>
#include <cstdint>
#include <string>

namespace rcvgov {

struct Endpoint {
	uint16_t family = 0; // AF_INET or AF_INET6
	std::array<uint8_t, 16> addr{};
	uint16_t port = 0;

	bool operator==(const Endpoint &) const = default;
};

struct Owner {
	uint64_t cgroup_id = 0;
	uint64_t netns_cookie = 0;
	uint32_t pid = 0; // 0: not known
	std::string comm;

	bool operator==(const Owner &) const = default;
};

struct SocketInfo {
	uint64_t cookie = 0;
	Endpoint local;
	Endpoint peer;
	uint8_t state = 0;
	uint32_t rmem_alloc = 0;
	uint32_t rcvbuf = 0;
	uint32_t autotuned_rcvbuf = 0;
	uint32_t inflations = 0;
	uint64_t inflation_bytes = 0;
	uint32_t overshoots = 0;
	uint32_t max_overshoot = 0;
	uint32_t unread = 0;
	uint32_t rcv_wnd = 0;
	uint32_t window_clamp = 0;
	uint8_t rcv_wscale = 0;
	// CLOCK_MONOTONIC ns when the receive queue was last seen empty.
	uint64_t last_empty_ns = 0;
	// The socket already held data when first seen: its age is a lower bound.
	bool age_lower_bound = false;
	Owner owner;
	// CLOCK_MONOTONIC ns of the last update from any source.
	uint64_t updated_ns = 0;

	// Age of the oldest unread byte, 0 when the queue is empty.
	uint64_t data_age_ms(uint64_t now_ns) const
	{
		if (unread == 0 || now_ns < last_empty_ns)
			return 0;
		return (now_ns - last_empty_ns) / 1000000;
	}
};

} // namespace rcvgov
