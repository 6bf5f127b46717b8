// The control answers of the audit trail and the operator views built on
// it: `events --type action` (the governor's action ring), the service and
// clamp state of each row of `sockets`, and `sample` (one socket read now
// through sock_diag, for rcvgovctl record).
#pragma once

#include <map>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>

#include "common/error.h"
#include "control/protocol.h"
#include "core/socket_table.h"
#include "governor/action_log.h"
#include "governor/governor.h"
#include "netns/netns.h"

namespace rcvgov {

nlohmann::json action_json(const governor::ActionRecord &r);
// One page of the ring (control/protocol.h: newest first by page, each
// page in time order).
nlohmann::json actions_page(const governor::ActionLog &log, const control::Request &r);

// Adds to a `sockets` row: "enforcement" (the tracker's state), "clamped"
// and "rcvbuf_locked" (a clamp locks sk_rcvbuf: the row's rcvbuf is the
// lock), "service" (cgroup path, or netns:<cookie> for the root cgroup).
void annotate_socket(nlohmann::json &row, const SocketInfo &s, const governor::Governor &g);

// The TcpExt counters of /proc/net/netstat text (header line, value line).
std::map<std::string, uint64_t> parse_netstat(std::string_view text);

// `sample`: the socket the request names (by cookie, or the established
// socket on a local port with the most receive memory), read now through
// sock_diag inside its namespace, with its namespace's TcpExt zero-window
// and prune counters; from the daemon's table when the namespace cannot
// be entered ("source": "table"). ENOENT when no such socket is known.
Result<nlohmann::json> sample_json(const control::Request &r, const SocketTable &table,
				   const netns::Registry &registry, const governor::Governor &g);

} // namespace rcvgov
