#!/usr/bin/env bash
# Ladder step 2 alone (step 1 disabled by config): the blog pair with
# tcp_shrink_window=0, so the kernel inflates rcvbuf, and rcvgovd clamps
# the socket's window as soon as it sees the inflation.
source "$(dirname "$0")/../lib.sh"
need_root
SECS=${RCVGOV_PAIR_SECS:-30}
PORT=5012

make_pair_netns
set_receiver_sysctls 0
printf '[ladder]\nshrink_window = false\nclamp = true\nreclaim = false\n' >"$TMP/clamp.toml"
start_daemon --config "$TMP/clamp.toml"

start_blog_pair "$RECV4:$PORT" "" $((SECS + 10))
sample_pair $PORT "$SECS"
max_r=$MAX_R max_rb=$MAX_RB
kill -0 $SENDER_PID 2>/dev/null || fail "the sender died: $(cat "$TMP/sender.out")"
[ "$(sysctl_in "$NS_RECV" net.ipv4.tcp_shrink_window)" = 0 ] || fail "step 1 ran although disabled"
grep -q "clamped socket=" "$TMP/rcvgovd.log" || fail "no clamp was applied"
grep "clamped socket=" "$TMP/rcvgovd.log" | head -1 >&2
log "samples (s r rb): $(tr '\n' ';' <"$TMP/samples")"
log "max r $max_r, max rb $max_rb over ${SECS}s"
# The bound, and why it holds: the clamp locks sk_rcvbuf (SO_RCVBUF) at
# the value it had when rcvgovd saw the first inflation, and a locked
# rcvbuf is never raised by tcp_clamp_window(). Past it the kernel prunes
# or drops, so rmem_alloc can exceed the lock only by what one coalesce
# adds before tcp_try_rmem_schedule() runs again: less than one 64 KiB skb
# (we allow 128 KiB). The lock itself is at most what the pair (~1.5 MB/s)
# inflates in one snapshot interval (0.5 s) plus one round of decisions:
# well under 4 MiB.
locked=$(sed -n 's/.*clamped socket=.*rcvbuf locked at \([0-9]*\).*/\1/p' "$TMP/rcvgovd.log" | head -1)
[ -n "$locked" ] || fail "no rcvbuf lock in the clamp log line"
log "rcvbuf locked at $locked"
[ "$locked" -le $((4 << 20)) ] || fail "clamped only at $locked bytes"
[ "$max_rb" -le "$locked" ] || fail "rcvbuf $max_rb grew past the lock $locked"
[ "$max_r" -le $((locked + (128 << 10))) ] || fail "rmem_alloc $max_r above lock $locked + 128 KiB"
# After the clamp the socket still moves data (it is slow, not dead).
grep -q . "$TMP/reader.out" || fail "reader output missing"
log "PASS"
