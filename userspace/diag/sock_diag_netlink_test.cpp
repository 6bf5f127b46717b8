#include <gtest/gtest.h>

#include <cerrno>
#include <cstring>
#include <string>
#include <vector>

#include "diag/sock_diag.h"
#include "diag/sock_diag_test_util.h"

namespace rcvgov::diag {
namespace {

using namespace test;

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
	ASSERT_TRUE(o.status.ok()) << o.status.error().message;
	EXPECT_FALSE(o.done);
	ASSERT_EQ(out.size(), 2u);
	EXPECT_EQ(out[0].sport, 1);
	EXPECT_EQ(out[1].sport, 2);

	Datagram last;
	last.add_socket(kSeq, kPortid, 3);
	last.add_int(NLMSG_DONE, kSeq, kPortid, 0);
	o = detail::process_dump_datagram(last.data(), last.size(), kSeq, kPortid, out);
	ASSERT_TRUE(o.status.ok()) << o.status.error().message;
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
	ASSERT_TRUE(o.status.ok()) << o.status.error().message;
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
	ASSERT_FALSE(o.status.ok());
	EXPECT_EQ(o.status.error().errnum, EINTR);
	EXPECT_NE(o.status.error().message.find("kernel ended the dump with an error"),
		  std::string::npos)
		<< o.status.error().message;
}

TEST(SockDiagDatagram, NlmsgErrorIsAnErrorWithItsErrno)
{
	Datagram d;
	d.add_int(NLMSG_ERROR, kSeq, kPortid, -ENOENT);
	std::vector<DiagSocket> out;
	auto o = detail::process_dump_datagram(d.data(), d.size(), kSeq, kPortid, out);
	ASSERT_FALSE(o.status.ok());
	EXPECT_EQ(o.status.error().errnum, ENOENT);
	EXPECT_NE(o.status.error().message.find("No such file or directory"), std::string::npos)
		<< o.status.error().message;
	EXPECT_NE(o.status.error().message.find("CONFIG_INET_TCP_DIAG"), std::string::npos)
		<< o.status.error().message;
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
	ASSERT_FALSE(o.status.ok());
	EXPECT_NE(o.status.error().message.find("bogus length 3"), std::string::npos)
		<< o.status.error().message;
}

TEST(SockDiagDatagram, PartialTrailingMessageIsAnError)
{
	Datagram d;
	d.add_socket(kSeq, kPortid, 1);
	d.grow(8);
	std::vector<DiagSocket> out;
	auto o = detail::process_dump_datagram(d.data(), d.size(), kSeq, kPortid, out);
	ASSERT_FALSE(o.status.ok());
	EXPECT_NE(o.status.error().message.find("8 bytes at the end"), std::string::npos)
		<< o.status.error().message;
}

// ---------------------------------------------------------------------------
// lookup(): one socket by 4-tuple and cookie, no dump.

DiagSocket target()
{
	DiagSocket s;
	s.family = AF_INET;
	s.saddr = {10, 0, 0, 1};
	s.daddr = {192, 0, 2, 2};
	s.sport = 5001;
	s.dport = 40000;
	s.ifindex = 3;
	s.cookie = 0x0123456789abcdefull;
	return s;
}

TEST(SockDiagLookup, RequestNamesExactlyOneSocket)
{
	alignas(nlmsghdr) uint8_t buf[detail::kRequestBufferSize] = {};
	nlmsghdr *nlh = mnl_nlmsg_put_header(buf);
	detail::put_lookup_request(nlh, target(), kSeq);
	EXPECT_EQ(nlh->nlmsg_type, SOCK_DIAG_BY_FAMILY);
	EXPECT_EQ(nlh->nlmsg_flags, NLM_F_REQUEST) << "no NLM_F_DUMP";
	EXPECT_EQ(nlh->nlmsg_seq, kSeq);
	ASSERT_EQ(nlh->nlmsg_len, NLMSG_LENGTH(sizeof(inet_diag_req_v2)));
	const auto *req = static_cast<const inet_diag_req_v2 *>(mnl_nlmsg_get_payload(nlh));
	EXPECT_EQ(req->sdiag_family, AF_INET);
	EXPECT_EQ(req->sdiag_protocol, IPPROTO_TCP);
	EXPECT_EQ(req->idiag_ext, (1u << (INET_DIAG_SKMEMINFO - 1)) | (1u << (INET_DIAG_INFO - 1)));
	EXPECT_EQ(ntohs(req->id.idiag_sport), 5001);
	EXPECT_EQ(ntohs(req->id.idiag_dport), 40000);
	EXPECT_EQ(req->id.idiag_src[0], htonl(0x0a000001));
	EXPECT_EQ(req->id.idiag_dst[0], htonl(0xc0000202));
	EXPECT_EQ(req->id.idiag_if, 3u);
	EXPECT_EQ(req->id.idiag_cookie[0], 0x89abcdefu);
	EXPECT_EQ(req->id.idiag_cookie[1], 0x01234567u);
}

TEST(SockDiagLookup, ReplyIsTheSocketWithItsReaderPosition)
{
	Datagram d;
	nlmsghdr *nlh = d.add(SOCK_DIAG_BY_FAMILY, kSeq, kPortid);
	fill_v4(static_cast<inet_diag_msg *>(
		mnl_nlmsg_put_extra_header(nlh, sizeof(inet_diag_msg))));
	mnl_attr_put(nlh, INET_DIAG_SKMEMINFO, sizeof(kMeminfo), kMeminfo);
	tcp_info ti{};
	ti.tcpi_bytes_received = kBytesReceived;
	mnl_attr_put(nlh, INET_DIAG_INFO, sizeof(ti), &ti);
	d.close();
	auto r = detail::process_lookup_datagram(d.data(), d.size(), kSeq, kPortid);
	ASSERT_TRUE(r.has_value());
	ASSERT_TRUE(r->ok()) << r->error().message;
	EXPECT_EQ((*r)->cookie, 0x0123456789abcdefull);
	EXPECT_EQ((*r)->rqueue, 777u);
	EXPECT_EQ((*r)->rcvbuf, 131072u);
	EXPECT_EQ((*r)->reader_position(), kBytesReceived - 777);
}

TEST(SockDiagLookup, GoneSocketIsEnoent)
{
	Datagram d;
	d.add_int(NLMSG_ERROR, kSeq, kPortid, -ENOENT);
	auto r = detail::process_lookup_datagram(d.data(), d.size(), kSeq, kPortid);
	ASSERT_TRUE(r.has_value());
	ASSERT_FALSE(r->ok());
	EXPECT_EQ(r->error().errnum, ENOENT);
	EXPECT_NE(r->error().message.find("4-tuple and cookie"), std::string::npos)
		<< r->error().message;
}

TEST(SockDiagLookup, OtherRepliesAreNotTheAnswer)
{
	Datagram d;
	d.add_socket(kSeq - 1, kPortid, 1);		   // an earlier request's
	d.add_int(NLMSG_ERROR, kSeq, kPortid + 1, -EPERM); // someone else's
	d.add_int(NLMSG_ERROR, kSeq, kPortid, 0);	   // a plain ACK
	EXPECT_FALSE(detail::process_lookup_datagram(d.data(), d.size(), kSeq, kPortid));
}

TEST(SockDiagLookup, OtherErrorsKeepTheirErrno)
{
	Datagram d;
	d.add_int(NLMSG_ERROR, kSeq, kPortid, -EPERM);
	auto r = detail::process_lookup_datagram(d.data(), d.size(), kSeq, kPortid);
	ASSERT_TRUE(r.has_value());
	ASSERT_FALSE(r->ok());
	EXPECT_EQ(r->error().errnum, EPERM);
}

} // namespace
} // namespace rcvgov::diag
