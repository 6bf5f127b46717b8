// The control protocol's names, defined once: the commands rcvgovd answers
// and rcvgovctl offers (with their help text), and the event types (names
// from core/event.h, the single source). The daemon dispatches with
// parse_request(); rcvgovctl builds its subcommands, help and requests from
// the same tables.
//
// Wire format: one JSON object per line over a unix stream socket only
// root may use. A request is {"cmd": "...", "limit": n, "offset": n,
// "type": "..."}; the answer is {"ok": true, "data": ...} or {"ok": false,
// "error": "..."}.
//
// Paging: the commands that take a limit (sockets, events) answer one page,
// {"items": [...], "offset": n, "total": n, "next_offset": n or null}, at
// most max_page_rows rows (default_page_rows when the request gives no
// "limit"); "next_offset" is what to send as "offset" for the next page,
// null on the last one. sockets are ordered by receive memory, largest
// first; events newest first by page (offset 0: the newest), each page in
// time order. Pages are cut from the live table at each request: a socket
// whose memory changed between two requests can appear on two pages or on
// none (rcvgovctl drops repeats by cookie).
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/error.h"
#include "core/event.h"

namespace rcvgov::control {

enum class Command { Status, Sockets, Events, Resources, Sample };

struct CommandInfo {
	Command command;
	std::string_view name;
	std::string_view help;
	bool takes_limit; // "limit": how many rows (sockets, events)
};

inline constexpr std::array<CommandInfo, 5> commands = {{
	{Command::Status, "status",
	 "attach paths, event/loss counters, namespaces and the ladder's state", false},
	{Command::Sockets, "sockets", "top sockets by receive memory", true},
	{Command::Events, "events", "the most recent kernel events", true},
	{Command::Resources, "resources",
	 "every scope's limit, usage and usage %, closest to its limit first", false},
	// rcvgovctl record asks it; not a subcommand of its own.
	{Command::Sample, "sample",
	 "one socket's receive memory, window and queue now, read through sock_diag", false},
}};

struct EventTypeInfo {
	EventType type; // its name: event_type_name(type)
	std::string_view help;
};

inline constexpr std::array<EventTypeInfo, 4> event_types = {{
	{EventType::Inflation, "tcp_clamp_window() raised sk_rcvbuf beyond the autotuned limit"},
	{EventType::Overshoot, "coalescing pushed sk_rmem_alloc above sk_rcvbuf"},
	{EventType::Established, "a socket became established"},
	{EventType::Closed, "a socket closed"},
}};

// events --type action: rcvgovd's own actions (the audit trail, see
// governor/action_log.h), not kernel events; only when asked by name.
inline constexpr std::string_view action_event_type = "action";
inline constexpr std::string_view action_event_help =
	"rcvgovd's own clamps, destroys and dry-run would-haves (the audit trail; only "
	"listed when asked for)";

// Request keys.
inline constexpr const char *key_cmd = "cmd";
inline constexpr const char *key_limit = "limit";
inline constexpr const char *key_type = "type";
inline constexpr const char *key_offset = "offset";
// sample: the socket, by cookie or by local port (the established socket
// with the most receive memory on that port).
inline constexpr const char *key_cookie = "cookie";
inline constexpr const char *key_port = "port";

// Rows per page: when the request has no "limit", and at most.
inline constexpr size_t default_page_rows = 1000;
inline constexpr size_t max_page_rows = 2000;

const CommandInfo &info(Command c);
std::string_view command_name(Command c);
// "status, sockets, events, resources"
std::string command_names();
// "inflation, overshoot, established, closed"
std::string event_type_names();
std::vector<std::string> event_type_name_list();

// An Error naming the known commands / types when `name` is not one.
Result<Command> parse_command(std::string_view name);
Result<EventType> parse_event_type(std::string_view name);

struct Request {
	Command command = Command::Status;
	size_t limit = default_page_rows;   // rows on this page, <= max_page_rows
	size_t offset = 0;		    // rows skipped before this page
	std::vector<EventType> event_types; // events: the one asked, or all
	bool actions = false;		    // events: --type action (event_types empty)
	uint64_t cookie = 0;		    // sample: by cookie, or
	uint16_t port = 0;		    // sample: by local port
};

// Validates a request object: "cmd" a known command, "limit" and "offset"
// non-negative integers (a limit above max_page_rows is cut to it), "type"
// a known event type or "action" (events only); sample: exactly one of
// "cookie" (non-zero) and "port" (1..65535).
Result<Request> parse_request(const nlohmann::json &req);
// The request rcvgovctl sends. limit 0: no "limit" sent (the daemon's
// default page); offset 0: no "offset" sent.
nlohmann::json make_request(Command c, size_t limit = 0,
			    std::optional<EventType> type = std::nullopt, size_t offset = 0);
// events --type action, one page.
nlohmann::json make_action_request(size_t limit = 0, size_t offset = 0);
// sample, by cookie (port 0) or by local port (cookie 0).
nlohmann::json make_sample_request(uint64_t cookie, uint16_t port);

// One page of a paged answer (see above): the daemon builds it with
// make_page, rcvgovctl reads it with parse_page.
struct Page {
	nlohmann::json items = nlohmann::json::array();
	size_t offset = 0;
	size_t total = 0;
	std::optional<size_t> next_offset; // none: the last page
};
// items were taken from `offset` on, out of `total`.
nlohmann::json make_page(nlohmann::json items, size_t offset, size_t total);
Result<Page> parse_page(const nlohmann::json &data);
// [begin, end) of the rows of a page over `total` rows.
std::pair<size_t, size_t> page_bounds(const Request &r, size_t total);

} // namespace rcvgov::control
