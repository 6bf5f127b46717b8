// Tracker figures for docs/performance.md: update throughput, time to
// decide when 10% over quota, and bytes per participant, at 1,000,000
// participants (the argument of each benchmark; bench/p5-tracker.sh runs
// 100,000 in smoke mode). Run with `make bench`.
//
// Anchors, measured in the same process on the same shapes so that P5 is a
// ratio, not an absolute rate that moves with the machine:
//   BM_FlatArrayUpdateBatch  the same random update stream applied to a
//                            flat array of as many 32-byte slots (the
//                            memory-bound limit of an update)
//   BM_FlatArrayPass         one sequential pass over such an array
//                            holding the same usage and stall ages,
//                            summing what a reclaim would look at
#include <benchmark/benchmark.h>

#include <array>
#include <map>
#include <memory>
#include <random>
#include <vector>

#include "tracker/peer_key.h"
#include "tracker/tracker.h"

namespace rcvgov::tracker {
namespace {

constexpr uint64_t kParticipants = 1'000'000;
constexpr uint64_t kSmokeParticipants = 100'000;

struct Population {
	ManualClock clock;
	std::unique_ptr<Tracker> tracker;
	std::vector<ParticipantId> ids;
	std::vector<uint64_t> cookies;
	std::vector<uint32_t> usage;	// as given to the tracker, per participant
	std::vector<uint32_t> stall_ms; // likewise
	uint64_t base_bytes = 0;	// an empty tracker
	uint64_t total = 0;
};

// Realistic shape for an edge server: 16 services, 65,536 peers (/24s),
// ~15 sockets per peer; usage up to 256 KiB, oldest data up to 10 minutes.
// `peers_per_socket` puts every socket behind its own peer instead: the
// worst case for memory (a million distinct /64s).
std::unique_ptr<Population> build(uint64_t participants, bool peer_per_socket)
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
	const uint64_t npeers = peer_per_socket ? participants : 65536;
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
	pop->ids.reserve(participants);
	const Time now = pop->clock.now();
	for (uint64_t i = 0; i < participants; ++i) {
		const uint64_t cookie = 0x100000 + i * 7;
		const ParticipantId id = *t.create_participant(peers[rng() % npeers], cookie);
		const uint64_t usage = rng() % (256 * KiB);
		const uint32_t stall = uint32_t(rng() % 600000);
		(void)t.set_usage(id, Usage{usage, 512 * KiB, std::chrono::milliseconds(stall)},
				  now);
		pop->ids.push_back(id);
		pop->cookies.push_back(cookie);
		pop->usage.push_back(uint32_t(usage));
		pop->stall_ms.push_back(stall);
		pop->total += usage;
	}
	return pop;
}

// One population per size, built on first use and shared by every
// benchmark of that size.
Population &realistic(uint64_t participants)
{
	static std::map<uint64_t, std::unique_ptr<Population>> pops;
	auto &pop = pops[participants];
	if (!pop)
		pop = build(participants, false);
	return *pop;
}

uint64_t participants_of(const benchmark::State &state)
{
	return uint64_t(state.range(0));
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
std::vector<Update> updates(size_t n, uint64_t participants)
{
	std::mt19937_64 rng(7);
	std::vector<Update> u(n);
	for (auto &x : u)
		x = Update{uint32_t(rng() % participants), uint32_t(rng() % (256 * KiB)),
			   uint32_t(rng() % 600000)};
	return u;
}

std::vector<Tracker::HandleUpdate> handle_updates(const Population &pop)
{
	const auto us = updates(1 << 22, pop.ids.size());
	std::vector<Tracker::HandleUpdate> v(us.size());
	for (size_t k = 0; k < us.size(); ++k)
		v[k] = {pop.ids[us[k].slot],
			Usage{us[k].rmem, 512 * KiB, std::chrono::milliseconds(us[k].age_ms)}};
	return v;
}

std::vector<Tracker::CookieUpdate> cookie_updates(const Population &pop)
{
	const auto us = updates(1 << 22, pop.ids.size());
	std::vector<Tracker::CookieUpdate> v(us.size());
	for (size_t k = 0; k < us.size(); ++k)
		v[k] = {pop.cookies[us[k].slot],
			Usage{us[k].rmem, 512 * KiB, std::chrono::milliseconds(us[k].age_ms)}};
	return v;
}

// One call per update: each pays a cache (and TLB) miss on its slot.
void BM_TrackerSetUsage(benchmark::State &state)
{
	Population &pop = realistic(participants_of(state));
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
BENCHMARK(BM_TrackerSetUsage)->Arg(kParticipants);

// Batches as the daemon applies a drained ring buffer: the misses overlap.
constexpr size_t kBatch = 1024;

void BM_TrackerSetUsageBatch(benchmark::State &state)
{
	Population &pop = realistic(participants_of(state));
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
BENCHMARK(BM_TrackerSetUsageBatch)->Arg(kParticipants)->Arg(kSmokeParticipants);

// By cookie (what a kernel event carries): a hash lookup first.
void BM_TrackerSetUsageByCookie(benchmark::State &state)
{
	Population &pop = realistic(participants_of(state));
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
BENCHMARK(BM_TrackerSetUsageByCookie)->Arg(kParticipants);

void BM_TrackerSetUsageBatchByCookie(benchmark::State &state)
{
	Population &pop = realistic(participants_of(state));
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
BENCHMARK(BM_TrackerSetUsageBatchByCookie)->Arg(kParticipants)->Arg(kSmokeParticipants);

void BM_TrackerClaimRelease(benchmark::State &state)
{
	Population &pop = realistic(participants_of(state));
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
BENCHMARK(BM_TrackerClaimRelease)->Arg(kParticipants);

// decide() when the total is 10% over max: the system quota reclaims
// oldest-first down to low water (75% of max), i.e. about 32% of the
// memory. Each iteration starts from the same state (pending forgotten).
void BM_TrackerDecide10PercentOver(benchmark::State &state)
{
	Population &pop = realistic(participants_of(state));
	Tracker &t = *pop.tracker;
	Limits l;
	l.max = pop.tracker->total() * 10 / 11;
	l.low_water = l.max / 4 * 3;
	l.per_service = l.per_peer = l.per_socket = 1ULL << 50;
	l.pending_timeout = std::chrono::seconds(1);
	(void)t.set_limits(l);
	// As rcvgovd runs it: no more reclaims per call than the safety budget
	// of a round (safety.destroy_per_round, 32 by default); range(1) = 0
	// (the ...Uncapped variant) decides every reclaim at once.
	t.set_reclaim_cap(size_t(state.range(1)));
	std::vector<Decision> out;
	out.reserve(participants_of(state) / 2);
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
BENCHMARK(BM_TrackerDecide10PercentOver)
	->Args({kParticipants, 32})
	->Args({kSmokeParticipants, 32})
	->Args({kParticipants, 0})
	->Unit(benchmark::kMillisecond)
	->Iterations(20);

// decide() in the steady state: nothing over any limit.
void BM_TrackerDecideIdle(benchmark::State &state)
{
	Population &pop = realistic(participants_of(state));
	Tracker &t = *pop.tracker;
	roomy(t);
	std::vector<Decision> out;
	for (auto _ : state) {
		out.clear();
		t.decide(pop.clock.now(), out);
	}
	state.counters["decisions"] = double(out.size());
}
BENCHMARK(BM_TrackerDecideIdle)->Arg(kParticipants)->Unit(benchmark::kMicrosecond);

// The anchors (P5). A slot as big as the tracker's hot participant slot
// (32 bytes, half a cache line), in a flat array indexed by the update's
// slot: no handle check, no accounts, no work lists.
struct alignas(32) FlatSlot {
	uint64_t usage = 0;
	int64_t since = INT64_MAX;
	uint64_t cookie = 0;
	uint64_t spare = 0;
};
static_assert(sizeof(FlatSlot) == 32);

// The population's usage and stall ages in flat slots.
std::vector<FlatSlot> flat_copy(const Population &pop)
{
	const int64_t now = pop.clock.now().time_since_epoch().count();
	std::vector<FlatSlot> a(pop.ids.size());
	for (size_t i = 0; i < a.size(); ++i) {
		a[i].usage = pop.usage[i];
		a[i].since = now - int64_t(pop.stall_ms[i]) * 1'000'000;
		a[i].cookie = pop.cookies[i];
	}
	return a;
}

// The memory-bound limit of BM_TrackerSetUsageBatch: the same update
// stream (same random slots, same values, same batches) applied to the
// flat array: each update reads the old usage (for the total, as any
// accounting must) and writes usage and stall start.
void BM_FlatArrayUpdateBatch(benchmark::State &state)
{
	Population &pop = realistic(participants_of(state));
	const auto us = handle_updates(pop);
	std::vector<FlatSlot> a = flat_copy(pop);
	FlatSlot *slots = a.data();
	benchmark::DoNotOptimize(slots); // the array escapes: its stores count
	uint64_t total = pop.total;
	const int64_t now = pop.clock.now().time_since_epoch().count();
	size_t k = 0;
	for (auto _ : state) {
		const Tracker::HandleUpdate *u = us.data() + k;
		for (size_t j = 0; j < kBatch; ++j) {
			FlatSlot &s = slots[u[j].id.index];
			const uint64_t rmem = u[j].usage.rmem_alloc;
			total += rmem - s.usage;
			s.usage = rmem;
			s.since = u[j].usage.stalled_for ? now - u[j].usage.stalled_for->count()
							 : INT64_MAX;
		}
		benchmark::DoNotOptimize(total);
		benchmark::ClobberMemory();
		k = (k + kBatch) & (us.size() - 1);
	}
	state.SetItemsProcessed(state.iterations() * kBatch);
	state.counters["participants"] = double(a.size());
}
BENCHMARK(BM_FlatArrayUpdateBatch)->Arg(kParticipants)->Arg(kSmokeParticipants);

// One sequential pass over all participants: the least a decide() that
// looks at every socket can cost. Reads every slot and sums the bytes and
// count of those stalled at least min_stall (what the system quota's
// candidate scan selects).
void BM_FlatArrayPass(benchmark::State &state)
{
	Population &pop = realistic(participants_of(state));
	std::vector<FlatSlot> a = flat_copy(pop);
	const FlatSlot *slots = a.data();
	benchmark::DoNotOptimize(slots);
	const int64_t cutoff = pop.clock.now().time_since_epoch().count() -
			       std::chrono::nanoseconds(Limits{}.min_stall).count();
	const size_t n = a.size();
	uint64_t bytes = 0, count = 0;
	for (auto _ : state) {
		bytes = count = 0;
		for (size_t i = 0; i < n; ++i)
			if (slots[i].since <= cutoff) {
				bytes += slots[i].usage;
				++count;
			}
		benchmark::DoNotOptimize(bytes);
		benchmark::DoNotOptimize(count);
		benchmark::ClobberMemory();
	}
	state.counters["participants"] = double(n);
	state.counters["selected"] = double(count);
}
BENCHMARK(BM_FlatArrayPass)
	->Arg(kParticipants)
	->Arg(kSmokeParticipants)
	->Unit(benchmark::kMillisecond);

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
	auto pop = build(participants_of(state), false);
	report_memory(state, *pop);
}
BENCHMARK(BM_TrackerMemory)->Arg(kParticipants)->Iterations(1)->Unit(benchmark::kMillisecond);

void BM_TrackerMemoryPeerPerSocket(benchmark::State &state)
{
	auto pop = build(participants_of(state), true);
	report_memory(state, *pop);
}
BENCHMARK(BM_TrackerMemoryPeerPerSocket)
	->Arg(kParticipants)
	->Iterations(1)
	->Unit(benchmark::kMillisecond);

} // namespace
} // namespace rcvgov::tracker
