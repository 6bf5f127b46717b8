#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# tcp:tcp_rcvbuf_prune tracepoint (patch 0003).
#
# Runs the strict-clamp scenario (non-coalescing in-order segments from a
# tun peer) with the event enabled in a private tracefs instance, with
# tcp_shrink_window=1 (expect RCVBUF_RAISED, rcvbuf_new > rcvbuf_old) and
# with tcp_shrink_window=2 (expect RCVBUF_HELD, rcvbuf_new == rcvbuf_old),
# and checks the socket identity fields (cookie, addresses, ports).
. "$(dirname "$0")/lib.sh"
ksft_require_root
ktap_header 3
helper=$(ksft_helper) || { ktap_skip event "no rcvbuf_helper and no gcc"; ktap_finish; }

tr=""
for d in /sys/kernel/tracing /sys/kernel/debug/tracing; do
	[ -d "$d/events" ] && { tr=$d; break; }
done
if [ -z "$tr" ] && [ -d /sys/kernel/tracing ]; then
	mount -t tracefs nodev /sys/kernel/tracing 2>/dev/null && tr=/sys/kernel/tracing
fi
if [ -z "$tr" ]; then
	ktap_skip event "tracefs not available"
	ktap_skip raised "tracefs not available"
	ktap_skip held "tracefs not available"
	ktap_finish
fi
if [ ! -d "$tr/events/tcp/tcp_rcvbuf_prune" ]; then
	ktap_missing event "no tcp:tcp_rcvbuf_prune tracepoint"
	ktap_missing raised "no tcp:tcp_rcvbuf_prune tracepoint"
	ktap_missing held "no tcp:tcp_rcvbuf_prune tracepoint"
	ktap_finish
fi
ktap_ok event
inst=$tr/instances/rcvgov-ksft-$$
mkdir "$inst" || { ktap_skip raised "cannot create a tracefs instance"; ktap_skip held "cannot create a tracefs instance"; ktap_finish; }
cleanup_trace() { echo 0 > "$inst/events/tcp/tcp_rcvbuf_prune/enable" 2>/dev/null; rmdir "$inst" 2>/dev/null; ksft_cleanup; }
trap cleanup_trace EXIT

run_case() { # shrink_window expected_flag subtest
	local ns out ev n
	netns_new ns trace
	if ! ns_sysctl "$ns" net/ipv4/tcp_shrink_window "$1"; then
		ktap_missing "$3" "tcp_shrink_window=$1 refused"
		netns_del "$ns"
		return
	fi
	echo > "$inst/trace"
	echo 1 > "$inst/events/tcp/tcp_rcvbuf_prune/enable"
	ip netns exec "$ns" "$helper" clamp 400 | sed 's/^\([a-z_]*=\)/# \1/'
	echo 0 > "$inst/events/tcp/tcp_rcvbuf_prune/enable"
	netns_del "$ns"
	out=$(grep -a tcp_rcvbuf_prune "$inst/trace")
	n=$(printf '%s\n' "$out" | grep -c . || true)
	echo "# tcp_shrink_window=$1: $n events; first and last:"
	printf '%s\n' "$out" | sed -n '1p;$p' | sed 's/^ */#   /'
	if [ "$n" -eq 0 ]; then
		ktap_fail "$3" "no events"
		return
	fi
	ev=$(printf '%s\n' "$out" | grep -m1 "action=[A-Z_|]*$2")
	if [ -z "$ev" ]; then
		ktap_fail "$3" "no event with $2"
		return
	fi
	local old new
	old=$(sed -n 's/.* rcvbuf_old=\([0-9]*\).*/\1/p' <<<"$ev")
	new=$(sed -n 's/.* rcvbuf_new=\([0-9]*\).*/\1/p' <<<"$ev")
	if ! grep -q 'src=10.77.0.1:5000 dest=10.77.0.2:40000' <<<"$ev" ||
	   grep -q 'sock_cookie=0$' <<<"$ev" || ! grep -q 'rcv_wscale=[1-9]' <<<"$ev"; then
		ktap_fail "$3" "bad socket identity fields"
		return
	fi
	case $2 in
	RCVBUF_RAISED) [ "$new" -gt "$old" ] && ktap_ok "$3" || ktap_fail "$3" "rcvbuf $old -> $new" ;;
	RCVBUF_HELD) if [ "$new" -eq "$old" ] && ! grep -q RCVBUF_RAISED <<<"$out"; then
			ktap_ok "$3"
		else
			ktap_fail "$3" "rcvbuf raised in strict mode"
		fi ;;
	esac
}
run_case 1 RCVBUF_RAISED raised
run_case 2 RCVBUF_HELD held
ktap_finish
