#include "pair/pair_args.h"

#include <CLI/CLI.hpp>
#include <arpa/inet.h>
#include <cctype>
#include <cstring>
#include <limits>
#include <netinet/in.h>
#include <stdexcept>

#include "common/version.h"

namespace rcvgov::pair {

namespace {

[[noreturn]] void bad(const std::string &flag, const std::string &text, const std::string &want)
{
	throw std::invalid_argument(flag + ": invalid value '" + text + "': " + want);
}

// Splits "123abc" into 123 and "abc"; false if there is no leading number.
bool split_number(const std::string &text, uint64_t &num, std::string &suffix)
{
	size_t i = 0;
	while (i < text.size() && std::isdigit(static_cast<unsigned char>(text[i])))
		++i;
	if (i == 0 || i > 18)
		return false;
	num = std::stoull(text.substr(0, i));
	suffix = text.substr(i);
	return true;
}

} // namespace

uint64_t parse_size(const std::string &flag, const std::string &text)
{
	const char *want = "a positive byte count like 1448, 64K or 1M";
	uint64_t n;
	std::string suffix;
	if (!split_number(text, n, suffix))
		bad(flag, text, want);
	uint64_t mult = 1;
	if (suffix == "K" || suffix == "k")
		mult = 1ULL << 10;
	else if (suffix == "M" || suffix == "m")
		mult = 1ULL << 20;
	else if (suffix == "G" || suffix == "g")
		mult = 1ULL << 30;
	else if (!suffix.empty())
		bad(flag, text, want);
	if (n == 0)
		bad(flag, text, want);
	// One write/read buffer of this size is allocated: keep it sane.
	if (n > std::numeric_limits<uint32_t>::max() / mult)
		bad(flag, text, "must be below 4G");
	return n * mult;
}

uint64_t parse_count(const std::string &flag, const std::string &text, uint64_t max)
{
	const std::string want = "a whole number from 1 to " + std::to_string(max);
	uint64_t n;
	std::string suffix;
	if (!split_number(text, n, suffix) || !suffix.empty() || n == 0 || n > max)
		bad(flag, text, want);
	return n;
}

std::chrono::nanoseconds parse_duration(const std::string &flag, const std::string &text,
					bool allow_zero)
{
	const char *want = allow_zero ? "a duration like 1ms, 500us, 30s or 2m; 0 for no limit"
				      : "a positive duration like 1ms, 500us, 30s or 2m";
	uint64_t n;
	std::string suffix;
	if (!split_number(text, n, suffix))
		bad(flag, text, want);
	if (n == 0) {
		if (!allow_zero)
			bad(flag, text, want);
		return std::chrono::nanoseconds(0);
	}
	uint64_t ns_per;
	if (suffix == "ns")
		ns_per = 1;
	else if (suffix == "us")
		ns_per = 1000;
	else if (suffix == "ms")
		ns_per = 1000000;
	else if (suffix == "s")
		ns_per = 1000000000ULL;
	else if (suffix == "m")
		ns_per = 60ULL * 1000000000ULL;
	else if (suffix == "h")
		ns_per = 3600ULL * 1000000000ULL;
	else
		bad(flag, text, std::string(want) + " (the unit is required)");
	if (n > std::numeric_limits<int64_t>::max() / ns_per)
		bad(flag, text, "too long");
	return std::chrono::nanoseconds(static_cast<int64_t>(n * ns_per));
}

SockAddr parse_endpoint(const std::string &flag, const std::string &text)
{
	const char *want = "ADDR:PORT with a numeric IPv4 address, or [IPv6]:PORT";
	std::string host, port;
	// Brackets mark IPv6 and only IPv6, so the form alone tells the family.
	bool bracketed = !text.empty() && text[0] == '[';
	if (bracketed) {
		auto close = text.find("]:");
		if (close == std::string::npos)
			bad(flag, text, want);
		host = text.substr(1, close - 1);
		port = text.substr(close + 2);
	} else {
		auto colon = text.rfind(':');
		if (colon == std::string::npos || text.find(':') != colon)
			bad(flag, text, want);
		host = text.substr(0, colon);
		port = text.substr(colon + 1);
	}
	if (host.empty())
		bad(flag, text, want);
	uint64_t p;
	std::string rest;
	if (!split_number(port, p, rest) || !rest.empty() || p == 0 || p > 65535)
		bad(flag, text, "port must be 1..65535");
	SockAddr a;
	auto *v4 = reinterpret_cast<sockaddr_in *>(&a.ss);
	auto *v6 = reinterpret_cast<sockaddr_in6 *>(&a.ss);
	if (!bracketed && inet_pton(AF_INET, host.c_str(), &v4->sin_addr) == 1) {
		v4->sin_family = AF_INET;
		v4->sin_port = htons(static_cast<uint16_t>(p));
		a.len = sizeof(*v4);
	} else if (bracketed && inet_pton(AF_INET6, host.c_str(), &v6->sin6_addr) == 1) {
		v6->sin6_family = AF_INET6;
		v6->sin6_port = htons(static_cast<uint16_t>(p));
		a.len = sizeof(*v6);
	} else {
		bad(flag, text, want);
	}
	return a;
}

std::string format_sockaddr(const sockaddr *sa)
{
	char buf[INET6_ADDRSTRLEN] = "?";
	if (sa->sa_family == AF_INET6) {
		auto *v6 = reinterpret_cast<const sockaddr_in6 *>(sa);
		inet_ntop(AF_INET6, &v6->sin6_addr, buf, sizeof(buf));
		return "[" + std::string(buf) + "]:" + std::to_string(ntohs(v6->sin6_port));
	}
	auto *v4 = reinterpret_cast<const sockaddr_in *>(sa);
	inet_ntop(AF_INET, &v4->sin_addr, buf, sizeof(buf));
	return std::string(buf) + ":" + std::to_string(ntohs(v4->sin_port));
}

const char *to_string(ReadMode m)
{
	switch (m) {
	case ReadMode::Slow: return "slow";
	case ReadMode::Never: return "never";
	case ReadMode::Oscillate: return "oscillate";
	}
	return "?";
}

uint64_t read_bytes_at(const ReaderConfig &cfg, std::chrono::nanoseconds elapsed)
{
	switch (cfg.mode) {
	case ReadMode::Never: return 0;
	case ReadMode::Slow: return cfg.read_bytes;
	case ReadMode::Oscillate: {
		auto cycle = cfg.slow_period + cfg.fast_period;
		return (elapsed % cycle) < cfg.slow_period ? cfg.read_bytes : cfg.fast_bytes;
	}
	}
	return 0;
}

namespace {

// CLI11 collects strings; the conversions above give the error text.
void run_cli(CLI::App &app, const std::vector<std::string> &args)
{
	// CLI11 2.1 checks required options before it acts on --version.
	for (const std::string &a : args)
		if (a == "--version")
			throw HelpRequested{version_line(app.get_name()) + "\n"};
	std::vector<std::string> rev(args.rbegin(), args.rend());
	try {
		app.parse(rev);
	} catch (const CLI::CallForHelp &) {
		throw HelpRequested{app.help()};
	} catch (const CLI::CallForVersion &v) {
		throw HelpRequested{std::string(v.what()) + "\n"};
	} catch (const CLI::ParseError &e) {
		throw std::invalid_argument(e.what());
	}
}

} // namespace

SenderConfig parse_sender_args(const std::vector<std::string> &args)
{
	CLI::App app{"Writes PAYLOAD bytes every INTERVAL to a TCP peer (the blog's sender).",
		     "rcvgov-sender"};
	app.set_version_flag("--version", version_line("rcvgov-sender"),
			     "print the version and commit, exit");
	std::string connect, payload = "1448", interval = "1ms", duration = "30s",
			     connect_timeout = "10s", connections = "1";
	bool nodelay = true, catch_up = false;
	app.add_option("--connect", connect, "ADDR:PORT or [ADDR6]:PORT")->required();
	app.add_option("--payload", payload, "bytes per write (1448, 64K, ...)")
		->capture_default_str();
	app.add_option("--interval", interval, "time between writes")->capture_default_str();
	app.add_option("--duration", duration, "how long to run, 0 = forever")
		->capture_default_str();
	app.add_option("--connect-timeout", connect_timeout, "give up connecting after this")
		->capture_default_str();
	app.add_flag("--nodelay,!--no-nodelay", nodelay,
		     "TCP_NODELAY: one segment per write (default on; --no-nodelay for Nagle)");
	app.add_flag("--catch-up", catch_up,
		     "after a stall, send the missed writes in a burst (default: skip them)");
	app.add_option("--connections", connections,
		       "open N connections, write PAYLOAD on each every INTERVAL without waiting")
		->capture_default_str();
	run_cli(app, args);
	SenderConfig c;
	c.connect = parse_endpoint("--connect", connect);
	c.payload = parse_size("--payload", payload);
	c.interval = parse_duration("--interval", interval);
	c.duration = parse_duration("--duration", duration, true);
	c.connect_timeout = parse_duration("--connect-timeout", connect_timeout);
	c.nodelay = nodelay;
	c.catch_up = catch_up;
	c.connections = parse_count("--connections", connections, max_connections);
	if (c.catch_up && c.connections > 1)
		throw std::invalid_argument(
			"--catch-up: only with one connection (with --connections "
			"N, a write the socket cannot take is skipped)");
	return c;
}

ReaderConfig parse_reader_args(const std::vector<std::string> &args)
{
	CLI::App app{"Accepts one TCP connection and reads it slowly, never, or slow/fast in turn.",
		     "rcvgov-reader"};
	app.set_version_flag("--version", version_line("rcvgov-reader"),
			     "print the version and commit, exit");
	std::string listen, mode = "slow", read_bytes = "1", fast_bytes = "3300", interval = "1ms",
			    slow_period = "240s", fast_period = "240s", duration = "30s",
			    accept_timeout = "60s", connections = "1";
	app.add_option("--listen", listen, "ADDR:PORT or [ADDR6]:PORT")->required();
	app.add_option("--mode", mode, "slow, never or oscillate")->capture_default_str();
	app.add_option("--read-bytes", read_bytes, "bytes per read (slow mode, slow phase)")
		->capture_default_str();
	app.add_option("--fast-bytes", fast_bytes, "bytes per read in the fast phase")
		->capture_default_str();
	app.add_option("--interval", interval, "time between reads")->capture_default_str();
	app.add_option("--slow-period", slow_period, "oscillate: slow phase length")
		->capture_default_str();
	app.add_option("--fast-period", fast_period, "oscillate: fast phase length")
		->capture_default_str();
	app.add_option("--duration", duration, "how long to read after accept, 0 = forever")
		->capture_default_str();
	app.add_option("--accept-timeout", accept_timeout, "give up waiting for a peer, 0 = never")
		->capture_default_str();
	app.add_option("--connections", connections,
		       "accept N connections, then read each by --mode")
		->capture_default_str();
	// No --rcvbuf on purpose: SO_RCVBUF locks autotuning and hides the bug.
	run_cli(app, args);
	ReaderConfig c;
	c.listen = parse_endpoint("--listen", listen);
	if (mode == "slow")
		c.mode = ReadMode::Slow;
	else if (mode == "never")
		c.mode = ReadMode::Never;
	else if (mode == "oscillate")
		c.mode = ReadMode::Oscillate;
	else
		bad("--mode", mode, "one of slow, never, oscillate");
	c.read_bytes = parse_size("--read-bytes", read_bytes);
	c.fast_bytes = parse_size("--fast-bytes", fast_bytes);
	c.interval = parse_duration("--interval", interval);
	c.slow_period = parse_duration("--slow-period", slow_period);
	c.fast_period = parse_duration("--fast-period", fast_period);
	c.duration = parse_duration("--duration", duration, true);
	c.accept_timeout = parse_duration("--accept-timeout", accept_timeout, true);
	c.connections = parse_count("--connections", connections, max_connections);
	return c;
}

} // namespace rcvgov::pair
