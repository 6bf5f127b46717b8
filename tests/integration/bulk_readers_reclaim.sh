#!/usr/bin/env bash
# Reclamation under a small system quota must take the stalled sockets and
# spare the busy ones, in BPF mode and in --sock-diag mode. In the
# receiver's namespace: 5 bulk readers (64 KiB every 2 ms) whose senders
# send faster than that (64 KiB every 1 ms), so their queue never drains
# and autotuning legitimately grows their buffers to MBs, and 30
# never-readers started after them, 0.3 s apart (so their stalls are
# ordered). The
# quota (force_below_floor) is computed from what the pairs hold: max is
# below the never-readers' total, above the most the bulk readers can hold
# (5 x tcp_rmem[2] + 10 %). Expected: no bulk-reader connection destroyed
# (their reader progresses: clamp at most), never-readers destroyed oldest
# stall first, the total ends at or below max.
source "$(dirname "$0")/../lib.sh"
need_root
BULK=5 NEVER=30
# Receiver: never-readers start (and stay) at 2 MiB; bulk readers may grow
# to 4 MiB.
RMEM_DEF=2097152 RMEM_MAX=4194304
SPACING=0.3 INTERVAL_MS=250

make_pair_netns
ip netns exec "$NS_RECV" sysctl -q -w net.ipv4.tcp_rmem="4096 $RMEM_DEF $RMEM_MAX"
ip netns exec "$NS_RECV" sysctl -q -w net.ipv4.tcp_shrink_window=1

write_config() { # file max low
	cat >"$1" <<TOML
[limits]
max_memory = $2
low_water = $3
force_below_floor = true
per_service = "1G"
per_peer = "1G"
per_socket = "1G"
[safety]
reclaim_pause_ms = 1000
TOML
}
# rmem_sum PORT-FILTER: sum of skmem r of the receiver's sockets matching.
rmem_sum() {
	ip netns exec "$NS_RECV" ss -Htmn "$1" | sed -n 's/.*skmem:(r\([0-9]*\),.*/\1/p' |
		awk '{ s += $1 } END { print s + 0 }'
}

run_mode() { # name base-port [rcvgovd options]
	local mode=$1 base=$2 i c
	shift 2
	local b="${mode}b" n="${mode}n" nbase=$((base + 100))
	write_config "$TMP/$mode.toml" '"1G"' '"512M"'
	start_daemon --config "$TMP/$mode.toml" --interval $INTERVAL_MS "$@"
	local want_source=bpf
	[ "$mode" = diag ] && want_source=sock_diag
	[ "$(status_get .mode)" = $want_source ] || fail "$mode: daemon runs in mode $(status_get .mode)"

	# The bulk readers first: their queues have never been empty since long
	# before any never-reader started, so a daemon that took "data waiting
	# since" for a stall (not resetting it when the reader progresses) would
	# see them as the oldest stalls and destroy them first.
	start_pairs "$b" "$base" $BULK 0 120 "--mode slow --read-bytes 64K --interval 2ms" \
		"--payload 64K --interval 1ms"
	start_pairs "$n" "$nbase" $NEVER $SPACING 120 "--mode never" "--payload 16K --interval 10ms"
	# The last never-reader has been stalled for more than min_stall_ms (2 s).
	sleep 3

	local bulk_f="( sport >= :$((base + 1)) and sport <= :$((base + BULK)) )"
	local never_f="( sport >= :$((nbase + 1)) and sport <= :$((nbase + NEVER)) )"
	local B N cap max low
	B=$(rmem_sum "$bulk_f") N=$(rmem_sum "$never_f")
	cap=$((BULK * RMEM_MAX * 11 / 10))
	max=$((cap + N / 5)) low=$((cap + N / 10))
	log "$mode: bulk readers hold $B bytes (at most $cap), never-readers $N: max $max, low water $low"
	[ "$N" -gt "$max" ] || fail "$mode: never-readers hold only $N bytes, not above max $max"
	local -a bulk_cookies=()
	for i in $(seq 1 $BULK); do
		mapfile -t c < <(cookies_on_port $((base + i)))
		[ "${#c[@]}" -eq 1 ] || fail "$mode: the daemon knows ${#c[@]} sockets on bulk port $((base + i))"
		bulk_cookies+=("${c[0]}")
	done
	[ "$(pairs_gone "$n" $NEVER)" -eq 0 ] || fail "$mode: never-readers died before the quota"

	write_config "$TMP/$mode.toml" "$max" "$low"
	reload_daemon
	wait_for 20 "$mode: the first reclamation" grep -q "destroyed socket=" "$DAEMON_LOG"
	# Settled: no new destroy for 3 s (reclaim_pause_ms is 1 s).
	local prev=-1 now settled=0
	for _ in $(seq 1 8); do
		now=$(log_count "destroyed socket=")
		[ "$now" -ne "$prev" ] || { settled=1 && break; }
		prev=$now
		sleep 3
	done
	[ $settled -eq 1 ] || fail "$mode: still destroying after 24 s ($now destroys)"
	sleep 2
	status_json >"$TMP/$mode-status.json"
	sockets_json >"$TMP/$mode-sockets.json"
	cp "$DAEMON_LOG" "$TMP/$mode.log"

	# The bulk readers: alive at both ends, established, never destroyed.
	local clamped=0
	for i in $(seq 1 $BULK); do
		alive "${PAIR_READER[$b$i]}" || fail "$mode: bulk reader $i died: $(cat "$TMP/reader$b$i.out")"
		alive "${PAIR_SENDER[$b$i]}" || fail "$mode: bulk sender $i died: $(cat "$TMP/sender$b$i.out")"
	done
	[ "$(conn_count "$NS_RECV" "$bulk_f")" -eq $BULK ] ||
		fail "$mode: $(conn_count "$NS_RECV" "$bulk_f") of $BULK bulk connections established"
	for c in "${bulk_cookies[@]}"; do
		! grep -qE "destroy(ed)? socket=$c " "$TMP/$mode.log" ||
			fail "$mode: bulk socket $c was destroyed: $(grep -E "socket=$c " "$TMP/$mode.log" | head -3)"
		if grep -qE "clamped socket=$c " "$TMP/$mode.log"; then clamped=$((clamped + 1)); fi
	done

	# The never-readers: destroyed ones are the oldest stalls. They were
	# accepted ~0.3 s apart; the daemon may only know a stall's start to
	# within one snapshot interval, so a survivor older than a destroyed
	# one by more than that (+ 100 ms) is an error.
	local gone destroyed order
	gone=$(pairs_gone "$n" $NEVER)
	destroyed=$(log_count "destroyed socket=" "$TMP/$mode.log")
	order=$(pair_marks "$n" $NEVER)
	[ "$gone" -gt 0 ] || fail "$mode: no never-reader was destroyed"
	[ "$gone" -eq "$destroyed" ] || fail "$mode: $gone never-reader connections died, $destroyed destroys logged"
	for i in $(seq 1 $NEVER); do
		alive "${PAIR_SENDER[$n$i]}" || continue
		for j in $(seq $((i + 1)) $NEVER); do
			alive "${PAIR_SENDER[$n$j]}" && continue
			local dt=$((${PAIR_UP_MS[$n$j]} - ${PAIR_UP_MS[$n$i]}))
			[ $dt -le $((INTERVAL_MS + 100)) ] ||
				fail "$mode: never-reader $j was destroyed, $i (stalled $dt ms earlier) survived: $order"
		done
	done
	python3 - "$TMP/$mode-status.json" "$TMP/$mode-sockets.json" "$TMP/$mode.log" "${bulk_cookies[@]}" <<'PY' || fail "$mode: the daemon's view is wrong"
import json, re, sys
st = json.load(open(sys.argv[1]))
g = st["governance"]
total, mx = g["total"], g["limits"]["max"]
print(f"total {total} max {mx} low water {g['limits']['low_water']} counters {g['counters']}",
      file=sys.stderr)
assert total <= mx, f"total {total} above max {mx}"
socks = {s["cookie"]: s for s in json.load(open(sys.argv[2]))}
log = open(sys.argv[3]).read()
states = []
for c in sys.argv[4:]:
    s = socks.get(int(c))
    assert s, f"bulk socket {c} is not in rcvgovctl sockets"
    said = [l for l in re.findall(rf"^.*socket={c} .*$", log, re.M) if " inflation " not in l]
    # Chosen for reclamation (done or "would"), never. A clamp is allowed:
    # "failed" is what an unsupported clamp leaves in --sock-diag mode
    # (no BPF to clamp with), and the bash checks above saw no destroy.
    assert s["enforcement"] not in ("destroyed", "would_reclaim"), \
        f"bulk socket {c}: enforcement {s['enforcement']}: {s}; the log about it: {said[:5]}"
    states.append(f"{c}:{s['enforcement']}{' (inflated)' if s.get('inflated') else ''}")
print("bulk sockets: " + ", ".join(states), file=sys.stderr)
PY
	log "$mode: $BULK/$BULK bulk readers survived ($clamped clamped); $gone/$NEVER never-readers destroyed, oldest first: $order"
	stop_daemon
	stop_pairs "$b" $BULK
	stop_pairs "$n" $NEVER
	sleep 1
}

run_mode bpf 8000
run_mode diag 9000 --sock-diag
log "PASS"
