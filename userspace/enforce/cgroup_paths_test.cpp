#include "enforce/cgroup_paths.h"

#include <gtest/gtest.h>

namespace rcvgov::enforce {
namespace {

TEST(CgroupPaths, FindsTheCgroup2MountBesideV1)
{
	// A host with v1 controllers and v2 side by side (as on these machines).
	const std::string mi =
		"25 30 0:23 / /sys/fs/cgroup rw,nosuid - tmpfs tmpfs ro,mode=755\n"
		"26 25 0:24 / /sys/fs/cgroup/unified rw,nosuid shared:5 - cgroup2 cgroup2 rw\n"
		"27 25 0:25 / /sys/fs/cgroup/cpu rw,nosuid shared:6 - cgroup cgroup rw,cpu\n";
	EXPECT_EQ(cgroup2_mount_in(mi), "/sys/fs/cgroup/unified");
	EXPECT_EQ(cgroup2_mount_in("27 25 0:25 / /sys/fs/cgroup/cpu rw - cgroup cgroup rw\n"), "");
	EXPECT_EQ(cgroup2_mount_in("31 1 0:26 / /sys/fs/cgroup rw - cgroup2 cgroup2 rw\n"),
		  "/sys/fs/cgroup");
}

} // namespace
} // namespace rcvgov::enforce
