// The unit tests exercise code that logs every action; keep their output
// to what fails (warnings and errors still show).
#include <spdlog/spdlog.h>

namespace {

const int quiet = (spdlog::set_level(spdlog::level::warn), 0);

} // namespace
