#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# RFC 7323 2.4 window retraction, receiver side (patch 0001).
#
# With tcp_shrink_window=1 a scripted peer on a tun device fills a receiver
# that never reads until it retracts its window to zero; the peer has data
# in flight beyond the retracted edge (inside the edge advertised before)
# and then sends a pure ACK for the receiver's own data with SEQ = its
# SND.NXT.  The receiver must process that ACK.  A kernel without the fix
# rejects it in tcp_sequence() (and every later one: the connection is
# stuck); the test then fails with "retract_ack unacked=100".
# shellcheck source-path=SCRIPTDIR source=lib.sh disable=SC2154 # ksft_bin sets stream/helper
. "$(dirname "$0")/lib.sh"
ksft_require_root retract_ack
ktap_plan retract_ack
if ! ksft_bin helper rcvbuf_helper; then
	ktap_missing_rest "setup: no rcvbuf_helper and no gcc"
	ktap_finish
fi
netns_new ns rtx
if ! ksft_shrink "$ns" 1; then
	ktap_missing retract_ack "$KSFT_WHY"
	ktap_finish
fi
out=$(mktemp)
ip netns exec "$ns" "$helper" retract > "$out"
rc=$?
ksft_show "$out"
ktap_result retract_ack "$rc" "retract_ack unacked=$(ksft_kv "$out" retract_unacked_after)"
rm -f "$out"
ktap_finish
