// An allocator that adds every byte it hands out to a counter owned by the
// tracker, so Tracker::memory_bytes() is a measurement of what the
// containers hold, not an estimate. (malloc's own per-chunk overhead is not
// included; the tracker's containers are few, large blocks.)
#pragma once

#include <cstddef>
#include <memory>

namespace rcvgov::tracker {

template <class T> class CountingAllocator {
public:
	using value_type = T;

	explicit CountingAllocator(size_t *bytes) noexcept : bytes_(bytes) {}
	template <class U>
	CountingAllocator(const CountingAllocator<U> &o) noexcept : bytes_(o.counter())
	{
	}

	T *allocate(size_t n)
	{
		T *p = std::allocator<T>().allocate(n);
		*bytes_ += n * sizeof(T);
		return p;
	}
	void deallocate(T *p, size_t n) noexcept
	{
		*bytes_ -= n * sizeof(T);
		std::allocator<T>().deallocate(p, n);
	}

	size_t *counter() const noexcept { return bytes_; }

	template <class U> bool operator==(const CountingAllocator<U> &o) const noexcept
	{
		return bytes_ == o.counter();
	}

private:
	size_t *bytes_;
};

} // namespace rcvgov::tracker
