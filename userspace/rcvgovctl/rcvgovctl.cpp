// rcvgovctl: asks rcvgovd over its control socket and prints the answer.
// Its subcommands, their help and the event types come from the protocol's
// tables (control/protocol.h), the same the daemon dispatches with.
#include <CLI/CLI.hpp>
#include <cstdio>
#include <iostream>
#include <map>

#include "cli/render.h"
#include "control/control.h"
#include "control/protocol.h"

namespace ctl = rcvgov::control;

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
			sub->add_option("-n,--limit", limit, "how many rows (0: all)")
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

	auto data = ctl::call(socket, ctl::make_request(cmd, limit, event_type));
	if (!data) {
		std::cerr << "rcvgovctl: " << data.error().message << "\n";
		return 1;
	}
	if (json) {
		std::cout << data->dump(2) << "\n";
		return 0;
	}
	switch (cmd) {
	case ctl::Command::Status: std::cout << rcvgov::cli::render_status(*data); break;
	case ctl::Command::Sockets: std::cout << rcvgov::cli::render_sockets(*data); break;
	case ctl::Command::Events: std::cout << rcvgov::cli::render_events(*data); break;
	case ctl::Command::Resources: std::cout << rcvgov::cli::render_resources(*data); break;
	}
	return 0;
}
