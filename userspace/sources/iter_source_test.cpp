#include <fcntl.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <algorithm>
#include <cstring>
#include <functional>
#include <thread>
#include <vector>

#include "core/abi.h"
#include "core/event.h"
#include "sources/source.h"

namespace rcvgov {
namespace {

std::vector<uint8_t> records(uint64_t n)
{
	std::vector<uint8_t> out(n * sizeof(rcvgov_snapshot_rec));
	for (uint64_t i = 0; i < n; ++i) {
		rcvgov_snapshot_rec r{};
		r.id.cookie = 1000 + i;
		r.id.family = 2;
		r.rmem_alloc = static_cast<uint32_t>(i);
		r.state = 1;
		std::memcpy(out.data() + i * sizeof(r), &r, sizeof(r));
	}
	return out;
}

// Writes bytes to a pipe in pieces of `piece` bytes (records split across
// reads), reads them with a buffer of `buf_bytes`.
Status run(const std::vector<uint8_t> &bytes, size_t piece, size_t buf_bytes, SocketTable &t,
	   const std::function<void()> &between = {})
{
	int p[2];
	EXPECT_EQ(pipe2(p, O_CLOEXEC), 0);
	std::thread w([&] {
		for (size_t off = 0; off < bytes.size(); off += piece) {
			size_t n = std::min(piece, bytes.size() - off);
			EXPECT_EQ(write(p[1], bytes.data() + off, n), static_cast<ssize_t>(n));
		}
		close(p[1]);
	});
	std::vector<uint8_t> buf(buf_bytes);
	t.begin_round();
	Status st = read_snapshot_records(p[0], buf, t, between);
	t.end_round();
	w.join();
	close(p[0]);
	return st;
}

TEST(ReadSnapshotRecords, SplitReadsAllDecoded)
{
	for (size_t piece : {size_t{1000}, size_t{37}, sizeof(rcvgov_snapshot_rec)}) {
		SocketTable t;
		ASSERT_TRUE(run(records(500), piece, 64 * 1024, t).ok());
		ASSERT_EQ(t.size(), 500u);
		EXPECT_EQ(t.find(1499)->rmem_alloc, 499u);
	}
	SocketTable one; // a buffer of one record, and a bit
	ASSERT_TRUE(run(records(50), 100, sizeof(rcvgov_snapshot_rec) + 7, one).ok());
	EXPECT_EQ(one.size(), 50u);
}

// Between chunks the table holds every record read so far, and the hook
// may change it (an event applied mid-scan) without losing the scan's own.
TEST(ReadSnapshotRecords, BetweenChunksSeesTheTableSoFar)
{
	SocketTable t;
	std::vector<size_t> sizes;
	auto between = [&] {
		sizes.push_back(t.size());
		Event e;
		e.type = EventType::Inflation;
		e.cookie = 99; // a socket the scan does not list (yet)
		t.apply(e);
	};
	const size_t chunk = 10 * sizeof(rcvgov_snapshot_rec);
	ASSERT_TRUE(run(records(45), chunk, chunk, t, between).ok());
	ASSERT_GE(sizes.size(), 5u);
	EXPECT_TRUE(std::is_sorted(sizes.begin(), sizes.end()));
	EXPECT_EQ(sizes.front(), 10u);
	EXPECT_EQ(t.size(), 46u);
	EXPECT_NE(t.find(1044), nullptr);
	EXPECT_NE(t.find(99), nullptr) << "an event of this round survives its end";
}

TEST(ReadSnapshotRecords, TruncatedRecordIsAnError)
{
	auto bytes = records(3);
	bytes.resize(bytes.size() - 5);
	SocketTable t;
	Status st = run(bytes, 64, 4096, t);
	ASSERT_FALSE(st.ok());
	EXPECT_NE(st.error().message.find("ends inside a record"), std::string::npos);
	EXPECT_EQ(t.size(), 2u);
}

} // namespace
} // namespace rcvgov
