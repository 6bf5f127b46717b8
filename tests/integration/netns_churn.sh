#!/usr/bin/env bash
# Ladder step 1 under namespace churn: 1,000 named namespaces created and
# deleted in batches of 20; each must read tcp_shrink_window=1 within
# 1 s of its creation (the worst and mean latencies are printed). Then a
# namespace whose sysctl is reset to 0 from inside is set back to 1 within
# one scan period plus 250 ms, and the daemon's open file descriptors are
# back at their baseline (no netns fd kept for a deleted namespace).
# Bounded: the churn gives up after 100 s.
source "$(dirname "$0")/../lib.sh"
need_root
HELPER="$(dirname "$0")/netns_churn.py"

start_daemon
sleep 1
scan_ms=$(status_get .netns_scan_ms)
base_fds=$(fd_count "$DAEMON_PID")
base_ns=$(status_get .netns_seen)
log "daemon pid $DAEMON_PID: $base_fds fds, $base_ns namespaces known, scan every $scan_ms ms"

out=$(python3 "$HELPER" churn --prefix "$NS_PREFIX-c" --total 1000 --batch 20 \
	--deadline-ms 1000 --time-limit 100) || fail "netns churn: $out"
log "churn: $out"
alive "$DAEMON_PID" || fail "rcvgovd died during the churn"

out=$(python3 "$HELPER" reset --prefix "$NS_PREFIX-" --rounds 3 \
	--deadline-ms $((scan_ms + 250))) || fail "reset from inside: $out"
log "reset to 0 from inside, back to 1 after: $out (scan period $scan_ms ms)"

# The namespaces are gone: after the 2 s grace period and a scan the
# daemon lets go of them.
fds_back() { [ "$(fd_count "$DAEMON_PID")" -le $((base_fds + 2)) ]; }
WAIT_SAY="fd_count $DAEMON_PID" wait_ms $((2000 + scan_ms * 6)) \
	"rcvgovd's open fds back to the baseline $base_fds (+2) after the churn" fds_back
ns_back() { [ "$(status_get .netns_seen)" -le "$base_ns" ]; }
wait_for 3 "rcvgovd to forget the deleted namespaces" ns_back
log "after the churn: $(fd_count "$DAEMON_PID") fds (baseline $base_fds, back after $WAITED_MS ms), $(status_get .netns_seen) namespaces known (baseline $base_ns), scan report $(status_json | jq -c .netns_scan)"
stop_daemon
log "PASS"
