// rcvgovd: the rcvgov daemon. Runs in the foreground; logs to stderr.
#include <CLI/CLI.hpp>
#include <cstdio>
#include <iostream>
#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>

#include "config/config.h"
#include "control/control.h"
#include "core/format.h"
#include "daemon/daemon.h"

namespace {

void print_limits(const rcvgov::config::Config &c, const rcvgov::tracker::Limits &l,
		  const rcvgov::config::Machine &m)
{
	using rcvgov::format_bytes;
	std::cout << "configuration: " << c.source << " (valid)\n"
		  << "machine: RAM " << format_bytes(m.ram_bytes) << ", tcp_mem " << m.tcp_mem.min
		  << " " << m.tcp_mem.pressure << " " << m.tcp_mem.max << " pages of "
		  << m.page_size << " B\n"
		  << "effective limits:\n"
		  << "  system max        " << format_bytes(l.max) << " (" << l.max << ")\n"
		  << "  system low water  " << format_bytes(l.low_water) << " (" << l.low_water
		  << ")\n"
		  << "  per service       " << format_bytes(l.per_service) << "\n"
		  << "  per peer          " << format_bytes(l.per_peer) << "\n"
		  << "  per socket        min(" << l.per_socket_entitlement_percent
		  << "% of the autotuned rcvbuf, " << format_bytes(l.per_socket) << ")\n";
	for (const auto &o : l.overrides)
		std::cout << "  override " << o.scope << " " << o.key << " = "
			  << format_bytes(o.limit) << "\n";
	std::cout << "ladder: shrink_window=" << c.ladder.shrink_window
		  << " clamp=" << c.ladder.clamp << " reclaim=" << c.ladder.reclaim
		  << " reclaim_pause_ms=" << c.ladder.reclaim_pause_ms << "\n"
		  << "dry_run=" << c.dry_run << " keep_on_exit=" << c.keep_on_exit << "\n";
}

} // namespace

int main(int argc, char **argv)
{
	rcvgov::DaemonOptions opts;
	opts.socket_path = rcvgov::control::default_socket_path;
	opts.config_path = rcvgov::config::default_path;
	std::string level = "info";
	bool no_fexit = false, check_config = false;
	std::optional<uint32_t> interval, events_per_sec;

	CLI::App app{"rcvgovd: TCP receive-buffer governor daemon"};
	app.add_option("--config", opts.config_path,
		       "configuration file (embedded defaults when it does not exist)")
		->capture_default_str();
	app.add_flag("--check-config", check_config,
		     "validate the configuration, print the effective limits, exit");
	app.add_flag("--dry-run", opts.force_dry_run,
		     "log what would be done, change nothing in the kernel");
	app.add_option("--socket", opts.socket_path, "control socket path")->capture_default_str();
	app.add_option("--interval", interval,
		       "full socket snapshot interval in milliseconds (overrides the file)")
		->check(CLI::Range(50u, 3600000u));
	app.add_option("--events-per-sec", events_per_sec,
		       "ring buffer events allowed per socket per second (overrides the file)")
		->check(CLI::Range(1u, 100000u));
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

	auto loaded = rcvgov::config::load(opts.config_path);
	if (auto *errs = std::get_if<std::vector<rcvgov::config::Error>>(&loaded)) {
		for (const auto &e : *errs)
			std::cerr << "rcvgovd: " << e.text() << "\n";
		std::cerr << "rcvgovd: " << errs->size() << " error(s) in the configuration\n";
		return 1;
	}
	opts.config = std::get<rcvgov::config::Config>(std::move(loaded));
	if (opts.force_dry_run)
		opts.config.dry_run = true;
	if (interval)
		opts.config.interval_ms = *interval;
	if (events_per_sec)
		opts.config.events_per_sec = *events_per_sec;
	auto machine = rcvgov::config::read_machine();
	auto limits = rcvgov::config::effective_limits(opts.config, machine);
	if (auto *errs = std::get_if<std::vector<rcvgov::config::Error>>(&limits)) {
		for (const auto &e : *errs)
			std::cerr << "rcvgovd: " << e.text() << "\n";
		return 1;
	}
	if (check_config) {
		print_limits(opts.config, std::get<rcvgov::tracker::Limits>(limits), machine);
		return 0;
	}

	try {
		rcvgov::Daemon daemon(std::move(opts));
		return daemon.run();
	} catch (const std::exception &e) {
		spdlog::critical("{}", e.what());
		return 1;
	}
}
