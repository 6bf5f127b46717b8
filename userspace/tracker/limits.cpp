#include "tracker/limits.h"

#include <algorithm>
#include <charconv>
#include <set>
#include <utility>

namespace rcvgov::tracker {

namespace {

uint64_t percent_of(uint64_t v, uint64_t pct)
{
	return v / 100 * pct + v % 100 * pct / 100;
}

// The values that follow max unless configured on their own.
void derive_from_max(Limits &l)
{
	l.low_water = percent_of(l.max, 75);
	l.per_service = l.max;
	l.per_peer = std::max<uint64_t>(l.max / 8, 1);
	l.per_socket = std::max<uint64_t>(l.max / 16, 1);
}

std::string bytes_text(uint64_t b)
{
	return std::to_string(b);
}

bool parse_cookie(const std::string &s, uint64_t &out)
{
	const char *end = s.data() + s.size();
	auto [p, ec] = std::from_chars(s.data(), end, out);
	return ec == std::errc() && p == end && !s.empty();
}

} // namespace

Limits compute_default_limits(uint64_t ram_bytes, TcpMem tcp_mem_pages, uint64_t page_size)
{
	Limits l;
	const uint64_t pct = ram_bytes < 8 * GiB ? 75 : 40;
	uint64_t max = std::clamp(percent_of(ram_bytes, pct), 256 * MiB, 8 * GiB);
	if (tcp_mem_pages.pressure > 0 && page_size > 0) {
		// Saturating: a bogus tcp_mem must not wrap to a tiny quota.
		const uint64_t t = tcp_mem_pages.pressure > UINT64_MAX / page_size
					   ? UINT64_MAX
					   : tcp_mem_pages.pressure * page_size;
		max = std::min(max, t);
	}
	l.max = std::max<uint64_t>(max, 1);
	derive_from_max(l);
	return l;
}

Limits apply_knobs(const Limits &defaults, const Knobs &k)
{
	Limits l = defaults;
	if (k.max_memory) {
		l.max = *k.max_memory;
		derive_from_max(l);
	}
	if (k.low_water)
		l.low_water = *k.low_water;
	if (k.per_service)
		l.per_service = *k.per_service;
	if (k.per_peer)
		l.per_peer = *k.per_peer;
	if (k.per_socket)
		l.per_socket = *k.per_socket;
	return l;
}

std::vector<ConfigError> validate(const Limits &l)
{
	std::vector<ConfigError> errs;
	auto err = [&](std::string field, std::string msg) {
		errs.push_back(ConfigError{std::move(field), std::move(msg)});
	};
	auto positive = [&](const char *field, uint64_t v) {
		if (v == 0)
			err(field, "must be greater than zero (a limit of zero would act on every "
				   "socket)");
	};
	positive("max", l.max);
	positive("low_water", l.low_water);
	if (l.max > 0 && l.low_water >= l.max)
		err("low_water", "(" + bytes_text(l.low_water) + " bytes) must be below max (" +
					 bytes_text(l.max) + " bytes)");
	positive("per_service", l.per_service);
	positive("per_peer", l.per_peer);
	positive("per_socket", l.per_socket);
	if (l.per_socket_entitlement_percent < 100)
		err("per_socket_entitlement_percent",
		    "(" + std::to_string(l.per_socket_entitlement_percent) +
			    ") must be at least 100: a socket may always use its entitlement");
	if (l.scope_low_water_percent == 0 || l.scope_low_water_percent >= 100)
		err("scope_low_water_percent",
		    "(" + std::to_string(l.scope_low_water_percent) + ") must be between 1 and 99");
	if (l.pending_timeout <= Duration::zero())
		err("pending_timeout", "must be greater than zero");
	if (l.escalate_after < Duration::zero())
		err("escalate_after", "must not be negative");
	if (l.min_stall <= Duration::zero() || l.min_stall >= std::chrono::hours(1))
		err("min_stall", "must be greater than zero and less than one hour");

	std::set<std::pair<ScopeKind, std::string>> seen;
	for (size_t i = 0; i < l.overrides.size(); ++i) {
		const Override &o = l.overrides[i];
		const std::string at = "overrides[" + std::to_string(i) + "]";
		const auto kind = parse_scope_kind(o.scope);
		if (!kind) {
			err(at + ".scope",
			    "unknown scope '" + o.scope + "' (expected service, peer or socket)");
			continue;
		}
		if (*kind == ScopeKind::System) {
			err(at + ".scope", "the system scope is set by max, not by an override");
			continue;
		}
		uint64_t cookie = 0;
		if (o.key.empty())
			err(at + ".key", "must not be empty");
		else if (*kind == ScopeKind::Socket && !parse_cookie(o.key, cookie))
			err(at + ".key",
			    "socket keys are decimal socket cookies, not '" + o.key + "'");
		if (o.limit == 0)
			err(at + ".limit", "must be greater than zero");
		if (!seen.emplace(*kind, o.key).second)
			err(at, "duplicate override for " + o.scope + " '" + o.key + "'");
	}
	return errs;
}

} // namespace rcvgov::tracker
