#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Shared helpers for the tcp_rcvbuf kselftests: KTAP output, kselftest exit
# codes, per-test network namespaces, the scripted-peer helper binary.
# Namespaces, sysctls and the skip policy come from netns_lib.sh next to
# this file (this directory only relies on itself).
#
# Environment:
#   RCVGOV_KSFT_BIN      directory of the built helpers (rcvbuf_helper,
#                        tcp_stream; default: next to the test, then
#                        $PATH, else built with gcc into a temp dir that
#                        is removed on exit)
#   RCVGOV_KSFT_NO_SKIP  1 = a missing kernel feature is a failure, not a
#                        skip (the VM runner sets it for the unpatched
#                        kernel, where "fails before" must be shown)

# KSFT_PASS, KSFT_FAIL, KSFT_SKIP and the nl_* functions.
# shellcheck source-path=SCRIPTDIR source=netns_lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/netns_lib.sh"

ksft_n=0 ksft_pass=0 ksft_fail=0 ksft_skip=0
ksft_name=$(basename "$0" .sh)
ksft_dir=$(cd "$(dirname "$0")" && pwd)
ksft_plan=()  # the subtests announced by ktap_plan, in order
ksft_done=" " # the subtests reported so far

# KTAP.  Every subtest that does not pass prints, right before its
# "not ok"/"ok ... # SKIP" line, one line
#   # SIGNATURE <test>.<subtest> <why>
# that says why, in a fixed form (e.g. "retract_ack unacked=100",
# "no-sysctl tcp_shrink_window=2 rejected"): scripts/kernel/ktap_verdict.py
# matches it against kselftests/tcp_rcvbuf/expected.txt, so an expected
# failure only counts as expected for the expected reason.
ktap_plan() { # subtest...: the header, with the plan taken from the list
	ksft_plan=("$@")
	echo "TAP version 13"
	echo "1..$#"
}
ktap_signature() { echo "# SIGNATURE $ksft_name.$1 $2"; }
_ktap_line() { # subtest status-text
	ksft_n=$((ksft_n + 1))
	ksft_done+="$1 "
	echo "$2 $ksft_n $ksft_name.$1${3:+ $3}"
}
ktap_ok() { ksft_pass=$((ksft_pass + 1)); _ktap_line "$1" ok; }
ktap_fail() { # subtest signature
	ksft_fail=$((ksft_fail + 1))
	ktap_signature "$1" "${2:-unspecified}"
	_ktap_line "$1" "not ok"
}
ktap_skip() { # subtest reason (the reason is the signature too)
	ksft_skip=$((ksft_skip + 1))
	ktap_signature "$1" "$2"
	_ktap_line "$1" ok "# SKIP $2"
}
# a missing kernel feature: skip, or fail under RCVGOV_KSFT_NO_SKIP=1
ktap_missing() { # subtest signature
	if nl_skip_is_fail; then ktap_fail "$1" "$2"; else ktap_skip "$1" "$2"; fi
}
# every planned subtest not reported yet: missing (skip or fail)
ktap_missing_rest() { # signature
	local st
	for st in "${ksft_plan[@]}"; do
		case $ksft_done in *" $st "*) ;; *) ktap_missing "$st" "$1" ;; esac
	done
}
ktap_result() { # subtest rc-of-a-helper [signature-of-rc-1]
	case $2 in
	0) ktap_ok "$1" ;;
	1) ktap_fail "$1" "${3:-helper rc=1}" ;;
	4) ktap_missing "$1" "setup: the scenario could not be set up" ;;
	*) ktap_fail "$1" "helper rc=$2" ;; # a crash (128+signal) or a usage error
	esac
}
ktap_finish() {
	# the plan is kept whatever happened: a subtest never reported fails
	local st
	for st in "${ksft_plan[@]}"; do
		case $ksft_done in *" $st "*) ;; *) ktap_fail "$st" "not-run" ;; esac
	done
	if [ "$ksft_n" -ne "${#ksft_plan[@]}" ]; then
		echo "# $ksft_name: $ksft_n results for a plan of ${#ksft_plan[@]}"
		ksft_fail=$((ksft_fail + 1))
	fi
	echo "# $ksft_name: pass $ksft_pass fail $ksft_fail skip $ksft_skip"
	if [ "$ksft_fail" -gt 0 ]; then exit $KSFT_FAIL; fi
	if [ "$ksft_pass" -eq 0 ] && [ "$ksft_skip" -gt 0 ]; then exit $KSFT_SKIP; fi
	exit $KSFT_PASS
}

# every netns of the test, and what still runs in it, goes on exit
ksft_cleanup() {
	nl_ns_cleanup
	[ -z "$ksft_tmpbin" ] || rm -rf "$ksft_tmpbin"
}
trap ksft_cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

ksft_require_root() { # the planned subtests
	local st why="" res=ktap_skip
	if [ "$(id -u)" != 0 ]; then
		why="setup: needs root"
	elif [ ! -e /proc/self/ns/net ]; then
		why="no-netns (CONFIG_NET_NS)"
	elif ! nl_ns_add "rcvgov-probe-$$" 2>/dev/null; then
		# root, and the kernel has netns: a broken environment
		why="setup: cannot create network namespaces" res=ktap_fail
	fi
	if [ -n "$why" ]; then
		ktap_plan "$@"
		for st in "$@"; do "$res" "$st" "$why"; done
		ktap_finish
	fi
	nl_ns_del "rcvgov-probe-$$"
}

netns_new() { nl_ns_new "$@"; } # VAR prefix: creates a netns, registered for cleanup
netns_del() { nl_ns_del "$@"; } # ns: kills what runs in it, deletes it
# write a sysctl inside a netns; returns non-zero if the kernel refuses it
ns_sysctl() { nl_sysctl_set "$1" "$2" "$3" 2>/dev/null; } # ns path value
ns_has_sysctl() { nl_sysctl_exists "$1" "$2"; }
# a TcpExt/IpExt counter of the netns
ns_mib() { # ns name
	ip netns exec "$1" cat /proc/net/netstat | awk -v n="$2" '
		NR % 2 == 1 { for (i = 2; i <= NF; i++) h[i] = $i; next }
		{ for (i = 2; i <= NF; i++) if (h[i] == n) v = $i }
		END { print v + 0 }'
}

# ksft_tbf_qdisc NS DEV [TBF]: the delay where the kernel has no netem: a
# tbf queue, by default 200 mbit holding up to 20 ms of data, so bulk data
# still sees an RTT of tens of ms (the RTO is 200 ms and up either way)
ksft_tbf_qdisc() {
	# shellcheck disable=SC2086 # TBF is an argument list
	tc -n "$1" qdisc add dev "$2" root tbf ${3:-rate 200mbit burst 32k latency 20ms}
}
# ksft_delay_qdisc NS DEV NETEM [TBF]: netem NETEM (limit 10000) on DEV,
# or where netem is absent ksft_tbf_qdisc, said loudly once per test
ksft_delay_qdisc() {
	# shellcheck disable=SC2086 # NETEM is an argument list
	tc -n "$1" qdisc add dev "$2" root netem $3 limit 10000 2>/dev/null && return 0
	if [ -z "${ksft_tbf_said:-}" ]; then
		echo "# WARNING: no netem qdisc in this kernel: delay from a tbf queue (${4:-rate 200mbit burst 32k latency 20ms}) instead"
		ksft_tbf_said=1
	fi
	ksft_tbf_qdisc "$1" "$2" "${4:-}"
}

# ksft_bin VAR NAME: VAR = path of the program built from NAME.c by the
# Makefile (TEST_GEN_FILES): in $RCVGOV_KSFT_BIN, next to the test, on
# $PATH, else compiled with gcc into a private directory that goes when the
# test ends.  Returns 1 when there is none and no gcc.  No subshell: the
# directory must be known to the EXIT trap.
ksft_tmpbin=""
ksft_bin() {
	local d p=""
	for d in ${RCVGOV_KSFT_BIN:+"$RCVGOV_KSFT_BIN"} "$ksft_dir"; do
		if [ -x "$d/$2" ]; then p=$d/$2; break; fi
	done
	[ -n "$p" ] || p=$(command -v "$2") || p=""
	if [ -z "$p" ]; then
		command -v gcc >/dev/null || return 1
		if [ -z "$ksft_tmpbin" ]; then ksft_tmpbin=$(mktemp -d) || return 1; fi
		gcc -O2 -Wall -o "$ksft_tmpbin/$2" "$ksft_dir/$2.c" >&2 || return 1
		p=$ksft_tmpbin/$2
	fi
	printf -v "$1" %s "$p"
}

# ksft_shrink NS VALUE: set net.ipv4.tcp_shrink_window in NS; when the
# kernel has no such sysctl or refuses the value, return 1 with the
# signature in KSFT_WHY ("no-sysctl tcp_shrink_window absent" or
# "no-sysctl tcp_shrink_window=VALUE rejected").
# shellcheck disable=SC2034 # KSFT_WHY is for the tests
ksft_shrink() {
	KSFT_WHY=""
	if ! ns_has_sysctl "$1" net/ipv4/tcp_shrink_window; then
		KSFT_WHY="no-sysctl tcp_shrink_window absent"
		return 1
	fi
	if ! ns_sysctl "$1" net/ipv4/tcp_shrink_window "$2"; then
		KSFT_WHY="no-sysctl tcp_shrink_window=$2 rejected"
		return 1
	fi
}

# ksft_kv FILE KEY: the value of the last "KEY=value" line a helper printed
ksft_kv() { sed -n "s/^$2=//p" "$1" | tail -n 1; }
# ksft_show FILE: a helper's output as KTAP diagnostics
ksft_show() { sed 's/^\([^#]\)/# \1/' "$1"; }

# ksft_mibs NS NAME...: the TcpExt/IpExt counters of NS, "NAME=VALUE ..."
# on one line (one pass over /proc/net/netstat)
ksft_mibs() {
	local ns=$1
	shift
	ip netns exec "$ns" cat /proc/net/netstat | awk -v want="$*" '
		NR % 2 == 1 { for (i = 2; i <= NF; i++) h[i] = $i; next }
		{ for (i = 2; i <= NF; i++) v[h[i]] = $i }
		END { n = split(want, w, " "); for (i = 1; i <= n; i++) printf "%s%s=%d", (i > 1 ? " " : ""), w[i], v[w[i]]; print "" }'
}
# ksft_mib_delta BEFORE AFTER: "NAME=+D ..." from two ksft_mibs lines
ksft_mib_delta() {
	awk -v a="$1" -v b="$2" 'BEGIN {
		n = split(a, x, " "); split(b, y, " ")
		for (i = 1; i <= n; i++) {
			split(x[i], p, "="); split(y[i], q, "=")
			printf "%s%s=%d", (i > 1 ? " " : ""), p[1], q[2] - p[2]
		}
		print ""
	}'
}
# ksft_field LINE NAME: NAME's value in a "NAME=VALUE ..." line
ksft_field() { tr ' ' '\n' <<<"$1" | sed -n "s/^$2=//p"; }
