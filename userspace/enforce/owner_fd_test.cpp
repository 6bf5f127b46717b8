#include "enforce/owner_fd.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <netinet/tcp.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>

#include "common/loopback_test_util.h"

namespace rcvgov::enforce {
namespace {

using namespace rcvgov::test;

uint64_t cookie_of(int fd)
{
	uint64_t c = 0;
	socklen_t len = sizeof(c);
	EXPECT_EQ(getsockopt(fd, SOL_SOCKET, SO_COOKIE, &c, &len), 0) << err_text();
	return c;
}

int int_opt(int fd, int level, int opt)
{
	int v = 0;
	socklen_t len = sizeof(v);
	EXPECT_EQ(getsockopt(fd, level, opt, &v, &len), 0) << err_text();
	return v;
}

uint32_t inode_of(int fd)
{
	struct stat st {};
	EXPECT_EQ(fstat(fd, &st), 0) << err_text();
	return static_cast<uint32_t>(st.st_ino);
}

TEST(OwnerFd, FindsTheDescriptorOfASocketByItsInode)
{
	Conn c;
	ASSERT_NO_FATAL_FAILURE(open_conn(AF_INET, c));
	auto fd = find_socket_fd(getpid(), inode_of(c.server.get()));
	ASSERT_TRUE(fd.ok()) << fd.error().message;
	EXPECT_EQ(*fd, c.server.get());
	fd = find_socket_fd(getpid(), inode_of(c.client.get()));
	ASSERT_TRUE(fd.ok()) << fd.error().message;
	EXPECT_EQ(*fd, c.client.get());
}

TEST(OwnerFd, FinderSaysWhyItFoundNothing)
{
	Conn c;
	ASSERT_NO_FATAL_FAILURE(open_conn(AF_INET, c));
	const uint32_t ino = inode_of(c.server.get());
	c.server.reset();
	auto none = find_socket_fd(getpid(), ino);
	ASSERT_FALSE(none.ok());
	EXPECT_EQ(none.error().errnum, ENOENT);
	EXPECT_NE(none.error().message.find("socket:[" + std::to_string(ino) + "]"),
		  std::string::npos)
		<< none.error().message;

	pid_t child = fork();
	ASSERT_GE(child, 0);
	if (child == 0)
		_exit(0);
	ASSERT_EQ(waitpid(child, nullptr, 0), child);
	auto gone = find_socket_fd(child, ino);
	ASSERT_FALSE(gone.ok());
	EXPECT_EQ(gone.error().errnum, ESRCH) << gone.error().message;
}

// A /proc of our own: links that are not the socket, and names that are
// not descriptors, are passed over.
TEST(OwnerFd, FinderReadsOnlyDescriptorLinks)
{
	namespace fs = std::filesystem;
	const fs::path root =
		fs::temp_directory_path() / ("owner-fd-test-" + std::to_string(getpid()));
	fs::remove_all(root);
	fs::create_directories(root / "42" / "fd");
	fs::create_symlink("socket:[1234]", root / "42" / "fd" / "3");
	fs::create_symlink("socket:[12345]", root / "42" / "fd" / "5");
	fs::create_symlink("/dev/null", root / "42" / "fd" / "7");
	fs::create_symlink("socket:[12345]", root / "42" / "fd" / "x9");
	auto fd = find_socket_fd(42, 12345, root.string());
	auto none = find_socket_fd(42, 123, root.string());
	fs::remove_all(root);
	ASSERT_TRUE(fd.ok()) << fd.error().message;
	EXPECT_EQ(*fd, 5);
	ASSERT_FALSE(none.ok());
	EXPECT_EQ(none.error().errnum, ENOENT);
}

// Our own process is a process like any other to pidfd_getfd().
TEST(OwnerFd, BorrowsTheSocketItIsAskedFor)
{
	Conn c;
	ASSERT_NO_FATAL_FAILURE(open_conn(AF_INET, c));
	const uint64_t cookie = cookie_of(c.server.get());
	auto sock = borrow_socket(getpid(), c.server.get(), cookie);
	ASSERT_TRUE(sock.ok()) << sock.error().message;
	EXPECT_NE(sock->get(), c.server.get());
	EXPECT_EQ(cookie_of(sock->get()), cookie);
}

TEST(OwnerFd, RefusesADescriptorThatNamesAnotherSocket)
{
	Conn c;
	ASSERT_NO_FATAL_FAILURE(open_conn(AF_INET, c));
	// The number was reused for the client end since the finder looked.
	auto sock = borrow_socket(getpid(), c.client.get(), cookie_of(c.server.get()));
	ASSERT_FALSE(sock.ok());
	EXPECT_EQ(sock.error().errnum, ESTALE);
	EXPECT_NE(sock.error().message.find("another socket"), std::string::npos);
}

TEST(OwnerFd, ClosedDescriptorAndGoneProcessKeepTheirErrno)
{
	Conn c;
	ASSERT_NO_FATAL_FAILURE(open_conn(AF_INET, c));
	const uint64_t cookie = cookie_of(c.server.get());
	// A number far above the ones pidfd_open() will hand out meanwhile.
	const int fd = fcntl(c.server.get(), F_DUPFD_CLOEXEC, 900);
	ASSERT_GE(fd, 900) << err_text();
	close(fd);
	auto closed = borrow_socket(getpid(), fd, cookie);
	ASSERT_FALSE(closed.ok());
	EXPECT_EQ(closed.error().errnum, EBADF) << closed.error().message;

	pid_t child = fork();
	ASSERT_GE(child, 0);
	if (child == 0)
		_exit(0);
	ASSERT_EQ(waitpid(child, nullptr, 0), child);
	auto gone = borrow_socket(child, 0, cookie);
	ASSERT_FALSE(gone.ok());
	EXPECT_EQ(gone.error().errnum, ESRCH) << gone.error().message;
}

TEST(OwnerFd, ClampLocksTheBufferLikeTheIterator)
{
	Conn c;
	ASSERT_NO_FATAL_FAILURE(open_conn(AF_INET, c));
	const int before = int_opt(c.server.get(), IPPROTO_TCP, TCP_WINDOW_CLAMP);
	Action a;
	a.kind = Kind::Clamp;
	a.window_clamp = 40000;
	a.rcvbuf_lock = 100000; // below net.core.rmem_max (212992 by default)
	ActResult r = apply_on_fd(c.server.get(), a);
	ASSERT_EQ(r.outcome, Outcome::Done) << r.detail;
	EXPECT_EQ(r.before, static_cast<uint32_t>(before));
	EXPECT_EQ(r.after, 40000u);
	EXPECT_EQ(int_opt(c.server.get(), IPPROTO_TCP, TCP_WINDOW_CLAMP), 40000);
	// The kernel doubles what it is given: a/2 in, a back.
	EXPECT_EQ(r.rcvbuf_after, 100000u);
	EXPECT_EQ(int_opt(c.server.get(), SOL_SOCKET, SO_RCVBUF), 100000);

	Action restore;
	restore.kind = Kind::RestoreClamp;
	restore.window_clamp = static_cast<uint32_t>(before);
	restore.rcvbuf_lock = 1000; // ignored: a restore only sets the clamp
	r = apply_on_fd(c.server.get(), restore);
	ASSERT_EQ(r.outcome, Outcome::Done) << r.detail;
	EXPECT_EQ(r.after, static_cast<uint32_t>(before));
	EXPECT_EQ(int_opt(c.server.get(), SOL_SOCKET, SO_RCVBUF), 100000);
}

TEST(OwnerFd, ARefusedClampIsFailedWithItsErrno)
{
	Action a;
	a.kind = Kind::Clamp;
	a.window_clamp = 40000;
	ActResult r = apply_on_fd(-1, a);
	EXPECT_EQ(r.outcome, Outcome::Failed);
	EXPECT_EQ(r.errnum, EBADF);
}

TEST(OwnerFd, OnlyARefusalForEveryProcessTurnsThePathOff)
{
	EXPECT_TRUE(owner_fd_unusable(Error::sys(ENOSYS, "pidfd_getfd")));
	EXPECT_TRUE(owner_fd_unusable(Error::sys(EPERM, "pidfd_getfd")));
	EXPECT_FALSE(owner_fd_unusable(Error::sys(ESRCH, "pidfd_open")));
	EXPECT_FALSE(owner_fd_unusable(Error::sys(EBADF, "pidfd_getfd")));
	EXPECT_FALSE(owner_fd_unusable(Error::msg("another socket", ESTALE)));
}

} // namespace
} // namespace rcvgov::enforce
