// The configuration in force: file + command line (assemble), and the
// limits computed from it and the machine (effective_limits).
#include <chrono>
#include <fstream>
#include <unistd.h>

#include "config/config.h"

namespace rcvgov::config {

namespace {

std::string mib(uint64_t bytes)
{
	std::string unit = bytes >= (1ULL << 20) ? std::to_string(bytes >> 20) + " MiB"
						 : std::to_string(bytes >> 10) + " KiB";
	return unit + " (" + std::to_string(bytes) + " bytes)";
}

// tracker::validate() names Limits fields; the file names keys.
std::string key_of(const std::string &field)
{
	if (field == "max")
		return "limits.max_memory";
	if (field == "min_stall")
		return "limits.min_stall_ms";
	if (field.rfind("overrides[", 0) == 0) {
		std::string rest = field.substr(std::string("overrides").size());
		return "override" + rest;
	}
	return "limits." + field;
}

Error error_at(const Config &c, const std::string &key, std::string message)
{
	auto it = c.key_lines.find(key);
	if (it == c.key_lines.end() && key.rfind("override[", 0) == 0)
		it = c.key_lines.find(key.substr(0, key.find(']') + 1) + ".limit");
	return Error{c.source, it == c.key_lines.end() ? 0 : it->second, key, std::move(message)};
}

} // namespace

Checked<Config> assemble(const std::string &path, const CliOverrides &cli, bool path_explicit)
{
	Checked<Config> loaded = load(path, path_explicit);
	if (!loaded)
		return loaded;
	Config &c = loaded.value();
	if (cli.interval_ms)
		c.interval_ms = *cli.interval_ms;
	if (cli.events_per_sec)
		c.events_per_sec = *cli.events_per_sec;
	if (cli.dry_run)
		c.dry_run = true;
	return loaded;
}

uint64_t memory_floor(const Machine &m)
{
	return std::max<uint64_t>(16ULL << 20, m.ram_bytes / 256);
}

Machine read_machine()
{
	Machine m;
	std::ifstream mi("/proc/meminfo");
	std::string key;
	uint64_t kb;
	while (mi >> key >> kb) {
		if (key == "MemTotal:") {
			m.ram_bytes = kb * 1024;
			break;
		}
		mi.ignore(1 << 10, '\n');
	}
	std::ifstream tm("/proc/sys/net/ipv4/tcp_mem");
	tm >> m.tcp_mem.min >> m.tcp_mem.pressure >> m.tcp_mem.max;
	long ps = sysconf(_SC_PAGESIZE);
	m.page_size = ps > 0 ? static_cast<uint64_t>(ps) : 4096;
	return m;
}

Checked<tracker::Limits> effective_limits(const Config &c, const Machine &m)
{
	tracker::Limits l = tracker::apply_knobs(
		tracker::compute_default_limits(m.ram_bytes, m.tcp_mem, m.page_size), c.knobs);
	l.overrides = c.overrides;
	l.min_stall = std::chrono::milliseconds(c.min_stall_ms.value_or(default_min_stall_ms));
	Errors errors;
	// A floor under the limits: a typo ("16K" for "16G") must not make the
	// daemon destroy every socket on the host.
	const uint64_t floor = memory_floor(m);
	if (c.knobs.max_memory && *c.knobs.max_memory < floor && !c.force_below_floor)
		errors.push_back(
			error_at(c, "limits.max_memory",
				 mib(*c.knobs.max_memory) + " is below the floor of " + mib(floor) +
					 " (max(16 MiB, RAM/256)); set "
					 "limits.force_below_floor = true to use it anyway"));
	for (const auto &p : tracker::validate(l))
		errors.push_back(error_at(c, key_of(p.field), p.message));
	if (!errors.empty())
		return errors;
	return l;
}

} // namespace rcvgov::config
