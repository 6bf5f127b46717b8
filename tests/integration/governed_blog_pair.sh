#!/usr/bin/env bash
# Ladder step 1 on the blog pair: the receiver's namespace starts with
# tcp_shrink_window=0; rcvgovd (embedded defaults) sets it to 1, after which
# the receiving socket's rcvbuf stays within 1.1x its start value for 30 s,
# the connection survives and ZeroWindows are sent.
source "$(dirname "$0")/../lib.sh"
need_root
SECS=${RCVGOV_PAIR_SECS:-30}
PORT=5011

make_pair_netns
set_receiver_sysctls 0
[ "$(sysctl_in "$NS_RECV" net.ipv4.tcp_shrink_window)" = 0 ] || fail "could not set up shrink=0"
start_daemon
shrunk() { [ "$(sysctl_in "$NS_RECV" net.ipv4.tcp_shrink_window)" = 1 ]; }
wait_for 3 "rcvgovd to set tcp_shrink_window=1 in the receiver namespace" shrunk
zw_before=$(nstat_in "$NS_RECV" TcpExtTCPToZeroWindowAdv)

start_blog_pair "$RECV4:$PORT" "" $((SECS + 10))
sleep 0.5
start_rb=$(rcvbuf_of "$NS_RECV" $PORT)
sample_pair $PORT "$SECS"
max_r=$MAX_R max_rb=$MAX_RB
kill -0 $SENDER_PID 2>/dev/null || fail "the sender died: $(cat "$TMP/sender.out")"
zw_after=$(nstat_in "$NS_RECV" TcpExtTCPToZeroWindowAdv)
log "start rb $start_rb, max rb $max_rb, max r $max_r over ${SECS}s; TCPToZeroWindowAdv $zw_before -> $zw_after"
[ "$max_rb" -le $((start_rb * 11 / 10)) ] || fail "rcvbuf grew to $max_rb (start $start_rb)"
[ "${zw_after:-0}" -gt "${zw_before:-0}" ] || fail "no ZeroWindow was advertised"
ctl status --json >"$TMP/status.json"
python3 - "$TMP/status.json" <<'PY' || fail "status does not report the sysctl change"
import json, sys
g = json.load(open(sys.argv[1]))["governance"]
changed = [n for n in g["shrink_window"]["namespaces"] if n["changed"] and n["before"] == 0 and n["now"] == 1]
assert changed, g["shrink_window"]
PY
stop_daemon
[ "$(sysctl_in "$NS_RECV" net.ipv4.tcp_shrink_window)" = 0 ] || fail "tcp_shrink_window not restored on exit"
log "PASS"
