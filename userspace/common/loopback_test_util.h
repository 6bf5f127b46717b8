// Loopback TCP connections for tests that need real sockets in the
// running kernel: a listener, a client and the accepted end, all RAII.
#pragma once

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/time.h>

#include <cerrno>
#include <cstdint>
#include <cstring>
#include <string>

#include <gtest/gtest.h>

#include "common/unique_fd.h"

namespace rcvgov::test {

constexpr int kIoTimeoutMs = 2000;

inline std::string err_text()
{
	return std::strerror(errno);
}

inline void set_io_timeouts(int fd)
{
	timeval tv{kIoTimeoutMs / 1000, 0};
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
}

inline socklen_t loopback(int family, sockaddr_storage &ss)
{
	ss = {};
	if (family == AF_INET) {
		auto *sin = reinterpret_cast<sockaddr_in *>(&ss);
		sin->sin_family = AF_INET;
		sin->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
		return sizeof(sockaddr_in);
	}
	auto *sin6 = reinterpret_cast<sockaddr_in6 *>(&ss);
	sin6->sin6_family = AF_INET6;
	sin6->sin6_addr = in6addr_loopback;
	return sizeof(sockaddr_in6);
}

inline uint16_t local_port(int fd)
{
	sockaddr_storage ss{};
	socklen_t len = sizeof(ss);
	if (getsockname(fd, reinterpret_cast<sockaddr *>(&ss), &len) != 0)
		return 0;
	if (ss.ss_family == AF_INET)
		return ntohs(reinterpret_cast<sockaddr_in *>(&ss)->sin_port);
	return ntohs(reinterpret_cast<sockaddr_in6 *>(&ss)->sin6_port);
}

// A listener, a client and the accepted server end, all closed by RAII.
struct Conn {
	UniqueFd listener, client, server;
	uint16_t server_port = 0, client_port = 0;
};

inline void open_conn(int family, Conn &c)
{
	sockaddr_storage ss;
	socklen_t len = loopback(family, ss);

	c.listener.reset(socket(family, SOCK_STREAM | SOCK_CLOEXEC, 0));
	ASSERT_TRUE(c.listener) << "socket: " << err_text();
	set_io_timeouts(c.listener.get());
	ASSERT_EQ(bind(c.listener.get(), reinterpret_cast<sockaddr *>(&ss), len), 0)
		<< "bind: " << err_text();
	ASSERT_EQ(listen(c.listener.get(), 4), 0) << "listen: " << err_text();
	c.server_port = local_port(c.listener.get());
	ASSERT_NE(c.server_port, 0);

	c.client.reset(socket(family, SOCK_STREAM | SOCK_CLOEXEC, 0));
	ASSERT_TRUE(c.client) << "socket: " << err_text();
	set_io_timeouts(c.client.get());
	loopback(family, ss);
	reinterpret_cast<sockaddr_in *>(&ss)->sin_port = htons(c.server_port); // same offset in v6
	ASSERT_EQ(connect(c.client.get(), reinterpret_cast<sockaddr *>(&ss), len), 0)
		<< "connect: " << err_text();
	c.client_port = local_port(c.client.get());

	c.server.reset(accept4(c.listener.get(), nullptr, nullptr, SOCK_CLOEXEC));
	ASSERT_TRUE(c.server) << "accept: " << err_text();
	set_io_timeouts(c.server.get());
}

} // namespace rcvgov::test
