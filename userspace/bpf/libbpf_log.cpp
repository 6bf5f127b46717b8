#include "bpf/libbpf_log.h"

#include <algorithm>
#include <bpf/libbpf.h>
#include <cstdarg>
#include <cstdio>
#include <deque>
#include <spdlog/spdlog.h>

namespace rcvgov::bpf {

namespace {

std::deque<std::string> captured;
int quiet_depth = 0;
constexpr size_t capture_cap = 64;

int print_fn(enum libbpf_print_level level, const char *fmt, va_list args)
{
	char buf[1024];
	int n = std::vsnprintf(buf, sizeof(buf), fmt, args);
	if (n <= 0)
		return n;
	std::string line(buf);
	if (line.rfind("libbpf: ", 0) == 0)
		line.erase(0, 8);
	while (!line.empty() && line.back() == '\n')
		line.pop_back();
	if (level != LIBBPF_DEBUG) {
		if (captured.size() == capture_cap)
			captured.pop_front();
		captured.push_back(line);
	}
	if (quiet_depth > 0 || level == LIBBPF_DEBUG)
		spdlog::trace("libbpf: {}", line);
	else if (level == LIBBPF_WARN)
		spdlog::warn("libbpf: {}", line);
	else
		spdlog::debug("libbpf: {}", line);
	return n;
}

} // namespace

void install_libbpf_logger()
{
	libbpf_set_print(print_fn);
}

void libbpf_log_mark()
{
	captured.clear();
}

std::string libbpf_log_head(size_t max_lines)
{
	std::string out;
	size_t end = std::min(captured.size(), max_lines);
	for (size_t i = 0; i < end; ++i) {
		if (!out.empty())
			out += " | ";
		out += captured[i];
	}
	return out;
}

QuietLibbpf::QuietLibbpf()
{
	++quiet_depth;
}
QuietLibbpf::~QuietLibbpf()
{
	--quiet_depth;
}

} // namespace rcvgov::bpf
