#include <gtest/gtest.h>

#include <cstring>
#include <string>

#include "diag/sock_diag.h"
#include "diag/sock_diag_test_util.h"

namespace rcvgov::diag {
namespace {

using namespace test;

TEST(SockDiagParse, Ipv4Record)
{
	Msg msg;
	fill_v4(msg.diag());
	add_full_attrs(msg);

	auto r = parse_inet_diag(msg.nlh(), msg.len());
	ASSERT_TRUE(r.ok()) << r.error().message;
	const DiagSocket &s = *r;
	EXPECT_EQ(s.cookie, 0x0123456789abcdefull);
	EXPECT_EQ(s.family, AF_INET);
	EXPECT_EQ(s.saddr, (std::array<uint8_t, 16>{10, 0, 0, 1}));
	EXPECT_EQ(s.daddr, (std::array<uint8_t, 16>{192, 0, 2, 2}));
	EXPECT_EQ(s.sport, 5001);
	EXPECT_EQ(s.dport, 40000);
	EXPECT_EQ(s.state, kTcpEstablished);
	EXPECT_EQ(s.uid, 1000u);
	EXPECT_EQ(s.inode, 424242u);
	EXPECT_EQ(s.ifindex, 3u);
	EXPECT_EQ(s.rqueue, 777u);
	EXPECT_EQ(s.rmem_alloc, 12345u);
	EXPECT_EQ(s.rcvbuf, 131072u);
	EXPECT_EQ(s.cgroup_id, kCgroupId);
	EXPECT_EQ(s.rcv_wscale, 7);
	EXPECT_EQ(s.rcv_space, 65483u);
	EXPECT_EQ(s.bytes_received, kBytesReceived);
	EXPECT_EQ(s.reader_position(), kBytesReceived - 777);
}

TEST(SockDiagParse, Ipv6Record)
{
	Msg msg;
	inet_diag_msg *m = msg.diag();
	m->idiag_family = AF_INET6;
	m->idiag_state = 2; // SYN_SENT
	m->id.idiag_sport = htons(443);
	m->id.idiag_dport = htons(65535);
	in6_addr src{}, dst{};
	ASSERT_EQ(inet_pton(AF_INET6, "2001:db8::1", &src), 1);
	ASSERT_EQ(inet_pton(AF_INET6, "fe80::fc:ff:fe00:1", &dst), 1);
	std::memcpy(m->id.idiag_src, &src, 16);
	std::memcpy(m->id.idiag_dst, &dst, 16);
	m->id.idiag_cookie[0] = 1;
	add_full_attrs(msg);

	auto r = parse_inet_diag(msg.nlh(), msg.len());
	ASSERT_TRUE(r.ok()) << r.error().message;
	EXPECT_EQ(r->family, AF_INET6);
	EXPECT_EQ(std::memcmp(r->saddr.data(), &src, 16), 0);
	EXPECT_EQ(std::memcmp(r->daddr.data(), &dst, 16), 0);
	EXPECT_EQ(r->sport, 443);
	EXPECT_EQ(r->dport, 65535);
	EXPECT_EQ(r->state, 2);
	EXPECT_EQ(r->cookie, 1u);
}

TEST(SockDiagParse, CookieHalvesAssembleLowFirst)
{
	Msg msg;
	inet_diag_msg *m = msg.diag();
	fill_v4(m);
	m->id.idiag_cookie[0] = 0;
	m->id.idiag_cookie[1] = 1;
	auto r = parse_inet_diag(msg.nlh(), msg.len());
	ASSERT_TRUE(r.ok()) << r.error().message;
	EXPECT_EQ(r->cookie, 1ull << 32);
}

TEST(SockDiagParse, Ipv4IgnoresJunkAfterTheFirstAddressWord)
{
	Msg msg;
	inet_diag_msg *m = msg.diag();
	fill_v4(m);
	m->id.idiag_src[1] = 0xffffffff;
	auto r = parse_inet_diag(msg.nlh(), msg.len());
	ASSERT_TRUE(r.ok()) << r.error().message;
	EXPECT_EQ(r->saddr, (std::array<uint8_t, 16>{10, 0, 0, 1}));
}

TEST(SockDiagParse, MissingAttributesLeaveZeros)
{
	Msg msg;
	fill_v4(msg.diag());
	auto r = parse_inet_diag(msg.nlh(), msg.len());
	ASSERT_TRUE(r.ok()) << r.error().message;
	EXPECT_EQ(r->rmem_alloc, 0u);
	EXPECT_EQ(r->rcvbuf, 0u);
	EXPECT_EQ(r->cgroup_id, 0u);
	EXPECT_EQ(r->rcv_wscale, 0);
	EXPECT_EQ(r->rcv_space, 0u);
	EXPECT_EQ(r->rqueue, 777u);
}

TEST(SockDiagParse, MeminfoWithOnlyTheNeededFieldsIsEnough)
{
	Msg msg;
	fill_v4(msg.diag());
	msg.attr(INET_DIAG_SKMEMINFO, kMeminfo, 2 * sizeof(uint32_t));
	auto r = parse_inet_diag(msg.nlh(), msg.len());
	ASSERT_TRUE(r.ok()) << r.error().message;
	EXPECT_EQ(r->rmem_alloc, 12345u);
	EXPECT_EQ(r->rcvbuf, 131072u);
}

TEST(SockDiagParse, MeminfoTooShortIsRejected)
{
	Msg msg;
	fill_v4(msg.diag());
	msg.attr(INET_DIAG_SKMEMINFO, kMeminfo, sizeof(uint32_t));
	auto r = parse_inet_diag(msg.nlh(), msg.len());
	ASSERT_FALSE(r.ok());
	EXPECT_NE(r.error().message.find("INET_DIAG_SKMEMINFO too short"), std::string::npos)
		<< r.error().message;
}

TEST(SockDiagParse, CgroupIdTooShortIsRejected)
{
	Msg msg;
	fill_v4(msg.diag());
	msg.attr(INET_DIAG_CGROUP_ID, &kCgroupId, 4);
	auto r = parse_inet_diag(msg.nlh(), msg.len());
	ASSERT_FALSE(r.ok());
	EXPECT_NE(r.error().message.find("INET_DIAG_CGROUP_ID"), std::string::npos)
		<< r.error().message;
}

TEST(SockDiagParse, ShortTcpInfoUsesOnlyFieldsThatFit)
{
	tcp_info ti{};
	ti.tcpi_rcv_wscale = 5;
	ti.tcpi_rcv_space = 1000;
	const size_t rcv_space_end = offsetof(tcp_info, tcpi_rcv_space) + sizeof(ti.tcpi_rcv_space);

	struct Case {
		size_t len;
		uint8_t wscale;
		uint32_t rcv_space;
	};
	for (Case c : {Case{6, 0, 0}, Case{7, 5, 0}, Case{rcv_space_end - 1, 5, 0},
		       Case{rcv_space_end, 5, 1000}}) {
		Msg msg;
		fill_v4(msg.diag());
		msg.attr(INET_DIAG_INFO, &ti, c.len);
		auto r = parse_inet_diag(msg.nlh(), msg.len());
		ASSERT_TRUE(r.ok()) << r.error().message;
		EXPECT_EQ(r->rcv_wscale, c.wscale) << "tcp_info of " << c.len << " bytes";
		EXPECT_EQ(r->rcv_space, c.rcv_space) << "tcp_info of " << c.len << " bytes";
	}
}

TEST(SockDiagParse, LongerTcpInfoFromNewerKernelIsFine)
{
	std::array<uint8_t, sizeof(tcp_info) + 64> big{};
	tcp_info ti{};
	ti.tcpi_rcv_wscale = 14;
	ti.tcpi_rcv_space = 7;
	std::memcpy(big.data(), &ti, sizeof(ti));
	Msg msg;
	fill_v4(msg.diag());
	msg.attr(INET_DIAG_INFO, big.data(), big.size());
	auto r = parse_inet_diag(msg.nlh(), msg.len());
	ASSERT_TRUE(r.ok()) << r.error().message;
	EXPECT_EQ(r->rcv_wscale, 14);
	EXPECT_EQ(r->rcv_space, 7u);
}

TEST(SockDiagParse, RecordFieldsDropsSsthreshAndWindow)
{
	// skmem's drop count is its ninth field (kMeminfo: 7).
	std::array<uint8_t, sizeof(tcp_info) + 16> big{};
	tcp_info ti{};
	ti.tcpi_rcv_ssthresh = 64000;
	std::memcpy(big.data(), &ti, sizeof(ti));
	const size_t rcv_wnd_off = offsetof(tcp_info, tcpi_snd_wnd) + 4;
	const uint32_t rcv_wnd = 8192;
	std::memcpy(big.data() + rcv_wnd_off, &rcv_wnd, sizeof(rcv_wnd));
	Msg msg;
	fill_v4(msg.diag());
	msg.attr(INET_DIAG_SKMEMINFO, kMeminfo, sizeof(kMeminfo));
	msg.attr(INET_DIAG_INFO, big.data(), rcv_wnd_off + 4);
	auto r = parse_inet_diag(msg.nlh(), msg.len());
	ASSERT_TRUE(r.ok()) << r.error().message;
	EXPECT_EQ(r->drops, 7u);
	EXPECT_EQ(r->rcv_ssthresh, 64000u);
	EXPECT_TRUE(r->has_rcv_wnd);
	EXPECT_EQ(r->rcv_wnd, 8192u);

	// A kernel before tcpi_rcv_wnd: no window, not a zero one.
	Msg old;
	fill_v4(old.diag());
	old.attr(INET_DIAG_SKMEMINFO, kMeminfo, 2 * sizeof(uint32_t));
	old.attr(INET_DIAG_INFO, big.data(), rcv_wnd_off);
	r = parse_inet_diag(old.nlh(), old.len());
	ASSERT_TRUE(r.ok()) << r.error().message;
	EXPECT_FALSE(r->has_rcv_wnd);
	EXPECT_EQ(r->drops, 0u);
}

TEST(SockDiagParse, UnknownAndFlaggedAttributesAreSkipped)
{
	Msg msg;
	fill_v4(msg.diag());
	const uint32_t junk = 0xdeadbeef;
	msg.attr(200, &junk, sizeof(junk));
	msg.attr(INET_DIAG_SKMEMINFO | NLA_F_NET_BYTEORDER, kMeminfo, sizeof(kMeminfo));
	auto r = parse_inet_diag(msg.nlh(), msg.len());
	ASSERT_TRUE(r.ok()) << r.error().message;
	EXPECT_EQ(r->rcvbuf, 131072u);
}

TEST(SockDiagParse, AttributeOverrunningTheMessageIsRejected)
{
	Msg msg;
	fill_v4(msg.diag());
	msg.attr(INET_DIAG_SKMEMINFO, kMeminfo, sizeof(kMeminfo));
	// Cut the message inside the attribute's payload.
	msg.nlh()->nlmsg_len -= 8;
	auto r = parse_inet_diag(msg.nlh(), msg.len());
	ASSERT_FALSE(r.ok());
	EXPECT_NE(r.error().message.find("overruns the message by 8 bytes"), std::string::npos)
		<< r.error().message;
}

TEST(SockDiagParse, AttributeLengthBeyondTheMessageIsRejected)
{
	Msg msg;
	fill_v4(msg.diag());
	msg.attr(INET_DIAG_CGROUP_ID, &kCgroupId, sizeof(kCgroupId));
	msg.last_attr(NLA_HDRLEN + sizeof(kCgroupId))->nla_len = 200;
	auto r = parse_inet_diag(msg.nlh(), msg.len());
	ASSERT_FALSE(r.ok());
	EXPECT_NE(r.error().message.find("attribute type " + std::to_string(INET_DIAG_CGROUP_ID)),
		  std::string::npos)
		<< r.error().message;
	EXPECT_NE(r.error().message.find("overruns"), std::string::npos) << r.error().message;
}

TEST(SockDiagParse, AttributeLengthBelowItsHeaderIsRejected)
{
	Msg msg;
	fill_v4(msg.diag());
	msg.attr(INET_DIAG_CGROUP_ID, &kCgroupId, sizeof(kCgroupId));
	msg.last_attr(NLA_HDRLEN + sizeof(kCgroupId))->nla_len = 2;
	auto r = parse_inet_diag(msg.nlh(), msg.len());
	ASSERT_FALSE(r.ok());
	EXPECT_NE(r.error().message.find("bogus length 2"), std::string::npos) << r.error().message;
}

TEST(SockDiagParse, TrailingBytesShorterThanAnAttributeAreRejected)
{
	Msg msg;
	fill_v4(msg.diag());
	msg.nlh()->nlmsg_len += 2;
	auto r = parse_inet_diag(msg.nlh(), msg.len());
	ASSERT_FALSE(r.ok());
	EXPECT_NE(r.error().message.find("2 trailing bytes"), std::string::npos)
		<< r.error().message;
}

TEST(SockDiagParse, UnpaddedLastAttributeIsAccepted)
{
	Msg msg;
	fill_v4(msg.diag());
	const uint8_t one = 1;
	msg.attr(250, &one, 1);
	msg.nlh()->nlmsg_len -= 3; // drop the alignment padding
	auto r = parse_inet_diag(msg.nlh(), msg.len());
	EXPECT_TRUE(r.ok()) << r.error().message;
}

TEST(SockDiagParse, ShortNetlinkHeaderIsRejected)
{
	Msg msg;
	fill_v4(msg.diag());
	auto r = parse_inet_diag(msg.nlh(), sizeof(nlmsghdr) - 1);
	ASSERT_FALSE(r.ok());
	EXPECT_NE(r.error().message.find("short netlink header"), std::string::npos)
		<< r.error().message;
}

TEST(SockDiagParse, BogusNlmsgLenIsRejected)
{
	Msg msg;
	fill_v4(msg.diag());
	msg.nlh()->nlmsg_len = 4;
	auto r = parse_inet_diag(msg.nlh(), 4096);
	ASSERT_FALSE(r.ok());
	EXPECT_NE(r.error().message.find("bogus nlmsg_len 4"), std::string::npos)
		<< r.error().message;
}

TEST(SockDiagParse, NlmsgLenBeyondTheBufferIsRejected)
{
	Msg msg;
	fill_v4(msg.diag());
	add_full_attrs(msg);
	auto r = parse_inet_diag(msg.nlh(), msg.len() - 1);
	ASSERT_FALSE(r.ok());
	EXPECT_NE(r.error().message.find("overruns the"), std::string::npos) << r.error().message;
}

TEST(SockDiagParse, ShortInetDiagMsgIsRejected)
{
	Msg msg;
	fill_v4(msg.diag());
	msg.nlh()->nlmsg_len = NLMSG_HDRLEN + sizeof(inet_diag_msg) - 4;
	auto r = parse_inet_diag(msg.nlh(), 4096);
	ASSERT_FALSE(r.ok());
	EXPECT_NE(r.error().message.find("short inet_diag_msg"), std::string::npos)
		<< r.error().message;
}

TEST(SockDiagParse, WrongTypeAndFamilyAreRejected)
{
	{
		Msg msg(NLMSG_DONE);
		fill_v4(msg.diag());
		auto r = parse_inet_diag(msg.nlh(), msg.len());
		ASSERT_FALSE(r.ok());
		EXPECT_NE(r.error().message.find("unexpected message type"), std::string::npos);
	}
	{
		Msg msg;
		inet_diag_msg *m = msg.diag();
		fill_v4(m);
		m->idiag_family = AF_UNIX;
		auto r = parse_inet_diag(msg.nlh(), msg.len());
		ASSERT_FALSE(r.ok());
		EXPECT_NE(r.error().message.find("unexpected family 1"), std::string::npos);
	}
}

TEST(SockDiagParse, NullMessageIsRejected)
{
	EXPECT_FALSE(parse_inet_diag(nullptr, 100).ok());
}

} // namespace
} // namespace rcvgov::diag
