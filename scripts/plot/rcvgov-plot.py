#!/usr/bin/python3
"""Draw a socket's receive memory r and its limit rb over time as a PNG.

    scripts/plot/rcvgov-plot.py [-o OUT.png] [--title T] [--log] [--summary] CSV

CSV is a recording of one receiving socket: what scripts/lab.sh writes, or
`rcvgovctl record --socket COOKIE|--port N` (the same columns). The picture
is the one of the Cloudflare post ("Unbounded memory usage by TCP for
receive buffers"): r (sk_rmem_alloc, `skmem r`) against rb (sk_rcvbuf,
`skmem rb`, the autotuning limit) over the seconds of the run; when rb
rises together with r the limit is not holding. Needs python3-matplotlib
(Debian); the interpreter is Debian's /usr/bin/python3.

Columns, by name (a header line is required; the order does not matter,
unknown columns are ignored, lines starting with '#' are comments):

  required  t_s            seconds since the connection was seen
            r, rb          bytes; both empty when the socket was not found
                           at that sample (drawn as a gap; the first such
                           row after data is marked "socket gone")
  lab.sh    rcv_space, rcv_ssthresh, rcv_wnd, recv_q, bytes_received,
            drops, want_zero_win, prune_called, rcv_pruned   (not drawn)
            to_zero_win    cumulative TcpExtTCPToZeroWindowAdv of the
                           receiver's namespace: a zero-window marker at
                           every row where it went up (and at the first row
                           when it is already above 0)
  optional  zero_window    0/1: the socket advertised a zero window at this
                           sample or since the previous one (a marker at
                           every 1; when present it is used instead of
                           to_zero_win, which counts a whole namespace)
            action         what rcvgovd did to this socket since the
                           previous row: empty, or one or more of clamp,
                           release, destroy (a dry-run one prefixed
                           "dry_run:", e.g. dry_run:destroy), separated by
                           ';' - a labelled vertical line each

Empty fields are allowed everywhere except t_s. --summary prints what was
read as one JSON object (rows, max r, markers ...), for tests and scripts;
with --no-plot nothing is drawn. Exit status: 0, 1 on a bad CSV, 2 on bad
options.
"""

import argparse
import csv
import json
import math
import os
import sys

REQUIRED = ("t_s", "r", "rb")


class CsvError(Exception):
    """A recording this script cannot read; the message names file and line."""


def _number(text, path, line, column):
    text = text.strip()
    if text == "":
        return None
    try:
        value = float(text)
    except ValueError:
        raise CsvError(f"{path}:{line}: column {column}: not a number: '{text}'") from None
    if math.isnan(value) or math.isinf(value):
        raise CsvError(f"{path}:{line}: column {column}: not a finite number: '{text}'")
    return value


def read_recording(path):
    """Reads a lab.sh / rcvgovctl record CSV into a dict of columns.

    Returns {"path", "columns", "t", "r", "rb", "to_zero_win", "zero_window",
    "action", "lines"}: lists of equal length (None for an empty field; the
    optional ones are None as a whole when the column is absent).
    """
    try:
        with open(path, newline="", encoding="utf-8") as f:
            numbered = [(i + 1, l) for i, l in enumerate(f) if l.strip() and not l.startswith("#")]
    except OSError as e:
        raise CsvError(f"{path}: {e.strerror}") from None
    if not numbered:
        raise CsvError(f"{path}: empty: no header line")
    reader = csv.reader(l for _, l in numbered)
    header = [h.strip() for h in next(reader)]
    missing = [c for c in REQUIRED if c not in header]
    if missing:
        raise CsvError(f"{path}:{numbered[0][0]}: missing column(s) {', '.join(missing)} "
                       f"(header: {','.join(header)})")
    idx = {name: header.index(name) for name in header}
    rec = {"path": path, "columns": header, "t": [], "r": [], "rb": [], "lines": [],
           "to_zero_win": [] if "to_zero_win" in idx else None,
           "zero_window": [] if "zero_window" in idx else None,
           "action": [] if "action" in idx else None}
    for (line, _), fields in zip(numbered[1:], reader):
        if len(fields) < len(header):
            fields += [""] * (len(header) - len(fields))
        t = _number(fields[idx["t_s"]], path, line, "t_s")
        if t is None:
            raise CsvError(f"{path}:{line}: column t_s is empty")
        if rec["t"] and t < rec["t"][-1]:
            raise CsvError(f"{path}:{line}: t_s goes backwards ({rec['t'][-1]} -> {t})")
        rec["t"].append(t)
        rec["lines"].append(line)
        for name in ("r", "rb", "to_zero_win", "zero_window"):
            if rec.get(name) is not None:
                rec[name].append(_number(fields[idx[name]], path, line, name))
        if rec["action"] is not None:
            text = fields[idx["action"]].strip()
            rec["action"].append([a.strip() for a in text.split(";") if a.strip()])
    if not rec["t"]:
        raise CsvError(f"{path}: no data rows after the header")
    return rec


def zero_window_marks(rec):
    """Times of the zero-window markers and where they come from."""
    if rec["zero_window"] is not None:
        return [t for t, z in zip(rec["t"], rec["zero_window"]) if z and z > 0], "zero_window"
    if rec["to_zero_win"] is not None:
        marks, last = [], 0.0
        for t, c in zip(rec["t"], rec["to_zero_win"]):
            if c is None:
                continue
            if c > last:
                marks.append(t)
            last = c
        return marks, "to_zero_win"
    return [], None


def action_marks(rec):
    """[(t, action)] for every action named in the action column."""
    if rec["action"] is None:
        return []
    return [(t, a) for t, acts in zip(rec["t"], rec["action"]) for a in acts]


def socket_gone(rec):
    """The first time the socket was missing after it had been seen, or None."""
    seen = False
    for t, r, rb in zip(rec["t"], rec["r"], rec["rb"]):
        if r is None and rb is None:
            if seen:
                return t
        else:
            seen = True
    return None


def _peak(ts, values):
    best = None
    for t, v in zip(ts, values):
        if v is not None and (best is None or v > best[1]):
            best = (t, v)
    return best


def summarize(rec):
    """What was read, as plain data (the --summary JSON)."""
    present = [i for i, (r, rb) in enumerate(zip(rec["r"], rec["rb"])) if r is not None or rb is not None]
    peak_r, peak_rb = _peak(rec["t"], rec["r"]), _peak(rec["t"], rec["rb"])
    first_rb = next((v for v in rec["rb"] if v is not None), None)
    marks, source = zero_window_marks(rec)

    def as_int(v):
        return None if v is None else int(v)

    return {
        "file": rec["path"],
        "columns": rec["columns"],
        "rows": len(rec["t"]),
        "rows_with_socket": len(present),
        "t_first": rec["t"][0],
        "t_last": rec["t"][-1],
        "first_rb": as_int(first_rb),
        "max_r": as_int(peak_r[1]) if peak_r else None,
        "t_max_r": peak_r[0] if peak_r else None,
        "max_rb": as_int(peak_rb[1]) if peak_rb else None,
        "t_max_rb": peak_rb[0] if peak_rb else None,
        "last_r": as_int(rec["r"][present[-1]]) if present else None,
        "last_rb": as_int(rec["rb"][present[-1]]) if present else None,
        "zero_window_source": source,
        "zero_window_marks": marks,
        "actions": [{"t": t, "action": a} for t, a in action_marks(rec)],
        "socket_gone_t": socket_gone(rec),
    }


UNITS = ((1 << 30, "GiB"), (1 << 20, "MiB"), (1 << 10, "KiB"), (1, "B"))


def axis_unit(top):
    """The binary unit a byte axis up to top is labelled in."""
    return next(u for u in UNITS if top >= u[0] or u[0] == 1)


def human_bytes(value, unit=None):
    """A byte count in a binary unit (like ss): 0, 512 B, 128 KiB, 37.75 MiB."""
    size, name = unit or axis_unit(abs(value))
    if value == 0:
        return "0"
    return f"{value / size:.2f}".rstrip("0").rstrip(".") + " " + name


def tick_step(top):
    """A byte-axis tick step that is a round number of the axis unit
    (at most 8 ticks up to top)."""
    unit = axis_unit(top)[0]
    for mult in (0.1, 0.2, 0.25, 0.5, 1, 2, 2.5, 5, 10, 20, 25, 50, 100, 200, 250, 500):
        if top / (mult * unit) <= 8:
            return mult * unit
    return 1000 * unit


def draw(rec, out, title=None, size=(1200, 600), log=False):
    """Draws the picture into the PNG file out."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.ticker import FuncFormatter, MultipleLocator

    nan = float("nan")
    t = rec["t"]
    r = [nan if v is None else v for v in rec["r"]]
    rb = [nan if v is None else v for v in rec["rb"]]
    s = summarize(rec)

    dpi = 100
    fig, ax = plt.subplots(figsize=(size[0] / dpi, size[1] / dpi), dpi=dpi)
    ax.plot(t, rb, color="#e8710a", linewidth=3.5,
            label="rb: limit (sk_rcvbuf, skmem rb)")
    ax.plot(t, r, color="#1a73e8", linewidth=1.6, marker="." if len(t) <= 120 else None,
            markersize=4, label="r: receive memory (sk_rmem_alloc, skmem r)")
    top = max([v for v in r + rb if not math.isnan(v)] or [1])
    if log:
        ax.set_yscale("log")
    else:
        ax.set_ylim(0, top * 1.08)
        ax.yaxis.set_major_locator(MultipleLocator(tick_step(top * 1.08)))
    unit = axis_unit(top * 1.08)
    ax.yaxis.set_major_formatter(FuncFormatter(lambda v, _pos: human_bytes(v, None if log else unit)))
    ax.set_xlabel("time since the connection was established (s)")
    ax.set_ylabel("bytes")
    ax.set_xlim(min(0, t[0]), max(t[-1], min(0, t[0]) + 1))
    ax.grid(True, which="major", color="#dddddd", linewidth=0.8)
    heading = title or os.path.basename(rec["path"])
    if s["max_r"] is not None:
        heading += (f"\nmax r {s['max_r']:,} B at {s['t_max_r']:g} s, max rb {s['max_rb']:,} B at "
                    f"{s['t_max_rb']:g} s, first rb {s['first_rb']:,} B ({s['rows_with_socket']} samples)")
    ax.set_title(heading, fontsize=11)

    marks = s["zero_window_marks"]
    if marks:
        y = []
        for m in marks:
            i = t.index(m)
            y.append(r[i] if not math.isnan(r[i]) else top)
        what = "zero window" if s["zero_window_source"] == "zero_window" else "ZeroWindow sent (TCPToZeroWindowAdv +)"
        ax.plot(marks, y, linestyle="none", marker="v", markersize=9, color="#d93025",
                label=what, zorder=5)
    colors = {"clamp": "#188038", "release": "#5f6368", "destroy": "#a50e0e"}
    labelled = set()
    for m in s["actions"]:
        kind = m["action"].split(":")[-1]
        color = colors.get(kind, "#9334e6")
        dry = m["action"].startswith("dry_run:")
        ax.axvline(m["t"], color=color, linestyle=":" if dry else "--", linewidth=1.2,
                   label=None if m["action"] in labelled else f"action: {m['action']}")
        labelled.add(m["action"])
    if s["socket_gone_t"] is not None:
        ax.axvline(s["socket_gone_t"], color="black", linestyle="-.", linewidth=1.2,
                   label="socket gone")

    # Below the axes: never over the data.
    ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.13), ncol=3, fontsize=9, frameon=False)
    fig.tight_layout()
    fig.savefig(out, format="png", dpi=dpi)
    plt.close(fig)


def parse_size(text):
    try:
        w, h = (int(x) for x in text.lower().split("x"))
    except ValueError:
        raise argparse.ArgumentTypeError(f"'{text}': WIDTHxHEIGHT in pixels, e.g. 1200x600") from None
    if not (200 <= w <= 8000 and 150 <= h <= 8000):
        raise argparse.ArgumentTypeError(f"'{text}': 200..8000 x 150..8000 pixels")
    return (w, h)


def main(argv=None):
    p = argparse.ArgumentParser(
        prog="rcvgov-plot.py",
        description="Draw receive memory r and limit rb over time (PNG) from a "
                    "scripts/lab.sh or `rcvgovctl record` CSV.")
    p.add_argument("csv", help="the recording (CSV with a header line)")
    p.add_argument("-o", "--output", help="the PNG to write (default: the CSV's name with .png)")
    p.add_argument("--title", help="the picture's title (default: the CSV's file name)")
    p.add_argument("--size", type=parse_size, default=(1200, 600), help="WIDTHxHEIGHT pixels [1200x600]")
    p.add_argument("--log", action="store_true", help="logarithmic byte axis")
    p.add_argument("--summary", action="store_true", help="print what was read as JSON on stdout")
    p.add_argument("--no-plot", action="store_true", help="draw nothing (with --summary)")
    args = p.parse_args(argv)
    try:
        rec = read_recording(args.csv)
    except CsvError as e:
        print(f"rcvgov-plot: error: {e}", file=sys.stderr)
        return 1
    if args.summary:
        print(json.dumps(summarize(rec), indent=1))
    if not args.no_plot:
        out = args.output or os.path.splitext(args.csv)[0] + ".png"
        try:
            draw(rec, out, title=args.title, size=args.size, log=args.log)
        except OSError as e:
            print(f"rcvgov-plot: error: cannot write {out}: {e.strerror}", file=sys.stderr)
            return 1
        print(f"rcvgov-plot: wrote {out}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
