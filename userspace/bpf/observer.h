// Loads and attaches the rcvgov BPF programs with per-hook fallbacks, and
// owns every BPF object, link and the ring buffer (released in reverse
// order on destruction: links detach, nothing stays pinned).
#pragma once

#include <array>
#include <cstdint>
#include <functional>
#include <memory>
#include <span>
#include <vector>

#include "bpf/attach_plan.h"
#include "common/error.h"
#include "common/unique_fd.h"
#include "core/abi.h"

namespace rcvgov::bpf {

struct ObserverOptions {
	uint32_t events_per_sec_per_socket = 20;
	// Off: never try fentry/fexit (for testing the fallbacks anywhere).
	bool allow_fexit = true;
};

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
	// Drains the ring buffer, calling the handler per event.
	int consume();

	const std::vector<HookPath> &paths() const;
	std::array<uint64_t, RCVGOV_STAT__MAX> stats() const;

	// An iter/tcp read fd over the CALLER'S current network namespace.
	Result<UniqueFd> open_snapshot() const;

private:
	struct Impl;
	std::unique_ptr<Impl> impl_;
};

} // namespace rcvgov::bpf
