#include "common/version.h"

// Generated at build time (scripts/gen-version.sh), only this file includes
// it: a new commit recompiles one object and relinks.
#include "rcvgov_version.h"

namespace rcvgov {

std::string_view version()
{
	return RCVGOV_VERSION;
}

std::string_view commit()
{
	return RCVGOV_COMMIT;
}

std::string version_line(std::string_view program)
{
	std::string s(program);
	s += ' ';
	s += version();
	s += " (commit ";
	s += commit();
	s += ')';
	return s;
}

} // namespace rcvgov
