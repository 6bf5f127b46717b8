#include "core/format.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>

namespace rcvgov {
namespace {

TEST(Format, Endpoints)
{
	Endpoint v4{AF_INET, {}, 5001};
	inet_pton(AF_INET, "10.1.2.3", v4.addr.data());
	EXPECT_EQ(format_endpoint(v4), "10.1.2.3:5001");
	Endpoint v6{AF_INET6, {}, 443};
	inet_pton(AF_INET6, "fd00::1", v6.addr.data());
	EXPECT_EQ(format_endpoint(v6), "[fd00::1]:443");
}

TEST(Format, Bytes)
{
	EXPECT_EQ(format_bytes(0), "0B");
	EXPECT_EQ(format_bytes(1023), "1023B");
	EXPECT_EQ(format_bytes(131072), "128.0K");
	EXPECT_EQ(format_bytes(81355960), "77.6M");
}

TEST(Format, StateNames)
{
	EXPECT_EQ(tcp_state_name(1), "ESTABLISHED");
	EXPECT_EQ(tcp_state_name(200), "UNKNOWN");
}

TEST(Format, SocketJsonHasTheDocumentedKeys)
{
	SocketInfo s;
	s.cookie = 5;
	s.local.family = s.peer.family = AF_INET;
	s.unread = 10;
	s.stalled_since_ns = 1;
	s.copied_seq = 77;
	s.owner.pid = 3;
	s.owner.comm = "x";
	auto j = to_json(s, 2'000'000'000);
	for (const char *k : {"cookie", "local", "peer", "rmem_alloc", "rcvbuf", "autotuned_rcvbuf",
			      "inflations", "stall_ms", "copied_seq", "owner"})
		EXPECT_TRUE(j.contains(k)) << k;
	EXPECT_FALSE(j.contains("data_age_ms"));
	EXPECT_EQ(j["stall_ms"], 1999);
	EXPECT_EQ(j["copied_seq"], 77);
	EXPECT_EQ(j["owner"]["pid"], 3);
	EXPECT_EQ(j["owner"]["comm"], "x");
}

TEST(Format, UnknownOwnerIsNull)
{
	Owner o;
	auto j = to_json(o);
	EXPECT_TRUE(j["pid"].is_null());
	EXPECT_TRUE(j["comm"].is_null());
}

} // namespace
} // namespace rcvgov
