#include "metrics/metrics.h"

#include <spdlog/spdlog.h>

#include "governor/governor.h"
#include "metrics/collect.h"
#include "metrics/exporter.h"

namespace rcvgov::metrics {

Metrics::Metrics() = default;
Metrics::~Metrics() = default;

void Metrics::configure(const config::Config &cfg)
{
	const config::Metrics &m = cfg.metrics;
	const bool same = configured_ && m.enabled == cfg_.enabled && m.listen == cfg_.listen;
	cfg_ = m;
	configured_ = true;
	services_ns_ = 0; // top_services may have changed: list them at the next tick
	if (same)
		return;
	exporter_.reset(); // frees the old address before the new one is tried
	error_.clear();
	if (!m.enabled) {
		spdlog::info("metrics: off (metrics.enabled = false in {})", cfg.source);
		return;
	}
	auto started = Exporter::start(m.listen);
	if (!started.ok()) {
		error_ = "cannot listen on " + m.listen + ": " + started.error().message;
		spdlog::error(
			"metrics: cannot listen on {} (metrics.listen in {}): {}. rcvgovd goes "
			"on without /metrics; free that port, set [metrics] listen to another "
			"address and reload, or set enabled = false",
			m.listen, cfg.source, started.error().message);
		return;
	}
	exporter_ = std::move(started).value();
	spdlog::info("metrics: serving http://{}/metrics", m.listen);
}

void Metrics::on_snapshot(const SocketTable &table, const governor::Governor &gov, double seconds,
			  uint64_t now_ns)
{
	if (!exporter_)
		return;
	values_.snapshot_seconds.observe(seconds);
	observe_sockets(table, now_ns, values_.socket_bytes, values_.data_age_seconds);
	values_.services = top_services(gov.resources(), cfg_.top_services);
	services_ns_ = now_ns;
}

void Metrics::update(const DaemonFacts &f, const governor::Governor &gov, uint64_t now_ns)
{
	if (!exporter_)
		return;
	if (services_ns_ == 0 || now_ns - services_ns_ >= kServicesEveryNs) {
		values_.services = top_services(gov.resources(), cfg_.top_services);
		services_ns_ = now_ns;
	}
	fill(values_, f, gov.status());
	exporter_->publish(families(values_));
}

nlohmann::json Metrics::status() const
{
	nlohmann::json j = {{"enabled", cfg_.enabled}, {"serving", serving()}};
	if (cfg_.enabled)
		j["listen"] = cfg_.listen;
	if (!error_.empty())
		j["error"] = error_;
	return j;
}

} // namespace rcvgov::metrics
