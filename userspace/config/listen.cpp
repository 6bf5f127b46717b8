// metrics.listen: "ADDRESS:PORT" with an IP address literal.
#include <arpa/inet.h>
#include <charconv>
#include <string>

#include "config/config.h"

namespace rcvgov::config {

std::optional<ListenAddress> parse_listen(std::string_view s)
{
	const size_t colon = s.rfind(':');
	if (colon == std::string_view::npos || colon == 0)
		return std::nullopt;
	std::string_view host = s.substr(0, colon), port = s.substr(colon + 1);
	ListenAddress a;
	unsigned p = 0;
	auto [end, ec] = std::from_chars(port.data(), port.data() + port.size(), p);
	if (ec != std::errc() || end != port.data() + port.size() || p < 1 || p > 65535)
		return std::nullopt;
	a.port = static_cast<uint16_t>(p);
	if (host.size() > 2 && host.front() == '[' && host.back() == ']') {
		std::string h(host.substr(1, host.size() - 2));
		if (inet_pton(AF_INET6, h.c_str(), a.addr.data()) != 1)
			return std::nullopt;
		a.family = AF_INET6;
		return a;
	}
	std::string h(host);
	if (inet_pton(AF_INET, h.c_str(), a.addr.data()) != 1)
		return std::nullopt;
	a.family = AF_INET;
	return a;
}

} // namespace rcvgov::config
