#!/usr/bin/env bash
# One rcvgovd per runtime directory: a second one exits non-zero naming the
# first one's pid, and the first keeps answering. rcvgovd never chmods a
# directory it did not create: a --socket in a world-writable directory is
# refused clearly (the directory's mode unchanged), a private subdirectory
# rcvgovd creates there works, a symlinked directory is refused.
source "$(dirname "$0")/../lib.sh"
need_root
# The daemon answers on its control socket (status, or resources when a
# status field is being reworked elsewhere in the tree).
answers() { ctl status >/dev/null 2>&1 || ctl resources >/dev/null 2>&1; }

CFG=$(observe_only_config)
# start_daemon waits 10 s; loading BPF on a busy 2-core host can take longer.
"$BIN/rcvgovd" --config "$CFG" --socket "$CTL_SOCK" >"$DAEMON_LOG" 2>&1 &
DAEMON_PID=$!
wait_for 40 "rcvgovd control socket" answers
log "first rcvgovd: pid $DAEMON_PID, runtime dir $TMP"
[ "$(cat "$TMP/rcvgovd.lock")" = "$DAEMON_PID" ] || fail "the lock file does not hold the pid"

rc=0
timeout 10 "$BIN/rcvgovd" --config "$CFG" --socket "$CTL_SOCK" >"$TMP/second.log" 2>&1 || rc=$?
[ $rc -ne 0 ] || fail "a second rcvgovd started"
[ $rc -ne 124 ] || fail "the second rcvgovd did not exit"
grep -q "another rcvgovd (pid $DAEMON_PID) holds $TMP/rcvgovd.lock" "$TMP/second.log" ||
	fail "second rcvgovd's message: $(cat "$TMP/second.log")"
log "second rcvgovd exited $rc: $(grep -o 'another rcvgovd.*' "$TMP/second.log")"
answers || fail "the first rcvgovd stopped answering"
[ -S "$CTL_SOCK" ] || fail "the second rcvgovd removed the first one's socket"

# --restore while a rcvgovd runs: refused (the running one owns the journal).
if "$BIN/rcvgovd" --restore --runtime-dir "$TMP" >"$TMP/restore.log" 2>&1; then
	fail "--restore ran under a live rcvgovd"
fi
grep -q "another rcvgovd (pid $DAEMON_PID)" "$TMP/restore.log" ||
	fail "--restore's message: $(cat "$TMP/restore.log")"
answers || fail "the first rcvgovd stopped answering after --restore"

# A world-writable (sticky) directory: refused, mode unchanged.
WORLD=$(mktemp -d /tmp/rcvgov-world.XXXXXX)
CLEANUP_HOOKS+=("rm -rf $WORLD")
chmod 1777 "$WORLD"
rc=0
timeout 10 "$BIN/rcvgovd" --config "$CFG" --socket "$WORLD/rcvgovd.sock" \
	>"$TMP/world.log" 2>&1 || rc=$?
if [ $rc -eq 0 ] || [ $rc -eq 124 ]; then fail "rcvgovd accepted $WORLD (rc $rc)"; fi
grep -q "$WORLD has mode 1777" "$TMP/world.log" || fail "unclear refusal: $(cat "$TMP/world.log")"
[ "$(stat -c %a "$WORLD")" = 1777 ] || fail "$WORLD's mode changed to $(stat -c %a "$WORLD")"
[ -z "$(ls -A "$WORLD")" ] || fail "rcvgovd left files in $WORLD: $(ls -A "$WORLD")"
log "world-writable dir refused: $(grep -o "$WORLD has mode.*" "$TMP/world.log" | cut -c1-90)..."

# A private subdirectory rcvgovd creates inside it: used (0700), parent intact.
SUB_SOCK=$WORLD/rcvgov/rcvgovd.sock
"$BIN/rcvgovd" --config "$CFG" --socket "$SUB_SOCK" >"$TMP/sub.log" 2>&1 &
SUB_PID=$!
CLEANUP_HOOKS+=("kill -TERM $SUB_PID 2>/dev/null; wait $SUB_PID 2>/dev/null")
wait_for 40 "rcvgovd in a private subdirectory" "$BIN/rcvgovctl" --socket "$SUB_SOCK" resources
[ "$(stat -c %a "$WORLD/rcvgov")" = 700 ] || fail "subdir mode $(stat -c %a "$WORLD/rcvgov")"
[ "$(stat -c %a "$WORLD")" = 1777 ] || fail "$WORLD's mode changed"
kill -TERM $SUB_PID
wait $SUB_PID || fail "rcvgovd in the subdirectory exited $?"

# A symlink as the directory: refused.
mkdir -m 0700 "$TMP/real"
ln -s "$TMP/real" "$TMP/link"
if timeout 10 "$BIN/rcvgovd" --config "$CFG" --socket "$TMP/link/rcvgovd.sock" \
	>"$TMP/link.log" 2>&1; then
	fail "rcvgovd accepted a symlinked directory"
fi
grep -q "symbolic link" "$TMP/link.log" || fail "unclear refusal: $(cat "$TMP/link.log")"

answers || fail "the first rcvgovd stopped answering"
stop_daemon
log "PASS"
