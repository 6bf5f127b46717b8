// One TCP socket as the daemon knows it, whichever source filled it in
// (BPF snapshot and events, or sock_diag when BPF is unavailable).
#pragma once

#include <array>
#include <cstdint>
#include <cstring>
#include <string_view>

namespace rcvgov {

struct Endpoint {
	uint16_t family = 0; // AF_INET or AF_INET6
	std::array<uint8_t, 16> addr{};
	uint16_t port = 0;

	bool operator==(const Endpoint &) const = default;
};

// A task's comm as the kernel keeps it (TASK_COMM_LEN), stored inline:
// 16 bytes per socket, no heap. NUL-padded; all 16 used means 16 characters.
class Comm {
public:
	static constexpr size_t kCapacity = 16;

	Comm() = default;
	Comm(std::string_view s) { assign(s); } // NOLINT: implicit, like a string
	Comm &operator=(std::string_view s)
	{
		assign(s);
		return *this;
	}
	// Keeps the first kCapacity characters, up to the first NUL.
	void assign(std::string_view s)
	{
		buf_.fill('\0');
		size_t n = 0;
		while (n < s.size() && n < kCapacity && s[n] != '\0')
			++n;
		std::memcpy(buf_.data(), s.data(), n);
	}
	size_t size() const { return strnlen(buf_.data(), kCapacity); }
	bool empty() const { return buf_[0] == '\0'; }
	std::string_view view() const { return {buf_.data(), size()}; }
	operator std::string_view() const { return view(); }

	bool operator==(const Comm &) const = default;
	friend bool operator==(const Comm &a, std::string_view b) { return a.view() == b; }

private:
	std::array<char, kCapacity> buf_{};
};

struct Owner {
	uint64_t cgroup_id = 0;
	uint64_t netns_cookie = 0;
	uint32_t pid = 0; // 0: not known
	uint32_t ino = 0; // the socket's sockfs inode, read with pid; 0: not known
	Comm comm;

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
	// CLOCK_MONOTONIC ns since when data has waited with the reader making
	// no progress; 0 = not stalled (nothing waits). A bulk reader whose
	// queue never drains is not stalled: every read restarts the clock.
	uint64_t stalled_since_ns = 0;
	// The reader's position: tp->copied_seq from BPF; from sock_diag the
	// low 32 bits of bytes_received - rqueue (same moves, other origin).
	// A destroy re-checks it.
	uint32_t copied_seq = 0;
	// The socket already held data when first seen: the stall start is a
	// lower bound (it may have been stalled for longer).
	bool age_lower_bound = false;
	Owner owner;
	// CLOCK_MONOTONIC ns of the last update from any source.
	uint64_t updated_ns = 0;

	// How long the reader has made no progress while data waited, 0 when
	// not stalled.
	uint64_t stall_ms(uint64_t now_ns) const
	{
		if (stalled_since_ns == 0 || now_ns < stalled_since_ns)
			return 0;
		return (now_ns - stalled_since_ns) / 1000000;
	}
	// sk_rcvbuf was raised beyond what autotuning set, and still is.
	bool inflated() const { return inflations > 0 && rcvbuf > autotuned_rcvbuf; }
};

} // namespace rcvgov
