// The Actuator of last resort for destroys: SOCK_DESTROY over sock_diag
// (libmnl), for kernels without bpf_sock_destroy (before 6.5) and for the
// --sock-diag mode. Right before each destroy it looks the socket up again
// and skips it if its reader has progressed since the decision: through
// sock_diag (bytes_received - rqueue) when the decision was made on that
// measure, else through `seq_probe` (the BPF iterator's copied_seq) when
// one is given, else it can only check that data is still queued.
#pragma once

#include <functional>

#include "common/error.h"
#include "enforce/actuator.h"
#include "netns/netns.h"

namespace rcvgov::enforce {

class DiagActuator final : public Actuator {
public:
	// The reader position (tp->copied_seq) of a target, read in its
	// namespace; an Error when the socket is not found.
	using SeqProbe = std::function<Result<uint32_t>(const Target &)>;

	explicit DiagActuator(const netns::Registry &namespaces, SeqProbe seq_probe = {})
	    : namespaces_(namespaces), seq_probe_(std::move(seq_probe))
	{
	}

	std::string_view name() const override { return "sock_diag SOCK_DESTROY"; }
	bool supports(Kind k) const override { return k == Kind::Destroy; }
	std::vector<ActResult> apply(std::span<const Action> actions) override;

private:
	ActResult destroy(const netns::Namespace &ns, const Target &t);

	const netns::Registry &namespaces_;
	SeqProbe seq_probe_;
};

} // namespace rcvgov::enforce
