#!/usr/bin/env bash
# Runs the system benchmarks and prints one table: figure, anchor figure,
# ratio, target, met or not. Also writes build/bench/results.json (the rows
# plus the machine) so runs can be compared between commits.
#
#   bench/run.sh              every bench/p*.sh, then the tracker's (P5)
#   bench/run.sh p2 p4        only those
#   BENCH_SMOKE=1 bench/run.sh   short runs, nothing judged (make test)
#
# Exit status: non-zero if a benchmark could not measure (crashed, timed
# out); a missed target is reported in the table, not as a failure.
set -uo pipefail
REPO=$(cd "$(dirname "$0")/.." && pwd)
export BENCH_OUT=${BENCH_OUT:-$REPO/build/bench}
export BENCH_SMOKE=${BENCH_SMOKE:-0}
mkdir -p "$BENCH_OUT"
: >"$BENCH_OUT/rows.jsonl"

want=("$@")
scripts=()
for f in "$REPO"/bench/p*.sh; do
	id=$(basename "$f" | cut -d- -f1)
	if [ ${#want[@]} -eq 0 ] || printf '%s\n' "${want[@]}" | grep -qix "$id"; then
		scripts+=("$f")
	fi
done
[ ${#scripts[@]} -gt 0 ] || { echo "bench: nothing matches: ${want[*]}" >&2; exit 2; }

failed=()
for f in "${scripts[@]}"; do
	echo "=== $(basename "$f")"
	if ! "$f"; then
		failed+=("$(basename "$f")")
		echo "bench: $(basename "$f") FAILED to measure" >&2
	fi
done

echo
echo "=== results ($([ "$BENCH_SMOKE" = 1 ] && echo "smoke run: nothing judged" || echo "targets judged"))"
jq -r '[.id, .figure, .value + " " + .unit, .anchor + " " + .anchor_value, .ratio,
	.op + " " + .target, .met] | @tsv' "$BENCH_OUT/rows.jsonl" |
	awk -F'\t' 'BEGIN { printf "%-3s %-46s %-18s %-26s %-9s %-9s %s\n",
		"#", "figure", "rcvgov", "anchor", "ratio", "target", "met" }
		{ printf "%-3s %-46s %-18s %-26s %-9s %-9s %s\n", $1, $2, $3, $4, $5, $6, $7 }'
jq -s --arg host "$(uname -r)" --arg cpus "$(nproc)" \
	--arg mem "$(awk '/MemTotal/ { print $2 " kB" }' /proc/meminfo)" \
	--arg date "$(date -u +%FT%TZ)" \
	'{machine: {kernel: $host, cpus: $cpus, memory: $mem}, date: $date, rows: .}' \
	"$BENCH_OUT/rows.jsonl" >"$BENCH_OUT/results.json"
echo "json: $BENCH_OUT/results.json"
missed=$(jq -s '[.[] | select(.met == "missed")] | length' "$BENCH_OUT/rows.jsonl")
echo "$(wc -l <"$BENCH_OUT/rows.jsonl") rows, $missed missed, ${#failed[@]} failed: ${failed[*]:-none}"
[ ${#failed[@]} -eq 0 ]
