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

void SocketTable::merge_diag(SocketInfo s)
{
	auto it = map_.find(s.cookie);
	if (it == map_.end()) {
		s.autotuned_rcvbuf = s.rcvbuf;
		if (s.last_empty_ns == 0) {
			// Data was already queued: we only know it is at least this old.
			s.last_empty_ns = s.updated_ns;
			s.age_lower_bound = true;
		}
		map_[s.cookie] = Entry{std::move(s), round_};
		return;
	}
	const SocketInfo &old = it->second.info;
	s.autotuned_rcvbuf = old.autotuned_rcvbuf;
	s.inflations = old.inflations;
	s.inflation_bytes = old.inflation_bytes;
	s.overshoots = old.overshoots;
	s.max_overshoot = old.max_overshoot;
	s.owner.pid = old.owner.pid;
	s.owner.comm = old.owner.comm;
	if (s.last_empty_ns == 0) {
		s.last_empty_ns = old.last_empty_ns;
		s.age_lower_bound = old.age_lower_bound;
	}
	// tcp_clamp_window sets rcvbuf to rmem_alloc: a rise while the queue
	// held more than the old limit is the clamp; any other rise is
	// autotuning. Between two polls this is a heuristic, stated in docs.
	if (s.rcvbuf > old.rcvbuf) {
		if (s.rmem_alloc > old.rcvbuf || old.rmem_alloc >= old.rcvbuf) {
			s.inflations++;
			s.inflation_bytes += s.rcvbuf - old.rcvbuf;
		} else {
			s.autotuned_rcvbuf = s.rcvbuf;
		}
	} else if (s.rcvbuf < s.autotuned_rcvbuf) {
		s.autotuned_rcvbuf = s.rcvbuf;
	}
	if (s.rmem_alloc > s.rcvbuf) {
		s.overshoots++;
		s.max_overshoot = std::max(s.max_overshoot, s.rmem_alloc - s.rcvbuf);
	}
	it->second = Entry{std::move(s), round_};
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
		s.last_empty_ns = e.ts_ns;
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
