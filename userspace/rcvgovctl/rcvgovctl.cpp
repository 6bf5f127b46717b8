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

#include "cli/render.h"
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
		auto data = ctl::call(p.socket, ctl::make_request(p.cmd, ask, p.type, offset));
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
		std::cout << (p.json ? dump(events, 2) + "\n" : rcvgov::cli::render_events(events));
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

	CLI::App app{"rcvgovctl: inspect the rcvgov daemon"};
	app.require_subcommand(1);
	app.fallthrough(); // --socket after the subcommand too
	app.add_option("--socket", socket, "rcvgovd control socket")->capture_default_str();
	std::map<CLI::App *, ctl::Command> subs;
	for (const auto &c : ctl::commands) {
		auto *sub = app.add_subcommand(std::string(c.name), std::string(c.help));
		sub->add_flag("--json", json, "print JSON instead of a table");
		if (c.takes_limit)
			sub->add_option("-n,--limit", limit,
					"how many rows (0: all; asked for in pages of at most " +
						std::to_string(ctl::max_page_rows) + ")")
				->capture_default_str();
		if (c.command == ctl::Command::Events)
			sub->add_option("--type", type, types_help)
				->check(CLI::IsMember(ctl::event_type_name_list()));
		subs[sub] = c.command;
	}
	CLI11_PARSE(app, argc, argv);

	ctl::Command cmd = ctl::Command::Status;
	for (const auto &[sub, c] : subs)
		if (sub->parsed())
			cmd = c;
	std::optional<rcvgov::EventType> event_type;
	if (!type.empty())
		event_type = *ctl::parse_event_type(type); // checked by CLI11 above

	if (ctl::info(cmd).takes_limit)
		return run_paged({socket, cmd, limit, event_type, json});

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
	}
	return 0;
}
