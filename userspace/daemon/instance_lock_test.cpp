#include "daemon/instance_lock.h"

#include <filesystem>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

namespace rcvgov {
namespace {

struct TempDir {
	std::string dir = [] {
		char t[] = "/tmp/rcvgov-lock-test.XXXXXX";
		return std::string(mkdtemp(t));
	}();
	~TempDir() { std::filesystem::remove_all(dir); }
};

mode_t mode_of(const std::string &p)
{
	struct stat st {};
	lstat(p.c_str(), &st);
	return st.st_mode & 07777;
}

TEST(InstanceLock, SecondAcquireNamesTheHolder)
{
	TempDir d;
	const std::string path = d.dir + "/rcvgovd.lock";
	auto first = InstanceLock::acquire(path);
	ASSERT_TRUE(first.ok()) << first.error().message;
	// flock locks belong to the open file description: a second open in
	// the same process conflicts like another process would.
	auto second = InstanceLock::acquire(path);
	ASSERT_FALSE(second.ok());
	EXPECT_EQ(second.error().message,
		  "another rcvgovd (pid " + std::to_string(getpid()) + ") holds " + path);
	{
		auto moved = std::move(first).value();
	} // released
	EXPECT_TRUE(InstanceLock::acquire(path).ok());
}

TEST(PrivateDir, CreatesOursAndChecksOthersWithoutChmod)
{
	TempDir d;
	bool created = false;
	const std::string mine = d.dir + "/run";
	ASSERT_TRUE(prepare_private_dir(mine, &created).ok());
	EXPECT_TRUE(created);
	EXPECT_EQ(mode_of(mine), 0700u);
	ASSERT_TRUE(prepare_private_dir(mine, &created).ok());
	EXPECT_FALSE(created);

	const std::string open_dir = d.dir + "/world";
	ASSERT_EQ(mkdir(open_dir.c_str(), 0700), 0);
	ASSERT_EQ(chmod(open_dir.c_str(), 01777), 0);
	Status st = prepare_private_dir(open_dir);
	ASSERT_FALSE(st.ok());
	EXPECT_NE(st.error().message.find("mode 1777"), std::string::npos) << st.error().message;
	EXPECT_EQ(mode_of(open_dir), 01777u); // untouched

	const std::string link = d.dir + "/link";
	ASSERT_EQ(symlink(mine.c_str(), link.c_str()), 0);
	st = prepare_private_dir(link);
	ASSERT_FALSE(st.ok());
	EXPECT_NE(st.error().message.find("symbolic link"), std::string::npos);

	if (geteuid() == 0) {
		const std::string foreign = d.dir + "/foreign";
		ASSERT_EQ(mkdir(foreign.c_str(), 0700), 0);
		ASSERT_EQ(chown(foreign.c_str(), 65534, 65534), 0);
		st = check_private_dir(foreign);
		ASSERT_FALSE(st.ok());
		EXPECT_NE(st.error().message.find("owned by uid 65534"), std::string::npos);
	}
	EXPECT_EQ(parent_dir("/run/rcvgov/rcvgovd.sock"), "/run/rcvgov");
	EXPECT_EQ(parent_dir("/x"), "/");
	EXPECT_EQ(parent_dir("x"), ".");
}

} // namespace
} // namespace rcvgov
