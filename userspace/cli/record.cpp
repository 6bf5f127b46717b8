#include "cli/record.h"

#include <chrono>
#include <cstdio>
#include <fstream>
#include <iostream>

#include "cli/interrupt.h"
#include "control/control.h"
#include "control/protocol.h"

namespace rcvgov::cli {

namespace {

namespace ctl = control;

// A field as the CSV writes it: numbers as they are, booleans 1/0, the
// rest (null, missing) empty.
std::string field(const nlohmann::json &j, std::string_view key)
{
	if (!j.is_object())
		return "";
	auto it = j.find(std::string(key));
	if (it == j.end())
		return "";
	if (it->is_boolean())
		return it->get<bool>() ? "1" : "0";
	if (it->is_number_unsigned())
		return std::to_string(it->get<uint64_t>());
	if (it->is_number_integer())
		return std::to_string(it->get<int64_t>());
	return "";
}

double now_s()
{
	using namespace std::chrono;
	return duration<double>(steady_clock::now().time_since_epoch()).count();
}

uint64_t wall_ms()
{
	using namespace std::chrono;
	return duration_cast<milliseconds>(system_clock::now().time_since_epoch()).count();
}

// rcvgovd's answer when the socket is not (or no longer) there.
bool socket_gone(const Error &e)
{
	return e.message.find("is gone") != std::string::npos ||
	       e.message.find("no socket with cookie") != std::string::npos;
}

} // namespace

std::string record_header()
{
	std::string s;
	for (auto c : record_columns)
		s += (s.empty() ? "" : ",") + std::string(c);
	return s + "\n";
}

std::string record_row(double t_s, const nlohmann::json &sample, std::string_view action)
{
	char t[32];
	std::snprintf(t, sizeof(t), "%.3f", t_s);
	std::string s = t;
	// Every column between t_s and action has the sample's key of its name.
	for (size_t i = 1; i + 1 < record_columns.size(); ++i)
		s += "," + field(sample, record_columns[i]);
	return s + "," + std::string(sample.is_object() ? action : "") + "\n";
}

std::string new_action(const nlohmann::json &sample, uint64_t &last_seq, uint64_t since_wall_ms)
{
	if (!sample.is_object() || !sample.contains("last_action") ||
	    !sample["last_action"].is_object())
		return "";
	const auto &a = sample["last_action"];
	const uint64_t seq = a.value("seq", uint64_t{0});
	if (seq <= last_seq)
		return "";
	last_seq = seq;
	if (a.value("wall_ms", uint64_t{0}) < since_wall_ms)
		return "";
	const std::string verb = a.value("action", std::string("action"));
	const std::string result = a.value("result", std::string());
	// scripts/plot/rcvgov-plot.py's words: "clamp", "dry_run:clamp", ...
	return result == "ok" ? verb : result + ":" + verb;
}

int run_record(const RecordOptions &o)
{
	catch_interrupts();
	std::ofstream file;
	if (o.out != "-") {
		file.open(o.out, std::ios::out | std::ios::trunc);
		if (!file) {
			std::cerr << "rcvgovctl: cannot write " << o.out << "\n";
			return 1;
		}
	}
	std::ostream &out = o.out == "-" ? std::cout : file;
	const uint64_t since = wall_ms();
	// The first sample picks the socket (by port: the one with the most
	// receive memory); the recording then follows that cookie. rcvgovd may
	// not know a new connection yet: asked again for up to 2 s.
	Result<nlohmann::json> first = Error::msg("not asked");
	const double give_up = now_s() + 2;
	while (!interrupted()) {
		first = ctl::call(o.socket, ctl::make_sample_request(o.cookie, o.port));
		if (first || now_s() >= give_up)
			break;
		nap_ms(200);
	}
	if (!first) {
		std::cerr << "rcvgovctl: " << first.error().message << "\n";
		return 1;
	}
	const uint64_t cookie = first->value("cookie", uint64_t{0});
	std::cerr << "rcvgovctl: recording socket " << cookie << " " << first->value("local", "")
		  << " <- " << first->value("peer", "") << " every " << o.interval_ms << " ms"
		  << (o.out == "-" ? "" : " into " + o.out) << "\n";
	out << record_header();
	uint64_t last_seq = 0;
	const double t0 = now_s();
	nlohmann::json sample = std::move(*first);
	for (uint64_t k = 1;; ++k) {
		out << record_row(now_s() - t0, sample, new_action(sample, last_seq, since))
		    << std::flush;
		if (!out) {
			std::cerr << "rcvgovctl: writing " << o.out << " failed\n";
			return 1;
		}
		if (sample.is_null() || interrupted())
			break;
		const double next = t0 + double(k) * o.interval_ms / 1000.0;
		if (o.duration_s > 0 && next - t0 > o.duration_s + 0.0005)
			break;
		nap_ms(static_cast<long>((next - now_s()) * 1000));
		if (interrupted())
			break;
		auto s = ctl::call(o.socket, ctl::make_sample_request(cookie, 0));
		if (!s && !socket_gone(s.error())) {
			std::cerr << "rcvgovctl: " << s.error().message << "\n";
			return 1;
		}
		if (!s)
			std::cerr << "rcvgovctl: socket " << cookie << " is gone\n";
		sample = s ? std::move(*s) : nlohmann::json(nullptr);
	}
	return 0;
}

} // namespace rcvgov::cli
