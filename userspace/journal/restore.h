// Puts back what a journal records, for a rcvgovd that did not (killed,
// crashed, OOM-killed, a failed start-up): at the next start and in
// `rcvgovd --restore` (the unit's ExecStopPost=).
//
// A namespace is looked for by its netns cookie among those reachable
// through /run/netns/* and /proc/*/ns/net (a cookie cannot be opened); a
// namespace or socket that is gone needs no restore. tcp_shrink_window is
// put back only where it still has the value rcvgovd set: one that equals
// the original needs nothing, one someone else changed since is left to
// them (logged). Window clamps are put back by the enforcement iterator.
#pragma once

#include <cstddef>
#include <string>
#include <vector>

#include "common/error.h"
#include "journal/journal.h"

namespace rcvgov::journal {

struct RestoreSummary {
	bool found = false;		   // there was a journal
	uint32_t writer_pid = 0;	   // the rcvgovd that wrote it
	size_t restored = 0;		   // put back
	size_t unchanged = 0;		   // already at the original value
	size_t left = 0;		   // changed by someone else since: left as found
	size_t gone = 0;		   // namespace or socket gone: nothing to restore
	std::vector<std::string> failures; // could not be restored (kept in the journal)
	bool ok() const { return failures.empty(); }
	std::string text() const; // one line
};

// Restores what `contents` records. `remaining` gets the entries that could
// not be put back.
RestoreSummary restore(const Contents &contents, Contents &remaining);

// Loads the journal at `path`, restores it, then removes it, or rewrites it
// with what could not be restored (so the next attempt still knows the
// originals). An Error when the journal cannot be read or parsed (it is
// left in place).
Result<RestoreSummary> restore_file(const std::string &path);

} // namespace rcvgov::journal
