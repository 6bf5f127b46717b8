#include "sources/diag_source.h"

#include <algorithm>

#include "netns/netns.h"
#include "sources/source.h"

namespace rcvgov {

SocketInfo DiagInference::infer(const diag::DiagSocket &d, const Seen *prev, uint64_t now_ns,
				Seen &next)
{
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
	s.updated_ns = now_ns;

	// tcpi_bytes_received counts what arrived in sequence, so it is never
	// below rqueue; 0 means the kernel did not send it.
	next.position_known = d.bytes_received != 0 || d.rqueue == 0;
	next.position = d.reader_position();
	s.copied_seq = static_cast<uint32_t>(next.position);

	if (!prev) {
		s.autotuned_rcvbuf = s.rcvbuf;
		if (s.rmem_alloc > s.rcvbuf) {
			s.overshoots = 1;
			s.max_overshoot = s.rmem_alloc - s.rcvbuf;
		}
		if (d.rqueue != 0) {
			// Data was already queued: stalled at least since now.
			s.stalled_since_ns = now_ns;
			s.age_lower_bound = true;
		}
	} else {
		s.autotuned_rcvbuf = prev->autotuned_rcvbuf;
		s.inflations = prev->inflations;
		s.inflation_bytes = prev->inflation_bytes;
		s.overshoots = prev->overshoots;
		s.max_overshoot = prev->max_overshoot;
		if (s.rcvbuf > prev->rcvbuf) {
			if (s.rmem_alloc > prev->rcvbuf || prev->rmem_alloc >= prev->rcvbuf) {
				s.inflations++;
				s.inflation_bytes += s.rcvbuf - prev->rcvbuf;
			} else {
				s.autotuned_rcvbuf = s.rcvbuf;
			}
		} else if (s.rcvbuf < s.autotuned_rcvbuf) {
			s.autotuned_rcvbuf = s.rcvbuf; // SO_RCVBUF or a shrink
		}
		if (s.rmem_alloc > s.rcvbuf) {
			s.overshoots++;
			s.max_overshoot = std::max(s.max_overshoot, s.rmem_alloc - s.rcvbuf);
		}

		const bool progressed = next.position_known && prev->position_known &&
					next.position != prev->position;
		if (d.rqueue == 0) {
			// Nothing waits: not stalled.
		} else if (progressed) {
			// The reader moved since the last dump: the clock restarts.
			s.stalled_since_ns = now_ns;
		} else if (prev->stalled_since_ns != 0) {
			s.stalled_since_ns = prev->stalled_since_ns;
			s.age_lower_bound = prev->lower_bound;
		} else {
			// Data waits, and the reader has not moved since the last dump.
			s.stalled_since_ns = now_ns;
		}
	}
	next.rcvbuf = s.rcvbuf;
	next.rmem_alloc = s.rmem_alloc;
	next.autotuned_rcvbuf = s.autotuned_rcvbuf;
	next.inflations = s.inflations;
	next.inflation_bytes = s.inflation_bytes;
	next.overshoots = s.overshoots;
	next.max_overshoot = s.max_overshoot;
	next.stalled_since_ns = s.stalled_since_ns;
	next.lower_bound = s.age_lower_bound;
	return s;
}

void DiagInference::apply(const std::vector<diag::DiagSocket> &dump, uint64_t netns_cookie,
			  uint64_t now_ns, const std::function<void(SocketInfo &&)> &sink)
{
	Namespace &ns = namespaces_[netns_cookie];
	const uint64_t gen = ++ns.dumps;
	ns.sockets.reserve(dump.size());
	size_t stamped = 0;
	for (const auto &d : dump) {
		auto [it, inserted] = ns.sockets.try_emplace(d.cookie);
		Seen &slot = it->second;
		const Seen prev = slot; // infer() writes the slot it reads from
		stamped += slot.dump != gen;
		SocketInfo s = infer(d, inserted ? nullptr : &prev, now_ns, slot);
		slot.dump = gen;
		s.owner.netns_cookie = netns_cookie;
		sink(std::move(s));
	}
	// Cookies this dump did not show are gone.
	if (ns.sockets.size() != stamped)
		std::erase_if(ns.sockets, [&](const auto &kv) { return kv.second.dump != gen; });
	ns.last_dump_ns = now_ns;
	std::erase_if(namespaces_, [&](const auto &kv) {
		return now_ns > kv.second.last_dump_ns + kForgetNamespaceNs;
	});
}

size_t DiagInference::tracked() const
{
	size_t n = 0;
	for (const auto &[cookie, ns] : namespaces_)
		n += ns.sockets.size();
	return n;
}

namespace {

class DiagSource final : public SnapshotSource {
public:
	std::string_view name() const override { return "sock_diag"; }

	Status collect(SocketTable &table, uint64_t now_ns) override
	{
		Result<uint64_t> netns_cookie = netns::current_cookie();
		if (!netns_cookie)
			return netns_cookie.error().wrap("sock_diag source");
		// The dump's vector is kept between calls: a dump of 100 k sockets
		// reuses its ~10 MB instead of growing (and faulting in) new ones.
		if (Status st = diag::dump_tcp(dump_); !st)
			return st; // history kept: this dump did not complete
		inference_.apply(dump_, *netns_cookie, now_ns,
				 [&](SocketInfo &&s) { table.upsert(std::move(s)); });
		return {};
	}

private:
	DiagInference inference_;
	std::vector<diag::DiagSocket> dump_;
};

} // namespace

std::unique_ptr<SnapshotSource> make_diag_source()
{
	return std::make_unique<DiagSource>();
}

} // namespace rcvgov
