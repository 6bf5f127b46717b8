#!/usr/bin/env bash
# GoogleTest unit tests, with a summary line the other runners share.
#
#   tests/run-unit.sh          $BUILD/bin/rcvgov-unit-tests
#   tests/run-unit.sh --asan   $BUILD/bin/rcvgov-unit-tests-asan: the same
#                              tests under ASan + UBSan; any report fails
#
# BUILD selects the build tree (default build). Further arguments go to the
# test binary (--gtest_filter=...). The exit status is the test binary's.
set -uo pipefail
cd "$(dirname "$0")/.."
BUILD=${BUILD:-build}

name=unit
bin=$BUILD/bin/rcvgov-unit-tests
if [ "${1:-}" = --asan ]; then
	shift
	name=unit-asan
	bin=$BUILD/bin/rcvgov-unit-tests-asan
	# A UB report stops the run (exit status non-zero) instead of scrolling by.
	export UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1${UBSAN_OPTIONS:+:$UBSAN_OPTIONS}
	export ASAN_OPTIONS=detect_leaks=1:check_initialization_order=1:strict_init_order=1${ASAN_OPTIONS:+:$ASAN_OPTIONS}
fi
if [ ! -x "$bin" ]; then
	echo "$name: $bin not built (make BUILD=$BUILD ${name/unit/unit-test})"
	echo "$name: 0 passed, 1 failed"
	exit 1
fi

out=$("$bin" --gtest_brief=1 "$@" 2>&1)
rc=$?
printf '%s\n' "$out"
ran=$(sed -nE 's/^\[==========\] ([0-9]+) tests? from .* ran.*/\1/p' <<<"$out")
failed=$(sed -nE 's/^ *([0-9]+) FAILED TESTS?$/\1/p' <<<"$out")
ran=${ran:-0} failed=${failed:-0}
# A sanitizer report or a crash ends the run without gtest's summary.
if [ "$rc" -ne 0 ] && [ "$failed" -eq 0 ]; then
	echo "$name: exit status $rc without a failed test (sanitizer report or crash above)"
	failed=1
fi
echo "$name: $((ran - failed < 0 ? 0 : ran - failed)) passed, $failed failed"
exit "$rc"
