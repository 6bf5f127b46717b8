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
		s.owner.ino = e.info.owner.ino;
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

bool SocketTable::first_inflation_log(uint64_t cookie)
{
	auto it = map_.find(cookie);
	if (it == map_.end() || it->second.inflation_logged)
		return false;
	it->second.inflation_logged = true;
	return true;
}

std::vector<SocketInfo> SocketTable::top_by_rmem(size_t limit, size_t skip) const
{
	if (limit == 0 || skip >= map_.size())
		return {};
	const size_t keep = skip + std::min(limit, map_.size() - skip);
	// "a before b": more memory, then the lower cookie.
	auto before = [](const SocketInfo *a, const SocketInfo *b) {
		if (a->rmem_alloc != b->rmem_alloc)
			return a->rmem_alloc > b->rmem_alloc;
		return a->cookie < b->cookie;
	};
	// A heap of the best `keep` so far with the worst of them on top.
	std::vector<const SocketInfo *> heap;
	heap.reserve(keep);
	for (const auto &[cookie, e] : map_) {
		if (heap.size() < keep) {
			heap.push_back(&e.info);
			std::push_heap(heap.begin(), heap.end(), before);
		} else if (before(&e.info, heap.front())) {
			std::pop_heap(heap.begin(), heap.end(), before);
			heap.back() = &e.info;
			std::push_heap(heap.begin(), heap.end(), before);
		}
	}
	std::sort_heap(heap.begin(), heap.end(), before);
	std::vector<SocketInfo> out;
	out.reserve(heap.size() - skip);
	for (size_t i = skip; i < heap.size(); ++i)
		out.push_back(*heap[i]);
	return out;
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
