// strerror plus the symbolic name, so operators can grep for EPERM.
#pragma once

#include <string>

namespace rcvgov {

std::string errno_text(int err);

} // namespace rcvgov
