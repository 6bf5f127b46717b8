// Oldest-first selection for decide() (the rank is the stall start: the
// longest-stalled reader first): the oldest candidates whose bytes add up
// to what must be freed, in order, without sorting everyone.
// With a million sockets and a third of them to go, a heap costs ~20 cache-
// missing levels per pop; this costs three linear passes and small sorts.
#pragma once

#include <cstdint>
#include <span>
#include <vector>

#include "tracker/counting_allocator.h"

namespace rcvgov::tracker::detail {

struct Candidate {
	int64_t since; // INT64_MIN ranks before every time (decide() never uses it)
	uint32_t index;
	uint32_t usage;
};

// The order of selection: the earlier stall start first, ties by index.
struct Older {
	bool operator()(const Candidate &a, const Candidate &b) const
	{
		return a.since != b.since ? a.since < b.since : a.index < b.index;
	}
};
inline constexpr Older older;

// Appends to `out`, oldest first (ties by index), a prefix of the
// candidates in that order whose usage sums to at least `needed` (all of
// them if they do not reach it). It may append a few more than needed (the
// rest of the last age bucket): the caller stops when it has enough.
// `histogram` is scratch space kept by the caller.
void select_oldest(std::span<const Candidate> candidates, uint64_t needed,
		   std::vector<Candidate, CountingAllocator<Candidate>> &out,
		   std::vector<uint64_t, CountingAllocator<uint64_t>> &histogram);

// Appends to `out` the `count` oldest candidates (all of them if fewer),
// oldest first, ties by index: the cheaper choice when a cap on decisions
// bounds how many can be taken anyway (one pass, O(n log count)).
void select_oldest_n(std::span<const Candidate> candidates, size_t count,
		     std::vector<Candidate, CountingAllocator<Candidate>> &out);

} // namespace rcvgov::tracker::detail
