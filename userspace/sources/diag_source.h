// The sock_diag source's inference, split out so it is tested with synthetic
// dumps. sock_diag shows each socket as it is now; what needs history is
// inferred here, per cookie, from the previous dump of its namespace:
//
//  inflation: tcp_clamp_window() sets rcvbuf to rmem_alloc, so an rcvbuf
//    rise while the queue held more than the old limit is the clamp; any
//    other rise is autotuning (a heuristic between two polls).
//  stall: the reader's position is bytes_received - rqueue. A position that
//    moved since the last dump restarts the clock (now); an unchanged one
//    with data queued keeps the stall start of the first dump it had that
//    position in; an empty queue is not stalled. A socket first seen with
//    data starts its stall now, flagged as a lower bound. Without
//    tcpi_bytes_received (kernels before 4.6) the position is unknown and
//    the stall runs from when data was first seen queued until it drains.
#pragma once

#include <cstdint>
#include <functional>
#include <unordered_map>
#include <vector>

#include "core/socket_info.h"
#include "diag/sock_diag.h"

namespace rcvgov {

class DiagInference {
public:
	// How long a namespace's history is kept after its last dump (it may
	// have gone away).
	static constexpr uint64_t kForgetNamespaceNs = 300'000'000'000ULL;

	// One completed dump of namespace netns_cookie at now_ns: every socket
	// to sink, inferred; the namespace's history is replaced by this dump's
	// (cookies not in it are forgotten).
	void apply(const std::vector<diag::DiagSocket> &dump, uint64_t netns_cookie,
		   uint64_t now_ns, const std::function<void(SocketInfo &&)> &sink);

	// Sockets with history, over every namespace.
	size_t tracked() const;

private:
	struct Seen {
		uint32_t rcvbuf = 0;
		uint32_t rmem_alloc = 0;
		uint32_t autotuned_rcvbuf = 0;
		uint32_t inflations = 0;
		uint64_t inflation_bytes = 0;
		uint32_t overshoots = 0;
		uint32_t max_overshoot = 0;
		uint64_t position = 0;
		bool position_known = false;
		uint64_t stalled_since_ns = 0;
		bool lower_bound = false;
		uint64_t dump = 0; // the namespace's dump that saw it last
	};
	// The history is updated in place, dump after dump (no map rebuilt,
	// no allocation once every socket is known); entries the latest dump
	// did not stamp are forgotten after it.
	struct Namespace {
		std::unordered_map<uint64_t, Seen> sockets;
		uint64_t last_dump_ns = 0;
		uint64_t dumps = 0;
	};

	static SocketInfo infer(const diag::DiagSocket &d, const Seen *prev, uint64_t now_ns,
				Seen &next);

	std::unordered_map<uint64_t, Namespace> namespaces_;
};

} // namespace rcvgov
