// rcvgovctl record: samples one socket through rcvgovd (the `sample`
// request: sock_diag inside the socket's namespace) every interval and
// writes a CSV a plot script reads like a scripts/lab.sh run.
//
// CSV columns, in this order (the first 13 exactly lab.sh's):
//   t_s            seconds since the first sample ("%.3f")
//   r              sk_rmem_alloc (skmem r), bytes
//   rb             sk_rcvbuf (skmem rb), bytes
//   rcv_space      tcpi_rcv_space
//   rcv_ssthresh   tcpi_rcv_ssthresh
//   rcv_wnd        tcpi_rcv_wnd, the window last advertised (empty before 6.4)
//   recv_q         unread bytes (Recv-Q)
//   bytes_received tcpi_bytes_received
//   drops          skmem d (SK_MEMINFO_DROPS)
//   want_zero_win  TcpExtTCPWantZeroWindowAdv \  of the socket's network
//   to_zero_win    TcpExtTCPToZeroWindowAdv    | namespace (absolute: a
//   prune_called   TcpExtPruneCalled           | namespace's counters start
//   rcv_pruned     TcpExtRcvPruned            /  at zero)
//   zero_window    1 when rcv_wnd is 0, 0 when not, empty when unknown
//   action         rcvgovd's latest action on the socket since the last
//                  row, empty when none: clamp or destroy when done, else
//                  prefixed with its result: dry_run:clamp, error:destroy,
//                  skipped:destroy, gone:clamp (the words
//                  scripts/plot/rcvgov-plot.py reads)
// Unknown values are empty fields; a row of empty fields after t_s means
// the socket was gone (then recording stops), as in lab.sh.
#pragma once

#include <array>
#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>

namespace rcvgov::cli {

inline constexpr std::array<std::string_view, 15> record_columns = {
	"t_s",		"r",
	"rb",		"rcv_space",
	"rcv_ssthresh", "rcv_wnd",
	"recv_q",	"bytes_received",
	"drops",	"want_zero_win",
	"to_zero_win",	"prune_called",
	"rcv_pruned",	"zero_window",
	"action"};

// The header line (with its newline).
std::string record_header();
// One row (with its newline) from a `sample` answer; a null sample: the
// socket is gone (every field but t_s empty).
std::string record_row(double t_s, const nlohmann::json &sample, std::string_view action);
// The action column for a sample: the socket's latest action when it is
// newer than last_seq and happened at or after since_wall_ms (not before
// the recording started); "" otherwise. last_seq follows the sample.
std::string new_action(const nlohmann::json &sample, uint64_t &last_seq, uint64_t since_wall_ms);

struct RecordOptions {
	std::string socket; // rcvgovd's control socket
	uint64_t cookie = 0;
	uint16_t port = 0;
	uint32_t interval_ms = 1000;
	double duration_s = 0; // 0: until Ctrl-C
	std::string out = "-"; // "-": stdout
};

// Exit status: 0 (done, interrupted, or the socket went away), 1 (no such
// socket, rcvgovd cannot be asked, the file cannot be written).
int run_record(const RecordOptions &o);

} // namespace rcvgov::cli
