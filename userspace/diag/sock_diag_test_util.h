// Hand-built sock_diag messages for the parser and netlink tests.
#pragma once

#include <arpa/inet.h>
#include <libmnl/libmnl.h>
#include <linux/inet_diag.h>
#include <linux/netlink.h>
#include <linux/sock_diag.h>
#include <linux/tcp.h>
#include <netinet/in.h>

#include <array>
#include <cstdint>

#include "diag/sock_diag.h"

namespace rcvgov::diag::test {

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
inline constexpr uint32_t kMeminfo[SK_MEMINFO_VARS] = {12345, 131072, 1, 2, 3, 4, 5, 6, 7};
static_assert(SK_MEMINFO_RMEM_ALLOC == 0 && SK_MEMINFO_RCVBUF == 1);
inline constexpr uint64_t kCgroupId = 0x1122334455667788ull;
inline constexpr uint64_t kBytesReceived = 0x1234567890ull;

inline void fill_v4(inet_diag_msg *m)
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

inline void add_full_attrs(Msg &msg)
{
	msg.attr(INET_DIAG_SKMEMINFO, kMeminfo, sizeof(kMeminfo));
	tcp_info ti{};
	ti.tcpi_snd_wscale = 9;
	ti.tcpi_rcv_wscale = 7;
	ti.tcpi_rcv_space = 65483;
	ti.tcpi_bytes_received = kBytesReceived;
	msg.attr(INET_DIAG_INFO, &ti, sizeof(ti));
	msg.attr(INET_DIAG_CGROUP_ID, &kCgroupId, sizeof(kCgroupId));
}

} // namespace rcvgov::diag::test
