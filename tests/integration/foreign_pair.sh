#!/usr/bin/env bash
# A sender/reader pair that is not ours — socat fed by pv at the blog's
# rate, socat reading into pv at 1 KB/s — in two namespaces with
# tcp_shrink_window=0: rcvgovd must show the receiving socket with its
# inflation counted and socat as its owner.
source "$(dirname "$0")/../lib.sh"
need_root
if ! command -v socat >/dev/null || ! command -v pv >/dev/null; then fail "socat and pv are needed: run scripts/deps.sh"; fi

PORT=5004
make_pair_netns
set_receiver_sysctls 0
start_daemon --config "$(observe_only_config)"

ip netns exec "$NS_RECV" sh -c "socat -u TCP-LISTEN:$PORT,bind=$RECV4,reuseaddr - | pv -q -L 1k >/dev/null" &
wait_for 5 "socat listening" sh -c "ip netns exec $NS_RECV ss -Hltn 'sport = :$PORT' | grep -q ."
ip netns exec "$NS_SEND" sh -c \
	"pv -q -L 1448k /dev/zero | socat -u -b 1448 - TCP:$RECV4:$PORT,nodelay" &
sleep 15
ctl sockets --json >"$TMP/sockets.json"
ctl events --type inflation --limit 0 --json >"$TMP/events.json"
ip netns exec "$NS_RECV" ss -tmnp "sport = :$PORT" >&2

python3 - "$TMP" "$RECV4:$PORT" <<'PY' || fail "the foreign pair is not shown as inflated"
import json, sys
tmp, local = sys.argv[1:]
socks = [s for s in json.load(open(f"{tmp}/sockets.json")) if s["local"] == local]
assert len(socks) == 1, f"receiving socket {local} not found"
s = socks[0]
print(f"foreign pair: rmem_alloc {s['rmem_alloc']} rcvbuf {s['rcvbuf']} autotuned "
      f"{s['autotuned_rcvbuf']} inflations {s['inflations']} owner {s['owner']}", file=sys.stderr)
assert s["inflations"] > 0, "no inflation counted"
assert s["rcvbuf"] > s["autotuned_rcvbuf"], "rcvbuf not above the autotuned limit"
assert s["owner"]["comm"] == "socat", f"owner is {s['owner']}"
events = [e for e in json.load(open(f"{tmp}/events.json")) if e["cookie"] == s["cookie"]]
assert events, "no inflation event for the socket"
PY
log "PASS"
