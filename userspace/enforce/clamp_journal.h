// What rcvgovd changed on sockets, so it can be put back: for every socket
// it clamped, the window clamp it had before and where it lives. Entries
// go when their socket goes (forget), so the journal is bounded by the
// sockets that exist. Kept in a journal::Journal: in memory only, or the
// crash-safe file under the runtime dir when one is attached (then
// intend() + commit() come before the kernel write, so a kill -9 at any
// point leaves what is needed to put the clamp back). tcp_shrink_window
// values are kept by NetnsSysctl, in the same journal.
#pragma once

#include <cstdint>
#include <vector>

#include "enforce/actuator.h"
#include "journal/journal.h"

namespace rcvgov::enforce {

class ClampJournal {
public:
	ClampJournal() = default;
	ClampJournal(const ClampJournal &) = delete;
	ClampJournal &operator=(const ClampJournal &) = delete;

	// `j` outlives this; nullptr: back to the in-memory journal.
	void attach(journal::Journal *j) { j_ = j ? j : &mem_; }
	journal::Journal &journal() { return *j_; }

	// Before the kernel write: the clamp to come and the value it will
	// replace as last seen. A socket already clamped keeps its first value.
	void intend(const Target &t, uint32_t window_clamp_before, uint32_t window_clamp)
	{
		j_->note_clamp({.cookie = t.cookie,
				.netns = t.netns_cookie,
				.local = t.local,
				.peer = t.peer,
				.before = window_clamp_before,
				.set = window_clamp,
				.done = false});
	}
	void clamped(const Target &t, uint32_t window_clamp_before)
	{
		// The first value is the one to put back: a socket clamped again
		// (after its state was rebuilt) already has our clamp.
		intend(t, window_clamp_before, 0);
		j_->clamp_done(t.cookie, window_clamp_before);
	}
	void forget(uint64_t cookie) { j_->drop_clamp(cookie); }
	size_t size() const { return j_->contents().clamps.size(); }
	// Writes the file when one is attached and something changed.
	Status commit() { return j_->commit(); }
	// One RestoreClamp per clamped socket.
	std::vector<Action> restore_actions() const
	{
		std::vector<Action> out;
		out.reserve(size());
		for (const auto &[cookie, e] : j_->contents().clamps) {
			Target t;
			t.cookie = e.cookie;
			t.netns_cookie = e.netns;
			t.local = e.local;
			t.peer = e.peer;
			out.push_back({Kind::RestoreClamp, t, e.before, 0});
		}
		return out;
	}

private:
	journal::Journal mem_;
	journal::Journal *j_ = &mem_;
};

} // namespace rcvgov::enforce
