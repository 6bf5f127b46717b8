#include "core/loss_report.h"

namespace rcvgov {

std::optional<LossReport::Delta> LossReport::update(uint64_t dropped_total,
						    uint64_t over_budget_total, uint64_t now_ns)
{
	// Counters only grow; a smaller one (a reloaded BPF object) restarts.
	if (dropped_total < dropped_)
		dropped_ = 0;
	if (over_budget_total < over_budget_)
		over_budget_ = 0;
	if (dropped_total == dropped_ && over_budget_total == over_budget_)
		return std::nullopt;
	if (reported_ns_ != 0 && now_ns - reported_ns_ < period_ns_)
		return std::nullopt;
	Delta d{dropped_total - dropped_, over_budget_total - over_budget_,
		reported_ns_ ? now_ns - reported_ns_ : 0};
	dropped_ = dropped_total;
	over_budget_ = over_budget_total;
	reported_ns_ = now_ns ? now_ns : 1;
	return d;
}

} // namespace rcvgov
