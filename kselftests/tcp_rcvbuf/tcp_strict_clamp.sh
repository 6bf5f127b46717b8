#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Strict autotuning limit (patch 0002): with tcp_shrink_window=2,
# tcp_clamp_window() must not raise sk_rcvbuf to sk_rmem_alloc.
#
# A scripted peer on a tun device sends in-order 200-byte segments inside
# the advertised window to a receiver that never reads; an AF_PACKET tap
# holds a clone of every skb so that none can be coalesced (each costs a
# ~1.3 KB truesize for 200 bytes), which drives sk_rmem_alloc over
# sk_rcvbuf and into tcp_prune_queue() -> tcp_clamp_window().
# Pass: sk_rcvbuf never rises above its initial value.
. "$(dirname "$0")/lib.sh"
ksft_require_root
ktap_header 1
helper=$(ksft_helper) || { ktap_skip strict_clamp "no rcvbuf_helper and no gcc"; ktap_finish; }
netns_new ns clamp
if ! ns_has_sysctl "$ns" net/ipv4/tcp_shrink_window; then
	ktap_missing strict_clamp "no net.ipv4.tcp_shrink_window"
	ktap_finish
fi
if ns_sysctl "$ns" net/ipv4/tcp_shrink_window 2; then
	echo "# tcp_shrink_window=2 (strict)"
	ip netns exec "$ns" "$helper" clamp | sed 's/^\([a-z_]*=\)/# \1/'
	ktap_result strict_clamp "${PIPESTATUS[0]}"
else
	# show what the kernel does without strict mode, then skip/fail
	ns_sysctl "$ns" net/ipv4/tcp_shrink_window 1
	echo "# tcp_shrink_window=2 refused; behaviour with tcp_shrink_window=1:"
	ip netns exec "$ns" "$helper" clamp | sed 's/^\([a-z_]*=\)/# \1/'
	ktap_missing strict_clamp "tcp_shrink_window=2 (strict) refused"
fi
ktap_finish
