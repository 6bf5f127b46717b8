// rcvgov-sender: the sending half of the blog's test pair. Writes a fixed
// payload at a fixed rate; a slow reader makes the writes block, which is
// the point (the receiver's queue is what we study).
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <vector>

#include "common/errno_text.h"
#include "common/unique_fd.h"
#include "pair/pacing.h"
#include "pair/pair_args.h"

using namespace rcvgov;
using namespace rcvgov::pair;

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

	UniqueFd fd(socket(cfg.connect.family(), SOCK_STREAM | SOCK_CLOEXEC, 0));
	if (!fd) {
		std::fprintf(stderr, "rcvgov-sender: socket: %s\n", errno_text(errno).c_str());
		return 1;
	}
	int one = 1;
	if (cfg.nodelay)
		setsockopt(fd.get(), IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	if (connect(fd.get(), reinterpret_cast<const sockaddr *>(&cfg.connect.ss), cfg.connect.len)) {
		std::fprintf(stderr, "rcvgov-sender: connect %s: %s\n",
			     format_sockaddr(reinterpret_cast<const sockaddr *>(&cfg.connect.ss)).c_str(),
			     errno_text(errno).c_str());
		return 1;
	}
	std::printf("connected to %s\n",
		    format_sockaddr(reinterpret_cast<const sockaddr *>(&cfg.connect.ss)).c_str());
	std::fflush(stdout);

	std::vector<char> payload(cfg.payload, 'x');
	uint64_t sent = 0, writes = 0, partial = 0;
	int rc = 0;
	Pacer pacer(cfg.interval);
	while (!stop_requested() && (cfg.duration.count() == 0 || pacer.elapsed() < cfg.duration)) {
		size_t off = 0;
		while (off < payload.size()) {
			ssize_t n = send(fd.get(), payload.data() + off, payload.size() - off,
					 MSG_NOSIGNAL);
			if (n < 0 && errno == EINTR) {
				if (stop_requested())
					break;
				continue;
			}
			if (n < 0) {
				std::fprintf(stderr, "rcvgov-sender: send: %s\n",
					     errno_text(errno).c_str());
				rc = 1;
				goto out;
			}
			if (off == 0 && static_cast<size_t>(n) < payload.size())
				++partial;
			off += static_cast<size_t>(n);
			sent += static_cast<uint64_t>(n);
		}
		++writes;
		if (!pacer.wait())
			break;
	}
out:
	std::printf("sent %llu bytes in %llu writes (%llu partial) over %.1f s\n",
		    static_cast<unsigned long long>(sent), static_cast<unsigned long long>(writes),
		    static_cast<unsigned long long>(partial),
		    static_cast<double>(pacer.elapsed().count()) / 1e9);
	return rc;
}
