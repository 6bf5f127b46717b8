// One full scan of the real sockets of the calling thread's network
// namespace, through the daemon's own sources, split into its parts so
// that bench/p4-scan.sh can tell what bounds the P4 figure:
//
//   LiveScan/iter_read   the iter/tcp iterator read() to the end, nothing
//                        decoded: the kernel and BPF side alone
//   LiveScan/iter        IterTcpSource::collect into a SocketTable that
//                        already holds the sockets (begin_round, collect,
//                        end_round: what rcvgovd's snapshot() does)
//   LiveScan/diag_dump   the NETLINK_SOCK_DIAG dump alone (diag::dump_tcp)
//   LiveScan/diag        DiagSource::collect, as iter
//
// They need root (the BPF programs) and real sockets, so they exist only
// with RCVGOV_LIVE_SCAN=1 (not registered otherwise, e.g. in `make bench`):
//   ip netns exec NS env RCVGOV_LIVE_SCAN=1 rcvgov-bench
//       --benchmark_filter=LiveScan
#include <benchmark/benchmark.h>

#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <ctime>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

#include "bpf/observer.h"
#include "common/clock.h"
#include "core/abi.h"
#include "core/socket_table.h"
#include "diag/sock_diag.h"
#include "sources/source.h"

namespace rcvgov {
namespace {

// The BPF programs, loaded once for every iter benchmark of the run.
bpf::Observer *observer(benchmark::State &state)
{
	static std::unique_ptr<bpf::Observer> obs;
	static std::string failed;
	if (!obs && failed.empty()) {
		try {
			obs = std::make_unique<bpf::Observer>(bpf::ObserverOptions{},
							      [](std::span<const uint8_t>) {});
		} catch (const std::exception &e) {
			failed = e.what();
		}
	}
	if (!obs)
		state.SkipWithError(("loading the BPF programs: " + failed).c_str());
	return obs.get();
}

// One round as rcvgovd's snapshot() makes it, into a table kept between
// iterations (the steady state: every socket already known).
Status round(SnapshotSource &src, SocketTable &table)
{
	table.begin_round();
	Status st = src.collect(table, mono_ns());
	table.end_round();
	return st;
}

void run_source(benchmark::State &state, SnapshotSource &src)
{
	SocketTable table;
	if (Status st = round(src, table); !st) { // warm: the table holds them all
		state.SkipWithError(st.error().message.c_str());
		return;
	}
	for (auto _ : state) {
		if (Status st = round(src, table); !st) {
			state.SkipWithError(st.error().message.c_str());
			return;
		}
	}
	state.counters["sockets"] = double(table.size());
}

void LiveScanIterRead(benchmark::State &state)
{
	bpf::Observer *obs = observer(state);
	if (!obs)
		return;
	std::vector<uint8_t> buf(64 * 1024);
	uint64_t bytes = 0;
	for (auto _ : state) {
		Result<UniqueFd> fd = obs->open_snapshot();
		if (!fd) {
			state.SkipWithError(fd.error().message.c_str());
			return;
		}
		bytes = 0;
		for (;;) {
			ssize_t n = ::read(fd->get(), buf.data(), buf.size());
			if (n < 0 && errno == EINTR)
				continue;
			if (n < 0) {
				state.SkipWithError("read of the iter/tcp snapshot failed");
				return;
			}
			if (n == 0)
				break;
			bytes += uint64_t(n);
		}
		benchmark::DoNotOptimize(bytes);
	}
	state.counters["sockets"] = double(bytes / sizeof(rcvgov_snapshot_rec));
}

void LiveScanIter(benchmark::State &state)
{
	bpf::Observer *obs = observer(state);
	if (!obs)
		return;
	std::unique_ptr<SnapshotSource> src = make_iter_source(*obs);
	run_source(state, *src);
}

void LiveScanDiagDump(benchmark::State &state)
{
	size_t n = 0;
	for (auto _ : state) {
		auto dump = diag::dump_tcp();
		if (!dump) {
			state.SkipWithError(dump.error().message.c_str());
			return;
		}
		n = dump->size();
		benchmark::DoNotOptimize(dump->data());
	}
	state.counters["sockets"] = double(n);
}

void LiveScanDiag(benchmark::State &state)
{
	std::unique_ptr<SnapshotSource> src = make_diag_source();
	run_source(state, *src);
}

[[maybe_unused]] const bool registered = [] {
	const char *v = std::getenv("RCVGOV_LIVE_SCAN");
	if (!v || std::string(v) != "1")
		return false;
	for (auto *b : {benchmark::RegisterBenchmark("LiveScan/iter_read", LiveScanIterRead),
			benchmark::RegisterBenchmark("LiveScan/iter", LiveScanIter),
			benchmark::RegisterBenchmark("LiveScan/diag_dump", LiveScanDiagDump),
			benchmark::RegisterBenchmark("LiveScan/diag", LiveScanDiag)})
		b->Unit(benchmark::kMillisecond)->UseRealTime();
	return true;
}();

} // namespace
} // namespace rcvgov
