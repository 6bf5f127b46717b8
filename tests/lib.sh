# shellcheck shell=bash disable=SC2034 # variables are for the tests that source this
# Shared helpers for rcvgov's root integration tests (bash, sourced).
# Every test makes its own network namespaces with unique names and removes
# them on exit, failure or signal; nothing touches the host's namespace
# except the daemon under test, which only observes.
#
# The basics (namespaces and their cleanup, wait_for, skmem, sysctls in a
# namespace, skips) come from kselftests/tcp_rcvbuf/netns_lib.sh, shared
# with the kselftests and scripts/lab.sh; this file keeps its own names
# for them (make_pair_netns, sysctl_in, rcvbuf_of, ...). A test exits 0
# (pass), 1 (fail) or 4 (skip: skip_test; a failure with RCVGOV_NO_SKIP=1).

set -euo pipefail

REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
# shellcheck source-path=SCRIPTDIR source=../kselftests/tcp_rcvbuf/netns_lib.sh
. "$REPO/kselftests/tcp_rcvbuf/netns_lib.sh"
BIN=${RCVGOV_BIN:-$REPO/build/bin}
# The test pair programs; the same build as the daemon unless told.
PAIR_BIN=${RCVGOV_PAIR_BIN:-$BIN}
TEST_NAME=$(basename "$0" .sh)
TMP=$(mktemp -d "/tmp/rcvgov-$TEST_NAME.XXXXXX")
NS_PREFIX="rcvgov-t$$"
NS_SEND="$NS_PREFIX-s"
NS_RECV="$NS_PREFIX-r"
CTL_SOCK="$TMP/rcvgovd.sock"
DAEMON_LOG="$TMP/rcvgovd.log"
DAEMON_PID=""
CLEANUP_HOOKS=()

# The pair runs at real-time priority: on a busy machine (a kernel build
# next door) a delayed ACK lets the sender fill the last 8 KiB window unit
# exactly and a 1 B/ms reader never reopens it; the bug under study then
# stops before it shows (see docs/test-pairs.md).
RT="chrt -f 50"

# IPv4 and IPv6 test addresses, only ever configured inside our namespaces.
SEND4=10.213.0.1 RECV4=10.213.0.2
SEND6=fd00:213::1 RECV6=fd00:213::2

log() { printf '[%s] %s\n' "$TEST_NAME" "$*" >&2; }
fail() {
	log "FAIL: $*"
	exit 1
}
# netns_lib.sh reports through these; wait_for polls every 0.2 s.
NL_LOG=log NL_FATAL=fail NL_WAIT_POLL=0.2
# skip_test REASON: this host cannot run the test: exit 4 (SKIP), loudly;
# with RCVGOV_NO_SKIP=1 (or RCVGOV_KSFT_NO_SKIP=1) a failure instead.
skip_test() { nl_skip "$@"; }

# Every namespace named $NS_PREFIX-* is this test's, whoever made it.
nl_ns_track_prefix "$NS_PREFIX-"

cleanup() {
	local rc=$?
	set +e
	# Exit status 4 means SKIP to the runners: only skip_test may give it
	# (a command under set -e can exit 4 too: jq -e without a result).
	if [ $rc -eq "$KSFT_SKIP" ] && [ -z "${NL_SKIPPING:-}" ]; then
		log "FAIL: a command exited with status $rc (not a skip)"
		rc=1
	fi
	for hook in "${CLEANUP_HOOKS[@]}"; do eval "$hook"; done
	# Stop everything still running inside our namespaces (TERM, KILL after
	# a second), delete them, then stop the daemon.
	nl_ns_cleanup
	if [ -n "$DAEMON_PID" ] && kill -0 "$DAEMON_PID" 2>/dev/null; then
		kill -TERM "$DAEMON_PID"
		wait "$DAEMON_PID" 2>/dev/null
	fi
	# TERM first: background helpers (bench/lib.sh time_limit) stop
	# their own children; then KILL whatever is left.
	jobs -p | xargs -r kill -TERM 2>/dev/null
	sleep 0.2
	jobs -p | xargs -r kill -9 2>/dev/null
	if [ $rc -ne 0 ] && [ $rc -ne "$KSFT_SKIP" ] && [ -f "$TMP/rcvgovd.log" ]; then
		log "daemon log (last 30 lines):"
		tail -n 30 "$TMP/rcvgovd.log" >&2
	fi
	# RCVGOV_KEEP_TMP=1 keeps the daemon log and the test's files.
	if [ "${RCVGOV_KEEP_TMP:-0}" = 1 ]; then
		log "kept $TMP"
	else
		rm -rf "$TMP"
	fi
	exit $rc
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# Every namespace this test created: all are named $NS_PREFIX-*.
our_netns() { nl_ns_list; }

need_root() {
	[ "$(id -u)" -eq 0 ] || fail "must run as root (network namespaces, BPF)"
}

# Two namespaces joined by a veth pair, IPv4 and IPv6 on both ends.
make_pair_netns() {
	nl_ns_add "$NS_SEND" || fail "cannot create namespace $NS_SEND"
	nl_ns_add "$NS_RECV" || fail "cannot create namespace $NS_RECV"
	nl_veth "$NS_SEND" rcvgov-s $SEND4/24 "$NS_RECV" rcvgov-r $RECV4/24 $SEND6/64 $RECV6/64 ||
		fail "cannot set up the veth pair between $NS_SEND and $NS_RECV"
}

# The blog's settings in the receiver's namespace: tcp_rmem[2] = 256 MiB
# (window scale 13) and, where the sysctl exists, tcp_adv_win_scale=-2.
set_receiver_sysctls() {
	local shrink=$1
	nl_sysctl_set "$NS_RECV" net.ipv4.tcp_rmem "4096 131072 268435456" ||
		fail "cannot set net.ipv4.tcp_rmem in $NS_RECV"
	nl_sysctl_set "$NS_RECV" net.ipv4.tcp_shrink_window "$shrink" ||
		fail "cannot set net.ipv4.tcp_shrink_window=$shrink in $NS_RECV"
	if nl_sysctl_exists "$NS_RECV" net.ipv4.tcp_adv_win_scale; then
		nl_sysctl_set "$NS_RECV" net.ipv4.tcp_adv_win_scale -2 ||
			fail "cannot set net.ipv4.tcp_adv_win_scale=-2 in $NS_RECV"
	fi
}

# Tests never read /etc/rcvgov: without --config they get an empty file,
# i.e. the embedded defaults. observe_only_config writes a file that turns
# every enforcement step off, for tests of the observers alone.
observe_only_config() {
	printf '[ladder]\nshrink_window = false\nclamp = false\nreclaim = false\n' >"$TMP/observe.toml"
	echo "$TMP/observe.toml"
}
# start_daemon [rcvgovd options]: --interval 500 unless the options give
# one; the log in $DAEMON_LOG (overwritten by every start).
start_daemon() {
	local has_config=0 has_interval=0
	for a in "$@"; do
		case $a in
		--config | --config=*) has_config=1 ;;
		--interval | --interval=*) has_interval=1 ;;
		esac
	done
	if [ $has_config -eq 0 ]; then
		: >"$TMP/empty.toml"
		set -- --config "$TMP/empty.toml" "$@"
	fi
	[ $has_interval -eq 1 ] || set -- --interval 500 "$@"
	"$BIN/rcvgovd" --socket "$CTL_SOCK" "$@" >"$DAEMON_LOG" 2>&1 &
	DAEMON_PID=$!
	wait_for 10 "rcvgovd control socket" ctl status
}

ctl() { "$BIN/rcvgovctl" --socket "$CTL_SOCK" "$@"; }

# wait_for SECONDS WHAT CMD...: retry CMD every 0.2 s until it succeeds,
# fail after SECONDS (netns_lib.sh).

stop_daemon() {
	kill -TERM "$DAEMON_PID"
	local rc=0
	wait "$DAEMON_PID" || rc=$?
	DAEMON_PID=""
	[ $rc -eq 0 ] || fail "rcvgovd exited $rc"
}

# sysctl_in NS NAME: a sysctl's value inside a namespace.
sysctl_in() { nl_sysctl_get "$1" "$2"; }

# nstat_in NS COUNTER: an absolute SNMP counter inside a namespace.
nstat_in() {
	ip netns exec "$1" nstat -az "$2" 2>/dev/null | awk -v c="$2" '$1 == c { print $2 }'
}

# rcvbuf_of NS PORT: the skmem rb of the socket with local port PORT;
# rmem_of NS PORT: its r (nothing when there is no such socket).
rcvbuf_of() { nl_skmem_field "$1" "$2" rb; }
rmem_of() { nl_skmem_field "$1" "$2" r; }

# listening NS PORT: something listens on TCP port PORT in namespace NS.
listening() { nl_listening "$1" "$2"; }

# start_reader [--rt] [--cgroup PATH] TAG LISTEN [rcvgov-reader options]:
# a reader in the receiver's namespace (at real-time priority with --rt; in
# cgroup v2 PATH, from before it opens its socket, with --cgroup),
# listening when it returns (unless NO_WAIT=1). Output in
# $TMP/readerTAG.out, its pid in READER_PID.
start_reader() {
	local rt="" cg=""
	while :; do
		case $1 in
		--rt) rt=$RT && shift ;;
		--cgroup) cg=$2 && shift 2 ;;
		*) break ;;
		esac
	done
	local tag=$1 listen=$2
	shift 2
	if [ -n "$cg" ]; then
		# The shell joins the cgroup, then becomes the reader (exec keeps
		# the pid), so the listener and every accepted socket belong to it.
		# shellcheck disable=SC2016,SC2086 # $0 is for the inner shell; $rt a prefix or nothing
		sh -c 'echo $$ >"$0/cgroup.procs" && exec "$@"' "$CGROUP_ROOT$cg" \
			ip netns exec "$NS_RECV" $rt "$PAIR_BIN/rcvgov-reader" --listen "$listen" "$@" \
			>"$TMP/reader$tag.out" 2>&1 &
	else
		# shellcheck disable=SC2086 # $rt is a command prefix or nothing
		ip netns exec "$NS_RECV" $rt "$PAIR_BIN/rcvgov-reader" --listen "$listen" "$@" \
			>"$TMP/reader$tag.out" 2>&1 &
	fi
	READER_PID=$!
	[ -n "${NO_WAIT:-}" ] || wait_listening "$tag"
}
# wait_listening TAG: reader TAG listens (it says so).
wait_listening() {
	WAIT_SAY="cat $TMP/reader$1.out" wait_ms 5000 "reader $1 listening" \
		grep -q '^listening on ' "$TMP/reader$1.out"
}

# start_sender [--rt] TAG CONNECT [rcvgov-sender options]: a sender in the
# sender's namespace; output in $TMP/senderTAG.out, its pid in SENDER_PID.
start_sender() {
	local rt=""
	[ "$1" = --rt ] && rt=$RT && shift
	local tag=$1 connect=$2
	shift 2
	# shellcheck disable=SC2086
	ip netns exec "$NS_SEND" $rt "$PAIR_BIN/rcvgov-sender" --connect "$connect" "$@" \
		>"$TMP/sender$tag.out" 2>&1 &
	SENDER_PID=$!
}

# accepted TAG [N]: reader TAG accepted at least N (1) connections.
accepted() { [ "$(grep -c '^accepted' "$TMP/reader$1.out")" -ge "${2:-1}" ]; }

# start_pair [--rt] [--cgroup PATH] TAG LISTEN SECS "READER OPTIONS"
# "SENDER OPTIONS" [CONNECTIONS]: a reader (in cgroup PATH with --cgroup)
# and a sender with the given options (word-split), both running SECS
# seconds, CONNECTIONS (1) connected when it returns.
start_pair() {
	local -a pre=()
	while :; do
		case $1 in
		--rt) pre+=(--rt) && shift ;;
		--cgroup) pre+=(--cgroup "$2") && shift 2 ;;
		*) break ;;
		esac
	done
	local tag=$1 listen=$2 secs=$3 n=${6:-1} rt=""
	local -a ropts swopts
	read -ra ropts <<<"$4"
	read -ra swopts <<<"$5"
	[ "$n" -eq 1 ] || ropts+=(--connections "$n") swopts+=(--connections "$n")
	[[ " ${pre[*]} " == *" --rt "* ]] && rt=--rt
	start_reader "${pre[@]}" "$tag" "$listen" --duration "${secs}s" "${ropts[@]}"
	start_sender $rt "$tag" "$listen" --duration "${secs}s" "${swopts[@]}"
	WAIT_SAY="tail -n 3 $TMP/sender$tag.out $TMP/reader$tag.out" \
		wait_ms $((5000 + n * 5)) "pair $tag: $n connection(s) accepted" accepted "$tag" "$n"
}

# Pairs started by start_pairs, by tag: sender and reader pids, and when
# the connection was up (ms, now_ms).
declare -A PAIR_SENDER=() PAIR_READER=() PAIR_UP_MS=()
# start_pairs TAG BASE_PORT COUNT SPACING SECS "READER OPTIONS" "SENDER
# OPTIONS": COUNT pairs TAG1..TAGCOUNT on ports BASE_PORT+1..: every reader
# at once, then the senders one after another, started SPACING seconds
# apart, so that their data ages differ; PAIR_UP_MS says when each reader
# accepted (ms, the clock of now_ms).
start_pairs() {
	local tag=$1 base=$2 count=$3 spacing_ms i next=0 delay
	local -a ropts swopts
	read -ra ropts <<<"$6"
	read -ra swopts <<<"$7"
	spacing_ms=$(awk -v s="$4" 'BEGIN { printf "%d", s * 1000 }')
	for i in $(seq 1 "$count"); do
		NO_WAIT=1 start_reader "$tag$i" "$RECV4:$((base + i))" --duration "${5}s" "${ropts[@]}"
		PAIR_READER[$tag$i]=$READER_PID
	done
	for i in $(seq 1 "$count"); do wait_listening "$tag$i"; done
	for i in $(seq 1 "$count"); do
		delay=$((next - $(now_ms)))
		[ $delay -le 0 ] || sleep "$(printf '%d.%03d' $((delay / 1000)) $((delay % 1000)))"
		next=$(($(now_ms) + spacing_ms))
		start_sender "$tag$i" "$RECV4:$((base + i))" --duration "${5}s" "${swopts[@]}"
		PAIR_SENDER[$tag$i]=$SENDER_PID
	done
	for i in $(seq 1 "$count"); do
		WAIT_SAY="tail -n 3 $TMP/sender$tag$i.out $TMP/reader$tag$i.out" \
			wait_ms 5000 "pair $tag$i connected" accepted "$tag$i"
		PAIR_UP_MS[$tag$i]=$(sed -n 's/^accepted .* at=\([0-9]*\).*/\1/p' "$TMP/reader$tag$i.out")
	done
}
# pair_marks TAG COUNT: one character per pair of start_pairs, in start
# order: "x" when its sender is gone (a sender of these pairs only exits
# early when its connection is reset: destroyed), "." while it runs.
pair_marks() {
	local i m=""
	for i in $(seq 1 "$2"); do
		if alive "${PAIR_SENDER[$1$i]}"; then m+="."; else m+="x"; fi
	done
	echo "$m"
}
# pairs_gone TAG COUNT: how many of those senders are gone.
pairs_gone() { local m; m=$(pair_marks "$1" "$2"); m=${m//./}; echo ${#m}; }
# stop_pairs TAG COUNT: stop them (the connections close normally).
stop_pairs() {
	local i
	for i in $(seq 1 "$2"); do
		kill "${PAIR_SENDER[$1$i]}" "${PAIR_READER[$1$i]}" 2>/dev/null || true
	done
}

# cookies_on_port PORT: the cookies the daemon knows for sockets whose
# local port is PORT (rcvgovctl sockets).
cookies_on_port() {
	sockets_json | jq -r --arg p ":$1" '.[] | select(.local | endswith($p)) | .cookie'
}

# netns_cookie NS: the network namespace cookie (SO_NETNS_COOKIE) of NS,
# the key rcvgovd lists namespaces by.
netns_cookie() {
	ip netns exec "$1" python3 -c 'import socket, struct
s = socket.socket()
print(struct.unpack("Q", s.getsockopt(socket.SOL_SOCKET, 71, 8))[0])'
}

# start_blog_pair LISTEN TAG SECS: the blog pair (sender 1448 B every 1 ms,
# reader 1 B every 1 ms) across the two namespaces at real-time priority,
# connected when it returns. Output in $TMP/{reader,sender}TAG.out, the
# sender's pid in SENDER_PID, the reader's in READER_PID.
start_blog_pair() {
	start_pair --rt "$2" "$1" "$3" "--mode slow --read-bytes 1 --interval 1ms" \
		"--payload 1448 --interval 1ms"
}

# sample_ports SECS PORT...: once a second (on a fixed schedule) for SECS
# seconds, r and rb of the receiver's socket on each PORT, all from one ss:
# lines "second r rb" in $TMP/samples.PORT; fails when one of them is gone.
# PORT_MAX_R[PORT] and PORT_MAX_RB[PORT] are the maxima.
declare -A PORT_MAX_R=() PORT_MAX_RB=()
sample_ports() {
	local secs=$1 i p r rb t0 delay port
	shift
	for p in "$@"; do
		PORT_MAX_R[$p]=0 PORT_MAX_RB[$p]=0
		: >"$TMP/samples.$p"
	done
	t0=$(now_ms)
	for i in $(seq "$secs"); do
		delay=$((t0 + i * 1000 - $(now_ms)))
		[ $delay -le 0 ] || sleep "$(printf '%d.%03d' $((delay / 1000)) $((delay % 1000)))"
		# One line per socket: "PORT R RB T TB ...".
		nl_skmem_ports "$NS_RECV" "" "$@" >"$TMP/sample.now"
		for p in "$@"; do
			read -r port r rb _ < <(awk -v p="$p" '$1 == p' "$TMP/sample.now") || true
			[ -n "${rb:-}" ] || fail "the receiving socket on port $p is gone (second $i)"
			echo "$i $r $rb" >>"$TMP/samples.$p"
			[ "$rb" -le "${PORT_MAX_RB[$p]}" ] || PORT_MAX_RB[$p]=$rb
			[ "$r" -le "${PORT_MAX_R[$p]}" ] || PORT_MAX_R[$p]=$r
			rb=""
		done
	done
}

# sample_pair PORT SECS: sample_ports for one port; the lines in
# $TMP/samples, the maxima in MAX_R and MAX_RB.
sample_pair() {
	sample_ports "$2" "$1"
	cp "$TMP/samples.$1" "$TMP/samples"
	MAX_R=${PORT_MAX_R[$1]} MAX_RB=${PORT_MAX_RB[$1]}
}

# py EXPR-SCRIPT: run a python3 assertion script with JSON on stdin.
py() { python3 -c "$1"; }

# Milliseconds on the wall clock (no process started: cheap on a busy host).
now_ms() { nl_now_ms; }

# wait_ms MS WHAT CMD...: poll CMD every 10 ms until it succeeds, at most
# MS milliseconds; WAITED_MS is how long it took. For latencies that a
# 0.2 s poll would blur. With WAIT_SAY="command" (a prefix assignment), a
# timeout also says what that command prints then.
wait_ms() {
	local ms=$1 what=$2
	shift 2
	if ! nl_busywait "$ms" "$@"; then
		WAITED_MS=$NL_WAITED_MS
		fail "$what: not within $ms ms (waited $WAITED_MS ms)${WAIT_SAY:+; now: $($WAIT_SAY)}"
	fi
	WAITED_MS=$NL_WAITED_MS
}

# conn_count NS FILTER [STATE]: TCP sockets in NS matching an ss filter
# (e.g. 'sport = :7000'), established ones unless STATE says otherwise.
conn_count() { nl_conn_count "$@"; }

# alive PID: the process still runs.
alive() { kill -0 "$1" 2>/dev/null; }

# Daemon answers as JSON: status, and every socket (no top-N cut).
status_json() { ctl status --json; }
sockets_json() { ctl sockets --limit 0 --json; }
# status_get JQ-FILTER: one value from rcvgovctl status --json.
status_get() { ctl status --json | jq -er "$1"; }

# log_count REGEX [FILE]: matching lines in the daemon's log (0 if none).
log_count() { grep -cE -- "$1" "${2:-$DAEMON_LOG}" || true; }
# log_cookies REGEX [FILE]: the socket=<cookie> of every matching line.
log_cookies() { grep -E -- "$1" "${2:-$DAEMON_LOG}" | sed -n 's/.*socket=\([0-9]*\).*/\1/p'; }

# reload_daemon: SIGHUP, then wait until the daemon logged one more
# "reloaded" line (or failed).
reload_daemon() {
	local before
	before=$(log_count 'reloaded')
	kill -HUP "$DAEMON_PID"
	# shellcheck disable=SC2317 # called through wait_for
	reloaded_more() { [ "$(log_count 'reloaded')" -gt "$before" ]; }
	wait_for 5 "rcvgovd to log 'reloaded' after SIGHUP" reloaded_more
}

# fd_count PID: open file descriptors of a process.
fd_count() { find "/proc/$1/fd" -mindepth 1 -maxdepth 1 | wc -l; }

# The cgroup v2 hierarchy: /sys/fs/cgroup on unified hosts, elsewhere
# (hybrid hosts) wherever cgroup2 is mounted, e.g. /sys/fs/cgroup/unified.
CGROUP_ROOT=$(awk '$3 == "cgroup2" { print $2; exit }' /proc/mounts)
# make_cgroup PATH: a cgroup v2 directory (e.g. /rcvgov-test.slice/child)
# with its parents, removed on exit after its processes are moved to the
# root cgroup.
make_cgroup() {
	[ -n "$CGROUP_ROOT" ] || fail "no cgroup v2 hierarchy is mounted"
	local top=${1#/}
	top=${top%%/*}
	[ -e "$CGROUP_ROOT/$top" ] || CLEANUP_HOOKS+=("remove_cgroup /$top")
	mkdir -p "$CGROUP_ROOT$1"
}
remove_cgroup() {
	local d pid
	[ -d "$CGROUP_ROOT$1" ] || return 0
	while read -r d; do
		while read -r pid; do
			echo "$pid" >"$CGROUP_ROOT/cgroup.procs" 2>/dev/null
		done <"$d/cgroup.procs"
		rmdir "$d"
	done < <(find "$CGROUP_ROOT$1" -depth -type d)
}
