#include "common/version.h"

#include <gtest/gtest.h>
#include <string_view>

#include "pair/pair_args.h"

namespace rcvgov {
namespace {

// [A-Za-z0-9.+~:_-]+ (no <regex>: GCC 12 warns inside it under ASan).
bool package_safe(std::string_view v)
{
	if (v.empty())
		return false;
	for (char c : v)
		if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
		      std::string_view(".+~:_-").find(c) != std::string_view::npos))
			return false;
	return true;
}

TEST(Version, IsFilledIn)
{
	EXPECT_FALSE(version().empty());
	EXPECT_FALSE(commit().empty());
	// Only what a C string literal and a package version can hold.
	EXPECT_TRUE(package_safe(version())) << version();
	EXPECT_TRUE(package_safe(commit())) << commit();
}

TEST(Version, LineNamesProgramVersionAndCommit)
{
	EXPECT_EQ(version_line("rcvgovd"),
		  "rcvgovd " + std::string(version()) + " (commit " + std::string(commit()) + ")");
}

TEST(Version, PairProgramsAnswerVersionBeforeRequiredOptions)
{
	// --connect / --listen are required, --version alone must still work.
	try {
		(void)pair::parse_sender_args({"--version"});
		FAIL() << "no HelpRequested";
	} catch (const pair::HelpRequested &h) {
		EXPECT_EQ(h.text, version_line("rcvgov-sender") + "\n");
	}
	try {
		(void)pair::parse_reader_args({"--version"});
		FAIL() << "no HelpRequested";
	} catch (const pair::HelpRequested &h) {
		EXPECT_EQ(h.text, version_line("rcvgov-reader") + "\n");
	}
}

} // namespace
} // namespace rcvgov
