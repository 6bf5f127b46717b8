#!/usr/bin/env python3
"""The metric names that deploy/'s alert rules and Grafana dashboard query.

    promql_names.py used              every series name queried, one a line
    promql_names.py check CONTRACT    fails unless each is in CONTRACT
    promql_names.py scrape CONTRACT FILE   fails unless each is in a scrape

The expressions come from deploy/prometheus/rcvgov.rules.yml (every expr)
and deploy/grafana/rcvgov-dashboard.json (every "expr", "query" and
"definition" string: panel targets, annotations, template variables). A
tokenizer drops strings, label matchers, range selectors, grouping labels,
keywords, functions and Grafana variables; what is left are series names.
Names recorded by the rules themselves (level:metric:op) and the
Prometheus built-ins up and ALERTS are not rcvgov metrics and are left out.

CONTRACT lists "name type" lines (# comments allowed); a histogram's name
covers its _bucket, _sum and _count series. In a scrape (Prometheus text
format) a name must have at least one sample. Exit status 0 or 1; stdlib
only (the rules are read without a YAML library: only their expr fields).
"""

import json
import os
import re
import sys

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
RULES = os.path.join(REPO, "deploy", "prometheus", "rcvgov.rules.yml")
DASHBOARD = os.path.join(REPO, "deploy", "grafana", "rcvgov-dashboard.json")

BUILTINS = {"up", "ALERTS", "ALERTS_FOR_STATE"}
KEYWORDS = {"and", "or", "unless", "by", "without", "on", "ignoring", "group_left",
            "group_right", "offset", "bool", "inf", "nan", "atan2"}
HISTOGRAM_SUFFIXES = ("_bucket", "_sum", "_count")


def rule_exprs(path=RULES):
    """[(where, expr)] of every expr: in the rules file (plain, quoted or a
    folded/literal block)."""
    out, lines, i = [], open(path, encoding="utf-8").read().split("\n"), 0
    while i < len(lines):
        m = re.match(r"^(\s*)(?:-\s+)?expr:\s*(.*)$", lines[i])
        if not m:
            i += 1
            continue
        indent, rest, where = len(m.group(1)), m.group(2).strip(), f"{os.path.basename(path)}:{i + 1}"
        i += 1
        if rest in ("", ">", ">-", "|", "|-", ">+", "|+"):
            body = []
            while i < len(lines) and (not lines[i].strip() or len(lines[i]) - len(lines[i].lstrip()) > indent):
                body.append(lines[i].strip())
                i += 1
            rest = " ".join(b for b in body if b)
        elif rest[0] in "'\"":
            rest = rest[1:-1]
        out.append((where, rest))
    return out


def dashboard_exprs(path=DASHBOARD):
    """[(where, expr)] of every query string in the dashboard JSON."""
    out = []

    def walk(node, where):
        if isinstance(node, dict):
            title = node.get("title") or node.get("name") or where
            for k, v in node.items():
                if k in ("expr", "definition") and isinstance(v, str):
                    out.append((f"{os.path.basename(path)}: {title}", v))
                elif k == "query" and isinstance(v, str) and node.get("type") != "datasource":
                    out.append((f"{os.path.basename(path)}: {title}", v))
                else:
                    walk(v, title)
        elif isinstance(node, list):
            for v in node:
                walk(v, where)

    with open(path, encoding="utf-8") as f:
        walk(json.load(f), "dashboard")
    return out


def names_in(expr):
    """The series names an expression selects."""
    s = re.sub(r'"(?:[^"\\]|\\.)*"|\'(?:[^\'\\]|\\.)*\'|`[^`]*`', '""', expr)
    # Grafana's label_values(SELECTOR, LABEL): only SELECTOR names a series.
    s = re.sub(r"\blabel_values\((.*),\s*\w+\s*\)", r"(\1)", s)
    s = re.sub(r"\blabel_values\(\s*\w+\s*\)", " ", s)
    s = re.sub(r"\{[^}]*\}", " ", s)  # label matchers
    s = re.sub(r"\[[^\]]*\]", " ", s)  # ranges and subqueries
    s = re.sub(r"\$\{?\w+\}?", " ", s)  # Grafana variables
    s = re.sub(r"\b(by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)", " ", s)
    s = re.sub(r"\boffset\s+\S+", " ", s)
    found = set()
    for m in re.finditer(r"[A-Za-z_:][A-Za-z0-9_:]*", s):
        word, after = m.group(0), s[m.end():].lstrip()
        if after.startswith("("):
            continue  # a function or an aggregation
        if word.lower() in KEYWORDS or re.fullmatch(r"\d+[smhdwy]", word):
            continue
        if m.start() > 0 and (s[m.start() - 1].isdigit() or s[m.start() - 1] == "."):
            continue  # 1e9, 0.9
        found.add(word)
    return found


def used():
    """{name: [where...]} of every rcvgov series the rules and dashboard query."""
    recorded = set(re.findall(r"^\s*-?\s*record:\s*(\S+)", open(RULES, encoding="utf-8").read(), re.M))
    out = {}
    for where, expr in rule_exprs() + dashboard_exprs():
        for n in names_in(expr):
            if n in BUILTINS or n in recorded:
                continue
            out.setdefault(n, []).append(where)
    return out


def read_contract(path):
    """{name: type} from "name type" lines."""
    contract = {}
    for line in open(path, encoding="utf-8"):
        line = line.split("#", 1)[0].strip()
        if line:
            name, kind = line.split()
            contract[name] = kind
    return contract


def base_name(name, contract):
    """The contract name a series name belongs to (histogram suffixes)."""
    if name in contract:
        return name
    for suffix in HISTOGRAM_SUFFIXES:
        if name.endswith(suffix) and contract.get(name[: -len(suffix)]) == "histogram":
            return name[: -len(suffix)]
    return None


def main(argv):
    if len(argv) < 2 or argv[1] not in ("used", "check", "scrape"):
        print(__doc__.strip().split("\n\n")[1], file=sys.stderr)
        return 2
    names = used()
    if not names:
        print("promql_names: no metric name found in the rules and the dashboard", file=sys.stderr)
        return 1
    if argv[1] == "used":
        print("\n".join(sorted(names)))
        return 0
    contract = read_contract(argv[2])
    bad = 0
    if argv[1] == "check":
        for n in sorted(names):
            if base_name(n, contract) is None:
                print(f"not in the metric contract: {n} (used in {', '.join(sorted(set(names[n])))})")
                bad += 1
        print(f"promql_names: {len(names)} names used, {bad} not in {os.path.basename(argv[2])}")
        return 1 if bad else 0
    # scrape: every series queried must have a sample in the scrape.
    scraped = set()
    for line in open(argv[3], encoding="utf-8", errors="replace"):
        m = re.match(r"^([A-Za-z_:][A-Za-z0-9_:]*)[{ ]", line)
        if m:
            scraped.add(m.group(1))
    wanted = set()
    for n in names:
        b = base_name(n, contract) or n
        if contract.get(b) == "histogram":
            wanted.update(b + s for s in HISTOGRAM_SUFFIXES)
        else:
            wanted.add(n)
    for n in sorted(wanted):
        if n not in scraped:
            print(f"not in the scrape: {n}")
            bad += 1
    print(f"promql_names: {len(wanted)} series names wanted, {len(wanted) - bad} in the scrape, {bad} missing")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
