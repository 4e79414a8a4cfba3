#!/usr/bin/python3
"""Check the monitoring kit: rules, their unit tests, the dashboard, the docs.

usage: check.py [--exporter PATH] [--promtool PATH]

1. cxm.rules.yml and cxm-dashboard.json are what generate.py writes.
2. `promtool check rules` accepts both rule files, and `promtool test
   rules` passes every tests/*.yml (hand-worked values on synthetic series).
3. Every rule follows level:metric:operations, every alert has a `for:`,
   a severity and its annotations, and every expression names only series
   libcxm exports or rules the kit records (a rule used in its own group
   must come before its user).
4. The Grafana dashboard parses, has its datasource and touchpoint
   variables, and every query, with each value of its variables, names only
   those series and parses as PromQL (promtool, through a scratch rules
   file). So do the PromQL and rule blocks of docs/prometheus.md.
5. With --exporter, the exporter's real exposition has every exported
   family and label the kit uses.

Runs in a few seconds. A missing promtool or PyYAML is a failure, not a
skip: the kit is only known good when promtool has read it.
"""
import argparse
import glob
import itertools
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request

HERE = os.path.dirname(os.path.realpath(__file__))
DOCS = os.path.join(HERE, "..", "..", "docs", "prometheus.md")
RULE_FILES = ["cxm.rules.yml", "cxm-alerts.rules.yml"]
DASHBOARD = "cxm-dashboard.json"

# The sample names cxm_export_text() writes (docs/prometheus.md, "Metric
# names and labels"); --exporter checks the ones the kit uses against a
# real exposition.
EXPORTED = {
    "cxm_score_answers_total", "cxm_score_responses_total", "cxm_score_top_box_total",
    "cxm_score_bottom_box_total", "cxm_score_no_answer_total", "cxm_rate_outcomes_total",
    "cxm_duration_seconds_bucket", "cxm_duration_seconds_count", "cxm_duration_seconds_sum",
    "cxm_amount_count", "cxm_amount_sum", "cxm_volume_total",
    "cxm_interactions_accepted_total", "cxm_interactions_rejected_total",
}
# Labels Prometheus adds to every scraped series, and labels only some
# metric kinds carry (question: INDEX metrics, absent from the exporter).
TARGET_LABELS = {"instance", "job"}
OPTIONAL_LABELS = {"question"}

FUNCTIONS = set("""
abs absent absent_over_time acos acosh asin asinh atan atanh avg_over_time ceil changes clamp
clamp_max clamp_min cos cosh count_over_time day_of_month day_of_week day_of_year
days_in_month deg delta deriv exp floor histogram_count histogram_fraction
histogram_quantile histogram_stddev histogram_stdvar histogram_sum holt_winters hour
idelta increase irate label_join label_replace last_over_time ln log10 log2
mad_over_time max_over_time min_over_time minute month pi predict_linear
present_over_time quantile_over_time rad rate resets round scalar sgn sin sinh sort
sort_desc sqrt stddev_over_time stdvar_over_time sum_over_time tan tanh time timestamp
vector year
sum min max avg group stddev stdvar count count_values bottomk topk quantile
""".split())
AGGREGATIONS = {"sum", "min", "max", "avg", "group", "stddev", "stdvar", "count",
                "count_values", "bottomk", "topk", "quantile"}
KEYWORDS = {"and", "or", "unless", "bool", "offset", "inf", "nan", "atan2"}
LABEL_LISTS = {"by", "without", "on", "ignoring", "group_left", "group_right"}
RULE_NAME = re.compile(r"^[a-z_]+:[a-z0-9_]+:[a-z0-9_]+$")

TOKEN = re.compile(r"""
    (?P<ws>\s+|\#[^\n]*)
  | (?P<str>"(?:\\.|[^"\\])*"|'(?:\\.|[^'\\])*'|`[^`]*`)
  | (?P<range>\[[^\]]*\])
  | (?P<dur>[0-9]+(?:ms|[smhdwy])(?:[0-9]+(?:ms|[smhdwy]))*(?![A-Za-z0-9_:]))
  | (?P<num>0x[0-9a-fA-F]+|(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]+)?)
  | (?P<ident>[A-Za-z_:][A-Za-z0-9_:]*)
  | (?P<op>==|!=|>=|<=|=~|!~|[-+*/%^<>=(){},@])
""", re.X)

failures = []


def fail(msg):
    failures.append(msg)
    print("FAIL: " + msg, flush=True)


def ok(msg, since=None):
    """Say msg unless a failure was reported since failure count `since`."""
    if since is None or len(failures) == since:
        print("ok:   " + msg, flush=True)


def tokens(expr):
    out, pos = [], 0
    while pos < len(expr):
        m = TOKEN.match(expr, pos)
        if not m:
            raise ValueError("cannot read %r" % expr[pos:pos + 20])
        pos = m.end()
        if m.lastgroup != "ws":
            out.append((m.lastgroup, m.group()))
    return out


def names(expr):
    """The series names, __name__ regexes, labels and functions an expression uses."""
    toks = tokens(expr)
    series, regexes, labels, bad = set(), set(), set(), set()
    i, braces = 0, 0
    while i < len(toks):
        kind, text = toks[i]
        nxt = toks[i + 1][1] if i + 1 < len(toks) else None
        if text == "{":
            braces += 1
        elif text == "}":
            braces -= 1
        elif kind == "ident" and braces:
            labels.add(text)
            if text == "__name__" and nxt in ("=", "=~") and i + 2 < len(toks):
                value = toks[i + 2][1][1:-1]
                (series if nxt == "=" else regexes).add(value)
                i += 2
        elif kind == "ident" and text in LABEL_LISTS:
            if nxt == "(":
                j = i + 2
                while j < len(toks) and toks[j][1] != ")":
                    if toks[j][0] == "ident":
                        labels.add(toks[j][1])
                    j += 1
                i = j
        elif kind == "ident" and text in KEYWORDS:
            pass
        elif kind == "ident" and text in AGGREGATIONS and nxt in ("by", "without"):
            pass
        elif kind == "ident" and nxt == "(":
            if text not in FUNCTIONS:
                bad.add(text)
        elif kind == "ident":
            series.add(text)
        i += 1
    return series, regexes, labels, bad


class Kit:
    def __init__(self):
        self.records = set()
        self.used_series = set()
        self.used_labels = set()
        self.exprs = []  # (where, expr) for promtool to parse

    def check_expr(self, where, expr, allowed=None):
        allowed = allowed if allowed is not None else self.records | EXPORTED
        try:
            series, regexes, labels, bad = names(expr)
        except ValueError as e:
            fail("%s: %s" % (where, e))
            return
        for s in sorted(series - allowed):
            if s in self.records:
                fail("%s: reads %s before its own group records it" % (where, s))
            else:
                fail("%s: %s is neither a recording rule of the kit nor a series libcxm "
                     "exports" % (where, s))
        for f in sorted(bad):
            fail("%s: %s( is not a PromQL function" % (where, f))
        for r in sorted(regexes):
            if not any(re.fullmatch(r, s) for s in allowed):
                fail("%s: __name__=~\"%s\" matches nothing the kit records" % (where, r))
        self.used_series |= series & EXPORTED
        self.used_labels |= labels - {"__name__"}
        self.exprs.append((where, expr))


def run(cmd, what):
    p = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    if p.returncode:
        fail("%s (exit %d):\n%s" % (what, p.returncode, p.stdout.rstrip()))
        return False
    ok(what)
    return True


def check_rules(kit, yaml):
    n_fail = len(failures)
    docs = {}
    for name in RULE_FILES:
        with open(os.path.join(HERE, name), encoding="utf-8") as f:
            docs[name] = yaml.safe_load(f)
    for name, doc in docs.items():
        for g in doc["groups"]:
            for r in g["rules"]:
                if "record" in r:
                    if not RULE_NAME.match(r["record"]):
                        fail("%s: %s is not level:metric:operations" % (name, r["record"]))
                    kit.records.add(r["record"])
    n_rules = n_alerts = 0
    for name, doc in docs.items():
        for g in doc["groups"]:
            group_records = {r["record"] for r in g["rules"] if "record" in r}
            seen = set()
            for r in g["rules"]:
                where = "%s: %s" % (name, r.get("record") or r.get("alert"))
                # a rule of the same group must be computed before it is read
                allowed = (kit.records - group_records) | seen | EXPORTED
                kit.check_expr(where, r["expr"], allowed)
                if "record" in r:
                    seen.add(r["record"])
                    n_rules += 1
                    continue
                n_alerts += 1
                if not r.get("for"):
                    fail("%s: no for:" % where)
                if r.get("labels", {}).get("severity") not in ("warning", "critical"):
                    fail("%s: severity must be warning or critical" % where)
                for a in ("summary", "description"):
                    if not r.get("annotations", {}).get(a):
                        fail("%s: no %s annotation" % (where, a))
    ok("%d recording rules and %d alerts name only exported series and earlier rules"
       % (n_rules, n_alerts), n_fail)


def expand(expr, variables):
    """Every version of expr with the dashboard's variables replaced."""
    found = set(re.findall(r"\$\{?(\w+)\}?", expr))
    unknown = found - set(variables)
    if unknown:
        raise ValueError("unknown variable(s) %s" % ", ".join(sorted(unknown)))
    keys = sorted(found, key=len, reverse=True)
    out = []
    for combo in itertools.product(*(variables[k] for k in keys)):
        e = expr
        for k, v in zip(keys, combo):
            e = e.replace("${%s}" % k, v).replace("$" + k, v)
        out.append(e)
    return out


def check_dashboard(kit):
    n_fail = len(failures)
    path = os.path.join(HERE, DASHBOARD)
    try:
        with open(path, encoding="utf-8") as f:
            d = json.load(f)
    except (OSError, ValueError) as e:
        fail("%s: %s" % (DASHBOARD, e))
        return
    if not isinstance(d.get("schemaVersion"), int) or d["schemaVersion"] < 39:
        fail("%s: schemaVersion %r is older than Grafana 11's" % (DASHBOARD, d.get("schemaVersion")))
    for k in ("uid", "title"):
        if not d.get(k):
            fail("%s: no %s" % (DASHBOARD, k))
    variables = {"__rate_interval": ["5m"], "__interval": ["1m"], "__range": ["1d"]}
    tvars = {v.get("name"): v for v in d.get("templating", {}).get("list", [])}
    ds = tvars.get("datasource", {})
    if ds.get("type") != "datasource" or ds.get("query") != "prometheus":
        fail("%s: no Prometheus datasource variable named datasource" % DASHBOARD)
    tp = tvars.get("touchpoint", {})
    q = tp.get("query")
    q = q.get("query") if isinstance(q, dict) else q
    m = re.fullmatch(r"\s*label_values\((.*),\s*(\w+)\)\s*", q or "")
    if tp.get("type") != "query" or not m or m.group(2) != "touchpoint":
        fail("%s: no touchpoint variable from label_values(..., touchpoint)" % DASHBOARD)
    elif tp.get("datasource", {}).get("uid") != "${datasource}":
        fail("%s: the touchpoint variable does not query ${datasource}" % DASHBOARD)
    for name, v in tvars.items():
        if v["type"] == "custom":
            variables[name] = [o.strip() for o in v["query"].split(",")]
        elif v["type"] == "constant":
            variables[name] = [v["query"]]
        elif v["type"] == "query":
            variables[name] = [".*"]  # used in =~ matchers
    if m:
        kit.check_expr("dashboard variable touchpoint", m.group(1))

    panels, ids, cells = [], set(), set()
    stack = list(d.get("panels", []))
    while stack:
        p = stack.pop(0)
        stack[0:0] = p.get("panels", [])
        panels.append(p)
    n_exprs = 0
    for p in panels:
        where = "%s: panel %r" % (DASHBOARD, p.get("title"))
        if p.get("id") in ids:
            fail("%s: id %r used twice" % (where, p.get("id")))
        ids.add(p.get("id"))
        g = p.get("gridPos", {})
        if not (0 <= g.get("x", -1) and g.get("w", 0) > 0 and g.get("x", 0) + g["w"] <= 24
                and g.get("h", 0) > 0 and g.get("y", -1) >= 0):
            fail("%s: gridPos %r" % (where, g))
        else:
            mine = {(x, y) for x in range(g["x"], g["x"] + g["w"])
                    for y in range(g["y"], g["y"] + g["h"])}
            if mine & cells:
                fail("%s: overlaps another panel" % where)
            cells |= mine
        if p.get("type") == "row":
            continue
        if p.get("datasource", {}).get("uid") != "${datasource}":
            fail("%s: datasource is not ${datasource}" % where)
        if not p.get("targets"):
            fail("%s: no query" % where)
        for t in p.get("targets", []):
            if not t.get("expr"):
                fail("%s: target %s has no expr" % (where, t.get("refId")))
                continue
            try:
                versions = expand(t["expr"], variables)
            except ValueError as e:
                fail("%s: %s" % (where, e))
                continue
            for e in versions:
                kit.check_expr(where, e)
                n_exprs += 1
    ok("%s: %d panels, %d queries name only recorded rules and exported series"
       % (DASHBOARD, len(panels), n_exprs), n_fail)


def check_docs(kit, promtool, tmp):
    n_fail = len(failures)
    try:
        with open(DOCS, encoding="utf-8") as f:
            text = f.read()
    except OSError as e:
        fail("docs: %s" % e)
        return
    n = 0
    for block in re.findall(r"```promql\n(.*?)```", text, re.S):
        for expr in re.split(r"\n\s*\n", block.strip()):
            kit.check_expr("docs/prometheus.md: " + expr.split("\n")[0][:60], expr)
            n += 1
    for i, block in enumerate(re.findall(r"```yaml\n(.*?)```", text, re.S)):
        if "groups:" in block:
            path = os.path.join(tmp, "docs-%d.yml" % i)
            with open(path, "w", encoding="utf-8") as f:
                f.write(block)
            run([promtool, "check", "rules", path], "docs/prometheus.md: rules block %d" % i)
    ok("docs/prometheus.md: %d PromQL recipes name only exported series and kit rules" % n, n_fail)


def parse_all(kit, promtool, tmp):
    path = os.path.join(tmp, "exprs.yml")
    with open(path, "w", encoding="utf-8") as f:
        f.write("groups:\n  - name: parse\n    rules:\n")
        for i, (where, e) in enumerate(kit.exprs):
            f.write("      - record: check:expr_%d:parse\n        expr: %s\n" % (i, json.dumps(e)))
    p = subprocess.run([promtool, "check", "rules", path], stdout=subprocess.PIPE,
                       stderr=subprocess.STDOUT, text=True)
    if p.returncode:
        for m in re.finditer(r"check:expr_(\d+):parse", p.stdout):
            where, e = kit.exprs[int(m.group(1))]
            print("  %s: %s" % (where, e), file=sys.stderr)
        fail("promtool does not parse every expression:\n" + p.stdout.rstrip())
    else:
        ok("promtool parses all %d expressions (rules, dashboard, docs)" % len(kit.exprs))


def label_names(labelset):
    out, i = set(), 0
    while i < len(labelset):
        m = re.compile(r'\s*([a-zA-Z_][a-zA-Z0-9_]*)="').match(labelset, i)
        if not m:
            break
        out.add(m.group(1))
        i = m.end()
        while labelset[i] != '"':
            i += 2 if labelset[i] == "\\" else 1
        i += 1
        if i < len(labelset) and labelset[i] == ",":
            i += 1
    return out


def check_exporter(kit, exporter):
    n_fail = len(failures)
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    try:
        proc = subprocess.Popen([exporter, "--seed", "1", "--port", str(port),
                                 "--interactions", "300"],
                                stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    except OSError as e:
        fail("exporter: %s" % e)
        return
    text = None
    try:
        until = time.monotonic() + 10
        while time.monotonic() < until and proc.poll() is None:
            try:
                with urllib.request.urlopen("http://127.0.0.1:%d/metrics" % port, timeout=2) as r:
                    text = r.read().decode()
                break
            except (urllib.error.URLError, OSError):
                time.sleep(0.05)
    finally:
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
    if text is None:
        fail("exporter %s did not serve /metrics: %s" % (exporter, proc.stderr.read().decode()))
        return
    series, labels = set(), set()
    for line in text.splitlines():
        m = re.match(r"([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? ", line)
        if m and not line.startswith("#"):
            series.add(m.group(1))
            labels |= label_names(m.group(2) or "")
    for s in sorted(kit.used_series - series):
        fail("exporter: the kit reads %s, which the exporter does not expose" % s)
    for s in sorted(series - EXPORTED):
        fail("exporter: exposes %s, which check.py does not know (add it to EXPORTED)" % s)
    missing = kit.used_labels - labels - TARGET_LABELS - OPTIONAL_LABELS
    for l in sorted(missing):
        fail("exporter: the kit uses label %s, which the exposition lacks" % l)
    ok("exporter: its exposition has the %d families and %d labels the kit uses"
       % (len(kit.used_series), len(kit.used_labels & labels)), n_fail)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--exporter", help="examples/exporter/exporter, to read a real exposition")
    ap.add_argument("--promtool", help="promtool (default: from PATH, else /usr/bin/promtool)")
    a = ap.parse_args()
    t0 = time.monotonic()
    promtool = a.promtool or shutil.which("promtool") or "/usr/bin/promtool"
    if not os.access(promtool, os.X_OK):
        print("FAIL: no promtool, so the monitoring kit cannot be checked: "
              "apt-get install prometheus (tools/deps.sh does)", file=sys.stderr)
        return 1
    try:
        import yaml
    except ImportError:
        print("FAIL: no PyYAML for /usr/bin/python3: apt-get install python3-yaml",
              file=sys.stderr)
        return 1
    kit = Kit()
    run([sys.executable, os.path.join(HERE, "generate.py"), "--check"],
        "cxm.rules.yml and %s are what generate.py writes" % DASHBOARD)
    run([promtool, "check", "rules"] + [os.path.join(HERE, f) for f in RULE_FILES],
        "promtool check rules " + " ".join(RULE_FILES))
    tests = sorted(glob.glob(os.path.join(HERE, "tests", "*.yml")))
    if not tests:
        fail("no tests/*.yml")
    for t in tests:
        run([promtool, "test", "rules", t], "promtool test rules tests/" + os.path.basename(t))
    check_rules(kit, yaml)
    check_dashboard(kit)
    with tempfile.TemporaryDirectory(prefix="cxm-monitoring-") as tmp:
        check_docs(kit, promtool, tmp)
        parse_all(kit, promtool, tmp)
    if a.exporter:
        check_exporter(kit, a.exporter)
    print("%s in %.1f s" % ("FAILED: %d problem(s)" % len(failures) if failures else "passed",
                            time.monotonic() - t0))
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
