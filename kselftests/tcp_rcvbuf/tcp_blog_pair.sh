#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# The Cloudflare reproducer ("test pair") between two netns over veth:
# a sender writes 1448 bytes every 1 ms, the receiver reads 1 byte every
# 1 ms, tcp_rmem = 4096 131072 268435456 (window scale 13) on the receiver.
#   shrink0: tcp_shrink_window=0, sk_rcvbuf grows (the baseline, asserted)
#   shrink1: tcp_shrink_window=1, sk_rcvbuf stays bounded
#   strict:  tcp_shrink_window=2 (patch 0002), bounded, ZeroWindows are sent
#            (TCPToZeroWindowAdv > 0) and nothing is pruned (RcvPruned = 0)
# RCVGOV_KSFT_BLOG_SECS sets the duration of each run (default 20).
. "$(dirname "$0")/lib.sh"
ksft_require_root
ktap_header 3
helper=$(ksft_helper) || { ktap_skip all "no rcvbuf_helper and no gcc"; ktap_finish; }
secs=${RCVGOV_KSFT_BLOG_SECS:-20}
rmem_init=131072
# "bounded": never above twice the initial autotuning value; "grows":
# above four times it.  Measured on the host (60 s): 131072 vs 81 MB.
bound=$((2 * rmem_init)) grow=$((4 * rmem_init))

run_pair() { # shrink_window -> sets rb_max zw pruned, rc 0 ok, 4 refused
	local nss nsr out
	netns_new nss blogs
	netns_new nsr blogr
	ip link add vbs netns "$nss" type veth peer name vbr netns "$nsr" || return 1
	ip -n "$nss" addr add 10.78.0.1/24 dev vbs
	ip -n "$nsr" addr add 10.78.0.2/24 dev vbr
	ip -n "$nss" link set vbs up
	ip -n "$nsr" link set vbr up
	ns_sysctl "$nsr" net/ipv4/tcp_rmem "4096 $rmem_init 268435456"
	if ! ns_has_sysctl "$nsr" net/ipv4/tcp_shrink_window; then
		netns_del "$nss"; netns_del "$nsr"; return 5
	fi
	if ! ns_sysctl "$nsr" net/ipv4/tcp_shrink_window "$1"; then
		netns_del "$nss"; netns_del "$nsr"; return 4
	fi
	local zw0 pr0
	zw0=$(ns_mib "$nsr" TCPToZeroWindowAdv)
	pr0=$(ns_mib "$nsr" RcvPruned)
	out=$(mktemp)
	ip netns exec "$nsr" "$helper" recv 10.78.0.2 7000 "$secs" 1 1000 > "$out" &
	local rpid=$!
	sleep 0.5
	ip netns exec "$nss" "$helper" send 10.78.0.2 7000 "$((secs + 2))" 1448 1000 &
	local spid=$!
	wait $rpid
	kill $spid 2>/dev/null
	wait $spid 2>/dev/null
	sed 's/^\([a-z_]*=\)/# \1/' "$out"
	rb_max=$(sed -n 's/^recv_rcvbuf_max=//p' "$out")
	rb_max=${rb_max:-0}
	zw=$(( $(ns_mib "$nsr" TCPToZeroWindowAdv) - zw0 ))
	pruned=$(( $(ns_mib "$nsr" RcvPruned) - pr0 ))
	echo "# tcp_shrink_window=$1: rcvbuf max $rb_max, TCPToZeroWindowAdv +$zw, RcvPruned +$pruned"
	rm -f "$out"
	netns_del "$nss"; netns_del "$nsr"
	return 0
}

run_pair 0; rc=$?
if [ $rc = 5 ]; then
	ktap_ok shrink0
	ktap_missing shrink1 "no net.ipv4.tcp_shrink_window"
	ktap_missing strict "no net.ipv4.tcp_shrink_window"
	ktap_finish
fi
if [ "$rb_max" -gt "$grow" ]; then ktap_ok shrink0; else
	ktap_fail shrink0 "baseline did not grow: rcvbuf max $rb_max <= $grow"; fi

run_pair 1
if [ "$rb_max" -le "$bound" ]; then ktap_ok shrink1; else
	ktap_fail shrink1 "rcvbuf max $rb_max > $bound"; fi

run_pair 2; rc=$?
if [ $rc = 4 ]; then
	ktap_missing strict "tcp_shrink_window=2 (strict) refused"
elif [ "$rb_max" -le "$bound" ] && [ "$zw" -gt 0 ] && [ "$pruned" -eq 0 ]; then
	ktap_ok strict
else
	ktap_fail strict "rcvbuf max $rb_max (bound $bound), TCPToZeroWindowAdv +$zw, RcvPruned +$pruned"
fi
ktap_finish
