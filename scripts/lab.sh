#!/usr/bin/env bash
# rcvgov netns lab: runs a sender/slow-reader pair between two throwaway
# network namespaces and samples the receiving socket's memory into a CSV.
# See docs/test-pairs.md. Needs root (ip netns), iproute2 (ip, ss, nstat).
#
# Everything it creates (two namespaces, one veth pair, the processes in
# them) is removed on exit, on failure and on SIGINT/SIGTERM; the run is
# bounded by --duration plus a few seconds of setup and teardown.

set -uo pipefail

REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
BIN=${RCVGOV_BIN:-$REPO/build/bin}
# Namespaces and their cleanup, wait_for, sysctls, the ss parser: shared
# with the tests and the kselftests (see the top of that file).
# shellcheck source-path=SCRIPTDIR source=../kselftests/tcp_rcvbuf/netns_lib.sh
. "$REPO/kselftests/tcp_rcvbuf/netns_lib.sh" || {
	echo "lab: error: cannot read $REPO/kselftests/tcp_rcvbuf/netns_lib.sh" >&2
	exit 1
}

usage() {
	cat <<'EOF'
usage: scripts/lab.sh [options]

The pair (defaults: the Cloudflare blog's reproducer)
  --reader-mode MODE     slow | never | oscillate               [slow]
  --payload N            sender bytes per write                  [1448]
  --interval T           sender and reader period (1ms, 500us)   [1ms]
  --read-bytes N         reader bytes per read (slow phase)      [1]
  --sender-args "ARGS"   extra rcvgov-sender options
  --reader-args "ARGS"   extra rcvgov-reader options (e.g. "--slow-period 10s")
  --sender CMD           run CMD (sh -c) in the sender namespace instead of
  --reader CMD           rcvgov-sender / rcvgov-reader; placeholders:
                         {addr} receiver address, {port}, {endpoint}
                         (10.x:port or [fd00:..]:port), {family} (4 or 6)
  --chrt PRIO            run both ends SCHED_FIFO at PRIO (chrt -f): on a
                         busy host a preempted reader or sender can close
                         the window and end the growth early

The receiver's namespace (each sysctl only set if the kernel has it)
  --rmem "MIN DEF MAX"   net.ipv4.tcp_rmem        [4096 131072 268435456]
  --shrink 0|1           net.ipv4.tcp_shrink_window                 [0]
  --adv-win-scale N      net.ipv4.tcp_adv_win_scale       [left as is: 1]

The run
  --duration SECS        how long to sample after the pair connected [30]
  --sample SECS          sampling period (may be fractional)         [1]
  --family 4|6           address family of the connection             [4]
  --port PORT            receiver's port                           [5001]
  --csv FILE             where the samples go ('-' = stdout)          [-]
  --receiver-ns-hook CMD run CMD (sh -c, same placeholders, background)
                         in the receiver namespace once connected; env
                         RCVGOV_LAB_NS_RECV/_NS_SEND/_PORT/_ADDR are set

Binaries come from $RCVGOV_BIN (default: <repo>/build/bin).
CSV columns: t_s,r,rb,rcv_space,rcv_ssthresh,rcv_wnd,recv_q,bytes_received,
drops,want_zero_win,to_zero_win,prune_called,rcv_pruned
EOF
}

log() { printf 'lab: %s\n' "$*" >&2; }
die() {
	log "error: $*"
	exit 1
}
# shellcheck disable=SC2034 # read by netns_lib.sh
NL_LOG=log NL_FATAL=die

# ---- options -------------------------------------------------------------
DURATION=30 SAMPLE=1 FAMILY=4 PORT=5001 CSV=- SHRINK=0 ADV_WIN_SCALE=''
RMEM="4096 131072 268435456"
READER_MODE=slow PAYLOAD=1448 INTERVAL=1ms READ_BYTES=1
SENDER_ARGS='' READER_ARGS='' SENDER_CMD='' READER_CMD='' HOOK_CMD='' CHRT=''

while [ $# -gt 0 ]; do
	opt=$1
	case $opt in
	-h | --help)
		usage
		exit 0
		;;
	--duration | --sample | --family | --port | --csv | --shrink | --adv-win-scale | --rmem | \
		--reader-mode | --payload | --interval | --read-bytes | --sender-args | \
		--reader-args | --sender | --reader | --receiver-ns-hook | --chrt)
		[ $# -ge 2 ] || die "$opt needs a value (see --help)"
		val=$2
		shift 2
		;;
	*) die "unknown option '$opt' (see --help)" ;;
	esac
	case $opt in
	--duration) DURATION=$val ;;
	--sample) SAMPLE=$val ;;
	--family) FAMILY=$val ;;
	--port) PORT=$val ;;
	--csv) CSV=$val ;;
	--shrink) SHRINK=$val ;;
	--adv-win-scale) ADV_WIN_SCALE=$val ;;
	--rmem) RMEM=$val ;;
	--reader-mode) READER_MODE=$val ;;
	--payload) PAYLOAD=$val ;;
	--interval) INTERVAL=$val ;;
	--read-bytes) READ_BYTES=$val ;;
	--sender-args) SENDER_ARGS=$val ;;
	--reader-args) READER_ARGS=$val ;;
	--sender) SENDER_CMD=$val ;;
	--reader) READER_CMD=$val ;;
	--receiver-ns-hook) HOOK_CMD=$val ;;
	--chrt) CHRT=$val ;;
	esac
done

[[ $DURATION =~ ^[1-9][0-9]*$ ]] || die "--duration '$DURATION': whole seconds, at least 1"
[[ $SAMPLE =~ ^([0-9]+\.?[0-9]*|\.[0-9]+)$ ]] && awk "BEGIN{exit !($SAMPLE >= 0.05)}" ||
	die "--sample '$SAMPLE': seconds, at least 0.05"
[[ $FAMILY =~ ^[46]$ ]] || die "--family '$FAMILY': 4 or 6"
[[ $PORT =~ ^[0-9]+$ ]] && [ "$PORT" -ge 1 ] && [ "$PORT" -le 65535 ] ||
	die "--port '$PORT': 1..65535"
[[ $SHRINK =~ ^[01]$ ]] || die "--shrink '$SHRINK': 0 or 1"
if [ -n "$CHRT" ]; then
	[[ $CHRT =~ ^[0-9]+$ ]] && [ "$CHRT" -ge 1 ] && [ "$CHRT" -le 99 ] ||
		die "--chrt '$CHRT': a SCHED_FIFO priority, 1..99"
	command -v chrt >/dev/null || die "chrt not found (util-linux)"
fi
[ -z "$ADV_WIN_SCALE" ] || [[ $ADV_WIN_SCALE =~ ^-?[0-9]+$ ]] && [ "${ADV_WIN_SCALE:-0}" -ge -31 ] &&
	[ "${ADV_WIN_SCALE:-0}" -le 31 ] || die "--adv-win-scale '$ADV_WIN_SCALE': -31..31"
[[ $RMEM =~ ^[0-9]+[[:space:]]+[0-9]+[[:space:]]+[0-9]+$ ]] ||
	die "--rmem '$RMEM': three byte counts, \"MIN DEFAULT MAX\""
case $READER_MODE in slow | never | oscillate) ;; *) die "--reader-mode '$READER_MODE': slow, never or oscillate" ;; esac
[ "$(id -u)" -eq 0 ] || die "needs root (network namespaces)"
for tool in ip ss nstat awk; do
	command -v $tool >/dev/null || die "$tool not found (iproute2, gawk/mawk)"
done
if [ -z "$SENDER_CMD" ] || [ -z "$READER_CMD" ]; then
	for prog in rcvgov-sender rcvgov-reader; do
		[ -x "$BIN/$prog" ] || die "$BIN/$prog not found: run make, or set RCVGOV_BIN"
	done
fi

# ---- the lab -------------------------------------------------------------
NS_SEND="rcvgov-lab-$$-s"
NS_RECV="rcvgov-lab-$$-r"
TMP=$(mktemp -d /tmp/rcvgov-lab.XXXXXX) || die "mktemp failed"
# Only ever configured inside the two namespaces this script creates.
if [ "$FAMILY" = 4 ]; then
	RECV_ADDR=10.214.0.2
	ENDPOINT="$RECV_ADDR:$PORT"
else
	RECV_ADDR=fd00:214::2
	ENDPOINT="[$RECV_ADDR]:$PORT"
fi
SENDER_PID='' READER_PID=''
STOPPING=0

# Kill whatever runs in our namespaces (TERM, KILL after a second), delete
# them, drop the temp dir. Runs once, on any exit.
cleanup() {
	local rc=$?
	trap - EXIT INT TERM
	set +e
	local pids
	nl_ns_cleanup
	pids=$(jobs -p)
	[ -z "$pids" ] || kill -KILL $pids 2>/dev/null
	wait 2>/dev/null
	if [ $rc -ne 0 ] && [ $STOPPING -eq 0 ]; then
		for f in reader sender hook; do
			[ -s "$TMP/$f.out" ] && sed "s/^/lab: $f: /" "$TMP/$f.out" >&2
		done
	fi
	rm -rf "$TMP"
	exit $rc
}
trap cleanup EXIT
trap 'log "interrupted"; exit 130' INT
trap 'log "terminated"; exit 143' TERM

# Sleep that a trapped signal interrupts at once (a foreground sleep would
# delay the trap until it ends).
nap() {
	sleep "$1" &
	wait $! 2>/dev/null
}

# wait_for SECONDS WHAT CMD... (netns_lib.sh) retries CMD every 0.1 s;
# between tries, pair_alive ends the lab when the reader or the sender
# has exited.
# shellcheck disable=SC2317 # called by wait_for
pair_alive() {
	alive "$READER_PID" || die "reader exited early: $(tail -n 3 "$TMP/reader.out")"
	[ -z "$SENDER_PID" ] || alive "$SENDER_PID" ||
		die "sender exited early: $(tail -n 3 "$TMP/sender.out")"
}
# shellcheck disable=SC2034 # read by netns_lib.sh
NL_WAIT_ALIVE=pair_alive
alive() { [ -n "$1" ] && kill -0 "$1" 2>/dev/null; }

in_recv() { ip netns exec "$NS_RECV" "$@"; }

# Substitute the placeholders of a user command.
expand() {
	local s=$1
	s=${s//\{addr\}/$RECV_ADDR}
	s=${s//\{port\}/$PORT}
	s=${s//\{endpoint\}/$ENDPOINT}
	s=${s//\{family\}/$FAMILY}
	printf '%s' "$s"
}

# Writes a sysctl in the receiver namespace if the kernel has it; warns if not.
set_recv_sysctl() {
	local name=$1 value=$2
	if ! nl_sysctl_exists "$NS_RECV" "$name"; then
		log "warning: $name does not exist on $(uname -r): not set"
		return 1
	fi
	nl_sysctl_set "$NS_RECV" "$name" "$value" || die "cannot set $name=$value"
	log "receiver: $name = $(nl_sysctl_get "$NS_RECV" "$name" | tr '\t' ' ')"
}

nl_ns_add "$NS_SEND" || die "ip netns add $NS_SEND failed"
nl_ns_add "$NS_RECV" || die "ip netns add $NS_RECV failed"
nl_veth "$NS_SEND" lab-s 10.214.0.1/24 "$NS_RECV" lab-r 10.214.0.2/24 fd00:214::1/64 fd00:214::2/64
case $? in
0) ;;
1) die "cannot create the veth pair" ;;
*) die "cannot configure the veth pair" ;;
esac

SHRINK_SET=$SHRINK ADV_SET=default
set_recv_sysctl net.ipv4.tcp_rmem "$RMEM"
set_recv_sysctl net.ipv4.tcp_shrink_window "$SHRINK" || SHRINK_SET=n/a
if [ -n "$ADV_WIN_SCALE" ]; then
	set_recv_sysctl net.ipv4.tcp_adv_win_scale "$ADV_WIN_SCALE" && ADV_SET=$ADV_WIN_SCALE ||
		ADV_SET=n/a
elif nl_sysctl_exists "$NS_RECV" net.ipv4.tcp_adv_win_scale; then
	ADV_SET=$(nl_sysctl_get "$NS_RECV" net.ipv4.tcp_adv_win_scale)
fi

# The pair. Ours get a longer life than the sampling: the lab stops them.
LIFE=$((DURATION + 30))s
PRIO=()
[ -z "$CHRT" ] || PRIO=(chrt -f "$CHRT")
if [ -n "$READER_CMD" ]; then
	READER_CMD=$(expand "$READER_CMD")
	log "reader: $READER_CMD"
	in_recv "${PRIO[@]}" sh -c "$READER_CMD" >"$TMP/reader.out" 2>&1 &
else
	listen=$([ "$FAMILY" = 4 ] && echo "0.0.0.0:$PORT" || echo "[::]:$PORT")
	# shellcheck disable=SC2086 # READER_ARGS is a list of words on purpose
	in_recv "${PRIO[@]}" "$BIN/rcvgov-reader" --listen "$listen" --mode "$READER_MODE" \
		--read-bytes "$READ_BYTES" --interval "$INTERVAL" --duration "$LIFE" \
		--accept-timeout 20s $READER_ARGS >"$TMP/reader.out" 2>&1 &
fi
READER_PID=$!
wait_for 10 "the reader to listen on port $PORT" nl_listening "$NS_RECV" "$PORT"

if [ -n "$SENDER_CMD" ]; then
	SENDER_CMD=$(expand "$SENDER_CMD")
	log "sender: $SENDER_CMD"
	ip netns exec "$NS_SEND" "${PRIO[@]}" sh -c "$SENDER_CMD" >"$TMP/sender.out" 2>&1 &
else
	# shellcheck disable=SC2086
	ip netns exec "$NS_SEND" "${PRIO[@]}" "$BIN/rcvgov-sender" --connect "$ENDPOINT" \
		--payload "$PAYLOAD" --interval "$INTERVAL" --duration "$LIFE" \
		$SENDER_ARGS >"$TMP/sender.out" 2>&1 &
fi
SENDER_PID=$!

# The socket under study: the established one on our port in the receiver
# namespace (the sender's end lives in the other namespace).
ss_line() {
	in_recv timeout 5 ss -HtmniO state established "( sport = :$PORT )" 2>/dev/null | head -n 1
}
# shellcheck disable=SC2317 # called by wait_for
connected() { [ "$(nl_conn_count "$NS_RECV" "( sport = :$PORT )")" -gt 0 ]; }
wait_for 10 "the connection" connected
T0=$EPOCHREALTIME
first=$(ss_line)
log "connected: $(awk '{ print "local=" $3, "peer=" $4 }' <<<"$first")"
log "receiver: $(grep -o 'wscale:[0-9,]*' <<<"$first") (send,receive scale)," \
	"tcp_shrink_window=$SHRINK_SET tcp_adv_win_scale=$ADV_SET"

export RCVGOV_LAB_NS_RECV=$NS_RECV RCVGOV_LAB_NS_SEND=$NS_SEND RCVGOV_LAB_PORT=$PORT \
	RCVGOV_LAB_ADDR=$RECV_ADDR
if [ -n "$HOOK_CMD" ]; then
	HOOK_CMD=$(expand "$HOOK_CMD")
	log "receiver-ns hook: $HOOK_CMD"
	in_recv sh -c "$HOOK_CMD" >"$TMP/hook.out" 2>&1 &
fi

COUNTERS=(TcpExtTCPWantZeroWindowAdv TcpExtTCPToZeroWindowAdv TcpExtPruneCalled TcpExtRcvPruned)
SUMMARY_COUNTERS=("${COUNTERS[@]}" TcpExtTCPFromZeroWindowAdv TcpExtTCPZeroWindowDrop
	TcpExtTCPRcvCollapsed TcpExtOfoPruned TcpExtTCPRcvQDrop TcpExtTCPBacklogDrop
	TcpExtTCPMemoryPressures)
# A new namespace starts its counters at zero, so absolute values are the
# deltas of this run. Our own history file: never touch the user's.
nstat_values() {
	in_recv env NSTAT_HISTORY="$TMP/nstat.hist" timeout 5 nstat -asz "$@" 2>/dev/null |
		awk -v want="$*" 'BEGIN { n = split(want, w, " "); for (i = 1; i <= n; i++) v[w[i]] = 0 }
			$1 in v { v[$1] = $2 }
			END { for (i = 1; i <= n; i++) printf "%s%s", (i > 1 ? "," : ""), v[w[i]] }'
}

# One CSV row from one `ss -tmniO` line (empty fields when the socket is
# gone); skmem and Recv-Q through netns_lib.sh's ss parser.
row() {
	awk -v t="$1" -v c="$2" "$NL_SS_AWK"'
		function kv(name) {
			if (match($0, " " name ":[0-9]+"))
				return substr($0, RSTART + length(name) + 2, RLENGTH - length(name) - 2)
			return ""
		}
		{ line = $0 }
		END {
			$0 = line
			ss_parse($0, sk)
			printf "%s,%s,%s,%s,%s,%s,%s,%s,%s,%s\n", t, sk["r"], sk["rb"],
				kv("rcv_space"), kv("rcv_ssthresh"), kv("rcv_wnd"), sk["recv_q"],
				kv("bytes_received"), sk["d"], c
		}' <<<"$3"
}

SAMPLES=$TMP/samples.csv
if [ "$CSV" = - ]; then
	exec 3>&1
else
	exec 3>"$CSV" || die "cannot write $CSV"
fi
echo "t_s,r,rb,rcv_space,rcv_ssthresh,rcv_wnd,recv_q,bytes_received,drops,want_zero_win,to_zero_win,prune_called,rcv_pruned" |
	tee "$SAMPLES" >&3

# Sample at T0 + k * SAMPLE (absolute deadlines: no drift from ss's cost).
k=0 status=0 gone_logged=0
while :; do
	now=$EPOCHREALTIME
	t=$(awk -v a="$T0" -v b="$now" 'BEGIN { printf "%.1f", b - a }')
	awk -v t="$t" -v d="$DURATION" 'BEGIN { exit !(t > d + 0.05) }' && break
	line=$(ss_line)
	if [ -z "$line" ] && [ $gone_logged -eq 0 ]; then
		log "warning: at t=${t}s the receiving socket is gone"
		gone_logged=1
	fi
	row "$t" "$(nstat_values "${COUNTERS[@]}")" "$line" | tee -a "$SAMPLES" >&3
	if ! alive "$SENDER_PID" || ! alive "$READER_PID"; then
		who=$(alive "$SENDER_PID" && echo reader || echo sender)
		log "error: the $who exited at t=${t}s: $(tail -n 3 "$TMP/$who.out" | tr '\n' ' ')"
		status=1
		break
	fi
	k=$((k + 1))
	pause=$(awk -v a="$T0" -v k="$k" -v s="$SAMPLE" -v now="$EPOCHREALTIME" \
		'BEGIN { p = a + k * s - now; printf "%.3f", (p > 0 ? p : 0) }')
	nap "$pause"
done
[ "$CSV" = - ] || exec 3>&-

# Stop the sender side first so the reader's summary covers everything
# sent; whole namespaces, so a user's `pv | socat` pipeline stops too.
STOPPING=1
final_counters=$(nstat_values "${SUMMARY_COUNTERS[@]}")
nl_ns_kill 3000 "$NS_SEND"
nl_ns_kill 3000 "$NS_RECV"
for f in sender reader hook; do
	[ -s "$TMP/$f.out" ] && tail -n 5 "$TMP/$f.out" | sed "s/^/lab: $f: /" >&2
done

log "receiver counters: $(paste -d= <(printf '%s\n' "${SUMMARY_COUNTERS[@]#TcpExt}") \
	<(tr , '\n' <<<"$final_counters") | tr '\n' ' ')"
[ "$CSV" = - ] && exec 3>&2 || exec 3>&1
# The one-line summary: the first rb (autotuning's start) and the peaks.
awk -F, -v tag="family=$FAMILY shrink=$SHRINK_SET adv_win_scale=$ADV_SET rmem=\"$RMEM\"" '
	NR == 1 { next }
	$3 != "" && start == "" { start = $3 }
	$2 != "" && $2 + 0 > maxr { maxr = $2 + 0; tr = $1 }
	$3 != "" && $3 + 0 > maxrb { maxrb = $3 + 0; trb = $1 }
	END {
		if (start == "")
			printf "summary: %s no sample found the receiving socket\n", tag
		else
			printf "summary: %s start_rb=%s max_r=%d (t=%ss) max_rb=%d (t=%ss) samples=%d\n",
				tag, start, maxr, tr, maxrb, trb, NR - 1
	}' "$SAMPLES" >&3
[ "$CSV" = - ] || log "samples in $CSV"
exit $status
