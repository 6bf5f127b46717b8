// rcvgovd's log format. Under systemd, stderr is a stream to the journal
// (systemd.exec(5): JOURNAL_STREAM="DEV:INODE" names it), which stamps the
// time itself and reads a "<N>" syslog priority at the start of each line
// (sd-daemon(3)): lines are "<6>rcvgovd running: ...". Anywhere else
// (a terminal, a file, a test): "2026-12-02T12:00:00.000 info rcvgovd ...".
#pragma once

#include <memory>
#include <spdlog/common.h>
#include <spdlog/formatter.h>
#include <string>
#include <string_view>
#include <sys/types.h>

namespace rcvgov {

enum class LogStyle {
	Plain,	 // timestamp and level name
	Journal, // "<N>" priority prefix, no timestamp
};

// True when `journal_stream` ("DEV:INODE", decimal, as systemd sets it) is
// the device and inode of the fd (the fstat of stderr): the variable may be
// inherited by a child whose stderr was redirected elsewhere.
bool journal_stream_matches(std::string_view journal_stream, dev_t dev, ino_t ino);

// The style for `fd` given the environment's JOURNAL_STREAM (nullptr: not
// set).
LogStyle log_style_for(const char *journal_stream, int fd);

// The sd-daemon.h priority of a spdlog level: "<7>" debug and trace, "<6>"
// info, "<4>" warn, "<3>" err, "<2>" critical.
std::string_view syslog_prefix(spdlog::level::level_enum level);

// The pattern of each style (the journal's uses the %* flag, the prefix).
std::string_view log_pattern(LogStyle style);
// A formatter for the style (with the %* flag).
std::unique_ptr<spdlog::formatter> make_formatter(LogStyle style);

// Sets the default logger ("rcvgovd") on stderr in the style for stderr
// and the level, and returns the style chosen.
LogStyle setup_logging(spdlog::level::level_enum level);

} // namespace rcvgov
