#!/usr/bin/env python3
"""Unit tests of scripts/kernel/ktap_verdict.py on canned kselftest logs (no VM).

Run: python3 tests/vm-kernel/ktap_verdict_test.py  (scripts/kernel/run-kernel-tests.sh
runs it first, so `make test` does).  Last line: "N passed, M failed".
"""
import os
import sys
import unittest

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                "..", "..", "scripts", "kernel"))
import ktap_verdict as kv  # noqa: E402

EXPECT = """
# test.subtest        kernel        result signature
t_a.base              *             ok
t_a.strict            *-patched     ok
t_a.strict            *-unpatched   fail   ^no-sysctl tcp_shrink_window=2 rejected$
t_a.strict            host          skip   ^no-sysctl tcp_shrink_window=2 rejected$
t_b.retract           *-patched     ok
t_b.retract           *-unpatched   fail   ^retract_ack unacked=100$
t_b.retract           host          fail   ^retract_ack unacked=100$
t_a.strict            flaky         ok
t_b.retract           flaky         okfail ^retract_ack unacked=
"""

A_OK = """KSFT-BEGIN t_a
TAP version 13
1..2
ok 1 t_a.base
ok 2 t_a.strict
# t_a: pass 2 fail 0 skip 0
KSFT-END t_a rc=0 secs=3
"""
B_OK = """KSFT-BEGIN t_b
TAP version 13
1..1
ok 1 t_b.retract
KSFT-END t_b rc=0 secs=1
"""
A_UNPATCHED = """KSFT-BEGIN t_a
TAP version 13
1..2
ok 1 t_a.base
# SIGNATURE t_a.strict no-sysctl tcp_shrink_window=2 rejected
not ok 2 t_a.strict
KSFT-END t_a rc=1
"""
B_UNPATCHED = """KSFT-BEGIN t_b
1..1
# filled: rcv_nxt=1 ...
# SIGNATURE t_b.retract retract_ack unacked=100
not ok 1 t_b.retract
KSFT-END t_b rc=1
"""
VM_OK = "RCVGOV-VM-RESULT rc=0\n"


def run(log, kernel, vm=False):
    checks = kv.judge(kv.parse_expect(EXPECT), kernel, log, vm)
    return [m for ok, m in checks if not ok], len(checks)


class Verdict(unittest.TestCase):
    def test_patched_all_pass(self):
        bad, n = run(A_OK + B_OK + VM_OK, "6.1-patched", vm=True)
        self.assertEqual(bad, [])
        self.assertEqual(n, 3)

    def test_unpatched_expected_failures_with_their_reasons(self):
        bad, _ = run(A_UNPATCHED + B_UNPATCHED + VM_OK, "6.1-unpatched", vm=True)
        self.assertEqual(bad, [])

    def test_expected_failure_with_another_reason_fails(self):
        log = A_UNPATCHED + B_UNPATCHED.replace(
            "retract_ack unacked=100", "helper rc=139")
        bad, _ = run(log, "6.1-unpatched")
        self.assertEqual(len(bad), 1)
        self.assertIn("t_b.retract", bad[0])
        self.assertIn("does not match", bad[0])

    def test_expected_failure_without_signature_fails(self):
        log = A_UNPATCHED + B_UNPATCHED.replace(
            "# SIGNATURE t_b.retract retract_ack unacked=100\n", "")
        bad, _ = run(log, "6.1-unpatched")
        self.assertEqual(len(bad), 1)

    def test_signature_of_another_subtest_is_not_taken(self):
        log = A_UNPATCHED + B_UNPATCHED.replace(
            "# SIGNATURE t_b.retract", "# SIGNATURE t_b.other")
        bad, _ = run(log, "6.1-unpatched")
        self.assertTrue(any("t_b.retract" in b for b in bad))

    def test_unexpected_pass_on_unpatched_fails(self):
        bad, _ = run(A_OK + B_UNPATCHED, "6.1-unpatched")
        self.assertEqual(len(bad), 1)
        self.assertIn("expected fail", bad[0])

    def test_killed_test_fails(self):
        log = A_OK + B_OK.replace("KSFT-END t_b rc=0 secs=1\n", "")
        bad, _ = run(log, "6.1-patched")
        self.assertTrue(any("no KSFT-END" in b for b in bad))

    def test_timeout_fails(self):
        log = A_OK + B_OK.replace("rc=0 secs=1", "rc=124")
        bad, _ = run(log, "6.1-patched")
        self.assertTrue(any("timed out" in b for b in bad))

    def test_crash_exit_status_fails(self):
        log = A_OK + B_OK.replace("rc=0 secs=1", "rc=139")
        bad, _ = run(log, "6.1-patched")
        self.assertTrue(any("exit status 139" in b for b in bad))

    def test_exit_status_must_agree_with_ktap(self):
        bad, _ = run(A_OK.replace("rc=0", "rc=1") + B_OK, "6.1-patched")
        self.assertTrue(any("its KTAP lines mean 0" in b for b in bad))

    def test_plan_mismatch_fails(self):
        log = A_OK.replace("1..2", "1..3") + B_OK
        bad, _ = run(log, "6.1-patched")
        self.assertTrue(any("plan 1..3, 2 results" in b for b in bad))

    def test_missing_test_and_subtest_fail(self):
        bad, _ = run(A_OK, "6.1-patched")
        self.assertTrue(any("never ran" in b for b in bad))
        self.assertTrue(any("t_b.retract" in b and "missing" in b for b in bad))

    def test_unknown_subtest_fails(self):
        log = A_OK.replace("1..2", "1..3").replace(
            "ok 2 t_a.strict\n", "ok 2 t_a.strict\nok 3 t_a.extra\n") + B_OK
        bad, _ = run(log, "6.1-patched")
        self.assertEqual(len(bad), 1)
        self.assertIn("t_a.extra", bad[0])

    def test_skip_is_not_ok(self):
        log = A_OK.replace("ok 2 t_a.strict", "ok 2 t_a.strict # SKIP x") + B_OK
        bad, _ = run(log, "6.1-patched")
        self.assertTrue(any("got skip" in b for b in bad))

    def test_host_skip_with_reason_and_fixfail(self):
        log = A_UNPATCHED.replace("not ok 2 t_a.strict",
                                  "ok 2 t_a.strict # SKIP no-sysctl tcp_shrink_window=2 rejected") \
            .replace("rc=1", "rc=0") + B_UNPATCHED
        bad, _ = run(log, "host")
        self.assertEqual(bad, [])

    def test_last_matching_rule_wins(self):
        rules = kv.parse_expect(EXPECT + "t_a.strict 6.1-unpatched ok\n")
        self.assertEqual(kv.expectations(rules, "6.1-unpatched")["t_a.strict"], ("ok", None))
        self.assertEqual(kv.expectations(rules, "6.12-unpatched")["t_a.strict"][0], "fail")

    def test_okfail_takes_ok_or_the_signed_failure_only(self):
        self.assertEqual(run(A_OK + B_OK, "flaky")[0], [])
        self.assertEqual(run(A_OK + B_UNPATCHED, "flaky")[0], [])
        bad, _ = run(A_OK + B_UNPATCHED.replace("retract_ack unacked=100", "helper rc=139"), "flaky")
        self.assertEqual(len(bad), 1)
        bad, _ = run(A_OK + B_OK.replace("ok 1 t_b.retract", "ok 1 t_b.retract # SKIP x"), "flaky")
        self.assertTrue(any("t_b.retract" in b and "got skip" in b for b in bad))

    def test_vm_without_result_fails(self):
        bad, _ = run(A_OK + B_OK, "6.1-patched", vm=True)
        self.assertTrue(any("RCVGOV-VM-RESULT" in b for b in bad))
        bad, _ = run(A_OK + B_OK + "RCVGOV-VM-RESULT rc=124 reason=timeout\n", "6.1-patched", vm=True)
        self.assertTrue(any("got 124" in b for b in bad))

    def test_bad_expect_lines_are_refused(self):
        with self.assertRaises(ValueError):
            kv.parse_expect("t.x * fail\n")
        with self.assertRaises(ValueError):
            kv.parse_expect("t.x * maybe\n")

    def test_real_expected_file_parses(self):
        path = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..",
                            "kselftests", "tcp_rcvbuf", "expected.txt")
        with open(path, encoding="utf-8") as fh:
            rules = kv.parse_expect(fh.read())
        for k in ("6.1-patched", "6.1-unpatched", "host"):
            self.assertGreater(len(kv.expectations(rules, k)), 20)


if __name__ == "__main__":
    r = unittest.main(exit=False, verbosity=1).result
    bad = len(r.failures) + len(r.errors)
    print(f"ktap_verdict: {r.testsRun - bad} passed, {bad} failed")
    sys.exit(1 if bad else 0)
