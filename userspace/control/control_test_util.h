// Helpers for the control server's tests: a private directory, raw client
// sockets, and a loop that drives Server::dispatch() from its fd the way
// the daemon's epoll does (so the idle timer is exercised too).
#pragma once

#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <poll.h>
#include <string>
#include <sys/socket.h>
#include <sys/un.h>
#include <thread>
#include <unistd.h>

#include "common/unique_fd.h"
#include "control/control.h"

namespace rcvgov::control::ctltest {

inline uint64_t now_ms()
{
	using namespace std::chrono;
	return duration_cast<milliseconds>(steady_clock::now().time_since_epoch()).count();
}

// A fresh directory under /tmp (mkdtemp: 0700, ours), removed at the end.
class TempDir {
public:
	TempDir()
	{
		char tmpl[] = "/tmp/rcvgov-ctl-XXXXXX";
		const char *p = mkdtemp(tmpl);
		path_ = p ? p : "/tmp/rcvgov-ctl-mkdtemp-failed";
	}
	~TempDir() { (void)!std::system(("rm -rf " + path_).c_str()); }
	const std::string &path() const { return path_; }

private:
	std::string path_;
};

// A raw client: connects, sends bytes, collects what comes back.
struct Peer {
	UniqueFd fd;
	std::string got;
	bool closed = false; // EOF or reset seen

	explicit Peer(const std::string &path)
	    : fd(socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0))
	{
		sockaddr_un a{};
		a.sun_family = AF_UNIX;
		std::snprintf(a.sun_path, sizeof(a.sun_path), "%s", path.c_str());
		if (connect(fd.get(), reinterpret_cast<sockaddr *>(&a), sizeof(a)) != 0)
			closed = true;
	}
	// Sends what the socket takes; the bytes sent.
	size_t send(const std::string &s)
	{
		ssize_t n = ::send(fd.get(), s.data(), s.size(), MSG_NOSIGNAL | MSG_DONTWAIT);
		return n > 0 ? static_cast<size_t>(n) : 0;
	}
	void read()
	{
		char buf[65536];
		for (;;) {
			ssize_t n = recv(fd.get(), buf, sizeof(buf), MSG_DONTWAIT);
			if (n > 0) {
				got.append(buf, static_cast<size_t>(n));
				continue;
			}
			if (n == 0 || (errno != EAGAIN && errno != EINTR))
				closed = true;
			return;
		}
	}
};

// Dispatches whenever the server's fd is readable, until done() or ms.
template <class Done> bool pump_until(Server &s, int ms, Done done)
{
	uint64_t deadline = now_ms() + static_cast<uint64_t>(ms);
	while (!done()) {
		if (now_ms() > deadline)
			return false;
		pollfd p{s.fd(), POLLIN, 0};
		if (poll(&p, 1, 5) > 0)
			s.dispatch();
	}
	return true;
}
inline void pump(Server &s, int ms)
{
	pump_until(s, ms, [] { return false; });
}
// Until the peer saw its connection closed (reading as it goes).
inline bool pump_until_closed(Server &s, Peer &p, int ms)
{
	return pump_until(s, ms, [&] {
		p.read();
		return p.closed;
	});
}

// dispatch() on another thread (for the blocking call()); stop() before
// looking at the server's stats.
class Loop {
public:
	explicit Loop(Server &s)
	    : t_([this, &s] {
		      while (!stop_) {
			      pollfd p{s.fd(), POLLIN, 0};
			      if (poll(&p, 1, 5) > 0)
				      s.dispatch();
		      }
	      })
	{
	}
	~Loop() { stop(); }
	void stop()
	{
		stop_ = true;
		if (t_.joinable())
			t_.join();
	}

private:
	std::atomic<bool> stop_{false};
	std::thread t_;
};

} // namespace rcvgov::control::ctltest
