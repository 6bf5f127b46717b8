"""Assertions for blog_pair.inc.sh, reading the daemon's JSON answers."""
import json
import os
import sys

tmp = os.environ["TMP"]
shrink = os.environ["SHRINK"] == "1"
MIB = 1 << 20


def load(name):
    with open(os.path.join(tmp, name)) as f:
        return json.load(f)


def fail(msg):
    print(f"FAIL: {msg}", file=sys.stderr)
    sys.exit(1)


sockets = load("sockets.json")
start = load("sockets-start.json")
events = load("events.json")
status = load("status.json")

print("attach paths:", ", ".join(f"{h['hook']}={h['path']}" for h in status["hooks"]),
      file=sys.stderr)
if status["mode"] != "bpf":
    fail(f"daemon is not using BPF: {status.get('bpf_error')}")

receivers = {}
for fam, recv, send, port, pid in (
        ("4", os.environ["RECV4"], os.environ["SEND4"], os.environ["PORT4"], os.environ["READER4_PID"]),
        ("6", os.environ["RECV6"], os.environ["SEND6"], os.environ["PORT6"], os.environ["READER6_PID"])):
    local = f"{recv}:{port}" if fam == "4" else f"[{recv}]:{port}"
    found = [s for s in sockets if s["local"] == local]
    if len(found) != 1:
        fail(f"IPv{fam}: expected one socket with local {local}, got {len(found)}")
    s = found[0]
    if not s["peer"].startswith(send if fam == "4" else f"[{send}]"):
        fail(f"IPv{fam}: peer {s['peer']} is not the sender {send}")
    if s["owner"]["comm"] != "rcvgov-reader" or str(s["owner"]["pid"]) != pid:
        fail(f"IPv{fam}: owner {s['owner']} is not rcvgov-reader pid {pid}")
    if not s["owner"]["netns_cookie"]:
        fail(f"IPv{fam}: no netns cookie in owner {s['owner']}")
    # The inode the observer read must be the reader's socket (what the
    # clamp fast path looks for in /proc/PID/fd).
    links = set()
    for fd in os.listdir(f"/proc/{pid}/fd"):
        try:
            links.add(os.readlink(f"/proc/{pid}/fd/{fd}"))
        except OSError:
            pass
    if f"socket:[{s['owner']['ino']}]" not in links:
        fail(f"IPv{fam}: owner inode {s['owner']['ino']} is no socket of reader {pid}")
    first = [x for x in start if x["cookie"] == s["cookie"]]
    start_rcvbuf = first[0]["rcvbuf"] if first else s["autotuned_rcvbuf"]
    print(f"IPv{fam}: cookie {s['cookie']} rmem_alloc {s['rmem_alloc']} rcvbuf {s['rcvbuf']} "
          f"(start {start_rcvbuf}) autotuned {s['autotuned_rcvbuf']} inflations {s['inflations']} "
          f"stall_ms {s['stall_ms']}", file=sys.stderr)
    # The reader takes a byte every millisecond: it progresses, however much
    # data waits, so it is never stalled (never a candidate for reclamation).
    if s["stall_ms"] >= 2000:
        fail(f"IPv{fam}: a reader that reads every 1 ms looks stalled for {s['stall_ms']} ms")
    receivers[s["cookie"]] = (fam, s, start_rcvbuf)

inflation_cookies = {e["cookie"] for e in events if e["type"] == "inflation"}

if not shrink:
    for cookie, (fam, s, _) in receivers.items():
        if s["rmem_alloc"] <= 4 * MIB or s["rcvbuf"] <= 4 * MIB:
            fail(f"IPv{fam}: expected rmem_alloc and rcvbuf above 4 MiB without shrinking, "
                 f"got {s['rmem_alloc']} / {s['rcvbuf']}")
        if s["inflations"] == 0:
            fail(f"IPv{fam}: rcvbuf grew but no inflation was counted")
        if s["autotuned_rcvbuf"] >= s["rcvbuf"]:
            fail(f"IPv{fam}: autotuned limit {s['autotuned_rcvbuf']} not below inflated "
                 f"rcvbuf {s['rcvbuf']}")
        if cookie not in inflation_cookies:
            fail(f"IPv{fam}: no inflation event for cookie {cookie}")
    extra = inflation_cookies - set(receivers)
    if extra:
        fail(f"inflation events for sockets that are not the receivers: {sorted(extra)}")
    for e in events:
        if e["type"] == "inflation" and e["rcvbuf_after"] <= e["rcvbuf_before"]:
            fail(f"inflation event that does not inflate: {e}")
else:
    for cookie, (fam, s, start_rcvbuf) in receivers.items():
        if s["inflations"] != 0:
            fail(f"IPv{fam}: {s['inflations']} inflations with tcp_shrink_window=1")
        if s["rcvbuf"] > 1.1 * start_rcvbuf:
            fail(f"IPv{fam}: rcvbuf {s['rcvbuf']} above 1.1x its start {start_rcvbuf}")
    if inflation_cookies & set(receivers):
        fail("inflation events reported with tcp_shrink_window=1")
print("ok", file=sys.stderr)
