// rcvgov-reader: the receiving half of the blog's test pair. Accepts one
// connection and reads it slowly, never, or alternating slow and fast.
// It deliberately never sets SO_RCVBUF: that would lock autotuning and
// hide the behaviour under study.
#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>
#include <vector>

#include "common/errno_text.h"
#include "common/unique_fd.h"
#include "pair/pacing.h"
#include "pair/pair_args.h"

using namespace rcvgov;
using namespace rcvgov::pair;

namespace {

UniqueFd listen_on(const SockAddr &addr, int backlog)
{
	UniqueFd fd(socket(addr.family(), SOCK_STREAM | SOCK_CLOEXEC, 0));
	int one = 1;
	// SO_REUSEADDR: a rerun right after a killed lab must not hit EADDRINUSE
	// because of TIME_WAIT leftovers.
	if (!fd || setsockopt(fd.get(), SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) ||
	    bind(fd.get(), reinterpret_cast<const sockaddr *>(&addr.ss), addr.len) ||
	    listen(fd.get(), backlog)) {
		int err = errno; // close() must not hide why
		fd.reset();
		errno = err;
	}
	return fd;
}

// Waits for one peer, at most `timeout` (0: forever). An empty fd with
// errno 0 means stopped or timed out; otherwise errno tells why.
UniqueFd accept_one(int lfd, std::chrono::nanoseconds timeout)
{
	auto deadline = std::chrono::steady_clock::now() + timeout;
	while (!stop_requested()) {
		int wait_ms = 1000;
		if (timeout.count()) {
			auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
					    deadline - std::chrono::steady_clock::now())
					    .count();
			if (left <= 0) {
				errno = ETIMEDOUT;
				return UniqueFd();
			}
			wait_ms = static_cast<int>(std::min<long long>(left + 1, 1000));
		}
		pollfd p{lfd, POLLIN, 0};
		int n = poll(&p, 1, wait_ms);
		if (n < 0 && errno != EINTR)
			return UniqueFd();
		if (n <= 0)
			continue;
		int fd = accept4(lfd, nullptr, nullptr, SOCK_CLOEXEC);
		if (fd >= 0)
			return UniqueFd(fd);
		if (errno != EINTR && errno != ECONNABORTED)
			return UniqueFd();
	}
	errno = 0;
	return UniqueFd();
}

std::string local_and_peer(int fd)
{
	sockaddr_storage local{}, peer{};
	socklen_t llen = sizeof(local), plen = sizeof(peer);
	getsockname(fd, reinterpret_cast<sockaddr *>(&local), &llen);
	getpeername(fd, reinterpret_cast<sockaddr *>(&peer), &plen);
	return "local=" + format_sockaddr(reinterpret_cast<sockaddr *>(&local)) +
	       " peer=" + format_sockaddr(reinterpret_cast<sockaddr *>(&peer));
}

} // namespace

int main(int argc, char **argv)
{
	ReaderConfig cfg;
	try {
		cfg = parse_reader_args(std::vector<std::string>(argv + 1, argv + argc));
	} catch (const HelpRequested &h) {
		std::fputs(h.text.c_str(), stdout);
		return 0;
	} catch (const std::invalid_argument &e) {
		std::fprintf(stderr, "rcvgov-reader: %s\n", e.what());
		return 2;
	}
	install_stop_handlers();
	const bool multi = cfg.connections > 1;
	if (multi) {
		std::string why =
			reserve_fds("--connections", cfg.connections, cfg.connections + 16);
		if (!why.empty()) {
			std::fprintf(stderr, "rcvgov-reader: %s\n", why.c_str());
			return 1;
		}
	}
	std::string where = format_sockaddr(reinterpret_cast<const sockaddr *>(&cfg.listen.ss));

	// The kernel caps the backlog at net.core.somaxconn (4096).
	UniqueFd lfd = listen_on(cfg.listen, static_cast<int>(cfg.connections));
	if (!lfd) {
		std::fprintf(stderr, "rcvgov-reader: listen %s: %s\n", where.c_str(),
			     errno_text(errno).c_str());
		return 1;
	}
	// Scripts start the sender once they see this line.
	std::printf("listening on %s pid=%d\n", where.c_str(), getpid());
	std::fflush(stdout);
	struct Conn {
		UniqueFd fd;
		std::string name;
	};
	std::vector<Conn> conns;
	conns.reserve(cfg.connections);
	while (conns.size() < cfg.connections) {
		UniqueFd cfd = accept_one(lfd.get(), cfg.accept_timeout);
		if (!cfd) {
			if (stop_requested())
				return 0;
			std::string which =
				multi ? " (connection " + std::to_string(conns.size() + 1) +
						" of " + std::to_string(cfg.connections) + ")"
				      : "";
			std::fprintf(stderr, "rcvgov-reader: accept on %s%s: %s\n", where.c_str(),
				     which.c_str(),
				     errno == ETIMEDOUT ? "no peer within --accept-timeout"
							: errno_text(errno).c_str());
			return 1;
		}
		std::string name = local_and_peer(cfd.get());
		// Scripts find the sockets under study by these lines.
		// at=: wall-clock ms of the accept, for scripts that order
		// connections by age.
		std::printf("accepted %s pid=%d at=%lld\n", name.c_str(), getpid(),
			    static_cast<long long>(
				    std::chrono::duration_cast<std::chrono::milliseconds>(
					    std::chrono::system_clock::now().time_since_epoch())
					    .count()));
		std::fflush(stdout);
		conns.push_back({std::move(cfd), std::move(name)});
	}
	// No more peers: a further one must be refused, not queued.
	lfd.reset();

	std::vector<char> buf(std::max(cfg.read_bytes, cfg.fast_bytes));
	uint64_t got = 0, reads = 0, closed = 0, lost = 0;
	bool peer_closed = false;
	int rc = 0;
	// A reader that never reads only has to notice the end of its run.
	Pacer pacer(cfg.mode == ReadMode::Never
			    ? std::max<std::chrono::nanoseconds>(cfg.interval,
								 std::chrono::milliseconds(100))
			    : cfg.interval);
	while (!stop_requested() && (cfg.duration.count() == 0 || pacer.elapsed() < cfg.duration)) {
		uint64_t want = read_bytes_at(cfg, pacer.elapsed());
		for (auto &c : conns) {
			if (!want || !c.fd)
				continue;
			// Never wait in recv: the pace, not the data, sets the rate.
			ssize_t n = recv(c.fd.get(), buf.data(), want, MSG_DONTWAIT);
			if (n > 0) {
				got += static_cast<uint64_t>(n);
				++reads;
				continue;
			}
			if (n < 0 && (errno == EAGAIN || errno == EINTR))
				continue;
			if (!multi) {
				// One connection: its end is the end of the run.
				if (n == 0) {
					peer_closed = true;
				} else {
					std::fprintf(stderr, "rcvgov-reader: recv: %s\n",
						     errno_text(errno).c_str());
					rc = 1;
				}
				break;
			}
			if (n == 0) {
				std::printf("closed %s: peer closed\n", c.name.c_str());
				++closed;
			} else {
				std::printf("lost %s: %s\n", c.name.c_str(),
					    errno_text(errno).c_str());
				++lost;
			}
			std::fflush(stdout);
			c.fd.reset();
		}
		if (peer_closed || rc || (multi && closed + lost == conns.size()))
			break;
		if (!pacer.wait())
			break;
	}
	std::printf("read %llu bytes in %llu reads over %.1f s, mode %s%s",
		    static_cast<unsigned long long>(got), static_cast<unsigned long long>(reads),
		    static_cast<double>(pacer.elapsed().count()) / 1e9, to_string(cfg.mode),
		    peer_closed ? " (peer closed)" : "");
	if (multi)
		std::printf(", %zu connections (%llu closed by the peer, %llu lost)", conns.size(),
			    static_cast<unsigned long long>(closed),
			    static_cast<unsigned long long>(lost));
	std::printf("\n");
	return rc;
}
