#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Shared helpers for the tcp_rcvbuf kselftests: KTAP output, kselftest exit
# codes, per-test network namespaces, the scripted-peer helper binary.
# Namespaces, sysctls and the skip policy come from netns_lib.sh next to
# this file (this directory only relies on itself).
#
# Environment:
#   RCVGOV_KSFT_HELPER   path of rcvbuf_helper (default: next to the test,
#                        then $PATH, else built with gcc into $TMPDIR)
#   RCVGOV_KSFT_NO_SKIP  1 = a missing kernel feature is a failure, not a
#                        skip (the VM runner sets it for the unpatched
#                        kernel, where "fails before" must be shown)

# KSFT_PASS, KSFT_FAIL, KSFT_SKIP and the nl_* functions.
# shellcheck source-path=SCRIPTDIR source=netns_lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/netns_lib.sh"

ksft_n=0 ksft_pass=0 ksft_fail=0 ksft_skip=0
ksft_name=$(basename "$0" .sh)
ksft_dir=$(cd "$(dirname "$0")" && pwd)

ktap_header() { # number of subtests
	echo "TAP version 13"
	echo "1..$1"
}
ktap_ok() { ksft_n=$((ksft_n + 1)); ksft_pass=$((ksft_pass + 1)); echo "ok $ksft_n $ksft_name.$1"; }
ktap_fail() { ksft_n=$((ksft_n + 1)); ksft_fail=$((ksft_fail + 1)); echo "not ok $ksft_n $ksft_name.$1${2:+ # $2}"; }
ktap_skip() { ksft_n=$((ksft_n + 1)); ksft_skip=$((ksft_skip + 1)); echo "ok $ksft_n $ksft_name.$1 # SKIP $2"; }
# report a missing kernel feature: skip, or fail under RCVGOV_KSFT_NO_SKIP=1
ktap_missing() { # subtest reason
	if nl_skip_is_fail; then
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

# every netns of the test, and what still runs in it, goes on exit
ksft_cleanup() { nl_ns_cleanup; }
trap ksft_cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

ksft_require_root() {
	if [ "$(id -u)" != 0 ]; then
		ktap_header 1
		ktap_skip all "needs root"
		exit $KSFT_SKIP
	fi
	if ! nl_ns_add "rcvgov-probe-$$" 2>/dev/null; then
		ktap_header 1
		ktap_skip all "cannot create network namespaces"
		exit $KSFT_SKIP
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
