// rcvgovd: the rcvgov daemon. Runs in the foreground; logs to stderr.
#include <CLI/CLI.hpp>
#include <cstdio>
#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>

#include "control/control.h"
#include "daemon/daemon.h"

int main(int argc, char **argv)
{
	rcvgov::DaemonOptions opts;
	opts.socket_path = rcvgov::control::default_socket_path;
	std::string level = "info";
	bool no_fexit = false;

	CLI::App app{"rcvgovd: TCP receive-buffer governor daemon"};
	app.add_option("--socket", opts.socket_path, "control socket path")->capture_default_str();
	app.add_option("--interval", opts.snapshot_interval_ms,
		       "full socket snapshot interval in milliseconds")
		->check(CLI::Range(50u, 3600000u))
		->capture_default_str();
	app.add_option("--events-per-sec", opts.events_per_sec_per_socket,
		       "ring buffer events allowed per socket per second")
		->check(CLI::Range(1u, 100000u))
		->capture_default_str();
	app.add_flag("--sock-diag", opts.force_sock_diag,
		     "do not load BPF; poll NETLINK_SOCK_DIAG instead");
	app.add_flag("--no-fexit", no_fexit, "never try fentry/fexit (use the fallbacks)");
	app.add_option("--log-level", level, "trace, debug, info, warn or error")
		->check(CLI::IsMember({"trace", "debug", "info", "warn", "error"}))
		->capture_default_str();
	CLI11_PARSE(app, argc, argv);
	opts.allow_fexit = !no_fexit;

	auto logger = spdlog::stderr_color_mt("rcvgovd");
	spdlog::set_default_logger(logger);
	spdlog::set_pattern("%Y-%m-%dT%H:%M:%S.%e %^%l%$ %v");
	spdlog::set_level(spdlog::level::from_str(level));

	try {
		rcvgov::Daemon daemon(opts);
		return daemon.run();
	} catch (const std::exception &e) {
		spdlog::critical("{}", e.what());
		return 1;
	}
}
