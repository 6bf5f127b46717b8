#!/usr/bin/env bash
# The allowlist holds every action back, even for sockets that inflate.
# Step 1 off (shrink_window = false) and the receiver's namespace at
# tcp_shrink_window=0 with tcp_rmem[2] = 256 MiB, so every blog pair
# inflates its rcvbuf. Four pairs at once for 20 s:
#   cidr    IPv6, its peer fd00:213::1 is in an allowlisted CIDR
#   port    IPv4, its local port is allowlisted
#   cgroup  IPv4, its reader runs in /rcvgov-test.slice/child, below the
#           allowlisted cgroup /rcvgov-test.slice
#   control IPv4, nothing allowlisted: the positive control
# Expected: the three allowlisted sockets inflate and are never clamped
# (no action line names them, enforcement "none", window_clamp unchanged, rcvbuf
# still growing), while the control IS clamped and stops growing.
source "$(dirname "$0")/../lib.sh"
need_root
SECS=${RCVGOV_PAIR_SECS:-20}
P_CIDR=5031 P_PORT=5032 P_CGROUP=5033 P_CONTROL=5034
CG_TOP=/rcvgov-test.slice CG=/rcvgov-test.slice/child

make_pair_netns
set_receiver_sysctls 0
make_cgroup "$CG"
cat >"$TMP/allow.toml" <<TOML
[ladder]
shrink_window = false
clamp = true
reclaim = false
[allowlist]
cidrs = ["fd00:213::/64"]
ports = [$P_PORT]
cgroups = ["$CG_TOP"]
TOML
start_daemon --config "$TMP/allow.toml"

start_blog_pair "[$RECV6]:$P_CIDR" cidr $((SECS + 30))
start_blog_pair "$RECV4:$P_PORT" port $((SECS + 30))
start_pair --rt --cgroup "$CG" cgroup "$RECV4:$P_CGROUP" $((SECS + 30)) \
	"--mode slow --read-bytes 1 --interval 1ms" "--payload 1448 --interval 1ms"
grep -qx "0::$CG" "/proc/$READER_PID/cgroup" ||
	fail "the cgroup reader is not in $CG: $(cat "/proc/$READER_PID/cgroup")"
start_blog_pair "$RECV4:$P_CONTROL" control $((SECS + 30))
sleep 0.5
sockets_json >"$TMP/sockets-start.json"
sample_ports "$SECS" $P_CIDR $P_PORT $P_CGROUP $P_CONTROL
sockets_json >"$TMP/sockets-end.json"
status_json >"$TMP/status.json"
for p in $P_CIDR $P_PORT $P_CGROUP $P_CONTROL; do
	log "port $p samples (s r rb): $(tr '\n' ';' <"$TMP/samples.$p")"
done

# Every pair still runs (the allowlist must not be needed to survive).
for tag in cidr port cgroup control; do
	grep -q . "$TMP/reader$tag.out" || fail "reader $tag wrote nothing"
done
python3 - "$TMP" "$DAEMON_LOG" $P_CIDR $P_PORT $P_CGROUP $P_CONTROL <<'PY' || fail "the allowlist did not hold"
import json, re, sys
tmp, logf = sys.argv[1], sys.argv[2]
ports = dict(zip(("cidr", "port", "cgroup", "control"), map(int, sys.argv[3:7])))
start = json.load(open(f"{tmp}/sockets-start.json"))
end = json.load(open(f"{tmp}/sockets-end.json"))
log = open(logf).read()
counters = json.load(open(f"{tmp}/status.json"))["governance"]["counters"]

errors = []
def check(ok, what):
    if not ok:
        errors.append(what)

def one(socks, port):
    m = [s for s in socks if s["local"].endswith(f":{port}")]
    assert len(m) == 1, f"{len(m)} sockets on port {port} in rcvgovctl sockets"
    return m[0]

def samples(port):
    return [tuple(map(int, l.split())) for l in open(f"{tmp}/samples.{port}")]

def actions(cookie):
    return re.findall(rf"^.*(?:action: \w+|clamped|destroyed|would have done \w+|skipped \w+) socket={cookie} .*$",
                      log, re.M)

for name in ("cidr", "port", "cgroup"):
    p = ports[name]
    s0, s1 = one(start, p), one(end, p)
    rb = [x[2] for x in samples(p)]
    print(f"{name}: cookie {s1['cookie']} rcvbuf {rb[0]} -> {rb[-1]}, inflations {s1['inflations']}, "
          f"state {s1['enforcement']}, window_clamp {s0['window_clamp']} -> {s1['window_clamp']}", file=sys.stderr)
    check(not actions(s1["cookie"]), f"{name}: acted on: {actions(s1['cookie'])[:3]}")
    check(s1["enforcement"] == "none", f"{name}: enforcement {s1['enforcement']}")
    check(s1["window_clamp"] == s0["window_clamp"], f"{name}: window_clamp changed")
    check(rb[-1] > 2 << 20 and s1["inflations"] > 0, f"{name}: did not inflate (rcvbuf {rb[-1]})")
    check(rb[-1] > rb[len(rb) // 2], f"{name}: rcvbuf stopped growing: {rb}")

p = ports["control"]
s0, s1 = one(start, p), one(end, p)
rb = [x[2] for x in samples(p)]
locked = re.search(rf"clamped socket={s1['cookie']} .*rcvbuf locked at (\d+)", log)
print(f"control: cookie {s1['cookie']} rcvbuf {rb[0]} -> {rb[-1]}, state {s1['enforcement']}, "
      f"window_clamp {s0['window_clamp']} -> {s1['window_clamp']}, "
      f"locked at {locked and locked.group(1)}; counters {counters}", file=sys.stderr)
check(locked, "control: never clamped")
check(s1["enforcement"] == "clamped", f"control: enforcement {s1['enforcement']}")
check(s1["window_clamp"] != s0["window_clamp"] or s0["enforcement"] == "clamped",
      "control: window_clamp unchanged")
check(not locked or max(rb) <= int(locked.group(1)), f"control: rcvbuf {max(rb)} above the lock")
for e in errors:
    print(f"expected otherwise: {e}", file=sys.stderr)
sys.exit(1 if errors else 0)
PY
log "PASS"
