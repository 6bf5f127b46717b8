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

} // namespace rcvgov::bpf
