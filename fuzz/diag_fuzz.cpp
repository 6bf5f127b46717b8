// libFuzzer harness: NETLINK_SOCK_DIAG datagrams as rcvgovd receives them in
// sock_diag mode: a dump (detail::process_dump_datagram), the answer to a
// single-socket lookup before a destroy (detail::process_lookup_datagram),
// and one inet_diag message on its own (parse_inet_diag).
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <linux/netlink.h>
#include <vector>

#include "diag/sock_diag.h"

using namespace rcvgov::diag;

namespace {

void check(const DiagSocket &s)
{
	// parse_inet_diag accepts inet families only.
	if (s.family != 2 && s.family != 10)
		std::abort();
	(void)s.reader_position();
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	// recv() fills a 32 KiB buffer; a datagram is never longer.
	if (size > 32768)
		return 0;
	// The daemon's receive buffer is a std::vector: suitably aligned for
	// nlmsghdr. The copy is exactly `size` bytes, so ASan sees any read
	// past the datagram.
	std::vector<uint8_t> buf(data, data + size);
	const void *p = buf.data();

	// The dump and the lookup filter on the request's sequence number and
	// the socket's port id: take them from the first message so that the
	// fuzzer reaches the parsers, while later messages may still differ.
	uint32_t seq = 0, portid = 0;
	if (size >= sizeof(nlmsghdr)) {
		nlmsghdr h;
		std::memcpy(&h, p, sizeof(h));
		seq = h.nlmsg_seq;
		portid = h.nlmsg_pid;
	}

	std::vector<DiagSocket> out;
	detail::DatagramOutcome o = detail::process_dump_datagram(p, size, seq, portid, out);
	if (!o.status && o.status.error().message.empty())
		std::abort();
	for (const auto &s : out)
		check(s);

	if (auto r = detail::process_lookup_datagram(p, size, seq, portid); r && *r)
		check(**r);

	// It checks the length before it reads the header (or a null pointer).
	if (auto r = parse_inet_diag(static_cast<const nlmsghdr *>(p), size); r)
		check(*r);
	return 0;
}
