#include "daemon/diag_source.h"

#include <stdexcept>

#include "netns/netns.h"

#include "diag/sock_diag.h"

namespace rcvgov {

std::vector<SocketInfo> diag_snapshot(uint64_t now_ns)
{
	diag::DumpResult r = diag::dump_tcp();
	if (!r.ok())
		throw std::runtime_error(r.error.message);
	const uint64_t netns_cookie = netns::current_cookie();
	std::vector<SocketInfo> out;
	out.reserve(r.sockets.size());
	for (const auto &d : r.sockets) {
		SocketInfo s;
		s.cookie = d.cookie;
		s.local = Endpoint{d.family, d.saddr, d.sport};
		s.peer = Endpoint{d.family, d.daddr, d.dport};
		s.state = d.state;
		s.rmem_alloc = d.rmem_alloc;
		s.rcvbuf = d.rcvbuf;
		s.unread = d.rqueue;
		s.rcv_wscale = d.rcv_wscale;
		s.owner.cgroup_id = d.cgroup_id;
		s.owner.netns_cookie = netns_cookie;
		// A queue seen empty now; otherwise merge_diag keeps the older
		// "last empty" time, so the age grows while data sits unread.
		s.last_empty_ns = d.rqueue == 0 ? now_ns : 0;
		s.updated_ns = now_ns;
		out.push_back(std::move(s));
	}
	return out;
}

} // namespace rcvgov
