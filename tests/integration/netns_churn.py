#!/usr/bin/env python3
"""Helper of netns_churn.sh (not a test by itself).

churn: creates and deletes named network namespaces (`ip netns add/del`,
one `ip -batch` per batch) and measures, for each, how long after its
creation it first reads net.ipv4.tcp_shrink_window=1. The sysctl is read
through a file descriptor opened from inside the namespace (setns, open,
setns back), so polling it every 2 ms costs one pread, not a process.

reset: in one fresh namespace, once rcvgovd has set the sysctl to 1, writes
0 from inside and measures how soon it is 1 again.

Prints one line of figures on stdout; exits 1 with what was expected and
what was seen when a limit is missed. Deletes its namespaces on every
exit.
"""
import argparse
import ctypes
import os
import subprocess
import sys
import time

CLONE_NEWNET = 0x40000000
SYSCTL = "/proc/sys/net/ipv4/tcp_shrink_window"
libc = ctypes.CDLL(None, use_errno=True)
HOME = os.open("/proc/self/ns/net", os.O_RDONLY)


def setns(fd):
    if libc.setns(fd, CLONE_NEWNET) != 0:
        e = ctypes.get_errno()
        raise OSError(e, os.strerror(e))


def sysctl_fd(name):
    """An fd on the namespace's tcp_shrink_window, opened from inside it."""
    nsfd = os.open(f"/run/netns/{name}", os.O_RDONLY)
    try:
        setns(nsfd)
        return os.open(SYSCTL, os.O_RDWR)
    finally:
        setns(HOME)
        os.close(nsfd)


def value(fd):
    return os.pread(fd, 8, 0).strip().decode()


def ip_batch(verb, names, force=False):
    cmds = "".join(f"netns {verb} {n}\n" for n in names)
    r = subprocess.run(["ip"] + (["-force"] if force else []) + ["-batch", "-"], input=cmds,
                       text=True, capture_output=True)
    if r.returncode != 0 and not force:
        raise SystemExit(f"ip netns {verb} failed: {r.stderr.strip()}")


def now_ms():
    return time.monotonic() * 1000


def churn(a, created):
    worst, total_ms, done = 0.0, 0.0, 0
    t_start = time.monotonic()
    for b in range(a.total // a.batch):
        if time.monotonic() - t_start > a.time_limit:
            raise SystemExit(f"churn: only {done} of {a.total} namespaces within {a.time_limit} s")
        names = [f"{a.prefix}{b * a.batch + i}" for i in range(a.batch)]
        t0 = now_ms()  # before the first of the batch exists: a conservative start
        created.update(names)
        ip_batch("add", names)
        fds = {n: sysctl_fd(n) for n in names}
        waiting = set(names)
        while waiting:
            t = now_ms() - t0
            for n in list(waiting):
                if value(fds[n]) == "1":
                    waiting.discard(n)
                    worst = max(worst, t)
                    total_ms += t
            if waiting and t > a.deadline_ms:
                raise SystemExit(f"churn: batch {b}: {len(waiting)} namespace(s) still at "
                                 f"tcp_shrink_window={value(fds[min(waiting)])} {t:.0f} ms after "
                                 f"creation, expected 1 within {a.deadline_ms} ms "
                                 f"({done} namespaces were fine before)")
            time.sleep(0.002)
        for fd in fds.values():
            os.close(fd)
        ip_batch("del", names)
        created.difference_update(names)
        done += len(names)
    print(f"namespaces={done} batch={a.batch} worst_ms={worst:.0f} mean_ms={total_ms / done:.0f} "
          f"elapsed_s={time.monotonic() - t_start:.1f}")


def reset(a, created):
    name = f"{a.prefix}reset"
    created.add(name)
    ip_batch("add", [name])
    fd = sysctl_fd(name)
    results = []
    try:
        for i in range(a.rounds):
            t0 = now_ms()
            while value(fd) != "1":
                if now_ms() - t0 > 1000:
                    raise SystemExit(f"reset: {name} not at 1 within 1000 ms (round {i})")
                time.sleep(0.002)
            os.pwrite(fd, b"0", 0)
            t0 = now_ms()
            while value(fd) != "1":
                if now_ms() - t0 > a.deadline_ms:
                    raise SystemExit(f"reset: tcp_shrink_window reset to 0 from inside was still "
                                     f"{value(fd)} after {a.deadline_ms} ms, expected 1 within "
                                     f"one scan period plus slack")
                time.sleep(0.002)
            results.append(now_ms() - t0)
    finally:
        os.close(fd)
    print("reset_ms=" + ",".join(f"{r:.0f}" for r in results) + f" worst_ms={max(results):.0f}")


def main():
    p = argparse.ArgumentParser()
    p.add_argument("what", choices=("churn", "reset"))
    p.add_argument("--prefix", required=True)
    p.add_argument("--total", type=int, default=1000)
    p.add_argument("--batch", type=int, default=20)
    p.add_argument("--deadline-ms", type=int, default=1000)
    p.add_argument("--time-limit", type=float, default=100)
    p.add_argument("--rounds", type=int, default=3)
    a = p.parse_args()
    created = set()
    try:
        (churn if a.what == "churn" else reset)(a, created)
    finally:
        if created:
            ip_batch("del", sorted(created), force=True)


if __name__ == "__main__":
    sys.exit(main())
