#!/usr/bin/env python3
"""hold_sockets.py PAIRS PORT: PAIRS idle loopback TCP connections to PORT
and PORT+1, both ends held open by this one process, then sleeps until
killed. Prints "ready N" (N sockets) once all are up. A loopback connect
completes inside connect(), so the accept() right after never waits.
Used by the benchmarks that need many idle established sockets (run it in
a test namespace; several processes when PAIRS*2 exceeds the fd limit)."""
import resource
import socket
import sys
import time

_, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
pairs, port = int(sys.argv[1]), int(sys.argv[2])
ports = [port, port + 1]
listeners = []
for p in ports:
    ls = socket.socket()
    ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    ls.bind(("127.0.0.1", p))
    ls.listen(1024)
    listeners.append(ls)
held = []
deadline = time.monotonic() + 120
for i in range(pairs):
    if time.monotonic() > deadline:
        print("timeout after", len(held), flush=True)
        sys.exit(1)
    k = i % len(ports)
    c = socket.socket()
    c.connect(("127.0.0.1", ports[k]))
    a, _ = listeners[k].accept()
    held += (c, a)
print("ready", len(held), flush=True)
time.sleep(3600)
