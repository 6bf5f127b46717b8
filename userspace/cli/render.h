// rcvgovctl's human output, rendered from the daemon's JSON answers.
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

namespace rcvgov::cli {

// Left-aligned columns two spaces apart, each as wide as its widest cell;
// without the first row (the header) when header is false.
std::string table(const std::vector<std::vector<std::string>> &rows, bool header = true);

// One cell of a table from a JSON answer; "-" when the key is missing or
// not of the expected type.
namespace cell {
std::string u64(const nlohmann::json &j, const char *key);
std::string bytes(const nlohmann::json &j, const char *key); // "1.5M"
std::string str(const nlohmann::json &j, const char *key);
// A socket's stall_ms as "850ms" / "19s", ">19s" for a lower bound.
std::string stall(const nlohmann::json &s);
// A socket's enforcement state, ",locked" when its rcvbuf is locked.
std::string enforcement(const nlohmann::json &s);
} // namespace cell

// header false: the rows only (a later page of the same listing).
std::string render_sockets(const nlohmann::json &sockets, bool header = true);
std::string render_status(const nlohmann::json &status);
std::string render_events(const nlohmann::json &events);
// "pid/comm cg=ID ns=COOKIE"; without cg= when with_cgroup is false (a
// row that shows the service path instead).
std::string render_owner(const nlohmann::json &owner, bool with_cgroup = true);
// The audit trail (events --type action), oldest first.
std::string render_actions(const nlohmann::json &actions);
// Scopes closest to their limit first (the daemon sends them sorted).
std::string render_resources(const nlohmann::json &scopes);

} // namespace rcvgov::cli
