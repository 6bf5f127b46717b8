#!/usr/bin/env bash
# Memory at scale with real sockets: ~117,000 established TCP sockets over
# loopback in a test namespace (3 accepting + 3 connecting processes of
# 19,500 connections each: the fd limit is 20,000 per process), rcvgovd
# observing with a snapshot every second. Prints rcvgovd's steady RSS, its
# peak RSS (VmHWM), its CPU use over 30 s and the snapshot time; asserts
# only loose sanity bounds: RSS < 256 MiB, and sockets_tracked within 5 %
# of what ss shows. A benchmark: figures are printed, timings not asserted.
# Bounded: ~100 s, the connections give up after 60 s.
source "$(dirname "$0")/../lib.sh"
need_root

NS="$NS_PREFIX-scale"
PER_PROC=${SCALE_PER_PROC:-19500}
PROCS=3
MEASURE_S=${SCALE_MEASURE_S:-30}
BASE_PORT=7500

kib() { awk -v k="$2:" '$1 == k { print $2 }' "/proc/$1/status"; }
cpu_ticks() { awk '{ print $14 + $15 }' "/proc/$1/stat"; }
# Full TCP sockets, as the snapshot counts them (not listening, time-wait
# or syn-recv), in namespace $1 or the host's ("").
ss_full() {
	if [ -n "$1" ]; then ip netns exec "$1" ss -Htn; else ss -Htn; fi |
		awk '$1 != "TIME-WAIT" && $1 != "SYN-RECV"' | wc -l
}

ip netns add "$NS"
ip -n "$NS" link set lo up
ip netns exec "$NS" sysctl -q -w net.core.somaxconn=65535
ip netns exec "$NS" sysctl -q -w net.ipv4.tcp_max_syn_backlog=65535
ip netns exec "$NS" sysctl -q -w net.ipv4.ip_local_port_range="1024 65535"

cat >"$TMP/conns.py" <<'PY'
import resource, socket, sys, time
soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
mode, port, n = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
held = []
if mode == "accept":
    ls = socket.socket()
    ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    ls.bind(("127.0.0.1", port))
    ls.listen(65535)
    print("listening", flush=True)
    while len(held) < n:
        held.append(ls.accept()[0])
    print("accepted", len(held), flush=True)
else:
    deadline = time.monotonic() + 60
    while len(held) < n and time.monotonic() < deadline:
        try:
            held.append(socket.create_connection(("127.0.0.1", port)))
        except OSError as e:
            print("connect:", e, flush=True)
            time.sleep(0.05)
    print("connected", len(held), flush=True)
time.sleep(3600)
PY

start_daemon --config "$(observe_only_config)" --interval 1000
log "rcvgovd idle: RSS $(kib "$DAEMON_PID" VmRSS) KiB, $(status_get .sockets_tracked) sockets tracked"

t0=$(now_ms)
for i in $(seq 1 $PROCS); do
	ip netns exec "$NS" python3 "$TMP/conns.py" accept $((BASE_PORT + i)) "$PER_PROC" \
		>"$TMP/accept$i.out" 2>&1 &
done
for i in $(seq 1 $PROCS); do
	wait_for 10 "acceptor $i listening" grep -q listening "$TMP/accept$i.out"
	ip netns exec "$NS" python3 "$TMP/conns.py" connect $((BASE_PORT + i)) "$PER_PROC" \
		>"$TMP/connect$i.out" 2>&1 &
done
peak_during_setup=0
all_connected() {
	local i
	for i in $(seq 1 $PROCS); do
		grep -q '^connected' "$TMP/connect$i.out" || return 1
		grep -q '^accepted' "$TMP/accept$i.out" || return 1
	done
}
deadline=$((SECONDS + 75))
until all_connected; do
	[ $SECONDS -lt $deadline ] || fail "connections not up after 75 s: $(cat "$TMP"/connect*.out | tr '\n' ' ')"
	alive "$DAEMON_PID" || fail "rcvgovd died while the connections were made"
	sleep 1
done
setup_ms=$(($(now_ms) - t0))
est=$(ss_full "$NS")
log "$est sockets in $NS after $setup_ms ms ($(cat "$TMP"/connect*.out | tr '\n' ' '))"
[ "$est" -ge $((PER_PROC * PROCS * 2 * 95 / 100)) ] || fail "only $est sockets established"

sleep 3 # a few snapshots of the full population
tick=$(getconf CLK_TCK)
c0=$(cpu_ticks "$DAEMON_PID")
s0=$(now_ms)
rss_min=999999999 rss_max=0 snap_max=0
for _ in $(seq 1 "$MEASURE_S"); do
	sleep 1
	r=$(kib "$DAEMON_PID" VmRSS)
	[ "$r" -ge "$rss_min" ] || rss_min=$r
	[ "$r" -le "$rss_max" ] || rss_max=$r
done
c1=$(cpu_ticks "$DAEMON_PID")
s1=$(now_ms)
js=$(status_json)
cpu_pct=$(python3 -c "print(f'{100.0 * ($c1 - $c0) / $tick / (($s1 - $s0) / 1000):.1f}')")
hwm=$(kib "$DAEMON_PID" VmHWM)
tracked=$(jq -r .sockets_tracked <<<"$js")
host=$(ss_full "")
est=$(ss_full "$NS")
log "FIGURES: $est sockets in $NS (+$host in the host namespace); rcvgovd sockets_tracked $tracked"
log "FIGURES: rcvgovd RSS over ${MEASURE_S} s: $((rss_min / 1024))-$((rss_max / 1024)) MiB ($rss_min-$rss_max KiB); peak (VmHWM) $((hwm / 1024)) MiB ($hwm KiB)"
log "FIGURES: rcvgovd CPU $cpu_pct % of one core over $(((s1 - s0) / 1000)) s (snapshot every 1 s; last snapshot $(jq -r .last_snapshot_ms <<<"$js") ms)"
log "FIGURES: kernel counters $(jq -c .kernel_counters <<<"$js")"

alive "$DAEMON_PID" || fail "rcvgovd died"
[ "$hwm" -lt $((256 * 1024)) ] || fail "peak RSS $hwm KiB is not below 256 MiB"
want=$((est + host))
diff=$((tracked - want))
[ $((${diff#-} * 100)) -le $((want * 5)) ] ||
	fail "sockets_tracked $tracked is not within 5 % of $want (ss: $est in $NS + $host in the host)"
stop_daemon
log "PASS"
