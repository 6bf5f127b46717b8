#!/usr/bin/env bash
# P1: receiver memory after 60 s for the Cloudflare post's scenarios, under
# three conditions, in one run:
#
#   vanilla   tcp_shrink_window=0 in the receiver's namespace, no daemon
#   shrink-1  tcp_shrink_window=1 (upstream's sysctl alone), no daemon
#   governed  the receiver's namespace starts at tcp_shrink_window=0 and
#             rcvgovd runs with its embedded defaults (an empty config: ladder
#             step 1 sets the sysctl to 1, step 2 clamps inflated sockets,
#             interval 1000 ms as in the defaults)
#
# Scenarios (each its own pair of namespaces, so sysctls and SNMP counters
# are per pair; every pair runs at real-time priority, $RT of tests/lib.sh,
# because a busy host can otherwise end the growth under study with a
# zero-window stall, see docs/test-pairs.md):
#
#   blog     sender 1448 B/ms, reader 1 B/ms, tcp_rmem[2] = 256 MiB (window
#            scale 13), tcp_adv_win_scale=-2 (set_receiver_sysctls)
#   never    the reader never reads, sender 4 B/ms, same sysctls
#   osc      blog pair with an oscillating reader (--mode oscillate): the
#            post's 240 s slow / 240 s fast (3300 B/ms) scaled to the run,
#            slow 25 s, fast 10 s, slow again (the end of the run is slow)
#   wscale8  blog pair with tcp_rmem[2] = 12 MiB (window scale 8: 65535 <<
#            8 > 12 MiB > 65535 << 7; net.core.rmem_max is global and below
#            it here, checked at run time) and tcp_adv_win_scale=1, the
#            post's variant (it took ~2100 s to go wrong there, so vanilla
#            may well stay small in 60 s: the row is governed/shrink-1)
#
# Design (why two phases and not three concurrent conditions): rcvgovd
# governs every network namespace it can see (ladder step 1 sets
# tcp_shrink_window=1 in each, within one 250 ms scan), and its BPF
# observers are global. The [allowlist] (cidrs, cgroups, ports) only holds
# back per-socket actions (clamp, destroy), not step 1 nor the observers,
# so no "vanilla" or "no daemon" namespace can exist while it runs. Hence:
#
#   phase 1 (no daemon): every scenario under vanilla and shrink-1 at once,
#            in separate namespace pairs (2 x 4 pairs concurrently);
#   phase 2 (daemon):    every scenario governed at once (4 pairs); the
#            namespaces are made with tcp_shrink_window=0, and each pair
#            starts once rcvgovd has set it to 1 there (no race with the
#            scan in the figure).
#
# With the sysctl at 1 `r` is bounded by `rb` (which stays at tcp_rmem[1]),
# not by the load, so comparing phase 2 with phase 1 is fair; vanilla's
# growth is the sender's full rate, as long as no zero-window stall ends it
# (RT priority). Another rcvgovd on the machine (other tests) would set the
# sysctl in our vanilla namespaces too: the sysctl is sampled with `r` and a
# vanilla pair that saw it flip is reported in the row's note (and the
# phase re-run, at most twice). Before phase 1 the script waits (at most 180
# s) until a fresh canary namespace keeps tcp_shrink_window=0 for 1.5 s.
#
# The figure: `skmem r` of the receiving socket, the largest sample in the
# last 10 s before the pair's 60th second (every second; smoke: last 3 s of
# 8 s), so one lucky sample cannot make it; `rb` is in the note. Every
# sample of every pair is in $BENCH_OUT/p1-memory-samples.csv (phase,
# condition, scenario, age of the connection in s, r, rb, Recv-Q, the
# namespace's tcp_shrink_window). Ratios: "vanilla/governed" (how many
# times less memory, target >= 500) on the blog pair; "governed/shrink-1"
# (target <= 1.1) on every scenario.
#
#   BENCH_SMOKE=1: 8 s, the blog pair only.
# shellcheck source-path=SCRIPTDIR source=../tests/lib.sh
source "$(dirname "$0")/../tests/lib.sh"
# shellcheck source=lib.sh
source "$(dirname "$0")/lib.sh"
need_root

SECS=$(smoke_or 60 8)
WINDOW=$(smoke_or 10 3)
if [ "$BENCH_SMOKE" = 1 ]; then SCENARIOS=(blog); else SCENARIOS=(blog never osc1 osc2 osc3 wscale8); fi
# A port no other test uses, so rcvgovd's actions on our sockets can be told
# from those on other tests' sockets (it governs the whole host).
PORT=5901
CSV=$BENCH_OUT/p1-memory-samples.csv
# How long phase 1 waits for other rcvgovd processes (other tests on a
# shared machine) to end, per attempt.
ALONE_WAIT=$(smoke_or 180 20)
# Whole-run bound: up to four phases of SECS, the waits, setup, teardown.
LIMIT=$((4 * SECS + 3 * ALONE_WAIT + 180))
# shellcheck disable=SC2016 # for the inner shell
bash -c 'trap "kill \$s; exit 0" TERM; sleep "$1" & s=$!; wait $s; echo "[p1-memory] timed out after $1 s" >&2; kill -TERM "$2"' \
	watchdog "$LIMIT" $$ &
WATCHDOG=$!
CLEANUP_HOOKS+=("kill $WATCHDOG 2>/dev/null; wait $WATCHDOG 2>/dev/null")

for b in rcvgovd rcvgovctl rcvgov-sender rcvgov-reader; do
	[ -x "$BIN/$b" ] || [ -x "$PAIR_BIN/$b" ] || fail "no $b in $BIN (build first, or set RCVGOV_BIN)"
done

reader_opts() {
	case $1 in
	blog | wscale8) echo "--mode slow --read-bytes 1 --interval 1ms" ;;
	never) echo "--mode never" ;;
	osc*) echo "--mode oscillate --read-bytes 1 --interval 1ms --fast-bytes 3300 --slow-period $((SECS * 5 / 12))s --fast-period $((SECS / 6))s" ;;
	esac
}
sender_opts() {
	case $1 in
	never) echo "--payload 4 --interval 1ms" ;;
	*) echo "--payload 1448 --interval 1ms" ;;
	esac
}

# use_pair COND SCEN: point tests/lib.sh's NS_SEND/NS_RECV at that pair.
use_pair() {
	NS_SEND="$NS_PREFIX-$1-$2-s"
	NS_RECV="$NS_PREFIX-$1-$2-r"
}

# setup_pair COND SCEN SHRINK: the namespaces and the receiver's sysctls.
setup_pair() {
	use_pair "$1" "$2"
	make_pair_netns
	set_receiver_sysctls "$3"
	if [ "$2" = wscale8 ]; then
		ip netns exec "$NS_RECV" sysctl -q -w net.ipv4.tcp_rmem="4096 131072 12582912"
		if ip netns exec "$NS_RECV" test -e /proc/sys/net/ipv4/tcp_adv_win_scale; then
			ip netns exec "$NS_RECV" sysctl -q -w net.ipv4.tcp_adv_win_scale=1
		fi
	fi
}

# pids_in NS: the processes in namespace NS but any rcvgovd: rcvgovd
# enters every namespace (setns) on each scan, so `ip netns pids` lists it
# now and then.
pids_in() {
	local pid comm
	for pid in $(ip netns pids "$1" 2>/dev/null); do
		read -r comm 2>/dev/null <"/proc/$pid/comm" || continue
		[ "$comm" = rcvgovd ] || echo "$pid"
	done
}
# drop_pair COND SCEN: stop what runs in the pair's namespaces, delete them.
drop_pair() {
	local ns
	use_pair "$1" "$2"
	# TERM first: the pair programs stop cleanly on it.
	for ns in "$NS_SEND" "$NS_RECV"; do
		pids_in "$ns" | xargs -r kill -TERM 2>/dev/null || true
	done
	sleep 0.3
	for ns in "$NS_SEND" "$NS_RECV"; do
		pids_in "$ns" | xargs -r kill -9 2>/dev/null || true
		ip netns del "$ns" 2>/dev/null || true
	done
}

declare -A UP_MS=() WSCALE=()
# start_one COND SCEN: the scenario's pair, connected when it returns.
start_one() {
	local tag="$1-$2" line
	use_pair "$1" "$2"
	start_pair --rt "$tag" "$RECV4:$PORT" $((SECS + 60)) "$(reader_opts "$2")" "$(sender_opts "$2")"
	UP_MS[$tag]=$(sed -n 's/^accepted .* at=\([0-9]*\).*/\1/p' "$TMP/reader$tag.out" | head -1)
	line=$(timeout 5 ip netns exec "$NS_RECV" ss -Htni state established "( sport = :$PORT )" | tr '\n' ' ')
	WSCALE[$tag]=$(sed -n 's/.*wscale:\([0-9]*\),\([0-9]*\).*/\2/p' <<<"$line")
}

# foreign_daemons: pids of rcvgovd processes that are not ours.
foreign_daemons() { pgrep -x rcvgovd | grep -vx "${DAEMON_PID:-none}" | tr '\n' ' ' || true; }

# sample_phase PHASE COND...: sample every pair of the given conditions
# (all scenarios) once a second until the youngest connection is SECS old;
# rows into $CSV.
sample_phase() {
	local phase=$1 c s t0 i=0 now delay youngest=0 p
	local -a pids
	shift
	for c in "$@"; do for s in "${SCENARIOS[@]}"; do
		[ "${UP_MS[$c-$s]}" -le "$youngest" ] || youngest=${UP_MS[$c-$s]}
	done; done
	t0=$(now_ms)
	while :; do
		i=$((i + 1))
		delay=$((t0 + i * 1000 - $(now_ms)))
		[ $delay -le 0 ] || sleep "$(printf '%d.%03d' $((delay / 1000)) $((delay % 1000)))"
		now=$(now_ms)
		# Every pair at once (nsenter: no mount namespace to set up, as ip
		# netns exec does): on a busy host one after another takes seconds.
		pids=()
		for c in "$@"; do for s in "${SCENARIOS[@]}"; do
			use_pair "$c" "$s"
			# shellcheck disable=SC2016 # for the inner shell
			timeout 5 nsenter --net="/run/netns/$NS_RECV" sh -c 'ss -HtmnO "( sport = :$1 )"
				read -r v </proc/sys/net/ipv4/tcp_shrink_window; echo "shrink=$v"' \
				sample "$PORT" >"$TMP/sample.$c-$s" 2>/dev/null &
			pids+=($!)
		done; done
		for p in "${pids[@]}"; do wait "$p" || true; done
		for c in "$@"; do for s in "${SCENARIOS[@]}"; do
			awk -v ph="$phase" -v c="$c" -v s="$s" -v n="$now" -v u="${UP_MS[$c-$s]}" '
				/^ESTAB/ && /skmem:/ && r == "" { q = $2
					if (match($0, /skmem:\(r[0-9]+,rb[0-9]+/)) {
						split(substr($0, RSTART + 8, RLENGTH - 8), f, ",rb"); r = f[1]; rb = f[2] } }
				/^shrink=/ { sh = substr($0, 8) }
				END { printf "%s,%s,%s,%.2f,%s,%s,%s,%s\n", ph, c, s, (n - u) / 1000, r, rb, q, sh }' \
				"$TMP/sample.$c-$s" >>"$CSV"
		done; done
		[ $((now - youngest)) -lt $((SECS * 1000 + 500)) ] || break
	done
}

# counters PHASE COND...: each pair's zero-window counters, before its
# namespaces go; in ZW[COND-SCEN].
declare -A ZW=()
counters() {
	local c s
	for c in "$@"; do for s in "${SCENARIOS[@]}"; do
		use_pair "$c" "$s"
		ZW[$c-$s]="TCPToZeroWindowAdv $(nstat_in "$NS_RECV" TcpExtTCPToZeroWindowAdv || true), TCPWantZeroWindowAdv $(nstat_in "$NS_RECV" TcpExtTCPWantZeroWindowAdv || true)"
	done; done
}
# stalled_at COND SCEN: the age from which r stayed within 2 % of its last
# value to the end (a zero-window stall: docs/test-pairs.md, "Busy hosts"),
# if that lasted 10 s or more.
stalled_at() {
	awk -F, -v c="$1" -v s="$2" '$2 == c && $3 == s && $5 != "" { n++; a[n] = $4; r[n] = $5 }
		END { if (!n) exit
			for (i = n; i > 1 && r[i - 1] >= r[n] * 0.98 && r[i - 1] <= r[n] * 1.02; i--) ;
			if (a[n] - a[i] >= 10) print a[i] }' "$CSV"
}

# figure COND SCEN FIELD: the largest FIELD (r or rb) of the pair's samples
# aged (SECS - WINDOW, SECS + 1.5]; empty if none.
figure() {
	awk -F, -v c="$1" -v s="$2" -v f="$3" -v lo=$((SECS - WINDOW)) -v hi="$SECS.5" '
		$2 == c && $3 == s && $4 + 0 > lo && $4 + 0 <= hi + 1 && $5 != "" {
			v = (f == "r") ? $5 : $6; n++; if (v + 0 > m + 0) m = v }
		END { if (n) print m }' "$CSV"
}
# flipped COND SCEN: samples where the pair's namespace did not have the
# sysctl its condition wants (vanilla: 0, others: 1).
flipped() {
	awk -F, -v c="$1" -v s="$2" -v want="$([ "$1" = vanilla ] && echo 0 || echo 1)" '
		$2 == c && $3 == s && $8 != "" && $8 != want { n++ } END { print n + 0 }' "$CSV"
}
# max_rmem2: what window scale tcp_rmem[2] and net.core.rmem_max give.
rmem_max=$(cat /proc/sys/net/core/rmem_max)
[ "$rmem_max" -le 12582912 ] || log "warning: net.core.rmem_max=$rmem_max (global) raises wscale8's window scale above 8"

echo "phase,condition,scenario,age_s,r,rb,recv_q,shrink" >"$CSV"
t_start=$SECONDS

# Phase 1: no daemon, vanilla and shrink-1, every scenario at once. Re-run
# once if another rcvgovd set the sysctl in a vanilla namespace.
# enforcer_around: another rcvgovd sets tcp_shrink_window in new
# namespaces (dry-run and observe-only ones do not, and do not matter): a
# fresh canary namespace at 0 is still at 0 after 1.5 s (6 of its scans).
enforcer_around() {
	local ns="$NS_PREFIX-canary" v
	ip netns add "$ns" || return 1
	ip netns exec "$ns" sysctl -q -w net.ipv4.tcp_shrink_window=0
	sleep 1.5
	v=$(sysctl_in "$ns" net.ipv4.tcp_shrink_window)
	ip netns del "$ns"
	[ "$v" != 0 ]
}
# wait_alone SECS: wait at most SECS until no other rcvgovd enforces.
wait_alone() {
	local deadline=$((SECONDS + $1))
	local said=0
	[ -n "$(foreign_daemons)" ] || return 0
	while enforcer_around; do
		if [ $SECONDS -ge "$deadline" ]; then
			log "warning: another rcvgovd (pids $(foreign_daemons)) still sets tcp_shrink_window in new namespaces after ${1}s: going on"
			return 0
		fi
		[ $said = 1 ] || log "another rcvgovd (pids $(foreign_daemons)) sets tcp_shrink_window in new namespaces: waiting (at most ${1}s) for it to end"
		said=1
		sleep 5
	done
	[ $said = 0 ] || log "no other rcvgovd sets tcp_shrink_window now: going on"
}
for attempt in 1 2 3; do
	wait_alone "$ALONE_WAIT"
	for s in "${SCENARIOS[@]}"; do
		setup_pair vanilla "$s" 0
		setup_pair shrink1 "$s" 1
	done
	for s in "${SCENARIOS[@]}"; do start_one vanilla "$s" && start_one shrink1 "$s"; done
	log "phase 1 (no daemon): ${#SCENARIOS[@]} scenarios x {vanilla, shrink-1} connected; sampling ${SECS}s"
	sample_phase "nodaemon$attempt" vanilla shrink1
	counters vanilla shrink1
	for s in "${SCENARIOS[@]}"; do drop_pair vanilla "$s" && drop_pair shrink1 "$s"; done
	bad=0
	for s in "${SCENARIOS[@]}"; do
		[ "$(flipped vanilla "$s")" -eq 0 ] || bad=1
	done
	if [ $bad = 0 ] || [ $attempt = 3 ]; then break; fi
	log "warning: tcp_shrink_window changed under a vanilla pair (another rcvgovd?); phase 1 again"
	sed -i "/^nodaemon$attempt,/d" "$CSV"
done

# Phase 2: rcvgovd with its embedded defaults governs every scenario.
start_daemon --interval 1000
for s in "${SCENARIOS[@]}"; do setup_pair governed "$s" 0; done
for s in "${SCENARIOS[@]}"; do
	use_pair governed "$s"
	# shellcheck disable=SC2317 # called through wait_for
	shrunk() { [ "$(sysctl_in "$NS_RECV" net.ipv4.tcp_shrink_window)" = 1 ]; }
	wait_for 5 "rcvgovd to set tcp_shrink_window=1 in $NS_RECV" shrunk
done
for s in "${SCENARIOS[@]}"; do start_one governed "$s"; done
log "phase 2 (rcvgovd, embedded defaults): ${#SCENARIOS[@]} scenarios connected; sampling ${SECS}s"
sample_phase daemon governed
counters governed
clamps=$(log_count "action: clamp .* local=[^ ]*:$PORT ")
destroys=$(log_count "action: destroy .* local=[^ ]*:$PORT ")
ctl status --json >"$BENCH_OUT/p1-rcvgovd-status.json" 2>/dev/null || true
cp "$DAEMON_LOG" "$BENCH_OUT/p1-rcvgovd.log"
stop_daemon
for s in "${SCENARIOS[@]}"; do drop_pair governed "$s"; done
log "phases done in $((SECONDS - t_start))s; rcvgovd: $clamps clamp and $destroys destroy actions on our sockets ($(log_count 'action: ') on any socket of the host); samples in $CSV"

# The rows.
unmeasured=0
declare -A R=() RB=()
for c in vanilla shrink1 governed; do for s in "${SCENARIOS[@]}"; do
	R[$c-$s]=$(figure "$c" "$s" r)
	RB[$c-$s]=$(figure "$c" "$s" rb)
	if [ -z "${R[$c-$s]}" ]; then
		log "no sample of $c/$s in its last ${WINDOW}s: the socket was gone"
		unmeasured=1
	fi
	log "$c/$s: r ${R[$c-$s]:-?} rb ${RB[$c-$s]:-?} (max over the last ${WINDOW}s), receiver wscale ${WSCALE[$c-$s]:-?}$([ "$(flipped "$c" "$s")" -eq 0 ] || echo ", sysctl NOT as the condition wants in $(flipped "$c" "$s") samples")"
done; done

note_of() { # COND SCEN: rb, wscale, counters and anything wrong
	local n="rb ${RB[$1-$2]:-?}, wscale ${WSCALE[$1-$2]:-?}, ${ZW[$1-$2]:-}" st
	st=$(stalled_at "$1" "$2")
	[ -z "$st" ] || [ "$1" != vanilla ] || n+=", r flat from ${st}s on (a zero-window stall ends the growth: see docs/test-pairs.md, Busy hosts)"
	[ "$(flipped "$1" "$2")" -eq 0 ] || n+=", tcp_shrink_window not as wanted in $(flipped "$1" "$2") samples"
	echo "$n"
}
v=${R[vanilla-blog]:-} g=${R[governed-blog]:-}
bench_row P1 "receiver r, blog pair: vanilla/governed (x less)" "${g:-nan}" B vanilla "${v:-nan}" \
	"$([ -n "$v" ] && [ -n "$g" ] && ratio "$v" "$g" || echo nan)" ">=" 500 \
	"r after ${SECS}s (max of the last ${WINDOW}s); ratio = vanilla/governed, how many times less memory governed holds; governed: $(note_of governed blog); vanilla: $(note_of vanilla blog); rcvgovd clamps $clamps, destroys $destroys"
# The oscillating reader runs three times per condition: whether autotuning
# grows rb in a fast phase varies from run to run in either condition, so
# one pair is noise; the row compares the medians.
med_r() { # COND: median r of osc1..3 ("" if one is missing)
	local v=() s
	for s in osc1 osc2 osc3; do
		[ -n "${R[$1-$s]:-}" ] || return 0
		v+=("${R[$1-$s]}")
	done
	median "${v[@]}"
}
for s in "${SCENARIOS[@]}"; do
	g=${R[governed-$s]:-} a=${R[shrink1-$s]:-} label=$s
	case $s in
	osc2 | osc3) continue ;;
	osc1)
		g=$(med_r governed) a=$(med_r shrink1) label="osc (median of 3)"
		R[vanilla-$s]=$(med_r vanilla)
		;;
	esac
	bench_row P1 "receiver r, $label: governed/shrink-1" "${g:-nan}" B "shrink-1 alone" "${a:-nan}" \
		"$([ -n "$g" ] && [ -n "$a" ] && ratio "$g" "$a" || echo nan)" "<=" 1.1 \
		"r after ${SECS}s (max of the last ${WINDOW}s); ratio = governed/shrink-1-alone; governed: $(note_of governed "$s"); shrink-1: $(note_of shrink1 "$s"); vanilla r ${R[vanilla-$s]:-?}"
done
log "took $((SECONDS - t_start))s"
exit $unmeasured
