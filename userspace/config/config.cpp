#include "config/config.h"

#include <algorithm>
#include <arpa/inet.h>
#include <cstring>
#include <fstream>
#include <set>
#include <sstream>
#include <sys/stat.h>
#include <toml++/toml.h>
#include <unistd.h>

namespace rcvgov::config {

namespace {

struct Ctx {
	const std::string &file;
	Errors &errors;
	std::map<std::string, int> &lines;
	void seen(const toml::node *n, const std::string &key)
	{
		lines[key] = static_cast<int>(n->source().begin.line);
	}
	void add(const toml::node *n, const std::string &key, const std::string &msg)
	{
		int line = n ? static_cast<int>(n->source().begin.line) : 0;
		errors.push_back({file, line, key, msg});
	}
};

// Unknown keys are errors: a typo must not silently do nothing.
void check_keys(Ctx &c, const toml::table &t, const std::string &prefix,
		const std::set<std::string> &known)
{
	for (const auto &[k, v] : t) {
		std::string key(k.str());
		if (!known.count(key)) {
			std::string allowed;
			for (const auto &n : known)
				allowed += (allowed.empty() ? "" : ", ") + n;
			c.add(&v, prefix + key, "unknown key (known here: " + allowed + ")");
		}
	}
}

// An integer node's value, nothing for any other type. Not value<int64_t>(),
// which also converts floats, and a float beyond int64's range is
// undefined behaviour inside toml++ (found by fuzz/config_fuzz.cpp).
std::optional<int64_t> integer_of(const toml::node &n)
{
	if (const auto *i = n.as_integer())
		return i->get();
	return std::nullopt;
}

void get_bool(Ctx &c, const toml::table &t, const std::string &prefix, const char *key, bool &out)
{
	const toml::node *n = t.get(key);
	if (!n)
		return;
	c.seen(n, prefix + key);
	if (n->is_boolean()) // not value<bool>(), which also takes 0 and 1
		out = *n->value<bool>();
	else
		c.add(n, prefix + key, "must be true or false");
}

void get_u32(Ctx &c, const toml::table &t, const std::string &prefix, const char *key,
	     uint32_t &out, uint32_t min, uint32_t max)
{
	const toml::node *n = t.get(key);
	if (!n)
		return;
	c.seen(n, prefix + key);
	auto v = integer_of(*n);
	if (!v || *v < min || *v > max) {
		c.add(n, prefix + key,
		      "must be an integer from " + std::to_string(min) + " to " +
			      std::to_string(max));
		return;
	}
	out = static_cast<uint32_t>(*v);
}

std::optional<uint64_t> size_of(Ctx &c, const toml::node *n, const std::string &key)
{
	std::optional<uint64_t> v;
	if (auto i = integer_of(*n)) {
		if (*i > 0)
			v = static_cast<uint64_t>(*i);
	} else if (auto s = n->value<std::string>()) {
		v = parse_size(*s);
	}
	if (!v || *v == 0)
		c.add(n, key,
		      "must be a positive size: bytes, or a string like \"512M\" or \"2G\"");
	return v;
}

void get_size(Ctx &c, const toml::table &t, const std::string &prefix, const char *key,
	      std::optional<uint64_t> &out)
{
	const toml::node *n = t.get(key);
	if (!n)
		return;
	c.seen(n, prefix + key);
	if (auto s = n->value<std::string>(); s && *s == "auto")
		return; // computed from the machine
	out = size_of(c, n, prefix + key);
}

const toml::table *section(Ctx &c, const toml::table &root, const char *name)
{
	const toml::node *n = root.get(name);
	if (!n)
		return nullptr;
	if (!n->is_table()) {
		c.add(n, name, "must be a table ([" + std::string(name) + "])");
		return nullptr;
	}
	return n->as_table();
}

} // namespace

std::string Error::text() const
{
	std::string s = file;
	if (line)
		s += ":" + std::to_string(line);
	s += ": ";
	if (!key.empty())
		s += key + ": ";
	return s + message;
}

std::optional<uint64_t> parse_size(std::string_view s)
{
	if (s.empty())
		return std::nullopt;
	size_t i = 0;
	uint64_t n = 0;
	while (i < s.size() && s[i] >= '0' && s[i] <= '9') {
		if (n > (UINT64_MAX - 9) / 10)
			return std::nullopt;
		n = n * 10 + static_cast<uint64_t>(s[i] - '0');
		++i;
	}
	if (i == 0)
		return std::nullopt;
	std::string_view unit = s.substr(i);
	uint64_t mult = 1;
	if (unit == "" || unit == "B")
		mult = 1;
	else if (unit == "K" || unit == "KiB")
		mult = 1ULL << 10;
	else if (unit == "M" || unit == "MiB")
		mult = 1ULL << 20;
	else if (unit == "G" || unit == "GiB")
		mult = 1ULL << 30;
	else
		return std::nullopt;
	if (n > UINT64_MAX / mult)
		return std::nullopt;
	return n * mult;
}

Checked<Config> parse(std::string_view text, const std::string &source)
{
	Errors errors;
	Config cfg;
	cfg.source = source;
	Ctx c{source, errors, cfg.key_lines};
	toml::table root;
	try {
		root = toml::parse(text, source);
	} catch (const toml::parse_error &e) {
		errors.push_back({source, static_cast<int>(e.source().begin.line), "",
				  std::string(e.description())});
		return errors;
	}
	check_keys(c, root, "",
		   {"daemon", "limits", "ladder", "safety", "allowlist", "override", "metrics"});

	if (const auto *d = section(c, root, "daemon")) {
		check_keys(c, *d, "daemon.",
			   {"interval_ms", "netns_scan_ms", "resync_ms", "react_to_events",
			    "events_per_sec", "dry_run", "keep_on_exit", "audit_actions"});
		get_u32(c, *d, "daemon.", "interval_ms", cfg.interval_ms, 50, 3600000);
		get_u32(c, *d, "daemon.", "netns_scan_ms", cfg.netns_scan_ms, 50, 60000);
		get_u32(c, *d, "daemon.", "resync_ms", cfg.resync_ms, 0, 3600000);
		get_bool(c, *d, "daemon.", "react_to_events", cfg.react_to_events);
		get_u32(c, *d, "daemon.", "events_per_sec", cfg.events_per_sec, 1, 100000);
		get_bool(c, *d, "daemon.", "dry_run", cfg.dry_run);
		get_bool(c, *d, "daemon.", "keep_on_exit", cfg.keep_on_exit);
		get_u32(c, *d, "daemon.", "audit_actions", cfg.audit_actions, 0, 1000000);
	}
	if (const auto *l = section(c, root, "limits")) {
		check_keys(c, *l, "limits.",
			   {"max_memory", "low_water", "per_service", "per_peer", "per_socket",
			    "min_stall_ms", "force_below_floor"});
		get_size(c, *l, "limits.", "max_memory", cfg.knobs.max_memory);
		get_size(c, *l, "limits.", "low_water", cfg.knobs.low_water);
		get_size(c, *l, "limits.", "per_service", cfg.knobs.per_service);
		get_size(c, *l, "limits.", "per_peer", cfg.knobs.per_peer);
		get_size(c, *l, "limits.", "per_socket", cfg.knobs.per_socket);
		if (l->get("min_stall_ms")) {
			uint32_t ms = 0;
			get_u32(c, *l, "limits.", "min_stall_ms", ms, 1, 3599999);
			cfg.min_stall_ms = ms;
		}
		get_bool(c, *l, "limits.", "force_below_floor", cfg.force_below_floor);
	}
	if (const auto *l = section(c, root, "ladder")) {
		check_keys(c, *l, "ladder.",
			   {"shrink_window", "clamp", "reclaim", "reclaim_pause_ms"});
		if (const toml::node *n = l->get("shrink_window"); n && n->is_string()) {
			c.seen(n, "ladder.shrink_window");
			if (*n->value<std::string>() == "strict") {
				cfg.ladder.shrink_window = true;
				cfg.ladder.shrink_strict = true;
			} else {
				c.add(n, "ladder.shrink_window",
				      "must be true, false or \"strict\"");
			}
		} else {
			get_bool(c, *l, "ladder.", "shrink_window", cfg.ladder.shrink_window);
		}
		get_bool(c, *l, "ladder.", "clamp", cfg.ladder.clamp);
		get_bool(c, *l, "ladder.", "reclaim", cfg.ladder.reclaim);
		if (const toml::node *n = l->get("reclaim_pause_ms")) {
			// Deprecated alias, still accepted (it moved to [safety]).
			get_u32(c, *l, "ladder.", "reclaim_pause_ms", cfg.safety.reclaim_pause_ms,
				0, 600000);
			cfg.warnings.push_back(source + ":" +
					       std::to_string(n->source().begin.line) +
					       ": ladder.reclaim_pause_ms is deprecated, use "
					       "safety.reclaim_pause_ms");
		}
	}
	if (const auto *sf = section(c, root, "safety")) {
		check_keys(
			c, *sf, "safety.",
			{"destroy_per_round", "destroy_per_minute", "breaker", "reclaim_pause_ms"});
		get_u32(c, *sf, "safety.", "destroy_per_round", cfg.safety.destroy_per_round, 0,
			1000000);
		get_u32(c, *sf, "safety.", "destroy_per_minute", cfg.safety.destroy_per_minute, 0,
			1000000);
		get_bool(c, *sf, "safety.", "breaker", cfg.safety.breaker);
		get_u32(c, *sf, "safety.", "reclaim_pause_ms", cfg.safety.reclaim_pause_ms, 0,
			600000);
	}
	if (const auto *a = section(c, root, "allowlist")) {
		check_keys(c, *a, "allowlist.", {"cidrs", "cgroups", "ports"});
		auto each = [&](const char *key, auto fn) {
			const toml::node *n = a->get(key);
			if (!n)
				return;
			if (!n->is_array()) {
				c.add(n, std::string("allowlist.") + key, "must be an array");
				return;
			}
			for (const auto &e : *n->as_array())
				fn(e);
		};
		each("cidrs", [&](const toml::node &e) {
			auto s = e.value<std::string>();
			auto cidr = s ? parse_cidr(*s) : std::nullopt;
			if (!cidr)
				c.add(&e, "allowlist.cidrs",
				      "not a CIDR (like \"10.0.0.0/8\" or \"fd00::/8\")");
			else
				cfg.allow.cidrs.push_back(*cidr);
		});
		each("cgroups", [&](const toml::node &e) {
			auto s = e.value<std::string>();
			if (!s || s->empty() || (*s)[0] != '/') {
				c.add(&e, "allowlist.cgroups",
				      "must be a cgroup v2 path starting with /");
				return;
			}
			std::string path = *s; // a subtree: "/a/b/" is "/a/b"
			while (path.size() > 1 && path.back() == '/')
				path.pop_back();
			cfg.allow.cgroups.push_back(path);
		});
		each("ports", [&](const toml::node &e) {
			auto v = integer_of(e);
			if (!v || *v < 1 || *v > 65535)
				c.add(&e, "allowlist.ports", "must be a port number 1..65535");
			else
				cfg.allow.ports.push_back(static_cast<uint16_t>(*v));
		});
	}
	if (const toml::node *o = root.get("override")) {
		if (!o->is_array_of_tables()) {
			c.add(o, "override", "must be an array of tables ([[override]])");
		} else {
			size_t i = 0;
			for (const auto &e : *o->as_array()) {
				std::string prefix = "override[" + std::to_string(i++) + "].";
				const toml::table &t = *e.as_table();
				c.seen(&e, prefix + "limit");
				check_keys(c, t, prefix, {"scope", "key", "limit"});
				tracker::Override ov;
				auto scope = t["scope"].value<std::string>();
				auto key = t["key"].value<std::string>();
				if (!scope || !tracker::parse_scope_kind(*scope) ||
				    *scope == "system")
					c.add(&e, prefix + "scope",
					      "must be \"service\", \"peer\" or \"socket\"");
				else
					ov.scope = *scope;
				if (!key || key->empty())
					c.add(&e, prefix + "key", "must be a non-empty string");
				else
					ov.key = *key;
				if (const toml::node *lim = t.get("limit")) {
					if (auto v = size_of(c, lim, prefix + "limit"))
						ov.limit = *v;
				} else {
					c.add(&e, prefix + "limit", "is required");
				}
				cfg.overrides.push_back(ov);
			}
		}
	}
	if (const auto *m = section(c, root, "metrics")) {
		check_keys(c, *m, "metrics.", {"enabled", "listen", "top_services"});
		get_bool(c, *m, "metrics.", "enabled", cfg.metrics.enabled);
		get_u32(c, *m, "metrics.", "top_services", cfg.metrics.top_services, 0, 100);
		if (const toml::node *n = m->get("listen")) {
			c.seen(n, "metrics.listen");
			auto s = n->value<std::string>();
			if (s && parse_listen(*s))
				cfg.metrics.listen = *s;
			else
				c.add(n, "metrics.listen",
				      "must be \"ADDRESS:PORT\" with an IP address (no host "
				      "name) and a port from 1 to 65535, like "
				      "\"127.0.0.1:9753\" or \"[::1]:9753\"; to turn /metrics "
				      "off, set enabled = false");
		}
	}
	if (!errors.empty()) {
		// In file order, as an editor would walk them.
		std::stable_sort(errors.begin(), errors.end(),
				 [](const Error &a, const Error &b) { return a.line < b.line; });
		return errors;
	}
	return cfg;
}

std::string text(const Errors &errors)
{
	std::string s;
	for (const auto &e : errors)
		s += (s.empty() ? "" : "\n") + e.text();
	return s;
}

Checked<Config> load(const std::string &path, bool must_exist)
{
	std::ifstream in(path);
	if (!in) {
		int err = errno;
		struct stat st;
		if (stat(path.c_str(), &st) != 0 && errno == ENOENT) {
			if (!must_exist)
				return Config{};
			return Error{path, 0, "", "no such file (given with --config)"};
		}
		return Error{path, 0, "", std::string("cannot read: ") + std::strerror(err)};
	}
	std::stringstream ss;
	ss << in.rdbuf();
	return parse(ss.str(), path);
}

} // namespace rcvgov::config
