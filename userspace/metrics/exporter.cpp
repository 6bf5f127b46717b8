#include "metrics/exporter.h"

#include <arpa/inet.h>
#include <cstring>
#include <mutex>
#include <netinet/in.h>
#include <prometheus/collectable.h>
#include <prometheus/exposer.h>
#include <prometheus/metric_family.h>
#include <sys/socket.h>

#include "common/unique_fd.h"
#include "config/config.h"

namespace rcvgov::metrics {

namespace {

// The latest published families. Collect() runs on a civetweb thread.
class Published : public prometheus::Collectable {
public:
	void set(std::vector<prometheus::MetricFamily> f)
	{
		auto p =
			std::make_shared<const std::vector<prometheus::MetricFamily>>(std::move(f));
		std::lock_guard<std::mutex> g(mu_);
		latest_ = std::move(p);
	}
	std::vector<prometheus::MetricFamily> Collect() const override
	{
		std::shared_ptr<const std::vector<prometheus::MetricFamily>> p;
		{
			std::lock_guard<std::mutex> g(mu_);
			p = latest_;
		}
		return p ? *p : std::vector<prometheus::MetricFamily>{};
	}

private:
	mutable std::mutex mu_;
	std::shared_ptr<const std::vector<prometheus::MetricFamily>> latest_;
};

// civetweb only says that it could not start; binding once ourselves says
// why (EADDRINUSE, EADDRNOTAVAIL, EACCES).
Status try_bind(const config::ListenAddress &a)
{
	UniqueFd fd(socket(a.family, SOCK_STREAM | SOCK_CLOEXEC, 0));
	if (!fd)
		return Error::sys(errno, "socket");
	int one = 1;
	(void)setsockopt(fd.get(), SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	sockaddr_storage ss{};
	socklen_t len = 0;
	if (a.family == AF_INET) {
		auto *s4 = reinterpret_cast<sockaddr_in *>(&ss);
		s4->sin_family = AF_INET;
		s4->sin_port = htons(a.port);
		std::memcpy(&s4->sin_addr, a.addr.data(), 4);
		len = sizeof(*s4);
	} else {
		auto *s6 = reinterpret_cast<sockaddr_in6 *>(&ss);
		s6->sin6_family = AF_INET6;
		s6->sin6_port = htons(a.port);
		std::memcpy(&s6->sin6_addr, a.addr.data(), 16);
		len = sizeof(*s6);
	}
	if (bind(fd.get(), reinterpret_cast<sockaddr *>(&ss), len) != 0)
		return Error::sys(errno, "bind");
	return {};
}

} // namespace

struct Exporter::Impl {
	std::shared_ptr<Published> published = std::make_shared<Published>();
	std::unique_ptr<prometheus::Exposer> exposer;
};

Exporter::Exporter(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

Exporter::~Exporter()
{
	if (impl_ && impl_->exposer)
		impl_->exposer->RemoveCollectable(impl_->published);
}

Result<std::unique_ptr<Exporter>> Exporter::start(const std::string &listen)
{
	auto addr = config::parse_listen(listen);
	if (!addr)
		return Error::msg("\"" + listen + "\" is not ADDRESS:PORT");
	if (Status st = try_bind(*addr); !st.ok())
		return st.error();
	auto impl = std::make_unique<Impl>();
	try {
		// Two workers: one slow scraper does not block the next. A request
		// is cut after 5 s, so stopping (reload, exit) never waits longer.
		impl->exposer = std::make_unique<prometheus::Exposer>(
			std::vector<std::string>{"listening_ports", listen, "num_threads", "2",
						 "request_timeout_ms", "5000"});
	} catch (const std::exception &e) {
		return Error::msg(std::string("the HTTP server did not start: ") + e.what());
	}
	impl->exposer->RegisterCollectable(impl->published);
	return std::unique_ptr<Exporter>(new Exporter(std::move(impl)));
}

void Exporter::publish(std::vector<prometheus::MetricFamily> families)
{
	impl_->published->set(std::move(families));
}

uint16_t Exporter::port() const
{
	auto ports = impl_->exposer->GetListeningPorts();
	return ports.empty() ? 0 : static_cast<uint16_t>(ports.front());
}

} // namespace rcvgov::metrics
