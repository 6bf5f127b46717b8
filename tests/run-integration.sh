#!/usr/bin/env bash
# Runs every integration test (tests/integration/*.sh, root, real kernel,
# network namespaces) one after another, each bounded in time, and prints
# one PASS/FAIL/SKIP line per test plus the "N passed, N failed" summary.
# The verdict is the test's exit status, nothing it prints: 0 pass, 4 skip
# (kselftest's KSFT_SKIP: tests/lib.sh skip_test; not a failure unless
# RCVGOV_NO_SKIP=1 makes the test itself exit 1), anything else fail
# (124: killed by the timeout).
set -uo pipefail

cd "$(dirname "$0")/.." || exit 1
TIMEOUT=${RCVGOV_TEST_TIMEOUT:-180}
LOGDIR=${RCVGOV_TEST_LOGS:-build/test-logs}
mkdir -p "$LOGDIR"

if [ "$(id -u)" -ne 0 ]; then
	echo "integration tests need root (network namespaces, BPF): run with sudo" >&2
	exit 1
fi

passed=0 failed=0 skipped=0 failed_names=()
for t in "${@:-tests/integration/*.sh}"; do
	for f in $t; do
		case "$f" in *.inc.sh) continue ;; esac
		name=$(basename "$f" .sh)
		start=$SECONDS
		rc=0
		timeout -k 10 "$TIMEOUT" "$f" >"$LOGDIR/$name.log" 2>&1 || rc=$?
		case $rc in
		0)
			echo "PASS $name ($((SECONDS - start)) s)"
			passed=$((passed + 1))
			;;
		4)
			echo "SKIP $name ($((SECONDS - start)) s), log: $LOGDIR/$name.log"
			grep -a 'SKIP: ' "$LOGDIR/$name.log" | tail -n 1 | sed 's/^/    /'
			skipped=$((skipped + 1))
			;;
		*)
			echo "FAIL $name ($((SECONDS - start)) s, exit status $rc$([ "$rc" -ne 124 ] ||
				echo ": timed out after ${TIMEOUT}s")), log: $LOGDIR/$name.log"
			sed 's/^/    /' "$LOGDIR/$name.log" | tail -n 40
			failed=$((failed + 1))
			failed_names+=("$name")
			;;
		esac
	done
done
echo "integration: $passed passed, $failed failed$([ "$skipped" -eq 0 ] || echo ", $skipped skipped")"
[ "$failed" -eq 0 ]
