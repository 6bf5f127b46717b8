#include "daemon/sd_notify.h"

#include <cstdlib>
#include <ctime>
#include <systemd/sd-daemon.h>

#include "common/clock.h"

namespace rcvgov {

namespace {

// Status lines are one line: a newline would start another assignment.
std::string one_line(std::string_view s)
{
	std::string out(s);
	for (char &c : out)
		if (c == '\n' || c == '\r')
			c = ' ';
	return out;
}

} // namespace

SdNotifier SdNotifier::from_env()
{
	SdNotifier n;
	const char *sock = getenv("NOTIFY_SOCKET");
	n.enabled_ = sock && *sock;
	uint64_t usec = 0;
	if (n.enabled_ && sd_watchdog_enabled(0, &usec) > 0)
		n.watchdog_usec_ = usec;
	return n;
}

Status SdNotifier::notify(const std::string &message)
{
	if (!enabled_)
		return {};
	int rc = sd_notify(0, message.c_str());
	if (rc < 0)
		return Error::sys(-rc, "sd_notify(\"" + one_line(message) + "\") to " +
					       std::string(getenv("NOTIFY_SOCKET") ?: "?"));
	return {};
}

Status SdNotifier::ready(std::string_view status)
{
	if (status.empty())
		return notify("READY=1");
	return notify("READY=1\nSTATUS=" + one_line(status));
}

Status SdNotifier::status(std::string_view line)
{
	return notify("STATUS=" + one_line(line));
}

Status SdNotifier::watchdog()
{
	return notify("WATCHDOG=1");
}

Status SdNotifier::reloading()
{
	const uint64_t usec = mono_ns() / 1000;
	return notify("RELOADING=1\nMONOTONIC_USEC=" + std::to_string(usec));
}

Status SdNotifier::stopping()
{
	return notify("STOPPING=1");
}

} // namespace rcvgov
