// Loads and attaches the rcvgov BPF programs with per-hook fallbacks, and
// owns every BPF object, link and the ring buffer (released in reverse
// order on destruction: links detach, nothing stays pinned).
#pragma once

#include <array>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <vector>

#include "bpf/attach_plan.h"
#include "common/error.h"
#include "common/unique_fd.h"
#include "core/abi.h"
#include "core/loss_report.h"

namespace rcvgov::bpf {

struct ObserverOptions {
	uint32_t events_per_sec_per_socket = 20;
	// Off: never try fentry/fexit (for testing the fallbacks anywhere).
	bool allow_fexit = true;
	// ESTABLISHED + CLOSED events per second over all sockets (the BPF
	// side's global budget); 0: unlimited. Over it the events are counted
	// (RCVGOV_STAT_EV_OVER_BUDGET), not sent; the next snapshot has them.
	uint32_t lifecycle_events_per_sec = 5000;
	// Ring buffer size: a power of two, at least one page.
	uint32_t ring_bytes = 256 * 1024;
};

// The name of a kernel counter (enum rcvgov_stat) in `status`.
const char *stat_name(uint32_t stat);

// Fills KernelFeatures from the running kernel: BTF lookups plus a trial
// load+attach of a tiny fexit program on each candidate function.
KernelFeatures detect_features(bool allow_fexit);

class Observer {
public:
	using EventHandler = std::function<void(std::span<const uint8_t>)>;

	// Throws std::runtime_error saying what failed and why.
	Observer(const ObserverOptions &opts, EventHandler on_event);
	~Observer();
	Observer(const Observer &) = delete;
	Observer &operator=(const Observer &) = delete;

	int event_fd() const;
	// Hands at most `budget` events to the handler (so a storm cannot hold
	// the event loop), in order, and returns how many, or -errno. The fd
	// stays readable while more are waiting.
	int consume(size_t budget);

	// Events the kernel side could not send: lost (ring buffer full) and
	// over the lifecycle budget. Reads the stats map at most once per
	// `min_interval_ns` (nullopt when it does not read now). `report` is
	// set when there is new loss to log: at once the first time, then at
	// most once per 10 s, with the sum since the previous report.
	struct Loss {
		uint64_t dropped = 0;	  // RCVGOV_STAT_EV_DROPPED, total
		uint64_t over_budget = 0; // RCVGOV_STAT_EV_OVER_BUDGET, total
		std::optional<LossReport::Delta> report;
	};
	std::optional<Loss> check_loss(uint64_t now_ns, uint64_t min_interval_ns = 1000000000ULL);

	const std::vector<HookPath> &paths() const;
	std::array<uint64_t, RCVGOV_STAT__MAX> stats() const;

	// An iter/tcp read fd over the CALLER'S current network namespace.
	Result<UniqueFd> open_snapshot() const;

private:
	struct Impl;
	std::unique_ptr<Impl> impl_;
};

} // namespace rcvgov::bpf
