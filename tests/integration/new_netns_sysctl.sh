#!/usr/bin/env bash
# A network namespace created after rcvgovd started gets
# tcp_shrink_window=1 within 1 s; with keep_on_exit it stays 1 after the
# daemon stops, without it the old value comes back.
source "$(dirname "$0")/../lib.sh"
need_root

for keep in false true; do
	printf '[daemon]\nkeep_on_exit = %s\n' "$keep" >"$TMP/keep.toml"
	start_daemon --config "$TMP/keep.toml"
	sleep 1
	ns="$NS_PREFIX-new-$keep"
	CLEANUP_HOOKS+=("ip netns del $ns 2>/dev/null")
	ip netns add "$ns"
	t0=$(date +%s%N)
	until [ "$(sysctl_in "$ns" net.ipv4.tcp_shrink_window)" = 1 ]; do
		elapsed=$((($(date +%s%N) - t0) / 1000000))
		[ $elapsed -lt 1000 ] || fail "no tcp_shrink_window=1 in $ns after ${elapsed} ms"
		sleep 0.02
	done
	log "keep_on_exit=$keep: new namespace got tcp_shrink_window=1 after $((($(date +%s%N) - t0) / 1000000)) ms"
	# A process-only namespace (no /run/netns entry), as containers have.
	unshare -n sh -c 'sleep 5' &
	upid=$!
	t0=$(date +%s%N)
	until [ "$(nsenter -t $upid -n cat /proc/sys/net/ipv4/tcp_shrink_window 2>/dev/null)" = 1 ]; do
		elapsed=$((($(date +%s%N) - t0) / 1000000))
		[ $elapsed -lt 1000 ] || fail "unnamed namespace not set after ${elapsed} ms"
		sleep 0.02
	done
	log "unnamed namespace of pid $upid set after $((($(date +%s%N) - t0) / 1000000)) ms"
	stop_daemon
	expect=$([ $keep = true ] && echo 1 || echo 0)
	got=$(sysctl_in "$ns" net.ipv4.tcp_shrink_window)
	[ "$got" = "$expect" ] || fail "keep_on_exit=$keep: tcp_shrink_window is $got after exit"
	kill $upid 2>/dev/null || true
	wait $upid 2>/dev/null || true
	ip netns del "$ns"
done
log "PASS"
