#include "daemon/scan_gate.h"

#include <charconv>
#include <fstream>
#include <sstream>
#include <unistd.h>

namespace rcvgov {

GateDecision decide_scan(const GateInput &in)
{
	if (!in.events_live)
		return {true, "no BPF events"};
	if (in.resync_ns == 0)
		return {true, "every tick (daemon.resync_ms = 0)"};
	if (!in.tcp_memory)
		return {true, "TCP memory unreadable"};
	if (*in.tcp_memory >= in.quiet_below)
		return {true, "TCP memory at or above the smallest limit"};
	if (in.governor_busy)
		return {true, "decisions in progress"};
	if (in.since_full_ns >= in.resync_ns)
		return {true, "resync"};
	return {false, "quiet: TCP memory below every limit"};
}

Result<uint64_t> parse_sockstat_tcp_pages(std::string_view text)
{
	// "TCP: inuse 5 orphan 0 tw 0 alloc 7 mem 1"
	size_t at = 0;
	while (at < text.size()) {
		size_t eol = text.find('\n', at);
		std::string_view line =
			text.substr(at, eol == std::string_view::npos ? text.npos : eol - at);
		at = eol == std::string_view::npos ? text.size() : eol + 1;
		if (!line.starts_with("TCP:"))
			continue;
		size_t m = line.find(" mem ");
		if (m == std::string_view::npos)
			break;
		std::string_view num = line.substr(m + 5);
		uint64_t v = 0;
		auto [p, ec] = std::from_chars(num.data(), num.data() + num.size(), v);
		if (ec != std::errc() || p == num.data())
			break;
		return v;
	}
	return Error::msg("no \"TCP: ... mem N\" line in /proc/net/sockstat");
}

Result<uint64_t> read_tcp_memory()
{
	std::ifstream f("/proc/net/sockstat");
	if (!f)
		return Error::sys(errno, "open /proc/net/sockstat");
	std::stringstream ss;
	ss << f.rdbuf();
	Result<uint64_t> pages = parse_sockstat_tcp_pages(ss.str());
	if (!pages)
		return pages.error();
	return *pages * static_cast<uint64_t>(sysconf(_SC_PAGESIZE));
}

} // namespace rcvgov
