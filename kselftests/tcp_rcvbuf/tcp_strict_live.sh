#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Strict mode (tcp_shrink_window=2, patch 0002) loses no data and keeps
# connections alive; every scenario also runs with tcp_shrink_window=1 (the
# control; on a kernel without strict mode only that one can pass).
#
# Two netns joined by veth, netem delay on both sides (RTT ~20 ms, so the
# RTO is real: 200 ms and up).  tcp_stream sends a known byte pattern of
# $bytes bytes; the reader checks every byte and the final FIN.  After
# $stall_at bytes the reader stops reading for $stall s, then resumes.  The
# sender's netns has tcp_retries2=4: a sender whose retransmissions get no
# answer for ~6.2 s (0.2 s x (2^5 - 1)) gives up with ETIMEDOUT; the stall
# is longer than that, so a receiver that drops data without answering
# (the 6.1 RcvQDrop/RcvPruned paths send no ACK) kills the connection here,
# where with the default tcp_retries2=15 it would take ~15 min of stall.
#
#   stall     autotuned receiver (tcp_rmem 4096 131072 1048576: the stall
#             fills it, the window closes)
#   clamp     once 64 KiB are queued in the stall (the window is still
#             open, data in flight) the reader sets SO_RCVBUF 16384 on the
#             live socket (what a userspace governor does): the queue is
#             over the new limit, in-flight data is refused; the sender has
#             to recover.  Refused means dropped over the limit (RcvQDrop,
#             RcvPruned) or, once an ACK has announced the zero window
#             (with 0005 that can be the first one), dropped outside it
#             (TCPZeroWindowDrop).  With netem there is always data in
#             flight: a refusal is asserted; over the tbf fallback the
#             counters are only reported
#   locked    SO_RCVBUF 65536 set before accept (locked from the start)
#   pressure  net.ipv4.tcp_mem set just above what TCP uses now (memory
#             pressure; tcp_mem is global, so only where
#             RCVGOV_KSFT_GLOBAL_SYSCTL=1, i.e. in the test VM)
#   reorder   netem reorder 25% on the sender side (out-of-order queue)
#   ipv6      the stall scenario over IPv6
# Pass: every byte in order, FIN seen, both ends report no error.
# Env: RCVGOV_KSFT_LIVE_BYTES (default 2097152), RCVGOV_KSFT_LIVE_STALL
# (seconds, default 8), RCVGOV_KSFT_LIVE_SCENARIOS (a subset, for debugging).
# shellcheck source-path=SCRIPTDIR source=lib.sh disable=SC2154 # ksft_bin sets stream/helper
. "$(dirname "$0")/lib.sh"
scenarios=${RCVGOV_KSFT_LIVE_SCENARIOS:-stall clamp locked pressure reorder ipv6}
plan=()
for s in $scenarios; do plan+=("${s}_shrink1" "${s}_shrink2"); done
ksft_require_root "${plan[@]}"
ktap_plan "${plan[@]}"
if ! ksft_bin stream tcp_stream; then
	ktap_missing_rest "setup: no tcp_stream and no gcc"
	ktap_finish
fi
command -v tc >/dev/null || { ktap_missing_rest "setup: no tc (iproute2)"; ktap_finish; }

bytes=${RCVGOV_KSFT_LIVE_BYTES:-2097152}
stall=${RCVGOV_KSFT_LIVE_STALL:-8}
stall_at=$((bytes / 4))
rx_mibs=(TCPRcvQDrop RcvPruned PruneCalled TCPRcvCollapsed OfoPruned TCPOFOQueue TCPToZeroWindowAdv TCPZeroWindowDrop)
tx_mibs=(TCPTimeouts TCPLossProbes TCPWinProbe)

# The delay comes from netem.  A kernel without netem (the host's 6.18 has
# none) gets a tbf rate limit instead: its queue holds up to 20 ms of data
# under the bulk transfer, so the RTT still grows to tens of ms (the RTO
# is 200 ms and up either way); said loudly, and "reorder" needs netem.
have_netem=1
netns_new probe_ns liveprobe
ip -n "$probe_ns" link add kp0 type veth peer name kp1 && ip -n "$probe_ns" link set kp0 up
if ! tc -n "$probe_ns" qdisc add dev kp0 root netem delay 10ms 2>/dev/null; then
	have_netem=0
	echo "# WARNING: no netem qdisc in this kernel: delay from a tbf queue (200 mbit, 20 ms) instead; reorder cannot run"
fi
netns_del "$probe_ns"
live_qdisc() { # ns dev netem-args
	if [ "$have_netem" = 1 ]; then
		# shellcheck disable=SC2086
		tc -n "$1" qdisc add dev "$2" root netem $3 limit 10000
	else
		ksft_tbf_qdisc "$1" "$2"
	fi
}

tcp_mem_saved=""
# shellcheck disable=SC2317 # the EXIT trap
live_cleanup() {
	[ -z "$tcp_mem_saved" ] || echo "$tcp_mem_saved" > /proc/sys/net/ipv4/tcp_mem
	ksft_cleanup
}
trap live_cleanup EXIT

live_case() { # scenario shrink
	local sc=$1 sh=$2 st=${1}_shrink$2 nss nsr a rx tx rxo txo rpid spid rrc src
	local r0 r1 t0 t1 d ropt=() delay_s="delay 10ms" v6="" secs0=$SECONDS
	if [ "$sc" = pressure ] && [ "${RCVGOV_KSFT_GLOBAL_SYSCTL:-0}" != 1 ]; then
		# not a kernel feature: tcp_mem is one value for the whole host
		ktap_skip "$st" "setup: tcp_mem is global (RCVGOV_KSFT_GLOBAL_SYSCTL=1 in a VM)"
		return
	fi
	netns_new nss lives
	netns_new nsr liver
	[ "$sc" = ipv6 ] && v6="fd79::1/64 fd79::2/64"
	# shellcheck disable=SC2086 # two addresses or none
	if ! nl_veth "$nss" vls 10.79.0.1/24 "$nsr" vlr 10.79.0.2/24 $v6; then
		ktap_fail "$st" "setup: veth"
		netns_del "$nss" "$nsr"
		return
	fi
	if ! ksft_shrink "$nsr" "$sh"; then
		ktap_missing "$st" "$KSFT_WHY"
		netns_del "$nss" "$nsr"
		return
	fi
	if [ "$sc" = reorder ] && [ "$have_netem" = 0 ]; then
		ktap_missing "$st" "no-qdisc netem (reorder)"
		netns_del "$nss" "$nsr"
		return
	fi
	[ "$sc" = reorder ] && delay_s="delay 10ms reorder 25% 50%"
	# shellcheck disable=SC2086
	if ! ip -n "$nss" link set vls txqueuelen 10000 ||
		! live_qdisc "$nss" vls "$delay_s" || ! live_qdisc "$nsr" vlr "delay 10ms"; then
		ktap_fail "$st" "setup: qdisc"
		netns_del "$nss" "$nsr"
		return
	fi
	ns_sysctl "$nsr" net/ipv4/tcp_rmem "4096 131072 1048576"
	ns_sysctl "$nss" net/ipv4/tcp_retries2 4
	case $sc in
	clamp) ropt=(--clamp 16384 --clamp-rmem 65536) ;;
	locked) ropt=(--rcvbuf 65536) ;;
	pressure)
		local used
		used=$(awk '/^TCP:/ { for (i = 2; i < NF; i++) if ($i == "mem") print $(i + 1) }' /proc/net/sockstat)
		tcp_mem_saved=$(cat /proc/sys/net/ipv4/tcp_mem)
		echo "$((used + 32)) $((used + 64)) $((used + 384))" > /proc/sys/net/ipv4/tcp_mem
		echo "# tcp_mem $(cat /proc/sys/net/ipv4/tcp_mem) (pages; TCP used $used)"
		;;
	esac
	a=10.79.0.2
	[ "$sc" = ipv6 ] && a=fd79::2
	rxo=$(mktemp) txo=$(mktemp)
	r0=$(ksft_mibs "$nsr" "${rx_mibs[@]}")
	t0=$(ksft_mibs "$nss" "${tx_mibs[@]}")
	ip netns exec "$nsr" "$stream" -n "$bytes" --stall-at "$stall_at" --stall-secs "$stall" \
		-T $((stall + 40)) "${ropt[@]}" recv "$a" 7100 > "$rxo" &
	rpid=$!
	ip netns exec "$nss" "$stream" -n "$bytes" -T $((stall + 40)) send "$a" 7100 > "$txo" &
	spid=$!
	wait $spid
	src=$?
	# a sender that gave up: the reader would only wait for its timeout
	[ $src = 0 ] || { sleep 2; kill $rpid 2>/dev/null; }
	wait $rpid
	rrc=$?
	[ $src = 0 ] || [ $rrc != 143 ] || echo "recv_result=killed (the sender gave up)" >> "$rxo"
	if [ -n "$tcp_mem_saved" ]; then
		echo "$tcp_mem_saved" > /proc/sys/net/ipv4/tcp_mem
		tcp_mem_saved=""
	fi
	r1=$(ksft_mibs "$nsr" "${rx_mibs[@]}")
	t1=$(ksft_mibs "$nss" "${tx_mibs[@]}")
	ksft_show "$rxo"
	ksft_show "$txo"
	d=$(ksft_mib_delta "$r0" "$r1")
	echo "# $st receiver: $d"
	echo "# $st sender: $(ksft_mib_delta "$t0" "$t1") ($((SECONDS - secs0)) s)"
	rx=$(ksft_kv "$rxo" recv_result)
	tx=$(ksft_kv "$txo" send_result)
	rm -f "$rxo" "$txo"
	netns_del "$nss" "$nsr"
	if [ "$rrc" != 0 ] || [ "$src" != 0 ] || [ "$rx" != ok ] || [ "$tx" != ok ]; then
		ktap_fail "$st" "live $sc send=${tx:-rc$src} recv=${rx:-rc$rrc}"
	elif [ "$sc" = clamp ] && [ "$have_netem" = 1 ] &&
		[ $(($(ksft_field "$d" TCPRcvQDrop) + $(ksft_field "$d" RcvPruned) +
			$(ksft_field "$d" TCPZeroWindowDrop))) -eq 0 ]; then
		ktap_fail "$st" "live clamp no-drop (TCPRcvQDrop, RcvPruned, TCPZeroWindowDrop +0)"
	else
		ktap_ok "$st"
	fi
}

for s in $scenarios; do
	live_case "$s" 1
	live_case "$s" 2
done
ktap_finish
