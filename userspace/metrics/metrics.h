// rcvgovd's /metrics (docs/metrics.md): what the daemon wires in. The
// values are gathered on the daemon's loop (after each full snapshot, and
// once per tick) and published to the exporter, which serves them from its
// own threads: a scrape never runs daemon code and cannot stall the loop.
#pragma once

#include <cstdint>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>

#include "config/config.h"
#include "core/socket_table.h"
#include "daemon/status_json.h"
#include "metrics/values.h"

namespace rcvgov::governor {
class Governor;
}

namespace rcvgov::metrics {

class Exporter;

class Metrics {
public:
	Metrics();
	~Metrics();
	Metrics(const Metrics &) = delete;
	Metrics &operator=(const Metrics &) = delete;

	// At start-up and after every reload: starts, moves or stops the
	// endpoint as [metrics] says. A failure (port in use, address not on
	// this host) is logged naming the address and metrics.listen, shown by
	// status(), and the daemon goes on without /metrics.
	void configure(const config::Config &cfg);
	// After every full snapshot and its round: the snapshot's duration, the
	// per-socket histograms, the top services.
	void on_snapshot(const SocketTable &table, const governor::Governor &gov, double seconds,
			 uint64_t now_ns);
	// Once per tick: everything else, then publishes. The top services
	// also between snapshots (events move usage too), at most every
	// kServicesEveryNs: listing the scopes costs O(peers).
	void update(const DaemonFacts &f, const governor::Governor &gov, uint64_t now_ns);
	static constexpr uint64_t kServicesEveryNs = 5'000'000'000ULL;
	// {"enabled", "listen", "serving", "error"} for `rcvgovctl status`.
	nlohmann::json status() const;
	bool serving() const { return exporter_ != nullptr; }

private:
	config::Metrics cfg_;
	bool configured_ = false;
	std::string error_;
	std::unique_ptr<Exporter> exporter_;
	Values values_;
	uint64_t services_ns_ = 0; // when the top services were last listed
};

} // namespace rcvgov::metrics
