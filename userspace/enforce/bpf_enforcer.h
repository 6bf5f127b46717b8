// Runs enforcement actions (window clamp, restore, destroy) on sockets
// named by cookie, through the iter/tcp programs of bpf/enforce.bpf.c, in
// every network namespace that may hold them.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "core/abi.h"
#include "netns/netns.h"

namespace rcvgov::enforce {

struct ActionResult {
	uint64_t cookie = 0;
	uint32_t kind = 0;
	int rc = 0; // 0 or -errno
	uint32_t before = 0;
	uint32_t after = 0;
	uint32_t rcvbuf_after = 0;
};

class BpfEnforcer {
public:
	// Throws std::runtime_error saying what failed.
	BpfEnforcer();
	~BpfEnforcer();
	BpfEnforcer(const BpfEnforcer &) = delete;
	BpfEnforcer &operator=(const BpfEnforcer &) = delete;

	// bpf_sock_destroy() exists in this kernel (6.5+).
	bool can_destroy() const;

	// Applies every action in each namespace (sockets are found by cookie,
	// wherever they are) and returns what was done. Actions whose socket
	// was not found are absent from the result.
	std::vector<ActionResult> apply(const std::vector<rcvgov_action> &actions,
					const std::vector<netns::Namespace> &namespaces);

private:
	struct Impl;
	std::unique_ptr<Impl> impl_;
};

} // namespace rcvgov::enforce
