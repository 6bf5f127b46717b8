#include "pair/pair_args.h"

#include <gtest/gtest.h>
#include <netinet/in.h>

namespace rcvgov::pair {
namespace {

std::string error_of(auto fn)
{
	try {
		fn();
	} catch (const std::invalid_argument &e) {
		return e.what();
	}
	return "";
}

TEST(PairArgs, Sizes)
{
	EXPECT_EQ(parse_size("--payload", "1448"), 1448u);
	EXPECT_EQ(parse_size("--payload", "64K"), 65536u);
	EXPECT_EQ(parse_size("--payload", "1M"), 1u << 20);
	for (const char *bad : {"", "0", "-1", "1.5K", "12Q", "K", "99999999999999999999"}) {
		std::string e = error_of([&] { parse_size("--payload", bad); });
		EXPECT_NE(e.find("--payload"), std::string::npos) << bad << ": " << e;
	}
	EXPECT_NE(error_of([] { parse_size("--payload", "5G"); }).find("at most 4G"),
		  std::string::npos);
}

TEST(PairArgs, Durations)
{
	using namespace std::chrono_literals;
	EXPECT_EQ(parse_duration("--interval", "1ms"), 1ms);
	EXPECT_EQ(parse_duration("--interval", "500us"), 500us);
	EXPECT_EQ(parse_duration("--duration", "30s"), 30s);
	EXPECT_EQ(parse_duration("--duration", "2m"), 120s);
	EXPECT_EQ(parse_duration("--duration", "0", true), 0ns);
	EXPECT_NE(error_of([] { parse_duration("--interval", "0"); }).find("positive"),
		  std::string::npos);
	EXPECT_NE(error_of([] { parse_duration("--interval", "10"); }).find("unit is required"),
		  std::string::npos);
	EXPECT_NE(error_of([] { parse_duration("--interval", "1 ms"); }).find("--interval"),
		  std::string::npos);
}

TEST(PairArgs, Endpoints)
{
	auto v4 = parse_endpoint("--connect", "10.0.0.2:5001");
	EXPECT_EQ(v4.family(), AF_INET);
	EXPECT_EQ(format_sockaddr(reinterpret_cast<const sockaddr *>(&v4.ss)), "10.0.0.2:5001");
	auto v6 = parse_endpoint("--connect", "[fd00::2]:443");
	EXPECT_EQ(v6.family(), AF_INET6);
	EXPECT_EQ(format_sockaddr(reinterpret_cast<const sockaddr *>(&v6.ss)), "[fd00::2]:443");
	for (const char *bad : {"10.0.0.2", "10.0.0.2:0", "10.0.0.2:70000", "fd00::2:80",
				"[fd00::2]80", "host.example:80", ":80"})
		EXPECT_NE(error_of([&] { parse_endpoint("--connect", bad); }).find("--connect"),
			  std::string::npos)
			<< bad;
}

TEST(PairArgs, SenderDefaultsAreTheBlogPair)
{
	auto c = parse_sender_args({"--connect", "127.0.0.1:5001"});
	EXPECT_EQ(c.payload, 1448u);
	EXPECT_EQ(c.interval, std::chrono::milliseconds(1));
	EXPECT_TRUE(c.nodelay);
	EXPECT_NE(error_of([] { parse_sender_args({}); }).find("--connect"), std::string::npos);
	EXPECT_NE(error_of([] { parse_sender_args({"--connect", "1.2.3.4:5", "--bogus"}); }),
		  "");
}

TEST(PairArgs, ReaderModes)
{
	auto c = parse_reader_args({"--listen", "[::1]:5001", "--mode", "oscillate",
				    "--slow-period", "2s", "--fast-period", "1s"});
	EXPECT_EQ(c.mode, ReadMode::Oscillate);
	EXPECT_EQ(c.slow_period, std::chrono::seconds(2));
	EXPECT_EQ(c.fast_bytes, 3300u);
	EXPECT_EQ(parse_reader_args({"--listen", "0.0.0.0:1", "--mode", "never"}).mode,
		  ReadMode::Never);
	EXPECT_NE(error_of([] {
			  parse_reader_args({"--listen", "0.0.0.0:1", "--mode", "sometimes"});
		  }).find("slow, never, oscillate"),
		  std::string::npos);
}

TEST(PairArgs, Help)
{
	try {
		parse_reader_args({"--help"});
		ADD_FAILURE() << "no help";
	} catch (const HelpRequested &h) {
		EXPECT_NE(h.text.find("--mode"), std::string::npos);
	}
}

} // namespace
} // namespace rcvgov::pair
