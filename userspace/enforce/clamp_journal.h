// What rcvgovd changed on sockets, so it can be put back: for every socket
// it clamped, the window clamp it had before and where it lives. Entries
// go when their socket goes (forget), so the journal is bounded by the
// sockets that exist. (tcp_shrink_window values are kept by NetnsSysctl.)
#pragma once

#include <cstdint>
#include <unordered_map>
#include <vector>

#include "enforce/actuator.h"

namespace rcvgov::enforce {

class ClampJournal {
public:
	void clamped(const Target &t, uint32_t window_clamp_before)
	{
		// The first value is the one to put back: a socket clamped again
		// (after its state was rebuilt) already has our clamp.
		entries_.try_emplace(t.cookie, Entry{t, window_clamp_before});
	}
	void forget(uint64_t cookie) { entries_.erase(cookie); }
	size_t size() const { return entries_.size(); }
	// One RestoreClamp per clamped socket.
	std::vector<Action> restore_actions() const
	{
		std::vector<Action> out;
		out.reserve(entries_.size());
		for (const auto &[cookie, e] : entries_)
			out.push_back({Kind::RestoreClamp, e.target, e.before, 0});
		return out;
	}

private:
	struct Entry {
		Target target;
		uint32_t before = 0;
	};
	std::unordered_map<uint64_t, Entry> entries_;
};

} // namespace rcvgov::enforce
