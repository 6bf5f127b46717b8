#!/usr/bin/env bash
# Bad configuration files get errors that name the file, the line and the
# key, with a non-zero exit for --check-config (a max_memory below the floor
# without force_below_floor is one); a bad file on SIGHUP keeps the old
# configuration, a good one is taken.
source "$(dirname "$0")/../lib.sh"
need_root

check() { # expect-rc pattern file
	local out rc=0
	out=$("$BIN/rcvgovd" --check-config --config "$3" 2>&1) || rc=$?
	[ $rc -eq "$1" ] || fail "--check-config on $(basename "$3"): exit $rc, expected $1: $out"
	grep -qE -- "$2" <<<"$out" || fail "--check-config on $(basename "$3"): no '$2' in: $out"
	log "$(basename "$3"): $(head -1 <<<"$out")"
}

printf '[limits]\nmax_memory = "1G"\n' >"$TMP/good.toml"
check 0 'system max +1\.0G' "$TMP/good.toml"
printf '[daemon]\ninterval_ms = = 3\n' >"$TMP/syntax.toml"
check 1 "syntax.toml:2:" "$TMP/syntax.toml"
printf '[limits]\nmax_memory = "1G"\nmax_memroy = "2G"\n' >"$TMP/unknown.toml"
check 1 "unknown.toml:3: limits.max_memroy: unknown key" "$TMP/unknown.toml"
printf '[limits]\nmax_memory = "100M"\nlow_water = "200M"\n' >"$TMP/impossible.toml"
check 1 "low_water" "$TMP/impossible.toml"
printf '[limits]\nper_socket = 0\n' >"$TMP/zero.toml"
check 1 "zero.toml:2: limits.per_socket" "$TMP/zero.toml"
# A path given with --config must exist (only the default path may be absent).
check 1 "does-not-exist.toml: no such file" "$TMP/does-not-exist.toml"
# A quota below the floor (max(16M, RAM/256)) only on purpose.
printf '[limits]\nmax_memory = "2M"\nlow_water = "1M"\n' >"$TMP/floor.toml"
check 1 "floor\.toml.*limits\.max_memory.*below the floor of [0-9]" "$TMP/floor.toml"
check 1 "force_below_floor" "$TMP/floor.toml"
printf '[limits]\nmax_memory = "2M"\nlow_water = "1M"\nforce_below_floor = true\n' >"$TMP/forced.toml"
check 0 'system max +2\.0M' "$TMP/forced.toml"

# Reload: good -> bad (kept) -> another good (taken).
cp "$TMP/good.toml" "$TMP/live.toml"
start_daemon --config "$TMP/live.toml"
max_of() { ctl status --json | python3 -c 'import json,sys; print(json.load(sys.stdin)["governance"]["limits"]["max"])'; }
[ "$(max_of)" = $((1 << 30)) ] || fail "the good file was not used"
cp "$TMP/unknown.toml" "$TMP/live.toml"
kill -HUP "$DAEMON_PID"
wait_for 5 "reload failure to be logged" grep -q "keeping the previous configuration" "$TMP/rcvgovd.log"
[ "$(max_of)" = $((1 << 30)) ] || fail "a bad reload changed the limits"
grep -q "live.toml:3: limits.max_memroy" "$TMP/rcvgovd.log" || fail "reload error does not name file, line and key"
printf '[limits]\nmax_memory = "2G"\n' >"$TMP/live.toml"
kill -HUP "$DAEMON_PID"
reloaded() { [ "$(max_of)" = $((2 << 30)) ]; }
wait_for 5 "the new limits" reloaded
kill -0 "$DAEMON_PID" || fail "daemon died during reloads"
log "PASS"
