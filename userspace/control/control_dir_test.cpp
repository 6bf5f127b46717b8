// Where the control socket may be created: its directory is created 0700
// or must already be root's and 0700 (never chmod'ed); a stale socket is
// replaced, a live daemon's is not.
#include <gtest/gtest.h>
#include <sys/stat.h>

#include "control/control.h"
#include "control/control_test_util.h"

namespace rcvgov::control {
namespace {

using namespace ctltest;

Result<nlohmann::json> echo(const nlohmann::json &req)
{
	return nlohmann::json{{"echo", req["cmd"]}};
}

mode_t mode_of(const std::string &p)
{
	struct stat st;
	return lstat(p.c_str(), &st) == 0 ? st.st_mode & 07777 : 0;
}

TEST(SocketDir, MissingDirectoryIsCreated0700)
{
	TempDir dir;
	mode_t old = umask(0077 | 0200); // a umask that would take owner bits away
	auto s = Server::listen(dir.path() + "/run/ctl.sock", echo);
	umask(old);
	ASSERT_TRUE(s.ok()) << s.error().message;
	EXPECT_EQ(mode_of(dir.path() + "/run"), 0700u);
	EXPECT_EQ(mode_of(dir.path() + "/run/ctl.sock"), 0600u);
}

TEST(SocketDir, AnOpenDirectoryIsRefusedAndLeftAlone)
{
	TempDir dir;
	std::string open_dir = dir.path() + "/shared";
	ASSERT_EQ(mkdir(open_dir.c_str(), 0755), 0);
	ASSERT_EQ(chmod(open_dir.c_str(), 0755), 0);
	auto s = Server::listen(open_dir + "/ctl.sock", echo);
	ASSERT_FALSE(s.ok());
	EXPECT_NE(s.error().message.find(open_dir), std::string::npos) << s.error().message;
	EXPECT_NE(s.error().message.find("mode 0755"), std::string::npos) << s.error().message;
	EXPECT_NE(s.error().message.find("chmod 0700"), std::string::npos) << s.error().message;
	EXPECT_EQ(mode_of(open_dir), 0755u) << "rcvgovd changed a directory it did not create";
	// /tmp itself (1777): refused, untouched.
	auto t = Server::listen("/tmp/rcvgov-ctl-test.sock", echo);
	ASSERT_FALSE(t.ok());
	EXPECT_EQ(mode_of("/tmp"), 01777u);
}

TEST(SocketDir, SymlinkAndForeignOwnerAreRefused)
{
	TempDir dir;
	std::string real = dir.path() + "/real", link = dir.path() + "/link";
	ASSERT_EQ(mkdir(real.c_str(), 0700), 0);
	ASSERT_EQ(symlink(real.c_str(), link.c_str()), 0);
	auto s = Server::listen(link + "/ctl.sock", echo);
	ASSERT_FALSE(s.ok());
	EXPECT_NE(s.error().message.find(link + " is a symbolic link"), std::string::npos)
		<< s.error().message;
	if (geteuid() == 0) {
		ASSERT_EQ(chown(real.c_str(), 65534, 65534), 0);
		auto o = Server::listen(real + "/ctl.sock", echo);
		ASSERT_FALSE(o.ok());
		EXPECT_NE(o.error().message.find("owned by uid 65534"), std::string::npos)
			<< o.error().message;
	}
}

TEST(SocketDir, StaleSocketIsReplacedLiveOneIsNot)
{
	TempDir dir;
	std::string sock = dir.path() + "/ctl.sock";
	{
		// A crashed daemon's socket: bound, nobody listening.
		UniqueFd dead(socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
		sockaddr_un a{};
		a.sun_family = AF_UNIX;
		std::snprintf(a.sun_path, sizeof(a.sun_path), "%s", sock.c_str());
		ASSERT_EQ(bind(dead.get(), reinterpret_cast<sockaddr *>(&a), sizeof(a)), 0);
	}
	auto first = Server::listen(sock, echo);
	ASSERT_TRUE(first.ok()) << first.error().message;
	{
		auto second = Server::listen(sock, echo);
		ASSERT_FALSE(second.ok());
		EXPECT_EQ(second.error().message.find("another rcvgovd is listening on " + sock),
			  0u)
			<< second.error().message;
	}
	// The refused one removed nothing: the first still answers.
	Loop loop(**first);
	auto r = call(sock, {{"cmd", "still"}});
	ASSERT_TRUE(r.ok()) << r.error().message;
	EXPECT_EQ((*r)["echo"], "still");
}

TEST(SocketDir, SomethingElseAtThePathIsRefused)
{
	TempDir dir;
	std::string path = dir.path() + "/ctl.sock";
	FILE *f = std::fopen(path.c_str(), "w");
	ASSERT_NE(f, nullptr);
	std::fclose(f);
	auto s = Server::listen(path, echo);
	ASSERT_FALSE(s.ok());
	EXPECT_NE(s.error().message.find("is not a socket"), std::string::npos)
		<< s.error().message;
	struct stat st;
	EXPECT_EQ(stat(path.c_str(), &st), 0) << "the file was removed";
}

TEST(SocketDir, ExitRemovesOnlyItsOwnSocket)
{
	TempDir dir;
	std::string sock = dir.path() + "/ctl.sock";
	auto s = Server::listen(sock, echo);
	ASSERT_TRUE(s.ok()) << s.error().message;
	// Someone replaced the file meanwhile: not ours to remove.
	ASSERT_EQ(unlink(sock.c_str()), 0);
	FILE *f = std::fopen(sock.c_str(), "w");
	ASSERT_NE(f, nullptr);
	std::fclose(f);
	s = Error::msg("gone"); // destroys the server
	struct stat st;
	EXPECT_EQ(stat(sock.c_str(), &st), 0);
}

} // namespace
} // namespace rcvgov::control
