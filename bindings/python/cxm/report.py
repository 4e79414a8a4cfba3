"""cxm.report: one self-contained HTML page of a context, for readers of
reports rather than of JSON (``python3 -m cxm report``; docs/python.md,
"Report").

    page = cxm.report.render(ctx, "24h")              # the whole page, a str
    cxm.report.write(ctx, "report.html", "7d", step="1d")

What the page shows follows from the context's definitions:

- each SCORE or INDEX metric (NPS, CSAT, CES, a CX index): its headline
  per touchpoint, and its trend over consecutive windows of ``step`` with
  each point's confidence interval drawn as a band, for all touchpoints
  together and for the ``top`` touchpoints with the most answers;
- each DURATION metric (handle times): mean, p50, p90 and p99 per
  touchpoint, the distribution as a histogram of bins cut at its
  quantiles, and a box plot per touchpoint;
- each journey: its funnel, as bars with the drop-off at each step;
- rates, amounts, volumes and distinct counts: a table by touchpoint;
- each segment dimension: the headlines per value.

The page carries its CSS and its charts (inline SVG) and nothing else: no
script, no font, no image, no reference to another resource, and a
Content-Security-Policy that forbids loading any. Every name from the
data is escaped. Tables have captions and header cells with a scope;
every chart is an image (role="img") with a title and a description of
what it shows, and its numbers are in a table next to it.

The report covers ``window`` ending at the first multiple of ``step``
(counted from the Unix epoch, so whole UTC hours or days) after the
latest event fed, the watermark: each point of a trend is one whole step,
and the points make up the window. Every number is libcxm's answer to a
query; this module lays them out and computes no statistic of its own
(a histogram bar's height is the share of durations between two
quantiles divided by their distance).
"""
import html
import itertools
import math
import os
import tempfile
from datetime import datetime, timezone

from . import Context, Error, Headline, Kind, _cxm, from_ms, libversion, span_ms, time_ms

__all__ = ["render", "write", "load_snapshot", "snapshot_tiers", "is_snapshot", "parse_key",
           "SNAPSHOT_MAGIC"]

SNAPSHOT_MAGIC = b"\x89CXM\r\n\x1a\n"
_MAX_TIERS = 4  # CXM_MAX_TIERS
_MIN = 60_000
_HOUR = 3_600_000
_DAY = 86_400_000
_MAX_POINTS = 400
_MAX_ROWS = 100  # rows of a table by touchpoint or segment value
_SCORE_KINDS = (Kind.SCORE, Kind.INDEX)
_OTHER_KINDS = (Kind.RATE, Kind.AMOUNT, Kind.VOLUME, Kind.DISTINCT)
_HIST_QS = (0.01, 0.05) + tuple(k / 20 for k in range(2, 19)) + (0.95, 0.99)
_BOX_QS = (0.1, 0.25, 0.5, 0.75, 0.9)


def _esc(s):
    return html.escape(str(s), quote=True)


# ---- snapshots ------------------------------------------------------------

def is_snapshot(path):
    """True when the file begins with a libcxm snapshot's magic bytes."""
    with open(path, "rb") as f:
        return f.read(len(SNAPSHOT_MAGIC)) == SNAPSHOT_MAGIC


def snapshot_tiers(path):
    """The tiers a snapshot was saved with, ``[(bucket_ms, buckets), ...]``,
    read by the library from its first bytes (cxm_snapshot_tiers); None
    when the file does not say. A context loads a snapshot only with the
    saver's tiers. This reads them only to configure that context: the
    load checks the whole file, so a file that lies here fails to load."""
    with open(path, "rb") as f:
        b = f.read(64 + 16 + 4 + 12 * _MAX_TIERS + 4)
    try:
        return _cxm.snapshot_tiers(b)
    except Error:
        return None


def parse_key(text):
    """A customer key written as 32 hex digits (white space around allowed,
    as in a key file) as its 16 bytes; ValueError otherwise."""
    s = text.strip()
    if len(s) != 32:
        raise ValueError("a customer key is 32 hex digits (16 bytes)")
    try:
        return bytes.fromhex(s)
    except ValueError:
        raise ValueError("a customer key is 32 hex digits (16 bytes)") from None


def load_snapshot(path, key, **config):
    """A new Context loaded from a snapshot file: with the customer key it
    was saved under (16 bytes; never in the file, which holds only a hash
    that tells keys apart) and the tiers its CONFIG section names."""
    tiers = snapshot_tiers(path)
    if tiers and "tiers" not in config:
        config["tiers"] = tiers
    return Context.from_snapshot(path, customer_key=bytes(key), **config)


# ---- formatting -------------------------------------------------------------

def _ok(v):
    return isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v)


def _secs(s):
    if not _ok(s):
        return "no data"
    if abs(s) < 10:
        return f"{s:.2f} s"
    if abs(s) < 60:
        return f"{s:.1f} s"
    r = int(round(s))
    if r < 3600:
        return f"{r // 60} min {r % 60:02d} s"
    return f"{r // 3600} h {r % 3600 // 60:02d} min"


def _span(ms):
    for unit, name in ((_DAY, "d"), (_HOUR, "h"), (_MIN, "min"), (1000, "s")):
        if ms % unit == 0:
            return f"{ms // unit} {name}"
    return f"{ms} ms"


def _when(ms, fmt="%Y-%m-%d %H:%M"):
    return from_ms(ms).strftime(fmt)


def _value(v, headline, kind):
    """A headline value as the page writes it."""
    if not _ok(v):
        return "no data"
    if headline == "net":
        return f"{v:+.1f}"
    if headline in ("top_box", "bottom_box", "share"):
        return f"{v:.1f} %"
    if kind == "duration":
        return _secs(v)
    if headline == "count":
        return f"{v:,.0f}"
    if headline == "sum":
        return f"{v:,.2f}"
    return f"{v:.2f}"


def _ci(r):
    if not (_ok(r.ci_low) and _ok(r.ci_high)) or r.empty:
        return ""
    return f"{_value(r.ci_low, r.headline, r.kind)} to {_value(r.ci_high, r.headline, r.kind)}"


def _note(r, start=None):
    if r.empty:
        return ""
    notes = []
    if start is not None and r.start_ms > start:
        notes.append(f"from {_when(r.start_ms)} only")
    if r.low_sample:
        notes.append("low sample")
    if r.clamped:
        notes.append("window clamped")
    if r.truncated:
        notes.append("truncated")
    return ", ".join(notes)


def _what(md):
    """What a metric's headline is, in words."""
    k, h = md.kind, md.headline
    if k in _SCORE_KINDS:
        lo, hi = md.scale_min, md.scale_max
        top = md.top_min[0] if md.top_min else hi
        bottom = md.bottom_max[0] if md.bottom_max else lo
        items = f", over {md.questions} questions" if k == Kind.INDEX and md.questions > 1 else ""
        if h == Headline.NET:
            return (f"net score: % answering {top} to {hi} minus % answering {lo} to {bottom}, "
                    f"from -100 to +100{items}")
        if h == Headline.TOP_BOX:
            return f"% answering {top} to {hi} on a scale of {lo} to {hi}{items}"
        if h == Headline.BOTTOM_BOX:
            return f"% answering {lo} to {bottom} on a scale of {lo} to {hi}{items}"
        return f"mean answer on a scale of {lo} to {hi}{items}"
    return {Kind.DURATION: "mean duration", Kind.RATE: "% yes", Kind.AMOUNT: "sum",
            Kind.VOLUME: "interactions", Kind.DISTINCT: "distinct customers (estimate)"}[k]


def _bounds(md):
    """The range a score headline can take."""
    if md.headline in (Headline.NET,):
        return -100.0, 100.0
    if md.headline in (Headline.TOP_BOX, Headline.BOTTOM_BOX, Headline.SHARE):
        return 0.0, 100.0
    return float(md.scale_min), float(md.scale_max)


def _nice_step(span, n):
    raw = span / max(n, 1)
    if raw <= 0 or not math.isfinite(raw):
        return 1.0
    mag = 10 ** math.floor(math.log10(raw))
    for m in (1, 2, 2.5, 5, 10):
        if m * mag >= raw:
            return m * mag
    return 10 * mag


def _axis(lo, hi, n=5, clip=None):
    """A rounded range around [lo, hi] and its ticks, within clip."""
    if hi <= lo:
        lo, hi = lo - 1, hi + 1
    step = _nice_step(hi - lo, n)
    a, b = math.floor(lo / step) * step, math.ceil(hi / step) * step
    if clip:
        a, b = max(a, clip[0]), min(b, clip[1])
    ticks, t = [], math.ceil(a / step) * step
    while t <= b + step * 1e-9:
        ticks.append(round(t, 10))
        t += step
    return a, b, ticks


def _f(x):
    return f"{x:.1f}"


def _line(cls, x1, y1, x2, y2):
    return (f'<line class="{cls}" x1="{_f(x1)}" y1="{_f(y1)}" x2="{_f(x2)}" '
            f'y2="{_f(y2)}"/>')


_TIME_STEPS = (0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1, 2, 5, 10, 15, 30, 60,
               120, 300, 600, 900, 1800, 3600, 7200, 10800, 21600, 43200, 86400)


def _time_axis(hi, n=7):
    """Ticks of seconds from 0 to at least hi, on whole seconds, minutes or hours."""
    hi = hi if _ok(hi) and hi > 0 else 1.0
    step = next((t for t in _TIME_STEPS if hi / t <= n), _nice_step(hi, n))
    b = math.ceil(hi / step - 1e-9) * step
    return 0.0, b, [round(k * step, 6) for k in range(int(round(b / step)) + 1)]


def _secs_tick(t):
    """A tick label of seconds: 0, 30 s, 2 min, 1 min 30 s, 2 h."""
    if t == 0:
        return "0"
    if t < 60:
        return f"{t:g} s"
    r = int(round(t))
    if r < 3600:
        return f"{r // 60} min" + (f" {r % 60} s" if r % 60 else "")
    return f"{r // 3600} h" + (f" {r % 3600 // 60} min" if r % 3600 // 60 else "")


# ---- the page -----------------------------------------------------------------

_CSS = """
:root{color:#1a1a1a;background:#fff;font:15px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,
"Liberation Sans",Arial,sans-serif}
body{max-width:1120px;margin:0 auto;padding:1.5rem}
h1{font-size:1.7rem;margin:0 0 .3rem}h2{font-size:1.35rem;margin:2.2rem 0 .6rem;
border-bottom:2px solid #d0d7de;padding-bottom:.2rem}h3{font-size:1.1rem;margin:1.6rem 0 .4rem}
p.meta{color:#444;margin:.2rem 0}
nav ul{display:flex;flex-wrap:wrap;gap:.3rem 1.2rem;padding:0;list-style:none}
a{color:#0b5cad}
table{border-collapse:collapse;margin:.6rem 0 1rem;font-variant-numeric:tabular-nums}
caption{text-align:left;font-weight:600;padding:.2rem 0;color:#333}
th,td{padding:.25rem .6rem;border-bottom:1px solid #d0d7de;vertical-align:top}
thead th{text-align:left;border-bottom:2px solid #8c959f;background:#f6f8fa}
tbody th{text-align:left;font-weight:600}td{text-align:right;white-space:nowrap}
td.text{text-align:left;white-space:normal}
figure{margin:.8rem 0}figcaption{color:#333;font-size:.9rem;margin-top:.2rem}
.grid{display:grid;grid-template-columns:repeat(auto-fill,minmax(330px,1fr));gap:.4rem 1.2rem}
svg.chart{display:block;width:100%;height:auto;max-width:760px;background:#fff}
.grid svg.chart{max-width:400px}
svg text{font:12px system-ui,"Liberation Sans",Arial,sans-serif;fill:#333}
svg .grid-line{stroke:#e1e4e8;stroke-width:1}svg .axis{stroke:#8c959f;stroke-width:1}
svg .zero{stroke:#57606a;stroke-width:1;stroke-dasharray:4 3}
svg .band{fill:#0b5cad;fill-opacity:.16;stroke:none}svg .whisker{stroke:#0b5cad;stroke-opacity:.5;
stroke-width:2}
svg .line{fill:none;stroke:#0b5cad;stroke-width:2}
svg .dot{fill:#0b5cad;stroke:#0b5cad;stroke-width:1.5}svg .dot.low{fill:#fff}
svg .bar{fill:#0b5cad}svg .box{fill:#cfe2f7;stroke:#0b5cad;stroke-width:1.5}
svg .median{stroke:#1a1a1a;stroke-width:2.5}svg .mark{stroke:#b3261e;stroke-width:1.5;
stroke-dasharray:5 3}
svg .drop{fill:#b3261e}svg .label{fill:#1a1a1a}
details{margin:.4rem 0 1rem}summary{cursor:pointer;color:#0b5cad}
dl{display:grid;grid-template-columns:max-content 1fr;gap:.2rem 1rem}dt{font-weight:600}dd{margin:0}
.low{color:#8a4b00}
@media print{nav,details>summary{display:none}details{display:block}}
"""


class _Page:
    def __init__(self):
        self.out = []
        self._ids = itertools.count(1)
        self.svgs = 0
        self.tables = 0

    def id(self, prefix):
        return f"{prefix}{next(self._ids)}"

    def add(self, *parts):
        self.out.extend(parts)

    def table(self, caption, head, rows, note=None):
        """head: column titles, the first one over the row headers; rows:
        (row header, [cells]), a cell a str or (str, "text") for text."""
        self.tables += 1
        o = [f"<table><caption>{_esc(caption)}</caption><thead><tr>"]
        o += [f'<th scope="col">{_esc(h)}</th>' for h in head]
        o.append("</tr></thead><tbody>")
        for rh, cells in rows:
            o.append(f'<tr><th scope="row">{_esc(rh)}</th>')
            for c in cells:
                if isinstance(c, tuple):
                    o.append(f'<td class="{c[1]}">{_esc(c[0])}</td>')
                else:
                    o.append(f"<td>{_esc(c)}</td>")
            o.append("</tr>")
        o.append("</tbody></table>")
        if note:
            o.append(f"<p>{_esc(note)}</p>")
        self.add("".join(o))

    def svg(self, w, h, title, desc, body):
        self.svgs += 1
        t, d = self.id("t"), self.id("d")
        return (f'<svg class="chart" viewBox="0 0 {w} {h}" width="{w}" height="{h}" role="img" '
                f'aria-labelledby="{t} {d}"><title id="{t}">{_esc(title)}</title>'
                f'<desc id="{d}">{_esc(desc)}</desc>{"".join(body)}</svg>')


def _short(name, n):
    name = str(name)
    return name if len(name) <= n else name[:n - 1] + "\u2026"


class _Report:
    def __init__(self, ctx, window, step, end, top, confidence):
        self.ctx = ctx
        self.top = top
        self.confidence_pct = f"{confidence * 100:g} %"
        self.window_ms = span_ms(window)
        if self.window_ms <= 0:
            raise ValueError("the window must be positive")
        self.step_ms = span_ms(step) if step is not None else _default_step(self.window_ms)
        if self.step_ms <= 0:
            raise ValueError("the step must be positive")
        if self.step_ms > self.window_ms:
            raise ValueError(f"the step ({_span(self.step_ms)}) is longer than the window "
                             f"({_span(self.window_ms)})")
        self.n_points = -(-self.window_ms // self.step_ms)
        self.window_label = f"last {_span(self.n_points * self.step_ms)}"
        if self.n_points > _MAX_POINTS:
            raise ValueError(f"{self.n_points} points of {_span(self.step_ms)} in "
                             f"{_span(self.window_ms)}: at most {_MAX_POINTS}; give a longer step")
        watermark = ctx.stats().watermark_ms
        self.latest = watermark if end is None else end
        self.empty = self.latest is None or self.latest < 0
        if not self.empty:
            self.end = (self.latest // self.step_ms + 1) * self.step_ms
            self.span = self.n_points * self.step_ms
            self.start = self.end - self.span
            self.points = [(self.start + k * self.step_ms, self.start + (k + 1) * self.step_ms)
                           for k in range(self.n_points)]
        self.metrics = list(ctx.metrics)
        self.defs = {int(m): ctx.metric_def(m) for m in self.metrics}
        self.touchpoints = list(ctx.touchpoints)
        self.journeys = list(ctx.journeys)
        self.segments = list(ctx.segments)
        self._overall = {}

    # -- queries --

    # A query's window ends at the end of the finest bucket holding its end
    # (docs/metrics.md, "Windows"): end - 1 ms makes it [end - window, end).
    def query(self, metric, end=None, window=None, **scope):
        return self.ctx.make_query(metric, self.span if window is None else window,
                                   end=(self.end if end is None else end) - 1, **scope)

    def run(self, metric, end=None, window=None, **scope):
        return self.ctx.run(self.query(metric, end, window, **scope))

    def overall(self, metric):
        """The metric over the whole window, all touchpoints (kept)."""
        r = self._overall.get(int(metric))
        if r is None:
            r = self._overall[int(metric)] = self.run(metric)
        return r

    def with_data(self, metrics):
        """The metrics with data in the window, and the names of the others."""
        return ([m for m in metrics if self.overall(m).n > 0],
                [m.name for m in metrics if self.overall(m).n == 0])

    def by_touchpoint(self, metric):
        """(touchpoint, result) of every touchpoint with data, most first."""
        rows = [(tp, self.run(metric, touchpoint=tp)) for tp in self.touchpoints]
        rows = [(tp, r) for tp, r in rows if r.n > 0]
        rows.sort(key=lambda x: (-x[1].n, x[0].name))
        return rows

    def trend(self, metric, **scope):
        """A result per point; None where libcxm no longer keeps data at the
        step's resolution (the result would cover another interval)."""
        out = []
        for a, b in self.points:
            r = self.run(metric, end=b, window=self.step_ms, **scope)
            out.append(r if (r.start_ms, r.end_ms) == (a, b) else None)
        return out

    # -- labels --

    def step_word(self):
        if self.step_ms == _HOUR:
            return "hour"
        if self.step_ms == _DAY:
            return "day"
        return f"{_span(self.step_ms)} interval"

    def tick_format(self):
        if self.step_ms % _DAY == 0:
            return "%d %b"
        if self.span <= _DAY:
            return "%H:%M"
        return "%d %b %H:%M"


def _default_step(window_ms):
    # within what the default tiers keep at that resolution: 2 h of
    # minutes, 8 days of hours, 400 days of days
    if window_ms <= 2 * _HOUR:
        return 5 * _MIN if window_ms >= 30 * _MIN else _MIN
    if window_ms <= 2 * _DAY:
        return _HOUR
    if window_ms <= 8 * _DAY:
        return 6 * _HOUR
    if window_ms <= 120 * _DAY:
        return _DAY
    return 7 * _DAY


# ---- charts -------------------------------------------------------------------

def _runs(idx):
    """Consecutive runs of a sorted list of indexes."""
    out = []
    for i in idx:
        if out and out[-1][-1] == i - 1:
            out[-1].append(i)
        else:
            out.append([i])
    return out


def _trend_svg(page, rep, results, proto, axis, label, title, small):
    """A trend chart; proto: a result of the metric, for its headline and kind."""
    w, h = (380, 200) if small else (760, 280)
    ml, mr, mt, mb = 56, 14, 14, 36
    pw, ph = w - ml - mr, h - mt - mb
    y0, y1, ticks, zero = axis
    n = len(results)

    def X(i):
        return ml + (i + 0.5) * pw / n

    def Y(v):
        return mt + (y1 - min(max(v, y0), y1)) * ph / (y1 - y0)

    fmt = (lambda v: _value(v, proto.headline, proto.kind))
    body = []
    for t in ticks:
        y = Y(t)
        body.append(f'<line class="grid-line" x1="{ml}" x2="{w - mr}" y1="{_f(y)}" y2="{_f(y)}"/>')
        tick = f"{t:+g}" if proto.headline == "net" and t else f"{t:g}"
        body.append(f'<text x="{ml - 6}" y="{_f(y + 4)}" text-anchor="end">{_esc(tick)}</text>')
    if zero and y0 < 0 < y1:
        body.append(f'<line class="zero" x1="{ml}" x2="{w - mr}" y1="{_f(Y(0))}" y2="{_f(Y(0))}"/>')
    body.append(f'<line class="axis" x1="{ml}" x2="{w - mr}" y1="{mt + ph}" y2="{mt + ph}"/>')
    every = max(1, -(-n // (4 if small else 8)))
    tf = rep.tick_format()
    for i in range(0, n, every):
        x = X(i)
        body.append(_line("axis", x, mt + ph, x, mt + ph + 4))
        body.append(f'<text x="{_f(x)}" y="{mt + ph + 18}" text-anchor="middle">'
                    f'{_esc(_when(rep.points[i][0], tf))}</text>')
    has_ci = [i for i, r in enumerate(results)
              if r is not None and not r.empty and _ok(r.ci_low) and _ok(r.ci_high)]
    for run in _runs(has_ci):
        if len(run) == 1:
            i = run[0]
            body.append(f'<line class="whisker" x1="{_f(X(i))}" x2="{_f(X(i))}" '
                        f'y1="{_f(Y(results[i].ci_low))}" y2="{_f(Y(results[i].ci_high))}"/>')
            continue
        pts = [f"{_f(X(i))},{_f(Y(results[i].ci_high))}" for i in run]
        pts += [f"{_f(X(i))},{_f(Y(results[i].ci_low))}" for i in reversed(run)]
        body.append(f'<polygon class="band" points="{" ".join(pts)}"/>')
    has_v = [i for i, r in enumerate(results) if r is not None and not r.empty and _ok(r.value)]
    for run in _runs(has_v):
        if len(run) > 1:
            pts = " ".join(f"{_f(X(i))},{_f(Y(results[i].value))}" for i in run)
            body.append(f'<polyline class="line" points="{pts}"/>')
    for i in has_v:
        r = results[i]
        cls = "dot low" if r.low_sample else "dot"
        tip = f"{_when(rep.points[i][0])}: {fmt(r.value)}, n {r.n}"
        if _ci(r):
            tip += f", CI {_ci(r)}"
        body.append(f'<circle class="{cls}" cx="{_f(X(i))}" cy="{_f(Y(r.value))}" r="3.5">'
                    f"<title>{_esc(tip)}</title></circle>")
    # the description: what a reader who cannot see the chart needs
    word = rep.step_word()
    desc = (f"{label} per {word} from {_when(rep.start)} to {_when(rep.end)} UTC, "
            f"{n} points, {len(has_v)} with answers.")
    if has_v:
        last = results[has_v[-1]]
        desc += (f" Latest ({_when(rep.points[has_v[-1]][0])}): {fmt(last.value)}"
                 + (f", {rep.confidence_pct} CI {_ci(last)}" if _ci(last) else "")
                 + f", n {last.n}.")
        lo = min(has_v, key=lambda i: results[i].value)
        hi = max(has_v, key=lambda i: results[i].value)
        desc += (f" Lowest {fmt(results[lo].value)} at {_when(rep.points[lo][0])},"
                 f" highest {fmt(results[hi].value)} at {_when(rep.points[hi][0])}.")
        lows = sum(1 for i in has_v if results[i].low_sample)
        if lows:
            desc += f" {lows} points have a low sample (hollow)."
    gone = sum(1 for r in results if r is None)
    if gone:
        desc += f" {gone} points are no longer kept per {word}."
    return page.svg(w, h, title, desc, body)


def _histogram_svg(page, name, r, qs, xs):
    w, h = 760, 240
    ml, mr, mt, mb = 30, 40, 30, 40
    pw, ph = w - ml - mr, h - mt - mb
    pairs = [(q, x) for q, x in zip(qs, xs) if _ok(x)]
    x0, x1 = pairs[0][1], pairs[-1][1]
    if x1 <= x0:
        x1 = x0 + max(abs(x0) * 0.01, 0.001)
    minw = (x1 - x0) / 200
    bins = []
    for (qa, xa), (qb, xb) in zip(pairs, pairs[1:]):
        width = max(xb - xa, minw)
        bins.append((xa, xa + width, qb - qa, (qb - qa) / width))
    top = max(b[3] for b in bins)
    a, b, ticks = _time_axis(x1)

    def X(v):
        return ml + (min(max(v, a), b) - a) * pw / (b - a)

    body = []
    for t in ticks:
        x = X(t)
        body.append(_line("axis", x, mt + ph, x, mt + ph + 4))
        body.append(f'<text x="{_f(x)}" y="{mt + ph + 18}" text-anchor="middle">'
                    f'{_esc(_secs_tick(t))}</text>')
    for lo, hi, share, dens in bins:
        bh = dens / top * ph
        body.append(f'<rect class="bar" x="{_f(X(lo))}" y="{_f(mt + ph - bh)}" '
                    f'width="{_f(max(X(hi) - X(lo) - 0.6, 0.6))}" height="{_f(bh)}">'
                    f"<title>{_esc(f'{share * 100:.0f} % between {_secs(lo)} and {_secs(hi)}')}"
                    f"</title></rect>")
    body.append(f'<line class="axis" x1="{ml}" x2="{w - mr}" y1="{mt + ph}" y2="{mt + ph}"/>')
    qd = dict(pairs)
    # the median's label left of its line, p90's right of it: they never overlap
    for q, lab, dx, anchor in ((0.5, "p50", -4, "end"), (0.9, "p90", 4, "start")):
        if q in qd:
            x = X(qd[q])
            body.append(_line("mark", x, mt - 14, x, mt + ph))
            body.append(f'<text class="label" x="{_f(x + dx)}" y="{mt - 4}" text-anchor="{anchor}">'
                        f'{_esc(f"{lab} {_secs(qd[q])}")}</text>')
    desc = (f"Distribution of {r.n} durations of {name}: the middle 98 % lie between "
            f"{_secs(x0)} (p1) and {_secs(pairs[-1][1])} (p99); half took less than "
            f"{_secs(qd.get(0.5))} (p50) and nine in ten less than {_secs(qd.get(0.9))} (p90). "
            f"Bars are cut at the quantiles: each bar's area is the share of durations "
            f"between its edges.")
    return page.svg(w, h, f"{name}: distribution of durations", desc, body)


def _boxplot_svg(page, name, rows):
    """rows: (label, n, (p10, p25, p50, p75, p90))."""
    row_h = 30
    w = 760
    ml, mr, mt, mb = 190, 110, 10, 40
    h = mt + row_h * len(rows) + mb
    pw = w - ml - mr
    a, b, ticks = _time_axis(max(q[4] for _, _, q in rows), 6)

    def X(v):
        return ml + (min(max(v, a), b) - a) * pw / (b - a)

    body = []
    base = mt + row_h * len(rows)
    for t in ticks:
        x = X(t)
        body.append(f'<line class="grid-line" x1="{_f(x)}" x2="{_f(x)}" y1="{mt}" y2="{base}"/>')
        body.append(f'<text x="{_f(x)}" y="{base + 18}" text-anchor="middle">'
                    f'{_esc(_secs_tick(t))}</text>')
    desc = [f"Durations of {name} per touchpoint: the box spans p25 to p75, the line inside "
            f"is the median, the whiskers p10 to p90."]
    for k, (label, n, q) in enumerate(rows):
        cy = mt + row_h * k + row_h / 2
        p10, p25, p50, p75, p90 = q
        body.append(f"<g><title>{_esc(f'{label}: median {_secs(p50)}, n {n}')}</title>")
        body.append(f'<text class="label" x="{ml - 8}" y="{_f(cy + 4)}" text-anchor="end">'
                    f"{_esc(_short(label, 26))}</text>")
        body.append(_line("axis", X(p10), cy, X(p90), cy))
        for v in (p10, p90):
            body.append(f'<line class="axis" x1="{_f(X(v))}" x2="{_f(X(v))}" y1="{_f(cy - 6)}" '
                        f'y2="{_f(cy + 6)}"/>')
        body.append(f'<rect class="box" x="{_f(X(p25))}" y="{_f(cy - 9)}" '
                    f'width="{_f(max(X(p75) - X(p25), 1))}" height="18"/>')
        body.append(f'<line class="median" x1="{_f(X(p50))}" x2="{_f(X(p50))}" y1="{_f(cy - 9)}" '
                    f'y2="{_f(cy + 9)}"/>')
        body.append(f'<text x="{w - mr + 8}" y="{_f(cy + 4)}">{_esc(_secs(p50))}</text></g>')
        desc.append(f"{label}: p10 {_secs(p10)}, p25 {_secs(p25)}, median {_secs(p50)}, "
                    f"p75 {_secs(p75)}, p90 {_secs(p90)} (n {n}).")
    body.append(f'<line class="axis" x1="{ml}" x2="{w - mr}" y1="{base}" y2="{base}"/>')
    return page.svg(w, h, f"{name}: durations by touchpoint", " ".join(desc), body)


def _funnel_svg(page, journey, f):
    steps = list(zip(journey.steps, f.steps))
    row_h = 48
    w = 760
    ml, mr, mt = 190, 150, 8
    h = mt + row_h * len(steps) + 8
    pw = w - ml - mr
    top = max(max((s.reached for _, s in steps), default=0), f.entered, 1)
    body = []
    desc = [f"Funnel of {journey.name}: {f.entered} entered."]
    for k, (name, s) in enumerate(steps):
        y = mt + row_h * k
        bw = s.reached / top * pw
        share = s.reached / f.entered if f.entered else float("nan")
        pct = f" ({share * 100:.1f} % of entered)" if _ok(share) else ""
        body.append(f"<g><title>{_esc(f'{name}: {s.reached} reached{pct}')}</title>")
        body.append(f'<text class="label" x="{ml - 8}" y="{y + 19}" text-anchor="end">'
                    f"{_esc(_short(name, 26))}</text>")
        body.append(f'<rect class="bar" x="{ml}" y="{y + 4}" width="{_f(max(bw, 1))}" '
                    f'height="22"/>')
        body.append(f'<text x="{_f(ml + max(bw, 1) + 6)}" y="{y + 19}">'
                    f"{_esc(f'{s.reached:,}' + (f' ({share * 100:.0f} %)' if _ok(share) else ''))}"
                    f"</text></g>")
        line = f"Step {k + 1}, {name}: {s.reached} reached{pct}"
        if k > 0 and _ok(s.drop_off):
            body.append(f'<text class="drop" x="{ml}" y="{y + 41}">'
                        f"{_esc(f'drop-off {s.drop_off * 100:.1f} % from the step before')}</text>")
            line += f", drop-off {s.drop_off * 100:.1f} % from the step before"
        desc.append(line + ".")
    if _ok(f.conversion):
        desc.append(f"{f.completed} completed: conversion {f.conversion * 100:.1f} %.")
    return page.svg(w, h, f"Funnel of {journey.name}", " ".join(desc), body)


# ---- sections -------------------------------------------------------------------

def _result_cells(r, start=None):
    return [f"{r.n:,}", _value(r.value, r.headline, r.kind), _ci(r), (_note(r, start), "text")]


def _none(page, what, names):
    if names:
        page.add(f"<p>No {what} in the window: {_esc(', '.join(names))}.</p>")


def _section_scores(page, rep, metrics):
    page.add('<h2 id="scores">Scores over time</h2>')
    metrics, empty = rep.with_data(metrics)
    _none(page, "answers", empty)
    for m in metrics:
        md = rep.defs[int(m)]
        page.add(f'<h3 id="metric-{int(m)}">{_esc(m.name)}</h3>',
                 f"<p>{_esc(m.name)}: {_esc(_what(md))}. Points: one per {_esc(rep.step_word())}; "
                 f"band: {_esc(rep.confidence_pct)} confidence interval; hollow points: low "
                 f"sample.</p>")
        overall = rep.overall(m)
        rows = rep.by_touchpoint(m)
        page.table(f"{m.name} by touchpoint, {rep.window_label}",
                   ["Touchpoint", "Channel", "Answers (n)", "Value", f"{rep.confidence_pct} CI",
                    "Note"],
                   [("All touchpoints", [("", "text")] + _result_cells(overall, rep.start))]
                   + [(tp.name, [(_channel_name(tp), "text")] + _result_cells(r, rep.start))
                      for tp, r in rows[:_MAX_ROWS]],
                   note=_more(rows))
        series = [("All touchpoints", rep.trend(m))]
        series += [(tp.name, rep.trend(m, touchpoint=tp)) for tp, _ in rows[:rep.top]]
        lo, hi = _bounds(md)
        vals = [v for _, rs in series for r in rs if r is not None and not r.empty
                for v in (r.value, r.ci_low, r.ci_high) if _ok(v)]
        if not vals:
            vals = list(_bounds(md))
        a, b, ticks = _axis(min(vals), max(vals), 5, clip=(lo, hi))
        if b <= a:
            a, b, ticks = lo, hi, _axis(lo, hi, 5)[2]
        axis = (a, b, ticks, md.headline == Headline.NET)
        name, results = series[0]
        page.add("<figure>",
                 _trend_svg(page, rep, results, overall, axis, f"{m.name}, all touchpoints",
                            f"{m.name} per {rep.step_word()}, all touchpoints", False),
                 f"<figcaption>{_esc(m.name)}, all touchpoints, per {_esc(rep.step_word())} "
                 f"(UTC).</figcaption></figure>")
        if len(series) > 1:
            page.add('<div class="grid">')
            for name, results in series[1:]:
                page.add("<figure>",
                         _trend_svg(page, rep, results, overall, axis, f"{m.name} at {name}",
                                    f"{m.name} per {rep.step_word()} at {name}", True),
                         f"<figcaption>{_esc(m.name)} at {_esc(name)}</figcaption></figure>")
            page.add("</div>")
        page.add("<details><summary>The numbers behind these charts</summary>")
        fmt_r = (lambda r: f"not kept per {rep.step_word()}" if r is None else
                 "no answers" if r.n == 0 else
                 f"{_value(r.value, r.headline, r.kind)} (n {r.n:,})"
                 + (", low sample" if r.low_sample else ""))
        page.table(f"{m.name} per {rep.step_word()} (start of each, UTC)",
                   ["Time"] + [s[0] for s in series],
                   [(_when(p[0]), [fmt_r(rs[k]) for _, rs in series])
                    for k, p in enumerate(rep.points)])
        page.add("</details>")


def _channel_name(tp):
    ch = getattr(tp, "channel", None)
    return ch.name.lower().replace("_", " ") if ch is not None else ""


def _more(rows):
    if len(rows) > _MAX_ROWS:
        return f"The {len(rows) - _MAX_ROWS} touchpoints with the fewest answers are left out."
    return None


def _section_durations(page, rep, metrics):
    page.add('<h2 id="durations">Durations</h2>')
    metrics, empty = rep.with_data(metrics)
    _none(page, "measures", empty)
    for m in metrics:
        page.add(f'<h3 id="metric-{int(m)}">{_esc(m.name)}</h3>',
                 f"<p>{_esc(m.name)}: {_esc(_what(rep.defs[int(m)]))} and quantiles.</p>")
        overall = rep.overall(m)
        rows = rep.by_touchpoint(m)

        def cells(r):
            return [f"{r.n:,}", _secs(r.value), _secs(r.p50), _secs(r.p90), _secs(r.p99),
                    (_note(r, rep.start), "text")]
        page.table(f"{m.name} by touchpoint, {rep.window_label}",
                   ["Touchpoint", "Measures (n)", "Mean", "p50", "p90", "p99", "Note"],
                   [("All touchpoints", cells(overall))]
                   + [(tp.name, cells(r)) for tp, r in rows[:_MAX_ROWS]], note=_more(rows))
        xs = rep.ctx.quantiles(rep.query(m), _HIST_QS)
        if sum(1 for x in xs if _ok(x)) >= 2:
            page.add("<figure>", _histogram_svg(page, m.name, overall, _HIST_QS, xs),
                     f"<figcaption>{_esc(m.name)}: how long, all touchpoints; the dashed lines "
                     f"mark the median (p50) and p90.</figcaption></figure>")
        box = []
        for label, scope, n in ([("All touchpoints", {}, overall.n)]
                                + [(tp.name, {"touchpoint": tp}, r.n) for tp, r in rows[:rep.top]]):
            qq = rep.ctx.quantiles(rep.query(m, **scope), _BOX_QS)
            if all(_ok(x) for x in qq):
                box.append((label, n, qq))
        if len(box) > 1:
            page.add("<figure>", _boxplot_svg(page, m.name, box),
                     f"<figcaption>{_esc(m.name)} by touchpoint: box p25 to p75, line the median, "
                     f"whiskers p10 to p90.</figcaption></figure>")


def _section_journeys(page, rep):
    page.add('<h2 id="journeys">Journeys</h2>')
    for j in rep.journeys:
        f = rep.ctx.funnel(j, rep.span, end=rep.end - 1)
        page.add(f'<h3 id="journey-{int(j)}">{_esc(j.name)}</h3>')
        conv = f"{f.conversion * 100:.1f} %" if _ok(f.conversion) else "no data"
        goal = f", median time to the goal {_secs(f.goal_p50)}" if _ok(f.goal_p50) else ""
        page.add(f"<p>{f.entered:,} entered, {f.completed:,} completed (conversion {_esc(conv)}"
                 f"{_esc(goal)}), {f.abandoned:,} abandoned, {f.expired:,} expired"
                 f"{' (low sample)' if f.low_sample and not f.empty else ''}.</p>")
        if f.entered == 0:
            page.add(f"<p>Nothing entered {_esc(j.name)} in the window: no chart.</p>")
        else:
            page.add("<figure>", _funnel_svg(page, j, f),
                     f"<figcaption>Funnel of {_esc(j.name)}: bars are the instances that reached "
                     f"each step; red: the share lost since the step before.</figcaption></figure>")
        rows = []
        for k, (name, s) in enumerate(zip(j.steps, f.steps)):
            share = f"{s.reached / f.entered * 100:.1f} %" if f.entered else "no data"
            drop = f"{s.drop_off * 100:.1f} %" if k > 0 and _ok(s.drop_off) else ""
            rows.append((name, [f"{s.reached:,}", share, drop,
                                _secs(s.next_p50) if k + 1 < len(j.steps) else ""]))
        page.table(f"Steps of {j.name}, {rep.window_label}",
                   ["Step", "Reached", "Of entered", "Drop-off from the step before",
                    "Median time to the next step"], rows)


def _section_other(page, rep, metrics):
    page.add('<h2 id="other">Rates, amounts and counts</h2>')
    metrics, empty = rep.with_data(metrics)
    _none(page, "data", empty)
    if not metrics:
        return
    results = {int(m): [rep.run(m)] + [rep.run(m, touchpoint=tp) for tp in rep.touchpoints]
               for m in metrics}
    head = ["Touchpoint"]
    for m in metrics:
        head.append(f"{m.name} ({_what(rep.defs[int(m)])})")
    rows = []
    for k, label in enumerate(["All touchpoints"] + [tp.name for tp in rep.touchpoints]):
        rs = [results[int(m)][k] for m in metrics]
        if k and all(r.n == 0 for r in rs):
            continue
        rows.append((label, [("no data" if r.n == 0 else _value(r.value, r.headline, r.kind))
                             + (" (low sample)" if r.low_sample and r.n else "")
                             for r in rs]))
    page.table(f"Rates, amounts and counts by touchpoint, {rep.window_label}", head,
               rows[:_MAX_ROWS + 1])


def _section_segments(page, rep, metrics):
    page.add('<h2 id="segments">Segments</h2>')
    metrics = rep.with_data(metrics)[0]
    if not metrics:
        page.add("<p>No score or rate has data in the window.</p>")
        return
    for seg in rep.segments:
        values = rep.ctx.segment_values(seg)
        page.add(f'<h3 id="segment-{int(seg)}">{_esc(seg.name)}</h3>')
        if not values:
            page.add("<p>No value of this segment was seen.</p>")
            continue
        rows = []
        for v in values[:_MAX_ROWS]:
            cells = []
            for m in metrics:
                r = rep.run(m, segment=v)
                cells.append("no data" if r.n == 0 else
                             f"{_value(r.value, r.headline, r.kind)} (n {r.n:,})"
                             + (", low sample" if r.low_sample else ""))
            rows.append((v.name, cells))
        page.table(f"Headlines by {seg.name}, {rep.window_label}",
                   [seg.name] + [m.name for m in metrics], rows)


def render(ctx, window="24h", *, step=None, end=None, top=6, title=None, source=None,
           about=(), confidence=0.95, generated=None):
    """The report of a context as one self-contained HTML page (a str).

    window: the span covered ("24h", a timedelta, ms). step: the span of
    each point of the trends (default: 1 h up to two days, then 6 h, 1 d,
    7 d). end: the latest event time to report up to (default: the
    watermark); the report ends at the next multiple of step. top: the
    touchpoints charted one by one per metric. title, source: shown at
    the top; about: (label, text) pairs added to "About these numbers".
    confidence: the context's confidence level, for the labels only.
    generated: the time printed as the page's date (default: now).
    """
    if not isinstance(top, int) or isinstance(top, bool) or top < 0:
        raise ValueError("top must be an int >= 0")
    rep = _Report(ctx, window, step, None if end is None else time_ms(end), top, confidence)
    page = _Page()
    title = title or "Customer experience report"
    gen = generated or datetime.now(timezone.utc)
    kinds = {int(m): rep.defs[int(m)].kind for m in rep.metrics}
    scores = [m for m in rep.metrics if kinds[int(m)] in _SCORE_KINDS]
    durations = [m for m in rep.metrics if kinds[int(m)] == Kind.DURATION]
    others = [m for m in rep.metrics if kinds[int(m)] in _OTHER_KINDS]

    page.add('<header>', f"<h1>{_esc(title)}</h1>")
    if rep.empty:
        page.add('<p class="meta">The context holds no interaction: nothing to report.</p>')
    else:
        page.add(f'<p class="meta">{_esc(_span(rep.span))} from {_esc(_when(rep.start))} to '
                 f'{_esc(_when(rep.end))} UTC (latest event '
                 f'{_esc(_when(rep.latest, "%Y-%m-%d %H:%M:%S"))}'
                 f'); trends per {_esc(rep.step_word())}.</p>')
    if source:
        page.add(f'<p class="meta">Source: {_esc(source)}</p>')
    page.add(f'<p class="meta">Generated {_esc(gen.strftime("%Y-%m-%d %H:%M UTC"))} by libcxm '
             f'{_esc(libversion())}.</p></header>')
    sections = []
    if not rep.empty:
        sections.append(("summary", "Summary"))
        if scores:
            sections.append(("scores", "Scores over time"))
        if durations:
            sections.append(("durations", "Durations"))
        if rep.journeys:
            sections.append(("journeys", "Journeys"))
        if others:
            sections.append(("other", "Rates, amounts and counts"))
        if rep.segments and (scores or others):
            sections.append(("segments", "Segments"))
    sections.append(("about", "About these numbers"))
    page.add('<nav aria-label="Contents"><ul>'
             + "".join(f'<li><a href="#{i}">{_esc(t)}</a></li>' for i, t in sections)
             + "</ul></nav><main>")
    if not rep.empty:
        page.add('<h2 id="summary">Summary</h2>')
        rows = []
        for m in rep.metrics:
            r = rep.overall(m)
            rows.append((m.name, [(_what(rep.defs[int(m)]), "text")] + _result_cells(r, rep.start)))
        page.table(f"Every metric, all touchpoints, {rep.window_label}",
                   ["Metric", "What the value is", "n", "Value", f"{rep.confidence_pct} CI",
                    "Note"], rows)
        if scores:
            _section_scores(page, rep, scores)
        if durations:
            _section_durations(page, rep, durations)
        if rep.journeys:
            _section_journeys(page, rep)
        if others:
            _section_other(page, rep, others)
        if rep.segments and (scores or others):
            _section_segments(page, rep, scores + [m for m in others
                                                   if kinds[int(m)] in (Kind.RATE,)])
    page.add('<h2 id="about">About these numbers</h2><dl>')
    items = list(about) + [
        ("Window", "every number covers the window above unless it says otherwise; the window "
                   "ends at the first whole step after the latest event"),
        ("Confidence intervals", f"{rep.confidence_pct}, as libcxm computes them for each query"),
        ("Low sample", "fewer answers than the context's min_samples (30 by default): the "
                       "value is shown but uncertain; hollow points in the charts"),
        ("Quantiles", "durations' p50, p90 and p99 are libcxm's sketches, within about 1 %"),
        ("Journeys", "a funnel counts the events of the window (entries, steps reached, "
                     "completions, abandonments, expiries), not the fate of the journeys begun "
                     "in it: over a window not much longer than the conversion window, a step "
                     "can be reached more often than the journey was entered"),
    ]
    for k, v in items:
        page.add(f"<dt>{_esc(k)}</dt><dd>{_esc(v)}</dd>")
    page.add("</dl></main>")
    head = ('<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
            '<meta name="viewport" content="width=device-width, initial-scale=1">'
            "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; "
            "style-src 'unsafe-inline'\">"
            f"<title>{_esc(title)}</title><style>{_CSS}</style></head><body>")
    return head + "\n".join(page.out) + "\n</body></html>\n"


def write(ctx, path, window="24h", **options):
    """render() into a file, atomically (a temporary file renamed into
    place); path "-" is standard output. Returns the page."""
    page = render(ctx, window, **options)
    if path == "-":
        import sys
        sys.stdout.write(page)
        return page
    d = os.path.dirname(os.path.abspath(path))
    fd, tmp = tempfile.mkstemp(prefix=".cxm-report.", suffix=".html", dir=d)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(page)
        mask = os.umask(0)
        os.umask(mask)
        os.chmod(tmp, 0o666 & ~mask)
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise
    return page


# ---- python3 -m cxm report (the parser is in _replay.py) ----------------------

CLI_DESCRIPTION = """\
Write one self-contained HTML page (inline CSS and SVG charts, no script,
no other resource) from a snapshot or from an export:

    python3 -m cxm report node.cxms --key-file customer.key -o report.html
    python3 -m cxm report calls.csv --map ts=time --map queue=touchpoint \\
        --map score=nps --map handle_s=duration:aht -o report.html

A snapshot (a file cxm_snapshot_save() wrote) loads only with the customer
key it was saved under, which the file does not hold: give --key or
--key-file. Any other file is an export, read as `cxm replay` reads it
(the same --map, --journey, --segment... options) into a fresh context.
The page covers --window ending at the first whole --step after the
latest event: scores (NPS, CSAT...) per touchpoint with their trends and
confidence bands, durations with their distribution, journeys as funnels.
"""

# what describes an export's columns: (option, dest, default)
_EXPORT_OPTIONS = (("--map", "map", []), ("--time-format", "time_format", "iso"),
                   ("--tz", "tz", "UTC"), ("--segment", "segment", []),
                   ("--touchpoint", "touchpoint", None), ("--journey", "journey", []),
                   ("--channel", "channel", "other"), ("--format", "format", None))


def _check_span(parser, what, text):
    try:
        ms = span_ms(text)
    except (ValueError, TypeError, OverflowError) as e:
        parser.error(f"{what} {text!r}: {e}")
    if ms <= 0:
        parser.error(f"{what} {text!r}: give a positive span")
    return ms


def _read_key(parser, args):
    if args.key is not None and args.key_file is not None:
        parser.error("--key and --key-file are exclusive")
    if args.key is None and args.key_file is None:
        parser.error(f"{args.file} is a snapshot: it loads only with the customer key it was "
                     f"saved under; give --key HEX or --key-file FILE")
    try:
        if args.key is not None:
            key = parse_key(args.key)
        else:
            with open(args.key_file, "rb") as f:
                key = parse_key(f.read(256).decode("ascii"))
    except (OSError, ValueError) as e:  # UnicodeDecodeError is a ValueError
        parser.error(f"{'--key' if args.key is not None else '--key-file ' + args.key_file}: {e}")
    if not any(key):
        parser.error("the key is all zero, which libcxm takes as 'a random key': give the "
                     "key the snapshot was saved under")
    return key


def _main(args, parser):
    """Run `python3 -m cxm report` with the arguments _replay.main parsed."""
    import sys

    from . import BulkFeedError, Error

    if not os.path.isfile(args.file):
        parser.error(f"no such file: {args.file}")
    window = _check_span(parser, "--window", args.window)
    step = (_check_span(parser, "--step", args.step) if args.step is not None
            else _default_step(window))
    if step > window:
        parser.error(f"--step {args.step} is longer than --window {args.window}")
    if -(-window // step) > _MAX_POINTS:
        parser.error(f"--window {args.window} holds more than {_MAX_POINTS} steps of "
                     f"{_span(step)}: give a longer --step")
    if args.top < 0:
        parser.error("--top must be 0 or more")
    cfg = {}
    if args.max_customers is not None:
        cfg["max_customers"] = args.max_customers
    name = os.path.basename(args.file)
    about = []
    try:
        snapshot = is_snapshot(args.file)
    except OSError as e:
        sys.stderr.write(f"cxm report: {args.file}: {e}\n")
        return 1
    if snapshot:
        for opt, dest, default in _EXPORT_OPTIONS:
            if getattr(args, dest) != default:
                parser.error(f"{opt} describes the columns of an export; {args.file} is a snapshot")
        key = _read_key(parser, args)
        try:
            ctx = load_snapshot(args.file, key, **cfg)
        except Error as e:
            sys.stderr.write(f"cxm report: {args.file}: {e}\n")
            return 1
        about.append(("Input", f"the snapshot {name}"))
    else:
        if args.key is not None or args.key_file is not None:
            parser.error(f"--key and --key-file are for snapshots; {args.file} is not one, and "
                         f"an export is fed into a fresh context")
        from ._replay import _Replay
        try:
            replay = _Replay(args)
        except SystemExit as e:  # its messages name the replay
            if isinstance(e.code, str):
                e.code = e.code.replace("cxm replay:", "cxm report:", 1)
            raise
        try:
            replay.run()
        except BulkFeedError as e:
            replay.ctx.close()
            sys.stderr.write(f"cxm report: {e}; no report written\n")
            return 1
        except KeyboardInterrupt:
            replay.ctx.close()
            return 130
        ctx = replay.ctx
        if not replay.accepted:
            ctx.close()
            reasons = ", ".join(f"{r} ({n})" for r, n in list(replay.by_reason.items())[:3])
            sys.stderr.write(f"cxm report: none of the {replay.rows} rows of {args.file} was "
                             f"accepted{': ' + reasons if reasons else ''}; no report written\n")
            return 1
        about.append(("Input", f"the export {name}: {replay.rows:,} rows read, {replay.accepted:,} "
                               f"accepted, {len(replay.rejections):,} rejected"))
        for reason, n in sorted(replay.by_reason.items(), key=lambda kv: -kv[1])[:5]:
            about.append(("Rejected", f"{n:,} rows: {reason}"))
    with ctx:
        watermark = ctx.stats().watermark_ms
        if len(ctx.journeys) and watermark >= 0:
            ctx.sweep(watermark)  # instances overdue at the latest event count as abandoned
        try:
            page = write(ctx, args.output, window, step=step, top=args.top, title=args.title,
                         source=name, about=about)
        except OSError as e:
            sys.stderr.write(f"cxm report: cannot write {args.output}: {e}\n")
            return 1
    if args.output != "-":
        print(f"cxm report: wrote {args.output} ({len(page.encode()) // 1024 + 1} KiB, "
              f"{page.count('<svg ')} charts, {page.count('<table>')} tables)")
    return 0
