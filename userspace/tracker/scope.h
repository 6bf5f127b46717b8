// Scope kinds, outermost first. A socket is a scope too, but it is the
// participant itself rather than an account (see docs/tracker.md).
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>

namespace rcvgov::tracker {

enum class ScopeKind : uint8_t { System, Service, Peer, Socket };

std::string_view to_string(ScopeKind k);
// "system", "service", "peer", "socket"; anything else is nullopt.
std::optional<ScopeKind> parse_scope_kind(std::string_view s);

} // namespace rcvgov::tracker
