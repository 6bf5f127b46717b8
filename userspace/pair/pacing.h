// Absolute-deadline pacing and a stop flag for the test pair programs:
// writes/reads happen at start + k * interval, so the rate does not drift
// when one step is slow (a blocked write catches up instead of shifting).
#pragma once

#include <chrono>
#include <cstdint>
#include <ctime>
#include <string>

namespace rcvgov::pair {

// SIGINT/SIGTERM set the flag and interrupt blocking calls (no SA_RESTART).
void install_stop_handlers();
bool stop_requested();

// Makes room for `needed` file descriptors (raising the soft RLIMIT_NOFILE
// up to the hard one if need be); "" on success, else why not, e.g.
// "--connections 30000 needs 30016 file descriptors; the limit is 20000".
std::string reserve_fds(const char *flag, uint64_t connections, uint64_t needed);

class Pacer {
public:
	explicit Pacer(std::chrono::nanoseconds interval);
	// Sleeps until the next deadline; false when a stop was requested.
	bool wait();
	// Time since construction.
	std::chrono::nanoseconds elapsed() const;

private:
	timespec start_{};
	timespec next_{};
	long long interval_ns_;
};

} // namespace rcvgov::pair
