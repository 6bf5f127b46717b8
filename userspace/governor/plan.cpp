#include "governor/plan.h"

#include <algorithm>

namespace rcvgov::governor {

uint32_t clamp_for(const SocketInfo &s)
{
	uint32_t base = s.autotuned_rcvbuf ? s.autotuned_rcvbuf : s.rcvbuf;
	return std::max<uint32_t>(base / 2, 2304);
}

enforce::Target target_of(const SocketInfo &s, bool position_is_seq)
{
	enforce::Target t;
	t.cookie = s.cookie;
	t.netns_cookie = s.owner.netns_cookie;
	t.local = s.local;
	t.peer = s.peer;
	t.state = s.state;
	t.copied_seq = s.copied_seq;
	t.position_is_seq = position_is_seq;
	t.owner_pid = s.owner.pid;
	t.owner_ino = s.owner.ino;
	return t;
}

Plan plan(std::span<const tracker::Decision> decisions, const SocketTable &table,
	  const PlanOptions &opts)
{
	Plan p;
	for (size_t i = 0; i < decisions.size(); ++i) {
		const tracker::Decision &d = decisions[i];
		const SocketInfo *s = table.find(d.cookie);
		if (!s) {
			p.settled.push_back({i, tracker::Outcome::Gone, "socket gone"});
			continue;
		}
		enforce::Action a;
		a.target = target_of(*s, opts.position_is_seq);
		if (d.action == tracker::Action::Clamp) {
			if (!opts.ladder.clamp) {
				p.settled.push_back(
					{i, tracker::Outcome::Skipped, "ladder.clamp is off"});
				continue;
			}
			a.kind = enforce::Kind::Clamp;
			a.window_clamp = clamp_for(*s);
			// Freeze sk_rcvbuf where it is now: what the socket already
			// holds stays (no data is thrown away), but it cannot grow.
			a.rcvbuf_lock = std::max(s->rcvbuf, s->autotuned_rcvbuf);
		} else {
			if (!opts.ladder.reclaim) {
				p.settled.push_back(
					{i, tracker::Outcome::Skipped, "ladder.reclaim is off"});
				continue;
			}
			a.kind = enforce::Kind::Destroy;
		}
		p.steps.push_back({i, a});
	}
	return p;
}

} // namespace rcvgov::governor
