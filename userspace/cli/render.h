// rcvgovctl's human output, rendered from the daemon's JSON answers.
#pragma once

#include <nlohmann/json.hpp>
#include <string>

namespace rcvgov::cli {

// header false: the rows only (a later page of the same listing).
std::string render_sockets(const nlohmann::json &sockets, bool header = true);
std::string render_status(const nlohmann::json &status);
std::string render_events(const nlohmann::json &events);
std::string render_owner(const nlohmann::json &owner);
// Scopes closest to their limit first (the daemon sends them sorted).
std::string render_resources(const nlohmann::json &scopes);

} // namespace rcvgov::cli
