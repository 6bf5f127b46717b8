#include "daemon/log_setup.h"

#include <cstdio>
#include <gtest/gtest.h>
#include <spdlog/pattern_formatter.h>
#include <spdlog/sinks/ostream_sink.h>
#include <spdlog/spdlog.h>
#include <sstream>
#include <string>
#include <sys/stat.h>
#include <unistd.h>

namespace rcvgov {
namespace {

TEST(LogSetup, JournalStreamMatchesOnlyTheSameDeviceAndInode)
{
	EXPECT_TRUE(journal_stream_matches("8:12345", 8, 12345));
	EXPECT_FALSE(journal_stream_matches("8:12345", 8, 12346));
	EXPECT_FALSE(journal_stream_matches("9:12345", 8, 12345));
	for (const char *bad : {"", ":", "8:", ":12345", "8", "8:12345x", "x:1", "8 :12345", "8:-1",
				"-8:12345", "8:12345:1"})
		EXPECT_FALSE(journal_stream_matches(bad, 8, 12345)) << bad;
	// Large device numbers (makedev of a high major) are plain decimals.
	EXPECT_TRUE(journal_stream_matches("18446744073709551615:1", dev_t(~0ULL), 1));
}

// The fd's own device and inode select the journal style; anything else
// (unset, another file, garbage) keeps the plain one.
TEST(LogSetup, StyleFollowsTheFstatOfTheFd)
{
	FILE *f = std::tmpfile();
	ASSERT_NE(f, nullptr);
	const int fd = fileno(f);
	struct stat st;
	ASSERT_EQ(fstat(fd, &st), 0);
	const std::string same =
		std::to_string(st.st_dev) + ":" + std::to_string(static_cast<uint64_t>(st.st_ino));
	const std::string other = std::to_string(st.st_dev) + ":" +
				  std::to_string(static_cast<uint64_t>(st.st_ino) + 1);
	EXPECT_EQ(log_style_for(same.c_str(), fd), LogStyle::Journal);
	EXPECT_EQ(log_style_for(other.c_str(), fd), LogStyle::Plain);
	EXPECT_EQ(log_style_for(nullptr, fd), LogStyle::Plain);
	EXPECT_EQ(log_style_for("garbage", fd), LogStyle::Plain);
	std::fclose(f);
	EXPECT_EQ(log_style_for(same.c_str(), fd), LogStyle::Plain); // closed: fstat fails
}

TEST(LogSetup, PrioritiesAreSdDaemonLevels)
{
	EXPECT_EQ(syslog_prefix(spdlog::level::trace), "<7>");
	EXPECT_EQ(syslog_prefix(spdlog::level::debug), "<7>");
	EXPECT_EQ(syslog_prefix(spdlog::level::info), "<6>");
	EXPECT_EQ(syslog_prefix(spdlog::level::warn), "<4>");
	EXPECT_EQ(syslog_prefix(spdlog::level::err), "<3>");
	EXPECT_EQ(syslog_prefix(spdlog::level::critical), "<2>");
}

TEST(LogSetup, PatternsHaveATimestampOnlyWhenPlain)
{
	EXPECT_EQ(log_pattern(LogStyle::Journal).find("%Y"), std::string_view::npos);
	EXPECT_NE(log_pattern(LogStyle::Plain).find("%Y"), std::string_view::npos);
}

// What setup_logging() writes, through an ostream sink instead of stderr.
TEST(LogSetup, JournalLinesStartWithThePriority)
{
	std::ostringstream out;
	auto sink = std::make_shared<spdlog::sinks::ostream_sink_mt>(out);
	spdlog::logger logger("t", sink);
	logger.set_level(spdlog::level::trace);
	// The same formatter setup_logging() builds for the journal style.
	logger.set_formatter(make_formatter(LogStyle::Journal));
	logger.info("running");
	logger.warn("careful");
	logger.critical("gone");
	EXPECT_EQ(out.str(), "<6>running\n<4>careful\n<2>gone\n");
}

} // namespace
} // namespace rcvgov
