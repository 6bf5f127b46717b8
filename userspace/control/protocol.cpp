#include "control/protocol.h"

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

Result<Request> parse_request(const nlohmann::json &req)
{
	if (!req.is_object() || !req.contains(key_cmd) || !req[key_cmd].is_string())
		return Error::msg("request must be an object with a string \"cmd\"", EINVAL);
	auto cmd = parse_command(req[key_cmd].get<std::string>());
	if (!cmd)
		return cmd.error();
	Request r;
	r.command = *cmd;
	if (req.contains(key_limit)) {
		const auto &l = req[key_limit];
		if (!l.is_number_integer() || (!l.is_number_unsigned() && l.get<int64_t>() < 0))
			return Error::msg("\"limit\" must be a non-negative integer", EINVAL);
		r.limit = l.get<size_t>();
	}
	if (r.command == Command::Events) {
		if (req.contains(key_type)) {
			if (!req[key_type].is_string())
				return Error::msg("\"type\" must be a string", EINVAL);
			auto t = parse_event_type(req[key_type].get<std::string>());
			if (!t)
				return t.error();
			r.event_types = {*t};
		} else {
			for (const auto &t : event_types)
				r.event_types.push_back(t.type);
		}
	}
	return r;
}

nlohmann::json make_request(Command c, size_t limit, std::optional<EventType> type)
{
	nlohmann::json j = {{key_cmd, std::string(command_name(c))}};
	if (limit && info(c).takes_limit)
		j[key_limit] = limit;
	if (type && c == Command::Events)
		j[key_type] = std::string(event_type_name(*type));
	return j;
}

} // namespace rcvgov::control
