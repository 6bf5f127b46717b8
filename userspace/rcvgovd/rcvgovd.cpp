// rcvgovd: the rcvgov daemon. Runs in the foreground; logs to stderr.
// Before it changes anything it checks its runtime directory, takes the
// instance lock and puts back what a previous rcvgovd left in the journal
// (docs/operations-safety.md); `rcvgovd --restore` does only the latter.
#include <CLI/CLI.hpp>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <iostream>
#include <spdlog/spdlog.h>
#include <unistd.h>

#include "common/version.h"
#include "config/config.h"
#include "control/control.h"
#include "core/format.h"
#include "daemon/daemon.h"
#include "daemon/instance_lock.h"
#include "daemon/log_setup.h"
#include "journal/restore.h"

namespace {

void print_config(const rcvgov::config::Config &c, const rcvgov::tracker::Limits &l,
		  const rcvgov::config::Machine &m)
{
	using rcvgov::format_bytes;
	auto min_stall_ms = std::chrono::duration_cast<std::chrono::milliseconds>(l.min_stall);
	std::cout << "configuration: " << c.source << " (valid)\n";
	for (const auto &w : c.warnings)
		std::cout << "warning: " << w << "\n";
	std::cout << "machine: RAM " << format_bytes(m.ram_bytes) << ", tcp_mem " << m.tcp_mem.min
		  << " " << m.tcp_mem.pressure << " " << m.tcp_mem.max << " pages of "
		  << m.page_size << " B\n"
		  << "daemon: interval_ms=" << c.interval_ms << " netns_scan_ms=" << c.netns_scan_ms
		  << " events_per_sec=" << c.events_per_sec << "\n"
		  << "effective limits:\n"
		  << "  system max        " << format_bytes(l.max) << " (" << l.max << ")"
		  << (c.force_below_floor ? " (force_below_floor)" : "") << "\n"
		  << "  floor             " << format_bytes(rcvgov::config::memory_floor(m))
		  << " (max(16 MiB, RAM/256))\n"
		  << "  system low water  " << format_bytes(l.low_water) << " (" << l.low_water
		  << ")\n"
		  << "  per service       " << format_bytes(l.per_service) << "\n"
		  << "  per peer          " << format_bytes(l.per_peer) << "\n"
		  << "  per socket        min(" << l.per_socket_entitlement_percent
		  << "% of the autotuned rcvbuf, " << format_bytes(l.per_socket) << ")\n"
		  << "  min stall         " << min_stall_ms.count()
		  << " ms (a reader stalled this long may be reclaimed)\n";
	for (const auto &o : l.overrides)
		std::cout << "  override " << o.scope << " " << o.key << " = "
			  << format_bytes(o.limit) << "\n";
	std::cout << "ladder: shrink_window=" << c.ladder.shrink_window
		  << " clamp=" << c.ladder.clamp << " reclaim=" << c.ladder.reclaim << "\n"
		  << "safety: destroy_per_round=" << c.safety.destroy_per_round
		  << " destroy_per_minute=" << c.safety.destroy_per_minute
		  << " breaker=" << c.safety.breaker
		  << " reclaim_pause_ms=" << c.safety.reclaim_pause_ms << "\n"
		  << "allowlist: " << c.allow.cidrs.size() << " cidrs, " << c.allow.cgroups.size()
		  << " cgroup subtrees, " << c.allow.ports.size() << " ports\n"
		  << "dry_run=" << c.dry_run << " keep_on_exit=" << c.keep_on_exit << "\n";
}

std::string journal_path_in(const std::string &runtime_dir)
{
	return runtime_dir + "/journal";
}

// `rcvgovd --restore` (the unit's ExecStopPost=): puts back what the journal
// records and exits 0, or non-zero saying what could not be restored.
int run_restore(const std::string &runtime_dir)
{
	if (access(runtime_dir.c_str(), F_OK) != 0 && errno == ENOENT) {
		spdlog::info("restore: no {}: nothing to restore", runtime_dir);
		return 0;
	}
	if (rcvgov::Status st = rcvgov::check_private_dir(runtime_dir); !st.ok()) {
		spdlog::critical("restore: {}", st.error().message);
		return 1;
	}
	auto lock = rcvgov::InstanceLock::acquire(runtime_dir + "/rcvgovd.lock");
	if (!lock) {
		spdlog::critical("restore: {}: it owns the journal; stop it first (it restores "
				 "on SIGTERM)",
				 lock.error().message);
		return 1;
	}
	const std::string path = journal_path_in(runtime_dir);
	auto r = rcvgov::journal::restore_file(path);
	if (!r) {
		spdlog::critical("restore: the journal cannot be read: {}. It is left in place; "
				 "restore the values it lists by hand, then remove it",
				 r.error().message);
		return 1;
	}
	if (!r->found) {
		spdlog::info("restore: no journal at {}: nothing to restore", path);
		return 0;
	}
	if (!r->ok()) {
		spdlog::critical("restore: {} change(s) could not be put back (listed above); they "
				 "stay in {}",
				 r->failures.size(), path);
		return 1;
	}
	return 0;
}

void print_errors(const rcvgov::config::Errors &errs)
{
	for (const auto &e : errs)
		std::cerr << "rcvgovd: " << e.text() << "\n";
	std::cerr << "rcvgovd: " << errs.size() << " error(s) in the configuration\n";
}

} // namespace

int main(int argc, char **argv)
{
	rcvgov::DaemonOptions opts;
	opts.socket_path = rcvgov::control::default_socket_path;
	opts.config_path = rcvgov::config::default_path;
	std::string level = "info";
	std::string runtime_dir = rcvgov::default_runtime_dir;
	bool no_fexit = false, check_config = false, restore = false;

	CLI::App app{"rcvgovd: TCP receive-buffer governor daemon"};
	app.set_version_flag("--version", rcvgov::version_line("rcvgovd"),
			     "print the version and commit, exit");
	auto *config_opt =
		app.add_option("--config", opts.config_path,
			       "configuration file (the default path may be absent: embedded "
			       "defaults; a path given here must exist)")
			->capture_default_str();
	app.add_flag("--check-config", check_config,
		     "validate the configuration, print the effective limits, exit");
	app.add_flag("--dry-run", opts.cli.dry_run,
		     "log what would be done, change nothing in the kernel (wins over the file, "
		     "also at reload)");
	auto *socket_opt = app.add_option("--socket", opts.socket_path,
					  "control socket path (default: rcvgovd.sock in the "
					  "runtime directory)");
	auto *runtime_opt =
		app.add_option("--runtime-dir", runtime_dir,
			       "private directory (root, 0700) for the journal, the instance lock "
			       "and the control socket (default: the --socket's directory, else "
			       "/run/rcvgov)")
			->capture_default_str();
	app.add_flag("--restore", restore,
		     "put back everything the journal records (after a crash), then exit");
	app.add_option("--interval", opts.cli.interval_ms,
		       "full socket snapshot interval in milliseconds (overrides the file, also "
		       "at reload)")
		->check(CLI::Range(50u, 3600000u));
	app.add_option("--events-per-sec", opts.cli.events_per_sec,
		       "ring buffer events allowed per socket per second (overrides the file; "
		       "fixed at BPF load)")
		->check(CLI::Range(1u, 100000u));
	app.add_flag("--sock-diag", opts.force_sock_diag,
		     "do not load BPF; poll NETLINK_SOCK_DIAG instead");
	app.add_flag("--no-fexit", no_fexit, "never try fentry/fexit (use the fallbacks)");
	app.add_option("--log-level", level, "trace, debug, info, warn or error")
		->check(CLI::IsMember({"trace", "debug", "info", "warn", "error"}))
		->capture_default_str();
	try {
		app.parse(argc, argv);
	} catch (const CLI::ParseError &e) {
		// --help, --version: 0; a usage error: 2 (the man page's EXIT STATUS).
		return app.exit(e) == 0 ? 0 : 2;
	}
	opts.allow_fexit = !no_fexit;
	opts.config_explicit = config_opt->count() > 0;

	// Journal priorities under systemd, timestamps anywhere else.
	rcvgov::setup_logging(spdlog::level::from_str(level));
	// One instance per runtime directory, next to its control socket.
	if (!runtime_opt->count() && socket_opt->count())
		runtime_dir = rcvgov::parent_dir(opts.socket_path);
	while (runtime_dir.size() > 1 && runtime_dir.back() == '/')
		runtime_dir.pop_back();
	if (!socket_opt->count())
		opts.socket_path = runtime_dir + "/rcvgovd.sock";
	if (restore)
		return run_restore(runtime_dir);

	// The same assembly as every SIGHUP reload: file, then command line.
	auto assembled = rcvgov::config::assemble(opts.config_path, opts.cli, opts.config_explicit);
	if (!assembled) {
		print_errors(assembled.errors());
		return 1;
	}
	opts.config = std::move(assembled).value();
	auto machine = rcvgov::config::read_machine();
	auto limits = rcvgov::config::effective_limits(opts.config, machine);
	if (!limits) {
		print_errors(limits.errors());
		return 1;
	}
	if (check_config) {
		print_config(opts.config, limits.value(), machine);
		return 0;
	}
	for (const auto &w : opts.config.warnings)
		spdlog::warn("{}", w);

	// Before anything is created or changed: private directories, one
	// instance, and the journal of a previous rcvgovd put back.
	for (const std::string &dir : {runtime_dir, rcvgov::parent_dir(opts.socket_path)}) {
		if (rcvgov::Status st = rcvgov::prepare_private_dir(dir); !st.ok()) {
			spdlog::critical("{}", st.error().message);
			return 1;
		}
	}
	auto lock = rcvgov::InstanceLock::acquire(runtime_dir + "/rcvgovd.lock");
	if (!lock) {
		spdlog::critical("{}", lock.error().message);
		return 1;
	}
	opts.journal_path = journal_path_in(runtime_dir);
	if (auto r = rcvgov::journal::restore_file(opts.journal_path); !r) {
		spdlog::critical("the journal cannot be read: {}. rcvgovd cannot tell which values "
				 "are the originals: restore what it lists by hand, then remove it",
				 r.error().message);
		return 1;
	}

	const std::string journal_path = opts.journal_path;
	try {
		rcvgov::Daemon daemon(std::move(opts));
		return daemon.run();
	} catch (const std::exception &e) {
		spdlog::critical("{}", e.what());
	}
	// The daemon is gone (its destructor ran): whatever it changed before
	// failing is put back from the journal.
	if (auto r = rcvgov::journal::restore_file(journal_path); !r)
		spdlog::critical("restoring after the failure: {}", r.error().message);
	return 1;
}
