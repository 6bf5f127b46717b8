// NETLINK_SOCK_DIAG fallback: the daemon's socket view when BPF is unavailable.
//
// rcvgovd normally learns about TCP sockets from its BPF programs (iter/tcp
// snapshots plus ring buffer events). When BPF cannot be loaded at all (no
// CAP_BPF/CAP_SYS_ADMIN, kernel without BPF, BTF or the needed hooks, a
// verifier rejection), it falls back to polling here: one dump_tcp() per
// tick gives cookie, 4-tuple, receive queue and rcvbuf for every TCP socket,
// enough to spot overgrown buffers, though without the inflation history that
// only BPF can see. destroy() is the enforcement of last resort in that mode.
//
// Each call opens its own netlink socket on purpose: a netlink socket is tied
// to the network namespace it was created in, and the daemon switches
// namespaces (setns) between polls. So every call works on the calling
// thread's current namespace. Nothing here throws except std::bad_alloc;
// failures come back as rcvgov::Error values (common/error.h) whose message
// says what failed.
#pragma once

#include <array>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "common/error.h"

struct nlmsghdr;

namespace rcvgov::diag {

// Kernel TCP state numbers (include/net/tcp_states.h): ABI, but not exported
// by any uapi header that can be included next to <linux/tcp.h>.
inline constexpr uint8_t kTcpEstablished = 1;
inline constexpr uint8_t kTcpTimeWait = 6;
inline constexpr uint8_t kTcpClose = 7;
inline constexpr uint8_t kTcpListen = 10;

constexpr uint32_t tcp_state_bit(uint8_t state)
{
	return 1u << state;
}

inline constexpr uint32_t kAllTcpStates = 0xfff; // TCPF_ALL
// Listeners and TIME_WAIT minisockets have no receive queue worth governing.
inline constexpr uint32_t kDefaultTcpStates =
	kAllTcpStates & ~(tcp_state_bit(kTcpListen) | tcp_state_bit(kTcpTimeWait));

struct DiagSocket {
	uint64_t cookie = 0;		 // idiag_cookie[0] | idiag_cookie[1] << 32, as SO_COOKIE
	uint16_t family = 0;		 // AF_INET or AF_INET6
	std::array<uint8_t, 16> saddr{}; // network order; IPv4 in the first 4 bytes
	std::array<uint8_t, 16> daddr{};
	uint16_t sport = 0; // host order
	uint16_t dport = 0;
	uint8_t state = 0; // kernel TCP state number
	uint32_t uid = 0;
	uint32_t inode = 0;
	// idiag_if: destroy() needs it to find sockets bound to a device.
	uint32_t ifindex = 0;
	// 0 when INET_DIAG_SKMEMINFO was absent; a full socket never has rcvbuf 0.
	uint32_t rmem_alloc = 0;
	uint32_t rcvbuf = 0;
	uint32_t rqueue = 0;	// idiag_rqueue: unread bytes for established sockets
	uint64_t cgroup_id = 0; // 0 when INET_DIAG_CGROUP_ID was absent
	// From tcp_info; 0 when not requested or when the kernel's copy is too short.
	uint8_t rcv_wscale = 0;
	uint32_t rcv_space = 0;
	// tcpi_bytes_received: bytes the socket has received in sequence. The
	// reader's position is bytes_received - rqueue (copied_seq - ISN - 1).
	uint64_t bytes_received = 0;
	// For one socket's view (rcvgovctl record): tcpi_rcv_ssthresh, the
	// window last advertised (tcpi_rcv_wnd, 6.4+; has_rcv_wnd false on
	// older kernels) and skmem's drop count (SK_MEMINFO_DROPS).
	uint32_t rcv_ssthresh = 0;
	uint32_t rcv_wnd = 0;
	bool has_rcv_wnd = false;
	uint32_t drops = 0;

	uint64_t reader_position() const { return bytes_received - rqueue; }

	bool operator==(const DiagSocket &) const = default;
};

struct DumpOptions {
	uint32_t states = kDefaultTcpStates; // bit (1 << state) per wanted state
	bool ipv4 = true;
	bool ipv6 = true;
	bool tcp_info = true; // request INET_DIAG_INFO for rcv_wscale/rcv_space
	// Bound on the whole dump, so a wedged kernel cannot stall the daemon.
	std::chrono::milliseconds timeout{2000};
};

// One dump of the TCP sockets of the calling thread's network namespace.
// Either all sockets of the dump, or an error.
[[nodiscard]] Result<std::vector<DiagSocket>> dump_tcp(const DumpOptions &opts = {});
// The same into `out` (cleared first, its capacity kept: a caller that
// dumps again and again allocates once). On an error `out` holds what came
// before it.
[[nodiscard]] Status dump_tcp(std::vector<DiagSocket> &out, const DumpOptions &opts = {});

// The current state of exactly one socket: a SOCK_DIAG_BY_FAMILY request
// (no NLM_F_DUMP) for its family + 4-tuple (+ ifindex) and cookie, with
// INET_DIAG_INFO and INET_DIAG_SKMEMINFO. ENOENT when it is gone (or the
// 4-tuple now belongs to another socket). Used to re-check the reader's
// progress right before destroy().
[[nodiscard]] Result<DiagSocket> lookup(const DiagSocket &sock);

// Parses one SOCK_DIAG_BY_FAMILY message; len is how many bytes are readable
// at nlh (at least nlh->nlmsg_len). No kernel needed.
[[nodiscard]] Result<DiagSocket> parse_inet_diag(const struct nlmsghdr *nlh, size_t len);

// SOCK_DESTROY for one socket, found by family + 4-tuple (+ ifindex) and
// checked against its cookie so a reused 4-tuple is never hit (the kernel
// answers a mismatch with ENOENT, same as a closed socket; the all-ones
// "no cookie" value is refused with EINVAL). Needs CAP_NET_ADMIN and
// CONFIG_INET_DIAG_DESTROY (else EOPNOTSUPP, and the message says so). The
// owner then reads what was queued, then ECONNABORTED; the peer gets a RST.
[[nodiscard]] Status destroy(const DiagSocket &sock);

namespace detail {

// What one received datagram of a dump did; split out of dump_tcp() so the
// NLMSG_DONE/NLMSG_ERROR/foreign-message handling is testable without a kernel.
struct DatagramOutcome {
	bool done = false; // NLMSG_DONE seen: the dump is complete
	Status status;
};

DatagramOutcome process_dump_datagram(const void *buf, size_t len, uint32_t seq, uint32_t portid,
				      std::vector<DiagSocket> &out);

// The request lookup() sends, built into nlh (room for kRequestBufferSize).
inline constexpr size_t kRequestBufferSize = 256;
void put_lookup_request(nlmsghdr *nlh, const DiagSocket &sock, uint32_t seq);

// What one received datagram says about lookup request seq: nothing yet
// (std::nullopt: keep reading), the socket, or the kernel's error.
std::optional<Result<DiagSocket>> process_lookup_datagram(const void *buf, size_t len, uint32_t seq,
							  uint32_t portid);

} // namespace detail

} // namespace rcvgov::diag
