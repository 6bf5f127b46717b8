#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# tcp:tcp_rcvbuf_prune tracepoint (patch 0003); the ABI is docs/kernel.md's
# "Tracepoint ABI" section.
#
#   event    the event exists with the documented fields and action names
#   btf      enum tcp_rcvbuf_prune_action is in vmlinux BTF (bpftool)
#   raised   shrink=1, IPv4 (tun peer, non-coalescing segments, see
#            tcp_strict_clamp.sh): TCP_RCVBUF_RAISED with rcvbuf_new >
#            rcvbuf_old; addresses, ports, skaddr, wscale and sock_cookie
#            (= the socket's SO_COOKIE) are those of the socket
#   held     shrink=2, same scenario: TCP_RCVBUF_HELD_STRICT,
#            rcvbuf_new == rcvbuf_old, never RAISED
#   locked   shrink=1, SO_RCVBUF set on the listener: TCP_RCVBUF_HELD_LOCKED,
#            never RAISED, never HELD_STRICT
#   ipv6     an IPv6 stream over veth (10 ms each way) whose reader
#            stalls and, once 64 KiB are queued, clamps SO_RCVBUF to
#            16384 (in-flight data no longer fits): events
#            with family=AF_INET6 and the stream's addresses;
#            TCP_RCVBUF_DROPPED when the kernel counted a drop
#            (TCPRcvQDrop), and DROPPED or FORCED when a prune failed
#            (RcvPruned: the segment was then dropped, or charged over the
#            limit because its ACK must carry the zero window, 0005)
# Events are recorded in a private tracefs instance, filtered on the test
# socket's local port (nothing else on the machine is counted).
# shellcheck source-path=SCRIPTDIR source=lib.sh disable=SC2154 # ksft_bin sets stream/helper
. "$(dirname "$0")/lib.sh"
subtests=(event btf raised held locked ipv6)
ksft_require_root "${subtests[@]}"
ktap_plan "${subtests[@]}"
if ! ksft_bin helper rcvbuf_helper || ! ksft_bin stream tcp_stream; then
	ktap_missing_rest "setup: no rcvbuf_helper/tcp_stream and no gcc"
	ktap_finish
fi

tr=""
for d in /sys/kernel/tracing /sys/kernel/debug/tracing; do
	[ -d "$d/events" ] && { tr=$d; break; }
done
if [ -z "$tr" ] && [ -d /sys/kernel/tracing ]; then
	mount -t tracefs nodev /sys/kernel/tracing 2>/dev/null && tr=/sys/kernel/tracing
fi
if [ -z "$tr" ]; then
	ktap_missing_rest "no-tracefs"
	ktap_finish
fi
ev=events/tcp/tcp_rcvbuf_prune
if [ ! -d "$tr/$ev" ]; then
	ktap_missing_rest "no-tracepoint tcp:tcp_rcvbuf_prune"
	ktap_finish
fi

# --- event: the format is the documented ABI ---------------------------
fields="skaddr sock_cookie saddr daddr sport dport family rcv_wscale size rmem_alloc rmem_alloc_after rcvbuf_old rcvbuf_new rcv_wnd rcv_ssthresh window_clamp action"
names="TCP_RCVBUF_RAISED TCP_RCVBUF_HELD_STRICT TCP_RCVBUF_HELD_LOCKED TCP_RCVBUF_HELD_MEM TCP_RCVBUF_HELD_MAX TCP_RCVBUF_MEM_PRESSURE TCP_RCVBUF_COLLAPSED TCP_RCVBUF_OFO_PRUNED TCP_RCVBUF_DROPPED TCP_RCVBUF_FORCED"
fmt=$(cat "$tr/$ev/format")
missing=""
for f in $fields; do
	grep -q "field:[^;]*[ *]$f\(\[[0-9]*\]\)\?;" <<<"$fmt" || missing+=" $f"
done
for n in $names; do
	grep -q "$n" <<<"$fmt" || missing+=" $n"
done
grep -q 'field:[^;]* shrink_window;' <<<"$fmt" && missing+=" (has the old shrink_window field)"
if [ -z "$missing" ]; then ktap_ok event; else
	printf '%s\n' "$fmt" | sed 's/^/#   /'
	ktap_fail event "trace format lacks$missing"
fi

# --- btf: the action enum is in vmlinux BTF ------------------------------
if [ ! -r /sys/kernel/btf/vmlinux ]; then
	ktap_missing btf "no-btf /sys/kernel/btf/vmlinux"
elif ! command -v bpftool >/dev/null; then
	ktap_fail btf "setup: no bpftool (apt-get install bpftool)"
else
	enum=$(bpftool btf dump file /sys/kernel/btf/vmlinux format raw 2>/dev/null |
		awk '/^\[[0-9]+\] ENUM .tcp_rcvbuf_prune_action./ { on = 1; print; next }
			on && /^\[/ { exit } on { print }')
	printf '%s\n' "$enum" | sed 's/^/#   /'
	bad=""
	for n in $names; do grep -q "'$n' val=" <<<"$enum" || bad+=" $n"; done
	if [ -z "$enum" ]; then ktap_fail btf "btf no enum tcp_rcvbuf_prune_action"
	elif [ -n "$bad" ]; then ktap_fail btf "btf enum lacks$bad"
	else ktap_ok btf; fi
fi

inst=$tr/instances/rcvgov-ksft-$$
if ! mkdir "$inst"; then
	ktap_missing_rest "setup: cannot create a tracefs instance"
	ktap_finish
fi
# shellcheck disable=SC2317 # the EXIT trap
trace_cleanup() {
	echo 0 > "$inst/$ev/enable" 2>/dev/null
	rmdir "$inst" 2>/dev/null
	ksft_cleanup
}
trap trace_cleanup EXIT

trace_on() { # port: only this socket's events
	echo 0 > "$inst/$ev/enable"
	echo > "$inst/trace"
	echo "sport == $1" > "$inst/$ev/filter" || return 1
	echo 1 > "$inst/$ev/enable"
}
trace_off() { # -> $events
	echo 0 > "$inst/$ev/enable"
	events=$(grep -a 'tcp_rcvbuf_prune:' "$inst/trace")
	nev=$(grep -c . <<<"$events")
	[ -n "$events" ] || nev=0
	echo "# $nev events; first and last:"
	printf '%s\n' "$events" | sed -n '1p;$p' | sed 's/^ */#   /'
}
evfield() { sed -n "s/.* $2=\([^ ]*\).*/\1/p" <<<"$1"; } # line field

# --- raised / held / locked: the tun scenario ---------------------------
tun_case() { # subtest shrink flag [SO_RCVBUF]
	local st=$1 ns out e old new cookie
	netns_new ns trace
	if ! ksft_shrink "$ns" "$2"; then
		ktap_missing "$st" "$KSFT_WHY"
		netns_del "$ns"
		return
	fi
	out=$(mktemp)
	trace_on 5000 || { ktap_fail "$st" "setup: tracefs filter"; return; }
	ip netns exec "$ns" "$helper" clamp 400 ${4:+"$4"} > "$out"
	trace_off
	netns_del "$ns"
	ksft_show "$out" | grep -E 'clamp: (rcvbuf|Prune)|sock_cookie'
	cookie=$(ksft_kv "$out" sock_cookie)
	rm -f "$out"
	if [ "$nev" -eq 0 ]; then ktap_fail "$st" "trace no-events"; return; fi
	e=$(grep -m1 "action=[A-Z_|]*$3" <<<"$events")
	if [ -z "$e" ]; then ktap_fail "$st" "trace no $3 event"; return; fi
	if ! grep -q 'family=AF_INET src=10.77.0.1:5000 dest=10.77.0.2:40000 ' <<<"$e" ||
		[ "$(evfield "$e" sock_cookie)" != "$cookie" ] ||
		! [[ $(evfield "$e" skaddr) =~ ^(0x)?0*[1-9a-f] ]] ||
		! [[ $(evfield "$e" rcv_wscale) =~ ^[1-9] ]]; then
		ktap_fail "$st" "trace bad identity (cookie $(evfield "$e" sock_cookie), socket $cookie)"
		return
	fi
	old=$(evfield "$e" rcvbuf_old)
	new=$(evfield "$e" rcvbuf_new)
	case $3 in
	TCP_RCVBUF_RAISED)
		if [ "$new" -gt "$old" ]; then ktap_ok "$st"
		else ktap_fail "$st" "trace raised-not-raised $old->$new"; fi ;;
	TCP_RCVBUF_HELD_STRICT)
		if [ "$new" -eq "$old" ] && ! grep -q TCP_RCVBUF_RAISED <<<"$events"; then ktap_ok "$st"
		else ktap_fail "$st" "trace raised in strict mode"; fi ;;
	TCP_RCVBUF_HELD_LOCKED)
		if grep -q -E 'TCP_RCVBUF_RAISED|TCP_RCVBUF_HELD_STRICT' <<<"$events"; then
			ktap_fail "$st" "trace locked socket raised or held-strict"
		else ktap_ok "$st"; fi ;;
	esac
}
tun_case raised 1 TCP_RCVBUF_RAISED
tun_case held 2 TCP_RCVBUF_HELD_STRICT
tun_case locked 1 TCP_RCVBUF_HELD_LOCKED 65536

# --- ipv6: a stalled IPv6 reader that clamps its buffer -----------------
ipv6_case() {
	local nss nsr rxo m0 m1 d drops failed e
	netns_new nss tr6s
	netns_new nsr tr6r
	if ! nl_veth "$nss" v6s 10.80.0.1/24 "$nsr" v6r 10.80.0.2/24 fd80::1/64 fd80::2/64; then
		ktap_fail ipv6 "setup: veth"
		return
	fi
	# 10 ms each way, and the clamp once 64 KiB are queued in the stall:
	# data is then in flight, inside the window, when the buffer shrinks,
	# so segments arrive over the new limit and prune runs.  On a bare
	# veth the 1-CPU VM often had the queue full and the window closed
	# when the reader stalled: nothing arrived until it read again, and
	# nothing was pruned (PruneCalled +0).
	if ! ksft_delay_qdisc "$nss" v6s "delay 10ms" ||
		! ksft_delay_qdisc "$nsr" v6r "delay 10ms"; then
		ktap_fail ipv6 "setup: qdisc"
		netns_del "$nss" "$nsr"
		return
	fi
	ns_sysctl "$nsr" net/ipv4/tcp_rmem "4096 131072 1048576"
	rxo=$(mktemp)
	m0=$(ksft_mibs "$nsr" TCPRcvQDrop RcvPruned PruneCalled)
	trace_on 7200 || { ktap_fail ipv6 "setup: tracefs filter"; return; }
	ip netns exec "$nsr" "$stream" -n 4194304 --stall-at 1048576 --stall-secs 2 \
		--clamp 16384 --clamp-rmem 65536 -T 60 recv fd80::2 7200 > "$rxo" &
	ip netns exec "$nss" "$stream" -n 4194304 -T 60 send fd80::2 7200 > /dev/null
	wait $!
	trace_off
	m1=$(ksft_mibs "$nsr" TCPRcvQDrop RcvPruned PruneCalled)
	d=$(ksft_mib_delta "$m0" "$m1")
	grep -h 'SO_RCVBUF clamped' "$rxo"
	echo "# receiver: $d; $(ksft_kv "$rxo" recv_result)"
	rm -f "$rxo"
	netns_del "$nss" "$nsr"
	drops=$(ksft_field "$d" TCPRcvQDrop)
	failed=$(ksft_field "$d" RcvPruned)
	if [ "$nev" -eq 0 ]; then ktap_fail ipv6 "trace no-events"; return; fi
	e=$(grep -m1 'family=AF_INET6 src=\[fd80::2\]:7200 dest=\[fd80::1\]:' <<<"$events")
	if [ -z "$e" ]; then ktap_fail ipv6 "trace no AF_INET6 event with the stream's addresses"; return; fi
	if [ "$nev" -ne "$(ksft_field "$d" PruneCalled)" ]; then
		ktap_fail ipv6 "trace events=$nev PruneCalled=$(ksft_field "$d" PruneCalled)"
	elif [ "$drops" -gt 0 ] && ! grep -q TCP_RCVBUF_DROPPED <<<"$events"; then
		ktap_fail ipv6 "trace TCPRcvQDrop=$drops without TCP_RCVBUF_DROPPED"
	elif [ "$failed" -gt 0 ] && ! grep -Eq 'TCP_RCVBUF_(DROPPED|FORCED)' <<<"$events"; then
		ktap_fail ipv6 "trace RcvPruned=$failed without TCP_RCVBUF_DROPPED or FORCED"
	else
		ktap_ok ipv6
	fi
}
ipv6_case
ktap_finish
