# shellcheck shell=bash disable=SC2034,SC2153 # SHRINK comes from the includer; SENDER*_PID are read via ${!var}
# The Cloudflare blog pair (sender 1448 B every 1 ms, reader 1 B every 1 ms)
# over IPv4 and IPv6 at once, with rcvgovd watching from the host namespace.
# Sourced by blog_pair_shrink0.sh and blog_pair_shrink1.sh with SHRINK set.

source "$(dirname "$0")/../lib.sh"
need_root

RUN_SECS=${RCVGOV_PAIR_SECS:-25}
PORT4=5001
PORT6=5002

make_pair_netns
set_receiver_sysctls "$SHRINK"
start_daemon --config "$(observe_only_config)"

start_blog_pair "$RECV4:$PORT4" 4 $((RUN_SECS + 15))
SENDER4_PID=$SENDER_PID
start_blog_pair "[$RECV6]:$PORT6" 6 $((RUN_SECS + 15))
SENDER6_PID=$SENDER_PID
READER4_PID=$(sed -n 's/^accepted .*pid=\([0-9]*\).*/\1/p' "$TMP/reader4.out")
READER6_PID=$(sed -n 's/^accepted .*pid=\([0-9]*\).*/\1/p' "$TMP/reader6.out")
log "pairs running (readers $READER4_PID, $READER6_PID), watching for ${RUN_SECS}s"

sleep 1
ctl sockets --json >"$TMP/sockets-start.json"
sleep $((RUN_SECS - 1))
ctl sockets --json >"$TMP/sockets.json"
ctl events --type inflation --limit 0 --json >"$TMP/events.json"
ctl status --json >"$TMP/status.json"
ip netns exec "$NS_RECV" ss -tmn >"$TMP/ss.txt"

# Both connections must still be alive: the pair is not allowed to break.
for tag in 4 6; do
	pid_var=SENDER${tag}_PID
	kill -0 "${!pid_var}" 2>/dev/null || fail "sender $tag died: $(cat "$TMP/sender$tag.out")"
done

TMP=$TMP SHRINK=$SHRINK RECV4=$RECV4 RECV6=$RECV6 SEND4=$SEND4 SEND6=$SEND6 \
	PORT4=$PORT4 PORT6=$PORT6 READER4_PID=$READER4_PID READER6_PID=$READER6_PID \
	python3 "$(dirname "$0")/blog_pair_check.py" || {
	log "ss -tmn in the receiver namespace:"
	cat "$TMP/ss.txt" >&2
	exit 1
}
log "PASS"
