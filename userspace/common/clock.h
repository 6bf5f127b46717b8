// CLOCK_MONOTONIC in nanoseconds: the clock of BPF's bpf_ktime_get_ns(),
// so daemon times and event timestamps compare directly.
#pragma once

#include <cstdint>
#include <ctime>

namespace rcvgov {

inline uint64_t mono_ns()
{
	timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return static_cast<uint64_t>(ts.tv_sec) * 1000000000ULL + ts.tv_nsec;
}

} // namespace rcvgov
