// Command-line values of the test pair programs, parsed and validated
// without I/O so every accepted and rejected form is unit-tested.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>
#include <sys/socket.h>
#include <vector>

namespace rcvgov::pair {

// Every parser below throws std::invalid_argument whose text names the flag,
// repeats the rejected value and says what is allowed, e.g.
//   --payload: invalid value '12Q': a positive byte count like 1448, 64K or 1M

// "1448", "64K", "1M", "1G" (binary multiples), below 4G.
uint64_t parse_size(const std::string &flag, const std::string &text);
// "1", "2000": a whole number from 1 to max (no suffix).
uint64_t parse_count(const std::string &flag, const std::string &text, uint64_t max);
// Most connections one program handles (--connections); the process's fd
// limit, checked at run time, may allow fewer.
inline constexpr uint64_t max_connections = 65535;
// "1ms", "500us", "30s", "2m", "0" (0 only where allow_zero).
std::chrono::nanoseconds parse_duration(const std::string &flag, const std::string &text,
					bool allow_zero = false);

struct SockAddr {
	sockaddr_storage ss{};
	socklen_t len = 0;
	int family() const { return ss.ss_family; }
};
// "10.0.0.2:5001" or "[fd00::2]:5001" (numeric only: tests never resolve).
SockAddr parse_endpoint(const std::string &flag, const std::string &text);
std::string format_sockaddr(const sockaddr *sa);

enum class ReadMode { Slow, Never, Oscillate };

struct SenderConfig {
	SockAddr connect;
	uint64_t payload = 1448;
	std::chrono::nanoseconds interval = std::chrono::milliseconds(1);
	std::chrono::nanoseconds duration = std::chrono::seconds(30); // 0: forever
	// A peer that drops SYNs would otherwise keep connect() busy for ~2 min.
	std::chrono::nanoseconds connect_timeout = std::chrono::seconds(10);
	// On by default so every write leaves as one 1448-byte segment, as in
	// the blog; Nagle would merge writes while the window is closed.
	bool nodelay = true;
	// After a stall (CPU contention, a blocked write), write the missed
	// payloads back to back to keep the exact average rate. Off by default:
	// such a burst can fill the receive window to its right edge, and the
	// zero window that follows ends the blog's unbounded growth at random.
	bool catch_up = false;
	// Connections opened to the same peer. With more than one, every
	// interval writes the payload on each, never waiting for one: a write
	// the socket cannot take at once is skipped (counted blocked), and a
	// connection that fails is reported and dropped while the others go on.
	uint64_t connections = 1;
};

struct ReaderConfig {
	SockAddr listen;
	ReadMode mode = ReadMode::Slow;
	uint64_t read_bytes = 1;
	uint64_t fast_bytes = 3300;
	std::chrono::nanoseconds interval = std::chrono::milliseconds(1);
	std::chrono::nanoseconds slow_period = std::chrono::seconds(240);
	std::chrono::nanoseconds fast_period = std::chrono::seconds(240);
	std::chrono::nanoseconds duration = std::chrono::seconds(30); // 0: forever
	// A reader nobody connects to must not outlive the script that started
	// it; 0 waits forever.
	std::chrono::nanoseconds accept_timeout = std::chrono::seconds(60);
	// Connections accepted before reading starts (each read by `mode`; the
	// accept timeout bounds the wait for each next one). With more than
	// one, a connection that ends is reported and the others go on.
	uint64_t connections = 1;
};

const char *to_string(ReadMode m);
// Bytes the reader asks for at `elapsed` since accept (0: skip this tick).
// Oscillate starts with the slow phase, as in the blog.
uint64_t read_bytes_at(const ReaderConfig &cfg, std::chrono::nanoseconds elapsed);

// Parse the arguments after argv[0]. Bad input throws
// std::invalid_argument with the message to print; --help throws
// HelpRequested carrying the usage text, --version the version line.
struct HelpRequested {
	std::string text;
};
SenderConfig parse_sender_args(const std::vector<std::string> &args);
ReaderConfig parse_reader_args(const std::vector<std::string> &args);

} // namespace rcvgov::pair
