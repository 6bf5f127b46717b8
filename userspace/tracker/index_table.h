// A hash index from keys to slot numbers for the tracker's slot vectors.
// The keys live in the slots, so a bucket holds only the slot number and 32
// bits of the key's hash (8 bytes): lookups compare the hash bits first and
// touch a slot only on a likely match. Open addressing, linear probing,
// backward-shift deletion (no tombstones, so long-running churn does not
// degrade it), at most 3/4 full.
#pragma once

#include <cstdint>
#include <vector>

#include "tracker/counting_allocator.h"

namespace rcvgov::tracker {

// A 64-bit mix (splitmix64's finalizer): socket cookies are sequential.
inline uint64_t mix64(uint64_t x)
{
	x ^= x >> 30;
	x *= 0xbf58476d1ce4e5b9ULL;
	x ^= x >> 27;
	x *= 0x94d049bb133111ebULL;
	x ^= x >> 31;
	return x;
}

class IndexTable {
public:
	static constexpr uint32_t kNone = UINT32_MAX;

	explicit IndexTable(size_t *bytes) : buckets_(CountingAllocator<Bucket>(bytes)) {}

	size_t size() const { return size_; }
	size_t bucket_count() const { return buckets_.size(); }

	// The slot whose key matches (is_key(slot) is true), or kNone.
	template <class IsKey> uint32_t find(uint64_t hash, IsKey is_key) const
	{
		if (buckets_.empty())
			return kNone;
		const uint32_t tag = tag_of(hash);
		for (size_t i = hash & mask();; i = (i + 1) & mask()) {
			const Bucket &b = buckets_[i];
			if (b.slot == kNone)
				return kNone;
			if (b.tag == tag && is_key(b.slot))
				return b.slot;
		}
	}

	// The slot of the first bucket on the key's probe path whose hash bits
	// match, without looking at any slot: a guess for batched lookups that
	// the caller confirms once the slot is in cache.
	uint32_t first_match(uint64_t hash) const
	{
		if (buckets_.empty())
			return kNone;
		const uint32_t tag = tag_of(hash);
		for (size_t i = hash & mask();; i = (i + 1) & mask()) {
			const Bucket &b = buckets_[i];
			if (b.slot == kNone || b.tag == tag)
				return b.slot;
		}
	}

	void prefetch(uint64_t hash) const
	{
		if (!buckets_.empty())
			__builtin_prefetch(&buckets_[hash & mask()]);
	}

	// Precondition: no entry for this key. hash_of(slot) rehashes on growth.
	template <class HashOf> void insert(uint64_t hash, uint32_t slot, HashOf hash_of)
	{
		if ((size_ + 1) * 4 > buckets_.size() * 3)
			grow(hash_of);
		place(hash, slot);
		++size_;
	}

	// Removes the entry pointing at `slot` (whose key hashes to `hash`).
	// Returns false if there was none.
	template <class HashOf> bool erase(uint64_t hash, uint32_t slot, HashOf hash_of)
	{
		if (buckets_.empty())
			return false;
		size_t i = hash & mask();
		for (;; i = (i + 1) & mask()) {
			if (buckets_[i].slot == kNone)
				return false;
			if (buckets_[i].slot == slot)
				break;
		}
		// Backward shift: pull later entries of the cluster into the hole
		// when their home position allows it.
		size_t hole = i;
		for (size_t j = (i + 1) & mask(); buckets_[j].slot != kNone; j = (j + 1) & mask()) {
			const size_t home = hash_of(buckets_[j].slot) & mask();
			const bool movable =
				hole <= j ? (home <= hole || home > j) : (home <= hole && home > j);
			if (movable) {
				buckets_[hole] = buckets_[j];
				hole = j;
			}
		}
		buckets_[hole] = Bucket{};
		--size_;
		return true;
	}

	// Every slot in the table, for the consistency checker.
	template <class F> void for_each(F f) const
	{
		for (const Bucket &b : buckets_)
			if (b.slot != kNone)
				f(b.slot, b.tag);
	}

	static uint32_t tag_of(uint64_t hash) { return static_cast<uint32_t>(hash >> 32); }

private:
	struct Bucket {
		uint32_t slot = kNone;
		uint32_t tag = 0;
	};

	size_t mask() const { return buckets_.size() - 1; }

	void place(uint64_t hash, uint32_t slot)
	{
		size_t i = hash & mask();
		while (buckets_[i].slot != kNone)
			i = (i + 1) & mask();
		buckets_[i] = Bucket{slot, tag_of(hash)};
	}

	template <class HashOf> void grow(HashOf hash_of)
	{
		std::vector<Bucket, CountingAllocator<Bucket>> old(buckets_.get_allocator());
		old.swap(buckets_);
		buckets_.assign(old.empty() ? 16 : old.size() * 2, Bucket{});
		for (const Bucket &b : old)
			if (b.slot != kNone)
				place(hash_of(b.slot), b.slot);
	}

	std::vector<Bucket, CountingAllocator<Bucket>> buckets_;
	size_t size_ = 0;
};

} // namespace rcvgov::tracker
