# shellcheck shell=bash
# Shared by the system benchmarks bench/p*.sh (sourced after tests/lib.sh,
# which gives namespaces, the daemon, the pair programs and cleanup).
#
# Every figure is printed next to an anchor measured in the same run and
# written as one JSON object per line to $BENCH_OUT/rows.jsonl; bench/run.sh
# turns those into the table and build/bench/results.json.
#
#   BENCH_SMOKE=1   short runs for `make test`: figures are printed but no
#                   target is judged ("smoke" instead of met/missed)
#   BENCH_OUT       where rows go (default $REPO/build/bench)

BENCH_SMOKE=${BENCH_SMOKE:-0}
BENCH_OUT=${BENCH_OUT:-$REPO/build/bench}
mkdir -p "$BENCH_OUT"

# smoke_or FULL SMOKE: the value for this mode.
smoke_or() { if [ "$BENCH_SMOKE" = 1 ]; then echo "$2"; else echo "$1"; fi; }

# median of the numbers given as arguments.
median() { printf '%s\n' "$@" | sort -g | awk '{ v[NR] = $1 } END {
	if (NR == 0) exit 1
	if (NR % 2) print v[(NR + 1) / 2]; else print (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }

# percentile P of the numbers in file F (one per line), nearest rank.
percentile() { sort -g "$2" | awk -v p="$1" '{ v[NR] = $1 } END {
	if (NR == 0) exit 1
	r = int(p / 100 * NR + 0.999999); if (r < 1) r = 1; if (r > NR) r = NR
	print v[r] }'; }

# ratio A B: A/B with 4 decimals ("nan" if B is 0).
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b == 0) print "nan"; else printf "%.4f\n", a / b }'; }

# bench_row ID FIGURE VALUE UNIT ANCHOR_NAME ANCHOR_VALUE RATIO OP TARGET [NOTE]
#   ID      the benchmark row, e.g. P2
#   FIGURE  what was measured, e.g. "throughput, 1 flow"
#   VALUE UNIT          the figure for rcvgov
#   ANCHOR_NAME ANCHOR_VALUE   the same figure for the anchor ("-" if none)
#   RATIO   what the target is about (VALUE/ANCHOR or whatever the row says)
#   OP TARGET  the target on RATIO (or on VALUE when there is no anchor):
#              ">=" or "<="; "-" for a row with no target (TARGET "-"
#              too): met is then "info"
# Prints one line and appends one JSON row. Met is judged only outside
# smoke mode.
bench_row() {
	local id=$1 fig=$2 val=$3 unit=$4 aname=$5 aval=$6 rat=$7 op=$8 tgt=$9 note=${10:-}
	local met=smoke
	if [ "$op" = - ]; then
		met=info
	elif [ "$BENCH_SMOKE" != 1 ]; then
		met=$(awk -v r="$rat" -v o="$op" -v t="$tgt" 'BEGIN {
			if (r == "nan" || r == "") { print "missed"; exit }
			ok = (o == ">=") ? (r + 0 >= t + 0) : (r + 0 <= t + 0)
			print ok ? "met" : "missed" }')
	fi
	printf '%-3s %-44s %12s %-6s %-16s %12s  ratio %-9s target %s %s  %s\n' \
		"$id" "$fig" "$val" "$unit" "$aname" "$aval" "$rat" "$op" "$tgt" "$met"
	jq -cn --arg id "$id" --arg fig "$fig" --arg val "$val" --arg unit "$unit" \
		--arg aname "$aname" --arg aval "$aval" --arg ratio "$rat" --arg op "$op" \
		--arg target "$tgt" --arg met "$met" --arg note "$note" \
		--arg commit "$(git -C "$REPO" rev-parse --short HEAD 2>/dev/null || echo unknown)" \
		--argjson smoke "$([ "$BENCH_SMOKE" = 1 ] && echo true || echo false)" \
		'{id: $id, figure: $fig, value: $val, unit: $unit, anchor: $aname,
		  anchor_value: $aval, ratio: $ratio, op: $op, target: $target,
		  met: $met, note: $note, commit: $commit, smoke: $smoke}' \
		>>"$BENCH_OUT/rows.jsonl"
}

# Many idle established sockets in a test namespace (P4, P6, P7).
# Descriptors: each holding process (bench/hold_sockets.py) raises its soft
# limit to the hard one and holds at most HOLD_PER_PROC connections (both
# ends), so that a hard limit as low as 20,000 (containers without
# CAP_SYS_RESOURCE) is enough.
HOLD_PER_PROC=$(($(ulimit -Hn) / 2 - 100))
[ "$HOLD_PER_PROC" -le 9000 ] || HOLD_PER_PROC=9000

# hold_sockets NS N PORT TAG: N more established sockets in NS (N/2
# loopback connections), over as many processes as the descriptor limit
# needs, listening on ports PORT, PORT+1, ... (keep them below the
# namespace's ephemeral range so no connection's local port takes one);
# returns once all are up.
hold_sockets() {
	local ns=$1 pairs=$(($2 / 2)) port=$3 tag=$4 i=0 n t0 j
	[ "$HOLD_PER_PROC" -ge 500 ] || fail "descriptor hard limit $(ulimit -Hn) is too low"
	t0=$(now_ms)
	while [ "$pairs" -gt 0 ]; do
		n=$((pairs < HOLD_PER_PROC ? pairs : HOLD_PER_PROC))
		ip netns exec "$ns" python3 "$REPO/bench/hold_sockets.py" "$n" $((port + 2 * i)) \
			>"$TMP/hold$tag$i.out" 2>&1 &
		pairs=$((pairs - n)) i=$((i + 1))
	done
	for j in $(seq 0 $((i - 1))); do
		WAIT_SAY="cat $TMP/hold$tag$j.out" wait_ms 130000 "sockets of holder $tag$j" \
			grep -q '^ready' "$TMP/hold$tag$j.out"
	done
	log "$2 more sockets in $ns over $i processes in $(($(now_ms) - t0)) ms"
}

# time_limit SECONDS: ends this benchmark (through its cleanup) after SECONDS.
# The sleep goes with the watcher: an orphaned sleep would keep the
# benchmark's inherited descriptors (a caller's flock) for SECONDS.
time_limit() {
	(
		sleep "$1" &
		trap 'kill $! 2>/dev/null; exit 0' TERM
		wait $! && log "time limit of $1 s reached" && kill -TERM $$
	) &
}

# sockets_netns NS: a namespace for hold_sockets, loopback up, ephemeral
# ports from 10000 (listening ports below that never collide with them).
sockets_netns() {
	nl_ns_add "$1" || fail "cannot create namespace $1"
	ip -n "$1" link set lo up
	nl_sysctl_set "$1" net.ipv4.ip_local_port_range "10000 65535" || fail "ip_local_port_range"
}
