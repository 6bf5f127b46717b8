#!/usr/bin/env bash
# /metrics against the real thing: Debian's prometheus scrapes rcvgovd every
# second (both on loopback, on ports the kernel picked) while the blog pair
# inflates a receive buffer (tcp_shrink_window=0) and rcvgovd, in dry-run,
# decides to clamp it (the clamps themselves are clamp_without_shrink.sh's;
# dry-run keeps this test about the metrics, whatever the kernel allows).
# Through Prometheus' query API: the scrape is up, and the inflation and
# action counters moved. `promtool check metrics` passes on a scrape, and the
# number of series stays what docs/metrics.md says, whatever runs.
source "$(dirname "$0")/../lib.sh"
need_root
SECS=${RCVGOV_PAIR_SECS:-20}
PORT=5013
for tool in prometheus promtool python3; do
	command -v $tool >/dev/null || fail "$tool is not installed (scripts/deps.sh installs it)"
done

# http_get URL: the body, or nothing and a failure status (5 s at most).
http_get() {
	python3 - "$1" <<'PY'
import sys, urllib.request
try:
    sys.stdout.write(urllib.request.urlopen(sys.argv[1], timeout=5).read().decode())
except Exception as e:
    sys.exit(f"{sys.argv[1]}: {e}")
PY
}
# free_port: a loopback TCP port nobody listens on now.
free_port() {
	python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}
METRICS_PORT=$(free_port)
PROM_PORT=$(free_port)
while [ "$PROM_PORT" = "$METRICS_PORT" ]; do PROM_PORT=$(free_port); done
PROM="http://127.0.0.1:$PROM_PORT"

make_pair_netns
set_receiver_sysctls 0
cat >"$TMP/rcvgov.toml" <<EOF
[daemon]
dry_run = true

[ladder]
shrink_window = false
clamp = true
reclaim = false

[metrics]
listen = "127.0.0.1:$METRICS_PORT"
top_services = 5
EOF
start_daemon --config "$TMP/rcvgov.toml"
[ "$(status_get .metrics.serving)" = true ] || fail "status says /metrics is not served: $(status_json | jq -c .metrics)"

# Prometheus with its own config and storage, removed with $TMP.
cat >"$TMP/prometheus.yml" <<EOF
global:
  scrape_interval: 1s
  evaluation_interval: 1s
scrape_configs:
  - job_name: rcvgov
    scrape_interval: 1s
    scrape_timeout: 1s
    static_configs:
      - targets: ["127.0.0.1:$METRICS_PORT"]
EOF
promtool check config "$TMP/prometheus.yml" >/dev/null || fail "promtool rejects the test's prometheus.yml"
prometheus --config.file="$TMP/prometheus.yml" --storage.tsdb.path="$TMP/prometheus-data" \
	--web.listen-address="127.0.0.1:$PROM_PORT" --log.level=warn >"$TMP/prometheus.log" 2>&1 &
PROM_PID=$!
CLEANUP_HOOKS+=("kill $PROM_PID 2>/dev/null; wait $PROM_PID 2>/dev/null")
WAIT_SAY="tail -n 5 $TMP/prometheus.log" wait_ms 30000 "prometheus ready on port $PROM_PORT" \
	http_get "$PROM/-/ready"

# query EXPR: the value of the instant query's first result ("" if none).
query() {
	python3 - "$PROM" "$1" <<'PY'
import json, sys, urllib.parse, urllib.request
url = sys.argv[1] + "/api/v1/query?" + urllib.parse.urlencode({"query": sys.argv[2]})
r = json.load(urllib.request.urlopen(url, timeout=5))
assert r["status"] == "success", r
print(r["data"]["result"][0]["value"][1] if r["data"]["result"] else "")
PY
}
# above EXPR N: the query's value is above N.
above() {
	local v
	v=$(query "$1") && [ -n "$v" ] && python3 -c "import sys; sys.exit(not float('$v') > $2)"
}
# shellcheck disable=SC2317 # called through wait_for
scrape_up() { [ "$(query 'up{job="rcvgov"}')" = 1 ]; }
WAIT_SAY="tail -n 5 $TMP/prometheus.log" wait_ms 15000 'up{job="rcvgov"} == 1' scrape_up
inflations0=$(query 'rcvgov_inflations_total{job="rcvgov"}')
actions0=$(query 'sum(rcvgov_actions_total{job="rcvgov",result="dry_run"})')
{ [ -n "$inflations0" ] && [ -n "$actions0" ]; } || fail "no rcvgov_ series in prometheus"
log "before the pair: inflations $inflations0, actions (dry_run) $actions0"

start_blog_pair "$RECV4:$PORT" "" $((SECS + 10))
WAIT_SAY="query rcvgov_inflations_total" wait_ms $((SECS * 1000)) \
	"rcvgov_inflations_total to rise above $inflations0 in prometheus" \
	above 'rcvgov_inflations_total{job="rcvgov"}' "$inflations0"
WAIT_SAY="query sum(rcvgov_actions_total)" wait_ms $((SECS * 1000)) \
	"rcvgov_actions_total{result=\"dry_run\"} to rise above $actions0 in prometheus" \
	above 'sum(rcvgov_actions_total{job="rcvgov",result="dry_run"})' "$actions0"
grep -q "dry-run: would have done clamp" "$DAEMON_LOG" ||
	fail "prometheus saw an action but the log has no clamp"
log "after: inflations $(query 'rcvgov_inflations_total{job="rcvgov"}'), actions" \
	"$(query 'sum by (class, result) (rcvgov_actions_total{job="rcvgov"}) > 0')" \
	"(clamp dry_run: $(query 'rcvgov_actions_total{job="rcvgov",class="clamp",result="dry_run"}'))"
above 'rcvgov_actions_total{job="rcvgov",class="clamp",result="dry_run"}' 0 ||
	fail "the action that moved is not class=clamp result=dry_run"
[ "$(query 'rcvgov_mode{job="rcvgov",mode="dry_run"}')" = 1 ] || fail "rcvgov_mode is not dry_run"
[ "$(query 'rcvgov_observer_info{job="rcvgov"}')" = 1 ] || fail "no rcvgov_observer_info"
# Every scrape of the test was up (none failed or timed out).
[ "$(query 'min_over_time(up{job="rcvgov"}[1h])')" = 1 ] || fail "a scrape was down"

# The exposition itself: promtool's lint, and the number of series.
http_get "http://127.0.0.1:$METRICS_PORT/metrics" >"$TMP/scrape.txt" || fail "cannot scrape /metrics"
if ! promtool check metrics <"$TMP/scrape.txt" >"$TMP/promtool.out" 2>&1 || [ -s "$TMP/promtool.out" ]; then
	cat "$TMP/promtool.out" >&2
	fail "promtool check metrics found problems"
fi
series=$(grep -c '^rcvgov_' "$TMP/scrape.txt")
hooks=$(grep -c '^rcvgov_attach_path_info' "$TMP/scrape.txt")
services=$(grep -c '^rcvgov_service_usage_bytes' "$TMP/scrape.txt")
log "scrape: $series rcvgov_ series ($hooks attach paths, $services services), $(wc -c <"$TMP/scrape.txt") bytes"
# docs/metrics.md: 74 + attach paths + 2 x (top N services + other).
[ "$services" -le 6 ] || fail "$services service series with top_services = 5"
[ "$series" -eq $((74 + hooks + 2 * services)) ] || fail "$series series, expected $((74 + hooks + 2 * services))"
kill -0 "$DAEMON_PID" || fail "rcvgovd died"

# A port in use (Prometheus' own) is an error naming the address and the
# key; the daemon goes on without /metrics and says so in its status. At a
# reload (metrics.listen is live) and at start-up.
# bad_listen WHEN: the error is in the log and in the status; rcvgovd runs.
bad_listen() {
	grep -q "metrics: cannot listen on 127.0.0.1:$PROM_PORT (metrics.listen in $TMP/rcvgov.toml): bind: Address already in use" \
		"$DAEMON_LOG" || fail "$1: no error naming the address and metrics.listen"
	status_json | jq -e '.metrics.serving == false and (.metrics.error | test("Address already in use"))' \
		>/dev/null || fail "$1: status does not report the failure: $(status_json | jq -c .metrics)"
	kill -0 "$DAEMON_PID" || fail "$1: rcvgovd died"
}
sed -i "s/^listen = .*/listen = \"127.0.0.1:$PROM_PORT\"/" "$TMP/rcvgov.toml"
reload_daemon
bad_listen "reload"
sed -i "s/^listen = .*/listen = \"127.0.0.1:$METRICS_PORT\"/" "$TMP/rcvgov.toml"
reload_daemon
[ "$(status_get .metrics.serving)" = true ] || fail "not serving again after a reload back to $METRICS_PORT"
# shellcheck disable=SC2317 # called through wait_for
two_reloads() { http_get "http://127.0.0.1:$METRICS_PORT/metrics" | grep -q '^rcvgov_reloads_total{result="ok"} 2$'; }
wait_for 5 "/metrics served again, with rcvgov_reloads_total{result=\"ok\"} 2" two_reloads
stop_daemon
sed -i "s/^listen = .*/listen = \"127.0.0.1:$PROM_PORT\"/" "$TMP/rcvgov.toml"
start_daemon --config "$TMP/rcvgov.toml"
bad_listen "start-up"
stop_daemon
log "PASS"
