// The sock_diag fallback as a snapshot source: every TCP socket of the
// current network namespace as SocketInfo. Throws std::runtime_error.
#pragma once

#include <cstdint>
#include <vector>

#include "core/socket_info.h"

namespace rcvgov {

std::vector<SocketInfo> diag_snapshot(uint64_t now_ns);

} // namespace rcvgov
