#include "cli/interrupt.h"

#include <csignal>
#include <ctime>

namespace rcvgov::cli {

namespace {

volatile sig_atomic_t g_interrupted = 0;

void on_signal(int)
{
	g_interrupted = 1;
}

} // namespace

void catch_interrupts()
{
	struct sigaction sa {};
	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	sa.sa_flags = 0; // no SA_RESTART: a blocking call returns EINTR
	sigaction(SIGINT, &sa, nullptr);
	sigaction(SIGTERM, &sa, nullptr);
}

bool interrupted()
{
	return g_interrupted != 0;
}

void nap_ms(long ms)
{
	if (ms <= 0 || interrupted())
		return;
	timespec ts{ms / 1000, (ms % 1000) * 1000000L};
	nanosleep(&ts, nullptr); // EINTR on a signal: return early
}

} // namespace rcvgov::cli
