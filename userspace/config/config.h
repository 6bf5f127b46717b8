// rcvgovd's configuration: /etc/rcvgov/rcvgov.toml when present, embedded
// defaults otherwise, with the command-line overrides applied on top by
// assemble() — at start-up and at every SIGHUP reload, the same way. Three
// levels of limits, as Kubo does: computed from the machine, a few knobs,
// and a full override table (see docs/governance.md).
//
// Configuration problems are a list of config::Error (file, line, key,
// message), all of them reported at once, never only the first.
#pragma once

#include <array>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "tracker/limits.h"

namespace rcvgov::config {

inline constexpr const char *default_path = "/etc/rcvgov/rcvgov.toml";
inline constexpr uint64_t default_min_stall_ms = 2000;

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
	// shrink_window = "strict": 2 (strict mode of patches/linux-*/0002)
	// where the kernel takes it, 1 where it does not.
	bool shrink_strict = false;
	bool clamp = true;   // step 2: TCP_WINDOW_CLAMP + rcvbuf lock per socket
	bool reclaim = true; // step 3: destroy the sockets stalled longest
};

// What holds destruction back ([safety]).
struct Safety {
	uint32_t destroy_per_round = 32;
	uint32_t destroy_per_minute = 128;
	// Exceeding a budget trips to dry-run until a restart or a reload.
	bool breaker = true;
	// After destroying, reclamation pauses this long.
	uint32_t reclaim_pause_ms = 3000;
};

// Never chosen for any action.
struct Allowlist {
	std::vector<Cidr> cidrs;	  // peer addresses
	std::vector<std::string> cgroups; // cgroup v2 subtrees, e.g. /system.slice/ssh.service
	std::vector<uint16_t> ports;	  // local ports

	// A path and every cgroup below it, by whole components: "/a/b" allows
	// "/a/b" and "/a/b/c", not "/a/bc". "/" allows everything.
	bool cgroup_allowed(std::string_view path) const;
	// An IPv4-mapped IPv6 address (::ffff:a.b.c.d) also matches IPv4 CIDRs.
	bool peer_allowed(uint16_t family, const std::array<uint8_t, 16> &addr) const;
	bool port_allowed(uint16_t port) const;
	bool empty() const { return cidrs.empty() && cgroups.empty() && ports.empty(); }
};

// [metrics]: the Prometheus endpoint (docs/metrics.md).
struct Metrics {
	bool enabled = true;
	std::string listen = "127.0.0.1:9753"; // "IPv4:port" or "[IPv6]:port"
	uint32_t top_services = 10;	       // services with their own series
};

struct Config {
	std::string source = "embedded defaults";
	uint32_t interval_ms = 1000;
	uint32_t netns_scan_ms = 250;
	// A full snapshot at least this often even while the scan gate says
	// the host is quiet (daemon/scan_gate.h); 0 = every interval.
	uint32_t resync_ms = 30000;
	// Act on inflation events at once (Governor::react) instead of at
	// the next round.
	bool react_to_events = true;
	uint32_t events_per_sec = 20;
	bool dry_run = false;
	// Leave sysctls and clamps as they are when the daemon stops.
	bool keep_on_exit = false;
	// [daemon] audit_actions: how many recent actions (clamps, destroys,
	// dry-run would-haves) rcvgovd keeps for `rcvgovctl events --type
	// action`; 0 keeps none.
	uint32_t audit_actions = 1024;
	tracker::Knobs knobs;
	// [limits] min_stall_ms: a socket's reader must have made no progress
	// for this long with data waiting before it may be reclaimed. Unset:
	// default_min_stall_ms.
	std::optional<uint64_t> min_stall_ms;
	// [limits] force_below_floor: accept max_memory below the floor.
	bool force_below_floor = false;
	std::vector<tracker::Override> overrides;
	Ladder ladder;
	Safety safety;
	Allowlist allow;
	Metrics metrics;
	// The line of every key read from the file ("limits.max_memory" -> 3),
	// so errors found later (effective_limits) still name their line.
	std::map<std::string, int> key_lines;
	// Not errors, to be logged: "rcvgov.toml:7: ladder.reclaim_pause_ms is
	// deprecated, use safety.reclaim_pause_ms".
	std::vector<std::string> warnings;
};

struct Error {
	std::string file;
	int line = 0; // 0: not tied to a line
	std::string key;
	std::string message;
	std::string text() const; // "file:line: key: message"
};
using Errors = std::vector<Error>;

// A T or every configuration problem. It is a std::variant<T, Errors> (so
// std::get_if works) with Result-like accessors.
template <class T> class [[nodiscard]] Checked : public std::variant<T, Errors> {
public:
	Checked(T v) : std::variant<T, Errors>(std::in_place_index<0>, std::move(v)) {}
	Checked(Errors e) : std::variant<T, Errors>(std::in_place_index<1>, std::move(e)) {}
	Checked(Error e) : Checked(Errors{std::move(e)}) {}

	bool ok() const { return this->index() == 0; }
	explicit operator bool() const { return ok(); }
	T &value() & { return std::get<0>(*this); }
	const T &value() const & { return std::get<0>(*this); }
	T &&value() && { return std::get<0>(std::move(*this)); }
	T &operator*() & { return value(); }
	const T &operator*() const & { return value(); }
	T *operator->() { return &value(); }
	const T *operator->() const { return &value(); }
	const Errors &errors() const { return std::get<1>(*this); }
};

// Every error's text, one per line.
std::string text(const Errors &errors);

// Parses TOML text; every problem is reported, not just the first.
Checked<Config> parse(std::string_view text, const std::string &source);
// Reads `path`. A missing file gives the embedded defaults unless
// `must_exist` (a path given explicitly with --config).
Checked<Config> load(const std::string &path, bool must_exist = false);

// What the command line sets; it wins over the file, at start-up and at
// every reload.
struct CliOverrides {
	std::optional<uint32_t> interval_ms, events_per_sec;
	bool dry_run = false; // --dry-run: forces dry_run on
};

// The configuration in force: the file (or the embedded defaults when the
// default path is absent; an explicit path that is absent is an error) with
// the command-line overrides applied. Used at start-up and at reload.
Checked<Config> assemble(const std::string &path, const CliOverrides &cli, bool path_explicit);

// The machine facts the computed defaults start from.
struct Machine {
	uint64_t ram_bytes = 0;
	tracker::TcpMem tcp_mem;
	uint64_t page_size = 4096;
};
Machine read_machine(); // /proc/meminfo, /proc/sys/net/ipv4/tcp_mem

// The lowest max_memory accepted without limits.force_below_floor:
// max(16 MiB, RAM / 256).
uint64_t memory_floor(const Machine &m);

// Levels 1-3 combined and validated, with min_stall: the limits in force.
Checked<tracker::Limits> effective_limits(const Config &c, const Machine &m);

// "512M", "2G", "131072", or an integer.
std::optional<uint64_t> parse_size(std::string_view s);

// metrics.listen: an IP address literal and a port, "127.0.0.1:9753" or
// "[::1]:9753" (no host names: nothing to resolve at start-up).
struct ListenAddress {
	uint16_t family = 0; // AF_INET or AF_INET6
	std::array<uint8_t, 16> addr{};
	uint16_t port = 0;
};
std::optional<ListenAddress> parse_listen(std::string_view s);

} // namespace rcvgov::config
