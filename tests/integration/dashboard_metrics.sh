#!/usr/bin/env bash
# Every metric that deploy/'s alert rules and Grafana dashboard query exists
# in a real scrape of rcvgovd's /metrics (a histogram with its _bucket,
# _sum and _count series), with a blog pair governed meanwhile so that the
# socket histograms have something in them, and after a SIGHUP reload.
# The names come from tests/deploy/promql_names.py; the scrape from the
# default endpoint, http://127.0.0.1:9753/metrics.
source "$(dirname "$0")/../lib.sh"
need_root
PORT=5031
ADDR=127.0.0.1:9753
URL=http://$ADDR/metrics

scrape() {
	python3 -c 'import sys, urllib.request
sys.stdout.write(urllib.request.urlopen(sys.argv[1], timeout=5).read().decode())' "$URL" >"$1"
}
# Nothing may listen there yet: another rcvgovd would answer for us.
[ -z "$(ss -Htln "( sport = :${ADDR##*:} )")" ] ||
	fail "something already listens on $ADDR: $(ss -Htlnp "( sport = :${ADDR##*:} )")"

make_pair_netns
set_receiver_sysctls 0
# The embedded defaults ([metrics] among them), but a full snapshot every
# 2 s even on a quiet host: the per-socket histograms describe the table
# at the last full snapshot.
printf '[daemon]\nresync_ms = 2000\n' >"$TMP/resync.toml"
start_daemon --config "$TMP/resync.toml"
wait_for 10 "rcvgovd to serve $URL" scrape "$TMP/first.prom"
start_blog_pair "$RECV4:$PORT" "" 30
# shellcheck disable=SC2317 # called by wait_for
histogram_filled() {
	scrape "$TMP/metrics.prom" &&
		awk '$1 == "rcvgov_socket_receive_memory_bytes_count" && $2 >= 1 { f = 1 } END { exit !f }' \
			"$TMP/metrics.prom"
}
wait_for 10 "rcvgov_socket_receive_memory_bytes to count the pair's sockets" histogram_filled
reload_daemon
sleep 1
scrape "$TMP/metrics.prom" || fail "cannot scrape $URL"
log "scrape: $(grep -vc '^#' "$TMP/metrics.prom") samples, $(grep -c '^# TYPE' "$TMP/metrics.prom") families"

python3 "$REPO/tests/deploy/promql_names.py" scrape "$REPO/tests/deploy/metrics-contract.txt" \
	"$TMP/metrics.prom" >&2 || fail "the rules or the dashboard query metrics the scrape does not have"
# The histograms the heatmaps draw saw the pair's socket; the reload counted.
if ! python3 - "$TMP/metrics.prom" <<'PY'; then
import re, sys
v = {}
for line in open(sys.argv[1]):
    m = re.match(r"^(\w+)(\{[^}]*\})? (\S+)", line)
    if m:
        v[m.group(1) + (m.group(2) or "")] = float(m.group(3))
count = v.get("rcvgov_socket_receive_memory_bytes_count", 0)
assert count >= 1, f"socket histogram count {count}"
assert v.get("rcvgov_tracked_sockets", 0) >= 1, "no tracked socket"
ok = [k for k in v if k.startswith("rcvgov_reloads_total") and 'result="ok"' in k]
assert ok and v[ok[0]] >= 1, f"reloads: {ok}"
print(f"socket histogram count {count:g}, reloads ok {v[ok[0]]:g}", file=sys.stderr)
PY
	grep -E '^rcvgov_(tracked_sockets|receive_memory_bytes|socket_.*_count|reloads_total)' \
		"$TMP/metrics.prom" >&2
	fail "the scrape does not show the pair or the reload"
fi
stop_daemon
log "PASS"
