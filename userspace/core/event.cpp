#include "core/event.h"

#include <cstring>

#include "core/abi.h"

namespace rcvgov {

std::string_view event_type_name(EventType t)
{
	switch (t) {
	case EventType::Inflation: return "inflation";
	case EventType::Overshoot: return "overshoot";
	case EventType::Established: return "established";
	case EventType::Closed: return "closed";
	}
	return "unknown";
}

std::optional<EventType> event_type_from_name(std::string_view name)
{
	for (auto t : {EventType::Inflation, EventType::Overshoot, EventType::Established,
		       EventType::Closed})
		if (event_type_name(t) == name)
			return t;
	return std::nullopt;
}

std::string_view source_name(uint32_t source)
{
	switch (source) {
	case RCVGOV_SRC_FEXIT_TCP_TRY_COALESCE: return "fexit/tcp_try_coalesce";
	case RCVGOV_SRC_TP_TCP_PROBE: return "tp_btf/tcp_probe";
	case RCVGOV_SRC_FEXIT_TCP_CLAMP_WINDOW: return "fexit/tcp_clamp_window";
	case RCVGOV_SRC_FEXIT_TCP_TRY_RMEM_SCHEDULE: return "fexit/tcp_try_rmem_schedule";
	case RCVGOV_SRC_TP_TCP_RCVBUF_GROW: return "tp_btf/tcp_rcvbuf_grow";
	case RCVGOV_SRC_TP_TCP_RCV_SPACE_ADJUST: return "tp_btf/tcp_rcv_space_adjust";
	case RCVGOV_SRC_TP_SOCK_RECV_LENGTH: return "tp_btf/sock_recv_length";
	case RCVGOV_SRC_TP_INET_SOCK_SET_STATE: return "tp_btf/inet_sock_set_state";
	case RCVGOV_SRC_ITER_TCP: return "iter/tcp";
	case RCVGOV_SRC_TP_TCP_RCVBUF_PRUNE: return "tp_btf/tcp_rcvbuf_prune";
	default: return "unknown";
	}
}

namespace {

void copy_endpoints(const rcvgov_sock_id &id, Endpoint &local, Endpoint &peer)
{
	local.family = peer.family = id.family;
	std::memcpy(local.addr.data(), id.saddr, 16);
	std::memcpy(peer.addr.data(), id.daddr, 16);
	local.port = id.sport;
	peer.port = id.dport;
}

Owner copy_owner(const rcvgov_owner &o)
{
	Owner r;
	r.cgroup_id = o.cgroup_id;
	r.netns_cookie = o.netns_cookie;
	r.pid = o.pid;
	r.ino = o.ino;
	// The kernel NUL-terminates comm, but a bound costs nothing.
	r.comm.assign({o.comm, strnlen(o.comm, sizeof(o.comm))});
	return r;
}

bool family_ok(uint16_t family)
{
	return family == 2 || family == 10;
}

} // namespace

Result<Event> decode_event(std::span<const uint8_t> bytes)
{
	if (bytes.size() != sizeof(rcvgov_event))
		return Error::msg("event of " + std::to_string(bytes.size()) + " bytes, expected " +
					  std::to_string(sizeof(rcvgov_event)) +
					  ": BPF object and daemon are from different builds",
				  EBADMSG);
	rcvgov_event raw;
	std::memcpy(&raw, bytes.data(), sizeof(raw));
	if (raw.type < RCVGOV_EV_INFLATION || raw.type > RCVGOV_EV_CLOSED)
		return Error::msg("unknown event type " + std::to_string(raw.type), EBADMSG);
	if (!family_ok(raw.id.family))
		return Error::msg("event with address family " + std::to_string(raw.id.family),
				  EBADMSG);
	Event e;
	e.type = static_cast<EventType>(raw.type);
	e.source = raw.source;
	e.ts_ns = raw.ts_ns;
	e.cookie = raw.id.cookie;
	copy_endpoints(raw.id, e.local, e.peer);
	e.owner = copy_owner(raw.owner);
	e.rmem_alloc = raw.rmem_alloc;
	e.rcvbuf_before = raw.rcvbuf_before;
	e.rcvbuf_after = raw.rcvbuf_after;
	e.autotuned_rcvbuf = raw.autotuned_rcvbuf;
	e.inflations = raw.inflations;
	e.inflation_bytes = raw.inflation_bytes;
	e.overshoots = raw.overshoots;
	e.rcv_wscale = raw.rcv_wscale;
	return e;
}

Status decode_snapshot(std::span<const uint8_t> bytes,
		       const std::function<void(SocketInfo &&)> &sink)
{
	constexpr size_t kRec = sizeof(rcvgov_snapshot_rec);
	if (bytes.size() % kRec != 0)
		return Error::msg("snapshot of " + std::to_string(bytes.size()) +
					  " bytes is not a whole number of " +
					  std::to_string(kRec) + "-byte records",
				  EBADMSG);
	for (size_t off = 0; off < bytes.size(); off += kRec) {
		rcvgov_snapshot_rec r;
		std::memcpy(&r, bytes.data() + off, kRec);
		if (!family_ok(r.id.family))
			return Error::msg("snapshot record " + std::to_string(off / kRec) +
						  " has address family " +
						  std::to_string(r.id.family),
					  EBADMSG);
		SocketInfo s;
		s.cookie = r.id.cookie;
		copy_endpoints(r.id, s.local, s.peer);
		s.owner = copy_owner(r.owner);
		s.state = r.state;
		s.rmem_alloc = r.rmem_alloc;
		s.rcvbuf = r.rcvbuf;
		s.autotuned_rcvbuf = r.autotuned_rcvbuf;
		s.inflations = r.inflations;
		s.inflation_bytes = r.inflation_bytes;
		s.overshoots = r.overshoots;
		s.max_overshoot = r.max_overshoot;
		s.unread = r.unread;
		s.rcv_wnd = r.rcv_wnd;
		s.window_clamp = r.window_clamp;
		s.rcv_wscale = r.rcv_wscale;
		s.stalled_since_ns = r.stalled_since_ns;
		s.copied_seq = r.copied_seq;
		s.age_lower_bound = r.flags & RCVGOV_F_AGE_LOWER;
		s.updated_ns = r.now_ns;
		sink(std::move(s));
	}
	return {};
}

} // namespace rcvgov
