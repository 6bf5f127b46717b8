#include "control/protocol.h"

#include <algorithm>
#include <cerrno>

namespace rcvgov::control {

const CommandInfo &info(Command c)
{
	for (const auto &i : commands)
		if (i.command == c)
			return i;
	return commands[0]; // unreachable: every Command is in the table
}

std::string_view command_name(Command c)
{
	return info(c).name;
}

std::string command_names()
{
	std::string s;
	for (const auto &i : commands)
		s += (s.empty() ? "" : ", ") + std::string(i.name);
	return s;
}

std::vector<std::string> event_type_name_list()
{
	std::vector<std::string> v;
	for (const auto &t : event_types)
		v.emplace_back(event_type_name(t.type));
	return v;
}

std::string event_type_names()
{
	std::string s;
	for (const auto &n : event_type_name_list())
		s += (s.empty() ? "" : ", ") + n;
	return s;
}

Result<Command> parse_command(std::string_view name)
{
	for (const auto &i : commands)
		if (i.name == name)
			return i.command;
	return Error::msg("unknown command \"" + std::string(name) + "\" (try " + command_names() +
				  ")",
			  EINVAL);
}

Result<EventType> parse_event_type(std::string_view name)
{
	if (auto t = event_type_from_name(name))
		return *t;
	return Error::msg("unknown event type \"" + std::string(name) + "\" (" +
				  event_type_names() + ")",
			  EINVAL);
}

namespace {

Result<Request> parse_sample(const nlohmann::json &req, Request r)
{
	auto u64 = [&](const char *key) -> std::optional<uint64_t> {
		const auto &v = req[key];
		if (!v.is_number_unsigned())
			return std::nullopt;
		return v.get<uint64_t>();
	};
	const bool by_cookie = req.contains(key_cookie), by_port = req.contains(key_port);
	if (by_cookie == by_port)
		return Error::msg("sample needs exactly one of \"cookie\" and \"port\"", EINVAL);
	if (by_cookie) {
		auto c = u64(key_cookie);
		if (!c || *c == 0)
			return Error::msg("\"cookie\" must be a socket cookie (a positive integer)",
					  EINVAL);
		r.cookie = *c;
	} else {
		auto p = u64(key_port);
		if (!p || *p == 0 || *p > 65535)
			return Error::msg("\"port\" must be a TCP port (1..65535)", EINVAL);
		r.port = static_cast<uint16_t>(*p);
	}
	return r;
}

} // namespace

Result<Request> parse_request(const nlohmann::json &req)
{
	if (!req.is_object() || !req.contains(key_cmd) || !req[key_cmd].is_string())
		return Error::msg("request must be an object with a string \"cmd\"", EINVAL);
	auto cmd = parse_command(req[key_cmd].get<std::string>());
	if (!cmd)
		return cmd.error();
	Request r;
	r.command = *cmd;
	for (const char *key : {key_limit, key_offset}) {
		if (!req.contains(key))
			continue;
		const auto &v = req[key];
		if (!v.is_number_integer() || (!v.is_number_unsigned() && v.get<int64_t>() < 0))
			return Error::msg("\"" + std::string(key) +
						  "\" must be a non-negative integer",
					  EINVAL);
		(key == key_limit ? r.limit : r.offset) = v.get<size_t>();
	}
	r.limit = std::min(r.limit, max_page_rows);
	if (r.command == Command::Events) {
		if (req.contains(key_type)) {
			if (!req[key_type].is_string())
				return Error::msg("\"type\" must be a string", EINVAL);
			const std::string name = req[key_type].get<std::string>();
			if (name == action_event_type) {
				r.actions = true;
				return r;
			}
			auto t = parse_event_type(name);
			if (!t)
				return Error::msg("unknown event type \"" + name + "\" (" +
							  event_type_names() + ", " +
							  std::string(action_event_type) + ")",
						  EINVAL);
			r.event_types = {*t};
		} else {
			for (const auto &t : event_types)
				r.event_types.push_back(t.type);
		}
	}
	if (r.command == Command::Sample)
		return parse_sample(req, r);
	return r;
}

nlohmann::json make_request(Command c, size_t limit, std::optional<EventType> type, size_t offset)
{
	nlohmann::json j = {{key_cmd, std::string(command_name(c))}};
	if (limit && info(c).takes_limit)
		j[key_limit] = limit;
	if (offset && info(c).takes_limit)
		j[key_offset] = offset;
	if (type && c == Command::Events)
		j[key_type] = std::string(event_type_name(*type));
	return j;
}

nlohmann::json make_action_request(size_t limit, size_t offset)
{
	nlohmann::json j = make_request(Command::Events, limit, std::nullopt, offset);
	j[key_type] = std::string(action_event_type);
	return j;
}

nlohmann::json make_sample_request(uint64_t cookie, uint16_t port)
{
	nlohmann::json j = {{key_cmd, std::string(command_name(Command::Sample))}};
	if (cookie)
		j[key_cookie] = cookie;
	else
		j[key_port] = port;
	return j;
}

nlohmann::json make_page(nlohmann::json items, size_t offset, size_t total)
{
	size_t end = offset + items.size();
	nlohmann::json j = {{"items", std::move(items)}, {"offset", offset}, {"total", total}};
	j["next_offset"] = end < total ? nlohmann::json(end) : nlohmann::json(nullptr);
	return j;
}

Result<Page> parse_page(const nlohmann::json &data)
{
	auto bad = [] { return Error::msg("rcvgovd answered a page without items", EPROTO); };
	if (!data.is_object() || !data.contains("items") || !data["items"].is_array())
		return bad();
	auto count = [&](const char *key) -> std::optional<size_t> {
		if (!data.contains(key) || !data[key].is_number_integer() ||
		    (!data[key].is_number_unsigned() && data[key].get<int64_t>() < 0))
			return std::nullopt;
		return data[key].get<size_t>();
	};
	Page p;
	p.items = data["items"];
	p.offset = count("offset").value_or(0);
	p.total = count("total").value_or(0);
	p.next_offset = count("next_offset");
	// A daemon that answers a next page that does not advance would make
	// a client loop for ever.
	if (p.next_offset && *p.next_offset <= p.offset)
		return Error::msg("rcvgovd answered a page that does not advance", EPROTO);
	return p;
}

std::pair<size_t, size_t> page_bounds(const Request &r, size_t total)
{
	size_t begin = std::min(r.offset, total);
	size_t end = begin + std::min(r.limit, total - begin);
	return {begin, end};
}

} // namespace rcvgov::control
