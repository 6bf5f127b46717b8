#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Shared helpers for the tcp_rcvbuf kselftests: KTAP output, kselftest exit
# codes, per-test network namespaces, the scripted-peer helper binary.
#
# Environment:
#   RCVGOV_KSFT_HELPER   path of rcvbuf_helper (default: next to the test,
#                        then $PATH, else built with gcc into $TMPDIR)
#   RCVGOV_KSFT_NO_SKIP  1 = a missing kernel feature is a failure, not a
#                        skip (the VM runner sets it for the unpatched
#                        kernel, where "fails before" must be shown)

KSFT_PASS=0
KSFT_FAIL=1
KSFT_SKIP=4

ksft_n=0 ksft_pass=0 ksft_fail=0 ksft_skip=0
ksft_name=$(basename "$0" .sh)
ksft_dir=$(cd "$(dirname "$0")" && pwd)
NETNS_LIST=()

ktap_header() { # number of subtests
	echo "TAP version 13"
	echo "1..$1"
}
ktap_ok() { ksft_n=$((ksft_n + 1)); ksft_pass=$((ksft_pass + 1)); echo "ok $ksft_n $ksft_name.$1"; }
ktap_fail() { ksft_n=$((ksft_n + 1)); ksft_fail=$((ksft_fail + 1)); echo "not ok $ksft_n $ksft_name.$1${2:+ # $2}"; }
ktap_skip() { ksft_n=$((ksft_n + 1)); ksft_skip=$((ksft_skip + 1)); echo "ok $ksft_n $ksft_name.$1 # SKIP $2"; }
# report a missing kernel feature: skip, or fail under RCVGOV_KSFT_NO_SKIP=1
ktap_missing() { # subtest reason
	if [ "${RCVGOV_KSFT_NO_SKIP:-0}" = 1 ]; then
		ktap_fail "$1" "kernel lacks the feature: $2"
	else
		ktap_skip "$1" "$2"
	fi
}
ktap_result() { # subtest rc-of-a-helper
	case $2 in
	0) ktap_ok "$1" ;;
	4) ktap_skip "$1" "scenario could not be set up (see above)" ;;
	*) ktap_fail "$1" ;;
	esac
}
ktap_finish() {
	echo "# $ksft_name: pass $ksft_pass fail $ksft_fail skip $ksft_skip"
	if [ "$ksft_fail" -gt 0 ]; then exit $KSFT_FAIL; fi
	if [ "$ksft_pass" -eq 0 ] && [ "$ksft_skip" -gt 0 ]; then exit $KSFT_SKIP; fi
	exit $KSFT_PASS
}

ksft_cleanup() {
	local ns
	for ns in "${NETNS_LIST[@]}"; do
		ip netns del "$ns" 2>/dev/null
	done
	NETNS_LIST=()
}
trap ksft_cleanup EXIT

ksft_require_root() {
	if [ "$(id -u)" != 0 ]; then
		ktap_header 1
		ktap_skip all "needs root"
		exit $KSFT_SKIP
	fi
	if ! ip netns add "rcvgov-probe-$$" 2>/dev/null; then
		ktap_header 1
		ktap_skip all "cannot create network namespaces"
		exit $KSFT_SKIP
	fi
	ip netns del "rcvgov-probe-$$"
}

netns_new() { # VAR prefix: creates a netns, registered for cleanup
	local _nn="$2-$$-$RANDOM"
	ip netns add "$_nn" || return 1
	NETNS_LIST+=("$_nn")
	ip -n "$_nn" link set lo up
	printf -v "$1" %s "$_nn"
}
netns_del() {
	local ns=$1 i
	ip netns del "$ns" 2>/dev/null
	for i in "${!NETNS_LIST[@]}"; do
		[ "${NETNS_LIST[$i]}" = "$ns" ] && unset 'NETNS_LIST[i]'
	done
}
# write a sysctl inside a netns; returns non-zero if the kernel refuses it
ns_sysctl() { # ns path value
	ip netns exec "$1" sh -c "echo '$3' > /proc/sys/$2" 2>/dev/null
}
ns_has_sysctl() { ip netns exec "$1" test -e "/proc/sys/$2"; }
# a TcpExt/IpExt counter of the netns
ns_mib() { # ns name
	ip netns exec "$1" cat /proc/net/netstat | awk -v n="$2" '
		NR % 2 == 1 { for (i = 2; i <= NF; i++) h[i] = $i; next }
		{ for (i = 2; i <= NF; i++) if (h[i] == n) v = $i }
		END { print v + 0 }'
}

ksft_helper() {
	local h=${RCVGOV_KSFT_HELPER:-}
	if [ -z "$h" ]; then
		if [ -x "$ksft_dir/rcvbuf_helper" ]; then h=$ksft_dir/rcvbuf_helper
		elif command -v rcvbuf_helper >/dev/null; then h=$(command -v rcvbuf_helper)
		elif command -v gcc >/dev/null; then
			h=${TMPDIR:-/tmp}/rcvbuf_helper.$$
			gcc -O2 -Wall -o "$h" "$ksft_dir/rcvbuf_helper.c" >&2 || return 1
		else
			return 1
		fi
	fi
	echo "$h"
}
