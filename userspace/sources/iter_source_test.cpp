#include <fcntl.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <cstring>
#include <thread>
#include <vector>

#include "core/abi.h"
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
Status run(const std::vector<uint8_t> &bytes, size_t piece, size_t buf_bytes, SocketTable &t)
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
	Status st = read_snapshot_records(p[0], buf, t);
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
