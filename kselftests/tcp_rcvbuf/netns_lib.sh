#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# shellcheck disable=SC2034 # the constants are for the scripts that source this
#
# netns_lib.sh: the one implementation of the basics every rcvgov shell
# harness needs: throwaway network namespaces and their cleanup, bounded
# waits, skmem from ss, sysctls inside a namespace, and skips.
#
# Where it lives, and who uses it: this directory is copied as a unit into
# the kernel VMs and is meant to sit under tools/testing/selftests/net,
# where a test may only rely on its own directory; so the base lives here
# and the kselftests' lib.sh sources it next to itself. The repo's other
# harnesses source it by repo-relative path:
#   kselftests/tcp_rcvbuf/lib.sh   KTAP helpers for the kernel series' tests
#   tests/lib.sh                   root integration tests (and bench/)
#   scripts/lab.sh                 the netns lab (sender/reader pair, CSV)
# There is no other copy of these functions; see docs/building.md.
#
# Rules of this file: functions and variables only. No traps, no `set`
# options, no output and no commands run when it is sourced; it works
# under `set -euo pipefail` and without it. Every function returns its
# status (0 = success) rather than exiting, except wait_for and nl_skip,
# whose job is to end the script (through $NL_FATAL).
#
# Hooks, set by the sourcing script (all optional):
#   NL_LOG=FUNC         how a message is printed (default nl_log: stderr)
#   NL_FATAL=FUNC       how a fatal message ends the script (default
#                       nl_fatal: message on stderr, exit 1)
#   NL_WAIT_POLL=SECS   wait_for's retry period (default 0.1)
#   NL_WAIT_ALIVE=FUNC  run between wait_for's attempts; when it fails the
#                       wait is over (the lab stops when its reader dies)
#   NL_KILL_WAIT_MS=MS  how long processes in a namespace get after TERM
#                       before KILL on cleanup (default 1000)
#   NL_NS_SPARE="NAMES" command names (comm) never killed as "running in"
#                       a namespace (default: rcvgovd, see nl_ns_pids)
# Environment:
#   RCVGOV_NO_SKIP=1, RCVGOV_KSFT_NO_SKIP=1   a skip is a failure (exit 1)

# Kselftest exit codes.
KSFT_PASS=0
KSFT_FAIL=1
KSFT_SKIP=4

# Namespaces this script created (nl_ns_add, nl_ns_new), and name prefixes
# whose every namespace is ours (nl_ns_track_prefix).
NL_NS_LIST=()
NL_NS_PREFIXES=()

# ---- messages and time ---------------------------------------------------

nl_log() { printf '%s\n' "$*" >&2; }
nl_fatal() {
	printf '%s\n' "$*" >&2
	exit 1
}

# nl_clock_ms: milliseconds on the wall clock into NL_NOW_MS, without a
# subshell (bash >= 5 has EPOCHREALTIME; older ones get whole seconds).
nl_clock_ms() {
	if [ -n "${EPOCHREALTIME:-}" ]; then
		NL_NOW_MS=${EPOCHREALTIME/[.,]/}
		NL_NOW_MS=${NL_NOW_MS:0:${#NL_NOW_MS}-3}
	else
		NL_NOW_MS=$((SECONDS * 1000))
	fi
}
# nl_now_ms: the same, printed.
nl_now_ms() {
	nl_clock_ms
	echo "$NL_NOW_MS"
}

# ---- skips -----------------------------------------------------------------

# nl_skip_is_fail: true when skips must count as failures (RCVGOV_NO_SKIP=1
# or, the kselftests' name for it, RCVGOV_KSFT_NO_SKIP=1).
nl_skip_is_fail() {
	[ "${RCVGOV_NO_SKIP:-0}" = 1 ] || [ "${RCVGOV_KSFT_NO_SKIP:-0}" = 1 ]
}

# nl_skip REASON: the script cannot test what it is for here: say so
# loudly and exit $KSFT_SKIP (4), or, when skips are failures, end through
# $NL_FATAL (exit 1). Runners tell the three apart by the exit status.
# NL_SKIPPING=1 lets an EXIT trap tell this exit 4 from a command's (jq -e
# exits 4, for one).
nl_skip() {
	NL_SKIPPING=1 # tells an EXIT trap that this exit 4 is a skip
	if nl_skip_is_fail; then
		"${NL_FATAL:-nl_fatal}" "SKIP counted as a failure (RCVGOV_NO_SKIP/RCVGOV_KSFT_NO_SKIP=1): $*"
		exit $KSFT_FAIL
	fi
	"${NL_LOG:-nl_log}" "SKIP: $*"
	exit $KSFT_SKIP
}

# ---- waiting -----------------------------------------------------------------

# nl_wait SLEEP_S TIMEOUT_MS CMD...: run CMD (output discarded) until it
# succeeds, SLEEP_S seconds between attempts, for at most TIMEOUT_MS
# milliseconds (net/lib.sh's loopy_wait). Returns 0 when CMD succeeded,
# 1 on timeout, 2 when the $NL_WAIT_ALIVE check failed. NL_WAITED_MS is
# how long it waited.
nl_wait() {
	local _nl_sleep=$1 _nl_ms=$2 _nl_t0
	shift 2
	nl_clock_ms
	_nl_t0=$NL_NOW_MS
	NL_WAITED_MS=0
	until "$@" >/dev/null 2>&1; do
		nl_clock_ms
		NL_WAITED_MS=$((NL_NOW_MS - _nl_t0))
		[ "$NL_WAITED_MS" -lt "$_nl_ms" ] || return 1
		if [ -n "${NL_WAIT_ALIVE:-}" ] && ! "$NL_WAIT_ALIVE"; then
			return 2
		fi
		sleep "$_nl_sleep"
	done
	nl_clock_ms
	NL_WAITED_MS=$((NL_NOW_MS - _nl_t0))
	return 0
}

# nl_busywait TIMEOUT_MS CMD...: nl_wait with a 10 ms period (net/lib.sh's
# busywait, without a hot spin on a shared machine).
nl_busywait() {
	local _nl_ms=$1
	shift
	nl_wait 0.01 "$_nl_ms" "$@"
}

# wait_for TIMEOUT_S WHAT CMD...: retry CMD every $NL_WAIT_POLL (0.1) s
# until it succeeds; after TIMEOUT_S seconds the script ends through
# $NL_FATAL: "timed out after TIMEOUT_Ss waiting for WHAT".
wait_for() {
	local _nl_secs=$1 _nl_what=$2 _nl_rc=0
	shift 2
	nl_wait "${NL_WAIT_POLL:-0.1}" $((_nl_secs * 1000)) "$@" || _nl_rc=$?
	case $_nl_rc in
	0) return 0 ;;
	1) "${NL_FATAL:-nl_fatal}" "timed out after ${_nl_secs}s waiting for $_nl_what" ;;
	*) "${NL_FATAL:-nl_fatal}" "gave up waiting for $_nl_what: $NL_WAIT_ALIVE failed" ;;
	esac
	exit 1
}

# ---- namespaces ----------------------------------------------------------------

nl_ns_exists() { [ -e "/run/netns/$1" ]; }

# nl_ns_add NAME: create namespace NAME with lo up, registered for
# nl_ns_cleanup.
nl_ns_add() {
	ip netns add "$1" || return 1
	NL_NS_LIST+=("$1")
	ip -n "$1" link set lo up
}

# nl_ns_new VAR PREFIX: create a namespace with a unique name,
# PREFIX-<pid>-<random>, lo up, registered for cleanup; its name in VAR.
nl_ns_new() {
	local _nl_name _nl_try
	for _nl_try in 1 2 3 4 5 6 7 8; do
		_nl_name="$2-$$-$RANDOM"
		nl_ns_exists "$_nl_name" || break
	done
	nl_ns_add "$_nl_name" || return 1
	printf -v "$1" %s "$_nl_name"
}

# nl_ns_track_prefix PREFIX: every namespace whose name starts with PREFIX
# is this script's (made by ip netns add directly, or by a helper
# program): nl_ns_cleanup removes them too.
nl_ns_track_prefix() { NL_NS_PREFIXES+=("$1"); }

# nl_ns_list: the existing namespaces this script owns, one a line.
nl_ns_list() {
	local ns
	{
		for ns in ${NL_NS_LIST[@]+"${NL_NS_LIST[@]}"}; do
			nl_ns_exists "$ns" && echo "$ns"
		done
		if [ ${#NL_NS_PREFIXES[@]} -gt 0 ]; then
			ip netns list 2>/dev/null | awk -v p="${NL_NS_PREFIXES[*]}" '
				BEGIN { n = split(p, pre, " ") }
				{ for (i = 1; i <= n; i++) if (index($1, pre[i]) == 1) { print $1; next } }'
		fi
	} | awk '!seen[$0]++'
}

# nl_ns_pids NS...: the processes running in the namespaces, less those
# named in $NL_NS_SPARE: a daemon that governs every namespace from its own
# (rcvgovd) setns()es into ours for a moment, and `ip netns pids` would
# then list it; killing it would kill another test's daemon.
nl_ns_pids() {
	local ns pid comm
	for ns in "$@"; do
		nl_ns_exists "$ns" || continue
		for pid in $(ip netns pids "$ns" 2>/dev/null); do
			comm=""
			read -r comm 2>/dev/null <"/proc/$pid/comm" || continue
			case " ${NL_NS_SPARE-rcvgovd} " in *" $comm "*) continue ;; esac
			echo "$pid"
		done
	done
	return 0
}

# nl_ns_kill WAIT_MS NS...: TERM every process in the namespaces, give them
# WAIT_MS milliseconds to go, then KILL those left.
nl_ns_kill() {
	local _nl_ms=$1 _nl_t0 _nl_pids
	shift
	_nl_pids=$(nl_ns_pids "$@")
	[ -n "$_nl_pids" ] || return 0
	# shellcheck disable=SC2086 # a list of pids
	kill -TERM $_nl_pids 2>/dev/null
	nl_clock_ms
	_nl_t0=$NL_NOW_MS
	while _nl_pids=$(nl_ns_pids "$@") && [ -n "$_nl_pids" ]; do
		nl_clock_ms
		if [ $((NL_NOW_MS - _nl_t0)) -ge "$_nl_ms" ]; then
			# shellcheck disable=SC2086
			kill -KILL $_nl_pids 2>/dev/null
			break
		fi
		sleep 0.05
	done
	return 0
}

# nl_ns_del NS...: kill what runs in the namespaces (TERM, then KILL after
# $NL_KILL_WAIT_MS), delete them and forget them.
nl_ns_del() {
	local ns i
	nl_ns_kill "${NL_KILL_WAIT_MS:-1000}" "$@"
	for ns in "$@"; do
		ip netns del "$ns" 2>/dev/null
		for i in "${!NL_NS_LIST[@]}"; do
			[ "${NL_NS_LIST[$i]}" != "$ns" ] || unset 'NL_NS_LIST[i]'
		done
	done
	return 0
}

# nl_ns_cleanup: nl_ns_del every namespace this script owns (registered or
# under a tracked prefix), processes of all of them stopped together.
# Idempotent; meant for an EXIT trap.
nl_ns_cleanup() {
	local -a _nl_all=()
	local ns
	while read -r ns; do
		[ -z "$ns" ] || _nl_all+=("$ns")
	done < <(nl_ns_list)
	[ ${#_nl_all[@]} -eq 0 ] || nl_ns_del "${_nl_all[@]}"
	NL_NS_LIST=()
	return 0
}

# nl_veth NS1 DEV1 ADDR1 NS2 DEV2 ADDR2 [ADDR6_1 ADDR6_2]: a veth pair
# DEV1 (in NS1) - DEV2 (in NS2), both up, with IPv4 addresses ADDR1/ADDR2
# and, when given, IPv6 ADDR6_1/ADDR6_2 (no DAD: usable at once);
# addresses with their prefix length (10.0.0.1/24, fd00::1/64).
# Returns 1 when the pair cannot be created, 2 when it cannot be set up.
nl_veth() {
	local ns1=$1 dev1=$2 a1=$3 ns2=$4 dev2=$5 a2=$6 a61=${7:-} a62=${8:-}
	ip link add "$dev1" netns "$ns1" type veth peer name "$dev2" netns "$ns2" || return 1
	ip -n "$ns1" addr add "$a1" dev "$dev1" &&
		ip -n "$ns2" addr add "$a2" dev "$dev2" || return 2
	if [ -n "$a61" ]; then
		ip -n "$ns1" addr add "$a61" dev "$dev1" nodad &&
			ip -n "$ns2" addr add "$a62" dev "$dev2" nodad || return 2
	fi
	ip -n "$ns1" link set lo up && ip -n "$ns2" link set lo up &&
		ip -n "$ns1" link set "$dev1" up && ip -n "$ns2" link set "$dev2" up || return 2
}

# ---- sysctls in a namespace ------------------------------------------------------
# NAME is net.ipv4.tcp_rmem or net/ipv4/tcp_rmem.

nl_sysctl_path() {
	case $1 in
	*/*) echo "/proc/sys/$1" ;;
	*) echo "/proc/sys/${1//.//}" ;;
	esac
}
# nl_sysctl_exists NS NAME: the kernel has the sysctl (in that namespace).
nl_sysctl_exists() { ip netns exec "$1" test -e "$(nl_sysctl_path "$2")"; }
# nl_sysctl_get NS NAME: its value (tcp_rmem's fields tab-separated).
nl_sysctl_get() { ip netns exec "$1" cat "$(nl_sysctl_path "$2")"; }
# nl_sysctl_set NS NAME VALUE: write it; non-zero when the kernel refuses
# the value (or has no such sysctl).
nl_sysctl_set() {
	# shellcheck disable=SC2016 # $1 and $2 are for the inner shell
	ip netns exec "$1" sh -c 'printf "%s\n" "$2" > "$1"' _ "$(nl_sysctl_path "$2")" "$3"
}

# ---- sockets: ss -tmnO, one parser ------------------------------------------------

# NL_SS_AWK: an awk function, ss_parse(LINE, A), for one line of `ss -tnO`
# (any of -m, -i, -e, -p; with or without the State column, which ss drops
# when the filter names one state). It fills A with recv_q, send_q, local,
# port (the local one), peer, and every skmem field by its ss name: r, rb,
# t, tb, f, w, o, bl, d. Returns 1 when LINE is a socket line. Use it as
#   awk "$NL_SS_AWK"' { if (ss_parse($0, s)) print s["port"], s["rb"] }'
NL_SS_AWK='
function ss_parse(line, a,    f, n, i, j, m, p, kv, k, s) {
	split("", a)
	n = split(line, f, /[ \t]+/)
	for (i = 1; i <= n; i++) {
		if (!("recv_q" in a)) {
			if (f[i] ~ /^[0-9]+$/) { a["recv_q"] = f[i]; a["send_q"] = f[i + 1]; i++ }
			continue
		}
		if (!("local" in a)) {
			if (f[i] ~ /:([0-9]+|\*)$/) {
				a["local"] = f[i]; p = f[i]; sub(/.*:/, "", p); a["port"] = p
				a["peer"] = f[i + 1]; i++
			}
			continue
		}
		if (f[i] ~ /^skmem:\(/) {
			s = f[i]; sub(/^skmem:\(/, "", s); sub(/\).*$/, "", s)
			m = split(s, kv, ",")
			for (j = 1; j <= m; j++) {
				k = kv[j]; sub(/[0-9]+$/, "", k)
				a[k] = substr(kv[j], length(k) + 1)
			}
		}
	}
	return ("local" in a)
}'
# The skmem fields in the order nl_skmem prints them.
NL_SKMEM_FIELDS="r rb t tb f w o bl d"

# nl_skmem_ports NS STATE PORT...: one `ss -tmnO` in NS for every TCP socket
# whose local port is one of PORT (in STATE, e.g. established; "" = ss's
# default, every state but listening and closed): a line
# "PORT r rb t tb f w o bl d" per socket that has skmem.
nl_skmem_ports() {
	local ns=$1 state=$2 filter="" p
	shift 2
	for p in "$@"; do filter+="${filter:+ or }sport = :$p"; done
	# shellcheck disable=SC2086 # "state STATE" is two words or nothing
	ip netns exec "$ns" ss -HtmnO ${state:+state "$state"} "( $filter )" 2>/dev/null |
		awk -v fields="$NL_SKMEM_FIELDS" "$NL_SS_AWK"'
			BEGIN { nf = split(fields, fl, " ") }
			ss_parse($0, s) && ("rb" in s) {
				out = s["port"]
				for (i = 1; i <= nf; i++) out = out " " s[fl[i]]
				print out
			}'
	return 0
}

# nl_skmem NS PORT [STATE]: "r rb t tb f w o bl d" of the first socket on
# local port PORT (nothing when there is none).
nl_skmem() {
	nl_skmem_ports "$1" "${3:-}" "$2" | awk 'NR == 1 { $1 = ""; sub(/^ /, ""); print }'
}

# nl_skmem_field NS PORT FIELD [STATE]: one skmem field (r, rb, t, tb, f,
# w, o, bl, d) of the first socket on local port PORT (nothing if none).
nl_skmem_field() {
	nl_skmem_ports "$1" "${4:-}" "$2" | awk -v fields="$NL_SKMEM_FIELDS" -v want="$3" '
		BEGIN { nf = split(fields, fl, " "); for (i = 1; i <= nf; i++) col[fl[i]] = i + 1 }
		NR == 1 && (want in col) { print $col[want] }'
}

# nl_listening NS PORT: something listens on TCP port PORT in NS.
nl_listening() { ip netns exec "$1" ss -Hltn "sport = :$2" | grep -q .; }

# nl_conn_count NS FILTER [STATE]: TCP sockets in NS matching an ss filter
# (e.g. 'sport = :7000'), established ones unless STATE says otherwise.
nl_conn_count() {
	ip netns exec "$1" ss -Htn state "${3:-established}" "$2" | wc -l
}
