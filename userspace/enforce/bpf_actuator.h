// The Actuator on 5.x+ kernels with BPF: TCP_WINDOW_CLAMP + SO_RCVBUF lock
// and, on 6.5+, bpf_sock_destroy(), run from the iter/tcp programs of
// bpf/enforce.bpf.c in the namespace of each target (found by netns
// cookie in the registry). The destroy program re-checks, at the moment
// of destroy, that the reader has not progressed since the decision.
// Clamps and restores whose owner process is known go through that
// process's descriptor first (enforce/owner_fd.h: O(1) instead of a walk
// over the namespace); the result's `via` says which path acted.
#pragma once

#include <memory>

#include "enforce/actuator.h"
#include "netns/netns.h"

namespace rcvgov::enforce {

class BpfActuator final : public Actuator {
public:
	// Loads and attaches the enforcement iterators. Throws
	// std::runtime_error naming what failed.
	explicit BpfActuator(const netns::Registry &namespaces);
	~BpfActuator() override;
	BpfActuator(const BpfActuator &) = delete;
	BpfActuator &operator=(const BpfActuator &) = delete;

	std::string_view name() const override { return "bpf iter/tcp"; }
	// Destroy needs the bpf_sock_destroy kfunc (6.5+).
	bool supports(Kind k) const override;
	std::vector<ActResult> apply(std::span<const Action> actions) override;

private:
	struct Impl;
	std::unique_ptr<Impl> impl_;
};

} // namespace rcvgov::enforce
