#!/usr/bin/env bash
# rcvgovd starts in BPF mode, survives bad control-socket input, answers
# bad CLI input with clear errors, and on SIGINT/SIGTERM exits 0 leaving no
# BPF program attached and no control socket behind.
source "$(dirname "$0")/../lib.sh"
need_root

our_progs() {
	# Program names as the kernel keeps them (15 characters at most).
	bpftool prog show 2>/dev/null |
		grep -cE 'name (coalesce_exit|clamp_enter|clamp_exit|tcp_probe|tcp_rcvbuf_grow|tcp_rcv_space_a|sock_recv_lengt|inet_sock_set_s|snapshot) ' || true
}
before=$(our_progs)

for sig in INT TERM; do
	start_daemon --config "$(observe_only_config)"
	ctl status --json >"$TMP/status.json"
	python3 - "$TMP/status.json" "$("$BIN/rcvgovd" --version)" <<'PY' || fail "status is not what it should be"
import json, sys
st = json.load(open(sys.argv[1]))
assert st["mode"] == "bpf", st.get("bpf_error")
assert sys.argv[2] == f"rcvgovd {st['version']} (commit {st['commit']})", sys.argv[2]
hooks = {h["hook"]: h for h in st["hooks"]}
for name in ("snapshot", "coalesce", "clamp", "autotune", "reader", "lifecycle"):
    assert name in hooks, f"hook {name} missing from status"
    assert hooks[name]["path"] != "none", f"hook {name} has no path"
    if not hooks[name]["first_choice"]:
        assert hooks[name]["reason"], f"fallback for {name} without a reason"
for k in ("events_submitted", "events_dropped", "events_ratelimited"):
    assert k in st["kernel_counters"], k
PY
	[ "$(our_progs)" -gt "$before" ] || fail "no rcvgov BPF program is loaded while running"
	# The start-up line: config, mode, limits and the attach path per hook.
	grep -qE "rcvgovd .+ running: config $TMP/[^,]+, mode enforcing, limits system max [0-9.]+[KMG] low water [0-9.]+[KMG], attach (.* )?coalesce=[^ ]+.* clamp=" \
		"$DAEMON_LOG" || fail "start-up line incomplete: $(grep running "$DAEMON_LOG")"

	# Garbage on the control socket: an error answer, the daemon lives on.
	answer=$(printf 'this is not json\n' | socat -t 2 - "UNIX-CONNECT:$CTL_SOCK")
	grep -q '"ok":false' <<<"$answer" || fail "no error answer to garbage: $answer"
	answer=$(printf '{"cmd":"frobnicate"}\n' | socat -t 2 - "UNIX-CONNECT:$CTL_SOCK")
	grep -q 'unknown command' <<<"$answer" || fail "no error for an unknown command: $answer"
	answer=$(printf '{"cmd":"sockets","limit":"ten"}\n' | socat -t 2 - "UNIX-CONNECT:$CTL_SOCK")
	grep -q 'limit' <<<"$answer" || fail "no error for a bad limit: $answer"
	ctl status >/dev/null || fail "daemon stopped answering after bad input"

	kill -"$sig" "$DAEMON_PID"
	rc=0
	wait "$DAEMON_PID" || rc=$?
	DAEMON_PID=""
	[ "$rc" -eq 0 ] || fail "rcvgovd exited $rc on SIG$sig"
	# Programs are freed after an RCU grace period, not synchronously.
	progs_gone() { [ "$(our_progs)" -eq "$before" ]; }
	wait_for 5 "BPF programs to go away after SIG$sig" progs_gone
	[ ! -e "$CTL_SOCK" ] || fail "control socket left behind after SIG$sig"
	log "SIG$sig: clean exit, nothing left behind"
done

# Bad command lines: non-zero exit and a message that names the problem.
if out=$("$BIN/rcvgovd" --interval 0 2>&1); then fail "rcvgovd accepted --interval 0"; fi
grep -q -- "--interval" <<<"$out" || fail "error does not name --interval: $out"
if out=$("$BIN/rcvgovctl" frobnicate 2>&1); then fail "rcvgovctl accepted a bogus command"; fi
if out=$("$BIN/rcvgovctl" --socket "$TMP/none.sock" status 2>&1); then
	fail "rcvgovctl succeeded without a daemon"
fi
grep -q "is rcvgovd running?" <<<"$out" || fail "unhelpful error without a daemon: $out"
log "PASS"
