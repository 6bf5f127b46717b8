// systemd's notification protocol (libsystemd's sd_notify(3)) behind a tiny
// class: READY=1, STATUS=, WATCHDOG=1, RELOADING=1 + MONOTONIC_USEC=,
// STOPPING=1. Without NOTIFY_SOCKET in the environment (not started by
// systemd with Type=notify) every call does nothing.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "common/error.h"

namespace rcvgov {

class SdNotifier {
public:
	// Reads NOTIFY_SOCKET and the watchdog (WATCHDOG_USEC, which is ours
	// only when WATCHDOG_PID is unset or our pid) from the environment.
	static SdNotifier from_env();

	bool enabled() const { return enabled_; }
	// 0: no watchdog; else send watchdog() at least every half of it.
	uint64_t watchdog_usec() const { return watchdog_usec_; }

	Status ready(std::string_view status = {});
	Status status(std::string_view line);
	Status watchdog();
	// Before a reload; ready() after it.
	Status reloading();
	Status stopping();
	// Any message ("KEY=VALUE" lines).
	Status notify(const std::string &message);

private:
	bool enabled_ = false;
	uint64_t watchdog_usec_ = 0;
};

} // namespace rcvgov
