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
# stuck); the test then fails.
. "$(dirname "$0")/lib.sh"
ksft_require_root
ktap_header 1
helper=$(ksft_helper) || { ktap_skip retract_ack "no rcvbuf_helper and no gcc"; ktap_finish; }
netns_new ns rtx
if ! ns_has_sysctl "$ns" net/ipv4/tcp_shrink_window; then
	ktap_missing retract_ack "no net.ipv4.tcp_shrink_window"
	ktap_finish
fi
ns_sysctl "$ns" net/ipv4/tcp_shrink_window 1
ip netns exec "$ns" "$helper" retract | sed 's/^\([a-z_]*=\)/# \1/'
rc=${PIPESTATUS[0]}
ktap_result retract_ack "$rc"
ktap_finish
