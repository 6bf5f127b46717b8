// The one seam through which rcvgovd changes sockets in the kernel. The
// governor hands a batch of actions to an Actuator and gets exactly one
// result per action back, in order; which Actuator runs them (the BPF
// iterator, SOCK_DESTROY over sock_diag, or the dry-run recorder) is the
// governor's choice, and every policy test runs against a fake (katran's
// BaseBpfAdapter pattern).
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "core/socket_info.h"
#include "tracker/enforcement.h"

namespace rcvgov::enforce {

enum class Kind : uint8_t {
	Clamp,	      // TCP_WINDOW_CLAMP + SO_RCVBUF lock
	Destroy,      // reset the connection, free its queue
	RestoreClamp, // TCP_WINDOW_CLAMP back to what it was
};
std::string_view to_string(Kind k);

// Everything an actuator needs to find one socket, whatever mechanism it
// uses: the cookie (iter/tcp), the 4-tuple (sock_diag), the namespace to
// enter, and the reader position the decision was made on, for the
// at-destroy re-check.
struct Target {
	uint64_t cookie = 0;
	uint64_t netns_cookie = 0;
	Endpoint local;
	Endpoint peer;
	uint8_t state = 0;
	// The reader's position when decided (tp->copied_seq from BPF;
	// bytes_received - rqueue from sock_diag, see position_is_seq).
	uint32_t copied_seq = 0;
	bool position_is_seq = true;
	// The process (tgid) that created, accepted or first read the socket
	// and the socket's inode, both 0 if unknown: where the clamp fast path
	// (enforce/owner_fd.h) looks for a descriptor.
	uint32_t owner_pid = 0;
	uint32_t owner_ino = 0;
};

struct Action {
	Kind kind = Kind::Clamp;
	Target target;
	uint32_t window_clamp = 0; // Clamp, RestoreClamp
	uint32_t rcvbuf_lock = 0;  // Clamp: lock sk_rcvbuf at this many bytes; 0: don't
};

// The vocabulary the tracker settles decisions with: Done (in place),
// Skipped (the at-destroy re-check found the reader progressing), Gone (no
// such socket or namespace), Failed (the kernel refused: errnum), DryRun
// (recorded only).
using Outcome = tracker::Outcome;

struct ActResult {
	Outcome outcome = Outcome::Failed;
	int errnum = 0;
	std::string detail; // for the log: why Failed/Gone/Skipped
	// How the actuator reached the socket: "owner fd", "iter/tcp" or
	// "sock_diag"; empty when it did not (dry run, no such namespace).
	std::string_view via;
	// Clamp: window_clamp before and after, sk_rcvbuf after. Destroy:
	// sk_rmem_alloc freed in `before`.
	uint32_t before = 0;
	uint32_t after = 0;
	uint32_t rcvbuf_after = 0;

	static ActResult of(Outcome o, int errnum = 0, std::string detail = {})
	{
		ActResult r;
		r.outcome = o;
		r.errnum = errnum;
		r.detail = std::move(detail);
		return r;
	}
};

class Actuator {
public:
	virtual ~Actuator() = default;
	virtual std::string_view name() const = 0;
	virtual bool supports(Kind k) const = 0;
	// One result per action, in the order given. Never throws for a
	// single socket's failure: that is a Failed result.
	virtual std::vector<ActResult> apply(std::span<const Action> actions) = 0;
};

} // namespace rcvgov::enforce
