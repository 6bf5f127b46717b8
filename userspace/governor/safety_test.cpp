#include "governor/safety.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>

namespace rcvgov::governor {
namespace {

constexpr uint64_t kSec = 1'000'000'000ULL;

SocketInfo sock(uint64_t cookie, const char *peer = "198.51.100.7", uint16_t lport = 8080)
{
	SocketInfo s;
	s.cookie = cookie;
	s.local.family = s.peer.family = AF_INET;
	inet_pton(AF_INET, "192.0.2.1", s.local.addr.data());
	inet_pton(AF_INET, peer, s.peer.addr.data());
	s.local.port = lport;
	return s;
}

enforce::Action act(enforce::Kind k, uint64_t cookie)
{
	enforce::Action a;
	a.kind = k;
	a.target.cookie = cookie;
	return a;
}

config::Safety rules(uint32_t round, uint32_t minute, bool breaker = true, uint32_t pause = 0)
{
	config::Safety r;
	r.destroy_per_round = round;
	r.destroy_per_minute = minute;
	r.breaker = breaker;
	r.reclaim_pause_ms = pause;
	return r;
}

TEST(Safety, AllowlistHoldsEveryActionClass)
{
	config::Allowlist allow;
	allow.cidrs.push_back(*config::parse_cidr("198.51.100.0/24"));
	allow.ports.push_back(22);
	allow.cgroups.push_back("/system.slice/ssh.service");
	Safety s(allow, rules(100, 100));
	s.begin_round();
	for (auto k : {enforce::Kind::Clamp, enforce::Kind::Destroy}) {
		// By peer CIDR.
		EXPECT_EQ(s.check(act(k, 1), sock(1), "", false, kSec), Hold::Allowlist);
		// By local port.
		EXPECT_EQ(s.check(act(k, 2), sock(2, "203.0.113.9", 22), "", false, kSec),
			  Hold::Allowlist);
		// By cgroup subtree: the cgroup and what is below it, nothing else.
		auto other = sock(3, "203.0.113.9");
		EXPECT_EQ(s.check(act(k, 3), other, "/system.slice/ssh.service/x", false, kSec),
			  Hold::Allowlist);
		EXPECT_EQ(s.check(act(k, 3), other, "/system.slice/ssh.service", true, kSec),
			  Hold::Allowlist);
		EXPECT_EQ(s.check(act(k, 3), other, "/system.slice/ssh.serviceX", false, kSec),
			  Hold::None);
	}
	// Putting back what we changed is never held.
	EXPECT_EQ(s.check(act(enforce::Kind::RestoreClamp, 1), sock(1), "", false, kSec),
		  Hold::None);
}

TEST(Safety, RoundBudgetDefersTheRest)
{
	Safety s({}, rules(3, 100));
	s.begin_round();
	int allowed = 0;
	for (uint64_t c = 1; c <= 10; ++c)
		allowed += s.check(act(enforce::Kind::Destroy, c), sock(c, "203.0.113.9"), "",
				   false, kSec) == Hold::None;
	EXPECT_EQ(allowed, 3);
	EXPECT_FALSE(s.tripped());
	// Clamps are not budgeted.
	EXPECT_EQ(s.check(act(enforce::Kind::Clamp, 11), sock(11, "203.0.113.9"), "", false, kSec),
		  Hold::None);
	s.begin_round();
	EXPECT_EQ(s.check(act(enforce::Kind::Destroy, 12), sock(12, "203.0.113.9"), "", false,
			  2 * kSec),
		  Hold::None);
}

TEST(Safety, MinuteBudgetTripsTheBreaker)
{
	Safety s({}, rules(5, 12));
	uint64_t t = kSec;
	int allowed = 0;
	Hold last = Hold::None;
	for (int round = 0; round < 4; ++round, t += kSec) {
		s.begin_round();
		for (uint64_t c = 0; c < 10; ++c) {
			last = s.check(act(enforce::Kind::Destroy, c), sock(c, "203.0.113.9"), "",
				       false, t);
			allowed += last == Hold::None;
		}
	}
	EXPECT_EQ(allowed, 12);
	EXPECT_TRUE(s.tripped());
	EXPECT_NE(s.trip_reason().find("destroy_per_minute"), std::string::npos);
	// A reload resets it.
	s.reconfigure({}, rules(5, 12));
	EXPECT_FALSE(s.tripped());
}

TEST(Safety, MinuteBudgetWithoutBreakerOnlyHolds)
{
	Safety s({}, rules(100, 2, /*breaker=*/false));
	s.begin_round();
	for (uint64_t c = 0; c < 5; ++c)
		(void)s.check(act(enforce::Kind::Destroy, c), sock(c, "203.0.113.9"), "", false,
			      kSec);
	EXPECT_FALSE(s.tripped());
	// A minute later the budget is back.
	s.begin_round();
	EXPECT_EQ(s.check(act(enforce::Kind::Destroy, 9), sock(9, "203.0.113.9"), "", false,
			  62 * kSec),
		  Hold::None);
}

TEST(Safety, PauseAfterADestroy)
{
	Safety s({}, rules(100, 100, true, /*pause=*/2000));
	s.begin_round();
	EXPECT_EQ(s.check(act(enforce::Kind::Destroy, 1), sock(1, "203.0.113.9"), "", false, kSec),
		  Hold::None);
	s.destroyed(kSec);
	s.begin_round();
	EXPECT_EQ(s.check(act(enforce::Kind::Destroy, 2), sock(2, "203.0.113.9"), "", false,
			  2 * kSec),
		  Hold::Pause);
	EXPECT_EQ(s.check(act(enforce::Kind::Destroy, 2), sock(2, "203.0.113.9"), "", false,
			  3 * kSec + 1),
		  Hold::None);
}

TEST(Safety, DryRunIsNotBudgeted)
{
	Safety s({}, rules(1, 1));
	s.begin_round();
	for (uint64_t c = 0; c < 50; ++c)
		EXPECT_EQ(s.check(act(enforce::Kind::Destroy, c), sock(c, "203.0.113.9"), "", true,
				  kSec),
			  Hold::None);
	EXPECT_FALSE(s.tripped());
}

} // namespace
} // namespace rcvgov::governor
