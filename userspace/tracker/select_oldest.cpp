#include "tracker/select_oldest.h"

#include <algorithm>
#include <bit>

namespace rcvgov::tracker::detail {

void select_oldest(std::span<const Candidate> cands, uint64_t needed,
		   std::vector<Candidate, CountingAllocator<Candidate>> &out,
		   std::vector<uint64_t, CountingAllocator<uint64_t>> &histogram)
{
	// Sockets without an age rank first; among the others, bucket by age
	// (linear buckets over the observed range, a power-of-two width so the
	// bucket is a shift), add up bytes per bucket to find the bucket where
	// `needed` is reached, and order only the buckets up to it.
	const size_t first = out.size();
	uint64_t unaged = 0;
	int64_t lo = INT64_MAX, hi = INT64_MIN;
	for (const Candidate &c : cands) {
		if (c.since == INT64_MIN) {
			out.push_back(c);
			unaged += c.usage;
		} else {
			lo = std::min(lo, c.since);
			hi = std::max(hi, c.since);
		}
	}
	std::sort(out.begin() + first, out.end(), older);
	if (unaged >= needed || lo > hi)
		return;
	needed -= unaged;

	// About four candidates per bucket, at most 2^18 buckets: measured at
	// 1 M candidates, fewer buckets spend more in sorting them, more spend
	// more in a histogram that no longer fits in cache.
	const unsigned bits = std::clamp<unsigned>(std::bit_width(cands.size()), 10, 20) - 2;
	const uint64_t range = uint64_t(hi) - uint64_t(lo);
	const unsigned width = std::bit_width(range);
	const unsigned shift = width > bits ? width - bits : 0;
	const size_t nbuckets = size_t(range >> shift) + 1;
	auto bucket = [&](const Candidate &c) {
		return size_t((uint64_t(c.since) - uint64_t(lo)) >> shift);
	};

	// Per bucket, side by side (one cache line per update): bytes, and the
	// count that later becomes the bucket's write offset.
	histogram.assign(2 * nbuckets, 0);
	uint64_t *h = histogram.data();
	for (const Candidate &c : cands) {
		if (c.since == INT64_MIN)
			continue;
		const size_t b = bucket(c);
		h[2 * b] += c.usage;
		++h[2 * b + 1];
	}
	size_t cut = 0;
	for (uint64_t sum = 0; cut < nbuckets; ++cut) {
		sum += h[2 * cut];
		if (sum >= needed)
			break;
	}
	cut = std::min(cut, nbuckets - 1);

	// A counting sort of the chosen buckets, then each bucket in order.
	size_t total = 0;
	for (size_t b = 0; b <= cut; ++b) {
		const uint64_t n = h[2 * b + 1];
		h[2 * b + 1] = total;
		total += n;
	}
	const size_t base = out.size();
	out.resize(base + total);
	for (const Candidate &c : cands) {
		if (c.since == INT64_MIN)
			continue;
		const size_t b = bucket(c);
		if (b <= cut)
			out[base + h[2 * b + 1]++] = c;
	}
	size_t start = base;
	for (size_t b = 0; b <= cut; ++b) {
		const size_t end = base + h[2 * b + 1];
		if (end - start > 1)
			std::sort(out.begin() + start, out.begin() + end, older);
		start = end;
	}
}

void select_oldest_n(std::span<const Candidate> cands, size_t count,
		     std::vector<Candidate, CountingAllocator<Candidate>> &out)
{
	const size_t first = out.size();
	const size_t n = std::min(count, cands.size());
	out.resize(first + n);
	std::partial_sort_copy(cands.begin(), cands.end(), out.begin() + long(first), out.end(),
			       older);
}

} // namespace rcvgov::tracker::detail
