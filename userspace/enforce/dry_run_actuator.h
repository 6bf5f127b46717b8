// The Actuator of --dry-run and of a tripped breaker: changes nothing,
// answers DryRun for every action and keeps the last `capacity` of them
// (bounded: an old record is dropped for a new one) for the audit view.
#pragma once

#include <deque>

#include "enforce/actuator.h"

namespace rcvgov::enforce {

class DryRunActuator final : public Actuator {
public:
	explicit DryRunActuator(size_t capacity = 1024) : capacity_(capacity) {}

	std::string_view name() const override { return "dry-run"; }
	bool supports(Kind) const override { return true; }
	std::vector<ActResult> apply(std::span<const Action> actions) override
	{
		for (const Action &a : actions) {
			if (capacity_ == 0)
				break;
			if (recorded_.size() == capacity_)
				recorded_.pop_front();
			recorded_.push_back(a);
		}
		total_ += actions.size();
		ActResult r;
		r.outcome = Outcome::DryRun;
		return std::vector<ActResult>(actions.size(), r);
	}

	// The most recent "would have" actions, oldest first.
	const std::deque<Action> &recorded() const { return recorded_; }
	uint64_t total() const { return total_; }

private:
	size_t capacity_;
	std::deque<Action> recorded_;
	uint64_t total_ = 0;
};

} // namespace rcvgov::enforce
