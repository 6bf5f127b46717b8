// The allowlist: peer CIDRs, cgroup subtrees and local ports that are never
// chosen for any action.
#include <algorithm>
#include <arpa/inet.h>
#include <cstring>

#include "config/config.h"

namespace rcvgov::config {

bool Cidr::contains(uint16_t fam, const std::array<uint8_t, 16> &a) const
{
	if (fam != family)
		return false;
	unsigned full = prefix / 8, rest = prefix % 8;
	if (std::memcmp(addr.data(), a.data(), full) != 0)
		return false;
	if (rest == 0)
		return true;
	uint8_t mask = static_cast<uint8_t>(0xff << (8 - rest));
	return (addr[full] & mask) == (a[full] & mask);
}

std::optional<Cidr> parse_cidr(std::string_view s)
{
	Cidr c;
	c.text = std::string(s);
	auto slash = s.find('/');
	std::string host(s.substr(0, slash));
	if (inet_pton(AF_INET, host.c_str(), c.addr.data()) == 1)
		c.family = AF_INET;
	else if (inet_pton(AF_INET6, host.c_str(), c.addr.data()) == 1)
		c.family = AF_INET6;
	else
		return std::nullopt;
	unsigned max = c.family == AF_INET ? 32 : 128;
	if (slash == std::string_view::npos) {
		c.prefix = static_cast<uint8_t>(max);
		return c;
	}
	std::string_view p = s.substr(slash + 1);
	if (p.empty() || p.size() > 3)
		return std::nullopt;
	unsigned v = 0;
	for (char ch : p) {
		if (ch < '0' || ch > '9')
			return std::nullopt;
		v = v * 10 + static_cast<unsigned>(ch - '0');
	}
	if (v > max)
		return std::nullopt;
	c.prefix = static_cast<uint8_t>(v);
	return c;
}

bool Allowlist::cgroup_allowed(std::string_view path) const
{
	for (const auto &root : cgroups) {
		if (root == "/")
			return true;
		if (path.size() < root.size() || path.compare(0, root.size(), root) != 0)
			continue;
		// "/a/b" covers "/a/b" and "/a/b/...", not "/a/bc".
		if (path.size() == root.size() || path[root.size()] == '/')
			return true;
	}
	return false;
}

bool Allowlist::peer_allowed(uint16_t family, const std::array<uint8_t, 16> &addr) const
{
	static constexpr uint8_t v4_mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
	std::array<uint8_t, 16> v4{};
	bool mapped = family == AF_INET6 && std::memcmp(addr.data(), v4_mapped, 12) == 0;
	if (mapped)
		std::memcpy(v4.data(), addr.data() + 12, 4);
	for (const auto &c : cidrs)
		if (c.contains(family, addr) || (mapped && c.contains(AF_INET, v4)))
			return true;
	return false;
}

bool Allowlist::port_allowed(uint16_t port) const
{
	return std::find(ports.begin(), ports.end(), port) != ports.end();
}

} // namespace rcvgov::config
