#!/usr/bin/env bash
# The "deploy" stage of tests/run-all.sh: what deploy/ ships for operators.
#
#   rules       promtool check rules deploy/prometheus/rcvgov.rules.yml
#   rule-tests  promtool test rules (synthetic series: each alert fires on one
#               host and not on another; the recording rules' values)
#   dashboard   deploy/grafana/rcvgov-dashboard.json parses and looks like a
#               Grafana dashboard (panels with ids, grid positions, queries)
#   names       every metric the rules and the dashboard query is one of
#               rcvgovd's (tests/deploy/metrics-contract.txt)
#
# No root, no network, a few seconds. promtool: Debian's `prometheus`.
# Prints one PASS/FAIL line per check and "deploy: N passed, N failed";
# exit 0 only when every check passed.
set -uo pipefail

cd "$(dirname "$0")/../.." || exit 1
PY=/usr/bin/python3
RULES=deploy/prometheus/rcvgov.rules.yml
DASH=deploy/grafana/rcvgov-dashboard.json
CONTRACT=tests/deploy/metrics-contract.txt
passed=0 failed=0
LOG=$(mktemp)
trap 'rm -f "$LOG"' EXIT

check() {
	local name=$1
	shift
	if "$@" >"$LOG" 2>&1; then
		echo "PASS $name"
		passed=$((passed + 1))
	else
		echo "FAIL $name"
		sed 's/^/    /' "$LOG" | tail -n 60
		failed=$((failed + 1))
	fi
}

command -v promtool >/dev/null || {
	echo "deploy: promtool not found: apt-get install prometheus (scripts/deps.sh does)" >&2
	echo "deploy: 0 passed, 1 failed"
	exit 1
}

check rules promtool check rules "$RULES"
# promtool resolves rule_files relative to the test file's directory.
check rule-tests promtool test rules deploy/prometheus/rcvgov.rules.test.yml \
	deploy/prometheus/rcvgov.rules.hours.test.yml

# shellcheck disable=SC2016 # python, not shell
check dashboard "$PY" -c '
import json, sys
d = json.load(open(sys.argv[1]))
assert d.get("title") and d.get("uid") and isinstance(d.get("schemaVersion"), int), "title/uid/schemaVersion"
panels = d["panels"]
ids = [p["id"] for p in panels]
assert len(ids) == len(set(ids)), "duplicate panel ids"
kinds = {p["type"] for p in panels}
for k in ("timeseries", "stat", "heatmap", "table", "row"):
    assert k in kinds, "no " + k + " panel"
for p in panels:
    g = p["gridPos"]
    assert g["x"] + g["w"] <= 24 and g["h"] > 0, p["title"] + ": gridPos " + str(g)
    if p["type"] == "row":
        continue
    assert p.get("targets"), p["title"] + ": no query"
    for t in p["targets"]:
        assert t.get("expr") and t.get("refId"), p["title"] + ": target without expr/refId"
        assert t["datasource"]["uid"] == "${datasource}", p["title"] + ": datasource not the variable"
    if p["type"] == "heatmap":
        assert all(t.get("format") == "heatmap" and "_bucket" in t["expr"] for t in p["targets"]), p["title"]
names = [v["name"] for v in d["templating"]["list"]]
assert names == ["datasource", "job", "instance"], names
print(len(panels), "panels")
' "$DASH"

check names "$PY" tests/deploy/promql_names.py check "$CONTRACT"

echo "deploy: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
