#!/usr/bin/env bash
# P5: the tracker at 1,000,000 participants against the memory-bound
# limits measured in the same process (rcvgov-bench, Google Benchmark;
# userspace/tracker/tracker_bench.cpp):
#   - batch updates (1024 per batch, random sockets; by handle and by
#     cookie, the daemon's form) vs the same update stream applied to a
#     flat array of as many 32-byte slots (BM_FlatArrayUpdateBatch):
#     target tracker >= 50 % of the flat array's rate;
#   - decide() at 10 % over the system quota (~300 k reclaim decisions at
#     1 M) vs one sequential pass over all participants (BM_FlatArrayPass):
#     target <= 4x.
# Repetitions in random interleaving, medians; rates and times are CPU
# time (Google Benchmark's default), not wall time.
#
#   BENCH_SMOKE=1: 100,000 participants, 2 repetitions.
#   P5_PARTICIPANTS (1000000 or 100000, the sizes the benchmarks are
#   registered for), P5_REPS override.
# No root needed, no network. Bounded: 15 minutes.
# shellcheck source-path=SCRIPTDIR source=../tests/lib.sh
source "$(dirname "$0")/../tests/lib.sh"
# shellcheck source=lib.sh
source "$REPO/bench/lib.sh"

N=${P5_PARTICIPANTS:-$(smoke_or 1000000 100000)}
REPS=${P5_REPS:-$(smoke_or 5 2)}
B="$BIN/rcvgov-bench"
[ -x "$B" ] || fail "no $B: make BUILD=<dir> <dir>/bin/rcvgov-bench, RCVGOV_BIN=<dir>/bin"

filter="^(BM_TrackerSetUsageBatch|BM_TrackerSetUsageBatchByCookie|BM_FlatArrayUpdateBatch"
filter+="|BM_TrackerDecide10PercentOver|BM_FlatArrayPass)/$N(/|\$)"
log "rcvgov-bench, $N participants, $REPS repetitions"
timeout 900 "$B" --benchmark_filter="$filter" --benchmark_repetitions="$REPS" \
	--benchmark_enable_random_interleaving=true --benchmark_report_aggregates_only=true \
	--benchmark_out="$TMP/p5.json" --benchmark_out_format=json >"$TMP/p5.err" 2>&1 ||
	fail "rcvgov-bench failed: $(tail -5 "$TMP/p5.err")"

# med NAME FIELD [ARG]: the median of FIELD over the repetitions of
# NAME/$N (NAME/$N/ARG when given).
med() {
	jq -er --arg n "$1/$N${3:+/$3}" --arg f "$2" \
		'[.benchmarks[] | select((.run_name == $n or (.run_name | startswith($n + "/")))
		  and .aggregate_name == "median")
		  | .[$f]] | first' "$TMP/p5.json" ||
		fail "no median $2 for $1/$N in the benchmark output"
}
mps() { awk -v v="$1" 'BEGIN { printf "%.2f\n", v / 1e6 }'; }
flat=$(med BM_FlatArrayUpdateBatch items_per_second)
handle=$(med BM_TrackerSetUsageBatch items_per_second)
cookie=$(med BM_TrackerSetUsageBatchByCookie items_per_second)
# CPU time (the process's, setup paused): wall time on a shared machine
# counts other processes' turns.
# decide() as rcvgovd runs it (reclaims capped at the round's destroy
# budget, 32), and uncapped for information at 1 M.
decide=$(med BM_TrackerDecide10PercentOver cpu_time 32)
pass=$(med BM_FlatArrayPass cpu_time)
decisions=$(jq -r --arg n "BM_TrackerDecide10PercentOver/$N/32" \
	'[.benchmarks[] | select((.run_name | startswith($n + "/")) and .aggregate_name == "median")
	  | .decisions] | first' \
	"$TMP/p5.json")
log "updates/s: flat array $flat, tracker by handle $handle, by cookie $cookie; decide $decide ms ($decisions decisions), pass $pass ms"

label=$([ "$N" = 1000000 ] && echo 1M || echo "$((N / 1000))k")
bench_row P5 "tracker batch updates, $label participants" "$(mps "$handle")" M/s \
	"flat array" "$(mps "$flat")" "$(ratio "$handle" "$flat")" ">=" 0.5 \
	"by handle, 1024 per batch; medians of $REPS"
bench_row P5 "tracker batch updates by cookie, $label" "$(mps "$cookie")" M/s \
	"flat array" "$(mps "$flat")" "$(ratio "$cookie" "$flat")" ">=" 0.5 \
	"the daemon's form (a hash lookup first); medians of $REPS"
bench_row P5 "decide(), 10 % over quota, $label" "$(printf '%.2f' "$decide")" ms \
	"sequential pass" "$(printf '%.2f' "$pass")" "$(ratio "$decide" "$pass")" "<=" 4 \
	"$decisions reclaim decisions (capped at safety.destroy_per_round = 32, as rcvgovd runs it); CPU time, medians of $REPS"
if [ "$N" = 1000000 ]; then
	unc=$(med BM_TrackerDecide10PercentOver cpu_time 0)
	bench_row P5 "decide(), 10 % over, uncapped, $label" "$(printf '%.2f' "$unc")" ms \
		"sequential pass" "$(printf '%.2f' "$pass")" "$(ratio "$unc" "$pass")" - - \
		"every reclaim decided at once (set_reclaim_cap(0)); about 170 ns per decision"
fi
