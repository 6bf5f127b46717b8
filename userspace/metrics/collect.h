// Fills metrics::Values from what the daemon already keeps: the facts and
// counters `rcvgovctl status` shows (daemon/status_json.h), the governor's
// status and scopes, the socket table, and /proc/self. Runs on the daemon's
// loop; nothing here is shared with the exporter's thread.
#pragma once

#include <cstdint>
#include <vector>

#include "core/socket_table.h"
#include "daemon/status_json.h"
#include "governor/status.h"
#include "metrics/values.h"
#include "tracker/tracker.h"

namespace rcvgov::metrics {

// The services of `rows` (the governor's scopes): the `n` with the most
// usage (ties: by name), then "other" with the usage and limits of the
// rest summed (always present, zero when there is no rest). At most n + 1
// entries however many services there are.
std::vector<ServiceUsage> top_services(const std::vector<tracker::ScopeReport> &rows, uint32_t n);

// The per-socket histograms from one pass over the table: receive memory
// of every socket, data age of those with data waiting on a stalled reader.
void observe_sockets(const SocketTable &table, uint64_t now_ns, Histogram &bytes,
		     Histogram &age_seconds);

// Everything but the histograms and services (which change only with a
// snapshot): mode, paths, counters, totals, namespaces, the process.
void fill(Values &v, const DaemonFacts &f, const governor::GovernorStatus &g);

struct ProcessStats {
	uint64_t resident_bytes = 0;
	double cpu_seconds = 0;
};
ProcessStats read_process(); // /proc/self/statm and getrusage(RUSAGE_SELF)

} // namespace rcvgov::metrics
