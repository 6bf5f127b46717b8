// The exporter on the loopback address, on ports the kernel picks: it
// serves what was published, and a port in use is an error that says so.
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include "common/unique_fd.h"
#include "metrics/exporter.h"
#include "metrics/values.h"

namespace rcvgov::metrics {
namespace {

// A loopback TCP socket bound to a port the kernel picked; listening on it
// when `listen_too`.
UniqueFd bound(uint16_t &port, bool listen_too)
{
	UniqueFd fd(socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
	sockaddr_in a{};
	a.sin_family = AF_INET;
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	EXPECT_EQ(bind(fd.get(), reinterpret_cast<sockaddr *>(&a), sizeof(a)), 0);
	socklen_t len = sizeof(a);
	getsockname(fd.get(), reinterpret_cast<sockaddr *>(&a), &len);
	port = ntohs(a.sin_port);
	if (listen_too) {
		EXPECT_EQ(listen(fd.get(), 1), 0);
	}
	return fd;
}

// GET /metrics, the whole answer (headers and body), 5 s at most.
std::string get_metrics(uint16_t port)
{
	UniqueFd fd(socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
	timeval tv{5, 0};
	setsockopt(fd.get(), SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	setsockopt(fd.get(), SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	sockaddr_in a{};
	a.sin_family = AF_INET;
	a.sin_port = htons(port);
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (connect(fd.get(), reinterpret_cast<sockaddr *>(&a), sizeof(a)) != 0)
		return "connect failed";
	const std::string req = "GET /metrics HTTP/1.0\r\nHost: localhost\r\n\r\n";
	if (write(fd.get(), req.data(), req.size()) != static_cast<ssize_t>(req.size()))
		return "write failed";
	std::string out;
	char buf[4096];
	for (ssize_t n; (n = read(fd.get(), buf, sizeof(buf))) > 0;)
		out.append(buf, static_cast<size_t>(n));
	return out;
}

TEST(Exporter, ServesWhatWasPublished)
{
	uint16_t port = 0;
	{
		UniqueFd probe = bound(port, false); // a free port, released again
	}
	auto e = Exporter::start("127.0.0.1:" + std::to_string(port));
	ASSERT_TRUE(e.ok()) << e.error().message;
	EXPECT_EQ((*e)->port(), port);
	Values v;
	v.version = "1.2.3";
	v.commit = "abc1234";
	(*e)->publish(families(v));
	std::string answer = get_metrics(port);
	EXPECT_NE(answer.find("200 OK"), std::string::npos) << answer;
	EXPECT_NE(answer.find("rcvgov_build_info{version=\"1.2.3\",commit=\"abc1234\"} 1"),
		  std::string::npos)
		<< answer;
	v.inflations = 42;
	(*e)->publish(families(v));
	EXPECT_NE(get_metrics(port).find("rcvgov_inflations_total 42"), std::string::npos);
}

TEST(Exporter, PortInUseSaysWhy)
{
	uint16_t port = 0;
	UniqueFd holder = bound(port, true);
	auto e = Exporter::start("127.0.0.1:" + std::to_string(port));
	ASSERT_FALSE(e.ok());
	EXPECT_EQ(e.error().errnum, EADDRINUSE);
	EXPECT_NE(e.error().message.find("bind: Address already in use"), std::string::npos)
		<< e.error().message;
}

TEST(Exporter, AddressNotOnThisHost)
{
	// TEST-NET-1 (RFC 5737) is never a local address.
	auto e = Exporter::start("192.0.2.1:9753");
	ASSERT_FALSE(e.ok());
	EXPECT_EQ(e.error().errnum, EADDRNOTAVAIL) << e.error().message;
	EXPECT_FALSE(Exporter::start("localhost:9753").ok());
}

} // namespace
} // namespace rcvgov::metrics
