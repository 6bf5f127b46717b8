#!/usr/bin/env bash
# Host side of the VM tests: boots each of Debian's stock cloud kernels in
# RCVGOV_VM_KERNELS under qemu TCG once per test in tests/vm/*.sh (not this
# file) with our binaries packed into the initramfs, and prints the shared
# summary line. "default" is fetch-kernel.sh's choice (the newest 6.1
# cloud image); with the 6.12 cloud image, the host and the patched
# kernels of the kernel stage this is the observers' attach matrix
# (docs/attach-paths.md).
set -uo pipefail
cd "$(dirname "$0")/../.."
KERNELS=${RCVGOV_VM_KERNELS:-default linux-image-6.12.117+deb12-cloud-amd64}

BIN=${RCVGOV_BIN:-build/bin}
LOGDIR=${RCVGOV_TEST_LOGS:-build/test-logs}
mkdir -p "$LOGDIR"
passed=0 failed=0
read -r -a kernels <<<"$KERNELS"
for t in tests/vm/*.sh; do
	[ "$t" = tests/vm/run-vm-tests.sh ] && continue
	for k in "${kernels[@]}"; do
		pkg=$k
		[ "$k" = default ] && pkg=""
		name=vm-$(basename "$t" .sh)${pkg:+-${pkg#linux-image-}}
		start=$SECONDS
		if RCVGOV_VM_KERNEL_PKG=$pkg scripts/vm/run-vm.sh --quiet --timeout 600 --log "$LOGDIR/$name.console.log" \
			--bin $BIN/rcvgovd --bin $BIN/rcvgovctl --bin $BIN/rcvgov-sender \
			--bin $BIN/rcvgov-reader --bin "$(command -v jq)" --bin "$(command -v chrt)" \
			--bin "$(command -v pkill)" --run "$t" \
			>"$LOGDIR/$name.log" 2>&1; then
			echo "PASS $name ($((SECONDS - start)) s)"
			passed=$((passed + 1))
		else
			echo "FAIL $name ($((SECONDS - start)) s), console: $LOGDIR/$name.console.log"
			tail -n 60 "$LOGDIR/$name.console.log" 2>/dev/null | sed 's/^/    /'
			tail -n 20 "$LOGDIR/$name.log" | sed 's/^/    /'
			failed=$((failed + 1))
		fi
	done
done
echo "vm: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
