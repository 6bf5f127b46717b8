// The daemon's live view of TCP sockets: a plain store. Snapshot sources
// (sources/) upsert every socket of every network namespace once per round;
// ring buffer events are applied in between so inflations show up without
// waiting for the next round. Any inference that needs history (sock_diag)
// lives in the source, not here.
#pragma once

#include <array>
#include <cstdint>
#include <deque>
#include <unordered_map>
#include <vector>

#include "core/event.h"
#include "core/socket_info.h"

namespace rcvgov {

class SocketTable {
public:
	explicit SocketTable(size_t recent_events_cap = 512) : recent_cap_(recent_events_cap) {}

	// A round is one full snapshot over every network namespace. Sockets
	// not seen in a completed round are gone (their close was missed).
	void begin_round() { ++round_; }
	void upsert(SocketInfo s);
	size_t end_round();
	// Forgets one socket now (destroyed, or known gone).
	void erase(uint64_t cookie) { map_.erase(cookie); }

	void apply(const Event &e);
	// True the first time for a socket in the table, false after (and for
	// one not in the table): its first inflation is worth an info line. The
	// mark goes with the socket's entry, so it cannot outlive the socket.
	bool first_inflation_log(uint64_t cookie);

	// The sockets holding the most receive memory, most first (ties: lower
	// cookie first): `limit` of them after skipping the first `skip` (one
	// page). O(n log(skip + limit)) time; the table is not copied: a heap
	// of skip + limit pointers, and only the page is copied out.
	std::vector<SocketInfo> top_by_rmem(size_t limit, size_t skip = 0) const;
	const SocketInfo *find(uint64_t cookie) const;
	template <class F> void for_each(F &&fn) const
	{
		for (const auto &[cookie, e] : map_)
			fn(e.info);
	}
	size_t size() const { return map_.size(); }
	// Bytes per entry in the hash table's node (the allocator adds its own
	// header) plus the bucket array; for the memory figures.
	static constexpr size_t node_bytes()
	{
		return sizeof(void *) + sizeof(std::pair<const uint64_t, Entry>);
	}
	size_t bucket_count() const { return map_.bucket_count(); }
	// The most recent events of one type (each type has its own bound, so
	// frequent overshoots cannot push the rarer inflations out).
	const std::deque<Event> &recent_events(EventType t) const;

private:
	struct Entry {
		SocketInfo info;
		uint64_t round = 0; // the last round that saw it (or made it, by an event)
		bool inflation_logged = false;
	};
	void remember(const Event &e);

	std::unordered_map<uint64_t, Entry> map_;
	uint64_t round_ = 0;
	std::array<std::deque<Event>, 5> recent_; // indexed by EventType
	size_t recent_cap_;
};

} // namespace rcvgov
