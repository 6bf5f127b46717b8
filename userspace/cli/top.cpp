#include "cli/top.h"

#include <algorithm>
#include <cstdio>
#include <sstream>
#include <vector>

#include "cli/render.h"
#include "control/protocol.h"

namespace rcvgov::cli {

namespace {

// Longest service path and endpoint shown before they are cut.
constexpr size_t kServiceWidth = 40;
constexpr size_t kEndpointWidth = 47; // "[ffff:...:ffff]:65535"
// Lines of a frame besides the two tables' rows: the header (4), a blank,
// the services' header and its "(N more)" row, a blank, the sockets' header.
constexpr size_t kFixedLines = 9;

uint64_t counter(const nlohmann::json &j, std::initializer_list<const char *> path)
{
	const nlohmann::json *p = &j;
	for (const char *k : path) {
		if (!p->is_object() || !p->contains(k))
			return 0;
		p = &(*p)[k];
	}
	if (p->is_number_integer() && (p->is_number_unsigned() || p->get<int64_t>() >= 0))
		return p->get<uint64_t>();
	return 0;
}

std::optional<double> rate(uint64_t before, uint64_t now, double seconds)
{
	if (seconds <= 0 || now < before)
		return std::nullopt;
	return double(now - before) / seconds;
}

std::string rate_text(const std::optional<double> &r)
{
	if (!r)
		return "-";
	char buf[32];
	std::snprintf(buf, sizeof(buf), "%.1f", *r);
	return buf;
}

std::string percent(uint64_t part, uint64_t whole)
{
	if (!whole)
		return "-";
	char buf[32];
	std::snprintf(buf, sizeof(buf), "%.1f%%", 100.0 * double(part) / double(whole));
	return buf;
}

// Every line of text cut to width.
std::string cut_lines(const std::string &text, size_t width)
{
	std::istringstream in(text);
	std::string line, out;
	while (std::getline(in, line))
		out += truncate_right(line, width) + "\n";
	return out;
}

std::string services_table(const nlohmann::json &resources, size_t n)
{
	std::vector<const nlohmann::json *> rows;
	if (resources.is_array())
		for (const auto &r : resources)
			if (r.is_object() && r.value("scope", "") == "service")
				rows.push_back(&r);
	std::stable_sort(rows.begin(), rows.end(), [](const auto *a, const auto *b) {
		return counter(*a, {"usage"}) > counter(*b, {"usage"});
	});
	std::vector<std::vector<std::string>> t{{"SERVICE", "USAGE", "LIMIT", "USE%", "SOCKETS"}};
	for (size_t i = 0; i < rows.size() && i < n; ++i) {
		const auto &r = *rows[i];
		t.push_back({truncate_left(cell::str(r, "key"), kServiceWidth),
			     cell::bytes(r, "usage"), cell::bytes(r, "limit"),
			     percent(counter(r, {"usage"}), counter(r, {"limit"})),
			     cell::u64(r, "participants")});
	}
	if (rows.size() > n)
		t.push_back({"(" + std::to_string(rows.size() - n) + " more)"});
	return table(t);
}

std::string sockets_table(const nlohmann::json &sockets, size_t n)
{
	std::vector<std::vector<std::string>> t{
		{"COOKIE", "R", "RB", "STALL", "STATE", "SERVICE", "LOCAL", "PEER"}};
	size_t i = 0;
	if (sockets.is_array())
		for (const auto &s : sockets) {
			if (i++ == n)
				break;
			t.push_back({cell::u64(s, "cookie"), cell::bytes(s, "rmem_alloc"),
				     cell::bytes(s, "rcvbuf"), cell::stall(s), cell::enforcement(s),
				     truncate_left(cell::str(s, "service"), kServiceWidth),
				     truncate_right(cell::str(s, "local"), kEndpointWidth),
				     truncate_right(cell::str(s, "peer"), kEndpointWidth)});
		}
	return table(t);
}

} // namespace

uint64_t events_total(const nlohmann::json &status)
{
	uint64_t n = 0;
	for (const auto &t : control::event_types)
		n += counter(status, {"counters",
				      ("events_" + std::string(event_type_name(t.type))).c_str()});
	return n;
}

uint64_t inflations_total(const nlohmann::json &status)
{
	return counter(status, {"counters", "events_inflation"});
}

uint64_t actions_total(const nlohmann::json &status)
{
	return counter(status, {"governance", "actions", "recorded"});
}

Rates compute_rates(const TopSample *prev, const TopSample &cur)
{
	Rates r;
	if (!prev)
		return r;
	// Another daemon (restarted) since the last sample: its counters
	// started again.
	if (counter(prev->status, {"pid"}) != counter(cur.status, {"pid"}))
		return r;
	const double dt = cur.t_s - prev->t_s;
	r.events = rate(events_total(prev->status), events_total(cur.status), dt);
	r.inflations = rate(inflations_total(prev->status), inflations_total(cur.status), dt);
	r.actions = rate(actions_total(prev->status), actions_total(cur.status), dt);
	return r;
}

TopLayout layout_for(size_t width, size_t height, double interval_s)
{
	TopLayout l;
	l.width = std::max<size_t>(width, 20);
	l.interval_s = interval_s;
	const size_t rows = height > kFixedLines + 2 ? height - kFixedLines : 2;
	// A third for the services (at most 10), the rest for the sockets.
	l.services = std::clamp<size_t>(rows / 3, 1, 10);
	l.sockets = std::max<size_t>(rows - l.services, 1);
	return l;
}

std::string truncate_right(std::string_view s, size_t width)
{
	if (s.size() <= width)
		return std::string(s);
	if (width < 4)
		return std::string(s.substr(0, width));
	return std::string(s.substr(0, width - 3)) + "...";
}

std::string truncate_left(std::string_view s, size_t width)
{
	if (s.size() <= width)
		return std::string(s);
	if (width < 4)
		return std::string(s.substr(s.size() - width));
	return "..." + std::string(s.substr(s.size() - (width - 3)));
}

std::string render_top(const TopSample *prev, const TopSample &cur, const TopLayout &layout)
{
	auto object = [](const nlohmann::json &j, const char *key) {
		return j.is_object() && j.contains(key) && j[key].is_object()
			       ? j[key]
			       : nlohmann::json::object();
	};
	const nlohmann::json &st = cur.status;
	const nlohmann::json g = object(st, "governance");
	const nlohmann::json lim = object(g, "limits");
	const Rates r = compute_rates(prev, cur);
	char every[32];
	std::snprintf(every, sizeof(every), "%.1f", layout.interval_s);

	std::ostringstream out;
	out << "rcvgov top  " << cur.wall << "  every " << every << " s  (q quits)\n";
	out << "rcvgovd pid " << cell::u64(st, "pid") << ", " << cell::str(st, "mode") << ", "
	    << cell::str(g, "mode") << ", " << cell::u64(st, "sockets_tracked") << " sockets, "
	    << cell::u64(g, "clamped_sockets") << " clamped\n";
	out << "per second: events " << rate_text(r.events) << ", inflations "
	    << rate_text(r.inflations) << ", actions " << rate_text(r.actions) << "\n";
	out << "memory: " << cell::bytes(g, "total") << " of max " << cell::bytes(lim, "max")
	    << " (" << percent(counter(g, {"total"}), counter(lim, {"max"})) << "), low water "
	    << cell::bytes(lim, "low_water") << (g.value("reclaiming", false) ? ", RECLAIMING" : "")
	    << (object(g, "breaker").value("tripped", false) ? ", BREAKER TRIPPED" : "") << "\n\n";
	out << services_table(cur.resources, layout.services) << "\n";
	out << sockets_table(cur.sockets, layout.sockets);
	return cut_lines(out.str(), layout.width);
}

} // namespace rcvgov::cli
