#!/usr/bin/env bash
# fuzz/run.sh SECONDS NAME...: runs each libFuzzer harness
# $BUILD/fuzz/NAME_fuzz for SECONDS seconds, one after the other, from its
# checked-in seeds (fuzz/corpus/NAME, never written) plus what earlier runs
# found ($BUILD/fuzz-corpus/NAME). A crash, leak, UB report or timeout
# fails the harness; its input lands in $BUILD/fuzz-artifacts/NAME/.
# Prints one summary line per harness (executions from libFuzzer's final
# stats), then "fuzz: N passed, N failed". Exit status 0 when none failed.
set -uo pipefail
cd "$(dirname "$0")/.."

BUILD=${BUILD:-build}
if [ $# -lt 2 ]; then
	echo "usage: $0 SECONDS NAME..." >&2
	exit 2
fi
secs=$1
shift

artifacts=$BUILD/fuzz-artifacts
work=$BUILD/fuzz-corpus
logs=$BUILD/fuzz-logs
mkdir -p "$logs"
# Any UB report is fatal (the harnesses are also built with
# -fno-sanitize-recover=undefined); leaks are reported at exit.
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-halt_on_error=1:print_stacktrace=1}
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1}

pass=0 fail=0
summary=()
for name in "$@"; do
	bin=$BUILD/fuzz/${name}_fuzz
	log=$logs/$name.log
	mkdir -p "$work/$name" "$artifacts/$name"
	echo "fuzz: $name for ${secs}s (log: $log)"
	if [ ! -x "$bin" ]; then
		echo "fuzz: $bin missing (make BUILD=$BUILD fuzz-build)"
		fail=$((fail + 1))
		summary+=("$(printf '%-8s %12s %8s %7s  %s' "$name" - - - "FAILED: not built")")
		continue
	fi
	# The outer timeout only guards against a harness that hangs libFuzzer
	# itself; -timeout catches a slow single input.
	timeout --kill-after=10 $((secs + 120)) "$bin" \
		-max_total_time="$secs" -timeout=10 -rss_limit_mb=2048 \
		-print_final_stats=1 -artifact_prefix="$artifacts/$name/" \
		"$work/$name" "fuzz/corpus/$name" >"$log" 2>&1
	rc=$?
	execs=$(sed -nE 's/^stat::number_of_executed_units: *([0-9]+).*/\1/p' "$log" | tail -n 1)
	speed=$(sed -nE 's/^stat::average_exec_per_sec: *([0-9]+).*/\1/p' "$log" | tail -n 1)
	units=$(ls "$work/$name" | wc -l)
	if [ "$rc" -eq 0 ]; then
		pass=$((pass + 1))
		result=ok
	else
		fail=$((fail + 1))
		art=$(sed -nE 's/.*(Test unit written to|written to) (.*)$/\2/p' "$log" | tail -n 1)
		result="FAILED (exit $rc)${art:+: $art}"
		echo "--- $name: end of $log"
		grep -E -A40 '^==[0-9]+==ERROR|runtime error:|deadly signal|ERROR: libFuzzer' "$log" | head -n 60
	fi
	line=$(printf '%-8s %12s %8s %7s  %s' "$name" "${execs:--}" "${speed:--}" "$units" "$result")
	echo "fuzz: $line"
	summary+=("$line")
done

echo "fuzz summary ($secs s each):"
printf '  %-8s %12s %8s %7s  %s\n' harness executions exec/s corpus result
for l in "${summary[@]}"; do
	echo "  $l"
done
echo "fuzz: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
