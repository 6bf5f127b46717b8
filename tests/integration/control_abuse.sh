#!/usr/bin/env bash
# The control socket of a real rcvgovd against clients that misbehave:
# random bytes, invalid UTF-8, a 2 MiB request, 200 idle clients that keep
# reconnecting, clients that ask for sockets and never read, a non-root
# client. Throughout, `rcvgovctl status` must answer within 1 s every time
# (the worst latency is printed); at the end the daemon is alive, its
# counters show what it refused, and it exits 0 on SIGTERM. About 30 s.
source "$(dirname "$0")/../lib.sh"
need_root

# The misbehaving clients, in one python script: abuse.py MODE SOCKET [ARGS].
cat >"$TMP/abuse.py" <<'PY'
import os, select, socket, sys, time

mode, path = sys.argv[1], sys.argv[2]

def conn(retry=False):
    # A full backlog (the idle flood) answers EAGAIN at once: retry when
    # asked to, for up to 5 s.
    end = time.time() + 5
    while True:
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        s.settimeout(5)
        try:
            s.connect(path)
            return s
        except BlockingIOError:
            s.close()
            if not retry or time.time() > end:
                raise
            time.sleep(0.01)

def answer(s):
    got = b""
    try:
        while True:
            b = s.recv(65536)
            if not b:
                break
            got += b
    except (ConnectionResetError, socket.timeout):
        pass
    return got.decode("utf-8", "replace").strip()

if mode == "send":  # send FILE: its bytes, then print the answer
    s = conn(retry=True)
    try:
        s.sendall(open(sys.argv[3], "rb").read())
    except (BrokenPipeError, ConnectionResetError):
        pass  # closed early, as it should for 2 MiB
    print(answer(s))
elif mode == "idle":  # idle N SECS: N idle connections, topped up every second
    n, secs = int(sys.argv[3]), float(sys.argv[4])
    socks, opened, closed, wave = [], 0, 0, 0
    end = time.time() + secs
    while time.time() < end:
        while time.time() >= wave and len(socks) < n:
            try:
                socks.append(conn())
                opened += 1
            except OSError:
                break
        if time.time() >= wave:
            wave = time.time() + 1
        r, _, _ = select.select(socks, [], [], 0.05)
        for s in r:  # the daemon closed it (evicted or timed out)
            s.close()
            socks.remove(s)
            closed += 1
    print(f"idle clients: {opened} connections opened, {closed} closed by rcvgovd")
elif mode == "noread":  # noread N SECS: ask for sockets, never read
    n, secs = int(sys.argv[3]), float(sys.argv[4])
    socks = []
    for i in range(n):
        s = conn(retry=True)
        s.sendall(b'{"cmd":"sockets","limit":2000}\n' if i % 2 else b'{"cmd":"sockets"}\n')
        socks.append(s)
    time.sleep(secs)
elif mode == "nonroot":  # as uid 65534: connect, ask, print the answer
    os.setgroups([])
    os.setgid(65534)
    os.setuid(65534)
    s = conn(retry=True)
    try:
        s.sendall(b'{"cmd":"status"}\n')
    except (BrokenPipeError, ConnectionResetError):
        pass
    print(answer(s))
PY
abuse() { timeout -k 2 30 python3 "$TMP/abuse.py" "$1" "$CTL_SOCK" "${@:2}"; }

start_daemon --config "$(observe_only_config)"

# rcvgovctl status, every 100 ms until $TMP/stop exists: one latency (ms)
# per line in $TMP/latency, failures in $TMP/status-failures.
status_loop() {
	local t0 dt
	while [ ! -e "$TMP/stop" ]; do
		t0=$(now_ms)
		if ! timeout 5 "$BIN/rcvgovctl" --socket "$CTL_SOCK" status >/dev/null 2>"$TMP/status.err"; then
			echo "$(now_ms): $(cat "$TMP/status.err")" >>"$TMP/status-failures"
		fi
		dt=$(($(now_ms) - t0))
		echo "$dt" >>"$TMP/latency"
		sleep 0.1
	done
}
: >"$TMP/latency"
status_loop &
STATUS_LOOP=$!
CLEANUP_HOOKS+=("touch $TMP/stop; kill $STATUS_LOOP 2>/dev/null")

# 1. Garbage: an error answer or a close, never a dead daemon.
printf '\xff\xfe\n' >"$TMP/utf8"
out=$(abuse send "$TMP/utf8")
grep -q '"ok":false' <<<"$out" || fail "no error answer to invalid UTF-8: $out"
log "invalid UTF-8: $out"
for i in 1 2 3 4 5; do
	head -c 100000 /dev/urandom >"$TMP/random"
	out=$(abuse send "$TMP/random")
	[ -z "$out" ] || grep -q '"ok":false' <<<"$out" || fail "random bytes answered: $out"
	alive "$DAEMON_PID" || fail "rcvgovd died on random bytes (round $i)"
done
log "random bytes (5 x 100000): answered with errors, daemon alive"
head -c $((2 << 20)) /dev/zero | tr '\0' 'a' >"$TMP/big"
out=$(abuse send "$TMP/big")
grep -q 'request larger than 64 KiB' <<<"$out" || fail "2 MiB request: $out"
log "2 MiB request: $out"

# 2. Floods, while status keeps being asked.
abuse noread 6 12 >"$TMP/noread.out" 2>&1 &
NOREAD_PID=$!
sleep 0.5
abuse idle 200 12 >"$TMP/idle.out" 2>&1 &
IDLE_PID=$!
CLEANUP_HOOKS+=("kill $IDLE_PID $NOREAD_PID 2>/dev/null")
sleep 1
rss_during=$(awk '/^VmRSS/ { print $2 }' "/proc/$DAEMON_PID/status")
wait "$IDLE_PID" || fail "the idle clients failed: $(cat "$TMP/idle.out")"
wait "$NOREAD_PID" || fail "the never-reading clients failed: $(cat "$TMP/noread.out")"
log "$(cat "$TMP/idle.out"); rcvgovd VmRSS during the flood: ${rss_during} kB"

# 3. Non-root: rcvgovctl cannot even connect (0700 directory, 0600 socket)...
if out=$(setpriv --reuid=65534 --regid=65534 --clear-groups \
	"$BIN/rcvgovctl" --socket "$CTL_SOCK" status 2>&1); then
	fail "rcvgovctl as uid 65534 got an answer: $out"
fi
grep -q 'run as root' <<<"$out" || fail "unclear refusal for uid 65534: $out"
log "rcvgovctl as uid 65534: $out"
# ... and with the file permissions opened, the daemon's own uid check
# answers with an error and closes.
chmod 0711 "$TMP"
chmod 0666 "$CTL_SOCK"
out=$(abuse nonroot)
chmod 0700 "$TMP"
chmod 0600 "$CTL_SOCK"
grep -q 'permission denied: only root may talk to rcvgovd' <<<"$out" ||
	fail "uid 65534 past the file permissions was not refused: $out"
log "uid 65534 past the file permissions: $out"

touch "$TMP/stop"
wait "$STATUS_LOOP" || true
worst=$(sort -n "$TMP/latency" | tail -1)
count=$(wc -l <"$TMP/latency")
log "rcvgovctl status: $count answers, worst latency ${worst} ms"
if [ -s "$TMP/status-failures" ]; then
	fail "rcvgovctl status failed $(wc -l <"$TMP/status-failures") times: $(head -3 "$TMP/status-failures")"
fi
[ "$count" -ge 20 ] || fail "only $count status answers"
[ "$worst" -le 1000 ] || fail "rcvgovctl status took $worst ms (limit 1000)"

# 4. Alive, counted, and a clean exit.
alive "$DAEMON_PID" || fail "rcvgovd died"
ctl status --json | jq -c .control >"$TMP/control.json"
log "control counters: $(cat "$TMP/control.json")"
python3 - "$TMP/control.json" <<'PYCHECK' || fail "control counters are not what they should be"
import json, sys
c = json.load(open(sys.argv[1]))
assert c["refused_uid"] >= 1, c
assert c["evicted"] >= 1, c
assert c["oversized_requests"] >= 1, c
assert c["internal_errors"] == 0, c
PYCHECK
[ "$(log_count 'critical')" -eq 0 ] || fail "the daemon logged a critical error"
stop_daemon
log "PASS"
