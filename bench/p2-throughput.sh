#!/usr/bin/env bash
# P2: iperf3 throughput over a veth between two test namespaces, 1 flow and
# 16 flows (-P 16), with rcvgovd running (embedded defaults, the 1000 ms
# interval) vs not. P3: the cost per run of every BPF program rcvgovd
# attached, under the same load.
#
# P2 design: the iperf3 server (a one-off server per run) runs in the
# receiver's namespace, the client in the sender's, JSON output (-J) read
# with jq; the figure of a run is .end.sum_received.bits_per_second, with
# the first second omitted (-O 1, slow start). Neither arm is pinned to a
# CPU: both run the same commands on the same 2 shared cores. The arms are
# interleaved per repetition in ABBA order (off,on | on,off | off,on ...),
# which alternates which arm comes first so a drift of the machine's load
# over the run weighs on both alike and halves the daemon restarts; each
# arm of a repetition runs 1 flow then 16 flows. "on" is rcvgovd as
# deployed: its observers attached and ladder step 1 (tcp_shrink_window=1
# in the receiver's namespace, waited for before the runs; rcvgovd puts the
# 0 back when it stops). Rows: median(on)/median(off) per flow count,
# target >= 0.99.
#
# P3 design: BPF run-time stats add two clock reads to every program run,
# so they are NOT on during the P2 runs (they would charge their own cost
# to "on"). After the P2 repetitions, with rcvgovd running, they are turned
# on (BPF_ENABLE_STATS, held by a helper; kernel.bpf_stats_enabled=1 if
# that fails, the previous value put back on exit, also on failure or
# signal) and one more 1-flow and one more 16-flow run give the load; per program of
# rcvgovd (the prog_ids in the fdinfo of its file descriptors, looked up
# in `bpftool -j prog show`) the deltas of run_time_ns / run_cnt over that load give
# ns per run. Per-segment hooks (tcp_probe, coalesce and rmem_schedule
# fentry/fexit, sock_recv_length, tcp_rcv_space_adjust, tcp_rcvbuf_grow,
# tcp_rcvbuf_prune) have the target <= 100 ns; per-connection hooks
# (inet_sock_set_state) and iterators get a row without a target.
#
# Every run is in $BENCH_OUT/p2-throughput-runs.csv, the bpftool snapshots
# in $BENCH_OUT/p3-bpf-{before,after}.json. Another rcvgovd on the machine
# (other tests) would attach its programs to both arms: its presence is
# counted and noted in the rows.
#
#   BENCH_SMOKE=1: 2 repetitions of 2 s (no omitted second).
# shellcheck source-path=SCRIPTDIR source=../tests/lib.sh
source "$(dirname "$0")/../tests/lib.sh"
# shellcheck source=lib.sh
source "$(dirname "$0")/lib.sh"
need_root

REPS=$(smoke_or 5 2)
T=$(smoke_or 10 2)
OMIT=$(smoke_or 1 0)
PORT=5201
CSV=$BENCH_OUT/p2-throughput-runs.csv
# Whole-run bound: REPS x 2 arms x 2 flow counts runs, the P3 runs, daemon
# starts; a run is bounded by its own timeout below.
LIMIT=$(((REPS * 4 + 2) * (T + OMIT + 25) + 120))
# shellcheck disable=SC2016 # for the inner shell
bash -c 'trap "kill \$s; exit 0" TERM; sleep "$1" & s=$!; wait $s; echo "[p2-throughput] timed out after $1 s" >&2; kill -TERM "$2"' \
	watchdog "$LIMIT" $$ &
WATCHDOG=$!
CLEANUP_HOOKS+=("kill $WATCHDOG 2>/dev/null; wait $WATCHDOG 2>/dev/null")

command -v iperf3 >/dev/null || fail "iperf3 is not installed (scripts/deps.sh installs it)"
command -v bpftool >/dev/null || fail "bpftool is not installed (scripts/deps.sh installs it)"
[ -x "$BIN/rcvgovd" ] || fail "no rcvgovd in $BIN (build first, or set RCVGOV_BIN)"

make_pair_netns
foreign_daemons() { pgrep -x rcvgovd | grep -vx "${DAEMON_PID:-none}" | tr '\n' ' ' || true; }
FOREIGN_RUNS=0

# iperf_run FLOWS: one run; prints the receiver's bits per second.
iperf_run() {
	local flows=$1 try out
	for try in 1 2; do
		ip netns exec "$NS_RECV" timeout $((T + OMIT + 20)) iperf3 -s -1 -p $PORT \
			>"$TMP/iperf3-server.log" 2>&1 &
		local spid=$!
		wait_for 5 "iperf3 server listening" listening "$NS_RECV" $PORT
		if ip netns exec "$NS_SEND" timeout $((T + OMIT + 15)) iperf3 -c "$RECV4" -p $PORT \
			-t "$T" -O "$OMIT" -P "$flows" -J >"$TMP/iperf3.json" 2>"$TMP/iperf3.err"; then
			out=$(jq -er '.end.sum_received.bits_per_second' "$TMP/iperf3.json" 2>/dev/null || true)
		fi
		wait "$spid" 2>/dev/null || true
		if [ -n "${out:-}" ] && awk -v b="$out" 'BEGIN { exit !(b + 0 > 0) }'; then
			echo "$out"
			return 0
		fi
		log "iperf3 run ($flows flows) failed (try $try): $(head -c 300 "$TMP/iperf3.err") $(jq -r '.error // empty' "$TMP/iperf3.json" 2>/dev/null)"
		kill "$spid" 2>/dev/null || true
	done
	return 1
}

daemon_on() {
	[ -z "$DAEMON_PID" ] || return 0
	start_daemon --interval 1000
	# shellcheck disable=SC2317 # called through wait_for
	shrunk() { [ "$(sysctl_in "$NS_RECV" net.ipv4.tcp_shrink_window)" = 1 ]; }
	wait_for 5 "rcvgovd to set tcp_shrink_window=1 in the receiver namespace" shrunk
}
daemon_off() { [ -z "$DAEMON_PID" ] || stop_daemon; }

echo "rep,arm,flows,bits_per_second" >"$CSV"
declare -A RUNS=()
t_start=$SECONDS
f=$(foreign_daemons)
[ -z "$f" ] || log "warning: another rcvgovd runs on this machine (pids $f): its programs see both arms' traffic"
for rep in $(seq 1 "$REPS"); do
	if [ $((rep % 2)) = 1 ]; then arms=(off on); else arms=(on off); fi
	for arm in "${arms[@]}"; do
		if [ "$arm" = on ]; then daemon_on; else daemon_off; fi
		for flows in 1 16; do
			bps=$(iperf_run "$flows") || fail "iperf3 could not measure ($arm, $flows flows)"
			[ -z "$(foreign_daemons)" ] || FOREIGN_RUNS=$((FOREIGN_RUNS + 1))
			echo "$rep,$arm,$flows,$bps" >>"$CSV"
			RUNS[$arm-$flows]+=" $bps"
			log "rep $rep, rcvgovd $arm, $flows flow(s): $(awk -v b="$bps" 'BEGIN { printf "%.2f", b / 1e9 }') Gbit/s"
		done
	done
done
p2_secs=$((SECONDS - t_start))

# P3: bpf_stats on, rcvgovd on, one run of each flow count.
# Run-time stats on: preferably with BPF_ENABLE_STATS, an fd that keeps
# them on while it is open (reference counted by the kernel, so another
# benchmark that writes the global sysctl cannot turn them off under us, and
# the kernel drops it if we die, even by SIGKILL); a helper holds it for at
# most the P3 runs. Else the sysctl kernel.bpf_stats_enabled=1, its
# previous value put back after the runs and on exit (cleanup hook).
STATS_HOW=""
STATS_BEFORE=$(cat /proc/sys/kernel/bpf_stats_enabled)
# shellcheck disable=SC2317 # a cleanup hook
restore_stats() {
	case $STATS_HOW in
	fd) kill "$STATS_PID" 2>/dev/null && wait "$STATS_PID" 2>/dev/null ;;
	sysctl) echo "$STATS_BEFORE" >/proc/sys/kernel/bpf_stats_enabled ;;
	esac
	STATS_HOW=""
}
CLEANUP_HOOKS+=(restore_stats)
enable_stats() {
	python3 - $((2 * (T + OMIT) + 60)) >"$TMP/stats.out" 2>&1 <<'PY' &
import ctypes, signal, struct, sys, time
signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
libc = ctypes.CDLL(None, use_errno=True)
SYS_bpf, BPF_ENABLE_STATS, BPF_STATS_RUN_TIME = 321, 32, 0  # x86_64
attr = ctypes.create_string_buffer(struct.pack("I", BPF_STATS_RUN_TIME), 8)
if libc.syscall(SYS_bpf, BPF_ENABLE_STATS, attr, 8) < 0:
    print("BPF_ENABLE_STATS failed: errno", ctypes.get_errno(), flush=True)
    sys.exit(1)
print("enabled", flush=True)
time.sleep(float(sys.argv[1]))
PY
	STATS_PID=$!
	local i
	for i in $(seq 50); do
		if grep -q '^enabled' "$TMP/stats.out"; then STATS_HOW=fd && return 0; fi
		alive "$STATS_PID" || break
		sleep 0.1
	done
	kill "$STATS_PID" 2>/dev/null || true
	log "BPF_ENABLE_STATS: $(cat "$TMP/stats.out"); using the sysctl kernel.bpf_stats_enabled"
	STATS_HOW=sysctl
	echo 1 >/proc/sys/kernel/bpf_stats_enabled
}
daemon_on
# rcvgovd's programs: those it holds an fd of (prog_id in its fdinfo;
# the "pids" of bpftool -j prog show are null on this host).
daemon_progs() {
	local ids
	ids=$(grep -h '^prog_id:' /proc/"$DAEMON_PID"/fdinfo/* 2>/dev/null | awk '{ print $2 }' | sort -un | jq -sc .)
	bpftool -j prog show 2>/dev/null | jq --argjson ids "$ids" '[.[] | select(.id as $i | $ids | index($i))]'
}
# The floor: empty programs on the same tracepoints, in the same runs. Run-
# time stats charge every run their own clock reads; an empty program is
# charged only that, so rcvgov's cost is what it is charged above it.
FLOOR=${RCVGOV_BIN:-$REPO/build/bin}/rcvgov-bpf-floor
[ -x "$FLOOR" ] || fail "$FLOOR not found: make $(dirname "$FLOOR")/rcvgov-bpf-floor"
"$FLOOR" "$FLOOR.bpf.o" $((2 * (T + OMIT) + 60)) >"$TMP/floor.out" 2>&1 &
FLOOR_PID=$!
# shellcheck disable=SC2317 # a cleanup hook
stop_floor() { kill "$FLOOR_PID" 2>/dev/null && wait "$FLOOR_PID" 2>/dev/null; }
CLEANUP_HOOKS+=(stop_floor)
WAIT_SAY="cat $TMP/floor.out" wait_ms 10000 "the floor programs" grep -q '^ready' "$TMP/floor.out"
floor_progs() {
	local ids
	ids=$(grep -h '^prog_id:' /proc/"$FLOOR_PID"/fdinfo/* 2>/dev/null | awk '{ print $2 }' | sort -un | jq -sc .)
	bpftool -j prog show 2>/dev/null | jq --argjson ids "$ids" '[.[] | select(.id as $i | $ids | index($i))]'
}
enable_stats
stats_how=$STATS_HOW
daemon_progs >"$BENCH_OUT/p3-bpf-before.json"
floor_progs >"$BENCH_OUT/p3-floor-before.json"
[ "$(jq length "$BENCH_OUT/p3-bpf-before.json")" -gt 0 ] || fail "no BPF program of rcvgovd found with bpftool"
p3_bps=""
for flows in 1 16; do
	bps=$(iperf_run "$flows") || fail "iperf3 could not measure (P3, $flows flows)"
	p3_bps+="${p3_bps:+, }$flows flow(s) $(awk -v b="$bps" 'BEGIN { printf "%.2f", b / 1e9 }') Gbit/s"
	[ -z "$(foreign_daemons)" ] || FOREIGN_RUNS=$((FOREIGN_RUNS + 1))
done
daemon_progs >"$BENCH_OUT/p3-bpf-after.json"
floor_progs >"$BENCH_OUT/p3-floor-after.json"
restore_stats
stop_floor
daemon_off

# P2 rows.
fnote=""
[ "$FOREIGN_RUNS" = 0 ] || fnote="; another rcvgovd was running during $FOREIGN_RUNS of the runs"
for flows in 1 16; do
	# shellcheck disable=SC2086 # word lists of figures
	on=$(median ${RUNS[on-$flows]}) off=$(median ${RUNS[off-$flows]})
	gb() { awk -v b="$1" 'BEGIN { printf "%.3f", b / 1e9 }'; }
	bench_row P2 "iperf3 throughput, $flows flow$([ "$flows" = 1 ] || echo s): on/off" "$(gb "$on")" Gbit/s \
		"no daemon" "$(gb "$off")" "$(ratio "$on" "$off")" ">=" 0.99 \
		"median of $REPS runs of ${T}s each arm, interleaved ABBA; on:$(for b in ${RUNS[on-$flows]}; do printf ' %s' "$(gb "$b")"; done) off:$(for b in ${RUNS[off-$flows]}; do printf ' %s' "$(gb "$b")"; done) Gbit/s$fnote"
done

# P3 rows: one per program that ran. per_run BEFORE AFTER: name, type,
# run-time delta, run-count delta of each program.
per_run() {
	jq -r --slurpfile a "$2" '
		(map({key: (.id | tostring), value: .}) | from_entries) as $b
		| $a[0][] | . as $p | ($b[.id | tostring] // {run_time_ns: 0, run_cnt: 0}) as $q
		| [.name, .type, ((.run_time_ns // 0) - ($q.run_time_ns // 0)), ((.run_cnt // 0) - ($q.run_cnt // 0))]
		| @tsv' "$1"
}
per_run "$BENCH_OUT/p3-bpf-before.json" "$BENCH_OUT/p3-bpf-after.json" >"$TMP/p3.tsv"
per_run "$BENCH_OUT/p3-floor-before.json" "$BENCH_OUT/p3-floor-after.json" >"$TMP/floor.tsv"
# floor_of NAME: ns/run of the empty program on rcvgov program NAME's
# tracepoint (bpftool shows names cut at 15 characters), "" if none ran.
floor_of() {
	awk -F'\t' -v n="$1" '{ f = $1; sub(/^floor_/, "", f) }
		length(f) > 0 && index(n, f) == 1 && $4 > 0 { printf "%.1f", $3 / $4; exit }' "$TMP/floor.tsv"
}
ran=0
while IFS=$'\t' read -r name type dt dc; do
	[ "$dc" -gt 0 ] || { log "P3: $name ($type) did not run"; continue; }
	ran=$((ran + 1))
	ns=$(awk -v t="$dt" -v c="$dc" 'BEGIN { printf "%.1f", t / c }')
	case $name in
	inet_sock_set_s* | snapshot | enforce_* | *iter*)
		op=- tgt=- kind="per connection or per iterated socket: no target" ;;
	tcp_rcvbuf_grow)
		op=- tgt=- kind="per autotuning step (at most once per RTT), not per segment: no target" ;;
	sock_recv_leng* | tcp_rcv_space*)
		op="<=" tgt=100 kind="per read (recvmsg), judged like a per-segment hook on the cost above the floor" ;;
	*) op="<=" tgt=100 kind="per-segment hook, judged on the cost above the floor" ;;
	esac
	floor=$(floor_of "$name")
	above=$ns
	[ -z "$floor" ] || above=$(awk -v a="$ns" -v f="$floor" 'BEGIN { printf "%.1f", a - f }')
	bench_row P3 "BPF ns/run above an empty prog, $name" "$ns" ns "empty prog" "${floor:--}" \
		"$above" "$op" "$tgt" \
		"ratio column = ns/run minus the empty program's on the same tracepoint; $kind; $type; $dc runs, $dt ns over a 1-flow and a 16-flow iperf3 run of ${T}s ($p3_bps) with run-time stats on ($([ "$stats_how" = fd ] && echo BPF_ENABLE_STATS || echo kernel.bpf_stats_enabled=1))$fnote"
done <"$TMP/p3.tsv"
[ "$ran" -gt 0 ] || fail "no program of rcvgovd ran during the P3 load"
log "P2 took ${p2_secs}s, all $((SECONDS - t_start))s"
