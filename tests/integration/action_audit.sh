#!/usr/bin/env bash
# The operator's views of one governed pair (issue 11, items 4-6): the
# audit trail lists the clamp with its wall-clock time, scope, limit,
# usage and data age; `rcvgovctl sockets` shows the socket clamped, its
# rcvbuf locked and its service path; `rcvgovctl top` draws frames and
# quits; `rcvgovctl record` writes lab.sh's CSV columns for the socket.
# The pair is the blog pair with tcp_shrink_window=0 and only ladder step
# 2 on, as in clamp_without_shrink.sh.
source "$(dirname "$0")/../lib.sh"
need_root
PORT=5031
SECS=25

make_pair_netns
set_receiver_sysctls 0
printf '[ladder]\nshrink_window = false\nclamp = true\nreclaim = false\n' >"$TMP/clamp.toml"
start_daemon --config "$TMP/clamp.toml"

T_START=$(now_ms)
start_blog_pair "$RECV4:$PORT" "" "$SECS"

# shellcheck disable=SC2317 # called through wait_for
clamp_listed() {
	ctl events --type action --json >"$TMP/actions.json" &&
		jq -e --arg p ":$PORT" \
			'[.[] | select(.action == "clamp" and (.local | endswith($p)))] | length > 0' \
			"$TMP/actions.json" >/dev/null
}
wait_for 15 "the clamp in rcvgovctl events --type action" clamp_listed
T_SEEN=$(now_ms)
log "action: $(jq -c --arg p ":$PORT" '[.[] | select(.local | endswith($p))][0]' "$TMP/actions.json")"

# The audit record: wall-clock time (RFC 3339, milliseconds) within this
# test's window, the scope and limit that caused it, and the result.
T_START=$T_START T_SEEN=$T_SEEN PORT=$PORT py '
import datetime, json, os, re, sys
acts = json.load(sys.stdin)
port = ":" + os.environ["PORT"]
a = [x for x in acts if x["action"] == "clamp" and x["local"].endswith(port)][0]
assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z", a["time"]), a["time"]
t = datetime.datetime.strptime(a["time"], "%Y-%m-%dT%H:%M:%S.%fZ")
ms = int(t.replace(tzinfo=datetime.timezone.utc).timestamp() * 1000 + 0.5)
assert ms == a["wall_ms"], (ms, a["wall_ms"])
lo, hi = int(os.environ["T_START"]), int(os.environ["T_SEEN"])
assert lo <= ms <= hi, f"clamped at {ms}, test window {lo}..{hi}"
assert a["result"] == "ok", a
assert a["scope"] in ("system", "service", "peer", "socket"), a
assert a["limit"] > 0 and a["usage"] > 0, a
assert a["reason"] in ("inflated", "over-limit"), a
assert a["service"], a
assert a["rcvbuf_locked"] > 0 and a["window_clamp"] > 0, a
assert a["type"] == "action" and a["seq"] >= 1, a
# The reader is known to the observer and the daemon may ptrace it: the
# clamp took the owner-fd fast path, not the namespace walk.
assert a["via"] == "owner fd", a
' <"$TMP/actions.json" || fail "the clamp record is wrong: $(cat "$TMP/actions.json")"
ctl events --type action >"$TMP/actions.txt"
grep -qE "^[0-9T:.-]+Z +clamp +ok +" "$TMP/actions.txt" ||
	fail "no clamp row in the table: $(cat "$TMP/actions.txt")"

# The socket list: clamped, rcvbuf locked, the service path (this pair
# runs in the root cgroup: netns:<cookie> of the receiver's namespace).
sockets_json >"$TMP/sockets.json"
NS=$(netns_cookie "$NS_RECV")
NS=$NS PORT=$PORT py '
import json, os, sys
port = ":" + os.environ["PORT"]
s = [x for x in json.load(sys.stdin) if x["local"].endswith(port)]
assert len(s) == 1, s
s = s[0]
assert s["clamped"] is True and s["rcvbuf_locked"] is True, s
assert s["enforcement"] == "clamped", s
cg = s["service"]
assert cg.startswith("/") or cg == "netns:" + os.environ["NS"], (cg, os.environ["NS"])
' <"$TMP/sockets.json" || fail "rcvgovctl sockets: $(cat "$TMP/sockets.json")"
COOKIE=$(jq -r --arg p ":$PORT" '.[] | select(.local | endswith($p)) | .cookie' "$TMP/sockets.json")
SERVICE=$(jq -r --arg p ":$PORT" '.[] | select(.local | endswith($p)) | .service' "$TMP/sockets.json")
ctl sockets --limit 0 >"$TMP/sockets.txt"
grep -E "^$COOKIE " "$TMP/sockets.txt" | grep -q "clamped,locked .*$SERVICE" ||
	fail "the sockets table does not show $COOKIE clamped,locked in $SERVICE: $(cat "$TMP/sockets.txt")"

# top: two frames (not a terminal: one after the other), then exit 0.
rc=0
timeout 20 "$BIN/rcvgovctl" --socket "$CTL_SOCK" top --count 2 --interval 0.5 \
	>"$TMP/top.out" 2>&1 || rc=$?
[ $rc -eq 0 ] || fail "rcvgovctl top --count 2 exited $rc: $(cat "$TMP/top.out")"
frames=$(grep -c '^rcvgov top ' "$TMP/top.out" || true)
[ "$frames" -eq 2 ] || fail "rcvgovctl top --count 2 printed $frames frames: $(cat "$TMP/top.out")"
grep -q "^$COOKIE .*clamped,locked" "$TMP/top.out" || fail "top does not list $COOKIE: $(cat "$TMP/top.out")"
grep -qE '^per second: events [0-9.]+, inflations [0-9.]+, actions [0-9.]+$' "$TMP/top.out" ||
	fail "top's second frame has no rates: $(cat "$TMP/top.out")"

# record: lab.sh's columns, then zero_window and action; one row every
# 500 ms for 3 s.
rc=0
timeout 20 "$BIN/rcvgovctl" --socket "$CTL_SOCK" record --port $PORT --duration 3 \
	--interval 500 --out "$TMP/record.csv" 2>"$TMP/record.err" || rc=$?
[ $rc -eq 0 ] || fail "rcvgovctl record exited $rc: $(cat "$TMP/record.err")"
lab_header=$(sed -n 's/^echo "\(t_s,[^"]*\)".*/\1/p' "$REPO/scripts/lab.sh")
[ -n "$lab_header" ] || fail "cannot find the CSV header in scripts/lab.sh"
[ "$(head -1 "$TMP/record.csv")" = "$lab_header,zero_window,action" ] ||
	fail "record's header: $(head -1 "$TMP/record.csv"), lab.sh's: $lab_header"
log "record: $(wc -l <"$TMP/record.csv") lines; $(sed -n 2p "$TMP/record.csv") ... $(tail -1 "$TMP/record.csv")"
py '
import csv, sys
rows = list(csv.DictReader(sys.stdin))
assert 6 <= len(rows) <= 8, f"{len(rows)} rows for 3 s every 500 ms"
ts = [float(r["t_s"]) for r in rows]
assert ts == sorted(ts) and ts[0] == 0 and 2.9 <= ts[-1] <= 3.2, ts
for r in rows:
    assert len(r) == 15 and None not in r, r
    for k in ("r", "rb", "rcv_space", "rcv_ssthresh", "recv_q", "bytes_received", "drops",
              "want_zero_win", "to_zero_win", "prune_called", "rcv_pruned"):
        assert r[k].isdigit(), (k, r)
    assert int(r["rb"]) > 0 and int(r["recv_q"]) > 0, r
    assert r["zero_window"] in ("", "0", "1"), r
# the socket is locked: rb does not move
assert len({r["rb"] for r in rows}) == 1, [r["rb"] for r in rows]
' <"$TMP/record.csv" || fail "record's CSV: $(cat "$TMP/record.csv")"
log "PASS"
