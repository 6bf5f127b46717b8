// rcvgov-sender: the sending half of the blog's test pair. Writes a fixed
// payload at a fixed rate; a slow reader makes the writes block, which is
// the point (the receiver's queue is what we study).
#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
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

struct Totals {
	uint64_t sent = 0;
	uint64_t writes = 0;
	// The socket could not take the whole payload at once: the window or
	// our send buffer was full, so this write had to wait.
	uint64_t blocked = 0;
	// send() returned a short count (the first, non-blocking attempt, or a
	// blocking one cut short by a signal).
	uint64_t partial = 0;
	// Deadlines dropped after a stall instead of being caught up.
	uint64_t skipped = 0;
};

std::string endpoint(const SockAddr &a)
{
	return format_sockaddr(reinterpret_cast<const sockaddr *>(&a.ss));
}

// Non-blocking connect bounded by `timeout`, then back to blocking mode.
// Returns 0 or an errno value.
int connect_bounded(int fd, const SenderConfig &cfg)
{
	int flags = fcntl(fd, F_GETFL);
	if (flags < 0 || fcntl(fd, F_SETFL, flags | O_NONBLOCK) < 0)
		return errno;
	if (connect(fd, reinterpret_cast<const sockaddr *>(&cfg.connect.ss), cfg.connect.len) == 0)
		return fcntl(fd, F_SETFL, flags) < 0 ? errno : 0;
	if (errno != EINPROGRESS)
		return errno;
	auto deadline = std::chrono::steady_clock::now() + cfg.connect_timeout;
	for (;;) {
		auto left = deadline - std::chrono::steady_clock::now();
		if (left.count() <= 0)
			return ETIMEDOUT;
		pollfd p{fd, POLLOUT, 0};
		auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(left).count() + 1;
		int n = poll(&p, 1, static_cast<int>(std::min<long long>(ms, 1000)));
		if (n < 0 && errno == EINTR && !stop_requested())
			continue;
		if (n < 0)
			return errno;
		if (n == 0)
			continue;
		int err = 0;
		socklen_t len = sizeof(err);
		if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) < 0)
			return errno;
		if (err)
			return err;
		return fcntl(fd, F_SETFL, flags) < 0 ? errno : 0;
	}
}

// Writes the whole payload; false (with errno set) on a socket error or when
// a stop was requested mid-write.
bool write_all(int fd, const std::vector<char> &payload, Totals &t)
{
	size_t off = 0;
	// Try without waiting first: that is how a blocked write is told apart
	// from one the socket took at once.
	int flags = MSG_NOSIGNAL | MSG_DONTWAIT;
	while (off < payload.size()) {
		ssize_t n = send(fd, payload.data() + off, payload.size() - off, flags);
		if (n < 0 && errno == EINTR) {
			if (stop_requested())
				return false;
			continue;
		}
		if (n < 0 && errno == EAGAIN && (flags & MSG_DONTWAIT)) {
			++t.blocked;
			flags = MSG_NOSIGNAL;
			continue;
		}
		if (n < 0)
			return false;
		off += static_cast<size_t>(n);
		t.sent += static_cast<uint64_t>(n);
		if (off < payload.size()) {
			++t.partial;
			if (flags & MSG_DONTWAIT)
				++t.blocked;
			flags = MSG_NOSIGNAL;
			if (stop_requested())
				return false;
		}
	}
	++t.writes;
	return true;
}

// One write on a connection of a multi-connection sender: never waits. A
// payload the socket cannot take at once is skipped (blocked); false (with
// errno set) when the connection failed.
bool write_nowait(int fd, const std::vector<char> &payload, Totals &t)
{
	ssize_t n = send(fd, payload.data(), payload.size(), MSG_NOSIGNAL | MSG_DONTWAIT);
	if (n < 0 && errno == EAGAIN)
		++t.blocked;
	if (n < 0)
		return errno == EAGAIN || errno == EINTR;
	t.sent += static_cast<uint64_t>(n);
	if (static_cast<size_t>(n) < payload.size())
		++t.partial;
	else
		++t.writes;
	return true;
}

std::string local_and_peer(int fd, const SenderConfig &cfg)
{
	sockaddr_storage local{};
	socklen_t llen = sizeof(local);
	getsockname(fd, reinterpret_cast<sockaddr *>(&local), &llen);
	return "local=" + format_sockaddr(reinterpret_cast<sockaddr *>(&local)) +
	       " peer=" + endpoint(cfg.connect);
}

// A connected socket, or an empty one with the errno value in `err` (0 when
// a stop was requested).
UniqueFd open_connection(const SenderConfig &cfg, int &err, const char *&what)
{
	UniqueFd fd(socket(cfg.connect.family(), SOCK_STREAM | SOCK_CLOEXEC, 0));
	int one = 1;
	if (!fd) {
		err = errno, what = "socket";
		return fd;
	}
	if (cfg.nodelay && setsockopt(fd.get(), IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one))) {
		err = errno, what = "TCP_NODELAY";
		return UniqueFd();
	}
	if ((err = connect_bounded(fd.get(), cfg))) {
		what = "connect";
		if (stop_requested())
			err = 0;
		return UniqueFd();
	}
	return fd;
}

} // namespace

int main(int argc, char **argv)
{
	SenderConfig cfg;
	try {
		cfg = parse_sender_args(std::vector<std::string>(argv + 1, argv + argc));
	} catch (const HelpRequested &h) {
		std::fputs(h.text.c_str(), stdout);
		return 0;
	} catch (const std::invalid_argument &e) {
		std::fprintf(stderr, "rcvgov-sender: %s\n", e.what());
		return 2;
	}
	install_stop_handlers();
	const bool multi = cfg.connections > 1;
	if (multi) {
		std::string why =
			reserve_fds("--connections", cfg.connections, cfg.connections + 16);
		if (!why.empty()) {
			std::fprintf(stderr, "rcvgov-sender: %s\n", why.c_str());
			return 1;
		}
	}

	// Connections are opened one after another, each bounded by
	// --connect-timeout; one failure ends the run.
	struct Conn {
		UniqueFd fd;
		std::string name;
	};
	std::vector<Conn> conns;
	conns.reserve(cfg.connections);
	for (uint64_t i = 0; i < cfg.connections; ++i) {
		int err = 0;
		const char *what = "";
		UniqueFd fd = open_connection(cfg, err, what);
		if (!fd) {
			if (!err)
				return 0;
			std::string which = multi ? " (connection " + std::to_string(i + 1) +
							    " of " +
							    std::to_string(cfg.connections) + ")"
						  : "";
			if (std::string(what) == "connect")
				std::fprintf(stderr, "rcvgov-sender: connect %s%s: %s\n",
					     endpoint(cfg.connect).c_str(), which.c_str(),
					     errno_text(err).c_str());
			else
				std::fprintf(stderr, "rcvgov-sender: %s%s: %s\n", what,
					     which.c_str(), errno_text(err).c_str());
			return 1;
		}
		std::string name = local_and_peer(fd.get(), cfg);
		std::printf("connected %s pid=%d\n", name.c_str(), getpid());
		conns.push_back({std::move(fd), std::move(name)});
	}
	std::fflush(stdout);

	std::vector<char> payload(cfg.payload, 'x');
	Totals t;
	int rc = 0;
	uint64_t lost = 0;
	const auto start = std::chrono::steady_clock::now();
	auto elapsed = [&] { return std::chrono::steady_clock::now() - start; };
	// Writes follow absolute deadlines so jitter does not drift the rate.
	// Unless --catch-up, a stall of a whole interval or more re-anchors the
	// schedule: the missed writes are dropped, never sent as one burst.
	Pacer pacer(cfg.interval);
	uint64_t ticks = 0; // deadlines since the schedule's anchor
	while (!stop_requested() && (cfg.duration.count() == 0 || elapsed() < cfg.duration)) {
		if (!cfg.catch_up) {
			auto lag = pacer.elapsed() - static_cast<int64_t>(ticks) * cfg.interval;
			if (lag >= cfg.interval) {
				t.skipped += static_cast<uint64_t>(lag / cfg.interval);
				pacer = Pacer(cfg.interval);
				ticks = 0;
			}
		}
		if (!multi) {
			// One connection: the write blocks while the socket is full.
			if (!write_all(conns[0].fd.get(), payload, t)) {
				if (!stop_requested()) {
					std::fprintf(stderr, "rcvgov-sender: send: %s\n",
						     errno_text(errno).c_str());
					rc = 1;
				}
				break;
			}
		} else {
			for (auto &c : conns) {
				if (!c.fd || write_nowait(c.fd.get(), payload, t))
					continue;
				// Scripts count these lines: a reset here is usually the
				// receiver's socket being destroyed.
				std::printf("lost %s: %s\n", c.name.c_str(),
					    errno_text(errno).c_str());
				std::fflush(stdout);
				c.fd.reset();
				++lost;
			}
			if (lost == conns.size()) {
				std::fprintf(stderr,
					     "rcvgov-sender: all %zu connections were lost\n",
					     conns.size());
				rc = 1;
				break;
			}
		}
		if (!pacer.wait())
			break;
		++ticks;
	}
	std::printf("sent %llu bytes in %llu writes (%llu blocked, %llu partial, %llu skipped) "
		    "over %.1f s",
		    static_cast<unsigned long long>(t.sent),
		    static_cast<unsigned long long>(t.writes),
		    static_cast<unsigned long long>(t.blocked),
		    static_cast<unsigned long long>(t.partial),
		    static_cast<unsigned long long>(t.skipped),
		    std::chrono::duration<double>(elapsed()).count());
	if (multi)
		std::printf(", %zu connections (%llu lost)", conns.size(),
			    static_cast<unsigned long long>(lost));
	std::printf("\n");
	return rc;
}
