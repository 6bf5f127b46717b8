#!/usr/bin/env bash
# GoogleTest unit tests, with a summary line the other runners share.
set -uo pipefail
cd "$(dirname "$0")/.."
out=$(./build/bin/rcvgov-unit-tests --gtest_brief=1 2>&1)
rc=$?
printf '%s\n' "$out"
ran=$(sed -nE 's/^\[==========\] ([0-9]+) tests? from .* ran.*/\1/p' <<<"$out")
failed=$(sed -nE 's/^ *([0-9]+) FAILED TESTS?$/\1/p' <<<"$out")
ran=${ran:-0} failed=${failed:-0}
if [ "$rc" -ne 0 ] && [ "$failed" -eq 0 ]; then failed=1; fi
echo "unit: $((ran - failed)) passed, $failed failed"
[ "$rc" -eq 0 ]
