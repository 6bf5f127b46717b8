#include "diag/sock_diag.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <libmnl/libmnl.h>
#include <linux/inet_diag.h>
#include <linux/netlink.h>
#include <linux/sock_diag.h>
#include <linux/sockios.h>
#include <linux/tcp.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/stat.h>

#include <array>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <fstream>
#include <optional>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "common/unique_fd.h"

namespace rcvgov::diag {
namespace {

// ---------------------------------------------------------------------------
// Hand-built messages for the parser.

// Owns the buffer its nlmsghdr lives in, hence neither copyable nor movable.
class Msg {
public:
	explicit Msg(uint16_t type = SOCK_DIAG_BY_FAMILY)
	{
		nlh_ = mnl_nlmsg_put_header(buf_.data());
		nlh_->nlmsg_type = type;
	}
	Msg(const Msg &) = delete;
	Msg &operator=(const Msg &) = delete;

	inet_diag_msg *diag()
	{
		return static_cast<inet_diag_msg *>(
			mnl_nlmsg_put_extra_header(nlh_, sizeof(inet_diag_msg)));
	}
	void attr(uint16_t type, const void *data, size_t len)
	{
		mnl_attr_put(nlh_, type, len, data);
	}
	nlattr *last_attr(size_t attr_len)
	{
		return reinterpret_cast<nlattr *>(buf_.data() + nlh_->nlmsg_len -
						  MNL_ALIGN(attr_len));
	}
	nlmsghdr *nlh() { return nlh_; }
	size_t len() const { return nlh_->nlmsg_len; }
	uint8_t *bytes() { return buf_.data(); }

private:
	alignas(8) std::array<uint8_t, 4096> buf_{};
	nlmsghdr *nlh_;
};

// In SK_MEMINFO_* order: RMEM_ALLOC, RCVBUF, then the rest.
constexpr uint32_t kMeminfo[SK_MEMINFO_VARS] = {12345, 131072, 1, 2, 3, 4, 5, 6, 7};
static_assert(SK_MEMINFO_RMEM_ALLOC == 0 && SK_MEMINFO_RCVBUF == 1);
constexpr uint64_t kCgroupId = 0x1122334455667788ull;

void fill_v4(inet_diag_msg *m)
{
	m->idiag_family = AF_INET;
	m->idiag_state = kTcpEstablished;
	m->id.idiag_sport = htons(5001);
	m->id.idiag_dport = htons(40000);
	m->id.idiag_src[0] = htonl(0x0a000001); // 10.0.0.1
	m->id.idiag_dst[0] = htonl(0xc0000202); // 192.0.2.2
	m->id.idiag_if = 3;
	m->id.idiag_cookie[0] = 0x89abcdef;
	m->id.idiag_cookie[1] = 0x01234567;
	m->idiag_rqueue = 777;
	m->idiag_wqueue = 888;
	m->idiag_uid = 1000;
	m->idiag_inode = 424242;
}

void add_full_attrs(Msg &msg)
{
	msg.attr(INET_DIAG_SKMEMINFO, kMeminfo, sizeof(kMeminfo));
	tcp_info ti{};
	ti.tcpi_snd_wscale = 9;
	ti.tcpi_rcv_wscale = 7;
	ti.tcpi_rcv_space = 65483;
	msg.attr(INET_DIAG_INFO, &ti, sizeof(ti));
	msg.attr(INET_DIAG_CGROUP_ID, &kCgroupId, sizeof(kCgroupId));
}

TEST(SockDiagParse, Ipv4Record)
{
	Msg msg;
	fill_v4(msg.diag());
	add_full_attrs(msg);

	auto r = parse_inet_diag(msg.nlh(), msg.len());
	ASSERT_TRUE(r.ok()) << r.error.message;
	const DiagSocket &s = r.socket;
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
	ASSERT_TRUE(r.ok()) << r.error.message;
	EXPECT_EQ(r.socket.family, AF_INET6);
	EXPECT_EQ(std::memcmp(r.socket.saddr.data(), &src, 16), 0);
	EXPECT_EQ(std::memcmp(r.socket.daddr.data(), &dst, 16), 0);
	EXPECT_EQ(r.socket.sport, 443);
	EXPECT_EQ(r.socket.dport, 65535);
	EXPECT_EQ(r.socket.state, 2);
	EXPECT_EQ(r.socket.cookie, 1u);
}

TEST(SockDiagParse, CookieHalvesAssembleLowFirst)
{
	Msg msg;
	inet_diag_msg *m = msg.diag();
	fill_v4(m);
	m->id.idiag_cookie[0] = 0;
	m->id.idiag_cookie[1] = 1;
	auto r = parse_inet_diag(msg.nlh(), msg.len());
	ASSERT_TRUE(r.ok()) << r.error.message;
	EXPECT_EQ(r.socket.cookie, 1ull << 32);
}

TEST(SockDiagParse, Ipv4IgnoresJunkAfterTheFirstAddressWord)
{
	Msg msg;
	inet_diag_msg *m = msg.diag();
	fill_v4(m);
	m->id.idiag_src[1] = 0xffffffff;
	auto r = parse_inet_diag(msg.nlh(), msg.len());
	ASSERT_TRUE(r.ok()) << r.error.message;
	EXPECT_EQ(r.socket.saddr, (std::array<uint8_t, 16>{10, 0, 0, 1}));
}

TEST(SockDiagParse, MissingAttributesLeaveZeros)
{
	Msg msg;
	fill_v4(msg.diag());
	auto r = parse_inet_diag(msg.nlh(), msg.len());
	ASSERT_TRUE(r.ok()) << r.error.message;
	EXPECT_EQ(r.socket.rmem_alloc, 0u);
	EXPECT_EQ(r.socket.rcvbuf, 0u);
	EXPECT_EQ(r.socket.cgroup_id, 0u);
	EXPECT_EQ(r.socket.rcv_wscale, 0);
	EXPECT_EQ(r.socket.rcv_space, 0u);
	EXPECT_EQ(r.socket.rqueue, 777u);
}

TEST(SockDiagParse, MeminfoWithOnlyTheNeededFieldsIsEnough)
{
	Msg msg;
	fill_v4(msg.diag());
	msg.attr(INET_DIAG_SKMEMINFO, kMeminfo, 2 * sizeof(uint32_t));
	auto r = parse_inet_diag(msg.nlh(), msg.len());
	ASSERT_TRUE(r.ok()) << r.error.message;
	EXPECT_EQ(r.socket.rmem_alloc, 12345u);
	EXPECT_EQ(r.socket.rcvbuf, 131072u);
}

TEST(SockDiagParse, MeminfoTooShortIsRejected)
{
	Msg msg;
	fill_v4(msg.diag());
	msg.attr(INET_DIAG_SKMEMINFO, kMeminfo, sizeof(uint32_t));
	auto r = parse_inet_diag(msg.nlh(), msg.len());
	ASSERT_FALSE(r.ok());
	EXPECT_NE(r.error.message.find("INET_DIAG_SKMEMINFO too short"), std::string::npos)
		<< r.error.message;
	EXPECT_EQ(r.socket, DiagSocket{});
}

TEST(SockDiagParse, CgroupIdTooShortIsRejected)
{
	Msg msg;
	fill_v4(msg.diag());
	msg.attr(INET_DIAG_CGROUP_ID, &kCgroupId, 4);
	auto r = parse_inet_diag(msg.nlh(), msg.len());
	ASSERT_FALSE(r.ok());
	EXPECT_NE(r.error.message.find("INET_DIAG_CGROUP_ID"), std::string::npos)
		<< r.error.message;
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
		ASSERT_TRUE(r.ok()) << r.error.message;
		EXPECT_EQ(r.socket.rcv_wscale, c.wscale) << "tcp_info of " << c.len << " bytes";
		EXPECT_EQ(r.socket.rcv_space, c.rcv_space) << "tcp_info of " << c.len << " bytes";
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
	ASSERT_TRUE(r.ok()) << r.error.message;
	EXPECT_EQ(r.socket.rcv_wscale, 14);
	EXPECT_EQ(r.socket.rcv_space, 7u);
}

TEST(SockDiagParse, UnknownAndFlaggedAttributesAreSkipped)
{
	Msg msg;
	fill_v4(msg.diag());
	const uint32_t junk = 0xdeadbeef;
	msg.attr(200, &junk, sizeof(junk));
	msg.attr(INET_DIAG_SKMEMINFO | NLA_F_NET_BYTEORDER, kMeminfo, sizeof(kMeminfo));
	auto r = parse_inet_diag(msg.nlh(), msg.len());
	ASSERT_TRUE(r.ok()) << r.error.message;
	EXPECT_EQ(r.socket.rcvbuf, 131072u);
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
	EXPECT_NE(r.error.message.find("overruns the message by 8 bytes"), std::string::npos)
		<< r.error.message;
}

TEST(SockDiagParse, AttributeLengthBeyondTheMessageIsRejected)
{
	Msg msg;
	fill_v4(msg.diag());
	msg.attr(INET_DIAG_CGROUP_ID, &kCgroupId, sizeof(kCgroupId));
	msg.last_attr(NLA_HDRLEN + sizeof(kCgroupId))->nla_len = 200;
	auto r = parse_inet_diag(msg.nlh(), msg.len());
	ASSERT_FALSE(r.ok());
	EXPECT_NE(r.error.message.find("attribute type " + std::to_string(INET_DIAG_CGROUP_ID)),
		  std::string::npos)
		<< r.error.message;
	EXPECT_NE(r.error.message.find("overruns"), std::string::npos) << r.error.message;
}

TEST(SockDiagParse, AttributeLengthBelowItsHeaderIsRejected)
{
	Msg msg;
	fill_v4(msg.diag());
	msg.attr(INET_DIAG_CGROUP_ID, &kCgroupId, sizeof(kCgroupId));
	msg.last_attr(NLA_HDRLEN + sizeof(kCgroupId))->nla_len = 2;
	auto r = parse_inet_diag(msg.nlh(), msg.len());
	ASSERT_FALSE(r.ok());
	EXPECT_NE(r.error.message.find("bogus length 2"), std::string::npos) << r.error.message;
}

TEST(SockDiagParse, TrailingBytesShorterThanAnAttributeAreRejected)
{
	Msg msg;
	fill_v4(msg.diag());
	msg.nlh()->nlmsg_len += 2;
	auto r = parse_inet_diag(msg.nlh(), msg.len());
	ASSERT_FALSE(r.ok());
	EXPECT_NE(r.error.message.find("2 trailing bytes"), std::string::npos) << r.error.message;
}

TEST(SockDiagParse, UnpaddedLastAttributeIsAccepted)
{
	Msg msg;
	fill_v4(msg.diag());
	const uint8_t one = 1;
	msg.attr(250, &one, 1);
	msg.nlh()->nlmsg_len -= 3; // drop the alignment padding
	auto r = parse_inet_diag(msg.nlh(), msg.len());
	EXPECT_TRUE(r.ok()) << r.error.message;
}

TEST(SockDiagParse, ShortNetlinkHeaderIsRejected)
{
	Msg msg;
	fill_v4(msg.diag());
	auto r = parse_inet_diag(msg.nlh(), sizeof(nlmsghdr) - 1);
	ASSERT_FALSE(r.ok());
	EXPECT_NE(r.error.message.find("short netlink header"), std::string::npos)
		<< r.error.message;
}

TEST(SockDiagParse, BogusNlmsgLenIsRejected)
{
	Msg msg;
	fill_v4(msg.diag());
	msg.nlh()->nlmsg_len = 4;
	auto r = parse_inet_diag(msg.nlh(), 4096);
	ASSERT_FALSE(r.ok());
	EXPECT_NE(r.error.message.find("bogus nlmsg_len 4"), std::string::npos) << r.error.message;
}

TEST(SockDiagParse, NlmsgLenBeyondTheBufferIsRejected)
{
	Msg msg;
	fill_v4(msg.diag());
	add_full_attrs(msg);
	auto r = parse_inet_diag(msg.nlh(), msg.len() - 1);
	ASSERT_FALSE(r.ok());
	EXPECT_NE(r.error.message.find("overruns the"), std::string::npos) << r.error.message;
}

TEST(SockDiagParse, ShortInetDiagMsgIsRejected)
{
	Msg msg;
	fill_v4(msg.diag());
	msg.nlh()->nlmsg_len = NLMSG_HDRLEN + sizeof(inet_diag_msg) - 4;
	auto r = parse_inet_diag(msg.nlh(), 4096);
	ASSERT_FALSE(r.ok());
	EXPECT_NE(r.error.message.find("short inet_diag_msg"), std::string::npos)
		<< r.error.message;
}

TEST(SockDiagParse, WrongTypeAndFamilyAreRejected)
{
	{
		Msg msg(NLMSG_DONE);
		fill_v4(msg.diag());
		auto r = parse_inet_diag(msg.nlh(), msg.len());
		ASSERT_FALSE(r.ok());
		EXPECT_NE(r.error.message.find("unexpected message type"), std::string::npos);
	}
	{
		Msg msg;
		inet_diag_msg *m = msg.diag();
		fill_v4(m);
		m->idiag_family = AF_UNIX;
		auto r = parse_inet_diag(msg.nlh(), msg.len());
		ASSERT_FALSE(r.ok());
		EXPECT_NE(r.error.message.find("unexpected family 1"), std::string::npos);
	}
}

TEST(SockDiagParse, NullMessageIsRejected)
{
	EXPECT_FALSE(parse_inet_diag(nullptr, 100).ok());
}

// ---------------------------------------------------------------------------
// Datagram handling: several messages back to back, as the kernel sends them.

class Datagram {
public:
	// Appends a message and returns it, for the caller to fill in.
	nlmsghdr *add(uint16_t type, uint32_t seq, uint32_t portid)
	{
		auto *nlh = mnl_nlmsg_put_header(buf_.data() + used_);
		nlh->nlmsg_type = type;
		nlh->nlmsg_flags = NLM_F_MULTI;
		nlh->nlmsg_seq = seq;
		nlh->nlmsg_pid = portid;
		last_ = nlh;
		return nlh;
	}
	// Call after filling the last message: fixes the running length.
	void close() { used_ += MNL_ALIGN(last_->nlmsg_len); }
	nlmsghdr *add_socket(uint32_t seq, uint32_t portid, uint16_t sport)
	{
		nlmsghdr *nlh = add(SOCK_DIAG_BY_FAMILY, seq, portid);
		auto *m = static_cast<inet_diag_msg *>(
			mnl_nlmsg_put_extra_header(nlh, sizeof(inet_diag_msg)));
		fill_v4(m);
		m->id.idiag_sport = htons(sport);
		mnl_attr_put(nlh, INET_DIAG_SKMEMINFO, sizeof(kMeminfo), kMeminfo);
		close();
		return nlh;
	}
	void add_int(uint16_t type, uint32_t seq, uint32_t portid, int value)
	{
		nlmsghdr *nlh = add(type, seq, portid);
		auto *p = static_cast<int *>(mnl_nlmsg_put_extra_header(nlh, sizeof(nlmsgerr)));
		*p = value;
		close();
	}
	const uint8_t *data() const { return buf_.data(); }
	size_t size() const { return used_; }
	void grow(size_t n) { used_ += n; }

private:
	alignas(8) std::array<uint8_t, 8192> buf_{};
	size_t used_ = 0;
	nlmsghdr *last_ = nullptr;
};

constexpr uint32_t kSeq = 77, kPortid = 4242;

TEST(SockDiagDatagram, CollectsSocketsUntilDone)
{
	Datagram d;
	d.add_socket(kSeq, kPortid, 1);
	d.add_socket(kSeq, kPortid, 2);
	std::vector<DiagSocket> out;
	auto o = detail::process_dump_datagram(d.data(), d.size(), kSeq, kPortid, out);
	ASSERT_TRUE(o.error.ok()) << o.error.message;
	EXPECT_FALSE(o.done);
	ASSERT_EQ(out.size(), 2u);
	EXPECT_EQ(out[0].sport, 1);
	EXPECT_EQ(out[1].sport, 2);

	Datagram last;
	last.add_socket(kSeq, kPortid, 3);
	last.add_int(NLMSG_DONE, kSeq, kPortid, 0);
	o = detail::process_dump_datagram(last.data(), last.size(), kSeq, kPortid, out);
	ASSERT_TRUE(o.error.ok()) << o.error.message;
	EXPECT_TRUE(o.done);
	EXPECT_EQ(out.size(), 3u);
}

TEST(SockDiagDatagram, IgnoresMessagesThatAreNotOurs)
{
	Datagram d;
	d.add_socket(kSeq - 1, kPortid, 1);		// stale reply
	d.add_socket(kSeq, kPortid + 1, 2);		// someone else's
	d.add_int(NLMSG_DONE, kSeq - 1, kPortid, -EIO); // end of an older dump
	d.add_socket(kSeq, kPortid, 3);
	d.add_int(NLMSG_DONE, kSeq, kPortid, 0);
	std::vector<DiagSocket> out;
	auto o = detail::process_dump_datagram(d.data(), d.size(), kSeq, kPortid, out);
	ASSERT_TRUE(o.error.ok()) << o.error.message;
	EXPECT_TRUE(o.done);
	ASSERT_EQ(out.size(), 1u);
	EXPECT_EQ(out[0].sport, 3);
}

TEST(SockDiagDatagram, DumpEndingWithAnErrorIsAnError)
{
	Datagram d;
	d.add_socket(kSeq, kPortid, 1);
	d.add_int(NLMSG_DONE, kSeq, kPortid, -EINTR);
	std::vector<DiagSocket> out;
	auto o = detail::process_dump_datagram(d.data(), d.size(), kSeq, kPortid, out);
	EXPECT_TRUE(o.done);
	ASSERT_FALSE(o.error.ok());
	EXPECT_EQ(o.error.errnum, EINTR);
	EXPECT_NE(o.error.message.find("kernel ended the dump with an error"), std::string::npos)
		<< o.error.message;
}

TEST(SockDiagDatagram, NlmsgErrorIsAnErrorWithItsErrno)
{
	Datagram d;
	d.add_int(NLMSG_ERROR, kSeq, kPortid, -ENOENT);
	std::vector<DiagSocket> out;
	auto o = detail::process_dump_datagram(d.data(), d.size(), kSeq, kPortid, out);
	ASSERT_FALSE(o.error.ok());
	EXPECT_EQ(o.error.errnum, ENOENT);
	EXPECT_NE(o.error.message.find("No such file or directory"), std::string::npos)
		<< o.error.message;
	EXPECT_NE(o.error.message.find("CONFIG_INET_TCP_DIAG"), std::string::npos)
		<< o.error.message;
}

TEST(SockDiagDatagram, MalformedSocketMessageFailsTheDump)
{
	Datagram d;
	nlmsghdr *nlh = d.add_socket(kSeq, kPortid, 1);
	auto *attr = reinterpret_cast<nlattr *>(reinterpret_cast<uint8_t *>(nlh) + NLMSG_HDRLEN +
						sizeof(inet_diag_msg));
	attr->nla_len = 3;
	std::vector<DiagSocket> out;
	auto o = detail::process_dump_datagram(d.data(), d.size(), kSeq, kPortid, out);
	ASSERT_FALSE(o.error.ok());
	EXPECT_NE(o.error.message.find("bogus length 3"), std::string::npos) << o.error.message;
}

TEST(SockDiagDatagram, PartialTrailingMessageIsAnError)
{
	Datagram d;
	d.add_socket(kSeq, kPortid, 1);
	d.grow(8);
	std::vector<DiagSocket> out;
	auto o = detail::process_dump_datagram(d.data(), d.size(), kSeq, kPortid, out);
	ASSERT_FALSE(o.error.ok());
	EXPECT_NE(o.error.message.find("8 bytes at the end"), std::string::npos) << o.error.message;
}

// ---------------------------------------------------------------------------
// Live tests against the running kernel, on loopback only.

constexpr int kIoTimeoutMs = 2000;
constexpr size_t kUnreadBytes = 10000;

std::string err_text()
{
	return std::strerror(errno);
}

void set_io_timeouts(int fd)
{
	timeval tv{kIoTimeoutMs / 1000, 0};
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
}

socklen_t loopback(int family, sockaddr_storage &ss)
{
	ss = {};
	if (family == AF_INET) {
		auto *sin = reinterpret_cast<sockaddr_in *>(&ss);
		sin->sin_family = AF_INET;
		sin->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
		return sizeof(sockaddr_in);
	}
	auto *sin6 = reinterpret_cast<sockaddr_in6 *>(&ss);
	sin6->sin6_family = AF_INET6;
	sin6->sin6_addr = in6addr_loopback;
	return sizeof(sockaddr_in6);
}

std::array<uint8_t, 16> loopback_bytes(int family)
{
	std::array<uint8_t, 16> a{};
	if (family == AF_INET) {
		a[0] = 127;
		a[3] = 1;
	} else {
		a[15] = 1;
	}
	return a;
}

uint16_t local_port(int fd)
{
	sockaddr_storage ss{};
	socklen_t len = sizeof(ss);
	if (getsockname(fd, reinterpret_cast<sockaddr *>(&ss), &len) != 0)
		return 0;
	if (ss.ss_family == AF_INET)
		return ntohs(reinterpret_cast<sockaddr_in *>(&ss)->sin_port);
	return ntohs(reinterpret_cast<sockaddr_in6 *>(&ss)->sin6_port);
}

// A listener, a client and the accepted server end, all closed by RAII.
struct Conn {
	UniqueFd listener, client, server;
	uint16_t server_port = 0, client_port = 0;
};

void open_conn(int family, Conn &c)
{
	sockaddr_storage ss;
	socklen_t len = loopback(family, ss);

	c.listener.reset(socket(family, SOCK_STREAM | SOCK_CLOEXEC, 0));
	ASSERT_TRUE(c.listener) << "socket: " << err_text();
	set_io_timeouts(c.listener.get());
	ASSERT_EQ(bind(c.listener.get(), reinterpret_cast<sockaddr *>(&ss), len), 0)
		<< "bind: " << err_text();
	ASSERT_EQ(listen(c.listener.get(), 4), 0) << "listen: " << err_text();
	c.server_port = local_port(c.listener.get());
	ASSERT_NE(c.server_port, 0);

	c.client.reset(socket(family, SOCK_STREAM | SOCK_CLOEXEC, 0));
	ASSERT_TRUE(c.client) << "socket: " << err_text();
	set_io_timeouts(c.client.get());
	loopback(family, ss);
	reinterpret_cast<sockaddr_in *>(&ss)->sin_port = htons(c.server_port); // same offset in v6
	ASSERT_EQ(connect(c.client.get(), reinterpret_cast<sockaddr *>(&ss), len), 0)
		<< "connect: " << err_text();
	c.client_port = local_port(c.client.get());

	c.server.reset(accept4(c.listener.get(), nullptr, nullptr, SOCK_CLOEXEC));
	ASSERT_TRUE(c.server) << "accept: " << err_text();
	set_io_timeouts(c.server.get());
}

// Client writes, server does not read; returns once the bytes are queued.
void fill_server_queue(Conn &c)
{
	std::vector<char> data(kUnreadBytes, 'x');
	ASSERT_EQ(send(c.client.get(), data.data(), data.size(), 0), ssize_t(data.size()))
		<< "send: " << err_text();
	int queued = 0;
	for (int i = 0; i < kIoTimeoutMs / 10; i++) {
		ASSERT_EQ(ioctl(c.server.get(), SIOCINQ, &queued), 0) << "SIOCINQ: " << err_text();
		if (queued == int(kUnreadBytes))
			return;
		std::this_thread::sleep_for(std::chrono::milliseconds(10));
	}
	FAIL() << "only " << queued << " of " << kUnreadBytes << " bytes arrived";
}

const DiagSocket *find(const std::vector<DiagSocket> &v, int family, uint16_t sport, uint16_t dport)
{
	for (const auto &s : v)
		if (s.family == family && s.sport == sport && s.dport == dport)
			return &s;
	return nullptr;
}

template <typename T> T sockopt(int fd, int level, int name)
{
	T v{};
	socklen_t len = sizeof(v);
	EXPECT_EQ(getsockopt(fd, level, name, &v, &len), 0) << "getsockopt: " << err_text();
	return v;
}

// The cgroup v2 id of this process: the inode of its cgroup directory.
std::optional<uint64_t> own_cgroup2_id()
{
	std::ifstream cg("/proc/self/cgroup");
	std::string line, path;
	while (std::getline(cg, line))
		if (line.rfind("0::", 0) == 0)
			path = line.substr(3);
	std::ifstream mi("/proc/self/mountinfo");
	while (std::getline(mi, line)) {
		if (line.find(" - cgroup2 ") == std::string::npos)
			continue;
		std::istringstream fields(line);
		std::string id, parent, dev, root, mountpoint;
		fields >> id >> parent >> dev >> root >> mountpoint;
		struct stat st {};
		if (!path.empty() && stat((mountpoint + path).c_str(), &st) == 0)
			return st.st_ino;
	}
	return std::nullopt;
}

std::string family_str(int family)
{
	return family == AF_INET ? "IPv4" : "IPv6";
}

class SockDiagLive : public ::testing::TestWithParam<int> {};

TEST_P(SockDiagLive, DumpFindsBothEndsOfALoopbackConnection)
{
	const int family = GetParam();
	Conn c;
	ASSERT_NO_FATAL_FAILURE(open_conn(family, c));
	ASSERT_NO_FATAL_FAILURE(fill_server_queue(c));

	auto before = std::chrono::steady_clock::now();
	DumpResult r = dump_tcp();
	auto took = std::chrono::steady_clock::now() - before;
	ASSERT_TRUE(r.ok()) << r.error.message;
	EXPECT_LT(took, std::chrono::seconds(2));

	const DiagSocket *srv = find(r.sockets, family, c.server_port, c.client_port);
	const DiagSocket *cli = find(r.sockets, family, c.client_port, c.server_port);
	ASSERT_NE(srv, nullptr) << "receiving socket not in a dump of " << r.sockets.size();
	ASSERT_NE(cli, nullptr) << "sending socket not in a dump of " << r.sockets.size();
	EXPECT_EQ(find(r.sockets, family, c.server_port, 0), nullptr)
		<< "listener is in a dump that should exclude LISTEN";

	EXPECT_EQ(srv->state, kTcpEstablished);
	EXPECT_EQ(srv->saddr, loopback_bytes(family));
	EXPECT_EQ(srv->daddr, loopback_bytes(family));
	EXPECT_EQ(srv->cookie, sockopt<uint64_t>(c.server.get(), SOL_SOCKET, SO_COOKIE));
	EXPECT_EQ(cli->cookie, sockopt<uint64_t>(c.client.get(), SOL_SOCKET, SO_COOKIE));
	struct stat st {};
	ASSERT_EQ(fstat(c.server.get(), &st), 0);
	EXPECT_EQ(srv->inode, st.st_ino);
	EXPECT_EQ(srv->uid, geteuid());

	EXPECT_EQ(srv->rqueue, kUnreadBytes);
	EXPECT_GT(srv->rmem_alloc, 0u);
	EXPECT_LE(srv->rmem_alloc, srv->rcvbuf);
	EXPECT_EQ(srv->rcvbuf, uint32_t(sockopt<int>(c.server.get(), SOL_SOCKET, SO_RCVBUF)));
	EXPECT_GE(srv->rcvbuf, 2048u); // SOCK_MIN_RCVBUF is about this
	EXPECT_EQ(cli->rqueue, 0u);
	EXPECT_EQ(cli->rmem_alloc, 0u);
	EXPECT_GT(cli->rcvbuf, 0u);

	auto ti = sockopt<tcp_info>(c.server.get(), IPPROTO_TCP, TCP_INFO);
	EXPECT_EQ(srv->rcv_wscale, ti.tcpi_rcv_wscale);
	EXPECT_EQ(srv->rcv_space, ti.tcpi_rcv_space);
	EXPECT_GT(srv->rcv_space, 0u);

	if (auto id = own_cgroup2_id())
		EXPECT_EQ(srv->cgroup_id, *id);
	else
		EXPECT_NE(srv->cgroup_id, 0u);
}

TEST_P(SockDiagLive, OptionsSelectStatesFamiliesAndTcpInfo)
{
	const int family = GetParam();
	Conn c;
	ASSERT_NO_FATAL_FAILURE(open_conn(family, c));

	DumpOptions listeners;
	listeners.states = tcp_state_bit(kTcpListen);
	DumpResult r = dump_tcp(listeners);
	ASSERT_TRUE(r.ok()) << r.error.message;
	const DiagSocket *l = find(r.sockets, family, c.server_port, 0);
	ASSERT_NE(l, nullptr);
	EXPECT_EQ(l->state, kTcpListen);
	EXPECT_EQ(find(r.sockets, family, c.server_port, c.client_port), nullptr);

	DumpOptions other_family;
	other_family.ipv4 = family != AF_INET;
	other_family.ipv6 = family != AF_INET6;
	r = dump_tcp(other_family);
	ASSERT_TRUE(r.ok()) << r.error.message;
	EXPECT_EQ(find(r.sockets, family, c.server_port, c.client_port), nullptr);

	DumpOptions no_info;
	no_info.tcp_info = false;
	r = dump_tcp(no_info);
	ASSERT_TRUE(r.ok()) << r.error.message;
	const DiagSocket *srv = find(r.sockets, family, c.server_port, c.client_port);
	ASSERT_NE(srv, nullptr);
	EXPECT_EQ(srv->rcv_wscale, 0);
	EXPECT_EQ(srv->rcv_space, 0u);
	EXPECT_GT(srv->rcvbuf, 0u); // meminfo is always requested
}

TEST_P(SockDiagLive, DestroyResetsThePeer)
{
	const int family = GetParam();
	Conn c;
	ASSERT_NO_FATAL_FAILURE(open_conn(family, c));
	ASSERT_NO_FATAL_FAILURE(fill_server_queue(c));
	DumpResult r = dump_tcp();
	ASSERT_TRUE(r.ok()) << r.error.message;
	const DiagSocket *found = find(r.sockets, family, c.server_port, c.client_port);
	ASSERT_NE(found, nullptr);
	const DiagSocket srv = *found;

	Error e = destroy(srv);
	if (e.errnum == EOPNOTSUPP) {
		// Allowed outcome on kernels without the option; the message must say so.
		EXPECT_NE(e.message.find("CONFIG_INET_DIAG_DESTROY"), std::string::npos)
			<< e.message;
		std::cout << "[ info     ] SOCK_DESTROY unsupported: " << e.message << "\n";
		return;
	}
	ASSERT_TRUE(e.ok()) << e.message;

	pollfd pfd{c.client.get(), POLLIN, 0};
	ASSERT_EQ(poll(&pfd, 1, kIoTimeoutMs), 1) << "peer saw nothing after SOCK_DESTROY";
	char b;
	ssize_t n = recv(c.client.get(), &b, 1, MSG_DONTWAIT);
	const int peer_errno = errno;
	EXPECT_TRUE(n == 0 || (n < 0 && peer_errno == ECONNRESET))
		<< "peer recv returned " << n << ": " << std::strerror(peer_errno);
	std::cout << "[ info     ] SOCK_DESTROY works here (" << family_str(family)
		  << "): peer saw " << (n == 0 ? "EOF" : std::strerror(peer_errno)) << "\n";

	// The owner still gets what was queued, then the abort.
	std::vector<char> drain(kUnreadBytes + 1);
	ssize_t got = 0;
	int owner_errno = 0;
	for (int i = 0; i < 100; i++) {
		ssize_t m = recv(c.server.get(), drain.data(), drain.size(), MSG_DONTWAIT);
		if (m > 0) {
			got += m;
			continue;
		}
		owner_errno = m < 0 ? errno : 0;
		break;
	}
	EXPECT_EQ(owner_errno, ECONNABORTED) << "after " << got << " bytes";

	r = dump_tcp();
	ASSERT_TRUE(r.ok()) << r.error.message;
	for (const auto &s : r.sockets)
		EXPECT_NE(s.cookie, srv.cookie) << "destroyed socket still dumped";
}

TEST_P(SockDiagLive, DestroyRefusesStaleCookieAndUnknownSocket)
{
	const int family = GetParam();
	Conn c;
	ASSERT_NO_FATAL_FAILURE(open_conn(family, c));
	DumpResult r = dump_tcp();
	ASSERT_TRUE(r.ok()) << r.error.message;
	const DiagSocket *found = find(r.sockets, family, c.server_port, c.client_port);
	ASSERT_NE(found, nullptr);

	// TCP reports a cookie mismatch as ENOENT, like a missing 4-tuple.
	DiagSocket stale = *found;
	stale.cookie ^= 1;
	Error e = destroy(stale);
	if (e.errnum != EOPNOTSUPP) {
		EXPECT_EQ(e.errnum, ENOENT) << e.message;
		EXPECT_NE(e.message.find("no socket with this 4-tuple and cookie"),
			  std::string::npos)
			<< e.message;
	}

	DiagSocket gone = *found;
	gone.dport = 1;
	e = destroy(gone);
	if (e.errnum != EOPNOTSUPP) {
		EXPECT_EQ(e.errnum, ENOENT) << e.message;
		EXPECT_NE(e.message.find(":1 cookie"), std::string::npos) << e.message;
	}

	DiagSocket nocookie = *found;
	nocookie.cookie = ~uint64_t{0};
	e = destroy(nocookie);
	EXPECT_EQ(e.errnum, EINVAL) << e.message;

	// None of the refused requests may have touched the real connection.
	ASSERT_EQ(send(c.client.get(), "ping", 4, 0), 4) << "send: " << err_text();
	char buf[4];
	EXPECT_EQ(recv(c.server.get(), buf, sizeof(buf), MSG_WAITALL), 4) << "recv: " << err_text();
}

INSTANTIATE_TEST_SUITE_P(Loopback, SockDiagLive, ::testing::Values(AF_INET, AF_INET6),
			 [](const auto &info) { return family_str(info.param); });

} // namespace
} // namespace rcvgov::diag
