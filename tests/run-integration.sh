#!/usr/bin/env bash
# Runs every integration test (tests/integration/*.sh, root, real kernel,
# network namespaces) one after another, each bounded in time, and prints
# one PASS/FAIL line per test plus the "N passed, N failed" summary.
set -uo pipefail

cd "$(dirname "$0")/.."
TIMEOUT=${RCVGOV_TEST_TIMEOUT:-180}
LOGDIR=${RCVGOV_TEST_LOGS:-build/test-logs}
mkdir -p "$LOGDIR"

if [ "$(id -u)" -ne 0 ]; then
	echo "integration tests need root (network namespaces, BPF): run with sudo" >&2
	exit 1
fi

passed=0 failed=0 failed_names=()
for t in "${@:-tests/integration/*.sh}"; do
	for f in $t; do
		case "$f" in *.inc.sh) continue ;; esac
		name=$(basename "$f" .sh)
		start=$SECONDS
		if timeout -k 10 "$TIMEOUT" "$f" >"$LOGDIR/$name.log" 2>&1; then
			echo "PASS $name ($((SECONDS - start)) s)"
			passed=$((passed + 1))
		else
			echo "FAIL $name ($((SECONDS - start)) s), log: $LOGDIR/$name.log"
			sed 's/^/    /' "$LOGDIR/$name.log" | tail -n 40
			failed=$((failed + 1))
			failed_names+=("$name")
		fi
	done
done
echo "integration: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
