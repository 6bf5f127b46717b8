// A test Actuator: records every batch and answers with a per-kind
// outcome (or a per-cookie one), like katran's fake BPF adapter.
#pragma once

#include <map>
#include <vector>

#include "enforce/actuator.h"

namespace rcvgov::governor::testing {

class FakeActuator final : public enforce::Actuator {
public:
	explicit FakeActuator(bool can_destroy = true) : can_destroy_(can_destroy) {}

	std::string_view name() const override { return "fake"; }
	bool supports(enforce::Kind k) const override
	{
		return k != enforce::Kind::Destroy || can_destroy_;
	}
	std::vector<enforce::ActResult> apply(std::span<const enforce::Action> actions) override
	{
		std::vector<enforce::ActResult> out;
		for (const auto &a : actions) {
			applied.push_back(a);
			enforce::ActResult r;
			r.outcome = enforce::Outcome::Done;
			if (auto it = by_cookie.find(a.target.cookie); it != by_cookie.end())
				r.outcome = it->second;
			r.before = a.kind == enforce::Kind::Clamp ? 4194304 : 0;
			r.after = a.window_clamp;
			r.rcvbuf_after = a.rcvbuf_lock;
			out.push_back(r);
		}
		++batches;
		return out;
	}

	size_t count(enforce::Kind k) const
	{
		size_t n = 0;
		for (const auto &a : applied)
			n += a.kind == k;
		return n;
	}

	std::vector<enforce::Action> applied;
	std::map<uint64_t, enforce::Outcome> by_cookie;
	size_t batches = 0;

private:
	bool can_destroy_;
};

} // namespace rcvgov::governor::testing
