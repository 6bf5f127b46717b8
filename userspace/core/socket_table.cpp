#include "core/socket_table.h"

#include <algorithm>

namespace rcvgov {

void SocketTable::upsert(SocketInfo s)
{
	auto &e = map_[s.cookie];
	// A snapshot of a socket that predates the programs has no task owner;
	// keep one an event already told us.
	if (s.owner.pid == 0 && e.info.cookie == s.cookie && e.info.owner.pid != 0) {
		s.owner.pid = e.info.owner.pid;
		s.owner.comm = e.info.owner.comm;
	}
	e.info = std::move(s);
	e.round = round_;
}

size_t SocketTable::end_round()
{
	return std::erase_if(map_, [&](const auto &kv) { return kv.second.round != round_; });
}

void SocketTable::remember(const Event &e)
{
	auto &ring = recent_.at(static_cast<size_t>(e.type));
	if (recent_cap_ == 0)
		return;
	if (ring.size() == recent_cap_)
		ring.pop_front();
	ring.push_back(e);
}

void SocketTable::apply(const Event &e)
{
	remember(e);
	if (e.type == EventType::Closed) {
		map_.erase(e.cookie);
		return;
	}
	auto [it, inserted] = map_.try_emplace(e.cookie);
	SocketInfo &s = it->second.info;
	if (inserted) {
		it->second.round = round_;
		s.cookie = e.cookie;
		s.state = 1; // TCP_ESTABLISHED: every event is about a live socket
		s.autotuned_rcvbuf = e.autotuned_rcvbuf;
	}
	s.local = e.local;
	s.peer = e.peer;
	if (e.owner.pid != 0 || s.owner.pid == 0)
		s.owner = e.owner;
	s.rmem_alloc = e.rmem_alloc;
	s.rcvbuf = e.rcvbuf_after;
	s.autotuned_rcvbuf = e.autotuned_rcvbuf;
	s.inflations = std::max(s.inflations, e.inflations);
	s.inflation_bytes = std::max(s.inflation_bytes, e.inflation_bytes);
	s.overshoots = std::max(s.overshoots, e.overshoots);
	s.rcv_wscale = e.rcv_wscale;
	s.updated_ns = e.ts_ns;
}

std::vector<SocketInfo> SocketTable::top_by_rmem(size_t limit) const
{
	std::vector<SocketInfo> v;
	v.reserve(map_.size());
	for (const auto &[cookie, e] : map_)
		v.push_back(e.info);
	auto by_rmem = [](const SocketInfo &a, const SocketInfo &b) {
		if (a.rmem_alloc != b.rmem_alloc)
			return a.rmem_alloc > b.rmem_alloc;
		return a.cookie < b.cookie;
	};
	if (limit < v.size()) {
		std::partial_sort(v.begin(), v.begin() + limit, v.end(), by_rmem);
		v.resize(limit);
	} else {
		std::sort(v.begin(), v.end(), by_rmem);
	}
	return v;
}

const std::deque<Event> &SocketTable::recent_events(EventType t) const
{
	return recent_.at(static_cast<size_t>(t));
}

const SocketInfo *SocketTable::find(uint64_t cookie) const
{
	auto it = map_.find(cookie);
	return it == map_.end() ? nullptr : &it->second.info;
}

} // namespace rcvgov
