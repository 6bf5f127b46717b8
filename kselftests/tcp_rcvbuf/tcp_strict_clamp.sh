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
# shellcheck source-path=SCRIPTDIR source=lib.sh disable=SC2154 # ksft_bin sets stream/helper
. "$(dirname "$0")/lib.sh"
ksft_require_root strict_clamp
ktap_plan strict_clamp
if ! ksft_bin helper rcvbuf_helper; then
	ktap_missing_rest "setup: no rcvbuf_helper and no gcc"
	ktap_finish
fi
out=$(mktemp)
netns_new ns clamp
if ksft_shrink "$ns" 2; then
	echo "# tcp_shrink_window=2 (strict)"
	ip netns exec "$ns" "$helper" clamp > "$out"
	rc=$?
	ksft_show "$out"
	ktap_result strict_clamp "$rc" "clamp rcvbuf-raised $(ksft_kv "$out" clamp_rcvbuf_before)->$(ksft_kv "$out" clamp_rcvbuf_peak)"
else
	why=$KSFT_WHY
	# show what the kernel does without strict mode, then skip/fail
	if ksft_shrink "$ns" 1; then
		echo "# $why; behaviour with tcp_shrink_window=1:"
		ip netns exec "$ns" "$helper" clamp > "$out"
		ksft_show "$out"
	fi
	ktap_missing strict_clamp "$why"
fi
rm -f "$out"
ktap_finish
