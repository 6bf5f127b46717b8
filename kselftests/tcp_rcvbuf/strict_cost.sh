#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# What strict mode costs: the same transfers with tcp_shrink_window=0, 1
# and 2, in one run, over veth with netem delay (5 ms each way; a kernel
# without netem gets a 1 gbit tbf queue instead, said so).  Prints one
# table; not a pass/fail test (exit 0 once every row was measured, 4 when
# nothing could run, 1 when a transfer failed).
#
#   bulk     the reader reads as fast as it can
#   paced    the reader reads 16 KiB every 2 ms (~8 MB/s): the queue stays
#            full, the window closes and opens (prune/collapse churn)
#   blog     the Cloudflare pair: 1448 B/ms sender, 1 B/ms reader
# Columns: MB/s received; sk_rcvbuf maximum; the receiver netns' counter
# deltas (PruneCalled, TCPRcvCollapsed, RcvPruned, TCPRcvQDrop, OfoPruned,
# TCPToZeroWindowAdv); CPU ms of the two processes (user + sys; veth
# delivers in the sender's context, so both are counted).
# Env: RCVGOV_COST_SECS per run (default 5); RCVGOV_KSFT_BIN as the tests.
# usage: strict_cost.sh [--scenarios "bulk paced blog"] [--shrink "0 1 2"]
# shellcheck source-path=SCRIPTDIR source=lib.sh disable=SC2154 # ksft_bin sets stream/helper
. "$(dirname "$0")/lib.sh"
scenarios="bulk paced blog" shrinks="0 1 2"
while [ $# -gt 0 ]; do
	case $1 in
	--scenarios) scenarios=$2; shift ;;
	--shrink) shrinks=$2; shift ;;
	*) echo "usage: $0 [--scenarios LIST] [--shrink LIST]" >&2; exit 2 ;;
	esac
	shift
done
[ "$(id -u)" = 0 ] || nl_skip "needs root"
ksft_bin stream tcp_stream || nl_skip "no tcp_stream and no gcc"
secs=${RCVGOV_COST_SECS:-5}
mibs="PruneCalled TCPRcvCollapsed RcvPruned TCPRcvQDrop OfoPruned TCPToZeroWindowAdv"

# netem 5 ms, or (said once) a 1 gbit tbf queue with 10 ms of latency
qdisc() { ksft_delay_qdisc "$1" "$2" "delay 5ms" "rate 1gbit burst 64k latency 10ms"; }

row() { # scenario shrink
	local nss nsr rxo txo m0 m1 d ropt sopt b t mbs
	netns_new nss costs
	netns_new nsr costr
	nl_veth "$nss" vcs 10.81.0.1/24 "$nsr" vcr 10.81.0.2/24 || return 1
	qdisc "$nss" vcs && qdisc "$nsr" vcr || return 1
	ns_sysctl "$nsr" net/ipv4/tcp_rmem "4096 131072 8388608"
	if [ "$1" = blog ]; then ns_sysctl "$nsr" net/ipv4/tcp_rmem "4096 131072 268435456"; fi
	if ! ksft_shrink "$nsr" "$2"; then
		printf '%-6s %6s  %s\n' "$1" "$2" "n/a ($KSFT_WHY)"
		netns_del "$nss" "$nsr"
		return 0
	fi
	case $1 in
	bulk) ropt=(-c 65536) sopt=(-c 65536) ;;
	paced) ropt=(-c 16384 -i 2000) sopt=(-c 65536) ;;
	blog) ropt=(-c 1 -i 1000) sopt=(-c 1448 -i 1000) ;;
	esac
	rxo=$(mktemp) txo=$(mktemp)
	# shellcheck disable=SC2086 # a list of names
	m0=$(ksft_mibs "$nsr" $mibs)
	ip netns exec "$nsr" "$stream" -t "$secs" -T $((secs + 20)) "${ropt[@]}" recv 10.81.0.2 7300 > "$rxo" &
	ip netns exec "$nss" "$stream" -t $((secs + 1)) -T $((secs + 20)) "${sopt[@]}" send 10.81.0.2 7300 > "$txo"
	wait $!
	# shellcheck disable=SC2086
	m1=$(ksft_mibs "$nsr" $mibs)
	d=$(ksft_mib_delta "$m0" "$m1")
	b=$(ksft_kv "$rxo" recv_bytes)
	t=$(ksft_kv "$rxo" recv_secs)
	mbs=$(awk -v b="${b:-0}" -v t="${t:-0}" 'BEGIN { printf "%.1f", (t > 0 ? b / t / 1e6 : 0) }')
	printf '%-6s %6s %8s %10s' "$1" "$2" "$mbs" "$(ksft_kv "$rxo" recv_rcvbuf_max)"
	for m in $mibs; do printf ' %9s' "$(ksft_field "$d" "$m")"; done
	printf ' %7s\n' $(($(ksft_kv "$rxo" recv_cpu_ms) + $(ksft_kv "$txo" send_cpu_ms)))
	[ "$(ksft_kv "$rxo" recv_result)" = ok ] || failed+=" $1/$2"
	rm -f "$rxo" "$txo"
	netns_del "$nss" "$nsr"
}

failed=""
echo "# strict mode cost: kernel $(uname -r), ${secs} s per run, veth + 5 ms delay each way"
printf '%-6s %6s %8s %10s %9s %9s %9s %9s %9s %9s %7s\n' scen shrink MB/s rcvbuf_max \
	PruneCall Collapsed RcvPruned RcvQDrop OfoPruned ZeroWin cpu_ms
for s in $scenarios; do
	for k in $shrinks; do
		row "$s" "$k" || failed+=" $s/$k(setup)"
	done
done
if [ -n "$failed" ]; then
	echo "# failed:$failed"
	exit 1
fi
exit 0
