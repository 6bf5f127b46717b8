// Which program serves each hook on this kernel. Pure: the loader fills in
// KernelFeatures from BTF and from trial loads, and plan_attach() decides,
// so the decision table is unit-tested without a kernel.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace rcvgov::bpf {

struct TrialResult {
	bool ok = false;
	std::string error; // why not, when !ok
};

struct KernelFeatures {
	bool func_tcp_try_coalesce = false;
	bool func_tcp_clamp_window = false;
	bool func_tcp_try_rmem_schedule = false;
	TrialResult fexit_tcp_try_coalesce;
	TrialResult fexit_tcp_clamp_window;
	TrialResult fexit_tcp_try_rmem_schedule;
	bool tp_tcp_rcvbuf_prune = false; // added by patches/linux-*/0003
	// TCP_RCVBUF_RAISED from the kernel's enum tcp_rcvbuf_prune_action; 0 when
	// the enum is not in BTF (an older revision of the series)
	uint32_t prune_raised_flag = 0;
	bool tp_tcp_probe = false;
	bool tp_tcp_rcvbuf_grow = false;
	bool tp_tcp_rcv_space_adjust = false;
	bool tp_sock_recv_length = false;
	bool tp_inet_sock_set_state = false;
	bool iter_tcp = false;
};

struct HookPath {
	std::string hook; // coalesce, clamp, autotune, reader, lifecycle, snapshot
	std::string path; // the program that serves it, or "none"
	bool first_choice = false;
	std::string reason; // why this path and not the first choice
};

struct AttachPlan {
	bool coalesce_fexit = false;
	bool clamp_fentry = false;
	bool rcvbuf_prune = false;
	uint32_t prune_raised_flag = 0; // for the tcp_rcvbuf_prune program
	std::string clamp_target;	// tcp_clamp_window or tcp_try_rmem_schedule
	bool tcp_probe = false;
	bool probe_checks_overshoot = false;
	bool rcvbuf_grow = false;
	bool rcv_space_adjust = false;
	bool sock_recv_length = false;
	bool inet_sock_set_state = false;
	std::vector<HookPath> paths;
	// Set when BPF observation is impossible on this kernel.
	std::string fatal;
};

AttachPlan plan_attach(const KernelFeatures &f);

} // namespace rcvgov::bpf
