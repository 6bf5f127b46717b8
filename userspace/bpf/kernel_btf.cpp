#include "bpf/kernel_btf.h"

#include <bpf/btf.h>
#include <cerrno>
#include <stdexcept>
#include <unistd.h>

#include "common/errno_text.h"

namespace rcvgov::bpf {

void KernelBtf::Free::operator()(struct btf *b) const
{
	btf__free(b);
}

KernelBtf KernelBtf::load()
{
	if (access("/sys/kernel/btf/vmlinux", R_OK) != 0)
		throw std::runtime_error("/sys/kernel/btf/vmlinux: " + errno_text(errno) +
					 ": this kernel was built without CONFIG_DEBUG_INFO_BTF, "
					 "so CO-RE programs cannot be loaded");
	struct btf *b = btf__load_vmlinux_btf();
	if (!b)
		throw std::runtime_error("reading kernel BTF: " + errno_text(errno));
	return KernelBtf(b);
}

bool KernelBtf::has_func(const std::string &name) const
{
	return btf__find_by_name_kind(btf_.get(), name.c_str(), BTF_KIND_FUNC) >= 0;
}

bool KernelBtf::has_tracepoint(const std::string &name) const
{
	// tp_btf programs attach through the btf_trace_<name> typedef.
	std::string tn = "btf_trace_" + name;
	return btf__find_by_name_kind(btf_.get(), tn.c_str(), BTF_KIND_TYPEDEF) >= 0;
}

bool KernelBtf::has_struct(const std::string &name) const
{
	return btf__find_by_name_kind(btf_.get(), name.c_str(), BTF_KIND_STRUCT) >= 0;
}

std::optional<int64_t> KernelBtf::enum_value(const std::string &type, const std::string &name) const
{
	int id = btf__find_by_name_kind(btf_.get(), type.c_str(), BTF_KIND_ENUM);
	if (id < 0)
		return std::nullopt;
	const struct btf_type *t = btf__type_by_id(btf_.get(), static_cast<__u32>(id));
	const struct btf_enum *e = btf_enum(t);
	for (unsigned short i = 0; i < btf_vlen(t); i++, e++)
		if (name == btf__name_by_offset(btf_.get(), e->name_off))
			return e->val;
	return std::nullopt;
}

} // namespace rcvgov::bpf
