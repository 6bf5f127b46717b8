// Error values for the tracker. Nothing in the tracker throws (except
// std::bad_alloc) or aborts on bad input: a bad handle or an accounting
// error comes back as one of these, and the tracker stays consistent.
#pragma once

#include <cstdint>
#include <string_view>
#include <utility>
#include <variant>

namespace rcvgov::tracker {

enum class Error : uint8_t {
	// Nothing changed.
	StaleHandle,	 // null, removed, reused slot, or another tracker's handle
	UnknownCookie,	 // no participant has this socket cookie
	DuplicateCookie, // a participant with this cookie exists
	DuplicateKey,	 // the parent already has a child account with this key
	InvalidKind,	 // this kind of account cannot be made or go there
	DepthExceeded,	 // the account chain would be deeper than kMaxDepth
	Cycle,		 // an account cannot move under itself
	SystemAccount,	 // the system account cannot be removed, moved or a unit
	CapacityExceeded,
	NotPending, // settle(): no decision of this action is pending for it
	// Applied in a clamped form and counted as an anomaly (see Stats).
	ReleaseBelowZero, // usage floored at zero
	Overflow,	  // usage saturated at the per-socket maximum
};

std::string_view to_string(Error e);

class [[nodiscard]] Status {
public:
	Status() = default;
	Status(Error e) : ok_(false), error_(e) {}
	bool ok() const { return ok_; }
	explicit operator bool() const { return ok_; }
	Error error() const { return error_; }
	friend bool operator==(const Status &a, const Status &b)
	{
		return a.ok_ == b.ok_ && (a.ok_ || a.error_ == b.error_);
	}

private:
	bool ok_ = true;
	Error error_ = Error::StaleHandle;
};

// A value or an Error (std::expected is C++23).
template <class T> class [[nodiscard]] Expected {
public:
	Expected(T v) : v_(std::move(v)) {}
	Expected(Error e) : v_(e) {}
	bool has_value() const { return v_.index() == 0; }
	explicit operator bool() const { return has_value(); }
	// Precondition: has_value(). std::get checks it and throws otherwise.
	T &value() { return std::get<0>(v_); }
	const T &value() const { return std::get<0>(v_); }
	T &operator*() { return value(); }
	const T &operator*() const { return value(); }
	T *operator->() { return &value(); }
	const T *operator->() const { return &value(); }
	Error error() const { return has_value() ? Error::StaleHandle : std::get<1>(v_); }
	Status status() const { return has_value() ? Status() : Status(std::get<1>(v_)); }

private:
	std::variant<T, Error> v_;
};

} // namespace rcvgov::tracker
