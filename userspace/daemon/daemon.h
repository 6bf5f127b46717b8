// rcvgovd's wiring: one thread, one epoll loop over the ring buffer, the
// snapshot and namespace timers, signals and the control socket. No
// decision is made here (see docs/architecture.md): sources fill the
// table, the governor decides and acts, control/ renders.
#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include "config/config.h"

namespace rcvgov {

struct DaemonOptions {
	std::string socket_path;
	std::string config_path;      // reloaded on SIGHUP
	bool config_explicit = false; // --config was given: a missing file is an error
	config::CliOverrides cli;     // applied again on every reload
	config::Config config;	      // assembled and validated
	bool force_sock_diag = false; // skip BPF entirely
	bool allow_fexit = true;
	// The crash-safe journal (<runtime dir>/journal); "" keeps it in
	// memory only.
	std::string journal_path;
};

class Daemon {
public:
	explicit Daemon(DaemonOptions opts);
	~Daemon();
	Daemon(const Daemon &) = delete;
	Daemon &operator=(const Daemon &) = delete;

	// Runs until SIGINT or SIGTERM. Returns the process exit code.
	int run();

private:
	struct Impl;
	std::unique_ptr<Impl> impl_;
};

} // namespace rcvgov
