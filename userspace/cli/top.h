// rcvgovctl top: one frame of the live view, rendered from the daemon's
// answers (status, resources, one page of sockets) by pure functions, so
// rates, layout and truncation are unit-tested with fixed inputs. The loop
// that asks, draws and reads keys is cli/top_loop.cpp.
#pragma once

#include <cstddef>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>

namespace rcvgov::cli {

// What one refresh asked the daemon.
struct TopSample {
	nlohmann::json status;				    // `status`
	nlohmann::json resources = nlohmann::json::array(); // `resources`
	nlohmann::json sockets = nlohmann::json::array();   // `sockets`, largest first
	double t_s = 0;					    // when, on a monotonic clock
	std::string wall;				    // when, for the header
};

// The counters the rates come from, out of one status answer.
uint64_t events_total(const nlohmann::json &status);	 // kernel events of every type
uint64_t inflations_total(const nlohmann::json &status); // events_inflation
uint64_t actions_total(const nlohmann::json &status);	 // the audit trail's recorded

struct Rates {
	// Per second; none without an earlier sample, when no time passed, or
	// when a counter went backwards (the daemon restarted).
	std::optional<double> events, inflations, actions;
};
Rates compute_rates(const TopSample *prev, const TopSample &cur);

struct TopLayout {
	size_t width = 100;  // columns: every line is cut to this
	size_t services = 5; // top services shown
	size_t sockets = 10; // top sockets shown
	double interval_s = 1;
};
// The layout for a terminal of width x height: the header, then services
// and sockets sharing the rest (at least one row each).
TopLayout layout_for(size_t width, size_t height, double interval_s);

// s cut to width characters: "abcdef" at 5 -> "ab..."; the start kept.
std::string truncate_right(std::string_view s, size_t width);
// s cut to width characters keeping the end (a path's last components):
// "/system.slice/foo.service" at 12 -> "...o.service".
std::string truncate_left(std::string_view s, size_t width);

// One frame: no screen control, lines cut to layout.width.
std::string render_top(const TopSample *prev, const TopSample &cur, const TopLayout &layout);

} // namespace rcvgov::cli
