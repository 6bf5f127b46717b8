// rcvgovd's core: one thread, one epoll loop over the ring buffer, the
// snapshot timer, signals and the control socket.
#pragma once

#include <cstdint>
#include <memory>
#include <string>

namespace rcvgov {

struct DaemonOptions {
	std::string socket_path;
	uint32_t snapshot_interval_ms = 1000;
	uint32_t events_per_sec_per_socket = 20;
	bool force_sock_diag = false; // skip BPF entirely
	bool allow_fexit = true;
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
