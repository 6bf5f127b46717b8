#!/usr/bin/env python3
"""Judge one kernel's kselftest log against kselftests/tcp_rcvbuf/expected.txt.

usage: ktap_verdict.py --expect expected.txt --kernel NAME [--vm] LOG

The log holds every test framed as
    KSFT-BEGIN <test>
    ... KTAP: "1..N", "ok N <test>.<sub>", "not ok N ...", "# SIGNATURE <test>.<sub> <why>"
    KSFT-END <test> rc=<exit status> [secs=S]
(tests/vm-kernel/run-kselftests.sh writes it, in a VM or on the host).

expected.txt, one line per subtest and kernel pattern:
    <test>.<sub>  <kernel glob>  ok|fail|skip|okfail  [signature ERE]
The last line whose glob matches the kernel name wins.  "fail" and "skip"
need the signature: the subtest's "# SIGNATURE" line must match it, so an
expected failure counts only for its expected reason.  "okfail" (a kernel
bug whose effect depends on timing) accepts ok, or a failure whose
signature matches.

Every check prints a line "  PASS|FAIL <kernel> <what> ..."; the last line is
"verdict <kernel>: P passed, F failed"; exit status 1 when F > 0.  A FAIL:
a subtest whose result or reason differs; an expected subtest that did not
report; a subtest nobody expects; a test killed, timed out (rc 124) or
crashed (no KSFT-END, or an exit status that is not 0/1/4 or disagrees with
its KTAP lines); a KTAP plan that does not match the results; with --vm, a
VM that did not end with "RCVGOV-VM-RESULT rc=0".
"""
import argparse
import fnmatch
import re
import sys

RESULT_RE = re.compile(r"^(not ok|ok) (\d+) (\S+)(.*)$")
SIG_RE = re.compile(r"^# SIGNATURE (\S+) (.*)$")


def parse_expect(text):
    """[(subtest, glob, result, signature-or-None)] in file order."""
    rules = []
    for n, line in enumerate(text.splitlines(), 1):
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        parts = line.split(None, 3)
        if len(parts) < 3 or parts[2] not in ("ok", "fail", "skip", "okfail"):
            raise ValueError(f"expected.txt:{n}: bad line: {line}")
        sig = parts[3] if len(parts) > 3 else None
        if parts[2] != "ok" and not sig:
            raise ValueError(f"expected.txt:{n}: {parts[2]} needs a signature")
        re.compile(sig or "")
        rules.append((parts[0], parts[1], parts[2], sig))
    return rules


def expectations(rules, kernel):
    """{subtest: (result, signature)} for one kernel (last match wins)."""
    out = {}
    for st, glob, res, sig in rules:
        if fnmatch.fnmatchcase(kernel, glob):
            out[st] = (res, sig)
    return out


class Frame:
    def __init__(self, name):
        self.name = name
        self.plan = None
        self.rc = None
        self.results = {}  # subtest -> (got, signature)
        self.order = []
        self.pending_sig = {}


def parse_log(text):
    """({test: Frame}, vm_rc or None)."""
    frames, cur, vm_rc = {}, None, None
    for raw in text.splitlines():
        line = raw.rstrip("\r")
        m = re.match(r"^RCVGOV-VM-RESULT rc=(\d+)", line)
        if m:
            vm_rc = int(m.group(1))
            continue
        if line.startswith("KSFT-BEGIN "):
            cur = Frame(line.split()[1])
            frames[cur.name] = cur
            continue
        if cur is None:
            continue
        if line.startswith("KSFT-END "):
            m = re.match(r"^KSFT-END (\S+) rc=(\d+)", line)
            if m and m.group(1) == cur.name:
                cur.rc = int(m.group(2))
                cur = None
            continue
        m = re.match(r"^1\.\.(\d+)$", line)
        if m and cur.plan is None:
            cur.plan = int(m.group(1))
            continue
        m = SIG_RE.match(line)
        if m:
            cur.pending_sig[m.group(1)] = m.group(2).strip()
            continue
        m = RESULT_RE.match(line)
        if m:
            st, rest = m.group(3), m.group(4)
            if m.group(1) == "not ok":
                got = "fail"
            elif re.search(r"#\s*SKIP", rest, re.I):
                got = "skip"
            else:
                got = "ok"
            cur.results[st] = (got, cur.pending_sig.pop(st, None))
            cur.order.append(st)
    return frames, vm_rc


def judge(rules, kernel, log_text, vm=False):
    """[(ok: bool, message)] for one kernel."""
    want = expectations(rules, kernel)
    frames, vm_rc = parse_log(log_text)
    checks = []
    tests = sorted({st.split(".", 1)[0] for st in want} | set(frames))
    for t in tests:
        f = frames.get(t)
        if f is None:
            checks.append((False, f"{t}: never ran (no KSFT-BEGIN)"))
            continue
        if f.rc is None:
            checks.append((False, f"{t}: killed or crashed (no KSFT-END)"))
        elif f.rc == 124:
            checks.append((False, f"{t}: timed out (rc 124)"))
        elif f.rc not in (0, 1, 4):
            checks.append((False, f"{t}: exit status {f.rc} (crash or harness error)"))
        else:
            fails = sum(1 for g, _ in f.results.values() if g == "fail")
            oks = sum(1 for g, _ in f.results.values() if g == "ok")
            implied = 1 if fails else (4 if oks == 0 and f.results else 0)
            if f.rc != implied:
                checks.append((False, f"{t}: exit status {f.rc}, its KTAP lines mean {implied}"))
        if f.plan is None:
            checks.append((False, f"{t}: no KTAP plan"))
        elif f.plan != len(f.order):
            checks.append((False, f"{t}: KTAP plan 1..{f.plan}, {len(f.order)} results"))
        for st in f.order:
            if st not in want:
                checks.append((False, f"{st}: not in expected.txt for {kernel}"))
    for st in sorted(want):
        res, sig = want[st]
        f = frames.get(st.split(".", 1)[0])
        got, gsig = f.results.get(st, ("missing", None)) if f else ("missing", None)
        what = f"{st:<36} expected {res:<5} got {got}"
        if gsig:
            what += f" [{gsig}]"
        if res == "okfail" and got in ("ok", "fail"):
            res = got
        if got != res:
            checks.append((False, what))
        elif res != "ok" and not (gsig and re.search(sig, gsig)):
            checks.append((False, f"{what}: reason does not match /{sig}/"))
        else:
            checks.append((True, what))
    if vm and vm_rc != 0:
        checks.append((False, "the VM did not report RCVGOV-VM-RESULT rc=0 "
                       f"(got {vm_rc if vm_rc is not None else 'nothing'}: timeout or crash)"))
    return checks


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--expect", required=True)
    ap.add_argument("--kernel", required=True)
    ap.add_argument("--vm", action="store_true")
    ap.add_argument("log")
    a = ap.parse_args(argv)
    with open(a.expect, encoding="utf-8") as fh:
        rules = parse_expect(fh.read())
    with open(a.log, encoding="utf-8", errors="replace") as fh:
        checks = judge(rules, a.kernel, fh.read(), a.vm)
    npass = sum(1 for ok, _ in checks if ok)
    for ok, msg in checks:
        print(f"  {'PASS' if ok else 'FAIL'} {a.kernel:<14} {msg}")
    print(f"verdict {a.kernel}: {npass} passed, {len(checks) - npass} failed")
    return 0 if npass == len(checks) else 1


if __name__ == "__main__":
    sys.exit(main())
