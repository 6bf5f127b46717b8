#!/usr/bin/env bash
# Without the capabilities BPF needs, rcvgovd says exactly why and still
# shows sockets by polling NETLINK_SOCK_DIAG: run it in the receiver's
# namespace with CAP_BPF, CAP_PERFMON and CAP_SYS_ADMIN dropped, next to a
# blog pair with tcp_shrink_window=0, and look for the inflated socket.
source "$(dirname "$0")/../lib.sh"
need_root

make_pair_netns
set_receiver_sysctls 0
ip netns exec "$NS_RECV" setpriv --bounding-set -bpf,-perfmon,-sys_admin --inh-caps=-all -- \
	"$BIN/rcvgovd" --config "$(observe_only_config)" --socket "$CTL_SOCK" --interval 500 >"$TMP/rcvgovd.log" 2>&1 &
DAEMON_PID=$!
wait_for 10 "rcvgovd control socket" ctl status

start_blog_pair "$RECV4:5003" "" 30
sleep 15
ctl status --json >"$TMP/status.json"
ctl sockets --json >"$TMP/sockets.json"
python3 - "$TMP" "$RECV4" <<'PY' || fail "sock_diag fallback did not do its job"
import json, sys
tmp, recv = sys.argv[1], sys.argv[2]
st = json.load(open(f"{tmp}/status.json"))
assert st["mode"] == "sock_diag", st["mode"]
err = st.get("bpf_error", "")
assert "EPERM" in err and "CAP_BPF" in err, f"reason does not say why: {err!r}"
socks = [s for s in json.load(open(f"{tmp}/sockets.json")) if s["local"] == f"{recv}:5003"]
assert len(socks) == 1, f"receiver socket not found ({len(socks)})"
s = socks[0]
print(f"sock_diag view: rmem_alloc {s['rmem_alloc']} rcvbuf {s['rcvbuf']} "
      f"inflations {s['inflations']} stall {s['stall_ms']} ms", file=sys.stderr)
assert s["rmem_alloc"] > 1 << 20 and s["rcvbuf"] > 1 << 20, s
assert s["inflations"] > 0, s
# 1 B every 1 ms: the reader progresses between polls, so it is not stalled
# (sock_diag infers progress from bytes_received - rqueue).
assert s["stall_ms"] < 2000, s
assert s["owner"]["netns_cookie"], s
PY
grep -q "Falling back to polling NETLINK_SOCK_DIAG" "$TMP/rcvgovd.log" || fail "no fallback message in the log"
log "PASS"
