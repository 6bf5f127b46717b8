#!/bin/bash
# In-VM entry point (packed as /test/run.sh by scripts/kernel/run-kernel-tests.sh):
# runs every kselftest in /test/tcp_rcvbuf and prints its KTAP output framed
# by "KSFT-BEGIN name" / "KSFT-END name rc=N" so the host can parse it.
# rc=N is the test's exit status (0 pass, 1 fail, 4 skip), which the host
# checks; this script exits 0 once every test has run (init.sh reports it
# as RCVGOV-VM-RESULT rc=0).
cd /test || exit 2
[ -f /test/env ] && . /test/env
echo "KSFT-KERNEL $(uname -r) shrink_window=$(cat /proc/sys/net/ipv4/tcp_shrink_window 2>/dev/null || echo none)"
for t in /test/tcp_rcvbuf/tcp_*.sh; do
	n=$(basename "$t" .sh)
	echo "KSFT-BEGIN $n"
	start=$(date +%s)
	bash "$t" 2>&1
	rc=$?
	echo "KSFT-END $n rc=$rc secs=$(( $(date +%s) - start ))"
done
exit 0
