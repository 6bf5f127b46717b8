// rcvgovctl: asks rcvgovd over its control socket and prints the answer.
// Its subcommands, their help and the event types come from the protocol's
// tables (control/protocol.h), the same the daemon dispatches with.
//
// sockets and events come in pages (at most control::max_page_rows rows an
// answer): rcvgovctl asks page after page until it has --limit rows (0:
// all), printing sockets as they come; events are printed oldest first once
// all pages are in (the daemon keeps a few thousand at most).
#include <CLI/CLI.hpp>
#include <algorithm>
#include <cstdio>
#include <iostream>
#include <map>
#include <set>

#include "cli/record.h"
#include "cli/render.h"
#include "cli/top_loop.h"
#include "common/version.h"
#include "control/control.h"
#include "control/protocol.h"

namespace ctl = rcvgov::control;

namespace {

std::string dump(const nlohmann::json &j, int indent)
{
	return j.dump(indent, ' ', false, nlohmann::json::error_handler_t::replace);
}

// "  " in front of every line: an item of a JSON array printed by hand.
std::string indented(const std::string &s)
{
	std::string out = "  ";
	for (char c : s) {
		out += c;
		if (c == '\n')
			out += "  ";
	}
	return out;
}

struct Paged {
	std::string socket;
	ctl::Command cmd;
	size_t limit; // 0: all
	std::optional<rcvgov::EventType> type;
	bool json;
	bool actions = false; // events --type action: the audit trail
};

int run_paged(const Paged &p)
{
	const bool sockets = p.cmd == ctl::Command::Sockets;
	size_t want = p.limit ? p.limit : SIZE_MAX;
	size_t got = 0, offset = 0, printed = 0;
	std::set<uint64_t> seen; // sockets: one that moved between pages shows once
	nlohmann::json events = nlohmann::json::array(); // oldest first
	if (sockets && p.json)
		std::cout << "[";
	while (got < want) {
		size_t ask = std::min(want - got, ctl::max_page_rows);
		auto data = ctl::call(p.socket,
				      p.actions ? ctl::make_action_request(ask, offset)
						: ctl::make_request(p.cmd, ask, p.type, offset));
		auto page = data ? ctl::parse_page(*data) : rcvgov::Result<ctl::Page>(data.error());
		if (!page) {
			if (sockets && p.json && printed)
				std::cout << std::endl;
			std::cerr << "rcvgovctl: " << page.error().message << "\n";
			return 1;
		}
		got += page->items.size();
		if (sockets) {
			nlohmann::json rows = nlohmann::json::array();
			for (auto &row : page->items) {
				const auto &c =
					row.contains("cookie") ? row["cookie"] : nlohmann::json();
				if (c.is_number_unsigned() &&
				    !seen.insert(c.get<uint64_t>()).second)
					continue;
				rows.push_back(std::move(row));
			}
			if (p.json)
				for (const auto &row : rows)
					std::cout << (printed++ ? ",\n" : "\n")
						  << indented(dump(row, 2));
			else if (!rows.empty() || offset == 0)
				std::cout << rcvgov::cli::render_sockets(rows, offset == 0);
			std::cout << std::flush;
		} else {
			// Pages go from the newest back; each page is in time order.
			page->items.insert(page->items.end(), events.begin(), events.end());
			events = std::move(page->items);
		}
		if (!page->next_offset) // parse_page: a next page always advances
			break;
		offset = *page->next_offset;
	}
	if (sockets && p.json)
		std::cout << (printed ? "\n]\n" : "]\n");
	else if (!sockets)
		std::cout << (p.json	  ? dump(events, 2) + "\n"
			      : p.actions ? rcvgov::cli::render_actions(events)
					  : rcvgov::cli::render_events(events));
	return 0;
}

} // namespace

int main(int argc, char **argv)
{
	std::string socket = ctl::default_socket_path;
	bool json = false;
	size_t limit = 20;
	std::string type;

	std::string types_help = "only this type:";
	for (const auto &t : ctl::event_types)
		types_help += "\n  " + std::string(rcvgov::event_type_name(t.type)) + ": " +
			      std::string(t.help);
	types_help += "\n  " + std::string(ctl::action_event_type) + ": " +
		      std::string(ctl::action_event_help);
	std::vector<std::string> type_names = ctl::event_type_name_list();
	type_names.emplace_back(ctl::action_event_type);

	CLI::App app{"rcvgovctl: inspect the rcvgov daemon"};
	app.set_version_flag("--version", rcvgov::version_line("rcvgovctl"),
			     "print the version and commit, exit");
	app.require_subcommand(1);
	app.fallthrough(); // --socket after the subcommand too
	app.add_option("--socket", socket, "rcvgovd control socket")->capture_default_str();
	std::map<CLI::App *, ctl::Command> subs;
	for (const auto &c : ctl::commands) {
		if (c.command == ctl::Command::Sample)
			continue; // rcvgovctl record asks it
		auto *sub = app.add_subcommand(std::string(c.name), std::string(c.help));
		sub->add_flag("--json", json, "print JSON instead of a table");
		if (c.takes_limit)
			sub->add_option("-n,--limit", limit,
					"how many rows (0: all; asked for in pages of at most " +
						std::to_string(ctl::max_page_rows) + ")")
				->capture_default_str();
		if (c.command == ctl::Command::Events)
			sub->add_option("--type", type, types_help)
				->check(CLI::IsMember(type_names));
		subs[sub] = c.command;
	}
	rcvgov::cli::TopOptions top;
	auto *top_cmd = app.add_subcommand(
		"top", "live view: rates, memory against the limits, top services and sockets");
	top_cmd->add_option("--interval", top.interval_s, "seconds between frames")
		->check(CLI::Range(0.1, 3600.0))
		->capture_default_str();
	top_cmd->add_option("--count", top.count, "stop after this many frames (0: on q or Ctrl-C)")
		->capture_default_str();
	rcvgov::cli::RecordOptions rec;
	uint32_t rec_port = 0;
	auto *rec_cmd = app.add_subcommand(
		"record",
		"sample one socket's r, rb, window and queue into a CSV (lab.sh's columns; "
		"give the control socket before the subcommand)");
	auto *by_cookie = rec_cmd->add_option("--socket,--cookie", rec.cookie,
					      "the socket's cookie (rcvgovctl sockets)");
	auto *by_port = rec_cmd->add_option("--port", rec_port,
					    "the established socket on this local port with the "
					    "most receive memory")
				->check(CLI::Range(1, 65535));
	by_cookie->excludes(by_port);
	rec_cmd->add_option("--interval", rec.interval_ms, "milliseconds between samples")
		->check(CLI::Range(10, 3600000))
		->capture_default_str();
	rec_cmd->add_option("--duration", rec.duration_s, "seconds to record (0: until Ctrl-C)")
		->check(CLI::NonNegativeNumber)
		->capture_default_str();
	rec_cmd->add_option("--out", rec.out, "CSV file ('-': standard output)")
		->capture_default_str();
	try {
		app.parse(argc, argv);
	} catch (const CLI::ParseError &e) {
		// --help, --version: 0; a usage error: 2 (the man page's EXIT STATUS).
		return app.exit(e) == 0 ? 0 : 2;
	}

	if (top_cmd->parsed()) {
		top.socket = socket;
		return rcvgov::cli::run_top(top);
	}
	if (rec_cmd->parsed()) {
		if (!rec.cookie && !rec_port) {
			std::cerr << "rcvgovctl: record needs --socket COOKIE or --port N\n";
			return 2;
		}
		rec.socket = socket;
		rec.port = static_cast<uint16_t>(rec_port);
		return rcvgov::cli::run_record(rec);
	}

	ctl::Command cmd = ctl::Command::Status;
	for (const auto &[sub, c] : subs)
		if (sub->parsed())
			cmd = c;
	std::optional<rcvgov::EventType> event_type;
	const bool actions = type == ctl::action_event_type;
	if (!type.empty() && !actions)
		event_type = *ctl::parse_event_type(type); // checked by CLI11 above

	if (ctl::info(cmd).takes_limit)
		return run_paged({socket, cmd, limit, event_type, json, actions});

	auto data = ctl::call(socket, ctl::make_request(cmd));
	if (!data) {
		std::cerr << "rcvgovctl: " << data.error().message << "\n";
		return 1;
	}
	if (json) {
		std::cout << dump(*data, 2) << "\n";
		return 0;
	}
	switch (cmd) {
	case ctl::Command::Status: std::cout << rcvgov::cli::render_status(*data); break;
	case ctl::Command::Resources: std::cout << rcvgov::cli::render_resources(*data); break;
	case ctl::Command::Sockets:
	case ctl::Command::Events: break; // paged above
	case ctl::Command::Sample: break; // rcvgovctl record
	}
	return 0;
}
