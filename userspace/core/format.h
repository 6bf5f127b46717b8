// Text and JSON forms of sockets and events, shared by rcvgovd (which
// answers in JSON) and rcvgovctl (which renders tables from that JSON).
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>

#include "core/event.h"
#include "core/socket_info.h"

namespace rcvgov {

std::string format_endpoint(const Endpoint &ep);
std::string format_bytes(uint64_t bytes);
std::string_view tcp_state_name(uint8_t state);

nlohmann::json to_json(const SocketInfo &s, uint64_t now_ns);
nlohmann::json to_json(const Event &e);
nlohmann::json to_json(const Owner &o);

} // namespace rcvgov
