// The directories rcvgovd keeps its journal, lock and control socket in:
// created 0700 when absent; when present they must be a real directory
// (not a symlink) owned by the user rcvgovd runs as, with mode 0700, or
// rcvgovd refuses, saying why and how to fix it. A directory rcvgovd did
// not create is never chmod-ed (it may be /tmp or someone's home).
#pragma once

#include <string>

#include "common/error.h"

namespace rcvgov {

// Creates `dir` (0700, one level) when absent, else checks it as above.
// `created` says which.
Status prepare_private_dir(const std::string &dir, bool *created = nullptr);
// Checks an existing directory (no creation).
Status check_private_dir(const std::string &dir);

// The directory part of a path ("." for none, "/" for a file in /).
std::string parent_dir(const std::string &path);

} // namespace rcvgov
