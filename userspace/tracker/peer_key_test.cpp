#include "tracker/peer_key.h"

#include <gtest/gtest.h>

namespace rcvgov::tracker {
namespace {

std::array<uint8_t, 16> addr(std::initializer_list<uint8_t> bytes)
{
	std::array<uint8_t, 16> a{};
	std::copy(bytes.begin(), bytes.end(), a.begin());
	return a;
}

TEST(TrackerPeerKey, Ipv4Slash24)
{
	EXPECT_EQ(peer_key(kAfInet, addr({192, 0, 2, 77})), "192.0.2.0/24");
	EXPECT_EQ(peer_key(kAfInet, addr({10, 255, 0, 1})), "10.255.0.0/24");
	EXPECT_EQ(peer_key(kAfInet, addr({0, 0, 0, 0})), "0.0.0.0/24");
}

TEST(TrackerPeerKey, Ipv6Slash64InRfc5952Form)
{
	EXPECT_EQ(peer_key(kAfInet6,
			   addr({0x20, 0x01, 0x0d, 0xb8, 0x00, 0x01, 0x00, 0x02, 0xde, 0xad})),
		  "2001:db8:1:2::/64");
	EXPECT_EQ(peer_key(kAfInet6, addr({0x20, 0x01, 0x0d, 0xb8})), "2001:db8::/64");
	EXPECT_EQ(peer_key(kAfInet6, addr({0x20, 0x01, 0, 0, 0, 0, 0, 1})), "2001:0:0:1::/64");
	EXPECT_EQ(peer_key(kAfInet6, addr({0xfe, 0x80})), "fe80::/64");
	EXPECT_EQ(peer_key(kAfInet6, addr({0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1})),
		  "::/64"); // ::1
	EXPECT_EQ(peer_key(kAfInet6, addr({0xab, 0xcd, 0x0f, 0xff, 0x00, 0x10, 0xff, 0xff})),
		  "abcd:fff:10:ffff::/64");
}

TEST(TrackerPeerKey, MappedIpv4IsTheIpv4Peer)
{
	EXPECT_EQ(peer_key(kAfInet6,
			   addr({0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 198, 51, 100, 9})),
		  "198.51.100.0/24");
}

TEST(TrackerPeerKey, UnknownFamily)
{
	EXPECT_FALSE(peer_key(1, addr({1, 2, 3, 4})));
}

} // namespace
} // namespace rcvgov::tracker
