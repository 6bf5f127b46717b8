#include "daemon/startup_line.h"

#include "common/version.h"
#include "core/format.h"

namespace rcvgov {

std::string startup_line(const StartupFacts &f)
{
	std::string attach;
	for (const auto &h : f.hooks)
		attach += (attach.empty() ? "" : " ") + h.hook + "=" + h.path;
	if (attach.empty())
		attach = "none (no BPF: sock_diag polling)";
	return "rcvgovd " + std::string(version()) + " running: config " + f.config_source +
	       ", mode " + f.mode + ", limits system max " + format_bytes(f.max) + " low water " +
	       format_bytes(f.low_water) + ", attach " + attach + ", source " + f.source + ", " +
	       std::to_string(f.sockets) + " sockets in " + std::to_string(f.namespaces) +
	       " network namespaces, control socket " + f.socket_path;
}

} // namespace rcvgov
