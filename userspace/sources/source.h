// Where the socket table's rounds come from: one SnapshotSource per daemon,
// called once per network namespace per round (the caller has entered the
// namespace). iter/tcp when the BPF programs are loaded, sock_diag when they
// cannot be.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <span>
#include <string_view>

#include "common/error.h"
#include "core/socket_table.h"

namespace rcvgov {

namespace bpf {
class Observer;
}

class SnapshotSource {
public:
	virtual ~SnapshotSource() = default;
	// "iter/tcp" or "sock_diag".
	virtual std::string_view name() const = 0;
	// Every TCP socket of the CALLING THREAD's network namespace into the
	// table (upsert), as of now_ns (CLOCK_MONOTONIC). On an error the
	// sockets collected before it are in the table; the caller decides
	// whether the round counts.
	virtual Status collect(SocketTable &table, uint64_t now_ns) = 0;

	// Called between the chunks of a collect() (iter/tcp: every 64 KiB,
	// about 600 sockets), still inside the namespace: where the daemon
	// handles ring-buffer events, so a reaction does not wait for a whole
	// scan (200 ms and more at 100 k sockets). It may look sockets up and
	// act on them; it must not start another collect().
	void set_between_chunks(std::function<void()> fn) { between_ = std::move(fn); }

protected:
	std::function<void()> between_;
};

// The BPF snapshot iterator: reads it in fixed chunks and decodes each chunk
// straight into the table. observer must outlive the source.
std::unique_ptr<SnapshotSource> make_iter_source(bpf::Observer &observer);

// The iter/tcp source's reading loop, for any fd that yields snapshot
// records (the BPF iterator, or a pipe in the scale benchmark): reads into
// buf (a whole number of records, at least one) and decodes each read
// straight into the table, carrying a record split between reads over.
// Memory does not grow with the number of sockets.
// `between` (may be empty) runs after each chunk is in the table.
Status read_snapshot_records(int fd, std::span<uint8_t> buf, SocketTable &table,
			     const std::function<void()> &between = {});

// NETLINK_SOCK_DIAG: one dump per call, with the inference (autotuned limit,
// inflations, stall) that needs per-socket history kept in the source.
std::unique_ptr<SnapshotSource> make_diag_source();

} // namespace rcvgov
