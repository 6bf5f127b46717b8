#include "bpf/attach_plan.h"

#include <gtest/gtest.h>

namespace rcvgov::bpf {
namespace {

const HookPath &hook(const AttachPlan &p, const std::string &name)
{
	for (const auto &h : p.paths)
		if (h.hook == name)
			return h;
	throw std::runtime_error("no hook " + name);
}

KernelFeatures debian_61()
{
	// Debian 6.1 cloud: fexit works, tcp_clamp_window inlined, no
	// tcp_rcvbuf_grow nor sock_recv_length tracepoints.
	KernelFeatures f;
	f.func_tcp_try_coalesce = f.func_tcp_try_rmem_schedule = true;
	f.fexit_tcp_try_coalesce = f.fexit_tcp_try_rmem_schedule = {true, ""};
	f.tp_tcp_probe = f.tp_tcp_rcv_space_adjust = f.tp_inet_sock_set_state = true;
	f.iter_tcp = true;
	return f;
}

KernelFeatures host_618()
{
	// The project's host: every tracepoint, fexit refused.
	KernelFeatures f;
	f.func_tcp_try_coalesce = f.func_tcp_try_rmem_schedule = true;
	f.fexit_tcp_try_coalesce = f.fexit_tcp_try_rmem_schedule = {false, "EPERM"};
	f.tp_tcp_probe = f.tp_tcp_rcvbuf_grow = f.tp_tcp_rcv_space_adjust = true;
	f.tp_sock_recv_length = f.tp_inet_sock_set_state = f.iter_tcp = true;
	return f;
}

AttachPlan debian_61_plan()
{
	return plan_attach(debian_61());
}

TEST(AttachPlan, Debian61UsesFexit)
{
	auto p = plan_attach(debian_61());
	ASSERT_TRUE(p.fatal.empty());
	EXPECT_TRUE(p.coalesce_fexit);
	EXPECT_FALSE(p.probe_checks_overshoot);
	EXPECT_EQ(hook(p, "coalesce").path, "fexit/tcp_try_coalesce");
	EXPECT_TRUE(hook(p, "coalesce").first_choice);
	EXPECT_TRUE(p.clamp_fentry);
	EXPECT_EQ(p.clamp_target, "tcp_try_rmem_schedule");
	EXPECT_NE(hook(p, "clamp").reason.find("inlined"), std::string::npos);
	EXPECT_TRUE(p.rcv_space_adjust);
	EXPECT_FALSE(p.rcvbuf_grow);
	EXPECT_FALSE(p.sock_recv_length);
	EXPECT_EQ(hook(p, "reader").path,
		  "tp_btf/tcp_rcv_space_adjust + tp_btf/tcp_probe + iter/tcp (copied_seq)");
}

TEST(AttachPlan, HostFallsBackToTracepoints)
{
	auto p = plan_attach(host_618());
	ASSERT_TRUE(p.fatal.empty());
	EXPECT_FALSE(p.coalesce_fexit);
	EXPECT_TRUE(p.probe_checks_overshoot);
	EXPECT_EQ(hook(p, "coalesce").path, "tp_btf/tcp_probe");
	EXPECT_NE(hook(p, "coalesce").reason.find("EPERM"), std::string::npos);
	EXPECT_FALSE(p.clamp_fentry);
	EXPECT_NE(hook(p, "clamp").path.find("window_clamp"), std::string::npos);
	EXPECT_TRUE(p.rcvbuf_grow);
	EXPECT_FALSE(p.rcv_space_adjust) << "one autotuning hook is enough";
	EXPECT_TRUE(p.sock_recv_length);
	EXPECT_TRUE(p.inet_sock_set_state);
}

TEST(AttachPlan, ClampWindowPreferredWhenTraceable)
{
	auto f = debian_61();
	f.func_tcp_clamp_window = true;
	f.fexit_tcp_clamp_window = {true, ""};
	auto p = plan_attach(f);
	EXPECT_EQ(p.clamp_target, "tcp_clamp_window");
	EXPECT_EQ(hook(p, "clamp").path, "fentry+fexit/tcp_clamp_window");
}

TEST(AttachPlan, SeriesTracepointIsTheFirstChoiceForTheClamp)
{
	auto f = debian_61();
	f.tp_tcp_rcvbuf_prune = true;
	f.prune_raised_flag = 0x40;
	auto p = plan_attach(f);
	EXPECT_TRUE(p.rcvbuf_prune);
	EXPECT_EQ(p.prune_raised_flag, 0x40u) << "the BTF value, passed on as is";
	EXPECT_FALSE(p.clamp_fentry) << "one clamp hook is enough";
	EXPECT_EQ(hook(p, "clamp").path, "tp_btf/tcp_rcvbuf_prune");
	EXPECT_TRUE(hook(p, "clamp").first_choice);
	EXPECT_NE(hook(debian_61_plan(), "clamp").reason.find("tcp_rcvbuf_prune"),
		  std::string::npos);
}

TEST(AttachPlan, NoIteratorIsFatal)
{
	auto f = host_618();
	f.iter_tcp = false;
	auto p = plan_attach(f);
	EXPECT_NE(p.fatal.find("bpf_iter__tcp"), std::string::npos);
}

TEST(AttachPlan, NothingButIterator)
{
	KernelFeatures f;
	f.iter_tcp = true;
	auto p = plan_attach(f);
	EXPECT_TRUE(p.fatal.empty());
	EXPECT_EQ(hook(p, "coalesce").path, "none");
	EXPECT_EQ(hook(p, "lifecycle").path, "iter/tcp (snapshot diff)");
	EXPECT_FALSE(p.tcp_probe);
}

} // namespace

TEST(AttachPlan, SeriesTracepointWithoutActionEnumIsNotUsed)
{
	auto f = debian_61();
	f.tp_tcp_rcvbuf_prune = true; // flag values unknown: cannot tell RAISED
	auto p = plan_attach(f);
	EXPECT_FALSE(p.rcvbuf_prune);
	EXPECT_EQ(p.prune_raised_flag, 0u);
	EXPECT_NE(hook(p, "clamp").path, "tp_btf/tcp_rcvbuf_prune");
	EXPECT_NE(hook(p, "clamp").reason.find("tcp_rcvbuf_prune_action"), std::string::npos);
}

} // namespace rcvgov::bpf
