// Handles to the tracker's accounts and participants: plain values, never
// pointers. A handle names a slot, the slot's generation when the handle was
// made, and the tracker that made it; the tracker checks all three on every
// use, so a handle to something removed (or to another tracker's object, or
// held after its tracker is gone and a new one took its place) is an
// Error::StaleHandle, never a reach into someone else's memory.
#pragma once

#include <cstdint>

namespace rcvgov::tracker {

template <class Tag> struct Handle {
	static constexpr uint32_t kNone = UINT32_MAX;
	uint32_t index = kNone;
	uint32_t generation = 0;
	uint32_t tracker = 0;

	bool is_null() const { return index == kNone; }
	friend bool operator==(const Handle &, const Handle &) = default;
};

struct AccountTag;
struct ParticipantTag;
using AccountId = Handle<AccountTag>;
using ParticipantId = Handle<ParticipantTag>;

} // namespace rcvgov::tracker
