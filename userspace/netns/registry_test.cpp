#include <cerrno>
#include <condition_variable>
#include <fcntl.h>
#include <filesystem>
#include <fstream>
#include <gtest/gtest.h>
#include <map>
#include <mutex>
#include <sched.h>
#include <sys/syscall.h>
#include <thread>
#include <unistd.h>

#include "netns/netns.h"

namespace rcvgov::netns {
namespace {

namespace fs = std::filesystem;
constexpr uint64_t sec = 1000000000ULL;

// Namespace paths -> what the fake kernel says about them.
struct FakeKernel {
	struct Entry {
		NamespaceOps::Id id;
		uint64_t cookie = 0;
		int stat_errno = 0, open_errno = 0;
	};
	std::map<std::string, Entry> paths;
	int opens = 0, cookie_reads = 0;
};

class FakeOps final : public NamespaceOps {
public:
	explicit FakeOps(FakeKernel &k) : k_(k) {}
	Result<Id> stat(const std::string &path) override
	{
		auto it = k_.paths.find(path);
		if (it == k_.paths.end())
			return Error::sys(ENOENT, "stat " + path);
		if (it->second.stat_errno)
			return Error::sys(it->second.stat_errno, "stat " + path);
		return it->second.id;
	}
	Result<Opened> open(const std::string &path) override
	{
		++k_.opens;
		auto it = k_.paths.find(path);
		if (it == k_.paths.end())
			return Error::sys(ENOENT, "open " + path);
		if (it->second.open_errno)
			return Error::sys(it->second.open_errno, "open " + path);
		return Opened{UniqueFd(::open("/dev/null", O_RDONLY | O_CLOEXEC)), it->second.id};
	}
	Result<uint64_t> cookie_of(const Namespace &ns) override
	{
		++k_.cookie_reads;
		for (const auto &[p, e] : k_.paths)
			if (e.id.dev == ns.dev && e.id.ino == ns.ino)
				return e.cookie;
		return Error::msg("no such namespace", EINVAL);
	}

private:
	FakeKernel &k_;
};

class TempRoot {
public:
	TempRoot()
	{
		char tmpl[] = "/tmp/rcvgov-netns-XXXXXX";
		root_ = mkdtemp(tmpl);
		fs::create_directories(root_ / "proc");
		fs::create_directories(root_ / "run-netns");
	}
	~TempRoot() { fs::remove_all(root_); }
	std::string proc() const { return (root_ / "proc").string(); }
	std::string run() const { return (root_ / "run-netns").string(); }
	// A /proc/<pid> directory; the walk lists it, the fake answers for it.
	std::string add_pid(int pid)
	{
		fs::create_directories(root_ / "proc" / std::to_string(pid) / "ns");
		return proc() + "/" + std::to_string(pid) + "/ns/net";
	}
	void remove_pid(int pid) { fs::remove_all(root_ / "proc" / std::to_string(pid)); }

private:
	fs::path root_;
};

struct Fixture {
	TempRoot dirs;
	FakeKernel kernel;
	Registry reg;
	explicit Fixture(std::chrono::nanoseconds grace = std::chrono::seconds(10))
	    : reg(Registry::Options{"", dirs.proc(), dirs.run(), grace},
		  std::make_unique<FakeOps>(kernel))
	{
	}
};

TEST(Registry, SameDevInoIsOneNamespaceOpenedOnce)
{
	Fixture f;
	f.kernel.paths[f.dirs.add_pid(10)] = {{1, 100}, 5001};
	f.kernel.paths[f.dirs.add_pid(11)] = {{1, 100}, 5001};
	f.kernel.paths[f.dirs.add_pid(12)] = {{1, 200}, 5002};
	fs::create_directories(f.dirs.proc() + "/self"); // not a pid: skipped

	ScanReport r = f.reg.scan(1 * sec);
	EXPECT_EQ(r.found, 2u);
	EXPECT_EQ(r.added, 2u);
	EXPECT_EQ(r.open_failures, 0u);
	EXPECT_EQ(r.degraded, "");
	EXPECT_EQ(f.kernel.opens, 2);
	ASSERT_NE(f.reg.find(5001), nullptr);
	EXPECT_EQ(f.reg.find(5001)->ino, 100u);
	EXPECT_TRUE(f.reg.find(5002)->fd);
	EXPECT_EQ(f.reg.find(4242), nullptr);

	// Known namespaces are not opened again, nor their cookie re-read.
	r = f.reg.scan(2 * sec);
	EXPECT_EQ(r.found, 2u);
	EXPECT_EQ(r.added, 0u);
	EXPECT_EQ(f.kernel.opens, 2);
	EXPECT_EQ(f.kernel.cookie_reads, 2);
	EXPECT_EQ(f.reg.all().size(), 2u);
	EXPECT_EQ(f.reg.find(5001)->last_seen_ns, 2 * sec);
}

TEST(Registry, NamedNamespacesAndSelf)
{
	TempRoot dirs;
	FakeKernel k;
	std::string self = dirs.proc() + "/self-ns";
	k.paths[self] = {{1, 1}, 1};
	std::string named = dirs.run() + "/blue";
	{
		std::ofstream touch(named);
	}
	k.paths[named] = {{1, 7}, 77};
	Registry reg(Registry::Options{self, dirs.proc(), dirs.run(), std::chrono::seconds(10)},
		     std::make_unique<FakeOps>(k));
	EXPECT_EQ(reg.self_cookie(), 0u);
	auto r = reg.scan(sec);
	EXPECT_EQ(r.found, 2u);
	EXPECT_EQ(reg.self_cookie(), 1u);
	ASSERT_NE(reg.find(77), nullptr);
	EXPECT_EQ(reg.find(77)->origin, named);
	EXPECT_EQ(reg.all().front()->cookie, 1u) << "the daemon's own namespace comes first";
}

TEST(Registry, UnreachableKeptForGraceThenForgotten)
{
	Fixture f(std::chrono::seconds(10));
	std::string p = f.dirs.add_pid(10);
	f.kernel.paths[p] = {{1, 100}, 5001};
	f.kernel.paths[f.dirs.add_pid(11)] = {{1, 200}, 5002};
	f.reg.scan(1 * sec);
	f.dirs.remove_pid(10);
	f.kernel.paths.erase(p);

	auto r = f.reg.scan(5 * sec);
	EXPECT_EQ(r.found, 1u);
	EXPECT_EQ(r.forgotten, 0u);
	ASSERT_NE(f.reg.find(5001), nullptr) << "still within the grace period: fd held";
	EXPECT_TRUE(f.reg.find(5001)->fd);
	EXPECT_EQ(f.reg.all().size(), 2u);

	r = f.reg.scan(11 * sec);
	EXPECT_EQ(r.forgotten, 0u) << "exactly the grace period is still within it";
	r = f.reg.scan(11 * sec + 1);
	EXPECT_EQ(r.forgotten, 1u);
	EXPECT_EQ(f.reg.find(5001), nullptr);
	EXPECT_EQ(f.reg.all().size(), 1u);
	EXPECT_NE(f.reg.find(5002), nullptr);
}

TEST(Registry, ReappearingWithinGraceIsTheSameNamespace)
{
	Fixture f;
	std::string p = f.dirs.add_pid(10);
	f.kernel.paths[p] = {{1, 100}, 5001};
	f.reg.scan(1 * sec);
	f.dirs.remove_pid(10);
	f.reg.scan(3 * sec);
	f.kernel.paths[f.dirs.add_pid(20)] = {{1, 100}, 5001};
	auto r = f.reg.scan(4 * sec);
	EXPECT_EQ(r.added, 0u);
	EXPECT_EQ(f.kernel.opens, 1);
	EXPECT_EQ(f.reg.find(5001)->last_seen_ns, 4 * sec);
}

TEST(Registry, EmfileIsDegradedNotGone)
{
	Fixture f;
	// One namespace behind three processes: one failure, not three.
	for (int pid : {10, 11, 12})
		f.kernel.paths[f.dirs.add_pid(pid)] = {{1, 300}, 0, 0, EMFILE};
	f.kernel.paths[f.dirs.add_pid(13)] = {{1, 400}, 0, 0, ENFILE};
	f.kernel.paths[f.dirs.add_pid(14)] = {{1, 500}, 5005};
	auto r = f.reg.scan(sec);
	EXPECT_EQ(r.open_failures, 2u);
	EXPECT_EQ(r.found, 1u);
	EXPECT_TRUE(r.last_errno == EMFILE || r.last_errno == ENFILE);
	EXPECT_NE(r.degraded.find("EMFILE: 1 namespace could not be opened (fd limit "),
		  std::string::npos)
		<< r.degraded;
	EXPECT_NE(r.degraded.find("ENFILE: 1 namespace could not be opened (system-wide"),
		  std::string::npos)
		<< r.degraded;
	EXPECT_NE(r.degraded.find("they are not governed"), std::string::npos);
	EXPECT_EQ(f.reg.last_report().degraded, r.degraded);

	// Only EMFILE: the fd limit is named.
	f.kernel.paths.erase(f.dirs.proc() + "/13/ns/net");
	f.dirs.remove_pid(13);
	r = f.reg.scan(2 * sec);
	EXPECT_EQ(r.open_failures, 1u);
	EXPECT_EQ(r.last_errno, EMFILE);
	EXPECT_EQ(r.degraded.rfind("EMFILE: 1 namespace could not be opened (fd limit ", 0), 0u)
		<< r.degraded;

	// The limit goes away: the namespace is governed from then on.
	for (int pid : {10, 11, 12})
		f.kernel.paths[f.dirs.proc() + "/" + std::to_string(pid) + "/ns/net"].open_errno =
			0;
	f.kernel.paths[f.dirs.proc() + "/10/ns/net"].cookie = 5003;
	f.kernel.paths[f.dirs.proc() + "/11/ns/net"].cookie = 5003;
	f.kernel.paths[f.dirs.proc() + "/12/ns/net"].cookie = 5003;
	r = f.reg.scan(3 * sec);
	EXPECT_EQ(r.open_failures, 0u);
	EXPECT_EQ(r.degraded, "");
	EXPECT_EQ(r.added, 1u);
	EXPECT_NE(f.reg.find(5003), nullptr);
}

TEST(Registry, ProcessGoneIsNotAFailure)
{
	Fixture f;
	f.kernel.paths[f.dirs.add_pid(10)] = {{1, 100}, 0, ENOENT};
	f.kernel.paths[f.dirs.add_pid(11)] = {{1, 200}, 0, 0, ESRCH};
	f.dirs.add_pid(12); // listed, then gone before stat
	auto r = f.reg.scan(sec);
	EXPECT_EQ(r.found, 0u);
	EXPECT_EQ(r.open_failures, 0u);
	EXPECT_EQ(r.degraded, "");
}

TEST(Registry, MissingRunNetnsIsEmpty)
{
	FakeKernel k;
	Registry reg(Registry::Options{"", "", "/nonexistent/run/netns", std::chrono::seconds(1)},
		     std::make_unique<FakeOps>(k));
	auto r = reg.scan(sec);
	EXPECT_EQ(r.open_failures, 0u);
	EXPECT_EQ(r.found, 0u);
}

// The real kernel: a thread in a namespace of its own, reached through a
// symlink in a fake /run/netns.
TEST(RegistryReal, CookiesAndRunIn)
{
	if (geteuid() != 0)
		GTEST_SKIP() << "needs root (unshare, setns)";
	std::mutex m;
	std::condition_variable cv;
	pid_t tid = 0;
	bool done = false;
	int unshare_errno = 0;
	std::thread t([&] {
		int rc = unshare(CLONE_NEWNET);
		std::unique_lock l(m);
		unshare_errno = rc == 0 ? 0 : errno;
		tid = static_cast<pid_t>(syscall(SYS_gettid));
		cv.notify_all();
		cv.wait(l, [&] { return done; });
	});
	{
		std::unique_lock l(m);
		cv.wait(l, [&] { return tid != 0; });
	}
	auto finish = [&] {
		{
			std::lock_guard l(m);
			done = true;
		}
		cv.notify_all();
		t.join();
	};
	if (unshare_errno) {
		finish();
		FAIL() << "unshare(CLONE_NEWNET) failed: errno " << unshare_errno;
	}
	TempRoot dirs;
	fs::create_symlink("/proc/" + std::to_string(getpid()) + "/task/" + std::to_string(tid) +
				   "/ns/net",
			   dirs.run() + "/other");
	Registry reg(
		Registry::Options{"/proc/self/ns/net", "", dirs.run(), std::chrono::seconds(1)},
		system_ops());
	auto r = reg.scan(sec);
	finish(); // the namespace lives on: the registry holds it
	EXPECT_EQ(r.found, 2u) << r.degraded;
	ASSERT_EQ(reg.all().size(), 2u);
	auto own = current_cookie();
	ASSERT_TRUE(own.ok()) << own.error().message;
	EXPECT_EQ(reg.self_cookie(), *own);
	const Namespace &other = *reg.all()[1];
	EXPECT_NE(other.cookie, *own);
	EXPECT_EQ(reg.find(other.cookie), &other);

	auto inside = run_in(other, [] { return current_cookie(); });
	ASSERT_TRUE(inside.ok()) << inside.error().message;
	EXPECT_EQ(*inside, other.cookie);
	EXPECT_EQ(*current_cookie(), *own) << "run_in switched back";
	Status st = run_in(*reg.all()[0], [] { return Status(); });
	EXPECT_TRUE(st.ok());

	// The thread is gone: the link dangles, the namespace is forgotten
	// after the grace period.
	reg.scan(2 * sec);
	EXPECT_NE(reg.find(other.cookie), nullptr);
	r = reg.scan(3 * sec + 1);
	EXPECT_EQ(r.forgotten, 1u);
	EXPECT_EQ(r.open_failures, 0u);
}

TEST(RunIn, EnteringFailureIsAnError)
{
	Namespace ns;
	ns.origin = "nowhere";
	ns.dev = ns.ino = 1; // not ours
	auto r = run_in(ns, [] { return Result<int>(1); });
	ASSERT_FALSE(r.ok());
	EXPECT_NE(r.error().message.find("nowhere"), std::string::npos) << r.error().message;
}

} // namespace
} // namespace rcvgov::netns
