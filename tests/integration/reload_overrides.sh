#!/usr/bin/env bash
# SIGHUP reloads the file and keeps the command-line overrides; the
# sysctls rcvgovd changed survive a round trip through dry-run, and
# SIGTERM puts back exactly what it changed.
#  1. rcvgovd --interval 300 --events-per-sec 7 with a file saying
#     interval_ms = 1000: status shows 300 and 7, also after SIGHUPs that
#     do change other keys of the file (max_memory: the file IS reloaded).
#  2. Three namespaces made before the daemon starts: two at
#     tcp_shrink_window=0, one at 2 (1 on kernels without the strict mode
#     of our kernel series, which refuse 2). rcvgovd sets 0 -> 1 and leaves
#     the other alone; reload with dry_run = true, then dry_run = false;
#     SIGTERM: 0, 0 and 2 (or 1) again, and the third was never changed.
source "$(dirname "$0")/../lib.sh"
need_root

NS_A="$NS_PREFIX-a" NS_B="$NS_PREFIX-b" NS_C="$NS_PREFIX-c"
for ns in "$NS_A" "$NS_B" "$NS_C"; do ip netns add "$ns"; done
KEEP=2
ip netns exec "$NS_C" sysctl -q -w net.ipv4.tcp_shrink_window=2 2>/dev/null || KEEP=1
ip netns exec "$NS_C" sysctl -q -w net.ipv4.tcp_shrink_window=$KEEP
log "third namespace at tcp_shrink_window=$KEEP ($([ $KEEP = 2 ] && echo "strict mode available" || echo "this kernel refuses 2"))"
for ns in "$NS_A" "$NS_B"; do
	[ "$(sysctl_in "$ns" net.ipv4.tcp_shrink_window)" = 0 ] || fail "a new namespace is not at 0"
done
COOKIE_A=$(netns_cookie "$NS_A") COOKIE_B=$(netns_cookie "$NS_B") COOKIE_C=$(netns_cookie "$NS_C")

# Watch the third namespace all along: every value it ever shows.
(
	prev=""
	while :; do
		v=$(sysctl_in "$NS_C" net.ipv4.tcp_shrink_window 2>/dev/null) || exit 0
		[ "$v" = "$prev" ] || echo "$(now_ms) $v"
		prev=$v
		sleep 0.02
	done
) >"$TMP/c-values" &
WATCH_PID=$!

write_config() { # max_memory dry_run
	printf '[daemon]\ninterval_ms = 1000\nevents_per_sec = 50\ndry_run = %s\n[limits]\nmax_memory = "%s"\n' \
		"$2" "$1" >"$TMP/reload.toml"
}
# check_status WHAT MAX MODE: the overrides hold, the file's max and the mode.
check_status() {
	status_json >"$TMP/status.json"
	python3 - "$TMP/status.json" "$1" "$2" "$3" <<'PY' || fail "$1: status is wrong"
import json, sys
st = json.load(open(sys.argv[1]))
what, mx, mode = sys.argv[2], int(sys.argv[3]), sys.argv[4]
g = st["governance"]
print(f"{what}: snapshot_interval_ms {st['snapshot_interval_ms']} events_per_sec {st['events_per_sec']} "
      f"max {g['limits']['max']} mode {g['mode']}", file=sys.stderr)
assert st["snapshot_interval_ms"] == 300, f"interval {st['snapshot_interval_ms']}, the command line said 300"
assert st["events_per_sec"] == 7, f"events_per_sec {st['events_per_sec']}, the command line said 7"
assert g["limits"]["max"] == mx, f"max {g['limits']['max']}, the file says {mx}"
assert g["mode"] == mode, f"mode {g['mode']}, expected {mode}"
PY
}
# shrink_of NS: the namespace's tcp_shrink_window now.
shrink_of() { sysctl_in "$1" net.ipv4.tcp_shrink_window; }
shrink_is() { [ "$(shrink_of "$1")" = "$2" ]; }

write_config 1G false
start_daemon --config "$TMP/reload.toml" --interval 300 --events-per-sec 7
wait_for 2 "tcp_shrink_window=1 in namespace a" shrink_is "$NS_A" 1
wait_for 2 "tcp_shrink_window=1 in namespace b" shrink_is "$NS_B" 1
check_status start $((1 << 30)) enforcing

write_config 2G false
reload_daemon
check_status "reload 1" $((2 << 30)) enforcing
write_config 2G true
reload_daemon
check_status "reload 2 (dry_run = true)" $((2 << 30)) dry-run
log "during dry-run: tcp_shrink_window a=$(shrink_of "$NS_A") b=$(shrink_of "$NS_B") c=$(shrink_of "$NS_C")"
write_config 3G false
reload_daemon
check_status "reload 3 (dry_run = false)" $((3 << 30)) enforcing
wait_for 2 "tcp_shrink_window=1 in namespace a after dry-run" shrink_is "$NS_A" 1
wait_for 2 "tcp_shrink_window=1 in namespace b after dry-run" shrink_is "$NS_B" 1
sleep 1
status_json >"$TMP/status.json"
python3 - "$TMP/status.json" "$COOKIE_A" "$COOKIE_B" "$COOKIE_C" "$KEEP" <<'PY' || fail "status does not list the namespaces right"
import json, sys
st = json.load(open(sys.argv[1]))
a, b, c, keep = map(int, sys.argv[2:6])
ns = {n["cookie"]: n for n in st["governance"]["shrink_window"]["namespaces"]}
for cookie, name in ((a, "a"), (b, "b")):
    n = ns.get(cookie)
    assert n, f"namespace {name} (cookie {cookie}) not listed"
    assert (n["before"], n["now"], n["changed"]) == (0, 1, True), f"namespace {name}: {n}"
n = ns.get(c)
assert n, f"namespace c (cookie {c}) not listed"
assert (n["before"], n["now"], n["changed"]) == (keep, keep, False), f"namespace c: {n}"
print(f"namespaces: a {ns[a]}, b {ns[b]}, c {ns[c]}", file=sys.stderr)
PY

stop_daemon
a=$(shrink_of "$NS_A") b=$(shrink_of "$NS_B") c=$(shrink_of "$NS_C")
kill "$WATCH_PID"
wait "$WATCH_PID" 2>/dev/null || true
log "after SIGTERM: a=$a b=$b c=$c; c's values over the run (ms value): $(tr '\n' ';' <"$TMP/c-values")"
[ "$a $b $c" = "0 0 $KEEP" ] || fail "after SIGTERM: a=$a b=$b c=$c, expected 0 0 $KEEP"
[ "$(awk '{ print $2 }' "$TMP/c-values" | sort -u)" = "$KEEP" ] ||
	fail "the third namespace changed during the run: $(tr '\n' ';' <"$TMP/c-values")"
grep -qE "restored net.ipv4.tcp_shrink_window=0" "$DAEMON_LOG" || fail "no restore logged"
log "PASS"
