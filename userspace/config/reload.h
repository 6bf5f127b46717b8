// What a SIGHUP reload may change while running, key by key, and the text of
// the reload log line. The table is documented in docs/governance.md.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "config/config.h"

namespace rcvgov::config {

enum class Reload {
	Live,	 // applied at once
	Restart, // refused at reload: the running value is kept until a restart
};

struct KeyPolicy {
	std::string_view key; // "daemon.events_per_sec", "limits.*", ...
	Reload reload;
	std::string_view why; // for Restart: why, said in the log line
};

// Every key (or group of keys) of the file and its reload policy.
const std::vector<KeyPolicy> &reload_policy();

struct ReloadChange {
	std::string key; // "daemon.interval_ms"
	std::string from, to;
	Reload reload = Reload::Live;
	std::string why;
	// "daemon.interval_ms 1000 -> 500 (live)", "daemon.events_per_sec 20 ->
	// 50 refused: fixed at BPF load, restart to apply"
	std::string text() const;
};

struct ReloadChanges {
	std::vector<ReloadChange> changes; // in table order
	bool any() const { return !changes.empty(); }
	size_t refused() const;
	// "daemon.interval_ms 1000 -> 500 (live); daemon.events_per_sec 20 -> 50
	// refused: fixed at BPF load, restart to apply", or "no change".
	std::string summary() const;
};

// What differs between the running configuration and the one just
// assembled, each change marked live or refused.
ReloadChanges reload_changes(const Config &running, const Config &reloaded);

// Gives `reloaded` the running values of every key a reload cannot change,
// so the configuration in force (and shown by status) is the true one.
void keep_restart_only(const Config &running, Config &reloaded);

} // namespace rcvgov::config
