// rcvgovctl top's loop: asks rcvgovd for status, resources and the top
// sockets every interval and draws a frame (cli/top.h). On a terminal the
// screen is cleared and redrawn (ANSI) and q quits; otherwise frames are
// printed one after another. Ctrl-C or SIGTERM quit too; with count,
// after that many frames. Exit status 0, 1 when rcvgovd cannot be asked.
#pragma once

#include <cstddef>
#include <string>

namespace rcvgov::cli {

struct TopOptions {
	std::string socket; // rcvgovd's control socket
	double interval_s = 1;
	size_t count = 0; // frames, 0: until quit
};

int run_top(const TopOptions &o);

} // namespace rcvgov::cli
