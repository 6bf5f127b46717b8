#include "governor/action_log.h"

#include <cstdio>
#include <ctime>

#include "common/errno_text.h"
#include "core/format.h"

namespace rcvgov::governor {

std::string_view to_string(ActionResult r)
{
	switch (r) {
	case ActionResult::Ok: return "ok";
	case ActionResult::Error: return "error";
	case ActionResult::DryRun: return "dry_run";
	case ActionResult::Skipped: return "skipped";
	case ActionResult::Gone: return "gone";
	}
	return "?";
}

uint64_t wall_ns()
{
	timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return static_cast<uint64_t>(ts.tv_sec) * 1000000000ULL + ts.tv_nsec;
}

std::string rfc3339_ms(uint64_t ns)
{
	const time_t secs = static_cast<time_t>(ns / 1000000000ULL);
	const unsigned ms = static_cast<unsigned>(ns / 1000000ULL % 1000);
	tm t{};
	gmtime_r(&secs, &t);
	char buf[96];
	std::snprintf(buf, sizeof(buf), "%04d-%02d-%02dT%02d:%02d:%02d.%03uZ", t.tm_year + 1900,
		      t.tm_mon + 1, t.tm_mday, t.tm_hour, t.tm_min, t.tm_sec, ms);
	return buf;
}

ActionRecord action_record(const tracker::Decision &d, const enforce::Action &a,
			   const enforce::ActResult &r, bool dry_run)
{
	ActionRecord rec;
	rec.wall_ns = wall_ns();
	rec.action = enforce::to_string(a.kind);
	rec.reason = tracker::to_string(d.reason);
	rec.cookie = d.cookie;
	rec.netns_cookie = a.target.netns_cookie;
	rec.local = format_endpoint(a.target.local);
	rec.peer = format_endpoint(a.target.peer);
	rec.scope = tracker::to_string(d.scope);
	rec.limit = d.limit;
	rec.scope_usage = d.scope_usage;
	rec.usage = d.usage;
	if (d.age)
		rec.data_age_ms = static_cast<uint64_t>(
			std::chrono::duration_cast<std::chrono::milliseconds>(*d.age).count());
	rec.before = r.before;
	rec.after = r.after;
	rec.rcvbuf_locked = r.rcvbuf_after;
	rec.errnum = r.errnum;
	rec.error = r.detail;
	rec.via = r.via;
	switch (dry_run ? enforce::Outcome::DryRun : r.outcome) {
	case enforce::Outcome::Done: rec.result = ActionResult::Ok; break;
	case enforce::Outcome::DryRun: rec.result = ActionResult::DryRun; break;
	case enforce::Outcome::Skipped: rec.result = ActionResult::Skipped; break;
	case enforce::Outcome::Gone: rec.result = ActionResult::Gone; break;
	case enforce::Outcome::Failed:
		rec.result = ActionResult::Error;
		// The errno's text first, unless the detail already says it.
		if (r.errnum && rec.error.find(errno_text(r.errnum)) == std::string::npos)
			rec.error =
				errno_text(r.errnum) + (rec.error.empty() ? "" : ": ") + rec.error;
		break;
	}
	return rec;
}

void ActionLog::set_capacity(size_t capacity)
{
	if (capacity == capacity_)
		return;
	// Oldest first, then keep the newest `capacity`.
	std::vector<ActionRecord> kept;
	const size_t n = size();
	const size_t from = n > capacity ? n - capacity : 0;
	kept.reserve(n - from);
	for (size_t i = from; i < n; ++i)
		kept.push_back(std::move(ring_[(head_ + i) % n]));
	ring_ = std::move(kept);
	head_ = 0;
	capacity_ = capacity;
}

uint64_t ActionLog::add(ActionRecord r)
{
	r.seq = next_seq_++;
	if (capacity_ == 0)
		return r.seq;
	if (ring_.size() < capacity_) {
		ring_.push_back(std::move(r));
	} else {
		ring_[head_] = std::move(r);
		head_ = (head_ + 1) % capacity_;
	}
	return next_seq_ - 1;
}

const ActionRecord &ActionLog::at(size_t i) const
{
	return ring_[(head_ + i) % ring_.size()];
}

const ActionRecord *ActionLog::latest_for(uint64_t cookie) const
{
	for (size_t i = size(); i-- > 0;)
		if (at(i).cookie == cookie)
			return &at(i);
	return nullptr;
}

} // namespace rcvgov::governor
