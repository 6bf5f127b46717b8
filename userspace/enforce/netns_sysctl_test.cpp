#include "enforce/netns_sysctl.h"

#include <cerrno>
#include <condition_variable>
#include <filesystem>
#include <gtest/gtest.h>
#include <map>
#include <mutex>
#include <sched.h>
#include <sys/syscall.h>
#include <thread>
#include <unistd.h>

namespace rcvgov::enforce {
namespace {

// Per-namespace sysctl values; a missing value means "absent".
struct FakeSysctl {
	std::map<uint64_t, int> value;
	std::map<uint64_t, int> write_errno;
	std::map<uint64_t, int> max; // the sysctl's range: above it EINVAL
	std::vector<std::pair<uint64_t, int>> writes;
	int reads = 0;
};

class FakeOps final : public SysctlOps {
public:
	explicit FakeOps(FakeSysctl &k) : k_(k) {}
	Result<int> read(const netns::Namespace &ns) override
	{
		++k_.reads;
		auto it = k_.value.find(ns.cookie);
		if (it == k_.value.end())
			return Error::sys(ENOENT, "/proc/sys/net/ipv4/tcp_shrink_window");
		return it->second;
	}
	Status write(const netns::Namespace &ns, int v) override
	{
		if (auto e = k_.write_errno.find(ns.cookie); e != k_.write_errno.end())
			return Error::sys(e->second, "write tcp_shrink_window");
		if (auto m = k_.max.find(ns.cookie); m != k_.max.end() && v > m->second)
			return Error::sys(EINVAL, "write tcp_shrink_window");
		k_.writes.emplace_back(ns.cookie, v);
		k_.value[ns.cookie] = v;
		return Status();
	}

private:
	FakeSysctl &k_;
};

using NsList = std::vector<std::unique_ptr<netns::Namespace>>;

NsList namespaces(std::initializer_list<uint64_t> cookies)
{
	NsList out;
	for (uint64_t c : cookies) {
		auto ns = std::make_unique<netns::Namespace>();
		ns->cookie = c;
		ns->origin = "/proc/" + std::to_string(c) + "/ns/net";
		out.push_back(std::move(ns));
	}
	return out;
}

struct Fixture {
	FakeSysctl k;
	NetnsSysctl s{std::make_unique<FakeOps>(k)};
};

// [ladder] shrink_window = "strict": 2 where the kernel has strict mode
// (0 and 1 raised, 2 kept), 1 where it refuses 2, asked only once there.
TEST(NetnsSysctl, StrictTargetIsTwoWhereTheKernelTakesIt)
{
	Fixture f;
	f.k.value = {{1, 0}, {2, 1}, {3, 2}, {4, 0}, {5, 1}};
	f.k.max = {{4, 1}, {5, 1}}; // kernels without the series
	f.s.set_target(2);
	auto ns = namespaces({1, 2, 3, 4, 5});
	auto c = f.s.apply(ns, false);
	EXPECT_EQ(f.k.value[1], 2);
	EXPECT_EQ(f.k.value[2], 2);
	EXPECT_EQ(f.k.value[3], 2);
	EXPECT_EQ(f.k.value[4], 1);
	EXPECT_EQ(f.k.value[5], 1);
	EXPECT_EQ(c.set, 3u); // 1, 2 and 4; 5 stays at 1
	EXPECT_EQ(c.failed, 0u);
	EXPECT_TRUE(f.s.entry(4)->no_strict);
	EXPECT_TRUE(f.s.entry(5)->no_strict);
	EXPECT_FALSE(f.s.entry(5)->changed);
	EXPECT_EQ(f.s.entry(2)->before, 1);
	// Journaled: what changed (1, 2, 4), not the refused intent for 5.
	journal::Journal mem;
	{
		FakeSysctl k2 = f.k;
		k2.value[5] = 1;
		NetnsSysctl s2{std::make_unique<FakeOps>(k2)};
		s2.attach_journal(&mem);
		s2.set_target(2);
		k2.value = {{1, 0}, {5, 1}};
		auto two = namespaces({1, 5});
		s2.apply(two, false);
		EXPECT_EQ(mem.contents().sysctls.count(1), 1u);
		EXPECT_EQ(mem.contents().sysctls.count(5), 0u) << "nothing changed there";
	}
	const size_t writes = f.k.writes.size();
	c = f.s.apply(ns, false);
	EXPECT_EQ(f.k.writes.size(), writes) << "a second visit writes nothing";
	EXPECT_EQ(c.set + c.refixed + c.failed, 0u);

	// Back to target 1: 2 is compliant and kept; restore puts back what
	// was found.
	f.s.set_target(1);
	c = f.s.apply(ns, false);
	EXPECT_EQ(f.k.writes.size(), writes);
	auto r = f.s.restore(ns);
	EXPECT_EQ(r.restored, 3u);
	EXPECT_EQ(f.k.value[1], 0);
	EXPECT_EQ(f.k.value[2], 1);
	EXPECT_EQ(f.k.value[3], 2);
	EXPECT_EQ(f.k.value[4], 0);
	EXPECT_EQ(f.k.value[5], 1);
}

TEST(NetnsSysctl, NewNamespaceZeroIsSetAndRecorded)
{
	Fixture f;
	f.k.value = {{1, 0}, {2, 1}};
	auto ns = namespaces({1, 2});
	auto c = f.s.apply(ns, false);
	EXPECT_EQ(c.set, 1u);
	EXPECT_EQ(c.refixed, 0u);
	EXPECT_EQ(c.failed, 0u);
	EXPECT_EQ(f.k.value[1], 1);
	const auto *e = f.s.entry(1);
	ASSERT_NE(e, nullptr);
	EXPECT_TRUE(e->exists);
	EXPECT_EQ(e->before, 0);
	EXPECT_EQ(e->now, 1);
	EXPECT_TRUE(e->changed);
	EXPECT_FALSE(f.s.entry(2)->changed);
	EXPECT_EQ(f.s.entry(2)->before, 1);
}

TEST(NetnsSysctl, StrictModeTwoIsKept)
{
	Fixture f;
	f.k.value = {{1, 2}};
	auto ns = namespaces({1});
	f.s.apply(ns, false);
	f.s.apply(ns, false);
	EXPECT_TRUE(f.k.writes.empty());
	EXPECT_EQ(f.k.value[1], 2);
	EXPECT_EQ(f.s.entry(1)->now, 2);
	EXPECT_FALSE(f.s.entry(1)->changed);
}

TEST(NetnsSysctl, EveryNamespaceIsReReadAndAResetIsRefixed)
{
	Fixture f;
	f.k.value = {{1, 0}, {2, 1}};
	auto ns = namespaces({1, 2});
	f.s.apply(ns, false);
	EXPECT_EQ(f.k.reads, 2);
	f.s.apply(ns, false);
	EXPECT_EQ(f.k.reads, 4) << "known namespaces are re-read on every apply";

	f.k.value[1] = 0; // someone inside the namespace resets it
	f.k.value[2] = 0;
	auto c = f.s.apply(ns, false);
	EXPECT_EQ(c.refixed, 2u);
	EXPECT_EQ(c.set, 0u);
	EXPECT_EQ(f.k.value[1], 1);
	EXPECT_EQ(f.k.value[2], 1);
	EXPECT_EQ(f.s.entry(1)->before, 0);
	EXPECT_EQ(f.s.entry(2)->before, 1) << "the value first found stays the original";
	EXPECT_TRUE(f.s.entry(2)->changed);
	auto r = f.s.report();
	EXPECT_EQ(r.counters.set, 1u);
	EXPECT_EQ(r.counters.refixed, 2u);
	ASSERT_EQ(r.namespaces.size(), 2u);
	EXPECT_EQ(r.namespaces[0].cookie, 1u);
}

TEST(NetnsSysctl, DryRunToggledKeepsBefore)
{
	Fixture f;
	f.k.value = {{1, 0}};
	auto ns = namespaces({1});
	auto c = f.s.apply(ns, true);
	EXPECT_EQ(c.would_set, 1u);
	EXPECT_TRUE(f.k.writes.empty());
	EXPECT_EQ(f.s.entry(1)->now, 0);
	EXPECT_EQ(f.s.apply(ns, true).would_set, 0u) << "logged and counted once";

	f.s.apply(ns, false); // reload: dry-run off
	EXPECT_EQ(f.k.value[1], 1);
	EXPECT_EQ(f.s.entry(1)->before, 0);
	EXPECT_TRUE(f.s.entry(1)->changed);

	f.s.apply(ns, true); // reload: dry-run on again; the state is not rebuilt
	EXPECT_EQ(f.s.entry(1)->before, 0);
	EXPECT_TRUE(f.s.entry(1)->changed);
	f.s.apply(ns, false);
	EXPECT_EQ(f.k.writes.size(), 1u);

	auto r = f.s.restore(ns);
	EXPECT_EQ(r.restored, 1u);
	EXPECT_EQ(f.k.value[1], 0) << "the original value, not one seen after a toggle";
}

TEST(NetnsSysctl, RestoreOnlyTouchesChangedOnes)
{
	Fixture f;
	f.k.value = {{1, 0}, {2, 1}, {3, 2}, {4, 0}};
	auto ns = namespaces({1, 2, 3, 4});
	f.s.apply(ns, false);
	f.k.writes.clear();
	f.k.write_errno[4] = EPERM;
	auto r = f.s.restore(ns);
	EXPECT_EQ(r.restored, 1u);
	ASSERT_EQ(f.k.writes.size(), 1u);
	EXPECT_EQ(f.k.writes[0], std::make_pair(uint64_t(1), 0));
	ASSERT_EQ(r.failed.size(), 1u);
	EXPECT_EQ(r.failed[0].cookie, 4u);
	EXPECT_EQ(r.failed[0].error.errnum, EPERM);
	EXPECT_FALSE(f.s.entry(1)->changed);
	EXPECT_EQ(f.s.entry(1)->now, 0);
}

TEST(NetnsSysctl, RestoreReachesNamespacesHeldInGraceAndReportsForgottenOnes)
{
	Fixture f;
	f.k.value = {{1, 0}, {2, 0}};
	auto both = namespaces({1, 2});
	f.s.apply(both, false);
	// Namespace 2 is missed by the scan but still held by the registry
	// (within its grace period): it is still in the registry's list.
	auto r = f.s.restore(both);
	EXPECT_EQ(r.restored, 2u);

	f.s.apply(both, false);
	auto only1 = namespaces({1});
	// Once the registry forgets it, apply forgets it as well.
	f.s.apply(only1, false);
	EXPECT_EQ(f.s.entry(2), nullptr);
	r = f.s.restore(only1);
	EXPECT_EQ(r.restored, 1u);
	EXPECT_TRUE(r.failed.empty());
}

TEST(NetnsSysctl, AbsentSysctlIsAbsentNotAnError)
{
	Fixture f; // no values: a kernel without tcp_shrink_window
	auto ns = namespaces({1, 2});
	for (int i = 0; i < 5; ++i) {
		auto c = f.s.apply(ns, false);
		EXPECT_EQ(c.failed, 0u);
		EXPECT_EQ(c.set, 0u);
	}
	const auto *e = f.s.entry(1);
	ASSERT_NE(e, nullptr);
	EXPECT_FALSE(e->exists);
	EXPECT_EQ(e->error, "");
	EXPECT_FALSE(e->changed);
	EXPECT_TRUE(f.k.writes.empty());
	EXPECT_EQ(f.s.report().counters.failed, 0u);
	EXPECT_EQ(f.s.restore(ns).restored, 0u);
}

TEST(NetnsSysctl, WriteFailureIsCountedAndReported)
{
	Fixture f;
	f.k.value = {{1, 0}};
	f.k.write_errno[1] = EPERM;
	auto ns = namespaces({1});
	auto c = f.s.apply(ns, false);
	EXPECT_EQ(c.failed, 1u);
	EXPECT_EQ(f.s.entry(1)->now, 0);
	EXPECT_FALSE(f.s.entry(1)->changed);
	EXPECT_NE(f.s.entry(1)->error.find("EPERM"), std::string::npos) << f.s.entry(1)->error;
	f.k.write_errno.clear();
	c = f.s.apply(ns, false);
	EXPECT_EQ(c.set, 1u);
	EXPECT_EQ(f.s.entry(1)->error, "");
}

// A thread in a network namespace of its own, alive until destroyed.
class NetnsThread {
public:
	NetnsThread()
	{
		t_ = std::thread([this] {
			int rc = unshare(CLONE_NEWNET);
			std::unique_lock l(m_);
			err_ = rc == 0 ? 0 : errno;
			tid_ = static_cast<pid_t>(syscall(SYS_gettid));
			cv_.notify_all();
			cv_.wait(l, [this] { return done_; });
		});
		std::unique_lock l(m_);
		cv_.wait(l, [this] { return tid_ != 0; });
	}
	~NetnsThread()
	{
		{
			std::lock_guard l(m_);
			done_ = true;
		}
		cv_.notify_all();
		t_.join();
	}
	int error() const { return err_; }
	std::string ns_path() const
	{
		return "/proc/" + std::to_string(getpid()) + "/task/" + std::to_string(tid_) +
		       "/ns/net";
	}

private:
	std::mutex m_;
	std::condition_variable cv_;
	pid_t tid_ = 0;
	int err_ = 0;
	bool done_ = false;
	std::thread t_;
};

// The real kernel: a fresh namespace starts at 0, gets 1, and gets 0 back.
TEST(NetnsSysctlReal, NewNamespaceSetAndRestored)
{
	if (geteuid() != 0)
		GTEST_SKIP() << "needs root";
	NetnsThread other;
	if (other.error())
		FAIL() << "unshare(CLONE_NEWNET) as root: " << other.error();
	char tmpl[] = "/tmp/rcvgov-sysctl-XXXXXX";
	std::string dir = mkdtemp(tmpl);
	std::filesystem::create_symlink(other.ns_path(), dir + "/other");
	netns::Registry reg(netns::Registry::Options{"", "", dir, std::chrono::seconds(10)},
			    netns::system_ops());
	reg.scan(1);
	std::filesystem::remove_all(dir);
	ASSERT_EQ(reg.size(), 1u) << reg.last_report().degraded;
	const netns::Namespace &ns = *reg.all()[0];

	auto ops = system_sysctl_ops();
	auto first = ops->read(ns);
	if (!first.ok() && first.error().errnum == ENOENT)
		GTEST_SKIP() << "kernel without net.ipv4.tcp_shrink_window";
	ASSERT_TRUE(first.ok()) << first.error().message;
	ASSERT_EQ(*first, 0) << "a new namespace starts at 0";

	NetnsSysctl s;
	auto c = s.apply(reg, false);
	EXPECT_EQ(c.set, 1u);
	EXPECT_EQ(*ops->read(ns), 1);
	ASSERT_TRUE(ops->write(ns, 0).ok()); // reset from inside
	c = s.apply(reg, false);
	EXPECT_EQ(c.refixed, 1u);
	EXPECT_EQ(*ops->read(ns), 1);
	auto r = s.restore(reg);
	EXPECT_EQ(r.restored, 1u);
	EXPECT_TRUE(r.failed.empty());
	EXPECT_EQ(*ops->read(ns), 0);
}

} // namespace
} // namespace rcvgov::enforce

// With a journal file: the change is journaled (original, where) before the
// write; restore() empties it; an original adopted from a previous rcvgovd
// wins over the value found now (that rcvgovd had set it to 1).
namespace rcvgov::enforce {
namespace {

struct JournalDir {
	std::string dir = [] {
		char t[] = "/tmp/rcvgov-sysctl-journal.XXXXXX";
		return std::string(mkdtemp(t));
	}();
	~JournalDir() { std::filesystem::remove_all(dir); }
	std::string path() const { return dir + "/journal"; }
};

TEST(NetnsSysctlJournal, ChangeIsJournaledBeforeTheWriteAndDroppedOnRestore)
{
	JournalDir d;
	journal::Journal j(d.path());
	FakeSysctl k;
	k.value = {{1, 0}, {2, 1}};
	// The journal must hold the entry when the kernel write happens.
	struct CheckingOps final : public SysctlOps {
		FakeOps inner;
		std::string path;
		bool journaled_first = false;
		CheckingOps(FakeSysctl &k, std::string p) : inner(k), path(std::move(p)) {}
		Result<int> read(const netns::Namespace &ns) override { return inner.read(ns); }
		Status write(const netns::Namespace &ns, int v) override
		{
			if (v == 1) {
				auto c = journal::load(path);
				journaled_first = c.ok() && c->has_value() &&
						  (*c)->sysctls.count(ns.cookie) &&
						  (*c)->sysctls.at(ns.cookie).before == 0;
			}
			return inner.write(ns, v);
		}
	};
	auto ops = std::make_unique<CheckingOps>(k, d.path());
	auto *raw = ops.get();
	NetnsSysctl s(std::move(ops));
	s.attach_journal(&j);
	auto ns = namespaces({1, 2});
	(void)s.apply(ns, false);
	EXPECT_TRUE(raw->journaled_first);
	ASSERT_EQ(j.contents().sysctls.size(), 1u); // only the one changed
	EXPECT_EQ(j.contents().sysctls.at(1).origin, "/proc/1/ns/net");
	auto r = s.restore(ns);
	EXPECT_EQ(r.restored, 1u);
	EXPECT_EQ(k.value[1], 0);
	EXPECT_TRUE(j.empty());
}

TEST(NetnsSysctlJournal, AdoptedOriginalWins)
{
	journal::Contents adopted;
	adopted.sysctls[1] = {.netns = 1, .origin = "/run/netns/x", .before = 0, .set = 1};
	journal::Journal j("", adopted);
	Fixture f;
	f.k.value = {{1, 1}}; // left at 1 by the crashed rcvgovd
	f.s.attach_journal(&j);
	auto ns = namespaces({1});
	(void)f.s.apply(ns, false);
	EXPECT_EQ(f.s.entry(1)->before, 0);
	EXPECT_TRUE(f.s.entry(1)->changed);
	(void)f.s.restore(ns);
	EXPECT_EQ(f.k.value[1], 0);
	EXPECT_TRUE(j.empty());
}

TEST(NetnsSysctlJournal, UnwritableJournalMeansNoChange)
{
	journal::Journal j("/nonexistent-dir-rcvgov/journal");
	Fixture f;
	f.k.value = {{1, 0}};
	f.s.attach_journal(&j);
	auto ns = namespaces({1});
	auto c = f.s.apply(ns, false);
	EXPECT_EQ(c.failed, 1u);
	EXPECT_EQ(f.k.value[1], 0);
	EXPECT_TRUE(f.k.writes.empty());
}

} // namespace
} // namespace rcvgov::enforce
