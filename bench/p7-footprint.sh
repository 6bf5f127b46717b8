#!/usr/bin/env bash
# P7: rcvgovd's footprint. The daemon runs as an operator would run it
# (embedded defaults, a snapshot tick every 1000 ms) while a test namespace
# this script makes holds idle established loopback sockets: first 10 k,
# then 100 k. At each size, once the daemon tracks them all and has
# settled: RSS (VmRSS), peak RSS (VmHWM) and CPU (% of one core, utime +
# stime from /proc/PID/stat over a window). Then, with the 100 k still
# open, churn: connections opened and closed continuously (each lives up
# to 2 s, ~200 opened per second) for 10 minutes, RSS sampled every 5 s:
# start, end, max, and end/start (flat: <= 1.1).
# Targets: RSS <= 64 MiB at 100 k, CPU <= 2 % of a core at 100 k idle,
# RSS flat over churn.
#
#   BENCH_SMOKE=1: 1 k and 2 k sockets, 10 s windows, 20 s of churn.
#   P7_SMALL, P7_LARGE, P7_WINDOW_S, P7_CHURN_S override.
# Bounded: the connections give up after 120 s, the churn stops itself;
# the whole script is stopped after 25 minutes (3 in smoke mode).
# shellcheck source-path=SCRIPTDIR source=../tests/lib.sh
source "$(dirname "$0")/../tests/lib.sh"
# shellcheck source=lib.sh
source "$REPO/bench/lib.sh"
need_root

SMALL=${P7_SMALL:-$(smoke_or 10000 1000)}
LARGE=${P7_LARGE:-$(smoke_or 100000 2000)}
WINDOW_S=${P7_WINDOW_S:-$(smoke_or 60 10)}
CHURN_S=${P7_CHURN_S:-$(smoke_or 600 20)}
SAMPLE_S=$(smoke_or 5 2)
LIMIT_S=$(smoke_or 1500 180)
NS="$NS_PREFIX-fp"

time_limit "$LIMIT_S"
sockets_netns "$NS"

# (Listening ports are below 10000, outside the namespace's ephemeral
# range, so that no connection's local port can take one.)

# churn.py SECONDS RATE PORTS: RATE connections a second opened, each
# closed (both ends) after a random 0-2 s, for SECONDS; a little data each
# way so that the receive path runs. Prints how many it opened.
cat >"$TMP/churn.py" <<'PY'
import collections, random, socket, sys, time
secs, rate, ports = float(sys.argv[1]), int(sys.argv[2]), [int(p) for p in sys.argv[3].split(",")]
lss = []
for p in ports:
    ls = socket.socket()
    ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    ls.bind(("127.0.0.1", p))
    ls.listen(1024)
    lss.append(ls)
print("listening", flush=True)
live = collections.deque()
rng = random.Random(1)
start = time.monotonic()
opened = errors = 0
while time.monotonic() - start < secs:
    tick = time.monotonic()
    for _ in range(max(1, rate // 50)):
        k = opened % len(ports)
        try:
            c = socket.socket()
            c.connect(("127.0.0.1", ports[k]))
            a, _ = lss[k].accept()
            c.sendall(b"x" * 512)
            a.recv(4096)
            live.append((tick + rng.uniform(0, 2), c, a))
            opened += 1
        except OSError:
            errors += 1
    live = collections.deque(sorted(live, key=lambda x: x[0]))
    while live and live[0][0] <= tick:
        _, c, a = live.popleft()
        c.close()
        a.close()
    time.sleep(max(0, 0.02 - (time.monotonic() - tick)))
print("opened", opened, "errors", errors, flush=True)
PY

kib() { awk -v k="$2:" '$1 == k { print $2 }' "/proc/$1/status"; }
cpu_ticks() { awk '{ print $14 + $15 }' "/proc/$1/stat"; }
mib() { awk -v k="$1" 'BEGIN { printf "%.1f\n", k / 1024 }'; }
TICK=$(getconf CLK_TCK)


# idle N: waits until the daemon tracks N sockets and has settled, then
# measures over WINDOW_S; sets RSS_KIB, HWM_KIB, CPU_PCT.
idle() {
	wait_for 120 "rcvgovd tracking $1 sockets" test "$(status_get .sockets_tracked)" -ge "$1"
	sleep 5
	local c0 c1 t0 t1
	c0=$(cpu_ticks "$DAEMON_PID") t0=$(now_ms)
	sleep "$WINDOW_S"
	c1=$(cpu_ticks "$DAEMON_PID") t1=$(now_ms)
	RSS_KIB=$(kib "$DAEMON_PID" VmRSS) HWM_KIB=$(kib "$DAEMON_PID" VmHWM)
	TRACKED=$(status_get .sockets_tracked)
	CPU_PCT=$(awk -v c="$((c1 - c0))" -v hz="$TICK" -v ms="$((t1 - t0))" \
		'BEGIN { printf "%.2f\n", 100 * c / hz / (ms / 1000) }')
	local js
	js=$(status_json)
	log "$1 idle sockets: tracked $(jq -r .sockets_tracked <<<"$js"), RSS $RSS_KIB KiB, peak $HWM_KIB KiB, CPU $CPU_PCT % over $WINDOW_S s; snapshots $(jq -r '.counters.snapshots // 0' <<<"$js"), skipped $(jq -r '.counters.snapshots_skipped_quiet // 0' <<<"$js"), last $(jq -r .last_snapshot_ms <<<"$js") ms, gate: $(jq -r '.scan_gate // "-"' <<<"$js")"
}

start_daemon --interval 1000
log "rcvgovd started: RSS $(kib "$DAEMON_PID" VmRSS) KiB, mode $(status_get .mode)"

hold_sockets "$NS" "$SMALL" 7700 a
idle "$SMALL"
small_rss=$RSS_KIB small_hwm=$HWM_KIB small_cpu=$CPU_PCT small_tr=$TRACKED

hold_sockets "$NS" $((LARGE - SMALL)) 7800 b
idle "$LARGE"
large_rss=$RSS_KIB large_hwm=$HWM_KIB large_cpu=$CPU_PCT large_tr=$TRACKED

# Churn on top of the idle sockets; RSS every SAMPLE_S.
ip netns exec "$NS" python3 "$TMP/churn.py" "$CHURN_S" 200 7911,7912,7913,7914 \
	>"$TMP/churn.out" 2>&1 &
churn_pid=$!
WAIT_SAY="cat $TMP/churn.out" wait_ms 10000 "churn listening" grep -q '^listening' "$TMP/churn.out"
samples=()
c0=$(cpu_ticks "$DAEMON_PID") t0=$(now_ms)
samples+=("$(kib "$DAEMON_PID" VmRSS)")
while kill -0 "$churn_pid" 2>/dev/null; do
	sleep "$SAMPLE_S"
	alive "$DAEMON_PID" || fail "rcvgovd died during the churn"
	samples+=("$(kib "$DAEMON_PID" VmRSS)")
done
c1=$(cpu_ticks "$DAEMON_PID") t1=$(now_ms)
wait "$churn_pid" || fail "churn failed: $(cat "$TMP/churn.out")"
churn_cpu=$(awk -v c="$((c1 - c0))" -v hz="$TICK" -v ms="$((t1 - t0))" \
	'BEGIN { printf "%.2f\n", 100 * c / hz / (ms / 1000) }')
churn_hwm=$(kib "$DAEMON_PID" VmHWM)
start_rss=${samples[0]} end_rss=${samples[-1]}
max_rss=$(printf '%s\n' "${samples[@]}" | sort -n | tail -1)
log "churn: $(cat "$TMP/churn.out"); RSS KiB every ${SAMPLE_S} s: ${samples[*]}"
log "churn: CPU $churn_cpu % over $(((t1 - t0) / 1000)) s; peak $churn_hwm KiB"
js=$(status_json)
log "after churn: tracked $(jq -r .sockets_tracked <<<"$js"), counters $(jq -c .counters <<<"$js")"
alive "$DAEMON_PID" || fail "rcvgovd died"
stop_daemon

bench_row P7 "RSS, $SMALL idle sockets" "$(mib "$small_rss")" MiB - - "$(mib "$small_rss")" "<=" 64 \
	"VmHWM $(mib "$small_hwm") MiB; $small_tr sockets tracked (every namespace of the host)"
bench_row P7 "CPU, $SMALL idle sockets" "$small_cpu" "%core" - - "$small_cpu" "<=" 2 \
	"utime+stime over $WINDOW_S s; $small_tr sockets tracked"
bench_row P7 "RSS, $LARGE idle sockets" "$(mib "$large_rss")" MiB - - "$(mib "$large_rss")" "<=" 64 \
	"$large_tr sockets tracked (every namespace of the host)"
bench_row P7 "peak RSS (VmHWM), $LARGE sockets" "$(mib "$large_hwm")" MiB - - "$(mib "$large_hwm")" "<=" 64 \
	"since the daemon started, the growth to $LARGE sockets included"
bench_row P7 "CPU, $LARGE idle sockets" "$large_cpu" "%core" - - "$large_cpu" "<=" 2 \
	"utime+stime over $WINDOW_S s; $large_tr sockets tracked"
bench_row P7 "RSS over $CHURN_S s of churn (end/start)" "$(mib "$end_rss")" MiB \
	"start" "$(mib "$start_rss")" "$(ratio "$end_rss" "$start_rss")" "<=" 1.1 \
	"max $(mib "$max_rss") MiB, VmHWM $(mib "$churn_hwm") MiB; CPU $churn_cpu % of a core during churn; on top of $LARGE idle sockets; $(cat "$TMP/churn.out")"
