#!/usr/bin/env bash
# The whole test suite, as `make test` runs it (after building everything):
#
#   format-check  clang-format over userspace/ and fuzz/ (bpf/: kernel style)
#   unit          GoogleTest
#   unit-asan     the same tests under ASan + UBSan
#   deploy        promtool check/test of deploy/'s alert rules, the Grafana
#                 dashboard's JSON and the metric names both query
#   plot          scripts/plot/rcvgov-plot.py on its fixtures (data, PNG)
#   fuzz          every libFuzzer harness for FUZZ_TIME seconds (20 in make test)
#   package       --version, man pages, completion, example config; the .deb
#                 (dpkg-buildpackage in a copy of the tree, lintian) and
#                 make install
#   integration   root, network namespaces, BPF on the running kernel
#   bench-smoke   the system benchmarks P1-P7, short, nothing judged
#   vm            qemu with Debian's stock 6.1 and 6.12 cloud kernels
#   kernel        the kernel series' kselftests in qemu and on the host
#
# A stage passes when its exit status is 0; nothing else is read from it.
# Stages that print "N passed, N failed" have those counts added up; a stage
# that fails without counting a failure counts as one. The last line is the
# total, "N passed, N failed", which CI reads; the exit status is 0 only when
# every stage passed. STAGES="unit fuzz" runs a subset.
set -uo pipefail

cd "$(dirname "$0")/.."
BUILD=${BUILD:-build}
export BUILD
FUZZ_TIME=${FUZZ_TIME:-20}
# The integration tests take their programs and log directory from here.
export RCVGOV_BIN=${RCVGOV_BIN:-$PWD/$BUILD/bin}
export RCVGOV_TEST_LOGS=${RCVGOV_TEST_LOGS:-$BUILD/test-logs}

all_stages="format-check unit unit-asan deploy plot fuzz package integration bench-smoke vm kernel"
STAGES=${STAGES:-$all_stages}

total_pass=0 total_fail=0
stages_failed=0
report=()

# stage NAME CMD...: runs a stage, streaming its output.
stage() {
	local name=$1
	shift
	case " $STAGES " in *" $name "*) ;; *) return 0 ;; esac
	echo "=== $name"
	local log rc line p f start secs
	log=$(mktemp)
	start=$SECONDS
	"$@" 2>&1 | tee "$log"
	rc=${PIPESTATUS[0]}
	secs=$((SECONDS - start))
	# The stage's own counts, when it prints them (its last such line).
	line=$(grep -aE '[0-9]+ passed, [0-9]+ failed' "$log" | tail -n 1)
	rm -f "$log"
	p=$(grep -oE '[0-9]+ passed' <<<"$line" | grep -oE '[0-9]+')
	f=$(grep -oE '[0-9]+ failed' <<<"$line" | grep -oE '[0-9]+')
	if [ "$rc" -eq 0 ]; then
		# The exit status decides; counts without one are one passed stage.
		p=${p:-1}
		f=0
	else
		p=${p:-0}
		f=${f:-0}
		[ "$f" -eq 0 ] && f=1
		stages_failed=$((stages_failed + 1))
	fi
	total_pass=$((total_pass + p))
	total_fail=$((total_fail + f))
	report+=("$(printf '%-13s %-6s %6s passed %4s failed %6ss' "$name" \
		"$([ "$rc" -eq 0 ] && echo ok || echo FAIL)" "$p" "$f" "$secs")")
}

# The kernel stage's builds are the longest step on a fresh machine (a
# cold unpatched build with BTF, then the patched one on top of it) and
# need nothing the other stages make, so they start now, in the
# background under nice 19, and use the CPU the other stages leave idle
# (integration and bench-smoke mostly wait on the network and on timers).
# The kernel stage waits for them and then finds both kernels in the
# cache (build-kernel.sh also serialises on its own lock). A warm cache
# makes this a few stat()s. KERNEL_PREBUILD=0 turns it off.
prebuild_pid=""
prebuild_log=$BUILD/kernel-prebuild.log
prebuild_stop() {
	[ -n "$prebuild_pid" ] || return 0
	kill -- -"$prebuild_pid" 2>/dev/null
	wait "$prebuild_pid" 2>/dev/null
	prebuild_pid=""
}
case " $STAGES " in
*" kernel "*)
	if [ "${KERNEL_PREBUILD:-1}" = 1 ]; then
		mkdir -p "$BUILD"
		# shellcheck disable=SC2016 # $1 is bash -c's own argument
		setsid bash -c 'for b in $1; do
			for v in unpatched patched; do
				./scripts/kernel/build-kernel.sh --base "$b" "$v" >/dev/null || exit 1
			done
		done' prebuild "${KERNEL_BASES:-6.1}" > "$prebuild_log" 2>&1 &
		prebuild_pid=$!
		prebuild_t0=$SECONDS
		trap prebuild_stop EXIT
		echo "kernel builds for ${KERNEL_BASES:-6.1} started in the background (log $prebuild_log)"
	fi
	;;
esac

stage format-check make --no-print-directory -s BUILD="$BUILD" format-check
stage unit ./tests/run-unit.sh
stage unit-asan ./tests/run-unit.sh --asan
stage deploy ./tests/deploy/check.sh
# Debian's interpreter: python3-matplotlib is installed for it.
stage plot /usr/bin/python3 tests/plot/test_plot.py
# Each harness FUZZ_TIME seconds from its seeds: about 4 x FUZZ_TIME in all.
stage fuzz ./fuzz/run.sh "$FUZZ_TIME" $(ls fuzz/*_fuzz.cpp | sed -E 's|fuzz/(.*)_fuzz\.cpp|\1|')
stage package ./tests/package/check.sh
stage integration ./tests/run-integration.sh
# The system benchmarks, short: they must keep measuring, nothing is judged.
stage bench-smoke env BENCH_SMOKE=1 BENCH_OUT="$PWD/$BUILD/bench-smoke" ./bench/run.sh
stage vm ./tests/vm/run-vm-tests.sh
# The kernel series: builds (or reuses from /var/cache/rcvgov/kernel) the
# unpatched and patched 6.1 kernels, runs kselftests/ in both VMs and on
# the host kernel.
# KERNEL_BASES: the bases built and tested. Default 6.1: with 6.12 a cold
# run took 62 min on 2 cores, 6.1 alone 42 (docs/kernel-status.md, "6.12
# in CI"); KERNEL_BASES="6.1 6.12" or `make kernel-test` runs it.
if [ -n "$prebuild_pid" ]; then
	echo "=== waiting for the background kernel builds (started $((SECONDS - prebuild_t0)) s ago)"
	w0=$SECONDS
	wait "$prebuild_pid"
	prc=$?
	prebuild_pid=""
	# a failed build is built again, and reported, by the kernel stage
	echo "kernel builds: rc $prc, $((SECONDS - prebuild_t0)) s in all, waited $((SECONDS - w0)) s"
	grep -a 'took\|cached\|FAILED\|does not apply' "$prebuild_log" | sed 's/^/  /'
fi
stage kernel ./scripts/kernel/run-kernel-tests.sh --base "${KERNEL_BASES:-6.1}"

echo "=== stages"
for l in "${report[@]}"; do
	echo "  $l"
done
echo "=== total"
echo "$total_pass passed, $total_fail failed"
[ "$stages_failed" -eq 0 ]
