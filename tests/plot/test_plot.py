#!/usr/bin/python3
"""Tests of scripts/plot/rcvgov-plot.py on the checked-in recordings in
tests/plot/fixtures/: the data it read (rows, peaks, markers) and that the
PNG it writes is a real PNG of the asked size. Runs with Debian's
/usr/bin/python3 (python3-matplotlib); no root, no network. Prints
"N passed, N failed" for tests/run-all.sh; exit 0 only when all pass.
"""

import importlib.util
import json
import os
import struct
import subprocess
import sys
import tempfile
import unittest
import zlib

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
SCRIPT = os.path.join(REPO, "scripts", "plot", "rcvgov-plot.py")
FIX = os.path.join(HERE, "fixtures")

spec = importlib.util.spec_from_file_location("rcvgov_plot", SCRIPT)
plot = importlib.util.module_from_spec(spec)
spec.loader.exec_module(plot)


def png_size(path):
    """(width, height) from a PNG's IHDR; fails unless the file is a PNG
    whose first chunk is a well-formed IHDR with a correct CRC."""
    with open(path, "rb") as f:
        head = f.read(33)
    assert head[:8] == b"\x89PNG\r\n\x1a\n", f"{path}: no PNG signature: {head[:8]!r}"
    length, kind = struct.unpack(">I4s", head[8:16])
    assert kind == b"IHDR" and length == 13, f"{path}: first chunk {kind!r} ({length} bytes)"
    (crc,) = struct.unpack(">I", head[29:33])
    assert crc == zlib.crc32(head[12:29]), f"{path}: IHDR CRC mismatch"
    return struct.unpack(">II", head[16:24])


def summary_has(test, path, **want):
    """The summary of the recording at path has these values."""
    s = plot.summarize(plot.read_recording(path))
    test.assertEqual({k: s[k] for k in want}, want)


def run_cli(*args):
    return subprocess.run([sys.executable, SCRIPT, *args], capture_output=True, text=True, timeout=120)


class LabCsv(unittest.TestCase):
    """A real scripts/lab.sh run (blog pair, tcp_shrink_window=0), stalled
    by a zero window at the end."""

    path = os.path.join(FIX, "lab-blog-shrink0.csv")

    def test_summary(self):
        summary_has(self, self.path, rows=29, rows_with_socket=29, t_first=0.5, t_last=28.1,
                    first_rb=1473000, max_r=39787224, t_max_r=27.2, max_rb=39779032,
                    zero_window_source="to_zero_win", zero_window_marks=[26.2], actions=[],
                    socket_gone_t=None)

    def test_cli_png(self):
        with tempfile.TemporaryDirectory() as d:
            out = os.path.join(d, "lab.png")
            p = run_cli(self.path, "-o", out, "--size", "900x500", "--summary", "--title", "blog pair")
            self.assertEqual(p.returncode, 0, p.stderr)
            self.assertEqual(json.loads(p.stdout)["max_rb"], 39779032)
            self.assertEqual(png_size(out), (900, 500))
            self.assertGreater(os.path.getsize(out), 10000)


class RecordCsv(unittest.TestCase):
    """A recording with the optional zero_window and action columns."""

    path = os.path.join(FIX, "record-markers.csv")

    def test_summary(self):
        summary_has(self, self.path, rows=14, rows_with_socket=12, max_r=1610000, t_max_r=3.0,
                    last_r=1609500, zero_window_source="zero_window", zero_window_marks=[4.5, 5.0],
                    actions=[{"t": 3.0, "action": "clamp"}, {"t": 5.0, "action": "dry_run:destroy"},
                             {"t": 5.5, "action": "destroy"}],
                    socket_gone_t=6.0)

    def test_png_default_name_and_log_axis(self):
        with tempfile.TemporaryDirectory() as d:
            csv = os.path.join(d, "rec.csv")
            with open(self.path) as src, open(csv, "w") as dst:
                dst.write(src.read())
            p = run_cli(csv, "--log")
            self.assertEqual(p.returncode, 0, p.stderr)
            self.assertEqual(png_size(os.path.join(d, "rec.png")), (1200, 600))


class Markers(unittest.TestCase):
    def write(self, d, text):
        path = os.path.join(d, "x.csv")
        with open(path, "w") as f:
            f.write(text)
        return path

    def test_to_zero_win_increases(self):
        with tempfile.TemporaryDirectory() as d:
            path = self.write(d, "t_s,r,rb,to_zero_win\n0,1,2,1\n1,1,2,1\n2,1,2,\n3,1,2,3\n4,1,2,3\n")
            s = plot.summarize(plot.read_recording(path))
            # Already 1 at the first row, then up at 3 s (an empty field skipped).
            self.assertEqual(s["zero_window_marks"], [0.0, 3.0])

    def test_columns_in_any_order_extra_ignored(self):
        with tempfile.TemporaryDirectory() as d:
            path = self.write(d, "cookie,rb,t_s,r\n77,100,0.0,50\n77,100,1.0,90\n")
            s = plot.summarize(plot.read_recording(path))
            self.assertEqual((s["rows"], s["max_r"], s["max_rb"]), (2, 90, 100))
            self.assertIsNone(s["zero_window_source"])


class BadInput(unittest.TestCase):
    def check(self, text, message):
        with tempfile.TemporaryDirectory() as d:
            path = os.path.join(d, "bad.csv")
            with open(path, "w") as f:
                f.write(text)
            p = run_cli(path, "--no-plot", "--summary")
            self.assertEqual(p.returncode, 1, p.stdout + p.stderr)
            self.assertIn(message, p.stderr)
            self.assertEqual(os.listdir(d), ["bad.csv"])

    def test_missing_column(self):
        self.check("t_s,r\n0,1\n", "missing column(s) rb")

    def test_not_a_number(self):
        self.check("t_s,r,rb\n0,1,2\n1,x,2\n", "bad.csv:3: column r: not a number: 'x'")

    def test_time_backwards(self):
        self.check("t_s,r,rb\n1,1,2\n0.5,1,2\n", "t_s goes backwards")

    def test_no_rows(self):
        self.check("t_s,r,rb\n", "no data rows")

    def test_bad_size(self):
        p = run_cli(os.path.join(FIX, "record-markers.csv"), "--size", "12")
        self.assertEqual(p.returncode, 2)
        self.assertIn("WIDTHxHEIGHT", p.stderr)


if __name__ == "__main__":
    result = unittest.main(exit=False, verbosity=2).result
    failed = len(result.failures) + len(result.errors)
    print(f"plot: {result.testsRun - failed} passed, {failed} failed")
    sys.exit(0 if failed == 0 and result.testsRun > 0 else 1)
