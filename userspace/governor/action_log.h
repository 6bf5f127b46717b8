// The audit trail: every clamp, destroy and dry-run "would have" the
// governor handed to an actuator, with the wall-clock time it happened, the
// scope whose limit caused it, the numbers behind the decision and what the
// kernel answered. A bounded ring in memory (the oldest record goes for a
// new one); rcvgovctl reads it over the control socket (`events --type
// action`). Plain values: daemon/audit_json.cpp turns them into JSON.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "enforce/actuator.h"
#include "tracker/decision.h"

namespace rcvgov::governor {

// What became of an action, as the audit trail names it.
enum class ActionResult : uint8_t {
	Ok,	 // in place (clamped and rcvbuf locked / destroyed)
	Error,	 // the kernel refused (errnum, error)
	DryRun,	 // recorded only: --dry-run or a tripped breaker
	Skipped, // the at-destroy re-check found the reader progressing
	Gone,	 // the socket went before the action
};
std::string_view to_string(ActionResult r);

struct ActionRecord {
	uint64_t seq = 0;     // 1, 2, ...: assigned by ActionLog::add, never reused
	uint64_t wall_ns = 0; // CLOCK_REALTIME when the actuator answered
	std::string action;   // "clamp", "destroy"
	ActionResult result = ActionResult::Ok;
	int errnum = 0;	    // Error: the errno
	std::string error;  // Error/Skipped/Gone: the errno's text and the detail
	std::string reason; // "over-limit", "inflated"
	std::string path;   // what triggered it: "event" (an inflation) or "round"
	std::string via;    // how the actuator reached the socket (ActResult::via)
	uint64_t cookie = 0;
	uint64_t netns_cookie = 0;
	std::string local, peer;
	// The scope whose limit was exceeded ("system", "service", "peer",
	// "socket") and its key ("" for system and socket).
	std::string scope;
	std::string scope_key;
	// The socket's service: its cgroup v2 path, or "netns:<cookie>" for a
	// socket of the root (or an unknown) cgroup.
	std::string service;
	uint64_t limit = 0;	  // the scope's limit
	uint64_t scope_usage = 0; // the scope's usage when decided
	uint64_t usage = 0;	  // the socket's receive memory when decided
	// How long its oldest data had waited with the reader making no
	// progress when decided; none: not stalled. A lower bound when the
	// socket already held data when first seen.
	std::optional<uint64_t> data_age_ms;
	bool data_age_lower_bound = false;
	// Clamp: window clamp before and after, the rcvbuf lock. Destroy:
	// receive memory freed in `before`.
	uint32_t before = 0, after = 0, rcvbuf_locked = 0;
};

// CLOCK_REALTIME in nanoseconds.
uint64_t wall_ns();
// RFC 3339 in UTC with milliseconds: "2026-12-02T12:15:29.123Z".
std::string rfc3339_ms(uint64_t wall_ns);

// The record of one action as the actuator answered it, at wall_ns()
// (scope_key, service, path and data_age_lower_bound are the caller's:
// they need the tracker and the socket table). dry_run: the dry-run
// actuator acted, whatever the result says.
ActionRecord action_record(const tracker::Decision &d, const enforce::Action &a,
			   const enforce::ActResult &r, bool dry_run);

class ActionLog {
public:
	explicit ActionLog(size_t capacity = 1024) : capacity_(capacity) {}

	// Keeps the newest `capacity` records (0: none, only counted).
	void set_capacity(size_t capacity);
	// Stamps r.seq and keeps it; returns the seq.
	uint64_t add(ActionRecord r);

	size_t capacity() const { return capacity_; }
	size_t size() const { return ring_.size(); }
	// Every record ever added (kept or dropped since).
	uint64_t total() const { return next_seq_ - 1; }
	// The i-th kept record, oldest first (i < size()).
	const ActionRecord &at(size_t i) const;
	// The newest kept record about this socket, or null.
	const ActionRecord *latest_for(uint64_t cookie) const;

private:
	size_t capacity_;
	std::vector<ActionRecord> ring_; // a circular buffer once full
	size_t head_ = 0;		 // the oldest record, once full
	uint64_t next_seq_ = 1;
};

} // namespace rcvgov::governor
