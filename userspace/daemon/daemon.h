// rcvgovd's core: one thread, one epoll loop over the ring buffer, the
// snapshot timer, signals and the control socket.
#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include "config/config.h"

namespace rcvgov {

struct DaemonOptions {
	std::string socket_path;
	std::string config_path;      // reloaded on SIGHUP
	config::Config config;	      // already loaded and validated
	bool force_sock_diag = false; // skip BPF entirely
	bool allow_fexit = true;
	bool force_dry_run = false; // --dry-run, wins over the file on reload
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
