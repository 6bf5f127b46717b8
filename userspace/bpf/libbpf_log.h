// Routes libbpf's messages to the daemon's log and keeps the most recent
// warnings, so a failed load can say why instead of just "-EINVAL".
#pragma once

#include <string>

namespace rcvgov::bpf {

void install_libbpf_logger();
// Clears the captured warnings (call before an operation).
void libbpf_log_mark();
// The first warnings captured since the last mark, joined by " | ".
std::string libbpf_log_head(size_t max_lines = 8);
// While alive, libbpf messages are captured but not logged (feature probes
// are expected to fail and must not alarm anyone).
class QuietLibbpf {
public:
	QuietLibbpf();
	~QuietLibbpf();
	QuietLibbpf(const QuietLibbpf &) = delete;
	QuietLibbpf &operator=(const QuietLibbpf &) = delete;
};

} // namespace rcvgov::bpf
