// rcvgov-reader: the receiving half of the blog's test pair. Accepts one
// connection and reads it slowly, never, or alternating slow and fast.
// It deliberately never sets SO_RCVBUF: that would lock autotuning and
// hide the behaviour under study.
#include <cerrno>
#include <cstdio>
#include <netinet/in.h>
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

// Bytes to read at this point of the run.
uint64_t bytes_now(const ReaderConfig &cfg, std::chrono::nanoseconds t)
{
	switch (cfg.mode) {
	case ReadMode::Never:
		return 0;
	case ReadMode::Slow:
		return cfg.read_bytes;
	case ReadMode::Oscillate: {
		auto cycle = cfg.slow_period + cfg.fast_period;
		return (t % cycle) < cfg.slow_period ? cfg.read_bytes : cfg.fast_bytes;
	}
	}
	return 0;
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
	const auto *laddr = reinterpret_cast<const sockaddr *>(&cfg.listen.ss);

	UniqueFd lfd(socket(cfg.listen.family(), SOCK_STREAM | SOCK_CLOEXEC, 0));
	int one = 1;
	if (!lfd || setsockopt(lfd.get(), SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) ||
	    bind(lfd.get(), laddr, cfg.listen.len) || listen(lfd.get(), 1)) {
		std::fprintf(stderr, "rcvgov-reader: listen %s: %s\n", format_sockaddr(laddr).c_str(),
			     errno_text(errno).c_str());
		return 1;
	}
	UniqueFd cfd;
	while (!cfd) {
		int fd = accept4(lfd.get(), nullptr, nullptr, SOCK_CLOEXEC);
		if (fd >= 0) {
			cfd.reset(fd);
		} else if (errno != EINTR || stop_requested()) {
			if (stop_requested())
				return 0;
			std::fprintf(stderr, "rcvgov-reader: accept: %s\n", errno_text(errno).c_str());
			return 1;
		}
	}
	lfd.reset();
	sockaddr_storage local{}, peer{};
	socklen_t llen = sizeof(local), plen = sizeof(peer);
	getsockname(cfd.get(), reinterpret_cast<sockaddr *>(&local), &llen);
	getpeername(cfd.get(), reinterpret_cast<sockaddr *>(&peer), &plen);
	// Scripts find the socket under study by this line.
	std::printf("accepted local=%s peer=%s pid=%d\n",
		    format_sockaddr(reinterpret_cast<sockaddr *>(&local)).c_str(),
		    format_sockaddr(reinterpret_cast<sockaddr *>(&peer)).c_str(), getpid());
	std::fflush(stdout);

	std::vector<char> buf(std::max(cfg.read_bytes, cfg.fast_bytes));
	uint64_t got = 0, reads = 0;
	bool peer_closed = false;
	int rc = 0;
	Pacer pacer(cfg.interval);
	while (!stop_requested() && (cfg.duration.count() == 0 || pacer.elapsed() < cfg.duration)) {
		uint64_t want = bytes_now(cfg, pacer.elapsed());
		if (want) {
			ssize_t n = recv(cfd.get(), buf.data(), want, MSG_DONTWAIT);
			if (n > 0) {
				got += static_cast<uint64_t>(n);
				++reads;
			} else if (n == 0) {
				peer_closed = true;
				break;
			} else if (errno != EAGAIN && errno != EINTR) {
				std::fprintf(stderr, "rcvgov-reader: recv: %s\n",
					     errno_text(errno).c_str());
				rc = 1;
				break;
			}
		}
		if (!pacer.wait())
			break;
	}
	std::printf("read %llu bytes in %llu reads over %.1f s%s\n",
		    static_cast<unsigned long long>(got), static_cast<unsigned long long>(reads),
		    static_cast<double>(pacer.elapsed().count()) / 1e9,
		    peer_closed ? " (peer closed)" : "");
	return rc;
}
