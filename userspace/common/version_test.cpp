#include "common/version.h"

#include <gtest/gtest.h>
#include <regex>

#include "pair/pair_args.h"

namespace rcvgov {
namespace {

TEST(Version, IsFilledIn)
{
	EXPECT_FALSE(version().empty());
	EXPECT_FALSE(commit().empty());
	// Only what a C string literal and a package version can hold.
	EXPECT_TRUE(std::regex_match(std::string(version()), std::regex("[A-Za-z0-9.+~:_-]+")))
		<< version();
	EXPECT_TRUE(std::regex_match(std::string(commit()), std::regex("[A-Za-z0-9.+~:_-]+")))
		<< commit();
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
