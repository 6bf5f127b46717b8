#!/usr/bin/env bash
# The whole test suite, as `make test` runs it: unit tests, integration
# tests on the real kernel, and the VM tests. Each stage prints its own
# "N passed, N failed" line; this script adds them up into the last line.
set -uo pipefail

cd "$(dirname "$0")/.."
total_pass=0 total_fail=0

# stage NAME CMD...: run a stage, echo its output, add up its summary line.
stage() {
	local name=$1
	shift
	echo "=== $name"
	local out rc
	out=$("$@" 2>&1 | tee /dev/stderr)
	rc=${PIPESTATUS[0]}
	local line p f
	line=$(printf '%s\n' "$out" | grep -E '[0-9]+ passed, [0-9]+ failed' | tail -n 1)
	if [ -z "$line" ]; then
		echo "$name: no summary line (exit $rc): counted as one failure"
		total_fail=$((total_fail + 1))
		return
	fi
	p=$(sed -E 's/.* ?([0-9]+) passed.*/\1/' <<<"$line")
	f=$(sed -E 's/.*passed, ([0-9]+) failed.*/\1/' <<<"$line")
	if [ "$rc" -ne 0 ] && [ "$f" -eq 0 ]; then
		f=1
	fi
	total_pass=$((total_pass + p))
	total_fail=$((total_fail + f))
}

stage unit ./tests/run-unit.sh
stage integration ./tests/run-integration.sh
stage vm ./tests/vm/run-vm-tests.sh

echo "=== total"
echo "$total_pass passed, $total_fail failed"
[ "$total_fail" -eq 0 ]
