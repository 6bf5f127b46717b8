#include "daemon/daemon.h"

#include <algorithm>
#include <array>
#include <cerrno>
#include <csignal>
#include <ctime>
#include <map>
#include <optional>
#include <spdlog/spdlog.h>
#include <stdexcept>
#include <sys/epoll.h>
#include <sys/signalfd.h>
#include <sys/timerfd.h>
#include <unistd.h>
#include <vector>

#include "bpf/observer.h"
#include "common/errno_text.h"
#include "control/control.h"
#include "core/event.h"
#include "core/format.h"
#include "core/socket_table.h"
#include "daemon/diag_source.h"
#include "daemon/governor.h"
#include "netns/netns.h"

namespace rcvgov {

namespace {

uint64_t mono_ns()
{
	timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return static_cast<uint64_t>(ts.tv_sec) * 1000000000ULL + ts.tv_nsec;
}

std::vector<uint8_t> read_all(int fd)
{
	std::vector<uint8_t> out;
	uint8_t buf[16384];
	for (;;) {
		ssize_t n = read(fd, buf, sizeof(buf));
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			throw std::runtime_error("reading iter/tcp: " + errno_text(errno));
		if (n == 0)
			return out;
		out.insert(out.end(), buf, buf + n);
	}
}

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

constexpr const char *stat_names[RCVGOV_STAT__MAX] = {
	"events_submitted", "events_dropped", "events_ratelimited", "storage_failures",
	"inflations",	    "overshoots",     "autotune_grows"};

} // namespace

struct Daemon::Impl {
	DaemonOptions opts;
	std::unique_ptr<bpf::Observer> observer;
	std::string bpf_error; // why BPF is not in use
	SocketTable table;
	std::unique_ptr<control::Server> server;
	std::unique_ptr<Governor> governor;
	NamespaceSet namespaces;
	UniqueFd epoll, sigfd, timer, netns_timer;
	uint64_t started_ns = mono_ns();
	std::map<std::string, uint64_t> counters;
	size_t netns_seen = 0;
	double last_snapshot_ms = 0;
	std::string last_snapshot_error;
	// Sockets whose first inflation was logged: later ones go to debug.
	std::map<uint64_t, uint32_t> logged_inflation;
	uint64_t window_inflations = 0;
	uint64_t window_start_ns = mono_ns();

	void on_event(std::span<const uint8_t> bytes);
	void scan_namespaces();
	void snapshot();
	void reload();
	void summarize(uint64_t now);
	nlohmann::json handle(const nlohmann::json &req);
	nlohmann::json status() const;
};

void Daemon::Impl::on_event(std::span<const uint8_t> bytes)
{
	DecodeError err;
	auto ev = decode_event(bytes, err);
	if (!ev) {
		++counters["decode_errors"];
		spdlog::warn("dropping a malformed event: {}", err.message);
		return;
	}
	++counters[std::string("events_") + std::string(event_type_name(ev->type))];
	if (ev->type == EventType::Inflation) {
		++window_inflations;
		auto &n = logged_inflation[ev->cookie];
		auto log_level = n++ == 0 ? spdlog::level::info : spdlog::level::debug;
		spdlog::log(log_level,
			    "inflation socket={} local={} peer={} rcvbuf {} -> {} (autotuned {}) "
			    "rmem_alloc={} inflations={} owner={}/{} via {}",
			    ev->cookie, format_endpoint(ev->local), format_endpoint(ev->peer),
			    ev->rcvbuf_before, ev->rcvbuf_after, ev->autotuned_rcvbuf,
			    ev->rmem_alloc, ev->inflations, ev->owner.pid, ev->owner.comm,
			    source_name(ev->source));
	} else if (ev->type == EventType::Closed) {
		logged_inflation.erase(ev->cookie);
	}
	table.apply(*ev);
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
	NamespaceSet set;
	set.all = netns::enumerate();
	for (size_t i = 0; i < set.all.size(); ++i) {
		std::string err;
		uint64_t cookie = 0;
		if (netns::run_in(
			    set.all[i], [&] { cookie = netns::current_cookie(); }, err) &&
		    cookie)
			set.by_cookie[cookie] = i;
	}
	namespaces = std::move(set);
	netns_seen = namespaces.all.size();
	if (governor)
		governor->on_namespaces(namespaces);
}

void Daemon::Impl::snapshot()
{
	uint64_t t0 = mono_ns();
	table.begin_round();
	std::string first_error;
	for (const auto &ns : namespaces.all) {
		std::string err;
		bool entered = netns::run_in(
			ns,
			[&] {
				try {
					if (observer) {
						UniqueFd fd = observer->open_snapshot();
						auto bytes = read_all(fd.get());
						DecodeError derr;
						auto socks = decode_snapshot(bytes, derr);
						if (!socks)
							throw std::runtime_error(derr.message);
						for (auto &s : *socks)
							table.upsert(std::move(s));
					} else {
						for (auto &s : diag_snapshot(mono_ns()))
							table.merge_diag(std::move(s));
					}
				} catch (const std::exception &e) {
					err = e.what();
				}
			},
			err);
		if (!entered)
			spdlog::debug("skipping netns {}: {}", ns.origin, err);
		else if (!err.empty() && first_error.empty())
			first_error = ns.origin + ": " + err;
	}
	size_t gone = table.end_round();
	last_snapshot_ms = static_cast<double>(mono_ns() - t0) / 1e6;
	if (!first_error.empty() && first_error != last_snapshot_error)
		spdlog::warn("snapshot: {}", first_error);
	last_snapshot_error = first_error;
	if (gone)
		spdlog::debug("{} sockets gone since the last snapshot", gone);
	++counters["snapshots"];
	if (governor)
		governor->govern(table, namespaces, mono_ns());
}

void Daemon::Impl::reload()
{
	auto loaded = config::load(opts.config_path);
	if (auto *errs = std::get_if<std::vector<config::Error>>(&loaded)) {
		for (const auto &e : *errs)
			spdlog::error("reload: {}", e.text());
		spdlog::error("reload: keeping the previous configuration");
		++counters["reload_failures"];
		return;
	}
	auto cfg = std::get<config::Config>(std::move(loaded));
	if (opts.force_dry_run)
		cfg.dry_run = true;
	auto limits = config::effective_limits(cfg, config::read_machine());
	if (auto *errs = std::get_if<std::vector<config::Error>>(&limits)) {
		for (const auto &e : *errs)
			spdlog::error("reload: {}", e.text());
		spdlog::error("reload: keeping the previous configuration");
		++counters["reload_failures"];
		return;
	}
	try {
		governor->reconfigure(cfg, std::get<tracker::Limits>(std::move(limits)));
	} catch (const std::exception &e) {
		spdlog::error("reload: {}; keeping the previous configuration", e.what());
		++counters["reload_failures"];
		return;
	}
	if (cfg.interval_ms != opts.config.interval_ms)
		set_period(timer, cfg.interval_ms);
	if (cfg.netns_scan_ms != opts.config.netns_scan_ms)
		set_period(netns_timer, cfg.netns_scan_ms);
	opts.config = std::move(cfg);
	++counters["reloads"];
	spdlog::info("reloaded the configuration from {}", opts.config.source);
}

nlohmann::json Daemon::Impl::status() const
{
	nlohmann::json j;
	j["pid"] = getpid();
	j["uptime_s"] = (mono_ns() - started_ns) / 1000000000ULL;
	j["mode"] = observer ? "bpf" : "sock_diag";
	if (!bpf_error.empty())
		j["bpf_error"] = bpf_error;
	j["hooks"] = nlohmann::json::array();
	if (observer) {
		for (const auto &p : observer->paths())
			j["hooks"].push_back({{"hook", p.hook},
					      {"path", p.path},
					      {"first_choice", p.first_choice},
					      {"reason", p.reason}});
		auto st = observer->stats();
		nlohmann::json k;
		for (int i = 0; i < RCVGOV_STAT__MAX; ++i)
			k[stat_names[i]] = st[i];
		j["kernel_counters"] = k;
	} else {
		j["hooks"].push_back({{"hook", "snapshot"},
				      {"path", "sock_diag (INET_DIAG_SKMEMINFO)"},
				      {"first_choice", false},
				      {"reason", bpf_error}});
	}
	nlohmann::json c = nlohmann::json::object();
	for (const auto &[k, v] : counters)
		c[k] = v;
	j["counters"] = c;
	j["sockets_tracked"] = table.size();
	j["netns_seen"] = netns_seen;
	j["snapshot_interval_ms"] = opts.config.interval_ms;
	if (governor)
		j["governance"] = governor->status();
	j["last_snapshot_ms"] = last_snapshot_ms;
	if (!last_snapshot_error.empty())
		j["last_snapshot_error"] = last_snapshot_error;
	return j;
}

nlohmann::json Daemon::Impl::handle(const nlohmann::json &req)
{
	const std::string cmd = req["cmd"];
	auto limit_of = [&](size_t dflt) -> size_t {
		if (!req.contains("limit"))
			return dflt;
		if (!req["limit"].is_number_unsigned())
			throw std::runtime_error("\"limit\" must be a non-negative integer");
		return req["limit"].get<size_t>();
	};
	if (cmd == "status")
		return status();
	if (cmd == "resources")
		return governor->resources();
	if (cmd == "sockets") {
		uint64_t now = mono_ns();
		nlohmann::json arr = nlohmann::json::array();
		for (const auto &s : table.top_by_rmem(limit_of(SIZE_MAX)))
			arr.push_back(to_json(s, now));
		return arr;
	}
	if (cmd == "events") {
		size_t limit = limit_of(SIZE_MAX);
		std::vector<EventType> types{EventType::Inflation, EventType::Overshoot,
					     EventType::Established, EventType::Closed};
		if (req.contains("type")) {
			if (!req["type"].is_string())
				throw std::runtime_error("\"type\" must be a string");
			auto t = event_type_from_name(req["type"].get<std::string>());
			if (!t)
				throw std::runtime_error(
					"unknown event type \"" + req["type"].get<std::string>() +
					"\" (inflation, overshoot, established, closed)");
			types = {*t};
		}
		std::vector<const Event *> all;
		for (EventType t : types)
			for (const auto &e : table.recent_events(t))
				all.push_back(&e);
		std::sort(all.begin(), all.end(),
			  [](const Event *a, const Event *b) { return a->ts_ns < b->ts_ns; });
		size_t start = all.size() > limit ? all.size() - limit : 0;
		nlohmann::json arr = nlohmann::json::array();
		for (size_t i = start; i < all.size(); ++i)
			arr.push_back(to_json(*all[i]));
		return arr;
	}
	throw std::runtime_error("unknown command \"" + cmd +
				 "\" (try status, sockets, events, resources)");
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
	sigaddset(&mask, SIGINT);
	sigaddset(&mask, SIGTERM);
	sigaddset(&mask, SIGHUP);
	sigprocmask(SIG_BLOCK, &mask, nullptr);
	d.sigfd.reset(signalfd(-1, &mask, SFD_CLOEXEC | SFD_NONBLOCK));
	if (!d.sigfd)
		throw std::runtime_error("signalfd: " + errno_text(errno));

	if (d.opts.force_sock_diag) {
		d.bpf_error = "BPF disabled by --sock-diag";
	} else {
		try {
			d.observer = std::make_unique<bpf::Observer>(
				bpf::ObserverOptions{d.opts.config.events_per_sec,
						     d.opts.allow_fexit},
				[&d](std::span<const uint8_t> b) { d.on_event(b); });
		} catch (const std::exception &e) {
			d.bpf_error = e.what();
		}
	}
	if (!d.observer)
		spdlog::error("BPF observers unavailable: {}. Falling back to polling "
			      "NETLINK_SOCK_DIAG every {} ms: the socket view works, inflation "
			      "is inferred between polls and events are not reported.",
			      d.bpf_error, d.opts.config.interval_ms);

	std::unique_ptr<enforce::BpfEnforcer> enforcer;
	if (d.observer) {
		try {
			enforcer = std::make_unique<enforce::BpfEnforcer>();
		} catch (const std::exception &e) {
			spdlog::error("enforcement programs unavailable: {}; window clamps are off "
				      "and reclamation uses SOCK_DESTROY over sock_diag",
				      e.what());
		}
	}
	auto limits = config::effective_limits(d.opts.config, config::read_machine());
	if (auto *errs = std::get_if<std::vector<config::Error>>(&limits))
		throw std::runtime_error("configuration: " + errs->front().text());
	d.governor = std::make_unique<Governor>(
		d.opts.config, std::get<tracker::Limits>(std::move(limits)), std::move(enforcer));

	d.server = std::make_unique<control::Server>(
		d.opts.socket_path, [&d](const nlohmann::json &r) { return d.handle(r); });

	d.timer = periodic_timer(d.opts.config.interval_ms);
	// Namespaces are looked for more often than sockets are snapshotted:
	// a container that starts must get tcp_shrink_window=1 promptly.
	d.netns_timer = periodic_timer(d.opts.config.netns_scan_ms);

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
	watch(d.server->fd());
	if (d.observer)
		watch(d.observer->event_fd());

	d.scan_namespaces();
	d.snapshot();
	spdlog::info("rcvgovd running: mode {}, {} sockets in {} network namespaces, control "
		     "socket {}",
		     d.observer ? "bpf" : "sock_diag", d.table.size(), d.netns_seen,
		     d.opts.socket_path);

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
						d.reload();
						continue;
					}
					spdlog::info("signal {}: detaching and exiting",
						     strsignal(static_cast<int>(si.ssi_signo)));
					d.governor->shutdown(d.namespaces);
					return 0;
				}
			} else if (fd == d.netns_timer.get()) {
				uint64_t ticks;
				(void)!read(fd, &ticks, sizeof(ticks));
				d.scan_namespaces();
			} else if (fd == d.timer.get()) {
				uint64_t ticks;
				(void)!read(fd, &ticks, sizeof(ticks));
				d.snapshot();
				d.summarize(mono_ns());
			} else if (fd == d.server->fd()) {
				d.server->dispatch();
			} else if (d.observer && fd == d.observer->event_fd()) {
				int rc = d.observer->consume();
				if (rc < 0 && rc != -EINTR)
					spdlog::warn("ring buffer: {}", errno_text(-rc));
			}
		}
	}
}

} // namespace rcvgov
