// Time for the tracker. The tracker never reads a clock on its own: it is
// handed a Clock (a steady clock in rcvgovd, a manual one in tests), and the
// hot paths also accept an explicit `now` so a batch of kernel events can
// share one clock read. Everything is therefore deterministic under test.
#pragma once

#include <chrono>

namespace rcvgov::tracker {

using Duration = std::chrono::nanoseconds;
// Monotonic time; the epoch is whatever the clock says (boot for steady).
using Time = std::chrono::time_point<std::chrono::steady_clock, Duration>;

class Clock {
public:
	virtual ~Clock() = default;
	virtual Time now() const = 0;
};

class SteadyClock final : public Clock {
public:
	Time now() const override { return std::chrono::steady_clock::now(); }
};

// Starts at an arbitrary non-zero point so that "age = now - 0" bugs show.
class ManualClock final : public Clock {
public:
	explicit ManualClock(Time start = Time(std::chrono::hours(1))) : t_(start) {}
	Time now() const override { return t_; }
	void advance(Duration d) { t_ += d; }
	void set(Time t) { t_ = t; }

private:
	Time t_;
};

} // namespace rcvgov::tracker
