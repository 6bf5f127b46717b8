#include "daemon/log_setup.h"

#include <charconv>
#include <cstdlib>
#include <memory>
#include <spdlog/pattern_formatter.h>
#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/sinks/stdout_sinks.h>
#include <spdlog/spdlog.h>
#include <sys/stat.h>
#include <unistd.h>

namespace rcvgov {

namespace {

// %*: the "<N>" priority of the message's level.
class PriorityFlag : public spdlog::custom_flag_formatter {
public:
	void format(const spdlog::details::log_msg &msg, const std::tm &,
		    spdlog::memory_buf_t &dest) override
	{
		std::string_view p = syslog_prefix(msg.level);
		dest.append(p.data(), p.data() + p.size());
	}
	std::unique_ptr<custom_flag_formatter> clone() const override
	{
		return std::make_unique<PriorityFlag>();
	}
};

template <class T> bool parse_decimal(std::string_view s, T &out)
{
	if (s.empty())
		return false;
	auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), out);
	return ec == std::errc() && end == s.data() + s.size();
}

} // namespace

bool journal_stream_matches(std::string_view journal_stream, dev_t dev, ino_t ino)
{
	const size_t colon = journal_stream.find(':');
	if (colon == std::string_view::npos)
		return false;
	unsigned long long d = 0, i = 0;
	if (!parse_decimal(journal_stream.substr(0, colon), d) ||
	    !parse_decimal(journal_stream.substr(colon + 1), i))
		return false;
	return d == static_cast<unsigned long long>(dev) &&
	       i == static_cast<unsigned long long>(ino);
}

LogStyle log_style_for(const char *journal_stream, int fd)
{
	struct stat st;
	if (!journal_stream || fstat(fd, &st) != 0)
		return LogStyle::Plain;
	return journal_stream_matches(journal_stream, st.st_dev, st.st_ino) ? LogStyle::Journal
									    : LogStyle::Plain;
}

std::string_view syslog_prefix(spdlog::level::level_enum level)
{
	switch (level) {
	case spdlog::level::trace:
	case spdlog::level::debug: return "<7>";
	case spdlog::level::info: return "<6>";
	case spdlog::level::warn: return "<4>";
	case spdlog::level::err: return "<3>";
	case spdlog::level::critical: return "<2>";
	case spdlog::level::off:
	case spdlog::level::n_levels: break;
	}
	return "<6>";
}

std::string_view log_pattern(LogStyle style)
{
	return style == LogStyle::Journal ? "%*%v" : "%Y-%m-%dT%H:%M:%S.%e %^%l%$ %v";
}

std::unique_ptr<spdlog::formatter> make_formatter(LogStyle style)
{
	auto f = std::make_unique<spdlog::pattern_formatter>();
	f->add_flag<PriorityFlag>('*');
	f->set_pattern(std::string(log_pattern(style)));
	return f;
}

LogStyle setup_logging(spdlog::level::level_enum level)
{
	const LogStyle style = log_style_for(std::getenv("JOURNAL_STREAM"), STDERR_FILENO);
	// No colours for the journal: it is not a terminal.
	std::shared_ptr<spdlog::logger> logger = style == LogStyle::Journal
							 ? spdlog::stderr_logger_mt("rcvgovd")
							 : spdlog::stderr_color_mt("rcvgovd");
	logger->set_formatter(make_formatter(style));
	spdlog::set_default_logger(logger);
	spdlog::set_level(level);
	return style;
}

} // namespace rcvgov
