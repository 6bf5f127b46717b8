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

using Errors = std::vector<Error>;

struct Ctx {
	const std::string &file;
	Errors &errors;
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

void get_bool(Ctx &c, const toml::table &t, const std::string &prefix, const char *key, bool &out)
{
	const toml::node *n = t.get(key);
	if (!n)
		return;
	if (auto v = n->value<bool>())
		out = *v;
	else
		c.add(n, prefix + key, "must be true or false");
}

void get_u32(Ctx &c, const toml::table &t, const std::string &prefix, const char *key,
	     uint32_t &out, uint32_t min, uint32_t max)
{
	const toml::node *n = t.get(key);
	if (!n)
		return;
	auto v = n->value<int64_t>();
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
	if (auto i = n->value<int64_t>()) {
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

Result parse(std::string_view text, const std::string &source)
{
	Errors errors;
	Ctx c{source, errors};
	toml::table root;
	try {
		root = toml::parse(text, source);
	} catch (const toml::parse_error &e) {
		errors.push_back({source, static_cast<int>(e.source().begin.line), "",
				  std::string(e.description())});
		return errors;
	}
	Config cfg;
	cfg.source = source;
	check_keys(c, root, "", {"daemon", "limits", "ladder", "allowlist", "override"});

	if (const auto *d = section(c, root, "daemon")) {
		check_keys(c, *d, "daemon.",
			   {"interval_ms", "netns_scan_ms", "events_per_sec", "dry_run",
			    "keep_on_exit"});
		get_u32(c, *d, "daemon.", "interval_ms", cfg.interval_ms, 50, 3600000);
		get_u32(c, *d, "daemon.", "netns_scan_ms", cfg.netns_scan_ms, 50, 60000);
		get_u32(c, *d, "daemon.", "events_per_sec", cfg.events_per_sec, 1, 100000);
		get_bool(c, *d, "daemon.", "dry_run", cfg.dry_run);
		get_bool(c, *d, "daemon.", "keep_on_exit", cfg.keep_on_exit);
	}
	if (const auto *l = section(c, root, "limits")) {
		check_keys(c, *l, "limits.",
			   {"max_memory", "low_water", "per_service", "per_peer", "per_socket"});
		get_size(c, *l, "limits.", "max_memory", cfg.knobs.max_memory);
		get_size(c, *l, "limits.", "low_water", cfg.knobs.low_water);
		get_size(c, *l, "limits.", "per_service", cfg.knobs.per_service);
		get_size(c, *l, "limits.", "per_peer", cfg.knobs.per_peer);
		get_size(c, *l, "limits.", "per_socket", cfg.knobs.per_socket);
	}
	if (const auto *l = section(c, root, "ladder")) {
		check_keys(c, *l, "ladder.",
			   {"shrink_window", "clamp", "reclaim", "reclaim_pause_ms"});
		get_bool(c, *l, "ladder.", "shrink_window", cfg.ladder.shrink_window);
		get_bool(c, *l, "ladder.", "clamp", cfg.ladder.clamp);
		get_bool(c, *l, "ladder.", "reclaim", cfg.ladder.reclaim);
		get_u32(c, *l, "ladder.", "reclaim_pause_ms", cfg.ladder.reclaim_pause_ms, 0,
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
			if (!s || s->empty() || (*s)[0] != '/')
				c.add(&e, "allowlist.cgroups",
				      "must be a cgroup v2 path starting with /");
			else
				cfg.allow.cgroups.push_back(*s);
		});
		each("ports", [&](const toml::node &e) {
			auto v = e.value<int64_t>();
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
	if (!errors.empty()) {
		// In file order, as an editor would walk them.
		std::stable_sort(errors.begin(), errors.end(),
				 [](const Error &a, const Error &b) { return a.line < b.line; });
		return errors;
	}
	return cfg;
}

Result load(const std::string &path)
{
	std::ifstream in(path);
	if (!in) {
		struct stat st;
		if (stat(path.c_str(), &st) != 0 && errno == ENOENT)
			return Config{};
		return Errors{{path, 0, "", std::string("cannot read: ") + std::strerror(errno)}};
	}
	std::stringstream ss;
	ss << in.rdbuf();
	return parse(ss.str(), path);
}

Machine read_machine()
{
	Machine m;
	std::ifstream mi("/proc/meminfo");
	std::string key;
	uint64_t kb;
	while (mi >> key >> kb) {
		if (key == "MemTotal:") {
			m.ram_bytes = kb * 1024;
			break;
		}
		mi.ignore(1 << 10, '\n');
	}
	std::ifstream tm("/proc/sys/net/ipv4/tcp_mem");
	tm >> m.tcp_mem.min >> m.tcp_mem.pressure >> m.tcp_mem.max;
	long ps = sysconf(_SC_PAGESIZE);
	m.page_size = ps > 0 ? static_cast<uint64_t>(ps) : 4096;
	return m;
}

std::variant<tracker::Limits, std::vector<Error>> effective_limits(const Config &c,
								   const Machine &m)
{
	tracker::Limits l = tracker::apply_knobs(
		tracker::compute_default_limits(m.ram_bytes, m.tcp_mem, m.page_size), c.knobs);
	l.overrides = c.overrides;
	auto problems = tracker::validate(l);
	if (problems.empty())
		return l;
	Errors errors;
	for (const auto &p : problems)
		errors.push_back({c.source, 0, p.field, p.message});
	return errors;
}

} // namespace rcvgov::config
