#include "diag/sock_diag.h"

#include <arpa/inet.h>
#include <libmnl/libmnl.h>
#include <linux/inet_diag.h>
#include <linux/netlink.h>
#include <linux/sock_diag.h>
#include <linux/tcp.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <climits>
#include <cstddef>
#include <cstring>
#include <ctime>
#include <memory>

#include "common/errno_text.h"

namespace rcvgov::diag {

namespace {

// The kernel sizes dump skbs by the reader's last buffer, capped at 32 KiB
// (netlink_recvmsg): a smaller buffer would get MSG_TRUNC on big dumps.
constexpr size_t kRecvBufferSize = 32768;
constexpr std::chrono::milliseconds kDestroyTimeout{2000};

// Room for one request: header plus inet_diag_req_v2, never more.
using detail::kRequestBufferSize;

// tcpi_snd_wscale/tcpi_rcv_wscale are bit-fields (no offsetof) sharing the
// byte right after tcpi_options; a tcp_info must reach past that byte.
constexpr size_t kTcpInfoWscaleEnd =
	offsetof(tcp_info, tcpi_options) + sizeof(tcp_info::tcpi_options) + 1;
static_assert(kTcpInfoWscaleEnd == 7);
// tcpi_rcv_wnd (6.4) follows tcpi_snd_wnd; older uapi headers lack it.
constexpr size_t kTcpInfoRcvWndOff = offsetof(tcp_info, tcpi_snd_wnd) + sizeof(uint32_t);

struct MnlCloser {
	void operator()(mnl_socket *s) const { mnl_socket_close(s); }
};
using MnlSocket = std::unique_ptr<mnl_socket, MnlCloser>;

using Clock = std::chrono::steady_clock;

std::string family_name(unsigned family)
{
	switch (family) {
	case AF_INET: return "AF_INET";
	case AF_INET6: return "AF_INET6";
	default: return "family " + std::to_string(family);
	}
}

Error sys_error(int err, const std::string &what)
{
	return Error{err, "sock_diag: " + what + ": " + errno_text(err)};
}

// The same error with the request it belongs to named after it.
Error with_what(const Error &e, const std::string &what)
{
	return Error{e.errnum, e.message + " (" + what + ")"};
}

Error bad_message(const std::string &what)
{
	return Error{EBADMSG, "inet_diag message: " + what};
}

std::string endpoint_text(unsigned family, const std::array<uint8_t, 16> &addr, uint16_t port)
{
	char buf[INET6_ADDRSTRLEN] = "?";
	inet_ntop(family == AF_INET6 ? AF_INET6 : AF_INET, addr.data(), buf, sizeof(buf));
	if (family == AF_INET6)
		return std::string("[") + buf + "]:" + std::to_string(port);
	return std::string(buf) + ":" + std::to_string(port);
}

std::string socket_text(const DiagSocket &s)
{
	return family_name(s.family) + " " + endpoint_text(s.family, s.saddr, s.sport) + " -> " +
	       endpoint_text(s.family, s.daddr, s.dport) + " cookie " + std::to_string(s.cookie);
}

uint32_t next_seq()
{
	// Distinct sequence numbers across calls make stale replies easy to drop.
	static std::atomic<uint32_t> seq{static_cast<uint32_t>(std::time(nullptr))};
	return seq.fetch_add(1, std::memory_order_relaxed);
}

Status open_socket(MnlSocket &out)
{
	out.reset(mnl_socket_open2(NETLINK_SOCK_DIAG, SOCK_CLOEXEC));
	if (!out)
		return sys_error(errno, "socket(NETLINK_SOCK_DIAG)");
	if (mnl_socket_bind(out.get(), 0, MNL_SOCKET_AUTOPID) < 0)
		return sys_error(errno, "bind(NETLINK_SOCK_DIAG)");
	return {};
}

Status send_request(const MnlSocket &sock, const nlmsghdr *nlh)
{
	for (;;) {
		ssize_t n = mnl_socket_sendto(sock.get(), nlh, nlh->nlmsg_len);
		if (n >= 0 && static_cast<size_t>(n) == nlh->nlmsg_len)
			return {};
		if (n >= 0)
			return Error{EIO, "sock_diag: sendto: short send of " + std::to_string(n) +
						  " of " + std::to_string(nlh->nlmsg_len) +
						  " bytes"};
		if (errno != EINTR)
			return sys_error(errno, "sendto");
	}
}

// One datagram from the socket, waiting no later than deadline: its size.
Result<size_t> receive(const MnlSocket &sock, std::vector<uint8_t> &buf, Clock::time_point deadline)
{
	const int fd = mnl_socket_get_fd(sock.get());
	for (;;) {
		auto left = std::chrono::ceil<std::chrono::milliseconds>(deadline - Clock::now());
		if (left.count() <= 0)
			return Error{ETIMEDOUT,
				     "sock_diag: timed out waiting for the kernel's reply"};
		pollfd pfd{fd, POLLIN, 0};
		int ready = poll(&pfd, 1, static_cast<int>(std::min<int64_t>(left.count(), 60000)));
		if (ready < 0 && errno != EINTR)
			return sys_error(errno, "poll");
		if (ready <= 0)
			continue;
		ssize_t n = mnl_socket_recvfrom(sock.get(), buf.data(), buf.size());
		if (n > 0)
			return static_cast<size_t>(n);
		if (n == 0)
			return Error{EIO, "sock_diag: recv: empty datagram"};
		if (errno == EINTR || errno == EAGAIN)
			continue;
		// libmnl reports MSG_TRUNC as ENOSPC.
		return sys_error(errno, errno == ENOSPC ? "recv: reply truncated" : "recv");
	}
}

// mnl_nlmsg_ok() compares (int)nlmsg_len: a length of 2 GiB or more passes
// as negative, and mnl_nlmsg_next() then loops for ever (0xffffffff aligns
// to 0) or jumps out of the buffer. Every walk over received bytes uses this.
bool message_ok(const nlmsghdr *nlh, int left)
{
	return mnl_nlmsg_ok(nlh, left) && nlh->nlmsg_len <= static_cast<unsigned>(left);
}

bool is_ours(const nlmsghdr *nlh, uint32_t seq, uint32_t portid)
{
	return nlh->nlmsg_seq == seq && nlh->nlmsg_pid == portid;
}

// The errno an NLMSG_ERROR carries (0 for an ACK); false when the message is
// too short to hold one.
bool nlmsg_error_code(const nlmsghdr *nlh, int &err)
{
	if (nlh->nlmsg_len < NLMSG_LENGTH(sizeof(int)))
		return false;
	int code;
	std::memcpy(&code, mnl_nlmsg_get_payload(nlh), sizeof(code));
	err = code == INT_MIN ? EBADMSG : -code; // -INT_MIN is not an int
	return true;
}

// NLMSG_DONE carries the dump's final status; kernels before 4.x sent none.
int nlmsg_done_code(const nlmsghdr *nlh)
{
	if (nlh->nlmsg_len < NLMSG_LENGTH(sizeof(int)))
		return 0;
	int code;
	std::memcpy(&code, mnl_nlmsg_get_payload(nlh), sizeof(code));
	return code == INT_MIN ? EBADMSG : -code; // -INT_MIN is not an int
}

std::string dump_errno_hint(int err)
{
	// ENOENT at dump start means no sock_diag/inet_diag handler answered.
	if (err == ENOENT)
		return "no TCP sock_diag handler (kernel without CONFIG_INET_TCP_DIAG, or tcp_diag "
		       "not loadable)";
	return "kernel refused the dump";
}

// Fields that live in the fixed inet_diag_msg part.
void fill_from_msg(const inet_diag_msg &msg, DiagSocket &s)
{
	s.family = msg.idiag_family;
	const size_t addr_len = msg.idiag_family == AF_INET ? 4 : 16;
	std::memcpy(s.saddr.data(), msg.id.idiag_src, addr_len);
	std::memcpy(s.daddr.data(), msg.id.idiag_dst, addr_len);
	s.sport = ntohs(msg.id.idiag_sport);
	s.dport = ntohs(msg.id.idiag_dport);
	s.ifindex = msg.id.idiag_if;
	s.cookie = uint64_t{msg.id.idiag_cookie[0]} | uint64_t{msg.id.idiag_cookie[1]} << 32;
	s.state = msg.idiag_state;
	s.uid = msg.idiag_uid;
	s.inode = msg.idiag_inode;
	s.rqueue = msg.idiag_rqueue;
}

Status parse_meminfo(const uint8_t *p, size_t len, DiagSocket &s)
{
	constexpr size_t need = (SK_MEMINFO_RCVBUF + 1) * sizeof(uint32_t);
	if (len < need)
		return bad_message("INET_DIAG_SKMEMINFO too short: " + std::to_string(len) +
				   " bytes, need " + std::to_string(need));
	std::memcpy(&s.rmem_alloc, p + SK_MEMINFO_RMEM_ALLOC * sizeof(uint32_t), sizeof(uint32_t));
	std::memcpy(&s.rcvbuf, p + SK_MEMINFO_RCVBUF * sizeof(uint32_t), sizeof(uint32_t));
	if (len >= (SK_MEMINFO_DROPS + 1) * sizeof(uint32_t))
		std::memcpy(&s.drops, p + SK_MEMINFO_DROPS * sizeof(uint32_t), sizeof(uint32_t));
	return {};
}

// Older kernels send a shorter tcp_info; newer ones a longer one. Only
// fields wholly inside what arrived are used.
void parse_tcp_info(const uint8_t *p, size_t len, DiagSocket &s)
{
	tcp_info ti{};
	std::memcpy(&ti, p, std::min(len, sizeof(ti)));
	if (len >= kTcpInfoWscaleEnd)
		s.rcv_wscale = ti.tcpi_rcv_wscale;
	if (len >= offsetof(tcp_info, tcpi_rcv_space) + sizeof(ti.tcpi_rcv_space))
		s.rcv_space = ti.tcpi_rcv_space;
	// 4.6+; without it the reader position cannot be told (stays 0).
	if (len >= offsetof(tcp_info, tcpi_bytes_received) + sizeof(ti.tcpi_bytes_received))
		s.bytes_received = ti.tcpi_bytes_received;
	if (len >= offsetof(tcp_info, tcpi_rcv_ssthresh) + sizeof(ti.tcpi_rcv_ssthresh))
		s.rcv_ssthresh = ti.tcpi_rcv_ssthresh;
	if (len >= kTcpInfoRcvWndOff + sizeof(uint32_t)) {
		std::memcpy(&s.rcv_wnd, p + kTcpInfoRcvWndOff, sizeof(uint32_t));
		s.has_rcv_wnd = true;
	}
}

Status parse_cgroup_id(const uint8_t *p, size_t len, DiagSocket &s)
{
	if (len < sizeof(uint64_t))
		return bad_message("INET_DIAG_CGROUP_ID too short: " + std::to_string(len) +
				   " bytes, need 8");
	std::memcpy(&s.cgroup_id, p, sizeof(uint64_t));
	return {};
}

Status parse_attribute(uint16_t type, const uint8_t *p, size_t len, DiagSocket &s)
{
	switch (type) {
	case INET_DIAG_SKMEMINFO: return parse_meminfo(p, len, s);
	case INET_DIAG_INFO: parse_tcp_info(p, len, s); return {};
	case INET_DIAG_CGROUP_ID: return parse_cgroup_id(p, len, s);
	default: return {}; // attributes we did not ask for, or from newer kernels
	}
}

// Walks the attributes by hand rather than with mnl_attr_parse(), which
// stops silently at a malformed attribute; a bad one must fail the message.
Status parse_attributes(const uint8_t *begin, const uint8_t *end, DiagSocket &s)
{
	const uint8_t *p = begin;
	while (p < end) {
		const size_t left = static_cast<size_t>(end - p);
		const size_t offset = static_cast<size_t>(p - begin);
		if (left < sizeof(nlattr))
			return bad_message(std::to_string(left) +
					   " trailing bytes after attributes, "
					   "too short for an attribute header (offset " +
					   std::to_string(offset) + ")");
		const auto *attr = reinterpret_cast<const nlattr *>(p);
		const size_t alen = attr->nla_len;
		if (alen < sizeof(nlattr))
			return bad_message("attribute at offset " + std::to_string(offset) +
					   " has bogus length " + std::to_string(alen));
		if (alen > left)
			return bad_message("attribute type " +
					   std::to_string(mnl_attr_get_type(attr)) + " at offset " +
					   std::to_string(offset) + " (length " +
					   std::to_string(alen) + ") overruns the message by " +
					   std::to_string(alen - left) + " bytes");
		const auto *payload = static_cast<const uint8_t *>(mnl_attr_get_payload(attr));
		if (Status st = parse_attribute(mnl_attr_get_type(attr), payload,
						alen - sizeof(nlattr), s);
		    !st)
			return st;
		// The last attribute may lack its alignment padding.
		p += std::min(static_cast<size_t>(MNL_ALIGN(alen)), left);
	}
	return {};
}

Status check_header(const nlmsghdr *nlh, size_t len)
{
	if (nlh == nullptr)
		return bad_message("null message");
	if (len < sizeof(nlmsghdr))
		return bad_message("short netlink header: " + std::to_string(len) +
				   " bytes, need " + std::to_string(sizeof(nlmsghdr)));
	if (nlh->nlmsg_len < sizeof(nlmsghdr))
		return bad_message("bogus nlmsg_len " + std::to_string(nlh->nlmsg_len) +
				   ", smaller than the netlink header");
	if (nlh->nlmsg_len > len)
		return bad_message("nlmsg_len " + std::to_string(nlh->nlmsg_len) +
				   " overruns the " + std::to_string(len) + " bytes received");
	if (nlh->nlmsg_type != SOCK_DIAG_BY_FAMILY)
		return bad_message("unexpected message type " + std::to_string(nlh->nlmsg_type));
	if (nlh->nlmsg_len < NLMSG_LENGTH(sizeof(inet_diag_msg)))
		return bad_message(
			"short inet_diag_msg: " + std::to_string(nlh->nlmsg_len - NLMSG_HDRLEN) +
			" payload bytes, need " + std::to_string(sizeof(inet_diag_msg)));
	return {};
}

// Sends one request and hands every datagram of the answer to
// `on_datagram` until it returns a Status (nullopt: keep reading), or the
// deadline passes.
template <class F>
Status exchange(const MnlSocket &sock, nlmsghdr *nlh, Clock::time_point deadline,
		const std::string &what, F &&on_datagram)
{
	if (Status st = send_request(sock, nlh); !st)
		return with_what(st.error(), what);
	const uint32_t portid = mnl_socket_get_portid(sock.get());
	std::vector<uint8_t> buf(kRecvBufferSize);
	for (;;) {
		Result<size_t> n = receive(sock, buf, deadline);
		if (!n)
			return with_what(n.error(), what);
		if (std::optional<Status> done = on_datagram(buf.data(), *n, portid))
			return *done;
	}
}

Status dump_family(const MnlSocket &sock, uint8_t family, const DumpOptions &opts,
		   Clock::time_point deadline, std::vector<DiagSocket> &out)
{
	alignas(nlmsghdr) uint8_t req_buf[kRequestBufferSize] = {};
	nlmsghdr *nlh = mnl_nlmsg_put_header(req_buf);
	nlh->nlmsg_type = SOCK_DIAG_BY_FAMILY;
	nlh->nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP;
	nlh->nlmsg_seq = next_seq();
	auto *req = static_cast<inet_diag_req_v2 *>(
		mnl_nlmsg_put_extra_header(nlh, sizeof(inet_diag_req_v2)));
	req->sdiag_family = family;
	req->sdiag_protocol = IPPROTO_TCP;
	req->idiag_states = opts.states;
	req->idiag_ext = 1u << (INET_DIAG_SKMEMINFO - 1);
	if (opts.tcp_info)
		req->idiag_ext |= 1u << (INET_DIAG_INFO - 1);

	const std::string what = family_name(family) + " dump";
	return exchange(
		sock, nlh, deadline, what,
		[&](const uint8_t *buf, size_t n, uint32_t portid) -> std::optional<Status> {
			auto outcome =
				detail::process_dump_datagram(buf, n, nlh->nlmsg_seq, portid, out);
			if (!outcome.status)
				return outcome.status.error().wrap("sock_diag: " + what);
			if (outcome.done)
				return Status{};
			return std::nullopt;
		});
}

Error destroy_errno_error(int err, const std::string &what)
{
	switch (err) {
	case EOPNOTSUPP:
		return sys_error(err, what + ": kernel built without CONFIG_INET_DIAG_DESTROY");
	case EPERM:
	case EACCES:
		return sys_error(err,
				 what + ": needs CAP_NET_ADMIN in the socket's network namespace");
	// inet_diag answers a cookie mismatch with ENOENT too, so both cases are named.
	case ENOENT:
	case ESTALE:
		return sys_error(err, what + ": no socket with this 4-tuple and cookie (closed, or "
					     "the 4-tuple now belongs to another socket)");
	default: return sys_error(err, what);
	}
}

// One socket by family + 4-tuple (+ ifindex) and cookie: the request body
// of both SOCK_DESTROY and the single-socket lookup.
inet_diag_req_v2 *put_exact_request(nlmsghdr *nlh, const DiagSocket &s)
{
	auto *req = static_cast<inet_diag_req_v2 *>(
		mnl_nlmsg_put_extra_header(nlh, sizeof(inet_diag_req_v2)));
	req->sdiag_family = static_cast<uint8_t>(s.family);
	req->sdiag_protocol = IPPROTO_TCP;
	req->idiag_states = kAllTcpStates;
	req->id.idiag_sport = htons(s.sport);
	req->id.idiag_dport = htons(s.dport);
	const size_t addr_len = s.family == AF_INET ? 4 : 16;
	std::memcpy(req->id.idiag_src, s.saddr.data(), addr_len);
	std::memcpy(req->id.idiag_dst, s.daddr.data(), addr_len);
	req->id.idiag_if = s.ifindex;
	req->id.idiag_cookie[0] = static_cast<uint32_t>(s.cookie);
	req->id.idiag_cookie[1] = static_cast<uint32_t>(s.cookie >> 32);
	return req;
}

void put_destroy_request(nlmsghdr *nlh, const DiagSocket &s)
{
	nlh->nlmsg_type = SOCK_DESTROY;
	nlh->nlmsg_flags = NLM_F_REQUEST | NLM_F_ACK;
	nlh->nlmsg_seq = next_seq();
	put_exact_request(nlh, s);
}

// The NLMSG_ERROR that acknowledges request seq in one datagram: its
// Status, or nullopt when the datagram does not hold it.
std::optional<Status> ack_in(const uint8_t *buf, size_t n, uint32_t seq, uint32_t portid,
			     const std::string &what)
{
	int left = static_cast<int>(n);
	for (auto *nlh = reinterpret_cast<const nlmsghdr *>(buf); message_ok(nlh, left);
	     nlh = mnl_nlmsg_next(nlh, &left)) {
		if (!is_ours(nlh, seq, portid) || nlh->nlmsg_type != NLMSG_ERROR)
			continue;
		int code = 0;
		if (!nlmsg_error_code(nlh, code))
			return Status(
				Error{EBADMSG, "sock_diag: " + what + ": truncated NLMSG_ERROR"});
		if (code != 0)
			return Status(destroy_errno_error(code, what));
		return Status{};
	}
	return std::nullopt;
}

} // namespace

Result<DiagSocket> parse_inet_diag(const struct nlmsghdr *nlh, size_t len)
{
	if (Status st = check_header(nlh, len); !st)
		return st.error();
	inet_diag_msg msg;
	std::memcpy(&msg, mnl_nlmsg_get_payload(nlh), sizeof(msg));
	if (msg.idiag_family != AF_INET && msg.idiag_family != AF_INET6)
		return bad_message("unexpected family " + std::to_string(msg.idiag_family));
	DiagSocket sock;
	fill_from_msg(msg, sock);

	const auto *base = reinterpret_cast<const uint8_t *>(nlh);
	const uint8_t *attrs = base + NLMSG_HDRLEN + NLMSG_ALIGN(sizeof(inet_diag_msg));
	const uint8_t *end = base + nlh->nlmsg_len;
	if (attrs < end)
		if (Status st = parse_attributes(attrs, end, sock); !st)
			return st.error();
	return sock;
}

namespace detail {

DatagramOutcome process_dump_datagram(const void *buf, size_t len, uint32_t seq, uint32_t portid,
				      std::vector<DiagSocket> &out)
{
	DatagramOutcome o;
	int left = static_cast<int>(std::min<size_t>(len, INT32_MAX));
	const auto *nlh = static_cast<const nlmsghdr *>(buf);
	for (; message_ok(nlh, left); nlh = mnl_nlmsg_next(nlh, &left)) {
		// Late replies to an earlier request on this socket, or anything
		// not addressed to us, are not part of this dump.
		if (!is_ours(nlh, seq, portid))
			continue;
		switch (nlh->nlmsg_type) {
		case NLMSG_NOOP: continue;
		case NLMSG_DONE:
			if (int err = nlmsg_done_code(nlh); err != 0)
				o.status = Error{err, "kernel ended the dump with an error: " +
							      errno_text(err)};
			o.done = true;
			return o;
		case NLMSG_ERROR: {
			int err = 0;
			if (!nlmsg_error_code(nlh, err)) {
				o.status = Error{EBADMSG, "truncated NLMSG_ERROR"};
				return o;
			}
			if (err != 0) {
				o.status =
					Error{err, dump_errno_hint(err) + ": " + errno_text(err)};
				return o;
			}
			continue; // a plain ACK carries no data
		}
		case NLMSG_OVERRUN:
			o.status = Error{EOVERFLOW, "kernel reported NLMSG_OVERRUN, data lost"};
			return o;
		case SOCK_DIAG_BY_FAMILY: {
			Result<DiagSocket> r = parse_inet_diag(nlh, static_cast<size_t>(left));
			if (!r) {
				o.status = r.error();
				return o;
			}
			out.push_back(std::move(*r));
			continue;
		}
		default: continue; // message types this code does not know
		}
	}
	if (left > 0)
		o.status = Error{EBADMSG, std::to_string(left) +
						  " bytes at the end of a datagram are not a whole "
						  "netlink message"};
	return o;
}

void put_lookup_request(nlmsghdr *nlh, const DiagSocket &s, uint32_t seq)
{
	nlh->nlmsg_type = SOCK_DIAG_BY_FAMILY;
	nlh->nlmsg_flags = NLM_F_REQUEST; // exactly one socket: no NLM_F_DUMP
	nlh->nlmsg_seq = seq;
	inet_diag_req_v2 *req = put_exact_request(nlh, s);
	req->idiag_ext = 1u << (INET_DIAG_SKMEMINFO - 1) | 1u << (INET_DIAG_INFO - 1);
}

std::optional<Result<DiagSocket>> process_lookup_datagram(const void *buf, size_t len, uint32_t seq,
							  uint32_t portid)
{
	int left = static_cast<int>(std::min<size_t>(len, INT32_MAX));
	const auto *nlh = static_cast<const nlmsghdr *>(buf);
	for (; message_ok(nlh, left); nlh = mnl_nlmsg_next(nlh, &left)) {
		if (!is_ours(nlh, seq, portid))
			continue;
		if (nlh->nlmsg_type == SOCK_DIAG_BY_FAMILY)
			return parse_inet_diag(nlh, static_cast<size_t>(left));
		if (nlh->nlmsg_type != NLMSG_ERROR)
			continue;
		int err = 0;
		if (!nlmsg_error_code(nlh, err))
			return Result<DiagSocket>(Error{EBADMSG, "truncated NLMSG_ERROR"});
		if (err == 0)
			continue; // an ACK; the socket comes in its own message
		if (err == ENOENT)
			return Result<DiagSocket>(Error::sys(
				err, "no socket with this 4-tuple and cookie (closed, or the "
				     "4-tuple now belongs to another socket)"));
		return Result<DiagSocket>(Error::sys(err, "kernel refused the lookup"));
	}
	return std::nullopt;
}

} // namespace detail

Status dump_tcp(std::vector<DiagSocket> &out, const DumpOptions &opts)
{
	const auto deadline = Clock::now() + opts.timeout;
	out.clear();
	MnlSocket sock;
	if (Status st = open_socket(sock); !st)
		return st;
	std::vector<uint8_t> families;
	if (opts.ipv4)
		families.push_back(AF_INET);
	if (opts.ipv6)
		families.push_back(AF_INET6);
	for (uint8_t family : families)
		if (Status st = dump_family(sock, family, opts, deadline, out); !st)
			return st;
	return {};
}

Result<std::vector<DiagSocket>> dump_tcp(const DumpOptions &opts)
{
	std::vector<DiagSocket> out;
	if (Status st = dump_tcp(out, opts); !st)
		return st.error();
	return out;
}

Result<DiagSocket> lookup(const DiagSocket &s)
{
	const std::string what = "lookup " + socket_text(s);
	if (s.family != AF_INET && s.family != AF_INET6)
		return Error{EAFNOSUPPORT, "sock_diag: " + what + ": not an inet socket"};
	const auto deadline = Clock::now() + kDestroyTimeout;
	MnlSocket sock;
	if (Status st = open_socket(sock); !st)
		return st.error();
	alignas(nlmsghdr) uint8_t req_buf[kRequestBufferSize] = {};
	nlmsghdr *nlh = mnl_nlmsg_put_header(req_buf);
	detail::put_lookup_request(nlh, s, next_seq());
	std::optional<DiagSocket> found;
	Status st = exchange(
		sock, nlh, deadline, what,
		[&](const uint8_t *buf, size_t n, uint32_t portid) -> std::optional<Status> {
			auto r = detail::process_lookup_datagram(buf, n, nlh->nlmsg_seq, portid);
			if (!r)
				return std::nullopt;
			if (!*r)
				return r->error().wrap("sock_diag: " + what);
			found = std::move(**r);
			return Status{};
		});
	if (!st)
		return st.error();
	return std::move(*found);
}

Status destroy(const DiagSocket &s)
{
	const std::string what = "SOCK_DESTROY " + socket_text(s);
	if (s.family != AF_INET && s.family != AF_INET6)
		return Error{EAFNOSUPPORT, "sock_diag: " + what + ": not an inet socket"};
	// All-ones is INET_DIAG_NOCOOKIE: the kernel would then kill whatever
	// socket holds the 4-tuple now, which the cookie is there to prevent.
	if (s.cookie == ~uint64_t{0})
		return Error{EINVAL, "sock_diag: " + what + ": no-cookie value refused"};

	const auto deadline = Clock::now() + kDestroyTimeout;
	MnlSocket sock;
	if (Status st = open_socket(sock); !st)
		return st;

	alignas(nlmsghdr) uint8_t req_buf[kRequestBufferSize] = {};
	nlmsghdr *nlh = mnl_nlmsg_put_header(req_buf);
	put_destroy_request(nlh, s);
	return exchange(sock, nlh, deadline, what,
			[&](const uint8_t *buf, size_t n, uint32_t portid) {
				return ack_in(buf, n, nlh->nlmsg_seq, portid, what);
			});
}

} // namespace rcvgov::diag
