// The HTTP side of /metrics: prometheus-cpp's Exposer (civetweb) serving
// from its own threads. The daemon's loop publishes a finished set of
// families; a scrape takes the latest one under a mutex held only to copy a
// pointer, so a slow or stuck scraper never holds the loop.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "common/error.h"

namespace prometheus {
struct MetricFamily;
}

namespace rcvgov::metrics {

class Exporter {
public:
	// Listens on `listen` ("127.0.0.1:9753", "[::1]:9753"). The error says
	// what the address is and why it cannot be used (EADDRINUSE, ...).
	static Result<std::unique_ptr<Exporter>> start(const std::string &listen);
	~Exporter();
	Exporter(const Exporter &) = delete;
	Exporter &operator=(const Exporter &) = delete;

	void publish(std::vector<prometheus::MetricFamily> families);
	// The port listened on.
	uint16_t port() const;

private:
	struct Impl;
	explicit Exporter(std::unique_ptr<Impl> impl);
	std::unique_ptr<Impl> impl_;
};

} // namespace rcvgov::metrics
