// libFuzzer harness: what the BPF programs hand to userspace. Ring-buffer
// records (decode_event) and iter/tcp snapshot reads (decode_snapshot) are
// bytes from the kernel, checked rather than trusted; whatever decodes is
// rendered the way rcvgovctl receives it (to_json, then serialized as the
// control server does).
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <nlohmann/json.hpp>
#include <span>
#include <string>

#include "core/event.h"
#include "core/format.h"

using namespace rcvgov;

namespace {

void render(const nlohmann::json &j)
{
	(void)j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	// libFuzzer passes a heap buffer of exactly `size` bytes: ASan sees any
	// read past the end.
	std::span<const uint8_t> bytes(data, size);

	Result<Event> ev = decode_event(bytes);
	if (ev) {
		render(to_json(*ev));
		(void)format_endpoint(ev->local);
		(void)format_endpoint(ev->peer);
	}

	size_t delivered = 0;
	Status st = decode_snapshot(bytes, [&](SocketInfo &&s) {
		++delivered;
		render(to_json(s, s.updated_ns));
		(void)format_bytes(s.rmem_alloc);
		(void)tcp_state_name(s.state);
	});
	if (st && size > 0 && delivered == 0)
		std::abort(); // a non-empty snapshot that decodes delivers records
	return 0;
}
