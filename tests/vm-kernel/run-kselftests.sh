#!/bin/bash
# Runs the tcp_rcvbuf kselftests the way kselftest's runner does, with the
# output framed for scripts/kernel/ktap_verdict.py.  In the VM it is
# /test/run.sh (packed by scripts/kernel/run-kernel-tests.sh); on the host
# the same script runs with the repo's directory.
#
# usage: run-kselftests.sh [DIR]   (default /test/tcp_rcvbuf)
# Every program in the Makefile's TEST_PROGS runs under `timeout` with the
# limit from DIR/settings (kselftest's "timeout=N"), framed by
#   KSFT-BEGIN <name>  ...its KTAP...  KSFT-END <name> rc=<status> secs=<s>
# (rc 124: killed by the timeout).  With RCVGOV_KSFT_COST=1 the strict mode
# cost table (strict_cost.sh, not judged) follows between KSFT-COST-BEGIN
# and KSFT-COST-END.  Exit 0 once everything ran: the verdict is the host's.
dir=${1:-/test/tcp_rcvbuf}
cd "$dir" || exit 2
# shellcheck disable=SC1091 # written by make-initramfs.sh
[ -f /test/env ] && . /test/env
tmo=$(sed -n 's/^timeout=//p' settings 2>/dev/null)
tmo=${tmo:-45}
progs=$(awk '/^TEST_PROGS *:?=/ { on = 1; sub(/^TEST_PROGS *:?= */, "") }
	on { cont = sub(/\\$/, ""); printf "%s ", $0; if (!cont) on = 0 }' Makefile)
echo "KSFT-KERNEL $(uname -r) shrink_window=$(cat /proc/sys/net/ipv4/tcp_shrink_window 2>/dev/null || echo none) timeout=$tmo"
for t in $progs; do
	n=$(basename "$t" .sh)
	echo "KSFT-BEGIN $n"
	start=$(date +%s)
	timeout -k 10 "$tmo" bash "./$t" 2>&1
	rc=$?
	secs=$(($(date +%s) - start))
	# busybox timeout exits 143 where GNU timeout exits 124
	[ "$rc" = 143 ] && [ "$secs" -ge "$tmo" ] && rc=124
	echo "KSFT-END $n rc=$rc secs=$secs"
done
if [ "${RCVGOV_KSFT_COST:-0}" = 1 ]; then
	echo "KSFT-COST-BEGIN"
	timeout -k 10 "$tmo" bash ./strict_cost.sh 2>&1
	echo "KSFT-COST-END rc=$?"
fi
exit 0
