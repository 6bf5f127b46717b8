// Tracker figures for docs/performance.md: update throughput, time to
// decide when 10% over quota, and bytes per participant, at 1,000,000
// participants. Run with `make bench`.
#include <benchmark/benchmark.h>

#include <array>
#include <memory>
#include <random>
#include <vector>

#include "tracker/peer_key.h"
#include "tracker/tracker.h"

namespace rcvgov::tracker {
namespace {

constexpr uint64_t kParticipants = 1'000'000;

struct Population {
	ManualClock clock;
	std::unique_ptr<Tracker> tracker;
	std::vector<ParticipantId> ids;
	std::vector<uint64_t> cookies;
	uint64_t base_bytes = 0; // an empty tracker
	uint64_t total = 0;
};

// Realistic shape for an edge server: 16 services, 65,536 peers (/24s),
// ~15 sockets per peer; usage up to 256 KiB, oldest data up to 10 minutes.
// `peers_per_socket` puts every socket behind its own peer instead: the
// worst case for memory (a million distinct /64s).
std::unique_ptr<Population> build(bool peer_per_socket)
{
	auto pop = std::make_unique<Population>();
	pop->tracker = std::make_unique<Tracker>(pop->clock);
	Tracker &t = *pop->tracker;
	pop->base_bytes = t.memory_bytes();
	std::mt19937_64 rng(42);
	std::vector<AccountId> services, peers;
	for (int s = 0; s < 16; ++s)
		services.push_back(
			*t.create_account(t.system(), ScopeKind::Service,
					  "/system.slice/svc" + std::to_string(s) + ".service"));
	const uint64_t npeers = peer_per_socket ? kParticipants : 65536;
	for (uint64_t p = 0; p < npeers; ++p) {
		const std::array<uint8_t, 16> a{0x20,
						0x01,
						0x0d,
						0xb8,
						uint8_t(p >> 24),
						uint8_t(p >> 16),
						uint8_t(p >> 8),
						uint8_t(p)};
		const std::string key = *peer_key(kAfInet6, a);
		peers.push_back(*t.create_account(services[p % 16], ScopeKind::Peer, key));
	}
	pop->ids.reserve(kParticipants);
	const Time now = pop->clock.now();
	for (uint64_t i = 0; i < kParticipants; ++i) {
		const uint64_t cookie = 0x100000 + i * 7;
		const ParticipantId id = *t.create_participant(peers[rng() % npeers], cookie);
		const uint64_t usage = rng() % (256 * KiB);
		(void)t.set_usage(
			id, Usage{usage, 512 * KiB, std::chrono::milliseconds(rng() % 600000)},
			now);
		pop->ids.push_back(id);
		pop->cookies.push_back(cookie);
		pop->total += usage;
	}
	return pop;
}

Population &realistic()
{
	static std::unique_ptr<Population> pop = build(false);
	return *pop;
}

// Limits far above the population's usage, so updates decide nothing.
void roomy(Tracker &t)
{
	Limits l;
	l.max = 1ULL << 50;
	l.low_water = l.max / 4 * 3;
	l.per_service = l.per_peer = l.per_socket = l.max;
	(void)t.set_limits(l);
}

// A stream of absolute updates to random sockets, as the ring buffer
// delivers them: no locality to help the caches.
struct Update {
	uint32_t slot;
	uint32_t rmem;
	uint32_t age_ms;
};
std::vector<Update> updates(size_t n)
{
	std::mt19937_64 rng(7);
	std::vector<Update> u(n);
	for (auto &x : u)
		x = Update{uint32_t(rng() % kParticipants), uint32_t(rng() % (256 * KiB)),
			   uint32_t(rng() % 600000)};
	return u;
}

std::vector<Tracker::HandleUpdate> handle_updates(const Population &pop)
{
	const auto us = updates(1 << 22);
	std::vector<Tracker::HandleUpdate> v(us.size());
	for (size_t k = 0; k < us.size(); ++k)
		v[k] = {pop.ids[us[k].slot],
			Usage{us[k].rmem, 512 * KiB, std::chrono::milliseconds(us[k].age_ms)}};
	return v;
}

std::vector<Tracker::CookieUpdate> cookie_updates(const Population &pop)
{
	const auto us = updates(1 << 22);
	std::vector<Tracker::CookieUpdate> v(us.size());
	for (size_t k = 0; k < us.size(); ++k)
		v[k] = {pop.cookies[us[k].slot],
			Usage{us[k].rmem, 512 * KiB, std::chrono::milliseconds(us[k].age_ms)}};
	return v;
}

// One call per update: each pays a cache (and TLB) miss on its slot.
void BM_TrackerSetUsage(benchmark::State &state)
{
	Population &pop = realistic();
	Tracker &t = *pop.tracker;
	roomy(t);
	const auto us = handle_updates(pop);
	const Time now = pop.clock.now();
	size_t k = 0;
	for (auto _ : state) {
		const auto &u = us[k++ & (us.size() - 1)];
		benchmark::DoNotOptimize(t.set_usage(u.id, u.usage, now));
	}
	state.SetItemsProcessed(state.iterations());
	state.counters["participants"] = double(t.participant_count());
}
BENCHMARK(BM_TrackerSetUsage);

// Batches as the daemon applies a drained ring buffer: the misses overlap.
constexpr size_t kBatch = 1024;

void BM_TrackerSetUsageBatch(benchmark::State &state)
{
	Population &pop = realistic();
	Tracker &t = *pop.tracker;
	roomy(t);
	const auto us = handle_updates(pop);
	const Time now = pop.clock.now();
	size_t k = 0;
	for (auto _ : state) {
		benchmark::DoNotOptimize(t.set_usage(std::span(us).subspan(k, kBatch), now));
		k = (k + kBatch) & (us.size() - 1);
	}
	state.SetItemsProcessed(state.iterations() * kBatch);
	state.counters["participants"] = double(t.participant_count());
}
BENCHMARK(BM_TrackerSetUsageBatch);

// By cookie (what a kernel event carries): a hash lookup first.
void BM_TrackerSetUsageByCookie(benchmark::State &state)
{
	Population &pop = realistic();
	Tracker &t = *pop.tracker;
	roomy(t);
	const auto us = cookie_updates(pop);
	const Time now = pop.clock.now();
	size_t k = 0;
	for (auto _ : state) {
		const auto &u = us[k++ & (us.size() - 1)];
		auto id = t.find_participant(u.cookie);
		benchmark::DoNotOptimize(t.set_usage(*id, u.usage, now));
	}
	state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_TrackerSetUsageByCookie);

void BM_TrackerSetUsageBatchByCookie(benchmark::State &state)
{
	Population &pop = realistic();
	Tracker &t = *pop.tracker;
	roomy(t);
	const auto us = cookie_updates(pop);
	const Time now = pop.clock.now();
	size_t k = 0;
	for (auto _ : state) {
		benchmark::DoNotOptimize(t.set_usage(std::span(us).subspan(k, kBatch), now));
		k = (k + kBatch) & (us.size() - 1);
	}
	state.SetItemsProcessed(state.iterations() * kBatch);
	state.counters["participants"] = double(t.participant_count());
}
BENCHMARK(BM_TrackerSetUsageBatchByCookie);

void BM_TrackerClaimRelease(benchmark::State &state)
{
	Population &pop = realistic();
	Tracker &t = *pop.tracker;
	roomy(t);
	const auto us = handle_updates(pop);
	const Time now = pop.clock.now();
	size_t k = 0;
	for (auto _ : state) {
		const auto &u = us[k++ & (us.size() - 1)];
		if (k & 1)
			benchmark::DoNotOptimize(t.claim(u.id, u.usage.rmem_alloc & 4095, now));
		else
			benchmark::DoNotOptimize(t.release(u.id, u.usage.rmem_alloc & 4095));
	}
	state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_TrackerClaimRelease);

// decide() when the total is 10% over max: the system quota reclaims
// oldest-first down to low water (75% of max), i.e. about 32% of the
// memory. Each iteration starts from the same state (pending forgotten).
void BM_TrackerDecide10PercentOver(benchmark::State &state)
{
	Population &pop = realistic();
	Tracker &t = *pop.tracker;
	Limits l;
	l.max = pop.tracker->total() * 10 / 11;
	l.low_water = l.max / 4 * 3;
	l.per_service = l.per_peer = l.per_socket = 1ULL << 50;
	l.pending_timeout = std::chrono::seconds(1);
	(void)t.set_limits(l);
	std::vector<Decision> out;
	out.reserve(kParticipants / 2);
	size_t decisions = 0;
	for (auto _ : state) {
		state.PauseTiming();
		pop.clock.advance(std::chrono::seconds(2));
		t.expire_pending(pop.clock.now());
		out.clear();
		state.ResumeTiming();
		t.decide(pop.clock.now(), out);
		decisions = out.size();
	}
	state.counters["decisions"] = double(decisions);
	state.counters["participants"] = double(t.participant_count());
	state.counters["over_quota_%"] = 10;
	pop.clock.advance(std::chrono::seconds(2));
	t.expire_pending(pop.clock.now());
}
BENCHMARK(BM_TrackerDecide10PercentOver)->Unit(benchmark::kMillisecond)->Iterations(20);

// decide() in the steady state: nothing over any limit.
void BM_TrackerDecideIdle(benchmark::State &state)
{
	Population &pop = realistic();
	Tracker &t = *pop.tracker;
	roomy(t);
	std::vector<Decision> out;
	for (auto _ : state) {
		out.clear();
		t.decide(pop.clock.now(), out);
	}
	state.counters["decisions"] = double(out.size());
}
BENCHMARK(BM_TrackerDecideIdle)->Unit(benchmark::kMicrosecond);

// Bytes per participant, counted by the tracker's allocator: every
// container (slots, hash indexes, accounts and their keys, work lists)
// divided by participants; then again once decide() has run at 10% over
// quota, which keeps its scratch space (candidates, ordering) for next time.
void report_memory(benchmark::State &state, Population &pop)
{
	Tracker &t = *pop.tracker;
	for (auto _ : state)
		benchmark::DoNotOptimize(t.memory_bytes());
	const double n = double(t.participant_count());
	state.counters["participants"] = n;
	state.counters["accounts"] = double(t.account_count());
	state.counters["bytes_per_participant"] = double(t.memory_bytes() - pop.base_bytes) / n;
	Limits l;
	l.max = t.total() * 10 / 11;
	l.low_water = l.max / 4 * 3;
	l.per_service = l.per_peer = l.per_socket = 1ULL << 50;
	(void)t.set_limits(l);
	(void)t.decide(pop.clock.now());
	state.counters["after_decide"] = double(t.memory_bytes() - pop.base_bytes) / n;
	state.counters["MiB_after_decide"] = double(t.memory_bytes()) / double(MiB);
}

void BM_TrackerMemory(benchmark::State &state)
{
	auto pop = build(false);
	report_memory(state, *pop);
}
BENCHMARK(BM_TrackerMemory)->Iterations(1)->Unit(benchmark::kMillisecond);

void BM_TrackerMemoryPeerPerSocket(benchmark::State &state)
{
	auto pop = build(true);
	report_memory(state, *pop);
}
BENCHMARK(BM_TrackerMemoryPeerPerSocket)->Iterations(1)->Unit(benchmark::kMillisecond);

} // namespace
} // namespace rcvgov::tracker
