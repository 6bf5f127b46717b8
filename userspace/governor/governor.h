// The governor: each round, brings the tracker in line with the socket
// table, asks it for decisions, plans them, holds back what the safety
// rules forbid, hands the rest to an actuator and settles every decision
// with the tracker. Ladder step 1 (tcp_shrink_window in every namespace)
// runs on each namespace scan. It keeps no per-socket state of its own:
// the tracker owns what was decided and done, the clamp journal what
// must be put back.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <unordered_map>
#include <vector>

#include "config/config.h"
#include "core/socket_table.h"
#include "enforce/actuator.h"
#include "enforce/clamp_journal.h"
#include "enforce/dry_run_actuator.h"
#include "enforce/netns_sysctl.h"
#include "governor/action_log.h"
#include "governor/reaction.h"
#include "governor/safety.h"
#include "governor/status.h"
#include "netns/netns.h"
#include "tracker/tracker.h"

namespace rcvgov::governor {

// What the governor acts through; any of them may be missing (null): a
// kernel without the enforcement programs has no `bpf`, the --sock-diag
// mode no `bpf` either.
struct Actuators {
	std::unique_ptr<enforce::Actuator> bpf;	 // clamps, and destroys where supported
	std::unique_ptr<enforce::Actuator> diag; // destroys where bpf cannot
};

struct Environment {
	// cgroup v2 id -> path ("/" root, "" unknown).
	std::function<std::string(uint64_t)> cgroup_path;
	// Where reader positions come from (see PlanOptions).
	bool position_is_seq = true;
};

class Governor {
public:
	Governor(const config::Config &cfg, tracker::Limits limits, Actuators act,
		 std::unique_ptr<enforce::NetnsSysctl> sysctl, Environment env);
	~Governor();

	// A validated new configuration (SIGHUP). Throws std::invalid_argument
	// for limits the tracker refuses (nothing changes then).
	void reconfigure(const config::Config &cfg, tracker::Limits limits);

	// Ladder step 1, after every namespace scan.
	void on_namespaces(const netns::Registry &registry);
	// One round after every snapshot.
	void round(const SocketTable &table, uint64_t now_ns);
	// The kernel reported that a socket passed its limit (an inflation
	// event stamped `ts_ns`): the start of its reaction time, whichever
	// path then acts on it.
	void note_trigger(uint64_t cookie, uint64_t ts_ns);
	// Targeted enforcement between rounds: brings the tracker up to date
	// for these sockets only (as the events left them in `table`) and acts
	// on what it decides now. Shares the round's destroy budget.
	void react(const SocketTable &table, std::span<const uint64_t> cookies, uint64_t now_ns);
	// Below this many bytes of TCP memory no scope or socket can be over
	// its limit (the smallest limit or low water of any scope), so a
	// snapshot round would decide nothing. See daemon/scan_gate.h.
	uint64_t quiet_below() const;
	// A socket passed its limit and is not clamped yet, a decision may be
	// pending or the system reclaiming: rounds must go on.
	bool busy() const;
	// On exit: put back what was changed, unless keep_on_exit; either way
	// the journal is removed, unless something could not be put back.
	void shutdown(const netns::Registry &registry);
	// Window clamps are recorded in `j` (which outlives this) before they
	// are made (crash-safe journal).
	void attach_journal(journal::Journal *j) { journal_.attach(j); }

	GovernorStatus status() const;
	std::vector<tracker::ScopeReport> resources() const;
	// The enforcement state of one socket ("none" when not tracked).
	std::string_view state_of(uint64_t cookie) const;
	const enforce::DryRunActuator &dry_run_record() const { return dry_; }
	// The audit trail: the most recent actions ([daemon] audit_actions).
	const ActionLog &actions() const { return actions_; }
	// The socket's service: its cgroup v2 path, or "netns:<cookie>" for
	// the root (or an unknown) cgroup. The key of its service account.
	std::string service_of(const SocketInfo &s) const;

private:
	void sync(const SocketTable &table, uint64_t now_ns);
	tracker::AccountId account_for(const SocketInfo &s);
	// The socket's tracker update, its participant created if new; none
	// (counted as tracker_errors) when the tracker refuses one.
	std::optional<tracker::Tracker::CookieUpdate> update_for(const SocketInfo &s,
								 uint64_t now_ns);
	void act(const std::vector<tracker::Decision> &decisions, const SocketTable &table,
		 uint64_t now_ns, ReactionPath path);
	void note_reaction(const tracker::Decision &d, ReactionPath path);
	void settle(const tracker::Decision &d, tracker::Outcome o);
	// Records the clamps of a batch before it goes to the kernel.
	Status journal_intents(std::span<const enforce::Action> actions, const SocketTable &table,
			       bool dry);
	void report(const tracker::Decision &d, const SocketInfo *s, const enforce::Action &a,
		    const enforce::ActResult &r, bool dry_run, uint64_t now_ns);
	void audit(const tracker::Decision &d, const SocketInfo *s, const enforce::Action &a,
		   const enforce::ActResult &r, bool dry_run, ReactionPath path);
	void summarize(uint64_t now_ns);
	bool dry_run() const { return cfg_.dry_run || safety_.tripped(); }

	config::Config cfg_;
	tracker::ManualClock clock_; // set to each round's time
	std::unique_ptr<tracker::Tracker> tracker_;
	Actuators act_;
	enforce::DryRunActuator dry_;
	std::unique_ptr<enforce::NetnsSysctl> sysctl_;
	Environment env_;
	Safety safety_;
	enforce::ClampJournal journal_;
	bool breaker_announced_ = false;
	// Action lines logged at info in this round; the rest go to debug.
	static constexpr size_t kLogLinesPerRound = 32;
	size_t logged_this_round_ = 0;
	std::map<std::string, uint64_t> counters_;
	// Socket cookie -> when it passed its limit (note_trigger), until its
	// clamp is in place or it is forgotten (kTriggerTtlNs).
	std::unordered_map<uint64_t, uint64_t> triggers_;
	static constexpr uint64_t kTriggerTtlNs = 30'000'000'000ULL;
	ReactionStats reactions_;
	ActionLog actions_;
	// Aggregated "protected" log lines: scope -> count in this window.
	std::map<std::string, uint64_t> protected_window_;
	uint64_t protected_window_start_ns_ = 0;
};

} // namespace rcvgov::governor
