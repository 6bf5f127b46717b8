// Command-line values of the test pair programs, parsed and validated
// without I/O so every accepted and rejected form is unit-tested.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>
#include <sys/socket.h>
#include <vector>

namespace rcvgov::pair {

// "1448", "64K", "1M" (binary multiples). Throws std::invalid_argument
// naming `flag` and what is allowed.
uint64_t parse_size(const std::string &flag, const std::string &text);
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
	bool nodelay = true;
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
};

// Parse argv (without argv[0] handling quirks: CLI11 does the work).
// Throw std::invalid_argument with the message to print; --help prints
// usage and throws HelpRequested.
struct HelpRequested {
	std::string text;
};
SenderConfig parse_sender_args(const std::vector<std::string> &args);
ReaderConfig parse_reader_args(const std::vector<std::string> &args);

} // namespace rcvgov::pair
