#include "journal/journal.h"

#include <arpa/inet.h>
#include <cerrno>
#include <fcntl.h>
#include <nlohmann/json.hpp>
#include <sys/stat.h>
#include <unistd.h>

#include "common/unique_fd.h"

namespace rcvgov::journal {

namespace {

constexpr int format_version = 1;
// Bounded by what exists, but a corrupt size must not make us read GiBs.
constexpr size_t max_file_bytes = 64u << 20;

std::string addr_text(const Endpoint &ep)
{
	char buf[INET6_ADDRSTRLEN] = {};
	if (!inet_ntop(ep.family == AF_INET6 ? AF_INET6 : AF_INET, ep.addr.data(), buf,
		       sizeof(buf)))
		return "";
	return buf;
}

nlohmann::json to_json(const SysctlEntry &e)
{
	return {{"sysctl", shrink_window_sysctl},
		{"netns", e.netns},
		{"dev", e.dev},
		{"ino", e.ino},
		{"origin", e.origin},
		{"before", e.before},
		{"set", e.set}};
}

nlohmann::json to_json(const ClampEntry &e)
{
	return {{"clamp", e.cookie},
		{"netns", e.netns},
		{"family", e.local.family},
		{"local", addr_text(e.local)},
		{"lport", e.local.port},
		{"peer", addr_text(e.peer)},
		{"pport", e.peer.port},
		{"before", e.before},
		{"set", e.set},
		{"done", e.done}};
}

// A required field of a given JSON type; throws with the key's name.
template <class T> T field(const nlohmann::json &j, const char *key)
{
	auto it = j.find(key);
	if (it == j.end())
		throw std::invalid_argument(std::string("missing \"") + key + "\"");
	if constexpr (std::is_same_v<T, std::string>) {
		if (!it->is_string())
			throw std::invalid_argument(std::string("\"") + key + "\" is not a string");
	} else if constexpr (std::is_same_v<T, bool>) {
		if (!it->is_boolean())
			throw std::invalid_argument(std::string("\"") + key +
						    "\" is not a boolean");
	} else {
		if (!it->is_number_integer())
			throw std::invalid_argument(std::string("\"") + key +
						    "\" is not an integer");
		if constexpr (std::is_unsigned_v<T>)
			if (!it->is_number_unsigned())
				throw std::invalid_argument(std::string("\"") + key +
							    "\" is negative");
	}
	return it->get<T>();
}

Endpoint endpoint(uint16_t family, const std::string &addr, uint16_t port)
{
	Endpoint ep;
	ep.family = family;
	ep.port = port;
	if (family != AF_INET && family != AF_INET6)
		throw std::invalid_argument("\"family\" is neither AF_INET nor AF_INET6");
	if (inet_pton(family, addr.c_str(), ep.addr.data()) != 1)
		throw std::invalid_argument("\"" + addr + "\" is not an address");
	return ep;
}

// The "boot" of a journal's first line, if it has one.
std::optional<std::string> header_boot(std::string_view text)
{
	nlohmann::json j = nlohmann::json::parse(text.substr(0, text.find('\n')), nullptr, false);
	if (!j.is_object() || !j.contains("rcvgov_journal") || !j.contains("boot") ||
	    !j["boot"].is_string())
		return std::nullopt;
	return j["boot"].get<std::string>();
}

} // namespace

const std::string &current_boot_id()
{
	static const std::string id = [] {
		std::string s;
		UniqueFd fd(open("/proc/sys/kernel/random/boot_id", O_RDONLY | O_CLOEXEC));
		char buf[64];
		ssize_t n = fd ? read(fd.get(), buf, sizeof(buf)) : -1;
		if (n > 0)
			s.assign(buf, size_t(n));
		while (!s.empty() && (s.back() == '\n' || s.back() == ' '))
			s.pop_back();
		return s;
	}();
	return id;
}

std::string serialize(const Contents &c)
{
	nlohmann::json head{{"rcvgov_journal", format_version}, {"pid", c.pid}};
	if (!c.boot.empty())
		head["boot"] = c.boot;
	std::string out = head.dump() + "\n";
	for (const auto &[k, e] : c.sysctls)
		out += to_json(e).dump() + "\n";
	for (const auto &[k, e] : c.clamps)
		out += to_json(e).dump() + "\n";
	out += nlohmann::json{{"end", c.sysctls.size() + c.clamps.size()}}.dump() + "\n";
	return out;
}

Result<Contents> parse(std::string_view text, const std::string &name)
{
	Contents c;
	size_t lineno = 0, entries = 0;
	bool header = false, end = false;
	size_t pos = 0;
	while (pos < text.size()) {
		size_t nl = text.find('\n', pos);
		if (nl == std::string_view::npos)
			return Error::msg(name + ":" + std::to_string(lineno + 1) +
						  ": torn journal: the last line has no newline",
					  EINVAL);
		std::string_view line = text.substr(pos, nl - pos);
		pos = nl + 1;
		++lineno;
		const std::string where = name + ":" + std::to_string(lineno) + ": ";
		if (end)
			return Error::msg(where + "data after the \"end\" line", EINVAL);
		nlohmann::json j = nlohmann::json::parse(line, nullptr, false);
		if (j.is_discarded() || !j.is_object())
			return Error::msg(where + "not a JSON object", EINVAL);
		try {
			if (!header) {
				if (field<int>(j, "rcvgov_journal") != format_version)
					return Error::msg(where + "unknown journal version " +
								  j["rcvgov_journal"].dump(),
							  EINVAL);
				c.pid = field<uint32_t>(j, "pid");
				if (j.contains("boot"))
					c.boot = field<std::string>(j, "boot");
				header = true;
			} else if (j.contains("end")) {
				if (field<size_t>(j, "end") != entries)
					return Error::msg(where + "torn journal: \"end\" counts " +
								  j["end"].dump() + " entries, " +
								  std::to_string(entries) + " read",
							  EINVAL);
				end = true;
			} else if (j.contains("sysctl")) {
				if (field<std::string>(j, "sysctl") != shrink_window_sysctl)
					return Error::msg(where + "unknown sysctl " +
								  j["sysctl"].dump(),
							  EINVAL);
				SysctlEntry e;
				e.netns = field<uint64_t>(j, "netns");
				e.dev = field<uint64_t>(j, "dev");
				e.ino = field<uint64_t>(j, "ino");
				e.origin = field<std::string>(j, "origin");
				e.before = field<int>(j, "before");
				e.set = field<int>(j, "set");
				c.sysctls[e.netns] = e;
				++entries;
			} else if (j.contains("clamp")) {
				ClampEntry e;
				e.cookie = field<uint64_t>(j, "clamp");
				e.netns = field<uint64_t>(j, "netns");
				auto fam = field<uint16_t>(j, "family");
				e.local = endpoint(fam, field<std::string>(j, "local"),
						   field<uint16_t>(j, "lport"));
				e.peer = endpoint(fam, field<std::string>(j, "peer"),
						  field<uint16_t>(j, "pport"));
				e.before = field<uint32_t>(j, "before");
				e.set = field<uint32_t>(j, "set");
				e.done = field<bool>(j, "done");
				c.clamps[e.cookie] = e;
				++entries;
			} else {
				return Error::msg(where + "unknown entry " + j.dump(), EINVAL);
			}
		} catch (const std::exception &ex) {
			return Error::msg(where + ex.what(), EINVAL);
		}
	}
	if (!header)
		return Error::msg(name + ": empty journal (no header line)", EINVAL);
	if (!end)
		return Error::msg(name + ": torn journal: no \"end\" line after " +
					  std::to_string(lineno) + " lines",
				  EINVAL);
	return c;
}

Result<std::optional<Contents>> load(const std::string &path)
{
	UniqueFd fd(open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW));
	if (!fd) {
		if (errno == ENOENT)
			return std::optional<Contents>();
		return Error::sys(errno, "open " + path);
	}
	std::string text;
	char buf[65536];
	for (;;) {
		ssize_t n = read(fd.get(), buf, sizeof(buf));
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return Error::sys(errno, "read " + path);
		if (n == 0)
			break;
		text.append(buf, size_t(n));
		if (text.size() > max_file_bytes)
			return Error::msg(path + ": larger than 64 MiB: not a journal", EFBIG);
	}
	// A journal of an earlier boot describes nothing that still exists;
	// it may be torn (nothing was synced), so it is not parsed at all.
	if (auto boot = header_boot(text);
	    boot && !current_boot_id().empty() && *boot != current_boot_id())
		return std::optional<Contents>();
	Result<Contents> c = parse(text, path);
	if (!c)
		return c.error();
	return std::optional<Contents>(std::move(c).value());
}

Status store(const std::string &path, const Contents &c)
{
	const std::string tmp = path + ".tmp";
	const std::string text = serialize(c);
	UniqueFd fd(open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0600));
	if (!fd)
		return Error::sys(errno, "open " + tmp);
	size_t off = 0;
	while (off < text.size()) {
		ssize_t n = write(fd.get(), text.data() + off, text.size() - off);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return Error::sys(errno, "write " + tmp);
		off += size_t(n);
	}
	fd.reset();
	if (rename(tmp.c_str(), path.c_str()) != 0)
		return Error::sys(errno, "rename " + tmp + " to " + path);
	return {};
}

Status remove(const std::string &path)
{
	if (unlink(path.c_str()) != 0 && errno != ENOENT)
		return Error::sys(errno, "unlink " + path);
	(void)unlink((path + ".tmp").c_str());
	return {};
}

Journal::Journal(std::string path, Contents adopted)
    : path_(std::move(path)), c_(std::move(adopted))
{
	c_.pid = static_cast<uint32_t>(getpid());
	c_.boot = current_boot_id();
	dirty_ = !c_.empty();
}

std::optional<int> Journal::sysctl_before(uint64_t netns) const
{
	auto it = c_.sysctls.find(netns);
	if (it == c_.sysctls.end())
		return std::nullopt;
	return it->second.before;
}

void Journal::note_sysctl(const SysctlEntry &e)
{
	auto [it, fresh] = c_.sysctls.try_emplace(e.netns, e);
	if (fresh) {
		dirty_ = true;
		return;
	}
	SysctlEntry updated = e;
	updated.before = it->second.before; // the first original wins
	if (updated != it->second) {
		it->second = updated;
		dirty_ = true;
	}
}

void Journal::drop_sysctl(uint64_t netns)
{
	dirty_ |= c_.sysctls.erase(netns) > 0;
}

void Journal::note_clamp(const ClampEntry &e)
{
	auto [it, fresh] = c_.clamps.try_emplace(e.cookie, e);
	if (fresh)
		dirty_ = true;
}

void Journal::clamp_done(uint64_t cookie, uint32_t before)
{
	auto it = c_.clamps.find(cookie);
	if (it == c_.clamps.end() || it->second.done)
		return;
	it->second.before = before;
	it->second.done = true;
	dirty_ = true;
}

void Journal::drop_clamp(uint64_t cookie)
{
	dirty_ |= c_.clamps.erase(cookie) > 0;
}

Status Journal::commit()
{
	if (!dirty_ || path_.empty())
		return {};
	if (Status st = store(path_, c_); !st.ok())
		return st;
	dirty_ = false;
	return {};
}

Status Journal::discard()
{
	c_.sysctls.clear();
	c_.clamps.clear();
	dirty_ = false;
	if (path_.empty())
		return {};
	return remove(path_);
}

} // namespace rcvgov::journal
