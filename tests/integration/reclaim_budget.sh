#!/usr/bin/env bash
# The destroy budget and the breaker under a reclamation storm: 2,000
# stalled sockets (one rcvgov-reader --mode never --connections 2000, one
# sender writing 1448 B on each every 2 s) over a tiny quota
# (force_below_floor), destroy_per_round = 20, destroy_per_minute = 50,
# breaker on, one round a second. Expected: no round destroys more than 20
# (destroys grouped into rounds by the gaps between their log timestamps),
# at most 50 in the first minute and more than one round's worth, the
# breaker trips (logged, status "breaker-tripped") and from then on only
# "would have" destroys; every destroy logged is a connection the sender
# lost; the daemon still answers status and sockets quickly and keeps
# counting the sockets that arrive afterwards.
source "$(dirname "$0")/../lib.sh"
need_root
N=2000 EXTRA=200 PORT=7100 EXTRA_PORT=7101

make_pair_netns
ip netns exec "$NS_RECV" sysctl -q -w net.ipv4.tcp_shrink_window=1
cat >"$TMP/budget.toml" <<TOML
[daemon]
interval_ms = 1000
[limits]
max_memory = "1M"
low_water = "512K"
force_below_floor = true
per_service = "1G"
per_peer = "1G"
per_socket = "64M"
[safety]
destroy_per_round = 20
destroy_per_minute = 50
breaker = true
reclaim_pause_ms = 100
TOML
start_daemon --config "$TMP/budget.toml" --interval 1000

t0=$(now_ms)
start_pair big "$RECV4:$PORT" 120 "--mode never" "--payload 1448 --interval 2s" $N
log "$N connections up in $(($(now_ms) - t0)) ms"
wait_for 40 "BREAKER TRIPPED in the log" grep -q "BREAKER TRIPPED" "$DAEMON_LOG"
tripped_at=$(now_ms)
destroyed_at_trip=$(log_count "destroyed socket=")
# Three more rounds: the breaker must hold, the daemon only says what it
# would do.
sleep 3.5
status_json >"$TMP/status.json"
cp "$DAEMON_LOG" "$TMP/trip.log"
destroyed=$(log_count "destroyed socket=" "$TMP/trip.log")
[ "$destroyed" -eq "$destroyed_at_trip" ] ||
	fail "destroys went on after the breaker tripped: $destroyed_at_trip -> $destroyed"
lost=$(grep -c '^lost ' "$TMP/senderbig.out" || true)
left=$(conn_count "$NS_RECV" "sport = :$PORT")
log "breaker tripped; $destroyed destroys logged, the sender lost $lost connections, $left of $N still established"
[ "$lost" -eq "$destroyed" ] || fail "the sender lost $lost connections but $destroyed destroys were logged"
[ "$left" -eq $((N - destroyed)) ] || fail "$left connections established, expected $N - $destroyed"

python3 - "$TMP/trip.log" "$TMP/status.json" <<'PY' || fail "the budget was not kept"
import json, re, sys
from datetime import datetime
lines = [l for l in open(sys.argv[1]) if "destroyed socket=" in l]
times = []
for l in lines:
    m = re.match(r"\[?(\d{4}-\d\d-\d\d[ T]\d\d:\d\d:\d\d(?:\.\d+)?)", l)
    assert m, f"no timestamp on the log line: {l.strip()}"
    times.append(datetime.fromisoformat(m.group(1)).timestamp())
# One round's destroys come in one batch; rounds are 1 s apart.
rounds, last = [], None
for t in times:
    if last is None or t - last > 0.5:
        rounds.append(0)
    rounds[-1] += 1
    last = t
in_minute = max((sum(1 for u in times if t <= u < t + 60) for t in times), default=0)
g = json.load(open(sys.argv[2]))["governance"]
c = g["counters"]
print(f"destroys per round {rounds}; most in any minute {in_minute}; mode {g['mode']}; "
      f"breaker {g['breaker']}; counters {c}", file=sys.stderr)
assert rounds and max(rounds) <= 20, f"a round destroyed {max(rounds or [0])} sockets, the budget is 20"
assert len(times) > 20, f"only {len(times)} destroys: the per-round budget should wait, not stop"
assert in_minute <= 50, f"{in_minute} destroys within a minute, the budget is 50"
assert g["mode"] == "breaker-tripped", f"mode {g['mode']}"
assert g["breaker"]["tripped"] is True and g["breaker"]["reason"], g["breaker"]
assert c.get("destroyed") == len(times), f"counters.destroyed {c.get('destroyed')}, {len(times)} logged"
assert c.get("held_by_budget", 0) > 0, "no destroy was held by the budget"
assert c.get("dry_run_destroy", 0) > 0, "no 'would have' destroy after the breaker tripped"
PY
would=$(log_count "dry-run: would have done destroy" "$TMP/trip.log")
[ "$would" -gt 0 ] || fail "no 'dry-run: would have done destroy' line after the breaker tripped"

# Still answering, still counting: $EXTRA more stalled connections arrive.
for cmd in status sockets; do
	t=$(now_ms)
	timeout 5 "$BIN/rcvgovctl" --socket "$CTL_SOCK" "$cmd" --json >/dev/null ||
		fail "rcvgovctl $cmd got no answer within 5 s after the breaker tripped"
	log "rcvgovctl $cmd answered in $(($(now_ms) - t)) ms"
done
participants=$(status_get .governance.participants)
start_pair extra "$RECV4:$EXTRA_PORT" 60 "--mode never" "--payload 1448 --interval 2s" $EXTRA
extra_seen() { [ "$(sockets_json | jq --arg p ":$EXTRA_PORT" '[.[] | select(.local | endswith($p))] | length')" -ge $EXTRA ]; }
wait_for 5 "the daemon to list the $EXTRA new sockets" extra_seen
sleep 2
after=$(status_get .governance.participants)
[ "$after" -ge $((participants + EXTRA)) ] ||
	fail "participants $participants -> $after after $EXTRA new sockets"
[ "$(log_count "destroyed socket=")" -eq "$destroyed" ] || fail "destroys resumed after the breaker tripped"
[ "$(status_get .governance.mode)" = breaker-tripped ] || fail "the breaker reset by itself"
log "after the trip ($(($(now_ms) - tripped_at)) ms): participants $participants -> $after, still $destroyed destroys, $(log_count "dry-run: would have done destroy") 'would have' lines"
stop_daemon
log "PASS"
