#!/usr/bin/env bash
# Event storms: 30,000 short connections (connect, close) over loopback in a
# test namespace, from 3 parallel processes, while rcvgovd runs with its
# default lifecycle budget (5,000 ESTABLISHED + CLOSED events per second,
# docs/performance.md). The storm makes ~120,000 lifecycle events: those
# over the budget or lost on a full ring buffer are counted in
# `status --json` (kernel_counters, counters) and logged once per 10 s.
# After the storm and one more snapshot, sockets_tracked equals the
# established sockets `ss` shows (a few long-lived ones are kept open so
# the comparison is not trivially 0 = 0), and rcvgovd's RSS is back within
# a few MiB of its pre-storm level. Bounded: the storm gives up after 60 s.
source "$(dirname "$0")/../lib.sh"
need_root

NS="$NS_PREFIX-storm"
CONNS=${STORM_CONNS:-30000}
PROCS=3
HOLD=50 # long-lived connections kept open through the storm
PORT=7411

rss_kib() { awk '/^VmRSS:/ { print $2 }' "/proc/$1/status"; }
# Full TCP sockets in a namespace, as the snapshot counts them: every
# state but listening, time-wait and syn-recv (those are not full sockets).
ss_full() { ip netns exec "$1" ss -Htn | awk '$1 != "TIME-WAIT" && $1 != "SYN-RECV"' | wc -l; }

ip netns add "$NS"
ip -n "$NS" link set lo up
ip netns exec "$NS" sysctl -q -w net.core.somaxconn=4096
ip netns exec "$NS" sysctl -q -w net.ipv4.ip_local_port_range="10000 65000"
ip netns exec "$NS" sysctl -q -w net.ipv4.tcp_tw_reuse=1

cat >"$TMP/storm.py" <<'PY'
import socket, sys, time, os
mode, port = sys.argv[1], int(sys.argv[2])
if mode == "server":
    # Accepts and closes at once; keeps the first `hold` open.
    hold = int(sys.argv[3])
    ls = socket.socket()
    ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    ls.bind(("127.0.0.1", port))
    ls.listen(4096)
    print("listening", flush=True)
    kept = []
    while True:
        c, _ = ls.accept()
        if len(kept) < hold:
            kept.append(c)
        else:
            c.close()
elif mode == "hold":
    n = int(sys.argv[3])
    kept = [socket.create_connection(("127.0.0.1", port)) for _ in range(n)]
    print("held", n, flush=True)
    time.sleep(3600)
else:  # storm: n connect + close, give up at the deadline
    n, deadline = int(sys.argv[3]), time.monotonic() + float(sys.argv[4])
    done = 0
    while done < n and time.monotonic() < deadline:
        s = socket.socket()
        s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00")
        try:
            s.connect(("127.0.0.1", port))
            done += 1
        except OSError:
            time.sleep(0.01)
        s.close()
    print(done, flush=True)
PY

start_daemon --config "$(observe_only_config)" --interval 1000
ip netns exec "$NS" python3 "$TMP/storm.py" server $PORT $HOLD >"$TMP/server.out" 2>&1 &
wait_for 5 "storm server listening" grep -q listening "$TMP/server.out"
ip netns exec "$NS" python3 "$TMP/storm.py" hold $PORT $HOLD >"$TMP/hold.out" 2>&1 &
wait_for 10 "$HOLD long-lived connections" grep -q held "$TMP/hold.out"
sleep 2.5 # two snapshots see them
base_rss=$(rss_kib "$DAEMON_PID")
k0=$(status_json | jq -c '.kernel_counters')
log "before: rcvgovd RSS $base_rss KiB, tracked $(status_get .sockets_tracked), kernel $k0"

start=$(now_ms)
pids=()
for i in $(seq 1 $PROCS); do
	ip netns exec "$NS" python3 "$TMP/storm.py" storm $PORT $((CONNS / PROCS)) 60 \
		>"$TMP/storm$i.out" 2>&1 &
	pids+=($!)
done
peak_rss=$base_rss
while :; do
	r=$(rss_kib "$DAEMON_PID")
	[ "$r" -le "$peak_rss" ] || peak_rss=$r
	running=0
	for p in "${pids[@]}"; do alive "$p" && running=1; done
	[ $running -eq 1 ] || break
	# The control socket answers during the storm (bounded batches).
	timeout 5 "$BIN/rcvgovctl" --socket "$CTL_SOCK" status >/dev/null ||
		fail "rcvgovctl status did not answer within 5 s during the storm"
	sleep 0.5
done
elapsed=$(($(now_ms) - start))
made=0
for i in $(seq 1 $PROCS); do made=$((made + $(tail -1 "$TMP/storm$i.out"))); done
alive "$DAEMON_PID" || fail "rcvgovd died during the storm"
log "storm: $made connections made and closed in $elapsed ms ($((made * 1000 / (elapsed + 1))) per s)"
[ "$made" -ge $((CONNS * 9 / 10)) ] || fail "only $made of $CONNS connections made"

# One more snapshot (1 s period), then compare with ss.
sleep 2.5
js=$(status_json)
dropped=$(jq -r '.kernel_counters.events_dropped // 0' <<<"$js")
over=$(jq -r '.kernel_counters.events_over_budget // .counters.events_over_budget // 0' <<<"$js")
submitted=$(jq -r '.kernel_counters.events_submitted' <<<"$js")
log "after: kernel $(jq -c .kernel_counters <<<"$js"); counters $(jq -c '.counters | with_entries(select(.key | startswith("events")))' <<<"$js")"
[ $((dropped + over)) -gt 0 ] ||
	fail "a storm of $made connections lost nothing and nothing was over the budget (submitted $submitted)"
[ "$(log_count 'lifecycle events over the budget')" -ge 1 ] ||
	fail "the loss was not logged"
log "logged: $(grep -m1 'over the budget' "$DAEMON_LOG")"

# rcvgovd sees every namespace (other tests may run beside this one):
# compare what it tracks in ours with what ss shows there.
cookie=$(netns_cookie "$NS")
ours=$(sockets_json | jq --argjson c "$cookie" '[.[] | select(.owner.netns_cookie == $c)] | length')
ns_est=$(ss_full "$NS")
log "tracked in $NS: $ours, ss there: $ns_est (sockets_tracked over all namespaces: $(status_get .sockets_tracked))"
diff=$((ours - ns_est))
[ ${diff#-} -le 4 ] || fail "rcvgovd tracks $ours sockets in $NS, ss shows $ns_est (± 4)"
[ "$ns_est" -ge $((HOLD * 2)) ] || fail "the $HOLD long-lived connections are gone ($ns_est)"

after_rss=$(rss_kib "$DAEMON_PID")
log "rcvgovd RSS: $base_rss KiB before, peak $peak_rss KiB during, $after_rss KiB after"
[ "$after_rss" -le $((base_rss + 4096)) ] ||
	fail "RSS $after_rss KiB after the storm, more than 4 MiB over $base_rss KiB before"
stop_daemon
log "PASS"
