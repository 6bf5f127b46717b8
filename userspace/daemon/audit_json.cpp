#include "daemon/audit_json.h"

#include <cerrno>
#include <fstream>
#include <sstream>

#include "core/format.h"
#include "diag/sock_diag.h"

namespace rcvgov {

namespace {

nlohmann::json or_null(bool known, uint64_t v)
{
	return known ? nlohmann::json(v) : nlohmann::json(nullptr);
}

// The socket of a sample request, or null.
const SocketInfo *find_socket(const control::Request &r, const SocketTable &table)
{
	if (r.cookie)
		return table.find(r.cookie);
	const SocketInfo *best = nullptr;
	table.for_each([&](const SocketInfo &s) {
		if (s.local.port == r.port && s.state == diag::kTcpEstablished &&
		    (!best || s.rmem_alloc > best->rmem_alloc))
			best = &s;
	});
	return best;
}

// What diag::lookup() finds a socket by.
diag::DiagSocket diag_key(const SocketInfo &s)
{
	return {.cookie = s.cookie,
		.family = s.local.family,
		.saddr = s.local.addr,
		.daddr = s.peer.addr,
		.sport = s.local.port,
		.dport = s.peer.port,
		.state = s.state};
}

struct Fresh {
	diag::DiagSocket sock;
	std::map<std::string, uint64_t> tcp_ext;
};

// Inside the socket's namespace: the socket, and the namespace's counters
// (/proc/thread-self/net is the calling thread's namespace).
Result<Fresh> read_fresh(const SocketInfo &s)
{
	Result<diag::DiagSocket> d = diag::lookup(diag_key(s));
	if (!d)
		return d.error();
	Fresh f{*d, {}};
	std::ifstream in("/proc/thread-self/net/netstat");
	std::stringstream text;
	text << in.rdbuf();
	f.tcp_ext = parse_netstat(text.str());
	return f;
}

} // namespace

nlohmann::json action_json(const governor::ActionRecord &r)
{
	nlohmann::json j = {
		{"type", std::string(control::action_event_type)},
		{"seq", r.seq},
		{"time", governor::rfc3339_ms(r.wall_ns)},
		{"wall_ms", r.wall_ns / 1000000},
		{"action", r.action},
		{"result", std::string(governor::to_string(r.result))},
		{"reason", r.reason},
		{"path", r.path},
		{"cookie", r.cookie},
		{"netns_cookie", r.netns_cookie},
		{"local", r.local},
		{"peer", r.peer},
		{"scope", r.scope},
		{"scope_key", r.scope_key},
		{"service", r.service},
		{"limit", r.limit},
		{"scope_usage", r.scope_usage},
		{"usage", r.usage},
		{"data_age_ms", or_null(r.data_age_ms.has_value(), r.data_age_ms.value_or(0))},
		{"data_age_lower_bound", r.data_age_lower_bound},
	};
	if (r.action == "clamp") {
		j["window_clamp_before"] = r.before;
		j["window_clamp"] = r.after;
		j["rcvbuf_locked"] = r.rcvbuf_locked;
	} else if (r.action == "destroy") {
		j["freed"] = r.before;
	}
	if (!r.via.empty())
		j["via"] = r.via;
	if (r.errnum)
		j["errno"] = r.errnum;
	if (!r.error.empty())
		j["error"] = r.error;
	return j;
}

nlohmann::json actions_page(const governor::ActionLog &log, const control::Request &r)
{
	const size_t n = log.size();
	auto [skip, upto] = control::page_bounds(r, n);
	nlohmann::json arr = nlohmann::json::array();
	for (size_t i = n - upto; i < n - skip; ++i)
		arr.push_back(action_json(log.at(i)));
	return control::make_page(std::move(arr), skip, n);
}

void annotate_socket(nlohmann::json &row, const SocketInfo &s, const governor::Governor &g)
{
	const std::string_view state = g.state_of(s.cookie);
	row["enforcement"] = state;
	row["clamped"] = state == "clamped";
	// Every clamp locks sk_rcvbuf (governor/plan.cpp).
	row["rcvbuf_locked"] = state == "clamped";
	row["service"] = g.service_of(s);
}

std::map<std::string, uint64_t> parse_netstat(std::string_view text)
{
	std::map<std::string, uint64_t> out;
	std::istringstream in{std::string(text)};
	std::string names, values;
	while (std::getline(in, names) && std::getline(in, values)) {
		std::istringstream n(names), v(values);
		std::string prefix, vprefix, name, value;
		n >> prefix;
		v >> vprefix;
		if (prefix != "TcpExt:" || vprefix != prefix)
			continue;
		while (n >> name && v >> value) {
			try {
				out[name] = std::stoull(value);
			} catch (const std::exception &) {
				// not a counter: skipped
			}
		}
	}
	return out;
}

Result<nlohmann::json> sample_json(const control::Request &r, const SocketTable &table,
				   const netns::Registry &registry, const governor::Governor &g)
{
	const SocketInfo *s = find_socket(r, table);
	if (!s)
		return Error::msg(r.cookie ? "no socket with cookie " + std::to_string(r.cookie)
					   : "no established socket on local port " +
						     std::to_string(r.port),
				  ENOENT);
	nlohmann::json j = {{"cookie", s->cookie},
			    {"netns_cookie", s->owner.netns_cookie},
			    {"local", format_endpoint(s->local)},
			    {"peer", format_endpoint(s->peer)}};
	Result<Fresh> fresh = Error::msg("its namespace is not held", ENOENT);
	if (const netns::Namespace *ns = registry.find(s->owner.netns_cookie))
		fresh = netns::run_in(*ns, [&] { return read_fresh(*s); });
	if (fresh) {
		const diag::DiagSocket &d = fresh->sock;
		auto counter = [&](const char *name) {
			auto it = fresh->tcp_ext.find(name);
			return it == fresh->tcp_ext.end() ? nlohmann::json(nullptr)
							  : nlohmann::json(it->second);
		};
		j["source"] = "sock_diag";
		j["state"] = tcp_state_name(d.state);
		j["r"] = d.rmem_alloc;
		j["rb"] = d.rcvbuf;
		j["rcv_space"] = d.rcv_space;
		j["rcv_ssthresh"] = d.rcv_ssthresh;
		j["rcv_wnd"] = or_null(d.has_rcv_wnd, d.rcv_wnd);
		j["recv_q"] = d.rqueue;
		j["bytes_received"] = d.bytes_received;
		j["drops"] = d.drops;
		j["want_zero_win"] = counter("TCPWantZeroWindowAdv");
		j["to_zero_win"] = counter("TCPToZeroWindowAdv");
		j["prune_called"] = counter("PruneCalled");
		j["rcv_pruned"] = counter("RcvPruned");
		j["zero_window"] = d.has_rcv_wnd ? nlohmann::json(d.rcv_wnd == 0) : nullptr;
	} else if (fresh.error().errnum == ENOENT && registry.find(s->owner.netns_cookie)) {
		// sock_diag no longer knows it: closed since the table saw it.
		return Error::msg("socket " + std::to_string(s->cookie) + " is gone", ENOENT);
	} else {
		// As the table saw it last; fields it does not have are null.
		j["source"] = "table";
		j["source_error"] = fresh.error().message;
		j["state"] = tcp_state_name(s->state);
		j["r"] = s->rmem_alloc;
		j["rb"] = s->rcvbuf;
		j["rcv_wnd"] = s->rcv_wnd;
		j["recv_q"] = s->unread;
		j["zero_window"] = s->rcv_wnd == 0;
		for (const char *k : {"rcv_space", "rcv_ssthresh", "bytes_received", "drops",
				      "want_zero_win", "to_zero_win", "prune_called", "rcv_pruned"})
			j[k] = nullptr;
	}
	j["enforcement"] = g.state_of(s->cookie);
	j["service"] = g.service_of(*s);
	const governor::ActionRecord *last = g.actions().latest_for(s->cookie);
	j["last_action"] = last ? action_json(*last) : nlohmann::json(nullptr);
	return j;
}

} // namespace rcvgov
