#include "core/format.h"

#include <arpa/inet.h>
#include <cstdio>

namespace rcvgov {

std::string format_endpoint(const Endpoint &ep)
{
	char buf[INET6_ADDRSTRLEN] = "?";
	if (ep.family == AF_INET6) {
		inet_ntop(AF_INET6, ep.addr.data(), buf, sizeof(buf));
		return "[" + std::string(buf) + "]:" + std::to_string(ep.port);
	}
	inet_ntop(AF_INET, ep.addr.data(), buf, sizeof(buf));
	return std::string(buf) + ":" + std::to_string(ep.port);
}

std::string format_bytes(uint64_t bytes)
{
	static constexpr const char *units[] = {"B", "K", "M", "G", "T"};
	double v = static_cast<double>(bytes);
	size_t u = 0;
	while (v >= 1024.0 && u + 1 < std::size(units)) {
		v /= 1024.0;
		++u;
	}
	char buf[32];
	if (u == 0)
		std::snprintf(buf, sizeof(buf), "%llu%s", static_cast<unsigned long long>(bytes),
			      units[u]);
	else
		std::snprintf(buf, sizeof(buf), "%.1f%s", v, units[u]);
	return buf;
}

std::string_view tcp_state_name(uint8_t state)
{
	static constexpr std::string_view names[] = {
		"UNKNOWN",   "ESTABLISHED", "SYN_SENT",	   "SYN_RECV",	 "FIN_WAIT1",
		"FIN_WAIT2", "TIME_WAIT",   "CLOSE",	   "CLOSE_WAIT", "LAST_ACK",
		"LISTEN",    "CLOSING",	    "NEW_SYN_RECV"};
	return state < std::size(names) ? names[state] : "UNKNOWN";
}

nlohmann::json to_json(const Owner &o)
{
	nlohmann::json j = {{"cgroup_id", o.cgroup_id}, {"netns_cookie", o.netns_cookie}};
	j["pid"] = o.pid ? nlohmann::json(o.pid) : nlohmann::json(nullptr);
	j["comm"] = o.pid ? nlohmann::json(std::string(o.comm.view())) : nlohmann::json(nullptr);
	j["ino"] = o.ino ? nlohmann::json(o.ino) : nlohmann::json(nullptr);
	return j;
}

nlohmann::json to_json(const SocketInfo &s, uint64_t now_ns)
{
	return {
		{"cookie", s.cookie},
		{"family", s.local.family == AF_INET6 ? "ipv6" : "ipv4"},
		{"local", format_endpoint(s.local)},
		{"peer", format_endpoint(s.peer)},
		{"state", tcp_state_name(s.state)},
		{"rmem_alloc", s.rmem_alloc},
		{"rcvbuf", s.rcvbuf},
		{"autotuned_rcvbuf", s.autotuned_rcvbuf},
		{"inflations", s.inflations},
		{"inflation_bytes", s.inflation_bytes},
		{"overshoots", s.overshoots},
		{"max_overshoot", s.max_overshoot},
		{"unread", s.unread},
		{"copied_seq", s.copied_seq},
		{"stall_ms", s.stall_ms(now_ns)},
		{"data_age_lower_bound", s.age_lower_bound},
		{"inflated", s.inflated()},
		{"rcv_wscale", s.rcv_wscale},
		{"rcv_wnd", s.rcv_wnd},
		{"window_clamp", s.window_clamp},
		{"owner", to_json(s.owner)},
	};
}

nlohmann::json to_json(const Event &e)
{
	return {
		{"type", event_type_name(e.type)},
		{"source", source_name(e.source)},
		{"ts_ns", e.ts_ns},
		{"cookie", e.cookie},
		{"local", format_endpoint(e.local)},
		{"peer", format_endpoint(e.peer)},
		{"rmem_alloc", e.rmem_alloc},
		{"rcvbuf_before", e.rcvbuf_before},
		{"rcvbuf_after", e.rcvbuf_after},
		{"autotuned_rcvbuf", e.autotuned_rcvbuf},
		{"inflations", e.inflations},
		{"inflation_bytes", e.inflation_bytes},
		{"overshoots", e.overshoots},
		{"rcv_wscale", e.rcv_wscale},
		{"owner", to_json(e.owner)},
	};
}

} // namespace rcvgov
