#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# A zero window must reach the sender (patch 0005).
#
# A Linux sender takes a smaller window only from an ACK that advances
# SND.UNA (tcp_may_update_window()).  A receiver that shrinks its window
# (tcp_shrink_window=1 or 2) used to retract it in duplicate ACKs too, and
# then drop in-sequence data the sender was still allowed to send
# (TCPZeroWindowDrop), answering with ACKs the sender ignores: the sender
# never learns that the window is zero, never probes, and retransmits until
# tcp_retries2 kills the connection (tcp_strict_live.sh "reorder" hits this
# by chance; this test hits it every time).
#
# rcvbuf_helper zwnd plays such a sender on a tun device: it fills a
# receiver that never reads, sending each batch highest segment first (all
# but the last out of order), and retransmits SND.UNA while its window is
# open.  Pass: it is told of the zero window.  A kernel without the fix
# fails with "zwnd stuck".
# shellcheck source-path=SCRIPTDIR source=lib.sh disable=SC2154 # ksft_bin sets helper
. "$(dirname "$0")/lib.sh"
plan=(zwnd_shrink1 zwnd_shrink2)
ksft_require_root "${plan[@]}"
ktap_plan "${plan[@]}"
if ! ksft_bin helper rcvbuf_helper; then
	ktap_missing_rest "setup: no rcvbuf_helper and no gcc"
	ktap_finish
fi
for sh in 1 2; do
	st=zwnd_shrink$sh
	netns_new ns zwnd
	if ! ksft_shrink "$ns" "$sh"; then
		ktap_missing "$st" "$KSFT_WHY"
		netns_del "$ns"
		continue
	fi
	out=$(mktemp)
	ip netns exec "$ns" "$helper" zwnd > "$out"
	rc=$?
	ksft_show "$out"
	ktap_result "$st" "$rc" "zwnd $(ksft_kv "$out" zwnd_result)"
	rm -f "$out"
	netns_del "$ns"
done
ktap_finish
