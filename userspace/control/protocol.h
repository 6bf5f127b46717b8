// The control protocol's names, defined once: the commands rcvgovd answers
// and rcvgovctl offers (with their help text), and the event types (names
// from core/event.h, the single source). The daemon dispatches with
// parse_request(); rcvgovctl builds its subcommands, help and requests from
// the same tables.
//
// Wire format: one JSON object per line over a unix stream socket only
// root may use. A request is {"cmd": "...", "limit": n, "type": "..."}; the
// answer is {"ok": true, "data": ...} or {"ok": false, "error": "..."}.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/error.h"
#include "core/event.h"

namespace rcvgov::control {

enum class Command { Status, Sockets, Events, Resources };

struct CommandInfo {
	Command command;
	std::string_view name;
	std::string_view help;
	bool takes_limit; // "limit": how many rows (sockets, events)
};

inline constexpr std::array<CommandInfo, 4> commands = {{
	{Command::Status, "status",
	 "attach paths, event/loss counters, namespaces and the ladder's state", false},
	{Command::Sockets, "sockets", "top sockets by receive memory", true},
	{Command::Events, "events", "the most recent kernel events", true},
	{Command::Resources, "resources",
	 "every scope's limit, usage and usage %, closest to its limit first", false},
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

// Request keys.
inline constexpr const char *key_cmd = "cmd";
inline constexpr const char *key_limit = "limit";
inline constexpr const char *key_type = "type";

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
	size_t limit = SIZE_MAX;	    // no "limit": all
	std::vector<EventType> event_types; // events: the one asked, or all
};

// Validates a request object: "cmd" a known command, "limit" a
// non-negative integer, "type" a known event type (events only).
Result<Request> parse_request(const nlohmann::json &req);
// The request rcvgovctl sends. limit 0 means all (no "limit" sent).
nlohmann::json make_request(Command c, size_t limit = 0,
			    std::optional<EventType> type = std::nullopt);

} // namespace rcvgov::control
