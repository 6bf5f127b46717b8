// SdNotifier against a fake systemd: a unix datagram socket bound in a
// temp dir (and one in the abstract namespace), NOTIFY_SOCKET pointing at
// it; the messages are what libsystemd sends.
#include "daemon/sd_notify.h"

#include <cstddef>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <gtest/gtest.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "common/unique_fd.h"

namespace rcvgov {
namespace {

struct FakeSystemd {
	std::string dir = [] {
		char t[] = "/tmp/rcvgov-sdnotify.XXXXXX";
		return std::string(mkdtemp(t));
	}();
	std::string path = dir + "/notify";
	UniqueFd fd{socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0)};

	explicit FakeSystemd(bool abstract = false)
	{
		sockaddr_un a{};
		a.sun_family = AF_UNIX;
		socklen_t len;
		if (abstract) {
			path = "@rcvgov-test-" + std::to_string(getpid());
			memcpy(a.sun_path + 1, path.data() + 1, path.size() - 1);
			len = static_cast<socklen_t>(offsetof(sockaddr_un, sun_path) + path.size());
		} else {
			memcpy(a.sun_path, path.c_str(), path.size() + 1);
			len = sizeof(a);
		}
		EXPECT_EQ(bind(fd.get(), reinterpret_cast<sockaddr *>(&a), len), 0);
		timeval tv{2, 0};
		setsockopt(fd.get(), SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	}
	~FakeSystemd() { std::filesystem::remove_all(dir); }
	std::string next()
	{
		char buf[4096];
		ssize_t n = recv(fd.get(), buf, sizeof(buf), 0);
		return n < 0 ? "<nothing>" : std::string(buf, size_t(n));
	}
};

struct EnvGuard {
	~EnvGuard()
	{
		unsetenv("NOTIFY_SOCKET");
		unsetenv("WATCHDOG_USEC");
		unsetenv("WATCHDOG_PID");
	}
};

TEST(SdNotify, MessagesThroughNotifySocketFromEnv)
{
	EnvGuard g;
	FakeSystemd sd;
	setenv("NOTIFY_SOCKET", sd.path.c_str(), 1);
	setenv("WATCHDOG_USEC", "4000000", 1);
	SdNotifier n = SdNotifier::from_env();
	ASSERT_TRUE(n.enabled());
	EXPECT_EQ(n.watchdog_usec(), 4000000u);

	ASSERT_TRUE(n.ready("mode enforcing, 3 sockets").ok());
	EXPECT_EQ(sd.next(), "READY=1\nSTATUS=mode enforcing, 3 sockets");
	ASSERT_TRUE(n.status("two\nlines").ok());
	EXPECT_EQ(sd.next(), "STATUS=two lines");
	ASSERT_TRUE(n.watchdog().ok());
	EXPECT_EQ(sd.next(), "WATCHDOG=1");
	ASSERT_TRUE(n.reloading().ok());
	std::string r = sd.next();
	EXPECT_EQ(r.rfind("RELOADING=1\nMONOTONIC_USEC=", 0), 0u) << r;
	EXPECT_GT(std::stoull(r.substr(r.find('=', 12) + 1)), 0u);
	ASSERT_TRUE(n.ready().ok());
	EXPECT_EQ(sd.next(), "READY=1");
	ASSERT_TRUE(n.stopping().ok());
	EXPECT_EQ(sd.next(), "STOPPING=1");
}

TEST(SdNotify, AbstractSocket)
{
	EnvGuard g;
	FakeSystemd sd(true);
	setenv("NOTIFY_SOCKET", sd.path.c_str(), 1);
	SdNotifier n = SdNotifier::from_env();
	ASSERT_TRUE(n.ready().ok());
	EXPECT_EQ(sd.next(), "READY=1");
}

TEST(SdNotify, DisabledWithoutNotifySocket)
{
	EnvGuard g;
	unsetenv("NOTIFY_SOCKET");
	setenv("WATCHDOG_USEC", "4000000", 1);
	SdNotifier n = SdNotifier::from_env();
	EXPECT_FALSE(n.enabled());
	EXPECT_EQ(n.watchdog_usec(), 0u);
	EXPECT_TRUE(n.ready().ok()); // a no-op
}

TEST(SdNotify, WatchdogOfAnotherPidIsNotOurs)
{
	EnvGuard g;
	FakeSystemd sd;
	setenv("NOTIFY_SOCKET", sd.path.c_str(), 1);
	setenv("WATCHDOG_USEC", "4000000", 1);
	setenv("WATCHDOG_PID", std::to_string(getpid() + 1).c_str(), 1);
	EXPECT_EQ(SdNotifier::from_env().watchdog_usec(), 0u);
	setenv("WATCHDOG_PID", std::to_string(getpid()).c_str(), 1);
	EXPECT_EQ(SdNotifier::from_env().watchdog_usec(), 4000000u);
}

TEST(SdNotify, BadSocketIsAnError)
{
	EnvGuard g;
	setenv("NOTIFY_SOCKET", "/nonexistent-rcvgov/notify", 1);
	SdNotifier n = SdNotifier::from_env();
	Status st = n.ready();
	ASSERT_FALSE(st.ok());
	EXPECT_NE(st.error().message.find("/nonexistent-rcvgov/notify"), std::string::npos)
		<< st.error().message;
}

} // namespace
} // namespace rcvgov
