#include "pair/pacing.h"

#include <cerrno>
#include <csignal>
#include <sys/resource.h>

namespace rcvgov::pair {

namespace {

volatile sig_atomic_t stop_flag = 0;

void on_stop(int)
{
	stop_flag = 1;
}

long long to_ns(const timespec &t)
{
	return t.tv_sec * 1000000000LL + t.tv_nsec;
}

timespec from_ns(long long ns)
{
	return timespec{ns / 1000000000LL, ns % 1000000000LL};
}

} // namespace

void install_stop_handlers()
{
	struct sigaction sa {};
	sa.sa_handler = on_stop;
	sigemptyset(&sa.sa_mask);
	sa.sa_flags = 0;
	sigaction(SIGINT, &sa, nullptr);
	sigaction(SIGTERM, &sa, nullptr);
	signal(SIGPIPE, SIG_IGN);
}

bool stop_requested()
{
	return stop_flag != 0;
}

std::string reserve_fds(const char *flag, uint64_t connections, uint64_t needed)
{
	rlimit lim{};
	if (getrlimit(RLIMIT_NOFILE, &lim) == 0 && lim.rlim_cur != RLIM_INFINITY &&
	    lim.rlim_cur < needed) {
		if (lim.rlim_max == RLIM_INFINITY || lim.rlim_max >= needed) {
			lim.rlim_cur = needed;
			if (setrlimit(RLIMIT_NOFILE, &lim) == 0)
				return "";
		}
		return std::string(flag) + " " + std::to_string(connections) + " needs " +
		       std::to_string(needed) + " file descriptors; the limit is " +
		       std::to_string(lim.rlim_max == RLIM_INFINITY ? lim.rlim_cur : lim.rlim_max) +
		       " (ulimit -Hn)";
	}
	return "";
}

Pacer::Pacer(std::chrono::nanoseconds interval) : interval_ns_(interval.count())
{
	clock_gettime(CLOCK_MONOTONIC, &start_);
	next_ = start_;
}

bool Pacer::wait()
{
	next_ = from_ns(to_ns(next_) + interval_ns_);
	while (!stop_requested()) {
		int rc = clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &next_, nullptr);
		if (rc == 0)
			return true;
		if (rc != EINTR)
			return false;
	}
	return false;
}

std::chrono::nanoseconds Pacer::elapsed() const
{
	timespec now;
	clock_gettime(CLOCK_MONOTONIC, &now);
	return std::chrono::nanoseconds(to_ns(now) - to_ns(start_));
}

} // namespace rcvgov::pair
