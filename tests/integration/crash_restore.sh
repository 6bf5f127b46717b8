#!/usr/bin/env bash
# A rcvgovd killed with SIGKILL leaves a journal; the next rcvgovd puts the
# originals back before it starts (and a clean SIGTERM restores the rest),
# and `rcvgovd --restore` alone does the same. The ORIGINAL value survives a
# crash: the second rcvgovd must not record the 1 the first one set as the
# value to put back. A window clamp made before the kill is put back too.
#
# Other rcvgovd instances (other tests on the same host) govern every
# namespace they can find and would set A and B to 1 before this test's
# rcvgovd first sees them, so the test runs in a mount namespace of its own
# with a private /run/netns: A, B and C (no process in them) are visible to
# this test's rcvgovd only. (Its rcvgovd still sees the whole /proc.)
if [ -z "${RCVGOV_CRASH_MNTNS:-}" ]; then
	[ "$(id -u)" -eq 0 ] || { echo "crash_restore: must run as root" >&2; exit 1; }
	exec env RCVGOV_CRASH_MNTNS=1 unshare --mount --propagation slave "$0" "$@"
fi
mkdir -p /run/netns
mount -t tmpfs -o mode=0755 rcvgov-crash-netns /run/netns
source "$(dirname "$0")/../lib.sh"
need_root
# The daemon answers on its control socket (status, or resources when a
# status field is being reworked elsewhere in the tree).
answers() { ctl status >/dev/null 2>&1 || ctl resources >/dev/null 2>&1; }

RUN=$TMP/run # the runtime dir rcvgovd creates (journal, lock, socket)
CTL_SOCK=$RUN/rcvgovd.sock
JOURNAL=$RUN/journal
NS_A=$NS_PREFIX-a NS_B=$NS_PREFIX-b NS_C=$NS_PREFIX-c

# tcp_shrink_window=2 is the strict mode of this project's kernel series;
# a stock kernel refuses it, then C starts at 1 (also compliant, left alone).
for ns in "$NS_A" "$NS_B" "$NS_C"; do ip netns add "$ns"; done
ip netns exec "$NS_A" sysctl -q -w net.ipv4.tcp_shrink_window=0
ip netns exec "$NS_B" sysctl -q -w net.ipv4.tcp_shrink_window=0
if ip netns exec "$NS_C" sysctl -q -w net.ipv4.tcp_shrink_window=2 2>/dev/null; then
	C_ORIG=2
else
	ip netns exec "$NS_C" sysctl -q -w net.ipv4.tcp_shrink_window=1
	C_ORIG=1
	log "this kernel refuses tcp_shrink_window=2: namespaces start at 0, 0 and 1"
fi
declare -A ORIG=(["$NS_A"]=0 ["$NS_B"]=0 ["$NS_C"]=$C_ORIG)
declare -A COOKIE
for ns in "$NS_A" "$NS_B" "$NS_C"; do COOKIE[$ns]=$(netns_cookie "$ns"); done

# A small per-socket limit, so the blog pair's receiver is clamped whether
# or not it inflates before tcp_shrink_window=1 reaches its namespace.
printf '[limits]\nper_socket = "32K"\n[ladder]\nreclaim = false\n' >"$TMP/crash.toml"
: >"$TMP/empty.toml"
run_daemon() {
	"$BIN/rcvgovd" --config "$TMP/crash.toml" --runtime-dir "$RUN" --interval 500 \
		>>"$DAEMON_LOG" 2>&1 &
	DAEMON_PID=$!
	wait_for 40 "rcvgovd control socket" answers
}
governed() { [ "$(sysctl_in "$NS_A" net.ipv4.tcp_shrink_window)" = 1 ] &&
	[ "$(sysctl_in "$NS_B" net.ipv4.tcp_shrink_window)" = 1 ]; }
originals_back() {
	local ns v
	for ns in "$NS_A" "$NS_B" "$NS_C"; do
		v=$(sysctl_in "$ns" net.ipv4.tcp_shrink_window)
		[ "$v" = "${ORIG[$ns]}" ] || fail "$1: $ns has tcp_shrink_window=$v, not ${ORIG[$ns]}"
	done
}
# journal_before COOKIE: the original value the journal records for it.
journal_before() {
	jq -r --argjson c "$1" 'select(.sysctl? and .netns == $c) | .before' "$JOURNAL"
}
kill9() {
	kill -9 "$DAEMON_PID"
	wait "$DAEMON_PID" 2>/dev/null || true
	DAEMON_PID=""
}

# A blog pair whose receiver may get clamped (it inflates until rcvgovd sets
# tcp_shrink_window=1 there), so the journal may also hold a clamp.
make_pair_netns
set_receiver_sysctls 0
start_blog_pair "$RECV4:7301" clamp 60

log "round 1: start, kill -9, start again, SIGTERM"
run_daemon
wait_for 10 "A and B at tcp_shrink_window=1" governed
clamped() { grep -q '"clamp"' "$JOURNAL" 2>/dev/null; }
CLAMPED=0
for _ in $(seq 40); do clamped && CLAMPED=1 && break; sleep 0.2; done
[ $CLAMPED -eq 1 ] || log "no window clamp within 8 s: the clamp restore is not exercised"
for ns in "$NS_A" "$NS_B"; do
	[ "$(journal_before "${COOKIE[$ns]}")" = 0 ] || fail "journal has no original 0 for $ns"
done
[ -z "$(journal_before "${COOKIE[$NS_C]}")" ] || fail "journal lists $NS_C, which was not changed"
kill9
[ -s "$JOURNAL" ] || fail "no journal after kill -9"
governed || fail "the namespaces changed without rcvgovd"
cp "$JOURNAL" "$TMP/journal.round1"
log "journal after kill -9: $(wc -l <"$JOURNAL") lines, $(stat -c %s "$JOURNAL") bytes"

lines_before=$(wc -l <"$DAEMON_LOG")
run_daemon
tail -n +"$lines_before" "$DAEMON_LOG" >"$TMP/start2.log"
grep -q "journal .* of a previous rcvgovd (pid [0-9]*) found" "$TMP/start2.log" ||
	fail "the second rcvgovd did not say it found the journal"
[ "$(grep -c 'journal: restored net.ipv4.tcp_shrink_window=0' "$TMP/start2.log")" -ge 2 ] ||
	fail "the second rcvgovd did not restore A and B first"
if [ $CLAMPED -eq 1 ]; then
	grep -q 'journal: restored the window clamp of socket=' "$TMP/start2.log" ||
		fail "the window clamp was not restored from the journal"
	grep 'journal: restored the window clamp' "$TMP/start2.log" | head -1 >&2
fi
wait_for 10 "A and B at tcp_shrink_window=1 again" governed
# The original survived: 0, not the 1 the first rcvgovd left.
for ns in "$NS_A" "$NS_B"; do
	b=$(journal_before "${COOKIE[$ns]}")
	[ "$b" = 0 ] || fail "the second rcvgovd recorded $b as the original of $ns"
done
kill -TERM "$DAEMON_PID"
rc=0
wait "$DAEMON_PID" || rc=$?
DAEMON_PID=""
[ $rc -eq 0 ] || fail "rcvgovd exited $rc on SIGTERM"
originals_back "after SIGTERM"
[ ! -e "$JOURNAL" ] || fail "journal left after a clean exit: $(cat "$JOURNAL")"
log "round 1: originals back (A=0 B=0 C=$C_ORIG), journal removed"

for sig in QUIT USR1 USR2; do
	run_daemon
	wait_for 10 "A and B at tcp_shrink_window=1" governed
	kill -"$sig" "$DAEMON_PID"
	rc=0
	wait "$DAEMON_PID" || rc=$?
	DAEMON_PID=""
	[ $rc -eq 0 ] || fail "rcvgovd exited $rc on SIG$sig"
	originals_back "after SIG$sig"
	[ ! -e "$JOURNAL" ] || fail "journal left after SIG$sig"
done
log "SIGQUIT, SIGUSR1, SIGUSR2: originals back, journal removed"

log "round 2: start, kill -9, rcvgovd --restore"
run_daemon
wait_for 10 "A and B at tcp_shrink_window=1" governed
kill9
[ -s "$JOURNAL" ] || fail "no journal after kill -9"
t0=$(now_ms)
"$BIN/rcvgovd" --restore --runtime-dir "$RUN" >"$TMP/restore.log" 2>&1 ||
	fail "rcvgovd --restore exited $?: $(cat "$TMP/restore.log")"
log "rcvgovd --restore took $(($(now_ms) - t0)) ms"
originals_back "after rcvgovd --restore"
[ ! -e "$JOURNAL" ] || fail "journal left after rcvgovd --restore"
"$BIN/rcvgovd" --restore --runtime-dir "$RUN" >"$TMP/restore2.log" 2>&1 ||
	fail "a second --restore (no journal) failed: $(cat "$TMP/restore2.log")"
grep -q "nothing to restore" "$TMP/restore2.log" || fail "no 'nothing to restore'"

log "round 3: an old journal again: A (back at rcvgovd's 1) restored, B already original"
cp "$TMP/journal.round1" "$JOURNAL"
ip netns exec "$NS_A" sysctl -q -w net.ipv4.tcp_shrink_window=1 # A: rcvgovd's value
"$BIN/rcvgovd" --restore --runtime-dir "$RUN" >"$TMP/restore3.log" 2>&1 ||
	fail "--restore exited $?: $(cat "$TMP/restore3.log")"
[ "$(sysctl_in "$NS_A" net.ipv4.tcp_shrink_window)" = 0 ] || fail "A not restored"
grep -q "already the original value" "$TMP/restore3.log" || fail "B: no 'already the original'"

log "round 4: a garbage journal is refused clearly, never half-trusted"
printf '{"rcvgov_journal":1,"pid":1}\n{"sysctl":"net.ipv4.tcp_shr' >"$JOURNAL"
if "$BIN/rcvgovd" --restore --runtime-dir "$RUN" >"$TMP/restore4.log" 2>&1; then
	fail "--restore accepted a torn journal"
fi
grep -q "torn journal" "$TMP/restore4.log" || fail "unclear error: $(cat "$TMP/restore4.log")"
if "$BIN/rcvgovd" --config "$TMP/empty.toml" --runtime-dir "$RUN" >"$TMP/start4.log" 2>&1; then
	fail "rcvgovd started over a torn journal"
fi
grep -q "the journal cannot be read" "$TMP/start4.log" || fail "unclear: $(cat "$TMP/start4.log")"
[ -e "$JOURNAL" ] || fail "the torn journal was removed"
rm -f "$JOURNAL"
log "PASS"
