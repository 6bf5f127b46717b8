// Decoding of what the BPF programs send: ring buffer events and iter/tcp
// snapshot records. Bytes come from the kernel and are checked, not trusted.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "common/error.h"
#include "core/socket_info.h"

namespace rcvgov {

enum class EventType : uint32_t {
	Inflation = 1,
	Overshoot = 2,
	Established = 3,
	Closed = 4,
};

std::string_view event_type_name(EventType t);
std::optional<EventType> event_type_from_name(std::string_view name);
std::string_view source_name(uint32_t source);

struct Event {
	EventType type{};
	uint32_t source = 0;
	uint64_t ts_ns = 0;
	uint64_t cookie = 0;
	Endpoint local;
	Endpoint peer;
	Owner owner;
	uint32_t rmem_alloc = 0;
	uint32_t rcvbuf_before = 0;
	uint32_t rcvbuf_after = 0;
	uint32_t autotuned_rcvbuf = 0;
	uint32_t inflations = 0;
	uint64_t inflation_bytes = 0;
	uint32_t overshoots = 0;
	uint8_t rcv_wscale = 0;
};

// One ring buffer record. Errors name the size or type that was wrong.
Result<Event> decode_event(std::span<const uint8_t> bytes);

// iter/tcp snapshot records: bytes must be a whole number of records (a
// caller reading in chunks carries a partial record over to the next
// chunk). Each decoded record goes to sink, in order, without a copy of the
// whole snapshot. On a bad record the error names its index; the records
// before it have been delivered.
Status decode_snapshot(std::span<const uint8_t> bytes,
		       const std::function<void(SocketInfo &&)> &sink);

} // namespace rcvgov
