// What the running kernel offers, read from its BTF: functions that can be
// traced (not inlined), tracepoints with BTF args, kernel structs.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>

struct btf;

namespace rcvgov::bpf {

class KernelBtf {
public:
	// Throws std::runtime_error naming the file and what to do.
	static KernelBtf load();

	bool has_func(const std::string &name) const;
	bool has_tracepoint(const std::string &name) const;
	bool has_struct(const std::string &name) const;
	// Value of enumerator `name` of `enum type`, if the kernel has both.
	std::optional<int64_t> enum_value(const std::string &type, const std::string &name) const;

private:
	struct Free {
		void operator()(struct btf *b) const;
	};
	explicit KernelBtf(struct btf *b) : btf_(b) {}
	std::unique_ptr<struct btf, Free> btf_;
};

} // namespace rcvgov::bpf
