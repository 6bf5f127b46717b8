#include "tracker/limits.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace rcvgov::tracker {
namespace {

using ::testing::ElementsAre;
using ::testing::IsEmpty;

std::vector<std::string> texts(const std::vector<ConfigError> &errs)
{
	std::vector<std::string> out;
	for (const auto &e : errs)
		out.push_back(e.text());
	return out;
}

TEST(TrackerLimits, DefaultsFollowRamWhenTcpMemIsLarger)
{
	const Limits small = compute_default_limits(4 * GiB, {}, 4096);
	EXPECT_EQ(small.max, 3 * GiB); // 75% below 8 GiB
	EXPECT_EQ(small.low_water, small.max / 4 * 3);
	const Limits big = compute_default_limits(16 * GiB, {}, 4096);
	EXPECT_EQ(big.max, 16 * GiB / 100 * 40 + 16 * GiB % 100 * 40 / 100);   // 40%
	EXPECT_EQ(compute_default_limits(512 * GiB, {}, 4096).max, 8 * GiB);   // ceiling
	EXPECT_EQ(compute_default_limits(128 * MiB, {}, 4096).max, 256 * MiB); // floor
	EXPECT_THAT(validate(big), IsEmpty());
}

TEST(TrackerLimits, TcpMemPressureCapsTheQuota)
{
	// The kernel sets tcp_mem to {3/64, 1/16, 3/32} of the free buffer
	// pages at boot: about 1 GiB of pressure threshold on a 16 GiB machine,
	// well below 40% of its RAM.
	const TcpMem tm{196608, 262144, 393216};
	const Limits l = compute_default_limits(16 * GiB, tm, 4096);
	EXPECT_EQ(l.max, 1 * GiB);
	EXPECT_EQ(l.low_water, l.max / 100 * 75 + l.max % 100 * 75 / 100);
	EXPECT_EQ(l.per_service, l.max);
	EXPECT_EQ(l.per_peer, l.max / 8);
	EXPECT_EQ(l.per_socket, l.max / 16);
	EXPECT_EQ(l.per_socket_entitlement_percent, 200u);
	// Below the 256 MiB floor when the kernel says so: never above tcp_mem.
	EXPECT_EQ(compute_default_limits(1 * GiB, {1000, 2000, 3000}, 4096).max, 2000 * 4096ULL);
	// A bogus tcp_mem does not wrap around.
	EXPECT_EQ(compute_default_limits(16 * GiB, {1, UINT64_MAX / 2, UINT64_MAX}, 4096).max,
		  compute_default_limits(16 * GiB, {}, 4096).max);
}

TEST(TrackerLimits, BuiltInLimitsAreTheFloorDefaults)
{
	const Limits builtin;
	const Limits floor = compute_default_limits(0, {}, 0);
	EXPECT_EQ(builtin.max, floor.max);
	EXPECT_EQ(builtin.low_water, floor.low_water);
	EXPECT_EQ(builtin.per_service, floor.per_service);
	EXPECT_EQ(builtin.per_peer, floor.per_peer);
	EXPECT_EQ(builtin.per_socket, floor.per_socket);
	EXPECT_THAT(validate(builtin), IsEmpty());
}

TEST(TrackerLimits, KnobsOnTopOfDefaults)
{
	const Limits d = compute_default_limits(16 * GiB, {196608, 262144, 393216}, 4096);
	Knobs k;
	k.max_memory = 1 * GiB;
	Limits l = apply_knobs(d, k);
	EXPECT_EQ(l.max, 1 * GiB);
	EXPECT_EQ(l.low_water, 768 * MiB) << "derived values follow a new max";
	EXPECT_EQ(l.per_peer, 128 * MiB);
	k.low_water = 512 * MiB;
	k.per_peer = 10 * MiB;
	l = apply_knobs(d, k);
	EXPECT_EQ(l.low_water, 512 * MiB);
	EXPECT_EQ(l.per_peer, 10 * MiB);
	EXPECT_EQ(l.per_service, 1 * GiB);
	EXPECT_THAT(validate(l), IsEmpty());
	EXPECT_EQ(apply_knobs(d, Knobs{}).max, d.max);
}

TEST(TrackerLimits, ValidationSaysWhatIsWrong)
{
	Limits l;
	l.low_water = l.max;
	l.per_peer = 0;
	l.scope_low_water_percent = 100;
	l.overrides = {{"pear", "10.0.0.0/24", 1}, {"peer", "10.0.0.0/24", 0},
		       {"socket", "0x12", 5},	   {"system", "x", 5},
		       {"service", "", 5},	   {"peer", "10.0.0.0/24", 9}};
	EXPECT_THAT(
		texts(validate(l)),
		ElementsAre(
			"low_water: (268435456 bytes) must be below max (268435456 bytes)",
			"per_peer: must be greater than zero (a limit of zero would act on every "
			"socket)",
			"scope_low_water_percent: (100) must be between 1 and 99",
			"overrides[0].scope: unknown scope 'pear' (expected service, peer or "
			"socket)",
			"overrides[1].limit: must be greater than zero",
			"overrides[2].key: socket keys are decimal socket cookies, not '0x12'",
			"overrides[3].scope: the system scope is set by max, not by an override",
			"overrides[4].key: must not be empty",
			"overrides[5]: duplicate override for peer '10.0.0.0/24'"));
	Limits z;
	z.max = 0;
	z.pending_timeout = Duration::zero();
	z.min_stall = Duration::zero();
	EXPECT_THAT(texts(validate(z)),
		    ElementsAre("max: must be greater than zero (a limit of zero would act on "
				"every socket)",
				"pending_timeout: must be greater than zero",
				"min_stall: must be greater than zero and less than one hour"));
	Limits h;
	h.min_stall = std::chrono::hours(1);
	EXPECT_THAT(texts(validate(h)),
		    ElementsAre("min_stall: must be greater than zero and less than one hour"));
	h.min_stall = std::chrono::minutes(59);
	EXPECT_THAT(validate(h), IsEmpty());
}

} // namespace
} // namespace rcvgov::tracker
