// BpfActuator against the running kernel, on loopback in the test's own
// namespace: a clamp goes through the owner's descriptor when the owner is
// known and holds the socket, and through the iter/tcp walk otherwise, with
// the same result.
#include "enforce/bpf_actuator.h"

#include <gtest/gtest.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "common/loopback_test_util.h"
#include "netns/netns.h"

namespace rcvgov::enforce {
namespace {

using namespace rcvgov::test;

uint64_t sockopt_u64(int fd, int opt)
{
	uint64_t v = 0;
	socklen_t len = sizeof(v);
	EXPECT_EQ(getsockopt(fd, SOL_SOCKET, opt, &v, &len), 0) << err_text();
	return v;
}

int window_clamp(int fd)
{
	int v = 0;
	socklen_t len = sizeof(v);
	EXPECT_EQ(getsockopt(fd, IPPROTO_TCP, TCP_WINDOW_CLAMP, &v, &len), 0) << err_text();
	return v;
}

class BpfActuatorLive : public ::testing::Test {
protected:
	void SetUp() override
	{
		if (geteuid() != 0)
			GTEST_SKIP() << "needs root (BPF iterators, pidfd_getfd)";
		reg_ = std::make_unique<netns::Registry>(
			netns::Registry::Options{"/proc/self/ns/net", "", "",
						 std::chrono::seconds(10)},
			netns::system_ops());
		reg_->scan(1);
		try {
			act_ = std::make_unique<BpfActuator>(*reg_);
		} catch (const std::exception &e) {
			FAIL() << "BpfActuator on this kernel: " << e.what();
		}
		ASSERT_NO_FATAL_FAILURE(open_conn(AF_INET, c_));
	}

	Action clamp(uint32_t owner_pid, uint32_t value) const
	{
		Action a;
		a.kind = Kind::Clamp;
		a.target.cookie = sockopt_u64(c_.server.get(), SO_COOKIE);
		a.target.netns_cookie = sockopt_u64(c_.server.get(), SO_NETNS_COOKIE);
		a.target.owner_pid = owner_pid;
		struct stat st {};
		EXPECT_EQ(fstat(c_.server.get(), &st), 0) << err_text();
		a.target.owner_ino = owner_pid ? static_cast<uint32_t>(st.st_ino) : 0;
		a.window_clamp = value;
		a.rcvbuf_lock = 2 * value;
		return a;
	}

	std::unique_ptr<netns::Registry> reg_;
	std::unique_ptr<BpfActuator> act_;
	Conn c_;
};

TEST_F(BpfActuatorLive, OwnerKnownClampsThroughItsDescriptor)
{
	Action a = clamp(static_cast<uint32_t>(getpid()), 30000);
	auto r = act_->apply({&a, 1});
	ASSERT_EQ(r.size(), 1u);
	ASSERT_EQ(r[0].outcome, Outcome::Done) << r[0].detail;
	EXPECT_EQ(r[0].via, "owner fd");
	EXPECT_EQ(r[0].after, 30000u);
	EXPECT_EQ(window_clamp(c_.server.get()), 30000);
}

TEST_F(BpfActuatorLive, OwnerUnknownOrWrongFallsBackToTheWalk)
{
	Action unknown = clamp(0, 31000);
	Action owner = clamp(static_cast<uint32_t>(getpid()), 31000);
	auto r = act_->apply({&unknown, 1});
	ASSERT_EQ(r[0].outcome, Outcome::Done) << r[0].detail;
	EXPECT_EQ(r[0].via, "iter/tcp");
	EXPECT_EQ(window_clamp(c_.server.get()), 31000);
	// Both paths leave the socket the same and report the same.
	auto fast = act_->apply({&owner, 1});
	ASSERT_EQ(fast[0].outcome, Outcome::Done) << fast[0].detail;
	EXPECT_EQ(fast[0].via, "owner fd");
	EXPECT_EQ(fast[0].before, r[0].after);
	EXPECT_EQ(fast[0].after, r[0].after);
	EXPECT_EQ(fast[0].rcvbuf_after, r[0].rcvbuf_after);
	EXPECT_EQ(window_clamp(c_.server.get()), 31000);

	// A process that does not hold the socket (the observer's owner can be
	// stale after fork or SCM_RIGHTS): the walk still finds it.
	int ready[2];
	ASSERT_EQ(pipe(ready), 0) << err_text();
	pid_t child = fork();
	ASSERT_GE(child, 0);
	if (child == 0) {
		// The child must not hold the socket either.
		close(c_.server.get());
		close(c_.client.get());
		close(c_.listener.get());
		char one = 1;
		(void)!write(ready[1], &one, 1);
		pause();
		_exit(0);
	}
	char byte;
	ASSERT_EQ(read(ready[0], &byte, 1), 1) << err_text();
	close(ready[0]);
	close(ready[1]);
	Action wrong = clamp(static_cast<uint32_t>(child), 32000);
	r = act_->apply({&wrong, 1});
	kill(child, SIGKILL);
	waitpid(child, nullptr, 0);
	ASSERT_EQ(r[0].outcome, Outcome::Done) << r[0].detail;
	EXPECT_EQ(r[0].via, "iter/tcp");
	EXPECT_EQ(window_clamp(c_.server.get()), 32000);
}

TEST_F(BpfActuatorLive, NoSuchSocketIsGone)
{
	Action a = clamp(static_cast<uint32_t>(getpid()), 30000);
	a.target.cookie += 1000000; // nobody's
	auto r = act_->apply({&a, 1});
	EXPECT_EQ(r[0].outcome, Outcome::Gone) << r[0].detail;
}

} // namespace
} // namespace rcvgov::enforce
