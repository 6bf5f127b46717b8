// Decoding of what the BPF programs send: ring buffer events and iter/tcp
// snapshot records. Bytes come from the kernel and are checked, not trusted.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <vector>

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

struct DecodeError {
	std::string message;
};

// One ring buffer record. Errors name the size or type that was wrong.
std::optional<Event> decode_event(std::span<const uint8_t> bytes, DecodeError &err);

// A whole iter/tcp read: a concatenation of fixed-size records.
std::optional<std::vector<SocketInfo>> decode_snapshot(std::span<const uint8_t> bytes,
						       DecodeError &err);

} // namespace rcvgov
