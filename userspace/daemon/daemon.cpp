#include "daemon/daemon.h"

#include <algorithm>
#include <cerrno>
#include <csignal>
#include <cstring>
#include <ctime>
#include <map>
#include <spdlog/spdlog.h>
#include <stdexcept>
#include <sys/epoll.h>
#include <sys/signalfd.h>
#include <sys/timerfd.h>
#include <unistd.h>
#include <vector>

#include "bpf/observer.h"
#include "common/clock.h"
#include "common/error.h"
#include "config/reload.h"
#include "control/control.h"
#include "control/protocol.h"
#include "core/event.h"
#include "core/format.h"
#include "core/socket_table.h"
#include "daemon/audit_json.h"
#include "daemon/scan_gate.h"
#include "daemon/sd_notify.h"
#include "daemon/startup_line.h"
#include "daemon/status_json.h"
#include "enforce/bpf_actuator.h"
#include "enforce/cgroup_paths.h"
#include "enforce/diag_actuator.h"
#include "enforce/netns_sysctl.h"
#include "governor/governor.h"
#include "journal/journal.h"
#include "metrics/metrics.h"
#include "netns/netns.h"
#include "sources/source.h"

namespace rcvgov {

namespace {

// Ring-buffer events handled per wakeup (and per snapshot chunk): the fd
// stays readable while more wait, so an event storm cannot starve the
// timers and the control socket.
constexpr size_t kEventsPerWakeup = 1024;

// Sets (or changes, on reload) a timerfd's period, keeping its fd in epoll.
void set_period(const UniqueFd &fd, uint32_t ms)
{
	itimerspec its{};
	its.it_interval.tv_sec = ms / 1000;
	its.it_interval.tv_nsec = (ms % 1000) * 1000000L;
	its.it_value = its.it_interval;
	if (timerfd_settime(fd.get(), 0, &its, nullptr) != 0)
		throw std::runtime_error("timerfd_settime: " + errno_text(errno));
}

UniqueFd periodic_timer(uint32_t ms)
{
	UniqueFd fd(timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC | TFD_NONBLOCK));
	if (!fd)
		throw std::runtime_error("timerfd_create: " + errno_text(errno));
	set_period(fd, ms);
	return fd;
}

} // namespace

struct Daemon::Impl {
	DaemonOptions opts;
	std::unique_ptr<bpf::Observer> observer;
	std::string bpf_error; // why BPF is not in use
	netns::Registry registry;
	std::unique_ptr<SnapshotSource> source;
	SocketTable table;
	enforce::CgroupPaths cgroups;
	std::unique_ptr<control::Server> server;
	// Every kernel change is journaled here before it is made; outlives
	// the governor.
	std::unique_ptr<journal::Journal> journal;
	std::unique_ptr<governor::Governor> governor;
	metrics::Metrics metrics; // /metrics, served from its own threads
	SdNotifier notifier = SdNotifier::from_env();
	UniqueFd epoll, sigfd, timer, netns_timer, watchdog_timer;
	uint64_t started_ns = mono_ns();
	std::map<std::string, uint64_t> counters;
	double last_snapshot_ms = 0;
	uint64_t last_full_ns = 0;   // end of the last full snapshot
	std::string_view gate_why;   // why the last tick scanned or not
	std::vector<uint64_t> react; // sockets that events want acted on now
	std::string last_snapshot_error;
	std::string last_netns_degraded;
	uint64_t window_inflations = 0;
	uint64_t window_start_ns = mono_ns();

	void start_observers();
	governor::Actuators make_actuators();
	void on_event(std::span<const uint8_t> bytes);
	void scan_namespaces();
	void snapshot();
	void tick();
	void react_now();
	void refresh_if_stale();
	void reload();
	void summarize(uint64_t now);
	void notify(const Status &st);
	std::string status_line() const;
	nlohmann::json handle(const nlohmann::json &req);
	DaemonFacts facts() const;
	nlohmann::json status() const;
};

void Daemon::Impl::on_event(std::span<const uint8_t> bytes)
{
	Result<Event> ev = decode_event(bytes);
	if (!ev.ok()) {
		++counters["decode_errors"];
		spdlog::warn("dropping a malformed event: {}", ev.error().message);
		return;
	}
	++counters[std::string("events_") + std::string(event_type_name(ev->type))];
	table.apply(*ev);
	if (ev->type == EventType::Inflation || ev->type == EventType::Overshoot) {
		if (ev->type == EventType::Inflation)
			governor->note_trigger(ev->cookie, ev->ts_ns);
		if (opts.config.react_to_events)
			react.push_back(ev->cookie);
	}
	if (ev->type == EventType::Inflation) {
		++window_inflations;
		// The first inflation of a socket at info, later ones at debug; the
		// mark lives in the socket's table entry and goes with it.
		auto log_level = table.first_inflation_log(ev->cookie) ? spdlog::level::info
								       : spdlog::level::debug;
		spdlog::log(log_level,
			    "inflation socket={} local={} peer={} rcvbuf {} -> {} (autotuned {}) "
			    "rmem_alloc={} inflations={} owner={}/{} via {}",
			    ev->cookie, format_endpoint(ev->local), format_endpoint(ev->peer),
			    ev->rcvbuf_before, ev->rcvbuf_after, ev->autotuned_rcvbuf,
			    ev->rmem_alloc, ev->inflations, ev->owner.pid, ev->owner.comm.view(),
			    source_name(ev->source));
	}
}

void Daemon::Impl::notify(const Status &st)
{
	if (!st.ok())
		spdlog::warn("systemd notification: {}", st.error().message);
}

// The one-line STATUS= systemd shows.
std::string Daemon::Impl::status_line() const
{
	const auto gs = governor->status();
	return "mode " + gs.mode + ", " + std::to_string(table.size()) + " sockets, " +
	       format_bytes(gs.total) + " of max " + format_bytes(gs.limits.max) + ", " +
	       std::to_string(registry.size()) + " namespaces";
}

void Daemon::Impl::summarize(uint64_t now)
{
	if (now - window_start_ns < 10'000'000'000ULL)
		return;
	if (window_inflations)
		spdlog::info("{} rcvbuf inflations in the last 10 s; see `rcvgovctl sockets`",
			     window_inflations);
	window_inflations = 0;
	window_start_ns = now;
}

void Daemon::Impl::scan_namespaces()
{
	const netns::ScanReport &r = registry.scan(mono_ns());
	if (r.degraded != last_netns_degraded) {
		if (!r.degraded.empty())
			++counters["netns_scan_degraded"];
		last_netns_degraded = r.degraded;
	}
	governor->on_namespaces(registry);
}

// After a batch of events: targeted enforcement for the sockets they were
// about, once per batch however many events each had.
void Daemon::Impl::react_now()
{
	if (react.empty())
		return;
	std::sort(react.begin(), react.end());
	react.erase(std::unique(react.begin(), react.end()), react.end());
	governor->react(table, react, mono_ns());
	react.clear();
}

// The snapshot timer: a full snapshot and round unless the scan gate says
// nothing could be decided (daemon/scan_gate.h).
void Daemon::Impl::tick()
{
	GateInput in;
	in.events_live = observer != nullptr;
	if (auto m = read_tcp_memory(); m.ok())
		in.tcp_memory = *m;
	in.quiet_below = governor->quiet_below();
	in.governor_busy = governor->busy();
	const uint64_t now = mono_ns();
	in.since_full_ns = now - last_full_ns;
	in.resync_ns = uint64_t(opts.config.resync_ms) * 1000000ULL;
	GateDecision g = decide_scan(in);
	gate_why = g.why;
	if (!g.scan) {
		++counters["snapshots_skipped_quiet"];
		return;
	}
	snapshot();
}

// What `rcvgovctl status|sockets|resources` shows must not be older than
// one interval just because the scan gate skipped ticks: a client asking
// gets a full snapshot first when the last one is older (at most one per
// interval however many ask).
void Daemon::Impl::refresh_if_stale()
{
	if (mono_ns() - last_full_ns < uint64_t(opts.config.interval_ms) * 1000000ULL)
		return;
	++counters["snapshots_on_demand"];
	snapshot();
}

void Daemon::Impl::snapshot()
{
	uint64_t t0 = mono_ns();
	table.begin_round();
	std::string first_error;
	for (const auto &ns : registry.all()) {
		if (!registry.reachable(*ns))
			continue; // kept only for its restore data
		Status st = netns::run_in(*ns, [&] { return source->collect(table, mono_ns()); });
		if (!st.ok() && first_error.empty())
			first_error = ns->origin + ": " + st.error().message;
	}
	size_t gone = table.end_round();
	last_full_ns = mono_ns();
	last_snapshot_ms = static_cast<double>(last_full_ns - t0) / 1e6;
	if (!first_error.empty() && first_error != last_snapshot_error)
		spdlog::warn("snapshot: {}", first_error);
	last_snapshot_error = first_error;
	if (gone)
		spdlog::debug("{} sockets gone since the last snapshot", gone);
	++counters["snapshots"];
	governor->round(table, mono_ns());
	metrics.on_snapshot(table, *governor, last_snapshot_ms / 1e3, mono_ns());
	if (notifier.enabled())
		notify(notifier.status(status_line()));
}

void Daemon::Impl::reload()
{
	auto refuse = [&](const config::Errors &errs) {
		for (const auto &e : errs)
			spdlog::error("reload: {}", e.text());
		spdlog::error("reload: keeping the previous configuration");
		++counters["reload_failures"];
	};
	auto assembled = config::assemble(opts.config_path, opts.cli, opts.config_explicit);
	if (!assembled.ok())
		return refuse(assembled.errors());
	config::Config &cfg = assembled.value();
	// What cannot change without a restart keeps its running value; the
	// log line says so.
	config::ReloadChanges changes = config::reload_changes(opts.config, cfg);
	config::keep_restart_only(opts.config, cfg);
	auto limits = config::effective_limits(cfg, config::read_machine());
	if (auto *errs = std::get_if<config::Errors>(&limits))
		return refuse(*errs);
	try {
		governor->reconfigure(cfg, std::get<tracker::Limits>(std::move(limits)));
	} catch (const std::exception &e) {
		return refuse({config::Error{cfg.source, 0, "", e.what()}});
	}
	if (cfg.interval_ms != opts.config.interval_ms)
		set_period(timer, cfg.interval_ms);
	if (cfg.netns_scan_ms != opts.config.netns_scan_ms)
		set_period(netns_timer, cfg.netns_scan_ms);
	opts.config = std::move(cfg);
	metrics.configure(opts.config);
	++counters["reloads"];
	spdlog::info("reloaded {}: {}", opts.config.source, changes.summary());
}

DaemonFacts Daemon::Impl::facts() const
{
	DaemonFacts f;
	f.pid = getpid();
	f.uptime_s = (mono_ns() - started_ns) / 1000000000ULL;
	f.observer = observer.get();
	f.bpf_error = bpf_error;
	f.source = source ? std::string(source->name()) : "";
	f.counters = &counters;
	f.sockets_tracked = table.size();
	f.netns = &registry;
	f.config = &opts.config;
	f.last_snapshot_ms = last_snapshot_ms;
	f.last_snapshot_error = last_snapshot_error;
	f.last_full_age_ms = last_full_ns ? (mono_ns() - last_full_ns) / 1000000 : 0;
	f.scan_gate = std::string(gate_why);
	return f;
}

nlohmann::json Daemon::Impl::status() const
{
	return status_json(facts(), governor->status());
}

nlohmann::json Daemon::Impl::handle(const nlohmann::json &req)
{
	Result<control::Request> parsed = control::parse_request(req);
	if (!parsed.ok())
		throw std::runtime_error(parsed.error().message);
	const control::Request &cmd = *parsed;
	// A sample reads its socket afresh through sock_diag.
	if (cmd.command != control::Command::Events && cmd.command != control::Command::Sample)
		refresh_if_stale();
	switch (cmd.command) {
	case control::Command::Status: {
		nlohmann::json st = status();
		if (server)
			st["control"] = server->stats().to_json();
		st["metrics"] = metrics.status();
		return st;
	}
	case control::Command::Resources: return resources_json(governor->resources());
	case control::Command::Sockets: {
		// One page (control/protocol.h), largest receive memory first.
		uint64_t now = mono_ns();
		auto [begin, end] = control::page_bounds(cmd, table.size());
		std::vector<SocketInfo> top = table.top_by_rmem(end);
		nlohmann::json arr = nlohmann::json::array();
		for (size_t i = begin; i < top.size(); ++i) {
			auto j = to_json(top[i], now);
			annotate_socket(j, top[i], *governor);
			arr.push_back(std::move(j));
		}
		return control::make_page(std::move(arr), begin, table.size());
	}
	case control::Command::Sample: {
		Result<nlohmann::json> j = sample_json(cmd, table, registry, *governor);
		if (!j)
			throw std::runtime_error(j.error().message);
		return std::move(j).value();
	}
	case control::Command::Events: {
		if (cmd.actions)
			return actions_page(governor->actions(), cmd);
		std::vector<const Event *> all;
		for (EventType t : cmd.event_types)
			for (const auto &e : table.recent_events(t))
				all.push_back(&e);
		std::sort(all.begin(), all.end(),
			  [](const Event *a, const Event *b) { return a->ts_ns < b->ts_ns; });
		// One page counted from the newest (offset 0), in time order.
		auto [skip, upto] = control::page_bounds(cmd, all.size());
		nlohmann::json arr = nlohmann::json::array();
		for (size_t i = all.size() - upto; i < all.size() - skip; ++i)
			arr.push_back(to_json(*all[i]));
		return control::make_page(std::move(arr), skip, all.size());
	}
	}
	throw std::runtime_error("unhandled command");
}

void Daemon::Impl::start_observers()
{
	if (opts.force_sock_diag) {
		bpf_error = "BPF disabled by --sock-diag";
	} else {
		try {
			observer = std::make_unique<bpf::Observer>(
				bpf::ObserverOptions{opts.config.events_per_sec, opts.allow_fexit},
				[this](std::span<const uint8_t> b) { on_event(b); });
		} catch (const std::exception &e) {
			bpf_error = e.what();
		}
	}
	if (observer) {
		source = make_iter_source(*observer);
		// A reaction waits at most one chunk of a full scan, not all of
		// it (200 ms and more at 100 k sockets, P6 in docs/performance.md).
		source->set_between_chunks([this] {
			if (observer->consume(kEventsPerWakeup) > 0)
				react_now();
		});
		return;
	}
	spdlog::error("BPF observers unavailable: {}. Falling back to polling NETLINK_SOCK_DIAG "
		      "every {} ms: the socket view works, inflation and reader stalls are "
		      "inferred between polls and events are not reported.",
		      bpf_error, opts.config.interval_ms);
	source = make_diag_source();
}

governor::Actuators Daemon::Impl::make_actuators()
{
	governor::Actuators a;
	if (observer) {
		try {
			a.bpf = std::make_unique<enforce::BpfActuator>(registry);
		} catch (const std::exception &e) {
			spdlog::error("enforcement programs unavailable: {}; window clamps are off "
				      "and reclamation uses SOCK_DESTROY over sock_diag",
				      e.what());
		}
	}
	if (!a.bpf || !a.bpf->supports(enforce::Kind::Destroy))
		a.diag = std::make_unique<enforce::DiagActuator>(registry);
	return a;
}

Daemon::Daemon(DaemonOptions opts) : impl_(new Impl)
{
	impl_->opts = std::move(opts);
}

Daemon::~Daemon() = default;

int Daemon::run()
{
	Impl &d = *impl_;

	sigset_t mask;
	sigemptyset(&mask);
	// Every signal that would end the process ends it through shutdown().
	for (int sig : {SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGUSR1, SIGUSR2})
		sigaddset(&mask, sig);
	sigprocmask(SIG_BLOCK, &mask, nullptr);
	d.sigfd.reset(signalfd(-1, &mask, SFD_CLOEXEC | SFD_NONBLOCK));
	if (!d.sigfd)
		throw std::runtime_error("signalfd: " + errno_text(errno));

	d.start_observers();
	auto limits = config::effective_limits(d.opts.config, config::read_machine());
	if (auto *errs = std::get_if<std::vector<config::Error>>(&limits))
		throw std::runtime_error("configuration: " + errs->front().text());
	governor::Environment env;
	env.cgroup_path = [&d](uint64_t id) { return d.cgroups.path(id); };
	env.position_is_seq = d.observer != nullptr;
	// What a previous rcvgovd's restore could not put back stays in the
	// journal: its original values win over what is found now.
	journal::Contents adopted;
	if (!d.opts.journal_path.empty()) {
		auto loaded = journal::load(d.opts.journal_path);
		if (!loaded)
			throw std::runtime_error("journal: " + loaded.error().message);
		if (*loaded)
			adopted = std::move(**loaded);
	}
	d.journal = std::make_unique<journal::Journal>(d.opts.journal_path, std::move(adopted));
	auto sysctl = std::make_unique<enforce::NetnsSysctl>(enforce::system_sysctl_ops());
	sysctl->attach_journal(d.journal.get());
	d.governor = std::make_unique<governor::Governor>(
		d.opts.config, std::get<tracker::Limits>(std::move(limits)), d.make_actuators(),
		std::move(sysctl), std::move(env));
	d.governor->attach_journal(d.journal.get());
	d.metrics.configure(d.opts.config);

	auto server = control::Server::listen(
		d.opts.socket_path, [&d](const nlohmann::json &r) { return d.handle(r); });
	if (!server.ok())
		throw std::runtime_error(server.error().message);
	d.server = std::move(server).value();

	d.timer = periodic_timer(d.opts.config.interval_ms);
	// Namespaces are looked for more often than sockets are snapshotted:
	// a container that starts must get tcp_shrink_window=1 promptly.
	d.netns_timer = periodic_timer(d.opts.config.netns_scan_ms);
	// systemd's watchdog (WatchdogSec=): fed from this loop, so a stuck
	// loop gets the daemon restarted.
	if (uint64_t wd = d.notifier.watchdog_usec())
		d.watchdog_timer = periodic_timer(
			static_cast<uint32_t>(std::clamp<uint64_t>(wd / 2000, 1, UINT32_MAX)));

	d.epoll.reset(epoll_create1(EPOLL_CLOEXEC));
	if (!d.epoll)
		throw std::runtime_error("epoll_create1: " + errno_text(errno));
	auto watch = [&](int fd) {
		epoll_event ev{};
		ev.events = EPOLLIN;
		ev.data.fd = fd;
		if (epoll_ctl(d.epoll.get(), EPOLL_CTL_ADD, fd, &ev) != 0)
			throw std::runtime_error("epoll_ctl: " + errno_text(errno));
	};
	watch(d.sigfd.get());
	watch(d.timer.get());
	watch(d.netns_timer.get());
	if (d.watchdog_timer)
		watch(d.watchdog_timer.get());
	watch(d.server->fd());
	if (d.observer)
		watch(d.observer->event_fd());

	d.scan_namespaces();
	d.snapshot();
	d.metrics.update(d.facts(), *d.governor, mono_ns());
	const auto gs = d.governor->status();
	spdlog::info(
		"{}",
		startup_line({d.opts.config.source, gs.mode, gs.limits.max, gs.limits.low_water,
			      d.observer ? d.observer->paths() : std::vector<bpf::HookPath>{},
			      std::string(d.source->name()), d.table.size(), d.registry.size(),
			      d.opts.socket_path}));
	d.notify(d.notifier.ready(d.status_line()));

	for (;;) {
		epoll_event evs[8];
		int n = epoll_wait(d.epoll.get(), evs, 8, -1);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			throw std::runtime_error("epoll_wait: " + errno_text(errno));
		}
		for (int i = 0; i < n; ++i) {
			int fd = evs[i].data.fd;
			if (fd == d.sigfd.get()) {
				signalfd_siginfo si;
				while (read(fd, &si, sizeof(si)) == sizeof(si)) {
					if (si.ssi_signo == SIGHUP) {
						d.notify(d.notifier.reloading());
						d.reload();
						d.notify(d.notifier.ready(d.status_line()));
						continue;
					}
					spdlog::info("signal {}: detaching and exiting",
						     strsignal(static_cast<int>(si.ssi_signo)));
					d.notify(d.notifier.stopping());
					d.governor->shutdown(d.registry);
					return 0;
				}
			} else if (d.watchdog_timer && fd == d.watchdog_timer.get()) {
				uint64_t ticks;
				(void)!read(fd, &ticks, sizeof(ticks));
				d.notify(d.notifier.watchdog());
			} else if (fd == d.netns_timer.get()) {
				uint64_t ticks;
				(void)!read(fd, &ticks, sizeof(ticks));
				d.scan_namespaces();
			} else if (fd == d.timer.get()) {
				uint64_t ticks;
				(void)!read(fd, &ticks, sizeof(ticks));
				d.tick();
				d.metrics.update(d.facts(), *d.governor, mono_ns());
				d.summarize(mono_ns());
			} else if (fd == d.server->fd()) {
				d.server->dispatch();
			} else if (d.observer && fd == d.observer->event_fd()) {
				// A bounded batch (kEventsPerWakeup).
				int rc = d.observer->consume(kEventsPerWakeup);
				if (rc < 0 && rc != -EINTR)
					spdlog::warn("ring buffer: {}", errno_text(-rc));
				d.react_now();
				if (auto loss = d.observer->check_loss(mono_ns())) {
					d.counters["events_lost"] = loss->dropped;
					d.counters["events_over_budget"] = loss->over_budget;
					if (const auto &r = loss->report)
						spdlog::warn(
							"{} events lost (ring buffer full), {} "
							"lifecycle events over the budget since "
							"the "
							"last report ({} and {} in all); the next "
							"snapshot catches up",
							r->dropped, r->over_budget, loss->dropped,
							loss->over_budget);
				}
			}
		}
	}
}

} // namespace rcvgov
