#include "bpf/observer.h"

#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <cerrno>
#include <spdlog/spdlog.h>
#include <stdexcept>
#include <string>
#include <unistd.h>

#include "bpf/kernel_btf.h"
#include "bpf/libbpf_log.h"
#include "common/errno_text.h"
#include "probe_fexit.skel.h"
#include "rcvgov.skel.h"

namespace rcvgov::bpf {

namespace {

struct SkelFree {
	void operator()(rcvgov_bpf *s) const { rcvgov_bpf__destroy(s); }
	void operator()(probe_fexit_bpf *s) const { probe_fexit_bpf__destroy(s); }
};
struct RingFree {
	void operator()(ring_buffer *rb) const { ring_buffer__free(rb); }
};

// need_caps: EPERM here means missing privileges (and not, as for the fexit
// trial, a kernel that refuses the attach type), so say which ones.
std::string fail(const std::string &what, int err, bool need_caps = false)
{
	std::string msg = what + ": " + errno_text(err);
	if (err == EPERM && need_caps)
		msg += ": rcvgovd needs CAP_BPF, CAP_PERFMON and CAP_NET_ADMIN (or root)";
	// The first libbpf warning names the failing program and the cause.
	std::string head = libbpf_log_head(1);
	if (!head.empty())
		msg += " [" + head + "]";
	return msg;
}

TrialResult try_fexit(const char *func)
{
	QuietLibbpf quiet;
	libbpf_log_mark();
	std::unique_ptr<probe_fexit_bpf, SkelFree> skel(probe_fexit_bpf__open());
	if (!skel)
		return {false, fail("open probe object", errno)};
	int err = bpf_program__set_attach_target(skel->progs.probe_exit, 0, func);
	if (err)
		return {false, fail("set target", -err)};
	err = probe_fexit_bpf__load(skel.get());
	if (err)
		return {false, fail("load", -err)};
	err = probe_fexit_bpf__attach(skel.get());
	if (err)
		return {false, fail("attach", -err)};
	return {true, {}};
}

} // namespace

const char *stat_name(uint32_t stat)
{
	static constexpr const char *names[RCVGOV_STAT__MAX] = {
		"events_submitted", "events_dropped", "events_ratelimited", "storage_failures",
		"inflations",	    "overshoots",     "autotune_grows",	    "events_over_budget"};
	return stat < RCVGOV_STAT__MAX ? names[stat] : "unknown";
}

KernelFeatures detect_features(bool allow_fexit)
{
	KernelBtf btf = KernelBtf::load();
	KernelFeatures f;
	f.func_tcp_try_coalesce = btf.has_func("tcp_try_coalesce");
	f.func_tcp_clamp_window = btf.has_func("tcp_clamp_window");
	f.func_tcp_try_rmem_schedule = btf.has_func("tcp_try_rmem_schedule");
	auto trial = [&](bool in_btf, const char *fn) {
		if (!in_btf)
			return TrialResult{false, "not in BTF"};
		if (!allow_fexit)
			return TrialResult{false, "disabled by --no-fexit"};
		return try_fexit(fn);
	};
	f.fexit_tcp_try_coalesce = trial(f.func_tcp_try_coalesce, "tcp_try_coalesce");
	f.fexit_tcp_clamp_window = trial(f.func_tcp_clamp_window, "tcp_clamp_window");
	f.fexit_tcp_try_rmem_schedule =
		trial(f.func_tcp_try_rmem_schedule, "tcp_try_rmem_schedule");
	f.tp_tcp_rcvbuf_prune = btf.has_tracepoint("tcp_rcvbuf_prune");
	// the action bits are an ABI read from BTF, not hard-coded here
	auto raised = btf.enum_value("tcp_rcvbuf_prune_action", "TCP_RCVBUF_RAISED");
	if (raised && *raised > 0 && *raised <= UINT32_MAX)
		f.prune_raised_flag = static_cast<uint32_t>(*raised);
	f.tp_tcp_probe = btf.has_tracepoint("tcp_probe");
	f.tp_tcp_rcvbuf_grow = btf.has_tracepoint("tcp_rcvbuf_grow");
	f.tp_tcp_rcv_space_adjust = btf.has_tracepoint("tcp_rcv_space_adjust");
	f.tp_sock_recv_length = btf.has_tracepoint("sock_recv_length");
	f.tp_inet_sock_set_state = btf.has_tracepoint("inet_sock_set_state");
	f.iter_tcp = btf.has_struct("bpf_iter__tcp");
	return f;
}

namespace {

struct RingCtx {
	Observer::EventHandler handler;
	size_t budget_left = 0; // in this consume() call
};

} // namespace

struct Observer::Impl {
	AttachPlan plan;
	std::unique_ptr<rcvgov_bpf, SkelFree> skel;
	RingCtx ctx;
	std::unique_ptr<ring_buffer, RingFree> ring;
	int ncpus = 0;
	uint64_t loss_checked_ns = 0;
	LossReport loss_report;
};

namespace {

// libbpf 1.1 has no ring_buffer__consume_n(). A negative return from the
// callback makes ring_buffer__consume() stop after this event, which it
// has already consumed (the consumer position moves past it first).
constexpr int kBudgetSpent = -ENOSPC;

int ring_cb(void *ctx, void *data, size_t size)
{
	auto *c = static_cast<RingCtx *>(ctx);
	c->handler(std::span<const uint8_t>(static_cast<const uint8_t *>(data), size));
	return --c->budget_left == 0 ? kBudgetSpent : 0;
}

bool valid_ring_bytes(uint32_t n)
{
	long page = sysconf(_SC_PAGESIZE);
	return n >= static_cast<uint32_t>(page) && (n & (n - 1)) == 0;
}

} // namespace

Observer::Observer(const ObserverOptions &opts, EventHandler on_event) : impl_(new Impl)
{
	install_libbpf_logger();
	KernelFeatures feat = detect_features(opts.allow_fexit);
	impl_->plan = plan_attach(feat);
	const AttachPlan &plan = impl_->plan;
	if (!plan.fatal.empty())
		throw std::runtime_error(plan.fatal);

	libbpf_log_mark();
	impl_->skel.reset(rcvgov_bpf__open());
	if (!impl_->skel)
		throw std::runtime_error(fail("opening the BPF object", errno, true));
	rcvgov_bpf *s = impl_->skel.get();

	s->rodata->rl_events_per_sec = opts.events_per_sec_per_socket;
	s->rodata->lifecycle_events_per_sec = opts.lifecycle_events_per_sec;
	if (!valid_ring_bytes(opts.ring_bytes))
		throw std::runtime_error("ring buffer size " + std::to_string(opts.ring_bytes) +
					 ": not a power of two of at least one page");
	bpf_map__set_max_entries(s->maps.events, opts.ring_bytes);
	s->rodata->probe_checks_overshoot = plan.probe_checks_overshoot;
	s->rodata->clamp_source = plan.clamp_target == "tcp_clamp_window"
					  ? RCVGOV_SRC_FEXIT_TCP_CLAMP_WINDOW
					  : RCVGOV_SRC_FEXIT_TCP_TRY_RMEM_SCHEDULE;

	bpf_program__set_autoload(s->progs.coalesce_exit, plan.coalesce_fexit);
	bpf_program__set_autoload(s->progs.clamp_enter, plan.clamp_fentry);
	bpf_program__set_autoload(s->progs.clamp_exit, plan.clamp_fentry);
	if (plan.clamp_fentry && plan.clamp_target != "tcp_try_rmem_schedule") {
		bpf_program__set_attach_target(s->progs.clamp_enter, 0, plan.clamp_target.c_str());
		bpf_program__set_attach_target(s->progs.clamp_exit, 0, plan.clamp_target.c_str());
	}
	s->rodata->prune_raised_flag = plan.prune_raised_flag;
	bpf_program__set_autoload(s->progs.tcp_rcvbuf_prune, plan.rcvbuf_prune);
	bpf_program__set_autoload(s->progs.tcp_probe, plan.tcp_probe);
	bpf_program__set_autoload(s->progs.tcp_rcvbuf_grow, plan.rcvbuf_grow);
	bpf_program__set_autoload(s->progs.tcp_rcv_space_adjust, plan.rcv_space_adjust);
	bpf_program__set_autoload(s->progs.sock_recv_length, plan.sock_recv_length);
	bpf_program__set_autoload(s->progs.inet_sock_set_state, plan.inet_sock_set_state);

	int err = rcvgov_bpf__load(s);
	if (err)
		throw std::runtime_error(fail("loading the BPF programs", -err, true));
	err = rcvgov_bpf__attach(s);
	if (err)
		throw std::runtime_error(fail("attaching the BPF programs", -err, true));

	impl_->ctx.handler = std::move(on_event);
	impl_->ring.reset(
		ring_buffer__new(bpf_map__fd(s->maps.events), ring_cb, &impl_->ctx, nullptr));
	if (!impl_->ring)
		throw std::runtime_error(fail("creating the ring buffer reader", errno));
	impl_->ncpus = libbpf_num_possible_cpus();
	if (impl_->ncpus <= 0)
		throw std::runtime_error(fail("counting possible CPUs", -impl_->ncpus));
	for (const auto &p : plan.paths)
		spdlog::info("hook {}: {}{}{}", p.hook, p.path, p.reason.empty() ? "" : " — ",
			     p.reason);
}

Observer::~Observer() = default;

int Observer::event_fd() const
{
	return ring_buffer__epoll_fd(impl_->ring.get());
}

int Observer::consume(size_t budget)
{
	if (budget == 0)
		return 0;
	impl_->ctx.budget_left = budget;
	int rc = ring_buffer__consume(impl_->ring.get());
	if (rc == kBudgetSpent)
		return static_cast<int>(budget);
	return rc;
}

std::optional<Observer::Loss> Observer::check_loss(uint64_t now_ns, uint64_t min_interval_ns)
{
	if (impl_->loss_checked_ns != 0 && now_ns - impl_->loss_checked_ns < min_interval_ns)
		return std::nullopt;
	impl_->loss_checked_ns = now_ns;
	auto st = stats();
	Loss l{st[RCVGOV_STAT_EV_DROPPED], st[RCVGOV_STAT_EV_OVER_BUDGET], std::nullopt};
	l.report = impl_->loss_report.update(l.dropped, l.over_budget, now_ns);
	return l;
}

const std::vector<HookPath> &Observer::paths() const
{
	return impl_->plan.paths;
}

std::array<uint64_t, RCVGOV_STAT__MAX> Observer::stats() const
{
	std::array<uint64_t, RCVGOV_STAT__MAX> out{};
	std::vector<uint64_t> percpu(impl_->ncpus);
	int fd = bpf_map__fd(impl_->skel->maps.stats);
	for (uint32_t k = 0; k < RCVGOV_STAT__MAX; ++k) {
		if (bpf_map_lookup_elem(fd, &k, percpu.data()) != 0)
			continue;
		for (uint64_t v : percpu)
			out[k] += v;
	}
	return out;
}

Result<UniqueFd> Observer::open_snapshot() const
{
	bpf_link *link = impl_->skel->links.snapshot;
	if (!link)
		return Error::msg("iter/tcp link missing", ENOENT);
	int fd = bpf_iter_create(bpf_link__fd(link));
	if (fd < 0)
		return Error::sys(errno, "bpf_iter_create (iter/tcp snapshot)");
	return UniqueFd(fd);
}

} // namespace rcvgov::bpf
