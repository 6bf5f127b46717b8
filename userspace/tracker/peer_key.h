// The key of a peer account: the remote address's /24 (IPv4) or /64 (IPv6),
// as text ("192.0.2.0/24", "2001:db8:1:2::/64") so that the same string
// names the peer in the `resources` view, in metrics and in the override
// table. Pure functions: no socket headers, no inet_ntop.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>

namespace rcvgov::tracker {

// Linux's values, spelled out so this header needs no system headers.
inline constexpr uint16_t kAfInet = 2;
inline constexpr uint16_t kAfInet6 = 10;

// `addr` is laid out as in rcvgov_abi.h: IPv4 in the first 4 bytes, network
// order; IPv6 all 16. An IPv4-mapped IPv6 address (::ffff:a.b.c.d, what a
// dual-stack listener sees for an IPv4 client) is keyed as the IPv4 /24,
// so one client is one peer whichever socket family accepted it. nullopt
// for any other family.
std::optional<std::string> peer_key(uint16_t family, const std::array<uint8_t, 16> &addr);

} // namespace rcvgov::tracker
