# Shared helpers for rcvgov's root integration tests (bash, sourced).
# Every test makes its own network namespaces with unique names and removes
# them on exit, failure or signal; nothing touches the host's namespace
# except the daemon under test, which only observes.

set -euo pipefail

REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
BIN=${RCVGOV_BIN:-$REPO/build/bin}
TEST_NAME=$(basename "$0" .sh)
TMP=$(mktemp -d "/tmp/rcvgov-$TEST_NAME.XXXXXX")
NS_PREFIX="rcvgov-t$$"
NS_SEND="$NS_PREFIX-s"
NS_RECV="$NS_PREFIX-r"
CTL_SOCK="$TMP/rcvgovd.sock"
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

cleanup() {
	local rc=$?
	set +e
	for hook in "${CLEANUP_HOOKS[@]}"; do eval "$hook"; done
	# Kill everything still running inside our namespaces, then the daemon.
	for ns in "$NS_SEND" "$NS_RECV"; do
		if ip netns list | grep -qw "$ns"; then
			ip netns pids "$ns" 2>/dev/null | xargs -r kill -9 2>/dev/null
			ip netns del "$ns" 2>/dev/null
		fi
	done
	if [ -n "$DAEMON_PID" ] && kill -0 "$DAEMON_PID" 2>/dev/null; then
		kill -TERM "$DAEMON_PID"
		wait "$DAEMON_PID" 2>/dev/null
	fi
	jobs -p | xargs -r kill -9 2>/dev/null
	if [ $rc -ne 0 ] && [ -f "$TMP/rcvgovd.log" ]; then
		log "daemon log (last 30 lines):"
		tail -n 30 "$TMP/rcvgovd.log" >&2
	fi
	rm -rf "$TMP"
	exit $rc
}
trap cleanup EXIT
trap 'exit 130' INT TERM

need_root() {
	[ "$(id -u)" -eq 0 ] || fail "must run as root (network namespaces, BPF)"
}

# Two namespaces joined by a veth pair, IPv4 and IPv6 on both ends.
make_pair_netns() {
	ip netns add "$NS_SEND"
	ip netns add "$NS_RECV"
	ip link add rcvgov-s netns "$NS_SEND" type veth peer name rcvgov-r netns "$NS_RECV"
	ip -n "$NS_SEND" addr add $SEND4/24 dev rcvgov-s
	ip -n "$NS_RECV" addr add $RECV4/24 dev rcvgov-r
	ip -n "$NS_SEND" addr add $SEND6/64 dev rcvgov-s nodad
	ip -n "$NS_RECV" addr add $RECV6/64 dev rcvgov-r nodad
	for ns in "$NS_SEND" "$NS_RECV"; do
		ip -n "$ns" link set lo up
	done
	ip -n "$NS_SEND" link set rcvgov-s up
	ip -n "$NS_RECV" link set rcvgov-r up
}

# The blog's settings in the receiver's namespace: tcp_rmem[2] = 256 MiB
# (window scale 13) and, where the sysctl exists, tcp_adv_win_scale=-2.
set_receiver_sysctls() {
	local shrink=$1
	ip netns exec "$NS_RECV" sysctl -q -w net.ipv4.tcp_rmem="4096 131072 268435456"
	ip netns exec "$NS_RECV" sysctl -q -w net.ipv4.tcp_shrink_window="$shrink"
	if ip netns exec "$NS_RECV" test -e /proc/sys/net/ipv4/tcp_adv_win_scale; then
		ip netns exec "$NS_RECV" sysctl -q -w net.ipv4.tcp_adv_win_scale=-2
	fi
}

# Tests never read /etc/rcvgov: without --config they get an empty file,
# i.e. the embedded defaults. observe_only_config writes a file that turns
# every enforcement step off, for tests of the observers alone.
observe_only_config() {
	printf '[ladder]\nshrink_window = false\nclamp = false\nreclaim = false\n' >"$TMP/observe.toml"
	echo "$TMP/observe.toml"
}
start_daemon() {
	local has_config=0
	for a in "$@"; do [ "$a" = --config ] && has_config=1; done
	if [ $has_config -eq 0 ]; then
		: >"$TMP/empty.toml"
		set -- --config "$TMP/empty.toml" "$@"
	fi
	"$BIN/rcvgovd" --socket "$CTL_SOCK" --interval 500 "$@" >"$TMP/rcvgovd.log" 2>&1 &
	DAEMON_PID=$!
	wait_for 10 "rcvgovd control socket" ctl status
}

ctl() { "$BIN/rcvgovctl" --socket "$CTL_SOCK" "$@"; }

# wait_for SECONDS WHAT CMD...: retry CMD every 0.2 s until it succeeds.
wait_for() {
	local secs=$1 what=$2
	shift 2
	local deadline=$((SECONDS + secs))
	until "$@" >/dev/null 2>&1; do
		[ $SECONDS -lt $deadline ] || fail "timed out after ${secs}s waiting for $what"
		sleep 0.2
	done
}

stop_daemon() {
	kill -TERM "$DAEMON_PID"
	local rc=0
	wait "$DAEMON_PID" || rc=$?
	DAEMON_PID=""
	[ $rc -eq 0 ] || fail "rcvgovd exited $rc"
}

# sysctl_in NS NAME: a sysctl's value inside a namespace.
sysctl_in() { ip netns exec "$1" cat "/proc/sys/${2//.//}"; }

# nstat_in NS COUNTER: an absolute SNMP counter inside a namespace.
nstat_in() {
	ip netns exec "$1" nstat -az "$2" 2>/dev/null | awk -v c="$2" '$1 == c { print $2 }'
}

# rcvbuf_of NS PORT: the skmem rb of the socket with local port PORT.
rcvbuf_of() {
	ip netns exec "$1" ss -Htmn "sport = :$2" | sed -n 's/.*skmem:(r[0-9]*,rb\([0-9]*\),.*/\1/p' | head -1
}
rmem_of() {
	ip netns exec "$1" ss -Htmn "sport = :$2" | sed -n 's/.*skmem:(r\([0-9]*\),rb.*/\1/p' | head -1
}

# start_blog_pair LISTEN TAG SECS: the blog pair (sender 1448 B every 1 ms,
# reader 1 B every 1 ms) across the two namespaces at real-time priority,
# connected when it returns. Output in $TMP/{reader,sender}TAG.out, the
# sender's pid in SENDER_PID.
start_blog_pair() {
	local listen=$1 tag=$2 secs=$3 port=${1##*:}
	ip netns exec "$NS_RECV" $RT "$BIN/rcvgov-reader" --listen "$listen" --mode slow \
		--read-bytes 1 --interval 1ms --duration "${secs}s" >"$TMP/reader$tag.out" 2>&1 &
	wait_for 5 "reader $tag listening" \
		sh -c "ip netns exec $NS_RECV ss -Hltn 'sport = :$port' | grep -q ."
	ip netns exec "$NS_SEND" $RT "$BIN/rcvgov-sender" --connect "$listen" --payload 1448 \
		--interval 1ms --duration "${secs}s" >"$TMP/sender$tag.out" 2>&1 &
	SENDER_PID=$!
	wait_for 5 "pair $tag connected" grep -q '^accepted' "$TMP/reader$tag.out"
}

# sample_pair PORT SECS: the receiving socket's r and rb once a second;
# lines "second r rb" in $TMP/samples, the maxima in MAX_R and MAX_RB.
sample_pair() {
	local port=$1 secs=$2 i r rb
	MAX_R=0 MAX_RB=0
	: >"$TMP/samples"
	for i in $(seq "$secs"); do
		sleep 1
		rb=$(rcvbuf_of "$NS_RECV" "$port")
		r=$(rmem_of "$NS_RECV" "$port")
		[ -n "$rb" ] || fail "the receiving socket is gone"
		echo "$i $r $rb" >>"$TMP/samples"
		[ "$rb" -gt "$MAX_RB" ] && MAX_RB=$rb
		[ "$r" -gt "$MAX_R" ] && MAX_R=$r
	done
	return 0
}

# py EXPR-SCRIPT: run a python3 assertion script with JSON on stdin.
py() { python3 -c "$1"; }
