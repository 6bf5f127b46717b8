// Writes the generated part of the fuzz seed corpora (`make fuzz-seeds`):
//
//   DIR/event/gen-*  ring-buffer records (struct rcvgov_event) and iter/tcp
//                    snapshot reads (struct rcvgov_snapshot_rec), from
//                    bpf/rcvgov_abi.h as the BPF programs fill them in;
//   DIR/diag/gen-*   NETLINK_SOCK_DIAG datagrams built with the unit tests'
//                    builders (diag/sock_diag_test_util.h), and, when the
//                    kernel answers, real ones: a dump and a single-socket
//                    lookup of a loopback connection this program opens,
//                    cut to whole messages of at most 4 KiB.
//
// Run it again when the ABI changes; the files are checked in.
#include <arpa/inet.h>
#include <cerrno>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <libmnl/libmnl.h>
#include <linux/inet_diag.h>
#include <linux/netlink.h>
#include <linux/sock_diag.h>
#include <netinet/in.h>
#include <string>
#include <sys/socket.h>
#include <unistd.h>
#include <vector>

#include "diag/sock_diag_test_util.h"

extern "C" {
#include "rcvgov_abi.h"
}

namespace {

using Bytes = std::vector<uint8_t>;
std::string g_dir;
int g_written = 0;

void write_file(const std::string &sub, const std::string &name, const void *p, size_t n)
{
	const std::string path = g_dir + "/" + sub + "/gen-" + name;
	std::ofstream out(path, std::ios::binary | std::ios::trunc);
	out.write(static_cast<const char *>(p), static_cast<std::streamsize>(n));
	if (!out) {
		std::fprintf(stderr, "gen-seeds: cannot write %s\n", path.c_str());
		std::exit(1);
	}
	++g_written;
}

void write_file(const std::string &sub, const std::string &name, const Bytes &b)
{
	write_file(sub, name, b.data(), b.size());
}

template <class T> void append(Bytes &b, const T &v)
{
	const auto *p = reinterpret_cast<const uint8_t *>(&v);
	b.insert(b.end(), p, p + sizeof(v));
}

rcvgov_sock_id sock_id(bool v6, uint64_t cookie)
{
	rcvgov_sock_id id{};
	id.cookie = cookie;
	id.family = v6 ? AF_INET6 : AF_INET;
	if (v6) {
		inet_pton(AF_INET6, "fd00::1", id.saddr);
		inet_pton(AF_INET6, "fd00::2", id.daddr);
	} else {
		inet_pton(AF_INET, "10.0.0.1", id.saddr);
		inet_pton(AF_INET, "192.0.2.2", id.daddr);
	}
	id.sport = 5001;
	id.dport = 40000;
	return id;
}

rcvgov_owner owner(const char *comm)
{
	rcvgov_owner o{};
	o.cgroup_id = 0x1234;
	o.netns_cookie = 0x5678;
	o.pid = 4242;
	std::strncpy(o.comm, comm, sizeof(o.comm));
	return o;
}

void events()
{
	const struct {
		uint32_t type, source;
		bool v6;
		const char *comm;
		const char *name;
	} evs[] = {
		{RCVGOV_EV_INFLATION, RCVGOV_SRC_FEXIT_TCP_CLAMP_WINDOW, false, "reader",
		 "event-inflation-v4"},
		{RCVGOV_EV_OVERSHOOT, RCVGOV_SRC_FEXIT_TCP_TRY_COALESCE, true, "reader",
		 "event-overshoot-v6"},
		{RCVGOV_EV_ESTABLISHED, RCVGOV_SRC_TP_INET_SOCK_SET_STATE, false, "curl",
		 "event-established"},
		{RCVGOV_EV_CLOSED, RCVGOV_SRC_TP_INET_SOCK_SET_STATE, true, "",
		 "event-closed-nocomm"},
		// prctl(PR_SET_NAME) accepts any bytes: a comm that is not UTF-8.
		{RCVGOV_EV_INFLATION, RCVGOV_SRC_TP_TCP_RCVBUF_PRUNE, false, "\xff\xfe-bin",
		 "event-comm-not-utf8"},
	};
	for (const auto &e : evs) {
		rcvgov_event ev{};
		ev.type = e.type;
		ev.source = e.source;
		ev.ts_ns = 123456789000ULL;
		ev.id = sock_id(e.v6, 0xc0ffee00ULL + e.type);
		ev.owner = owner(e.comm);
		ev.inflation_bytes = 39443488;
		ev.rmem_alloc = 39576008;
		ev.rcvbuf_before = 131072;
		ev.rcvbuf_after = 39574560;
		ev.autotuned_rcvbuf = 131072;
		ev.inflations = 9630;
		ev.overshoots = 3;
		ev.rcv_wscale = 7;
		write_file("event", e.name, &ev, sizeof(ev));
	}

	auto rec = [](bool v6, uint64_t cookie, uint8_t state, const char *comm) {
		rcvgov_snapshot_rec r{};
		r.id = sock_id(v6, cookie);
		r.owner = owner(comm);
		r.inflation_bytes = 1 << 20;
		r.stalled_since_ns = 100000000000ULL;
		r.now_ns = 130000000000ULL;
		r.rmem_alloc = 691968;
		r.rcvbuf = 604592;
		r.autotuned_rcvbuf = 131072;
		r.inflations = 12;
		r.overshoots = 1;
		r.max_overshoot = 4096;
		r.unread = 650000;
		r.rcv_wnd = 65535;
		r.window_clamp = 65535 << 7;
		r.flags = RCVGOV_F_OWNER_TASK | (v6 ? RCVGOV_F_IPV6 : 0);
		r.copied_seq = 0xdeadbeef;
		r.state = state;
		r.rcv_wscale = 7;
		return r;
	};
	Bytes one, three;
	append(one, rec(false, 1, 1, "reader"));
	write_file("event", "snapshot-1", one);
	append(three, rec(false, 1, 1, "reader"));
	append(three, rec(true, 2, 8, "sshd"));
	rcvgov_snapshot_rec lower = rec(false, 3, 1, "");
	lower.flags |= RCVGOV_F_AGE_LOWER;
	lower.owner.pid = 0;
	append(three, lower);
	write_file("event", "snapshot-3", three);
}

// A datagram of messages built with the unit tests' Msg, seq/portid set.
void put(Bytes &dgram, rcvgov::diag::test::Msg &m, uint32_t seq, uint32_t portid)
{
	m.nlh()->nlmsg_seq = seq;
	m.nlh()->nlmsg_pid = portid;
	m.nlh()->nlmsg_flags = NLM_F_MULTI;
	dgram.insert(dgram.end(), m.bytes(), m.bytes() + MNL_ALIGN(m.len()));
}

void diag_built()
{
	using namespace rcvgov::diag::test;
	constexpr uint32_t seq = 1000, portid = 4321;
	Bytes dump;
	{
		Msg m;
		fill_v4(m.diag());
		add_full_attrs(m);
		put(dump, m, seq, portid);
	}
	{
		Msg m;
		inet_diag_msg *d = m.diag();
		fill_v4(d);
		d->idiag_family = AF_INET6;
		inet_pton(AF_INET6, "fd00::1", d->id.idiag_src);
		inet_pton(AF_INET6, "fd00::2", d->id.idiag_dst);
		m.attr(INET_DIAG_SKMEMINFO, kMeminfo, sizeof(kMeminfo));
		put(dump, m, seq, portid);
	}
	write_file("diag", "built-dump-2", dump);
	{
		// The end of a dump: NLMSG_DONE with its status (0).
		Msg m(NLMSG_DONE);
		*static_cast<int *>(mnl_nlmsg_put_extra_header(m.nlh(), sizeof(int))) = 0;
		Bytes d;
		put(d, m, seq, portid);
		write_file("diag", "built-done", d);
		// A dump and its end in one datagram.
		Bytes both = dump;
		both.insert(both.end(), d.begin(), d.end());
		write_file("diag", "built-dump-done", both);
	}
	{
		// NLMSG_ERROR -ENOENT: no such socket (lookup), or no tcp_diag (dump).
		Bytes d;
		nlmsghdr h{};
		h.nlmsg_type = NLMSG_ERROR;
		h.nlmsg_seq = seq;
		h.nlmsg_pid = portid;
		nlmsgerr err{};
		err.error = -ENOENT;
		h.nlmsg_len = static_cast<uint32_t>(NLMSG_LENGTH(sizeof(err)));
		append(d, h);
		append(d, err);
		write_file("diag", "built-error-enoent", d);
	}
}

// Real datagrams from the kernel, for a loopback connection of our own.
void diag_live()
{
	int lfd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	sockaddr_in a{};
	a.sin_family = AF_INET;
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	socklen_t alen = sizeof(a);
	int cfd = -1, afd = -1;
	if (lfd < 0 || bind(lfd, reinterpret_cast<sockaddr *>(&a), sizeof(a)) != 0 ||
	    listen(lfd, 4) != 0 || getsockname(lfd, reinterpret_cast<sockaddr *>(&a), &alen) != 0 ||
	    (cfd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0)) < 0 ||
	    connect(cfd, reinterpret_cast<sockaddr *>(&a), sizeof(a)) != 0 ||
	    (afd = accept(lfd, nullptr, nullptr)) < 0) {
		std::perror("gen-seeds: loopback connection");
		return;
	}
	// Unread data, so rqueue and rmem_alloc are not 0.
	const char msg[] = "unread bytes for the seed corpus";
	(void)!write(cfd, msg, sizeof(msg));
	usleep(20000);

	mnl_socket *nl = mnl_socket_open(NETLINK_SOCK_DIAG);
	if (!nl || mnl_socket_bind(nl, 0, MNL_SOCKET_AUTOPID) < 0) {
		std::perror("gen-seeds: NETLINK_SOCK_DIAG");
		return;
	}
	std::vector<uint8_t> buf(32768);
	auto exchange = [&](nlmsghdr *req, const std::string &name, bool dump) {
		if (mnl_socket_sendto(nl, req, req->nlmsg_len) < 0) {
			std::perror("gen-seeds: sendto");
			return;
		}
		for (int i = 0; i < 64; ++i) {
			ssize_t n = mnl_socket_recvfrom(nl, buf.data(), buf.size());
			if (n <= 0)
				return;
			// Whole messages, at most 4 KiB.
			int left = static_cast<int>(n);
			size_t keep = 0;
			bool done = false;
			for (auto *h = reinterpret_cast<nlmsghdr *>(buf.data());
			     mnl_nlmsg_ok(h, left); h = mnl_nlmsg_next(h, &left)) {
				size_t end = reinterpret_cast<uint8_t *>(h) - buf.data() +
					     MNL_ALIGN(h->nlmsg_len);
				if (end > 4096)
					break;
				keep = std::min<size_t>(end, static_cast<size_t>(n));
				done |= h->nlmsg_type == NLMSG_DONE || h->nlmsg_type == NLMSG_ERROR;
			}
			write_file("diag", name + "-" + std::to_string(i), buf.data(), keep);
			if (done || !dump)
				return;
		}
	};

	alignas(nlmsghdr) uint8_t req_buf[256] = {};
	nlmsghdr *nlh = mnl_nlmsg_put_header(req_buf);
	nlh->nlmsg_type = SOCK_DIAG_BY_FAMILY;
	nlh->nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP;
	nlh->nlmsg_seq = 77;
	auto *req = static_cast<inet_diag_req_v2 *>(
		mnl_nlmsg_put_extra_header(nlh, sizeof(inet_diag_req_v2)));
	req->sdiag_family = AF_INET;
	req->sdiag_protocol = IPPROTO_TCP;
	req->idiag_states = 1u << 1; // established only: a small dump
	req->idiag_ext = 1u << (INET_DIAG_SKMEMINFO - 1) | 1u << (INET_DIAG_INFO - 1);
	exchange(nlh, "live-dump", true);

	// The lookup rcvgovd sends before a destroy: the accepted socket.
	sockaddr_in peer{};
	socklen_t plen = sizeof(peer);
	getpeername(afd, reinterpret_cast<sockaddr *>(&peer), &plen);
	std::memset(req_buf, 0, sizeof(req_buf));
	nlh = mnl_nlmsg_put_header(req_buf);
	nlh->nlmsg_type = SOCK_DIAG_BY_FAMILY;
	nlh->nlmsg_flags = NLM_F_REQUEST;
	nlh->nlmsg_seq = 78;
	req = static_cast<inet_diag_req_v2 *>(
		mnl_nlmsg_put_extra_header(nlh, sizeof(inet_diag_req_v2)));
	req->sdiag_family = AF_INET;
	req->sdiag_protocol = IPPROTO_TCP;
	req->idiag_states = 0xfff;
	req->idiag_ext = 1u << (INET_DIAG_SKMEMINFO - 1) | 1u << (INET_DIAG_INFO - 1);
	req->id.idiag_sport = a.sin_port;
	req->id.idiag_dport = peer.sin_port;
	req->id.idiag_src[0] = a.sin_addr.s_addr;
	req->id.idiag_dst[0] = peer.sin_addr.s_addr;
	req->id.idiag_cookie[0] = INET_DIAG_NOCOOKIE;
	req->id.idiag_cookie[1] = INET_DIAG_NOCOOKIE;
	exchange(nlh, "live-lookup", false);

	mnl_socket_close(nl);
	close(afd);
	close(cfd);
	close(lfd);
}

} // namespace

int main(int argc, char **argv)
{
	if (argc != 2) {
		std::fprintf(stderr, "usage: %s CORPUS_DIR\n", argv[0]);
		return 2;
	}
	g_dir = argv[1];
	events();
	diag_built();
	diag_live();
	std::printf("gen-seeds: %d files written under %s\n", g_written, g_dir.c_str());
	return 0;
}
