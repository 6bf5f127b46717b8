#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# The Cloudflare reproducer ("test pair") between two netns over veth:
# a sender writes 1448 bytes every 1 ms, the receiver reads 1 byte every
# 1 ms, tcp_rmem = 4096 131072 268435456 (window scale 13) on the receiver.
#   shrink0: tcp_shrink_window=0 (or a kernel without the sysctl, which
#            behaves as 0): sk_rcvbuf grows (the baseline, asserted)
#   shrink1: tcp_shrink_window=1, sk_rcvbuf stays bounded
#   strict:  tcp_shrink_window=2 (patch 0002), bounded, ZeroWindows are sent
#            (TCPToZeroWindowAdv > 0) and nothing is pruned (RcvPruned = 0)
# RCVGOV_KSFT_BLOG_SECS sets the duration of each run (default 20).
# shellcheck source-path=SCRIPTDIR source=lib.sh disable=SC2154 # ksft_bin sets stream/helper
. "$(dirname "$0")/lib.sh"
ksft_require_root shrink0 shrink1 strict
ktap_plan shrink0 shrink1 strict
if ! ksft_bin stream tcp_stream; then
	ktap_missing_rest "setup: no tcp_stream and no gcc"
	ktap_finish
fi
secs=${RCVGOV_KSFT_BLOG_SECS:-20}
rmem_init=131072
# "bounded": never above twice the initial autotuning value; "grows":
# above four times it.  Measured on the host (60 s): 131072 vs 81 MB.
bound=$((2 * rmem_init)) grow=$((4 * rmem_init))

run_pair() { # shrink_window: sets rb_max zw pruned; 1 = KSFT_WHY says why not
	local nss nsr out rpid spid zw0 pr0
	netns_new nss blogs
	netns_new nsr blogr
	nl_veth "$nss" vbs 10.78.0.1/24 "$nsr" vbr 10.78.0.2/24 ||
		{ KSFT_WHY="setup: veth"; return 1; }
	ns_sysctl "$nsr" net/ipv4/tcp_rmem "4096 $rmem_init 268435456"
	# shrink=0 is also what a kernel without the sysctl does
	if ! { [ "$1" = 0 ] && ! ns_has_sysctl "$nsr" net/ipv4/tcp_shrink_window; } &&
		! ksft_shrink "$nsr" "$1"; then
		netns_del "$nss" "$nsr"
		return 1
	fi
	zw0=$(ns_mib "$nsr" TCPToZeroWindowAdv)
	pr0=$(ns_mib "$nsr" RcvPruned)
	out=$(mktemp)
	ip netns exec "$nsr" "$stream" -t "$secs" -c 1 -i 1000 -T $((secs + 15)) \
		recv 10.78.0.2 7000 > "$out" &
	rpid=$!
	ip netns exec "$nss" "$stream" -t "$((secs + 2))" -c 1448 -i 1000 -T $((secs + 15)) \
		send 10.78.0.2 7000 > /dev/null &
	spid=$!
	wait $rpid
	kill $spid 2>/dev/null
	wait $spid 2>/dev/null
	ksft_show "$out"
	rb_max=$(ksft_kv "$out" recv_rcvbuf_max)
	rb_max=${rb_max:-0}
	zw=$(($(ns_mib "$nsr" TCPToZeroWindowAdv) - zw0))
	pruned=$(($(ns_mib "$nsr" RcvPruned) - pr0))
	echo "# tcp_shrink_window=$1: rcvbuf max $rb_max, TCPToZeroWindowAdv +$zw, RcvPruned +$pruned"
	rm -f "$out"
	netns_del "$nss" "$nsr"
	return 0
}

if run_pair 0; then
	if [ "$rb_max" -gt "$grow" ]; then ktap_ok shrink0; else
		ktap_fail shrink0 "blog rcvbuf-bounded max=$rb_max limit=$grow"; fi
else
	ktap_fail shrink0 "$KSFT_WHY"
fi

if run_pair 1; then
	if [ "$rb_max" -le "$bound" ]; then ktap_ok shrink1; else
		ktap_fail shrink1 "blog rcvbuf-grew max=$rb_max bound=$bound"; fi
else
	ktap_missing shrink1 "$KSFT_WHY"
fi

if ! run_pair 2; then
	ktap_missing strict "$KSFT_WHY"
elif [ "$rb_max" -le "$bound" ] && [ "$zw" -gt 0 ] && [ "$pruned" -eq 0 ]; then
	ktap_ok strict
else
	ktap_fail strict "blog strict max=$rb_max bound=$bound zerowin=$zw pruned=$pruned"
fi
ktap_finish
