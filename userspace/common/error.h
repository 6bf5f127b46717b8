// The one error type of rcvgov's system-facing code (diag/, netns/,
// enforce/, sources/, event decoding), after oomd's SystemMaybe: an errno
// (0 when none applies) and a message that says what failed and, where it
// can, what to do. Functions return Result<T> (a T or an Error) or Status
// (nothing or an Error); nothing in those folders reports failure through
// out-parameters, bool + string& pairs, or empty-message conventions.
//
// The tracker keeps its own small enum (tracker/result.h): it is pure
// accounting, never fails for a system reason, and its codes are counted.
#pragma once

#include <cerrno>
#include <string>
#include <utility>
#include <variant>

#include "common/errno_text.h"

namespace rcvgov {

struct Error {
	int errnum = 0;	     // errno behind it, 0 when none
	std::string message; // never empty

	// "what: strerror (ENAME)" for a failed system call.
	static Error sys(int err, const std::string &what)
	{
		return Error{err, what + ": " + errno_text(err)};
	}
	static Error msg(std::string m, int err = 0) { return Error{err, std::move(m)}; }
	// The same error with context in front: "context: message".
	Error wrap(const std::string &context) const
	{
		return Error{errnum, context + ": " + message};
	}
};

// A value or an Error (std::expected is C++23).
template <class T> class [[nodiscard]] Result {
public:
	Result(T v) : v_(std::in_place_index<0>, std::move(v)) {}
	Result(Error e) : v_(std::in_place_index<1>, std::move(e)) {}

	bool ok() const { return v_.index() == 0; }
	explicit operator bool() const { return ok(); }
	// Preconditions: ok() for value(), !ok() for error(); std::get checks.
	T &value() & { return std::get<0>(v_); }
	const T &value() const & { return std::get<0>(v_); }
	T &&value() && { return std::get<0>(std::move(v_)); }
	T &operator*() & { return value(); }
	const T &operator*() const & { return value(); }
	T *operator->() { return &value(); }
	const T *operator->() const { return &value(); }
	const Error &error() const { return std::get<1>(v_); }

private:
	std::variant<T, Error> v_;
};

// Success or an Error.
class [[nodiscard]] Status {
public:
	Status() = default;
	Status(Error e) : err_(std::move(e)), ok_(false) {}
	static Status success() { return Status(); }

	bool ok() const { return ok_; }
	explicit operator bool() const { return ok_; }
	const Error &error() const { return err_; }

private:
	Error err_;
	bool ok_ = true;
};

} // namespace rcvgov
