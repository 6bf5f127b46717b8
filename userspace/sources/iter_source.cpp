#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <vector>

#include "bpf/observer.h"
#include "core/abi.h"
#include "core/event.h"
#include "sources/source.h"

namespace rcvgov {

namespace {

constexpr size_t kRecord = sizeof(rcvgov_snapshot_rec);
// 64 KiB rounded down to whole records: one read() is decoded and upserted
// before the next, so memory does not grow with the number of sockets.
constexpr size_t kChunk = (64 * 1024 / kRecord) * kRecord;

class IterTcpSource final : public SnapshotSource {
public:
	explicit IterTcpSource(bpf::Observer &observer) : observer_(observer), buf_(kChunk) {}

	std::string_view name() const override { return "iter/tcp"; }

	Status collect(SocketTable &table, uint64_t /*now_ns: records carry their own*/) override
	{
		Result<UniqueFd> fd = observer_.open_snapshot();
		if (!fd)
			return fd.error();
		return read_snapshot_records(fd->get(), buf_, table, between_);
	}

private:
	bpf::Observer &observer_;
	std::vector<uint8_t> buf_;
};

} // namespace

Status read_snapshot_records(int fd, std::span<uint8_t> buf, SocketTable &table,
			     const std::function<void()> &between)
{
	if (buf.size() < kRecord)
		return Error::msg("snapshot buffer smaller than one record", EINVAL);
	buf = buf.first(buf.size() - buf.size() % kRecord);
	auto sink = [&](SocketInfo &&s) { table.upsert(std::move(s)); };
	// A read may end inside a record: the tail is carried to the front and
	// completed by the next read.
	size_t have = 0;
	for (;;) {
		ssize_t n = ::read(fd, buf.data() + have, buf.size() - have);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return Error::sys(errno, "reading the iter/tcp snapshot");
		}
		if (n == 0)
			break;
		have += static_cast<size_t>(n);
		const size_t whole = have - have % kRecord;
		if (Status st = decode_snapshot({buf.data(), whole}, sink); !st)
			return st.error().wrap("iter/tcp snapshot");
		std::memmove(buf.data(), buf.data() + whole, have - whole);
		have -= whole;
		if (between)
			between();
	}
	if (have != 0)
		return Error::msg("iter/tcp snapshot ends inside a record (" +
					  std::to_string(have) + " of " + std::to_string(kRecord) +
					  " bytes)",
				  EBADMSG);
	return {};
}

std::unique_ptr<SnapshotSource> make_iter_source(bpf::Observer &observer)
{
	return std::make_unique<IterTcpSource>(observer);
}

} // namespace rcvgov
