"""python3 -m cxm replay: feed a CSV or JSON-lines export, print a dashboard.

    python3 -m cxm replay calls.csv --map ts=time --map queue=touchpoint \\
        --map caller=customer --map score=nps --map handle_s=duration:aht \\
        --map solved=rate:resolved --segment tier --window 24h --window 7d

Each --map COLUMN=FIELD says what a column holds. FIELD is time,
touchpoint, customer or channel, or a metric: PRESET[:NAME][@QUESTION]
with PRESET one of nps, csat5 (csat), csat7, csat10, ces7 (ces), ces5, cxi,
duration, rate, amount; NAME defaults to the preset's name, and @QUESTION
picks the question of a cxi metric (0, 1, 2). Touchpoints are defined as
they first appear (channel from a channel column, or --channel). A volume
metric "interactions" is always kept, and "customers" (distinct) when a
customer column is mapped.

Rows are fed in batches through Context.feed_many; every row that is not
accepted is reported with its line and reason, none is dropped silently.
If the replay stops early (an unreadable line, ^C), the rows read before
are fed and it says from which line on nothing was fed (exit status 1, or
130 after ^C). The dashboard's windows end at the latest event time fed
(the watermark).
"""
import argparse
import csv
import json
import math
import os
import sys
import time
from datetime import datetime, timedelta, timezone

from . import (BulkFeedError, Channel, Context, Error, FeedReport, Kind, Preset, Rejection,
               Status, _bulk_error, _enum, from_ms, report, span_ms)

_BATCH = 4096
_RATE_WORDS = {"1": 1.0, "0": 0.0, "true": 1.0, "false": 0.0, "yes": 1.0, "no": 0.0,
               "y": 1.0, "n": 0.0, "t": 1.0, "f": 0.0}


class _Progress:
    """tqdm when it is importable and not disabled, a plain counter otherwise."""

    def __init__(self, total, enabled, desc):
        self.n = 0
        self.enabled = enabled
        self.bar = None
        self.last = 0.0
        if not enabled:
            return
        try:
            from tqdm import tqdm
        except ImportError:
            tqdm = None
        if tqdm is not None:
            self.bar = tqdm(total=total, unit=" rows", unit_scale=True, desc=desc,
                            file=sys.stderr, dynamic_ncols=True)
        self.total = total

    def update(self, k):
        self.n += k
        if not self.enabled:
            return
        if self.bar is not None:
            self.bar.update(k)
            return
        now = time.monotonic()
        if now - self.last >= 0.5:
            self.last = now
            pct = f" ({100.0 * self.n / self.total:.0f} %)" if self.total else ""
            sys.stderr.write(f"\r{self.n:,} rows{pct}")
            sys.stderr.flush()

    def close(self):
        if not self.enabled:
            return
        if self.bar is not None:
            self.bar.close()
        else:
            sys.stderr.write(f"\r{self.n:,} rows\n")
            sys.stderr.flush()


def _count_lines(path):
    n = 0
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            n += block.count(b"\n")
    return n


def _parse_map(specs):
    """--map COLUMN=FIELD into (role columns, metric columns)."""
    roles, metrics = {}, []
    for spec in specs:
        col, sep, field = spec.partition("=")
        if not sep or not col or not field:
            raise SystemExit(f"cxm replay: --map {spec!r}: write COLUMN=FIELD")
        f = field.strip()
        if f.lower() in ("time", "touchpoint", "customer", "channel"):
            roles[f.lower()] = col
            continue
        item = 0
        if "@" in f:
            f, _, q = f.partition("@")
            item = int(q)
        preset_name, _, name = f.partition(":")
        try:
            preset = _enum(Preset, preset_name)
        except Error:
            raise SystemExit(f"cxm replay: --map {spec!r}: {preset_name!r} is neither time, "
                             f"touchpoint, customer, channel nor a preset "
                             f"({', '.join(p.name.lower() for p in Preset)})") from None
        if preset in (Preset.VOLUME, Preset.DISTINCT):
            raise SystemExit(f"cxm replay: --map {spec!r}: {preset.name.lower()} metrics "
                             f"are kept without a column")
        metrics.append((col, preset, name or preset.name.lower(), item))
    return roles, metrics


def _time_parser(fmt, tz):
    fmt = fmt or "iso"
    if fmt == "ms":
        return lambda s: int(float(s))
    if fmt == "s":
        return lambda s: int(round(float(s) * 1000))
    epoch = datetime(1970, 1, 1, tzinfo=timezone.utc)
    ms = timedelta(milliseconds=1)
    if fmt == "iso":
        def parse_iso(s):
            s = s.strip()
            if s[-1:] in ("Z", "z"):
                s = s[:-1] + "+00:00"
            t = datetime.fromisoformat(s)
            if t.tzinfo is None:
                t = t.replace(tzinfo=tz)
            return (t - epoch) // ms
        return parse_iso

    def parse_fmt(s):
        t = datetime.strptime(s.strip(), fmt)
        if t.tzinfo is None:
            t = t.replace(tzinfo=tz)
        return (t - epoch) // ms
    return parse_fmt


def _tz(text):
    if text.upper() in ("UTC", "Z"):
        return timezone.utc
    sign = -1 if text.startswith("-") else 1
    hh, _, mm = text.lstrip("+-").partition(":")
    try:
        return timezone(sign * timedelta(hours=int(hh), minutes=int(mm or 0)))
    except ValueError:
        raise SystemExit(f"cxm replay: --tz {text!r}: give UTC or an offset such as +02:00") from None


def _rows(path, fmt):
    """(line number, dict) of each record."""
    if fmt == "jsonl":
        with open(path, encoding="utf-8") as f:
            for lineno, line in enumerate(f, 1):
                if not line.strip():
                    continue
                try:
                    obj = json.loads(line)
                except ValueError as e:
                    yield lineno, e
                    continue
                yield lineno, obj if isinstance(obj, dict) else ValueError("not a JSON object")
    else:
        with open(path, newline="", encoding="utf-8") as f:
            reader = csv.DictReader(f)
            for row in reader:
                yield reader.line_num, row


class _Replay:
    def __init__(self, args):
        self.args = args
        self.roles, self.metric_cols = _parse_map(args.map)
        for role in ("time",):
            if role not in self.roles:
                raise SystemExit("cxm replay: map a column to time (--map COLUMN=time)")
        if "touchpoint" not in self.roles and not args.touchpoint:
            raise SystemExit("cxm replay: map a column to touchpoint, or give --touchpoint NAME")
        cfg = {}
        if args.max_customers is not None:
            cfg["max_customers"] = args.max_customers
        self.ctx = Context(**cfg)
        self.parse_time = _time_parser(args.time_format, _tz(args.tz))
        self.default_channel = _enum(Channel, args.channel)
        self.touchpoints = {}
        self.metrics = {}  # name -> Metric
        self.columns = []  # (column, metric id, item, kind)
        for col, preset, name, item in self.metric_cols:
            m = self.metrics.get(name)
            if m is None:
                m = self.metrics[name] = self.ctx.metric(name, preset)
            self.columns.append((col, int(m), item, m.kind))
        self.volume = self.ctx.metric("interactions", "volume")
        self.distinct = (self.ctx.metric("customers", "distinct")
                         if "customer" in self.roles else None)
        # --journey NAME=STEP,STEP,...: a touchpoint named as a step is that step
        self.journeys = []  # (Journey)
        self.step_of = {}   # touchpoint name -> (journey id, step)
        for spec in getattr(args, "journey", None) or []:
            name, eq, steps = spec.partition("=")
            steps = [x.strip() for x in steps.split(",") if x.strip()]
            if not eq or not name.strip() or not steps:
                raise SystemExit(f"cxm replay: --journey {spec!r}: write NAME=STEP,STEP,...")
            j = self.ctx.journey(name.strip(), steps)
            self.journeys.append(j)
            for k, st in enumerate(steps):
                self.step_of.setdefault(st, (int(j), k))
        self.segments = []
        for spec in args.segment:
            col, _, cap = spec.partition(":")
            seg = self.ctx.segment(col, int(cap) if cap else 256)
            self.segments.append((col, int(seg)))
        self.rejections = []  # (line, reason, code)
        self.by_reason = {}
        self.rows = 0
        self.accepted = 0

    def reject(self, line, reason, code=Status.INVALID):
        self.rejections.append((line, reason, code))
        self.by_reason[reason] = self.by_reason.get(reason, 0) + 1

    def touchpoint(self, name, channel):
        tp = self.touchpoints.get(name)
        if tp is None:
            ch = self.default_channel
            if channel:
                ch = _enum(Channel, channel)
            j, k = self.step_of.get(name, (None, None))
            tp = self.touchpoints[name] = int(self.ctx.touchpoint(name, ch, j, k))
        return tp

    def convert(self, line, row):
        """A feed_many row, or None after recording why not."""
        if isinstance(row, Exception):
            self.reject(line, f"bad JSON: {row}")
            return None
        roles = self.roles
        raw_t = row.get(roles["time"])
        if raw_t in (None, ""):
            self.reject(line, "no time")
            return None
        if isinstance(raw_t, bool):  # JSON true is not 1 ms
            self.reject(line, f"time {raw_t!r} is not a time")
            return None
        try:
            t = self.parse_time(str(raw_t)) if not isinstance(raw_t, (int, float)) else int(raw_t)
        except (ValueError, OverflowError) as e:
            self.reject(line, f"time {raw_t!r}: {e}")
            return None
        if "touchpoint" in roles:
            name = row.get(roles["touchpoint"])
            if name in (None, ""):
                self.reject(line, "no touchpoint")
                return None
            name = str(name)
        else:
            name = self.args.touchpoint
        ch = row.get(roles["channel"]) if "channel" in roles else None
        try:
            tp = self.touchpoint(name, ch)
        except Error as e:
            self.reject(line, f"touchpoint {name!r}: {e}")
            return None
        measures = []
        for col, metric, item, kind in self.columns:
            v = row.get(col)
            if v is None or v == "":
                continue
            if isinstance(v, str):
                s = v.strip()
                if kind == Kind.RATE and s.lower() in _RATE_WORDS:
                    v = _RATE_WORDS[s.lower()]
                else:
                    try:
                        v = float(s)
                    except ValueError:
                        self.reject(line, f"column {col}: {v!r} is not a number")
                        return None
            elif isinstance(v, bool):
                if kind != Kind.RATE:  # true/false is a yes/no, not a score of 1 or 0
                    self.reject(line, f"column {col}: {v!r} is not a number")
                    return None
                v = 1.0 if v else 0.0
            elif not isinstance(v, (int, float)):
                self.reject(line, f"column {col}: {v!r} is not a number")
                return None
            measures.append((metric, item, v))
        customer = None
        if "customer" in roles:
            c = row.get(roles["customer"])
            if c not in (None, ""):
                customer = str(c)
        segs = None
        if self.segments:
            segs = {}
            for col, seg in self.segments:
                v = row.get(col)
                if v not in (None, ""):
                    segs[seg] = str(v)
        return (t, tp, measures, customer, segs)

    def run(self):
        args = self.args
        path = args.file
        fmt = args.format or ("jsonl" if path.endswith((".jsonl", ".ndjson", ".json")) else "csv")
        total = _count_lines(path) - (1 if fmt == "csv" else 0)
        progress = _Progress(max(total, 0), not args.no_progress, os.path.basename(path))
        batch, lines = [], []
        started = time.monotonic()
        last, current = 0, None  # the last line handled, the line being converted
        try:
            try:
                for line, row in _rows(path, fmt):
                    current = line
                    self.rows += 1
                    r = self.convert(line, row)
                    if r is not None:
                        batch.append(r)
                        lines.append(line)
                    last, current = line, None
                    if len(batch) >= _BATCH:
                        (b, ln), batch, lines = (batch, lines), [], []
                        self.flush(b, ln)
                        progress.update(self.rows - progress.n)
                (b, ln), batch, lines = (batch, lines), [], []
                self.flush(b, ln)
                progress.update(self.rows - progress.n)
            except BaseException as e:
                if getattr(e, "_replay", False):  # from flush(): already told how far it got
                    raise
                # reading or converting a line failed: the lines read before
                # it are fed, then the replay says from which line on
                # nothing was fed
                stop = current if current is not None else last + 1
                self.flush(batch, lines)
                err = self.stopped(e, stop)
                if err is e:
                    raise
                raise err from e
        finally:
            progress.close()
        self.seconds = time.monotonic() - started

    def report(self):
        """The FeedReport of every line handled so far (indexes are lines)."""
        return FeedReport(self.accepted, len(self.rejections),
                          [Rejection(ln, code, reason) for ln, reason, code in self.rejections])

    def stopped(self, cause, line):
        err = _bulk_error(cause, self.report(), line, "replay", unit="line")
        err._replay = True
        return err

    def flush(self, batch, lines):
        if not batch:
            return
        try:
            report = self.ctx.feed_many(batch)
        except BulkFeedError as e:  # rows before e.index were fed; none from it on
            self.count(e.report, lines)
            err = self.stopped(e.__cause__, lines[e.index] if e.index < len(lines) else lines[-1] + 1)
            raise err from e.__cause__
        except KeyboardInterrupt as e:  # not wrapped; carries the report itself
            if getattr(e, "report", None) is not None:
                self.count(e.report, lines)
                self.stopped(e, lines[e.index] if e.index < len(lines) else lines[-1] + 1)
            raise
        self.count(report, lines)

    def count(self, report, lines):
        self.accepted += report.accepted
        for rej in report.rejections:
            self.reject(lines[rej.index], rej.reason, rej.code)

    # -- the dashboard --

    def dashboard(self):
        st = self.ctx.stats()
        end = st.watermark_ms
        out = {
            "file": self.args.file,
            "rows": self.rows,
            "accepted": self.accepted,
            "rejected": len(self.rejections),
            "rejections_by_reason": dict(sorted(self.by_reason.items(), key=lambda kv: -kv[1])),
            "rejections": [{"line": ln, "reason": r}
                           for ln, r, _ in self.rejections[:self.args.show_rejections]],
            "seconds": round(self.seconds, 3),
            "end": None if end < 0 else from_ms(end).isoformat().replace("+00:00", "Z"),
            "windows": [],
        }
        if end < 0:
            return out
        if self.journeys:
            self.ctx.sweep(end)  # instances overdue by the last event count as abandoned
        metrics = [self.volume] + ([self.distinct] if self.distinct is not None else [])
        metrics += list(self.metrics.values())
        tps = sorted(self.touchpoints.items())
        for w in self.args.window or ["24h"]:
            span = span_ms(w)
            rows = []
            for m in metrics:
                base = dict(metric=m.name, kind=m.kind.name.lower())
                rows.append(self._cell(base, "all", None, self.ctx.make_query(m, span, end=end)))
                if self.args.by_touchpoint:
                    scored = []
                    for name, tp in tps:
                        r = self.ctx.run(self.ctx.make_query(m, span, end=end, touchpoint=tp))
                        scored.append((r.n, name, r))
                    scored.sort(key=lambda x: (-x[0], x[1]))
                    for n, name, r in scored[: self.args.top]:
                        if n:
                            rows.append(self._cell(base, "touchpoint", name, None, r))
                for col, seg in self.segments:
                    for v in self.ctx.segment_values(seg):
                        q = self.ctx.make_query(m, span, end=end, segment=v)
                        rows.append(self._cell(base, col, v.name, q))
            funnels = [self._funnel(j, span, end) for j in self.journeys]
            out["windows"].append({"window": w, "span_ms": span, "rows": rows, "funnels": funnels})
        return out

    def _funnel(self, journey, span, end):
        f = self.ctx.funnel(journey, span, end=end)
        d = {"journey": journey.name}
        d.update({k: _json_num(v) for k, v in f._asdict().items()
                  if k in ("entered", "completed", "conversion", "abandoned", "expired",
                           "repeats", "repeat_rate", "goal_p50", "goal_p90", "low_sample")})
        d["steps"] = [dict(step=name, reached=s.reached, drop_off=_json_num(s.drop_off),
                           next_p50=_json_num(s.next_p50))
                      for name, s in zip(journey.steps, f.steps)]
        return d

    def _cell(self, base, scope, name, q, r=None):
        if r is None:
            r = self.ctx.run(q)
        d = dict(base, scope=scope, name=name)
        d.update({k: _json_num(v) for k, v in r._asdict().items()
                  if k in ("value", "ci_low", "ci_high", "n", "mean", "p50", "p90", "p99",
                           "headline", "low_sample", "empty", "start_ms", "end_ms")})
        return d


def _json_num(v):
    if isinstance(v, float) and not math.isfinite(v):
        return None
    return v


def _fmt_value(d):
    v = d["value"]
    if v is None:
        return "-"
    h = d["headline"]
    if h == "net":
        return f"{v:+.1f}"
    if h in ("top_box", "bottom_box", "share"):
        return f"{v:.1f} %"
    if h == "count" or h == "sum":
        return f"{v:,.0f}" if h == "count" else f"{v:,.2f}"
    return f"{v:.2f}"


def _fmt_ci(d):
    lo, hi = d.get("ci_low"), d.get("ci_high")
    if lo is None or hi is None:
        return ""
    if d["headline"] == "net":
        return f"[{lo:+.1f}, {hi:+.1f}]"
    return f"[{lo:.1f}, {hi:.1f}]"


def _print_dashboard(out, file=sys.stdout):
    w = file.write
    w(f"cxm replay {out['file']}: {out['rows']:,} rows, {out['accepted']:,} accepted, "
      f"{out['rejected']:,} rejected ({out['seconds']:.1f} s)\n")
    for reason, n in list(out["rejections_by_reason"].items())[:10]:
        w(f"  rejected {n:,}: {reason}\n")
    for r in out["rejections"][:5]:
        w(f"  line {r['line']}: {r['reason']}\n")
    if out["end"] is None:
        w("nothing was accepted: no dashboard\n")
        return
    for win in out["windows"]:
        w(f"\n== last {win['window']} ending {out['end']}\n")
        w(f"{'metric':<16} {'scope':<12} {'name':<20} {'n':>10} {'value':>10}  {'95 % CI':<20} extra\n")
        for d in win["rows"]:
            extra = ""
            if d["kind"] == "duration" and d["n"]:
                extra = f"p50 {d['p50']:.1f}  p90 {d['p90']:.1f}  p99 {d['p99']:.1f}" if d["p50"] is not None else ""
            if d["low_sample"] and not d["empty"]:
                extra = (extra + "  low sample").strip()
            name = "" if d["name"] is None else str(d["name"])[:20]
            w(f"{d['metric'][:16]:<16} {d['scope'][:12]:<12} {name:<20} {d['n']:>10,} "
              f"{_fmt_value(d):>10}  {_fmt_ci(d):<20} {extra}\n")
        for f in win.get("funnels", []):
            conv = "-" if f["conversion"] is None else f"{100 * f['conversion']:.1f} %"
            goal = "" if f["goal_p50"] is None else f", median {f['goal_p50']:.0f} s to the goal"
            w(f"\nfunnel {f['journey']}: {f['entered']:,} entered, {f['completed']:,} completed "
              f"({conv}), {f['abandoned']:,} abandoned, {f['expired']:,} expired{goal}\n")
            for st in f["steps"]:
                drop = "-" if st["drop_off"] is None else f"{100 * st['drop_off']:.1f} %"
                nxt = "" if st["next_p50"] is None else f"  next step p50 {st['next_p50']:.0f} s"
                w(f"  {st['step'][:24]:<24} {st['reached']:>10,}  drop-off {drop:>7}{nxt}\n")


def _input_options(p, funnel="print its funnel"):
    """The options that say how to read an export (replay and report)."""
    p.add_argument("--map", action="append", default=[], metavar="COLUMN=FIELD",
                   help="what a column holds (repeat)")
    p.add_argument("--time-format", default="iso",
                   help="iso (default), ms, s (epoch), or a strptime format such as '%%Y-%%m-%%d %%H:%%M:%%S'")
    p.add_argument("--tz", default="UTC", help="zone of times without an offset: UTC or +hh:mm")
    p.add_argument("--segment", action="append", default=[], metavar="COLUMN[:MAX]",
                   help="a segment column, with at most MAX values (256)")
    p.add_argument("--touchpoint", help="the touchpoint of every row, when no column says")
    p.add_argument("--journey", action="append", default=[], metavar="NAME=STEP,STEP,...",
                   help=f"a journey whose steps are touchpoints by name: {funnel}")
    p.add_argument("--channel", default="other", help="channel of new touchpoints (other)")
    p.add_argument("--format", choices=["csv", "jsonl"], help="default: by the file's extension")


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python3 -m cxm",
                                     description="libcxm from the command line.")
    sub = parser.add_subparsers(dest="command")
    rp = sub.add_parser("replay", help="feed a CSV or JSON-lines file and print a dashboard",
                        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    rp.add_argument("file")
    _input_options(rp)
    rp.add_argument("--window", action="append", metavar="SPAN",
                    help="dashboard window such as 24h, 7d (repeat; default 24h)")
    rp.add_argument("--top", type=int, default=10, help="touchpoints shown per metric (10)")
    rp.add_argument("--no-touchpoints", dest="by_touchpoint", action="store_false",
                    help="no per-touchpoint rows")
    rp.add_argument("--max-customers", type=int, default=None, help="customer table size")
    rp.add_argument("--show-rejections", type=int, default=100,
                    help="rejected lines listed in the output (100); all are counted")
    rp.add_argument("--json", action="store_true", help="machine-readable output")
    rp.add_argument("--no-progress", action="store_true", help="no progress bar")
    rep = sub.add_parser("report", help="write one self-contained HTML page of a snapshot or "
                         "an export", description=report.CLI_DESCRIPTION,
                         formatter_class=argparse.RawDescriptionHelpFormatter)
    rep.add_argument("file", help="a snapshot, or an export as replay reads it")
    rep.add_argument("-o", "--output", required=True, metavar="HTML",
                     help="the page to write (- for standard output)")
    rep.add_argument("--key", metavar="HEX", help="a snapshot's customer key, 32 hex digits")
    rep.add_argument("--key-file", metavar="FILE", help="a file holding that key")
    rep.add_argument("--window", default="24h", metavar="SPAN", help="the span covered (24h)")
    rep.add_argument("--step", metavar="SPAN",
                     help="one point of the trends (1h up to 2d windows, then 6h, 1d, 7d)")
    rep.add_argument("--top", type=int, default=6, help="touchpoints charted per metric (6)")
    rep.add_argument("--title", help="the page's title")
    _input_options(rep, funnel="chart its funnel")
    rep.add_argument("--max-customers", type=int, default=None, help="customer table size")
    rep.add_argument("--no-progress", action="store_true", help="no progress bar")
    args = parser.parse_args(argv)
    if args.command == "report":
        return report._main(args, rep)
    if args.command != "replay":
        parser.print_help()
        return 2
    if not os.path.exists(args.file):
        parser.error(f"no such file: {args.file}")
    replay = _Replay(args)
    try:
        with replay.ctx:
            replay.run()
            out = replay.dashboard()
    except BulkFeedError as e:
        sys.stderr.write(f"cxm {e}\n")  # "cxm replay stopped at line ..."
        return 1
    except KeyboardInterrupt as e:
        if getattr(e, "report", None) is not None:
            sys.stderr.write(f"cxm replay: interrupted at line {e.index}: {e.report.accepted} "
                             f"accepted and {e.report.rejected} rejected before it; none from "
                             f"line {e.index} on was fed\n")
        return 130
    if args.json:
        json.dump(out, sys.stdout, indent=1)
        sys.stdout.write("\n")
    else:
        _print_dashboard(out)
    return 0 if out["accepted"] or not out["rows"] else 1


def console_main():
    """The `cxm` console script of the pip package."""
    sys.exit(main())
