// rcvgovctl: asks rcvgovd over its control socket and prints the answer.
#include <CLI/CLI.hpp>
#include <cstdio>
#include <iostream>

#include "cli/render.h"
#include "control/control.h"

int main(int argc, char **argv)
{
	std::string socket = rcvgov::control::default_socket_path;
	bool json = false;
	size_t limit = 20;

	CLI::App app{"rcvgovctl: inspect the rcvgov daemon"};
	app.require_subcommand(1);
	app.add_option("--socket", socket, "rcvgovd control socket")->capture_default_str();
	auto *status = app.add_subcommand("status", "attach paths and event/loss counters");
	auto *sockets = app.add_subcommand("sockets", "top sockets by receive memory");
	auto *events = app.add_subcommand("events", "the most recent kernel events");
	auto *resources = app.add_subcommand(
		"resources", "every scope's limit, usage and usage %, closest to its limit first");
	for (auto *sub : {status, sockets, events, resources})
		sub->add_flag("--json", json, "print JSON instead of a table");
	sockets->add_option("-n,--limit", limit, "how many sockets (0: all)")
		->capture_default_str();
	events->add_option("-n,--limit", limit, "how many events (0: all)")->capture_default_str();
	std::string type;
	events->add_option("--type", type, "only this type")
		->check(CLI::IsMember({"inflation", "overshoot", "established", "closed"}));
	CLI11_PARSE(app, argc, argv);

	try {
		nlohmann::json req;
		if (*status) {
			req = {{"cmd", "status"}};
		} else if (*sockets) {
			req = {{"cmd", "sockets"}};
		} else if (*resources) {
			req = {{"cmd", "resources"}};
		} else {
			req = {{"cmd", "events"}};
			if (!type.empty())
				req["type"] = type;
		}
		if ((*sockets || *events) && limit)
			req["limit"] = limit;
		nlohmann::json data = rcvgov::control::call(socket, req);
		if (json)
			std::cout << data.dump(2) << "\n";
		else if (*status)
			std::cout << rcvgov::cli::render_status(data);
		else if (*sockets)
			std::cout << rcvgov::cli::render_sockets(data);
		else if (*resources)
			std::cout << rcvgov::cli::render_resources(data);
		else
			std::cout << rcvgov::cli::render_events(data);
		return 0;
	} catch (const std::exception &e) {
		std::cerr << "rcvgovctl: " << e.what() << "\n";
		return 1;
	}
}
