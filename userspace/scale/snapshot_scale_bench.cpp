// Memory at scale, for docs/performance.md: a synthetic snapshot of 1 M
// (or 100 k) sockets fed through the daemon's own path: iter/tcp records
// streamed through a pipe, read and decoded in 64 KiB chunks straight into
// a SocketTable (read_snapshot_records, as IterTcpSource does), then one
// Governor round that syncs the tracker with the table. Reports peak RSS
// (VmHWM, reset before the run) and bytes per socket for the table and the
// tracker. Prints figures, asserts nothing. Run alone:
//   rcvgov-bench --benchmark_filter=SnapshotScale
#include <benchmark/benchmark.h>

#include <fcntl.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "core/abi.h"
#include "core/socket_table.h"
#include "governor/governor.h"
#include "sources/source.h"

namespace rcvgov {
namespace {

constexpr uint64_t kMiB = 1024 * 1024;

// VmRSS / VmHWM of this process, bytes.
uint64_t status_kib(const char *key)
{
	FILE *f = std::fopen("/proc/self/status", "r");
	if (!f)
		return 0;
	char line[256];
	uint64_t v = 0;
	const size_t n = std::strlen(key);
	while (std::fgets(line, sizeof(line), f))
		if (std::strncmp(line, key, n) == 0 && line[n] == ':')
			v = std::strtoull(line + n + 1, nullptr, 10);
	std::fclose(f);
	return v * 1024;
}
uint64_t rss()
{
	return status_kib("VmRSS");
}
uint64_t hwm()
{
	return status_kib("VmHWM");
}
// Peak RSS restarts from the current RSS (proc(5): clear_refs 5).
void reset_hwm()
{
	int fd = open("/proc/self/clear_refs", O_WRONLY | O_CLOEXEC);
	if (fd >= 0) {
		(void)!write(fd, "5", 1);
		close(fd);
	}
}

// One realistic record: 16 services (cgroups), 65,536 peers, usage up to
// 256 KiB, a third stalled, comm of 15 characters (the longest the kernel
// keeps).
rcvgov_snapshot_rec record(uint64_t i, std::mt19937_64 &rng, uint64_t now)
{
	rcvgov_snapshot_rec r{};
	r.id.cookie = 0x100000 + i;
	r.id.family = 2;
	const uint32_t local = 0x0a000001, peer = 0xc6120000 + static_cast<uint32_t>(i % 65536);
	std::memcpy(r.id.saddr, &local, 4);
	std::memcpy(r.id.daddr, &peer, 4);
	r.id.sport = 443;
	r.id.dport = static_cast<uint16_t>(1024 + i % 60000);
	r.owner.cgroup_id = 100 + i % 16;
	r.owner.netns_cookie = 1;
	r.owner.pid = 1000 + static_cast<uint32_t>(i % 16);
	std::memcpy(r.owner.comm, "svc-worker-000a", 16);
	r.owner.comm[14] = static_cast<char>('a' + i % 16);
	r.now_ns = now;
	r.rmem_alloc = static_cast<uint32_t>(rng() % (256 * 1024));
	r.rcvbuf = 131072 + static_cast<uint32_t>(rng() % (256 * 1024));
	r.autotuned_rcvbuf = r.rcvbuf;
	r.unread = r.rmem_alloc / 2;
	r.rcv_wnd = 65535;
	r.window_clamp = r.rcvbuf / 2;
	r.copied_seq = static_cast<uint32_t>(rng());
	r.stalled_since_ns = i % 3 == 0 ? now - 5'000'000'000ULL : 0;
	r.state = 1;
	r.rcv_wscale = 7;
	return r;
}

// A writer thread streams n records in 64 KiB writes; the caller reads.
Status one_round(SocketTable &table, uint64_t n, uint64_t now)
{
	int p[2];
	if (pipe2(p, O_CLOEXEC) != 0)
		return Error::sys(errno, "pipe2");
	std::thread writer([&, wfd = p[1]] {
		std::mt19937_64 rng(42);
		std::vector<rcvgov_snapshot_rec> chunk;
		constexpr size_t kPer = 64 * 1024 / sizeof(rcvgov_snapshot_rec);
		for (uint64_t i = 0; i < n;) {
			chunk.clear();
			for (; i < n && chunk.size() < kPer; ++i)
				chunk.push_back(record(i, rng, now));
			const auto *b = reinterpret_cast<const uint8_t *>(chunk.data());
			size_t left = chunk.size() * sizeof(chunk[0]);
			while (left) {
				ssize_t w = write(wfd, b, left);
				if (w <= 0)
					break;
				b += w;
				left -= static_cast<size_t>(w);
			}
		}
		close(wfd);
	});
	std::vector<uint8_t> buf(64 * 1024);
	table.begin_round();
	Status st = read_snapshot_records(p[0], buf, table);
	table.end_round();
	writer.join();
	close(p[0]);
	return st;
}

void SnapshotScale(benchmark::State &state)
{
	const uint64_t n = static_cast<uint64_t>(state.range(0));
	const uint64_t now = 3600'000'000'000ULL;
	for (auto _ : state) {
		const uint64_t base = rss();
		reset_hwm();
		SocketTable table;
		if (Status st = one_round(table, n, now); !st) {
			state.SkipWithError(st.error().message.c_str());
			return;
		}
		const uint64_t after_table = rss();

		// Nothing over any limit: the round only syncs the tracker.
		config::Config cfg;
		cfg.dry_run = true;
		tracker::Limits limits;
		limits.max = 1ULL << 50;
		limits.low_water = 1ULL << 49;
		limits.per_service = limits.per_peer = limits.per_socket = 1ULL << 48;
		governor::Environment env;
		env.cgroup_path = [](uint64_t id) {
			return "/system.slice/svc" + std::to_string(id) + ".service";
		};
		governor::Governor gov(cfg, limits, governor::Actuators{}, nullptr, env);
		gov.round(table, now);
		const uint64_t after_tracker = rss();

		// Steady state: the same sockets again, a second round each.
		if (Status st = one_round(table, n, now + 1'000'000'000ULL); !st) {
			state.SkipWithError(st.error().message.c_str());
			return;
		}
		gov.round(table, now + 1'000'000'000ULL);
		const uint64_t steady = rss();
		const uint64_t peak = hwm();

		const double dn = static_cast<double>(n);
		state.counters["sockets"] = dn;
		state.counters["table_B_per_socket"] = static_cast<double>(after_table - base) / dn;
		state.counters["tracker_B_per_socket"] =
			static_cast<double>(after_tracker - after_table) / dn;
		state.counters["steady_B_per_socket"] = static_cast<double>(steady - base) / dn;
		state.counters["steady_MiB"] = static_cast<double>(steady - base) / kMiB;
		state.counters["peak_MiB"] = static_cast<double>(peak - base) / kMiB;
		state.counters["process_peak_MiB"] = static_cast<double>(peak) / kMiB;
		state.counters["SocketInfo_B"] = sizeof(SocketInfo);
		state.counters["node_B"] = SocketTable::node_bytes();
		state.counters["buckets_per_socket"] =
			static_cast<double>(table.bucket_count()) / dn;
	}
}
BENCHMARK(SnapshotScale)
	->Arg(100'000)
	->Arg(1'000'000)
	->Iterations(1)
	->Unit(benchmark::kMillisecond)
	->UseRealTime();

} // namespace
} // namespace rcvgov
