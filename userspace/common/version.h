// The version every program prints with --version and the daemon reports in
// its status JSON: `git describe --tags --always --dirty` at build time
// (scripts/gen-version.sh writes $(GEN)/rcvgov_version.h), the VERSION file
// of a tree without git, or "0.0.0+unknown".
#pragma once

#include <string>
#include <string_view>

namespace rcvgov {

std::string_view version(); // "1.2.0", "1.2.0-3-gabc1234-dirty", "0.0.0+gabc1234"
std::string_view commit();  // "abc1234" (abbreviated), or "unknown"

// "<program> <version> (commit <sha>)", the line --version prints.
std::string version_line(std::string_view program);

} // namespace rcvgov
