// rcvgovd's configuration: /etc/rcvgov/rcvgov.toml when present, embedded
// defaults otherwise. Three levels, as Kubo does: limits computed from the
// machine, a few knobs, and a full override table (see docs/governance.md).
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "tracker/limits.h"

namespace rcvgov::config {

inline constexpr const char *default_path = "/etc/rcvgov/rcvgov.toml";

struct Cidr {
	uint16_t family = 0; // AF_INET or AF_INET6
	std::array<uint8_t, 16> addr{};
	uint8_t prefix = 0;
	std::string text;

	bool contains(uint16_t family, const std::array<uint8_t, 16> &a) const;
};
std::optional<Cidr> parse_cidr(std::string_view s);

struct Ladder {
	bool shrink_window = true; // step 1: tcp_shrink_window=1 everywhere
	bool clamp = true;	   // step 2: TCP_WINDOW_CLAMP per socket
	bool reclaim = true;	   // step 3: destroy oldest-data sockets
	uint32_t reclaim_pause_ms = 3000;
};

struct Allowlist {
	std::vector<Cidr> cidrs;	  // peer addresses
	std::vector<std::string> cgroups; // cgroup v2 paths, e.g. /system.slice/ssh.service
	std::vector<uint16_t> ports;	  // local ports
};

struct Config {
	std::string source = "embedded defaults";
	uint32_t interval_ms = 1000;
	uint32_t netns_scan_ms = 250;
	uint32_t events_per_sec = 20;
	bool dry_run = false;
	// Leave sysctls and clamps as they are when the daemon stops.
	bool keep_on_exit = false;
	tracker::Knobs knobs;
	std::vector<tracker::Override> overrides;
	Ladder ladder;
	Allowlist allow;
};

struct Error {
	std::string file;
	int line = 0; // 0: not tied to a line
	std::string key;
	std::string message;
	std::string text() const;
};

using Result = std::variant<Config, std::vector<Error>>;

// Parses TOML text; every problem is reported, not just the first.
Result parse(std::string_view text, const std::string &source);
// Reads `path`; a missing file gives the embedded defaults.
Result load(const std::string &path);

// The machine facts the computed defaults start from.
struct Machine {
	uint64_t ram_bytes = 0;
	tracker::TcpMem tcp_mem;
	uint64_t page_size = 4096;
};
Machine read_machine(); // /proc/meminfo, /proc/sys/net/ipv4/tcp_mem

// Levels 1-3 combined and validated: the limits in force.
std::variant<tracker::Limits, std::vector<Error>> effective_limits(const Config &c,
								   const Machine &m);

// "512M", "2G", "131072", or an integer.
std::optional<uint64_t> parse_size(std::string_view s);

} // namespace rcvgov::config
