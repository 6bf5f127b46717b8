#!/usr/bin/env bash
# Makes the two pictures of the README and docs/test-pairs.md: the
# Cloudflare blog pair (sender 1448 B every 1 ms, reader 1 B every 1 ms,
# tcp_rmem[2] = 256 MiB, receiver namespace at tcp_shrink_window=0) run by
# scripts/lab.sh twice, first on the bare kernel, then with rcvgovd
# (embedded defaults) running, each drawn by rcvgov-plot.py.
#
#   flock /tmp/rcvgov-daemon.lock scripts/plot/blog-pair-pictures.sh [SECS] [OUTDIR]
#
# SECS: each run's length (40); OUTDIR: where the CSVs and PNGs go
# (docs/img). Root (namespaces, the daemon). rcvgovd governs every
# namespace on the host: nothing else may run a daemon or a pair meanwhile
# (hence the lock). Programs from $RCVGOV_BIN (default build/bin).
set -euo pipefail

REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
BIN=${RCVGOV_BIN:-$REPO/build/bin}
SECS=${1:-40}
OUT=${2:-$REPO/docs/img}
export RCVGOV_BIN=$BIN
TMP=$(mktemp -d /tmp/rcvgov-pictures.XXXXXX)
DAEMON=''
cleanup() {
	if [ -n "$DAEMON" ] && kill -0 "$DAEMON" 2>/dev/null; then
		kill -TERM "$DAEMON"
		wait "$DAEMON" || true
	fi
	rm -rf "$TMP"
}
trap cleanup EXIT
mkdir -p "$OUT"
# Both ends SCHED_FIFO: on a busy host a preempted reader can close the
# window and end the growth early (docs/test-pairs.md, "Busy hosts").
LAB=("$REPO/scripts/lab.sh" --duration "$SECS" --chrt 50 --shrink 0)

echo "== ungoverned: the kernel alone, ${SECS}s" >&2
"${LAB[@]}" --csv "$OUT/blog-pair-ungoverned.csv"

echo "== governed: rcvgovd with its embedded defaults, ${SECS}s" >&2
: >"$TMP/empty.toml"
"$BIN/rcvgovd" --config "$TMP/empty.toml" --socket "$TMP/rcvgovd.sock" >"$TMP/rcvgovd.log" 2>&1 &
DAEMON=$!
for _ in $(seq 50); do
	"$BIN/rcvgovctl" --socket "$TMP/rcvgovd.sock" status >/dev/null 2>&1 && break
	kill -0 "$DAEMON" 2>/dev/null || { cat "$TMP/rcvgovd.log" >&2; exit 1; }
	sleep 0.2
done
"${LAB[@]}" --csv "$OUT/blog-pair-governed.csv"
kill -TERM "$DAEMON"
wait "$DAEMON" || { echo "rcvgovd exited with status $?:" >&2; tail "$TMP/rcvgovd.log" >&2; exit 1; }
DAEMON=''
grep -E 'tcp_shrink_window|action:' "$TMP/rcvgovd.log" | head -n 5 >&2 || true

PLOT=("$REPO/scripts/plot/rcvgov-plot.py" --size 1000x500)
"${PLOT[@]}" "$OUT/blog-pair-ungoverned.csv" -o "$OUT/blog-pair-ungoverned.png" \
	--title "Blog pair, kernel alone (tcp_shrink_window=0): rb follows r up"
"${PLOT[@]}" "$OUT/blog-pair-governed.csv" -o "$OUT/blog-pair-governed.png" \
	--title "Blog pair, rcvgovd running (embedded defaults): rb holds at 128 KiB"
