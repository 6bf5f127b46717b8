#include "journal/journal.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <filesystem>
#include <fstream>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

namespace rcvgov::journal {
namespace {

struct TempDir {
	std::string dir = [] {
		char t[] = "/tmp/rcvgov-journal-test.XXXXXX";
		return std::string(mkdtemp(t));
	}();
	~TempDir() { std::filesystem::remove_all(dir); }
	std::string path() const { return dir + "/journal"; }
};

Endpoint ep4(const char *a, uint16_t port)
{
	Endpoint e;
	e.family = AF_INET;
	inet_pton(AF_INET, a, e.addr.data());
	e.port = port;
	return e;
}

Contents sample()
{
	Contents c;
	c.pid = 4242;
	c.sysctls[4096] = {.netns = 4096,
			   .dev = 4,
			   .ino = 4026532281,
			   .origin = "/run/netns/with space \"quoted\"",
			   .before = 0,
			   .set = 1};
	c.sysctls[8192] = {.netns = 8192, .dev = 4, .ino = 7, .origin = "/proc/1/ns/net"};
	ClampEntry cl;
	cl.cookie = 8812;
	cl.netns = 4096;
	cl.local = ep4("10.0.0.2", 80);
	cl.peer = ep4("10.0.0.1", 5000);
	cl.before = 65535;
	cl.set = 32768;
	cl.done = true;
	c.clamps[cl.cookie] = cl;
	ClampEntry v6 = cl;
	v6.cookie = 9;
	v6.local.family = v6.peer.family = AF_INET6;
	inet_pton(AF_INET6, "fd00::2", v6.local.addr.data());
	inet_pton(AF_INET6, "fd00::1", v6.peer.addr.data());
	v6.done = false;
	c.clamps[v6.cookie] = v6;
	return c;
}

TEST(Journal, RoundTrip)
{
	Contents c = sample();
	auto back = parse(serialize(c), "j");
	ASSERT_TRUE(back.ok()) << back.error().message;
	EXPECT_EQ(*back, c);
	Contents empty;
	auto e = parse(serialize(empty), "j");
	ASSERT_TRUE(e.ok());
	EXPECT_TRUE(e->empty());
}

TEST(Journal, StoreLoadRemove)
{
	TempDir d;
	auto none = load(d.path());
	ASSERT_TRUE(none.ok());
	EXPECT_FALSE(none->has_value());
	ASSERT_TRUE(store(d.path(), sample()).ok());
	struct stat st;
	ASSERT_EQ(stat(d.path().c_str(), &st), 0);
	EXPECT_EQ(st.st_mode & 0777, 0600u);
	EXPECT_NE(access((d.path() + ".tmp").c_str(), F_OK), 0); // renamed away
	auto got = load(d.path());
	ASSERT_TRUE(got.ok()) << got.error().message;
	ASSERT_TRUE(got->has_value());
	EXPECT_EQ(**got, sample());
	ASSERT_TRUE(remove(d.path()).ok());
	EXPECT_FALSE(load(d.path())->has_value());
	EXPECT_TRUE(remove(d.path()).ok()); // absent is fine
}

// Each damaged form is an Error naming the file and what is wrong.
TEST(Journal, TornOrGarbageIsAClearError)
{
	const std::string good = serialize(sample());
	struct Case {
		std::string text, expect;
	};
	std::vector<Case> cases = {
		{"", "empty journal"},
		{good.substr(0, good.size() - 1), "no newline"},
		{good.substr(0, good.rfind("{\"end\"")), "no \"end\" line"},
		{"\x01\x02garbage\n", "not a JSON object"},
		{"{\"rcvgov_journal\":99,\"pid\":1}\n{\"end\":0}\n", "unknown journal version"},
		{"{\"rcvgov_journal\":1,\"pid\":1}\n{\"end\":3}\n", "counts 3 entries, 0 read"},
		{"{\"rcvgov_journal\":1,\"pid\":1}\n{\"sysctl\":\"net.ipv4.tcp_shrink_window\","
		 "\"netns\":-1}\n{\"end\":1}\n",
		 ":2: \"netns\" is negative"},
		{"{\"rcvgov_journal\":1,\"pid\":1}\n{\"clamp\":1,\"netns\":2,\"family\":2,"
		 "\"local\":\"nope\",\"lport\":1,\"peer\":\"1.2.3.4\",\"pport\":2,\"before\":1,"
		 "\"set\":1,\"done\":true}\n{\"end\":1}\n",
		 "\"nope\" is not an address"},
		{"{\"rcvgov_journal\":1,\"pid\":1}\n{\"what\":1}\n{\"end\":1}\n", "unknown entry"},
		{good + "{\"end\":0}\n", "data after the \"end\" line"},
	};
	for (const auto &c : cases) {
		auto r = parse(c.text, "/run/rcvgov/journal");
		ASSERT_FALSE(r.ok()) << c.text;
		EXPECT_NE(r.error().message.find("/run/rcvgov/journal"), std::string::npos)
			<< r.error().message;
		EXPECT_NE(r.error().message.find(c.expect), std::string::npos)
			<< "wanted \"" << c.expect << "\" in: " << r.error().message;
	}
	// Random bytes never crash the parser.
	std::string noise;
	for (int i = 0; i < 4096; ++i)
		noise.push_back(static_cast<char>((i * 2654435761u) >> 13));
	for (size_t cut = 0; cut < good.size(); cut += 7)
		(void)parse(good.substr(0, cut) + noise.substr(0, cut % 97), "x");
}

TEST(Journal, GarbageFileLoadsAsError)
{
	TempDir d;
	std::ofstream(d.path()) << "{\"rcvgov_journal\":1,\"pid\":1}\n{\"sysctl\":";
	auto r = load(d.path());
	ASSERT_FALSE(r.ok());
	EXPECT_NE(r.error().message.find(d.path()), std::string::npos);
}

TEST(Journal, FirstOriginalWinsAndCommitOnlyWhenChanged)
{
	TempDir d;
	Journal j(d.path());
	EXPECT_TRUE(j.commit().ok());
	EXPECT_NE(access(d.path().c_str(), F_OK), 0); // nothing to write yet
	j.note_sysctl({.netns = 1, .origin = "a", .before = 0, .set = 1});
	j.note_sysctl({.netns = 1, .origin = "b", .before = 1, .set = 1});
	EXPECT_EQ(j.sysctl_before(1), 0);
	EXPECT_EQ(j.contents().sysctls.at(1).origin, "b");
	ASSERT_TRUE(j.commit().ok());
	auto on_disk = load(d.path());
	ASSERT_TRUE(on_disk.ok() && on_disk->has_value());
	EXPECT_EQ((*on_disk)->pid, static_cast<uint32_t>(getpid()));
	EXPECT_EQ((*on_disk)->sysctls.at(1).before, 0);

	ClampEntry e;
	e.cookie = 5;
	e.netns = 1;
	e.before = 100;
	e.set = 50;
	e.local = e.peer = ep4("10.0.0.1", 1);
	j.note_clamp(e);
	e.before = 50; // clamped again: already ours
	j.note_clamp(e);
	EXPECT_EQ(j.contents().clamps.at(5).before, 100u);
	j.clamp_done(5, 99); // the kernel's value replaces the snapshot's
	EXPECT_EQ(j.contents().clamps.at(5).before, 99u);
	EXPECT_TRUE(j.contents().clamps.at(5).done);
	j.clamp_done(5, 50); // done once: kept
	EXPECT_EQ(j.contents().clamps.at(5).before, 99u);
	ASSERT_TRUE(j.commit().ok());
	EXPECT_EQ((*load(d.path()))->clamps.at(5).before, 99u);

	ASSERT_TRUE(j.discard().ok());
	EXPECT_TRUE(j.empty());
	EXPECT_NE(access(d.path().c_str(), F_OK), 0);
}

// Nothing is synced, so a power loss may tear the journal; but a journal of
// an earlier boot describes nothing that exists any more, torn or not.
TEST(Journal, AJournalOfAnEarlierBootIsIgnored)
{
	ASSERT_FALSE(current_boot_id().empty()) << "no /proc/sys/kernel/random/boot_id";
	TempDir d;
	Contents c = sample();
	c.boot = "00000000-0000-0000-0000-000000000000";
	std::string text = serialize(c);
	for (std::string cut : {text, text.substr(0, text.size() - 12)}) {
		FILE *f = fopen(d.path().c_str(), "w");
		ASSERT_TRUE(f);
		fputs(cut.c_str(), f);
		fclose(f);
		auto got = load(d.path());
		ASSERT_TRUE(got.ok()) << got.error().message;
		EXPECT_FALSE(got->has_value());
	}
	// The same torn file of this boot is an error.
	c.boot = current_boot_id();
	text = serialize(c);
	FILE *f = fopen(d.path().c_str(), "w");
	ASSERT_TRUE(f);
	fputs(text.substr(0, text.size() - 12).c_str(), f);
	fclose(f);
	EXPECT_FALSE(load(d.path()).ok());
}

TEST(Journal, AdoptedEntriesAreWrittenWithOurPid)
{
	TempDir d;
	Contents c = sample();
	Journal j(d.path(), c);
	EXPECT_EQ(j.sysctl_before(4096), 0);
	ASSERT_TRUE(j.commit().ok());
	auto back = load(d.path());
	ASSERT_TRUE(back.ok() && back->has_value());
	EXPECT_EQ((*back)->pid, static_cast<uint32_t>(getpid()));
	EXPECT_EQ((*back)->boot, current_boot_id());
	EXPECT_EQ((*back)->sysctls, c.sysctls);
}

} // namespace
} // namespace rcvgov::journal
