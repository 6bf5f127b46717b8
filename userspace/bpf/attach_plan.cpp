#include "bpf/attach_plan.h"

namespace rcvgov::bpf {

namespace {

std::string why_not_fexit(const char *func, bool in_btf, const TrialResult &t)
{
	if (!in_btf)
		return std::string(func) + " is not in kernel BTF (inlined or absent)";
	if (!t.ok)
		return std::string("fexit on ") + func + " refused: " + t.error;
	return {};
}

} // namespace

AttachPlan plan_attach(const KernelFeatures &f)
{
	AttachPlan p;

	if (!f.iter_tcp) {
		p.fatal = "kernel has no bpf_iter__tcp (iter/tcp needs 5.9+ with "
			  "CONFIG_BPF_SYSCALL)";
		return p;
	}
	p.paths.push_back({"snapshot", "iter/tcp", true, ""});

	// tcp_probe is the generic per-segment check point for every fallback.
	p.tcp_probe = f.tp_tcp_probe;

	if (f.func_tcp_try_coalesce && f.fexit_tcp_try_coalesce.ok) {
		p.coalesce_fexit = true;
		p.paths.push_back({"coalesce", "fexit/tcp_try_coalesce", true, ""});
	} else {
		std::string why = why_not_fexit("tcp_try_coalesce", f.func_tcp_try_coalesce,
						f.fexit_tcp_try_coalesce);
		if (f.tp_tcp_probe) {
			p.probe_checks_overshoot = true;
			p.paths.push_back({"coalesce", "tp_btf/tcp_probe", false, why});
		} else {
			p.paths.push_back({"coalesce", "none", false,
					   why + "; no tcp_probe tracepoint either"});
		}
	}

	// The kernel's own report of the clamp decision is exact and needs no
	// trampoline: take it first wherever the series is applied.
	std::string no_tp = "no tcp_rcvbuf_prune tracepoint (rcvgov kernel series)";
	if (f.tp_tcp_rcvbuf_prune && f.prune_raised_flag == 0)
		no_tp = "tcp_rcvbuf_prune has no enum tcp_rcvbuf_prune_action "
			"TCP_RCVBUF_RAISED in BTF (older revision of the series)";
	if (f.tp_tcp_rcvbuf_prune && f.prune_raised_flag != 0) {
		p.rcvbuf_prune = true;
		p.prune_raised_flag = f.prune_raised_flag;
		p.paths.push_back({"clamp", "tp_btf/tcp_rcvbuf_prune", true, ""});
	} else if (f.func_tcp_clamp_window && f.fexit_tcp_clamp_window.ok) {
		p.clamp_fentry = true;
		p.clamp_target = "tcp_clamp_window";
		p.paths.push_back({"clamp", "fentry+fexit/tcp_clamp_window", false, no_tp});
	} else {
		std::string why = no_tp + "; " +
				  why_not_fexit("tcp_clamp_window", f.func_tcp_clamp_window,
						f.fexit_tcp_clamp_window);
		if (f.func_tcp_try_rmem_schedule && f.fexit_tcp_try_rmem_schedule.ok) {
			p.clamp_fentry = true;
			p.clamp_target = "tcp_try_rmem_schedule";
			p.paths.push_back({"clamp", "fentry+fexit/tcp_try_rmem_schedule", false,
					   why + "; its caller is traced instead"});
		} else {
			why += "; " + why_not_fexit("tcp_try_rmem_schedule",
						    f.func_tcp_try_rmem_schedule,
						    f.fexit_tcp_try_rmem_schedule);
			p.paths.push_back({"clamp",
					   f.tp_tcp_probe ? "tp_btf/tcp_probe (rcvbuf rise without "
							    "window_clamp rise)"
							  : "iter/tcp (rcvbuf rise without "
							    "window_clamp rise)",
					   false, why});
		}
	}

	if (f.tp_tcp_rcvbuf_grow) {
		p.rcvbuf_grow = true;
		p.paths.push_back({"autotune", "tp_btf/tcp_rcvbuf_grow", true, ""});
	} else if (f.tp_tcp_rcv_space_adjust) {
		p.rcv_space_adjust = true;
		p.paths.push_back({"autotune", "tp_btf/tcp_rcv_space_adjust", false,
				   "no tcp_rcvbuf_grow tracepoint (added in 6.16)"});
	} else {
		p.paths.push_back({"autotune", "none", false,
				   "neither tcp_rcvbuf_grow nor tcp_rcv_space_adjust tracepoint"});
	}

	if (f.tp_sock_recv_length) {
		p.sock_recv_length = true;
		p.paths.push_back({"reader", "tp_btf/sock_recv_length", true, ""});
	} else {
		// tcp_rcv_space_adjust runs at the end of every recvmsg in the
		// reader's context: the next best reader hook, and it names the
		// owner too.
		p.rcv_space_adjust = f.tp_tcp_rcv_space_adjust;
		std::string path = p.rcv_space_adjust ? "tp_btf/tcp_rcv_space_adjust + " : "";
		path += f.tp_tcp_probe ? "tp_btf/tcp_probe + iter/tcp (copied_seq)"
				       : "iter/tcp (copied_seq)";
		p.paths.push_back(
			{"reader", path, false, "no sock_recv_length tracepoint (added in 6.3)"});
	}

	if (f.tp_inet_sock_set_state) {
		p.inet_sock_set_state = true;
		p.paths.push_back({"lifecycle", "tp_btf/inet_sock_set_state", true, ""});
	} else {
		p.paths.push_back({"lifecycle", "iter/tcp (snapshot diff)", false,
				   "no inet_sock_set_state tracepoint"});
	}
	return p;
}

} // namespace rcvgov::bpf
