#!/usr/bin/env bash
# The whole test suite, as `make test` runs it: unit tests, integration
# tests on the real kernel, the VM tests, and the kernel series' kselftests. Each stage prints its own
# "N passed, N failed" line; this script adds them up into the last line.
set -uo pipefail

cd "$(dirname "$0")/.."
total_pass=0 total_fail=0

# stage NAME CMD...: run a stage, stream its output, add up its summary line.
stage() {
	local name=$1
	shift
	echo "=== $name"
	local log rc line p f
	log=$(mktemp)
	"$@" 2>&1 | tee "$log"
	rc=${PIPESTATUS[0]}
	line=$(grep -E '[0-9]+ passed, [0-9]+ failed' "$log" | tail -n 1)
	rm -f "$log"
	if [ -z "$line" ]; then
		echo "$name: no summary line (exit $rc): counted as one failure"
		total_fail=$((total_fail + 1))
		return
	fi
	p=$(grep -oE '[0-9]+ passed' <<<"$line" | grep -oE '[0-9]+')
	f=$(grep -oE '[0-9]+ failed' <<<"$line" | grep -oE '[0-9]+')
	if [ "$rc" -ne 0 ] && [ "$f" -eq 0 ]; then
		f=1
	fi
	total_pass=$((total_pass + p))
	total_fail=$((total_fail + f))
}

stage unit ./tests/run-unit.sh
stage integration ./tests/run-integration.sh
stage vm ./tests/vm/run-vm-tests.sh
# The kernel series: builds (or reuses from /var/cache/rcvgov/kernel) the
# unpatched and patched 6.1 kernels, runs kselftests/ in both VMs and on
# the host kernel.
stage kernel ./scripts/kernel/run-kernel-tests.sh

echo "=== total"
echo "$total_pass passed, $total_fail failed"
[ "$total_fail" -eq 0 ]
