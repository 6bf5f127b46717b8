// libFuzzer harness: /etc/rcvgov/rcvgov.toml as rcvgovd reads it at start
// and at SIGHUP (config::parse), then the limits in force computed from it
// on a few machines (config::effective_limits), with every error rendered
// as the daemon logs it.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "config/config.h"

using namespace rcvgov;

namespace {

const config::Machine kMachines[] = {
	// 16 GiB, tcp_mem of a machine that size (pages).
	{16ULL << 30, {190000, 253000, 380000}, 4096},
	// A small VM.
	{512ULL << 20, {5000, 6000, 9000}, 4096},
	// What read_machine() returns when /proc could not be read.
	{0, {0, 0, 0}, 4096},
	// A bogus tcp_mem that would overflow bytes = pages * page size.
	{1ULL << 40, {~0ULL, ~0ULL, ~0ULL}, 65536},
};

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	// Config files are small; bigger inputs only slow the fuzzer down.
	if (size > 16 * 1024)
		return 0;
	std::string_view text(reinterpret_cast<const char *>(data), size);
	config::Checked<config::Config> cfg = config::parse(text, "fuzz");
	if (!cfg) {
		if (cfg.errors().empty())
			std::abort(); // a failure must say why
		(void)config::text(cfg.errors());
		return 0;
	}
	for (const auto &m : kMachines) {
		auto limits = config::effective_limits(*cfg, m);
		if (!limits) {
			if (limits.errors().empty())
				std::abort();
			(void)config::text(limits.errors());
			continue;
		}
		// What validate() promises to every consumer of the limits.
		if (limits->max == 0 || limits->low_water >= limits->max ||
		    limits->per_socket == 0 || limits->per_peer == 0 || limits->per_service == 0)
			std::abort();
	}
	return 0;
}
