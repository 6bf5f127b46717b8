#!/usr/bin/env bash
# Ladder step 3: 50 never-reading sockets (started one after another, so
# their data ages differ) plus 10 fast ones, with a system max below what
# the never-readers hold. First a --dry-run daemon: nothing is destroyed,
# everything it would do is logged. Then the real one: the never-readers
# with the oldest data are destroyed until the total is under low water,
# no fast socket is touched, and nothing more happens afterwards (no
# flapping).
source "$(dirname "$0")/../lib.sh"
need_root
SLOW=50 FAST=10 BASE=6000

make_pair_netns
# Step 1 keeps each never-reader at its autotuned size (~115 KB), so the
# total is predictable: ~5.7 MB for the never-readers.
cat >"$TMP/quota.toml" <<TOML
[daemon]
interval_ms = 500
[limits]
max_memory = "3M"
low_water = "2M"
per_service = "1G"
per_peer = "1G"
per_socket = "64M"
[ladder]
reclaim_pause_ms = 2000
TOML
set_receiver_sysctls 1

SENDERS=()
start_one() { # idx mode base-port
	local port=$(($3 + $1))
	if [ "$2" = never ]; then
		ip netns exec "$NS_RECV" "$BIN/rcvgov-reader" --listen "$RECV4:$port" --mode never \
			--duration 120s >"$TMP/r$1.out" 2>&1 &
	else
		ip netns exec "$NS_RECV" "$BIN/rcvgov-reader" --listen "$RECV4:$port" --mode slow \
			--read-bytes 64K --interval 1ms --duration 120s >"$TMP/r$1.out" 2>&1 &
	fi
	wait_for 5 "reader $1" sh -c "ip netns exec $NS_RECV ss -Hltn 'sport = :$port' | grep -q ."
	ip netns exec "$NS_SEND" "$BIN/rcvgov-sender" --connect "$RECV4:$port" --payload 1448 \
		--interval 2ms --duration 120s >"$TMP/s$1.out" 2>&1 &
	SENDERS[$1]=$!
}
# Never-readers one after another (so their data ages differ), then the
# fast ones.
start_all() { # base-port
	for i in $(seq 1 $SLOW); do
		start_one "$i" never "$1"
		sleep 0.1
	done
	for i in $(seq $((SLOW + 1)) $((SLOW + FAST))); do start_one "$i" fast "$1"; done
	sleep 2
}
stop_all() {
	for i in $(seq 1 $((SLOW + FAST))); do kill "${SENDERS[$i]}" 2>/dev/null || true; done
	ip netns pids "$NS_RECV" | xargs -r kill 2>/dev/null || true
	sleep 1
}
alive() { kill -0 "${SENDERS[$1]}" 2>/dev/null; }
count_dead() {
	local n=0
	for i in $(seq 1 $((SLOW + FAST))); do alive "$i" || n=$((n + 1)); done
	echo $n
}

# Phase 1, dry run: the daemon watches the pairs start, must destroy
# nothing and must say what it would have done.
start_daemon --config "$TMP/quota.toml" --dry-run
start_all 6000
sleep 3
[ "$(count_dead)" -eq 0 ] || fail "--dry-run: $(count_dead) pairs died"
stop_daemon
cp "$TMP/rcvgovd.log" "$TMP/dry.log"
would=$(grep -c "dry-run: would have done destroy" "$TMP/dry.log" || true)
[ "$would" -gt 0 ] || fail "--dry-run logged no 'would have' destroy"
log "dry run: $would 'would have destroyed' lines, nothing destroyed"
stop_all

# Phase 2, for real, with fresh pairs. The daemon runs from the start so
# it knows how old each socket's data is (a socket first seen with data
# queued only has a lower bound, the same for all of them), with a quota
# too large to act on; once every pair runs, SIGHUP brings the small one.
sed 's/^max_memory = .*/max_memory = "1G"/; s/^low_water = .*/low_water = "512M"/' \
	"$TMP/quota.toml" >"$TMP/live.toml"
start_daemon --config "$TMP/live.toml"
start_all 7000
[ "$(count_dead)" -eq 0 ] || fail "pairs died under a quota they do not reach"
cp "$TMP/quota.toml" "$TMP/live.toml"
kill -HUP "$DAEMON_PID"
wait_for 20 "the first reclamation" grep -q "destroyed socket=" "$TMP/rcvgovd.log"
sleep 4
ctl status --json >"$TMP/status.json"
ctl resources --json >"$TMP/resources.json"
dead1=$(count_dead)
sleep 6
dead2=$(count_dead)
[ "$dead1" -eq "$dead2" ] || fail "still destroying after reaching low water ($dead1 -> $dead2): flapping"
destroyed=$(grep -c "destroyed socket=" "$TMP/rcvgovd.log")
log "$dead2 senders saw their connection destroyed; the daemon logged $destroyed destroys"

# Which died: a prefix of the never-readers (oldest data first), no fast one.
order=""
for i in $(seq 1 $SLOW); do alive "$i" && order+="." || order+="x"; done
log "never-readers by age, oldest first (x = destroyed): $order"
for i in $(seq $((SLOW + 1)) $((SLOW + FAST))); do
	alive "$i" || fail "fast socket $i was destroyed: $(cat "$TMP/s$i.out")"
done
[ "$dead2" -eq "$destroyed" ] || fail "$dead2 connections died but $destroyed were destroyed"
[[ "$order" =~ ^x+\.+$ ]] || fail "destroyed sockets are not the oldest ones: $order"
python3 - "$TMP/status.json" "$TMP/resources.json" <<'PY' || fail "the quota is not respected"
import json, sys
g = json.load(open(sys.argv[1]))["governance"]
low, total = g["limits"]["low_water"], g["total"]
print(f"total {total} low water {low} max {g['limits']['max']} destroyed {g['counters'].get('destroyed')}",
      file=sys.stderr)
assert total <= low, f"total {total} above low water {low}"
res = json.load(open(sys.argv[2]))
assert res[0]["scope"] in ("system", "service", "peer"), res[0]
PY
log "PASS"
