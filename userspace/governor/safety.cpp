#include "governor/safety.h"

namespace rcvgov::governor {

namespace {

constexpr uint64_t minute_ns = 60'000'000'000ULL;

} // namespace

std::string_view to_string(Hold h)
{
	switch (h) {
	case Hold::None: return "none";
	case Hold::Allowlist: return "allowlist";
	case Hold::RoundBudget: return "round budget";
	case Hold::MinuteBudget: return "minute budget";
	case Hold::Pause: return "pause after destroy";
	}
	return "?";
}

void Safety::reconfigure(config::Allowlist allow, config::Safety rules)
{
	allow_ = std::move(allow);
	rules_ = rules;
	tripped_ = false;
	trip_reason_.clear();
}

bool Safety::allowlisted(const SocketInfo &s, std::string_view cgroup_path) const
{
	return allow_.peer_allowed(s.peer.family, s.peer.addr) ||
	       allow_.port_allowed(s.local.port) ||
	       (!cgroup_path.empty() && allow_.cgroup_allowed(cgroup_path));
}

Hold Safety::check(const enforce::Action &a, const SocketInfo &s, std::string_view cgroup_path,
		   bool dry_run, uint64_t now_ns)
{
	if (a.kind == enforce::Kind::RestoreClamp)
		return Hold::None; // putting back what we changed is always allowed
	if (allowlisted(s, cgroup_path))
		return Hold::Allowlist;
	if (a.kind != enforce::Kind::Destroy || dry_run)
		return Hold::None;
	while (!minute_.empty() && now_ns - minute_.front() >= minute_ns)
		minute_.pop_front();
	if (last_destroy_ns_ &&
	    now_ns - last_destroy_ns_ < uint64_t(rules_.reclaim_pause_ms) * 1000000)
		return Hold::Pause;
	if (round_destroys_ >= rules_.destroy_per_round)
		return Hold::RoundBudget;
	if (minute_.size() >= rules_.destroy_per_minute) {
		if (rules_.breaker && !tripped_) {
			tripped_ = true;
			trip_reason_ =
				"more than " + std::to_string(rules_.destroy_per_minute) +
				" destroys wanted within a minute (safety.destroy_per_minute)";
		}
		return Hold::MinuteBudget;
	}
	++round_destroys_;
	minute_.push_back(now_ns);
	return Hold::None;
}

} // namespace rcvgov::governor
