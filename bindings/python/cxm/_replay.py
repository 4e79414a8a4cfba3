"""python3 -m cxm replay: feed a CSV or JSON-lines export, print a dashboard.

    python3 -m cxm replay calls.csv --map ts=time --map queue=touchpoint \\
        --map caller=customer --map score=nps --map handle_s=duration:aht \\
        --map solved=rate:resolved --segment tier --window 24h --window 7d

Each --map COLUMN=FIELD says what a column holds. FIELD is time,
touchpoint, customer or channel, or a metric: PRESET[:NAME][@QUESTION][*K]
with PRESET one of nps, csat5 (csat), csat7, csat10, ces7 (ces), ces5, cxi,
duration, rate, amount; NAME defaults to the preset's name, @QUESTION
picks the question of a cxi metric (0, 1, 2), and *K or /K scales the
column's numbers (handle_h=duration:aht*3600: hours to seconds). A date
column and a time column make the event time together: --map DATE+TIME=time
(the two values joined by a space, then read by --time-format). Touchpoints
are defined as they first appear, channel from a channel column or
--channel; common words are understood (voice, call -> phone; mail ->
email; webchat -> chat; store, branch -> in person; twitter -> social;
text -> sms), an unknown one is "other" with a note. A volume metric
"interactions" is always kept, and "customers" (distinct) when a customer
column is mapped. --journey-option NAME:conversion=30d,abandon=2d,strict
sets how a --journey is judged. --na NAME=CODE gives a metric a "no
answer" code: a cell holding CODE (before any *K scaling) is counted as
skipped, not as a value (--na asa=0 for an export that writes 0 s of
speed of answer for calls nobody answered).

The rows are sorted by event time before they are fed (an export is rarely
in time order, and libcxm refuses what lies too far behind the newest);
the output says how many were out of order. --no-sort feeds them as read,
without holding the file in memory. Rows are fed in batches through
Context.feed_many; every row that is not accepted is reported with its line
and reason, none is dropped silently. If the replay stops early (an
unreadable line, ^C), the rows read before are fed and it says from which
line on nothing was fed (exit status 1, or 130 after ^C). The dashboard's
windows end at the latest event time fed (the watermark). Every result
flag (low sample, empty, clamped, truncated) is shown: a letter in the
text's flags column, explained under the table, a "flags" list in --json
and a column of --csv (one row per metric, scope and window).

--drivers OUTCOME:DRIVER[:WINDOW] (repeatable; --drivers nps:csat:30d)
adds a key-driver analysis: a driver set "DRIVER drives OUTCOME" of two
--map metrics, over every touchpoint of the export and the overall driver
(each customer's latest DRIVER answer at any touchpoint), pairing each
customer's OUTCOME with the DRIVER answers at most WINDOW before it (30d
by default). The set is defined after every row is read and before any
is fed, so it sees the whole export (hence not with --no-sort). After the
dashboard comes a "key drivers" table per set: per driver the pairs, the
importance (Pearson's r) with its 95 % interval and p-value, the
performance (mean DRIVER), the quadrant, and the mean OUTCOME in the
DRIVER's bottom and top box with their difference; "drivers" in --json;
--csv leaves them out (its rows are results of windows).

--save FILE saves the context, once fed, as a snapshot under the customer
key of --key or --key-file (a snapshot loads only with it); `cxm query
FILE` prints the same dashboard from it, and `cxm report FILE` a page.
Driver sets are kept in the snapshot, and query prints their tables too.
"""
import argparse
import csv
import json
import math
import os
import re
import sys
import time
from datetime import datetime, timedelta, timezone

from . import (DRIVER_SETS_MAX, DRIVERS_MAX, JOURNEY_MAX_WINDOW, WATERMARK, BulkFeedError,
               Calendar, Channel, Context, Error, FeedReport, JourneyOptions, Kind, Preset,
               Quadrant, Rejection, Status, UnknownIdError, _bulk_error, _enum, from_ms, report,
               span_ms)
from . import preset as cxm_preset

_BATCH = 4096
_RATE_WORDS = {"1": 1.0, "0": 0.0, "true": 1.0, "false": 0.0, "yes": 1.0, "no": 0.0,
               "y": 1.0, "n": 0.0, "t": 1.0, "f": 0.0}


# Words of a channel column, lower case, "-" and "_" as spaces: libcxm's
# eight names and the common words for them. Any other word is "other".
_CHANNEL_WORDS = {
    "phone": Channel.PHONE, "voice": Channel.PHONE, "call": Channel.PHONE,
    "calls": Channel.PHONE, "telephone": Channel.PHONE, "telephony": Channel.PHONE,
    "tel": Channel.PHONE, "ivr": Channel.PHONE,
    "chat": Channel.CHAT, "webchat": Channel.CHAT, "web chat": Channel.CHAT,
    "live chat": Channel.CHAT, "livechat": Channel.CHAT, "messenger": Channel.CHAT,
    "email": Channel.EMAIL, "e mail": Channel.EMAIL, "mail": Channel.EMAIL,
    "web": Channel.WEB, "website": Channel.WEB, "online": Channel.WEB, "internet": Channel.WEB,
    "sms": Channel.SMS, "text": Channel.SMS, "text message": Channel.SMS, "texting": Channel.SMS,
    "social": Channel.SOCIAL, "social media": Channel.SOCIAL, "twitter": Channel.SOCIAL,
    "x": Channel.SOCIAL, "facebook": Channel.SOCIAL, "instagram": Channel.SOCIAL,
    "linkedin": Channel.SOCIAL,
    "in person": Channel.IN_PERSON, "inperson": Channel.IN_PERSON, "store": Channel.IN_PERSON,
    "shop": Channel.IN_PERSON, "in store": Channel.IN_PERSON, "branch": Channel.IN_PERSON,
    "walk in": Channel.IN_PERSON, "face to face": Channel.IN_PERSON,
    "counter": Channel.IN_PERSON,
    "other": Channel.OTHER,
}

# cxm.Result's flags: (key in --json and --csv, letter in the text, legend)
_FLAGS = (("low_sample", "L", "low sample: fewer responses than the context's minimum (30)"),
          ("empty", "E", "empty: no responses in the window"),
          ("clamped", "C", "clamped: some durations lay outside the metric's exact range; "
                           "quantiles there are bounds, shown as >= or <= the bound"),
          ("truncated", "T", "truncated: the window reaches before what the context keeps; "
                             "it starts later than asked"),
          ("inexact", "I", "inexact: the tiers hold the calendar bucket's edges only in coarser "
                           "UTC buckets; the interval shown is the one counted"))

# the columns of --csv, after window, metric, kind, headline, scope, name
_CSV_FIELDS = ("n", "value", "ci_low", "ci_high", "skipped", "mean", "min", "max", "sum",
               "stddev", "p50", "p90", "p99", "top_share", "bottom_share", "flags", "start",
               "end", "start_ms", "end_ms")


def channel_of(word):
    """(Channel, known) of a channel column's word, case and "-"/"_" aside."""
    key = " ".join(str(word).strip().lower().replace("-", " ").replace("_", " ").split())
    ch = _CHANNEL_WORDS.get(key)
    if ch is None:
        ch = _CHANNEL_WORDS.get(key.replace(" ", ""))
    return (Channel.OTHER, False) if ch is None else (ch, True)


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


def _parse_na(specs, names):
    """--na NAME=CODE into {metric name: integer code}."""
    out = {}
    for spec in specs:
        name, eq, code = spec.partition("=")
        name = name.strip()
        if not eq or not name:
            raise SystemExit(f"cxm replay: --na {spec!r}: write NAME=CODE")
        if name not in names:
            raise SystemExit(f"cxm replay: --na {spec!r}: no --map column feeds a metric "
                             f"named {name!r}")
        try:
            out[name] = int(code.strip())
        except ValueError:
            raise SystemExit(f"cxm replay: --na {spec!r}: the code must be an integer")
    return out


# the kinds a driver set takes (cxm_drivers_def): its outcome, its driver
_OUTCOME_KINDS = (Kind.SCORE, Kind.RATE, Kind.AMOUNT, Kind.DURATION, Kind.SENTIMENT)
_DRIVER_KINDS = (Kind.SCORE, Kind.RATE, Kind.SENTIMENT)
_DRIVERS_DEFAULT_WINDOW = 30 * 86_400_000  # window_ms 0: 30 days
_NAME_MAX = 128  # bytes of a name: cxm_config::max_name_len's default, which replay keeps


def _kinds_text(kinds):
    names = [k.name.lower() for k in kinds]
    return ", ".join(names[:-1]) + " or " + names[-1]


def _parse_drivers(specs, metrics):
    """--drivers OUTCOME:DRIVER[:WINDOW] into [(set name, outcome Metric,
    driver Metric, window ms)]; metrics: {name: Metric} of the replay's
    metrics."""
    out, names = [], set()
    for spec in specs:
        parts = [x.strip() for x in spec.split(":")]
        if len(parts) not in (2, 3) or not all(parts):
            raise SystemExit(f"cxm replay: --drivers {spec!r}: write OUTCOME:DRIVER[:WINDOW], "
                             f"such as nps:csat:30d")
        window = _DRIVERS_DEFAULT_WINDOW
        if len(parts) == 3:
            try:
                window = span_ms(parts[2])
            except (ValueError, TypeError) as e:
                raise SystemExit(f"cxm replay: --drivers {spec!r}: {e}") from None
            if not 0 < window <= span_ms(JOURNEY_MAX_WINDOW):
                raise SystemExit(f"cxm replay: --drivers {spec!r}: the window is 1 ms to "
                                 f"{JOURNEY_MAX_WINDOW.days}d")
        pair = []
        for role, name, kinds in (("outcome", parts[0], _OUTCOME_KINDS),
                                  ("driver", parts[1], _DRIVER_KINDS)):
            m = metrics.get(name)
            if m is None:
                have = ", ".join(metrics) or "none"
                raise SystemExit(f"cxm replay: --drivers {spec!r}: no --map column feeds a "
                                 f"metric named {name!r} (the replay's metrics: {have})")
            if m.kind not in kinds:
                kind = m.kind.name.lower()
                raise SystemExit(f"cxm replay: --drivers {spec!r}: {name} is "
                                 f"{'an' if kind[0] in 'aeiou' else 'a'} {kind} metric; the "
                                 f"{role} is a {_kinds_text(kinds)} metric")
            pair.append(m)
        set_name = f"{pair[1].name} drives {pair[0].name}"
        if len(set_name.encode("utf-8")) > _NAME_MAX:
            raise SystemExit(f"cxm replay: --drivers {spec!r}: the set's name {set_name!r} "
                             f"is longer than {_NAME_MAX} bytes: give the metrics shorter "
                             f"names (--map COLUMN=PRESET:NAME)")
        if set_name in names:
            raise SystemExit(f"cxm replay: --drivers {spec!r}: {set_name!r} is given twice")
        names.add(set_name)
        out.append((set_name, pair[0], pair[1], window))
    if len(out) > DRIVER_SETS_MAX:
        raise SystemExit(f"cxm replay: --drivers: at most {DRIVER_SETS_MAX} sets")
    return out


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
        scale = 1.0
        m = re.fullmatch(r"(.*?)\s*([*/])\s*([^*/]*)", f)
        if m:
            f, op, k = m.groups()
            try:
                k = float(k)
            except ValueError:
                k = math.nan
            if not math.isfinite(k) or k == 0:
                raise SystemExit(f"cxm replay: --map {spec!r}: write {op}K with K a number "
                                 f"other than 0, such as *3600 (hours to seconds)")
            scale = k if op == "*" else 1.0 / k
        item = 0
        if "@" in f:
            f, _, q = f.partition("@")
            try:
                item = int(q)
            except ValueError:
                raise SystemExit(f"cxm replay: --map {spec!r}: @{q} is not a question "
                                 f"number") from None
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
        metrics.append((col, preset, name or preset.name.lower(), item, scale))
    return roles, metrics


def _parse_journey_options(specs, journeys):
    """--journey-option NAME:KEY=VALUE,... into {journey name: {field: value}}."""
    durations = ("conversion", "abandon", "lateness", "repeat")
    flags = tuple(f.name for f in JourneyOptions.__dataclass_fields__.values()
                  if f.name not in durations)
    out = {}
    for spec in specs:
        name, sep, opts = spec.rpartition(":")
        name = name.strip()
        if not sep or not name or not opts.strip():
            raise SystemExit(f"cxm replay: --journey-option {spec!r}: write "
                             f"NAME:conversion=30d,abandon=2d,strict")
        if name not in journeys:
            raise SystemExit(f"cxm replay: --journey-option {spec!r}: no --journey {name!r}")
        kw = out.setdefault(name, {})
        for part in opts.split(","):
            key, eq, value = part.partition("=")
            key = key.strip().lower().replace("-", "_")
            value = value.strip()
            if key in durations:
                if not value:
                    raise SystemExit(f"cxm replay: --journey-option {spec!r}: {key} needs a "
                                     f"span such as {key}=2d")
                try:
                    kw[key] = span_ms(value)
                except (ValueError, TypeError) as e:
                    raise SystemExit(f"cxm replay: --journey-option {spec!r}: {e}") from None
            elif key in flags:
                word = value.lower() if eq else "yes"
                if word not in _RATE_WORDS:
                    raise SystemExit(f"cxm replay: --journey-option {spec!r}: {key}={value}: "
                                     f"write yes or no")
                kw[key] = bool(_RATE_WORDS[word])
            else:
                raise SystemExit(f"cxm replay: --journey-option {spec!r}: {key!r} is not an "
                                 f"option ({', '.join(durations + flags)})")
    return out


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
        self.calendar = getattr(args, "calendar_parsed", None)
        if self.calendar is not None:
            # calendar buckets in a zone are exact only where the tiers keep
            # hours: 400 days of them (memory follows the hours with data)
            cfg["tiers"] = _CALENDAR_TIERS
        if getattr(args, "customer_key", None) is not None:  # replay --key, --key-file
            cfg["customer_key"] = args.customer_key
        # --map DATE+TIME=time: two columns (more would do) joined by a space
        tcol = self.roles["time"]
        self.time_cols = [c.strip() for c in tcol.split("+")] if "+" in tcol else [tcol]
        if len(self.time_cols) > 1:
            if not all(self.time_cols):
                raise SystemExit(f"cxm replay: --map {tcol}=time: write DATE+TIME=time")
            if (args.time_format or "iso") in ("ms", "s"):
                raise SystemExit(f"cxm replay: --map {tcol}=time joins a date and a time: "
                                 f"give --time-format iso or a strptime format, not "
                                 f"{args.time_format}")
        self.notes = []
        self.unknown_channels = {}  # word -> [touchpoint names]
        self.ctx = Context(**cfg)
        self.parse_time = _time_parser(args.time_format, _tz(args.tz))
        self.default_channel, known = channel_of(args.channel)
        if not known:
            self.notes.append(f"--channel {args.channel!r} is not a channel: touchpoints "
                              f"without one are other")
        self.sort = not getattr(args, "no_sort", False)
        self.out_of_order = 0   # rows earlier than a row before them
        self.newest = None
        self.first = None  # the oldest event time accepted for feeding
        self.touchpoints = {}
        self.metrics = {}  # name -> Metric
        self.columns = []  # (column, metric id, item, kind, scale)
        na = _parse_na(getattr(args, "na", None) or [], {c[2] for c in self.metric_cols})
        self.na = {}  # metric id -> its no-answer code
        for col, preset, name, item, scale in self.metric_cols:
            m = self.metrics.get(name)
            if m is None:
                d = cxm_preset(preset)
                if name in na:
                    d = d.replace(na=na[name])
                try:
                    m = self.metrics[name] = self.ctx.metric(name, d)
                except Error as e:
                    raise SystemExit(f"cxm replay: metric {name}: {e}")
                if name in na:
                    self.na[int(m)] = float(na[name])
            self.columns.append((col, int(m), item, m.kind, scale))
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
        options = _parse_journey_options(getattr(args, "journey_option", None) or [],
                                         {j.name for j in self.journeys})
        for j in self.journeys:
            if j.name in options:
                try:
                    self.ctx.set_journey_options(j, **options[j.name])
                except (Error, ValueError, TypeError) as e:
                    raise SystemExit(f"cxm replay: --journey-option {j.name}: {e} (spans are "
                                     f"1s to {JOURNEY_MAX_WINDOW.days}d)") from None
        self.segments = []
        for spec in args.segment:
            col, _, cap = spec.partition(":")
            seg = self.ctx.segment(col, int(cap) if cap else 256)
            self.segments.append((col, int(seg)))
        # --drivers: checked now, defined once every row is read (define_drivers)
        known = dict(self.metrics)
        known.update((m.name, m) for m in (self.volume, self.distinct) if m is not None)
        self.driver_specs = _parse_drivers(getattr(args, "drivers", None) or [], known)
        if self.driver_specs and not self.sort:
            raise SystemExit("cxm replay: --drivers needs the rows sorted (not --no-sort)")
        self.driver_sets = None  # [{id, name, outcome, driver, window_ms}] once defined
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
            if channel not in (None, ""):
                ch, known = channel_of(channel)
                if not known:
                    self.unknown_channels.setdefault(str(channel), []).append(name)
            j, k = self.step_of.get(name, (None, None))
            tp = self.touchpoints[name] = int(self.ctx.touchpoint(name, ch, j, k))
        return tp

    def convert(self, line, row):
        """A feed_many row, or None after recording why not."""
        if isinstance(row, Exception):
            self.reject(line, f"bad JSON: {row}")
            return None
        roles = self.roles
        if len(self.time_cols) == 1 or roles["time"] in row:
            raw_t = row.get(roles["time"])
        else:
            parts = [row.get(c) for c in self.time_cols]
            missing = [c for c, v in zip(self.time_cols, parts) if v in (None, "")]
            if missing:
                self.reject(line, f"no {' nor '.join(missing)}" if len(missing) < len(parts)
                            else "no time")
                return None
            raw_t = " ".join(str(v).strip() for v in parts)
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
        for col, metric, item, kind, scale in self.columns:
            v = row.get(col)
            if v is None or v == "":
                continue
            code = self.na.get(metric)
            if isinstance(v, str):
                s = v.strip()
                try:
                    raw = float(s)
                except ValueError:
                    raw = None
                if code is not None and raw == code:
                    v = code  # no answer: never scaled
                elif kind == Kind.RATE and s.lower() in _RATE_WORDS:
                    v = _RATE_WORDS[s.lower()]
                else:
                    try:
                        v = float(s) * scale
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
            elif code is not None and v == code:
                v = code
            elif scale != 1.0:
                v = v * scale
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
        """Read, convert and feed the file: sorted by time unless --no-sort."""
        args = self.args
        path = args.file
        fmt = args.format or ("jsonl" if path.endswith((".jsonl", ".ndjson", ".json")) else "csv")
        total = _count_lines(path) - (1 if fmt == "csv" else 0)
        progress = _Progress(max(total, 0), not args.no_progress, os.path.basename(path))
        batch, lines = [], []
        held = []  # sorting: (row, line) of the whole file
        started = time.monotonic()
        last, current = 0, None  # the last line handled, the line being converted
        try:
            try:
                for line, row in _rows(path, fmt):
                    current = line
                    self.rows += 1
                    r = self.convert(line, row)
                    if r is not None:
                        t = r[0]
                        if self.first is None or t < self.first:
                            self.first = t
                        if self.newest is None or t >= self.newest:
                            self.newest = t
                        else:
                            self.out_of_order += 1
                        if self.sort:
                            held.append((r, line))
                        else:
                            batch.append(r)
                            lines.append(line)
                    last, current = line, None
                    if len(batch) >= _BATCH:
                        (b, ln), batch, lines = (batch, lines), [], []
                        self.flush(b, ln)
                    if self.rows - progress.n >= 1024:
                        progress.update(self.rows - progress.n)
                progress.update(self.rows - progress.n)
                (b, ln), batch, lines = (batch, lines), [], []
                self.flush(b, ln)
                self.feed_sorted(held)
            except BaseException as e:
                if getattr(e, "_replay", False):  # from flush(): already told how far it got
                    raise
                # reading or converting a line failed: the lines read before
                # it are fed, then the replay says from which line on
                # nothing was fed
                stop = current if current is not None else last + 1
                self.flush(batch, lines)
                self.feed_sorted(held)
                err = self.stopped(e, stop)
                if err is e:
                    raise
                raise err from e
        finally:
            progress.close()
        self.seconds = time.monotonic() - started

    def define_drivers(self, held):
        """Define the --drivers sets, once, before the first row is fed (a
        set pairs only what is fed after it). Its drivers are every
        touchpoint of the export: convert() defined each as a row named it,
        and every row was read before feed_sorted, so all exist now; the
        overall driver comes last. A set takes DRIVERS_MAX - 1 touchpoints:
        beyond that, those with the most DRIVER values."""
        if self.driver_sets is not None:
            return
        self.driver_sets = []
        tps = list(self.touchpoints.values())  # in order of first appearance
        for name, outcome, driver, window in self.driver_specs:
            use = tps
            if len(tps) > DRIVERS_MAX - 1:
                counts = {}
                for r, _ in held:
                    if any(m == int(driver) for m, _, _ in r[2]):
                        counts[r[1]] = counts.get(r[1], 0) + 1
                use = sorted(tps, key=lambda tp: -counts.get(tp, 0))[:DRIVERS_MAX - 1]
                self.notes.append(f"--drivers {name!r}: {len(tps)} touchpoints, a driver set "
                                  f"takes {DRIVERS_MAX - 1}: those with the most {driver.name} "
                                  f"answers")
            try:
                sid = self.ctx.drivers(name, outcome=int(outcome), driver=int(driver),
                                       touchpoints=use, overall=True, window=window)
            except Error as e:
                self.notes.append(f"--drivers {name!r}: not defined: {e}")
                continue
            self.driver_sets.append(dict(id=sid, name=name, outcome=outcome.name,
                                         driver=driver.name, window_ms=window))

    def feed_sorted(self, held):
        """Feed the rows held, oldest first (a stable sort: ties in file order)."""
        if self.driver_specs:
            self.define_drivers(held)
        if not held:
            return
        items = held[:]
        del held[:]  # fed once only, whatever stops the feed
        items.sort(key=lambda x: x[0][0])
        self.sorted_feed = True
        for i in range(0, len(items), _BATCH):
            part = items[i:i + _BATCH]
            try:
                self.flush([r for r, _ in part], [ln for _, ln in part])
            except BaseException as e:
                if getattr(e, "_replay", False):  # flush() told how far it got
                    raise
                (r, line) = part[0]  # between batches (^C): none of this one was fed
                err = self.stopped(e, line, r[0])
                if err is e:
                    raise
                raise err from e

    def report(self):
        """The FeedReport of every line handled so far (indexes are lines)."""
        return FeedReport(self.accepted, len(self.rejections),
                          [Rejection(ln, code, reason) for ln, reason, code in self.rejections])

    def stopped(self, cause, line, at_ms=None):
        """What a replay stopped by cause at line raises. Fed sorted
        (at_ms: the time of the row it stopped at), what was fed is the rows
        earlier than that time, not the lines before it."""
        if at_ms is None:
            err = _bulk_error(cause, self.report(), line, "replay", unit="line")
            err._replay = True
            return err
        rep = self.report()
        when = _iso(at_ms)
        text = (f"the rows were fed sorted by time: {rep.accepted} accepted and {rep.rejected} "
                f"rejected, those before line {line}'s time {when}; none from it on was fed")
        if not isinstance(cause, Exception):  # ^C: not wrapped, as _bulk_error does
            try:
                cause.report, cause.index, cause.sorted_at = rep, line, when
            except (AttributeError, TypeError):
                pass
            cause._replay = True
            return cause
        err = BulkFeedError(f"replay stopped at line {line} by {type(cause).__name__}: {cause}; "
                            f"{text}", rep, line)
        err.__cause__ = cause
        err.code, err.status = ((cause.code, getattr(cause, "status", None))
                                if isinstance(cause, Error) else (None, None))
        err._replay = True
        return err

    def flush(self, batch, lines):
        if not batch:
            return
        sorted_feed = getattr(self, "sorted_feed", False)

        def stop_at(i):
            line = lines[i] if i < len(lines) else lines[-1] + 1
            return line, (batch[i][0] if sorted_feed and i < len(batch) else None)
        try:
            report = self.ctx.feed_many(batch)
        except BulkFeedError as e:  # rows before e.index were fed; none from it on
            self.count(e.report, lines)
            err = self.stopped(e.__cause__, *stop_at(e.index))
            raise err from e.__cause__
        except KeyboardInterrupt as e:  # not wrapped; carries the report itself
            if getattr(e, "report", None) is not None:
                self.count(e.report, lines)
                self.stopped(e, *stop_at(e.index))
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
        notes = list(self.notes)
        for word, names in self.unknown_channels.items():
            shown = ", ".join(repr(n) for n in names[:3]) + (", ..." if len(names) > 3 else "")
            notes.append(f"channel {word!r} is not a channel libcxm knows nor a common word for "
                         f"one: {len(names)} touchpoint{'s' if len(names) > 1 else ''} "
                         f"({shown}) counted as other")
        rejections = sorted(self.rejections, key=lambda x: x[0])  # fed sorted: in line order
        out = {
            "file": self.args.file,
            "rows": self.rows,
            "accepted": self.accepted,
            "rejected": len(self.rejections),
            "sorted": self.sort,
            "out_of_order": self.out_of_order,
            "rejections_by_reason": dict(sorted(self.by_reason.items(), key=lambda kv: -kv[1])),
            "rejections": [{"line": ln, "reason": r}
                           for ln, r, _ in rejections[:self.args.show_rejections]],
            "notes": notes,
            "seconds": round(self.seconds, 3),
            "end": None if end < 0 else _iso(end),
            "windows": [],
        }
        if self.driver_sets is not None:
            out["drivers"] = _drivers(self.ctx, self.driver_sets)
        if end < 0:
            return out
        if self.journeys:
            self.ctx.sweep(end)  # instances overdue by the last event count as abandoned
        metrics = [self.volume] + ([self.distinct] if self.distinct is not None else [])
        metrics += list(self.metrics.values())
        out["windows"] = _windows(self.ctx, self.args.window or ["24h"], WATERMARK, metrics,
                                  sorted(self.touchpoints.items()), self.journeys, self.segments,
                                  self.args.top, self.args.by_touchpoint)
        if self.calendar is not None:
            first = self.first if self.first is not None and self.first <= end else end
            out["calendar"] = _calendar(self.ctx, self.calendar, metrics, self.journeys,
                                        max(first, 0), end)
        return out


# replay --calendar: 2 h of minutes, 400 days of hours, 800 days of days
_CALENDAR_TIERS = [("1m", 120), ("1h", 24 * 400), ("1d", 800)]


def _parse_calendar(parser, spec):
    """--calendar UNIT[:ZONE] as (Calendar, zone name)."""
    unit, _, zone = spec.partition(":")
    try:
        u = _enum(Calendar, unit)
    except Error:
        parser.error(f"--calendar {spec!r}: the unit is day, week, month, quarter or year")
    return u, zone.strip() or "UTC"


def _calendar(ctx, cal, metrics, journeys, first, end):
    """Every metric overall, and each journey's funnel, per calendar bucket
    (unit, zone) from the one holding the first event to the one holding
    the last (first and end in ms): the funnel of the events in the bucket
    and the entry cohort of the instances begun in it."""
    unit, zone = cal
    buckets = []
    span = end - first + 1
    bounds = {m.name: (ctx.metric_def(m).duration_lo, ctx.metric_def(m).duration_hi)
              for m in metrics if m.kind == Kind.DURATION}
    rows = {}
    for m in metrics:
        base = dict(metric=m.name, kind=m.kind.name.lower())
        for r in ctx.query_series(m, span, end=end, calendar=unit, tz=zone):
            rows.setdefault((r.start_ms, r.end_ms), []).append(
                _cell(ctx, bounds, base, "all", None, None, r))
    for (s, e), cells in sorted(rows.items()):
        b = {"start": _iso(s), "end": _iso(e), "start_ms": s, "end_ms": e, "rows": cells,
             "inexact": any(c["inexact"] for c in cells)}
        b["funnels"] = [_funnel(ctx, j, e - s, e - 1) for j in journeys]
        b["cohorts"] = [_funnel(ctx, j, e - s, e - 1, cohort=True) for j in journeys]
        buckets.append(b)
    return {"unit": unit.name.lower(), "tz": zone, "buckets": buckets}


def _definitions(ctx):
    """What a dashboard of any context shows, as _windows takes it: (metrics,
    touchpoints, journeys, segments) of its definitions. Volume metrics come
    first, then distinct counts, then the others in their order: a replay
    defines its interactions and customers after the mapped metrics but
    shows them first, so the dashboard of its snapshot is the replay's."""
    rank = {Kind.VOLUME: 0, Kind.DISTINCT: 1}
    metrics = sorted(ctx.metrics, key=lambda m: rank.get(m.kind, 2))
    touchpoints = sorted((tp.name, int(tp)) for tp in ctx.touchpoints)
    segments = [(seg.name, int(seg)) for seg in ctx.segments]
    return metrics, touchpoints, list(ctx.journeys), segments


def _windows(ctx, windows, end, metrics, touchpoints, journeys=(), segments=(), top=10,
             by_touchpoint=True):
    """The "windows" of a dashboard (replay's and query's): for each span of
    windows (such as "24h"), ending at end (WATERMARK, None for the clock's
    now, or ms), each metric overall, on its top touchpoints by n and per
    segment value, and each journey's funnel. touchpoints and segments are
    (name, id) pairs; touchpoints are ranked by n, then name."""
    bounds = {}  # duration metric name -> (duration_lo, duration_hi)
    for m in metrics:
        if m.kind == Kind.DURATION:
            d = ctx.metric_def(m)
            bounds[m.name] = (d.duration_lo, d.duration_hi)
    out = []
    for w in windows:
        span = span_ms(w)
        rows = []
        for m in metrics:
            base = dict(metric=m.name, kind=m.kind.name.lower())
            q = ctx.make_query(m, span, end=end)
            rows.append(_cell(ctx, bounds, base, "all", None, q))
            if by_touchpoint:
                scored = []
                for name, tp in touchpoints:
                    q = ctx.make_query(m, span, end=end, touchpoint=tp)
                    r = ctx.run(q)
                    scored.append((r.n, name, r))
                scored.sort(key=lambda x: (-x[0], x[1]))
                for n, name, r in scored[:top]:
                    if n:
                        rows.append(_cell(ctx, bounds, base, "touchpoint", name, None, r))
            for col, seg in segments:
                for v in ctx.segment_values(seg):
                    q = ctx.make_query(m, span, end=end, segment=v)
                    rows.append(_cell(ctx, bounds, base, col, v.name, q))
        funnels = [_funnel(ctx, j, span, end) for j in journeys]
        out.append({"window": w, "span_ms": span, "rows": rows, "funnels": funnels})
    return out


def _funnel(ctx, journey, span, end, cohort=False):
    f = ctx.funnel(journey, span, end=end, cohort=cohort)
    d = {"journey": journey.name}
    d.update({k: _json_num(v) for k, v in f._asdict().items()
              if k in ("entered", "completed", "conversion", "abandoned", "expired",
                       "repeats", "repeat_rate", "goal_p50", "goal_p90", "low_sample")})
    d["steps"] = [dict(step=name, reached=s.reached, drop_off=_json_num(s.drop_off),
                       next_p50=_json_num(s.next_p50))
                  for name, s in zip(journey.steps, f.steps)]
    return d


def _cell(ctx, bounds, base, scope, name, q, r=None):
    if r is None:
        r = ctx.run(q)
    d = dict(base, scope=scope, name=name)
    d.update({k: _json_num(v) for k, v in r._asdict().items()
              if k in ("value", "ci_low", "ci_high", "n", "skipped", "mean", "min", "max",
                       "sum", "stddev", "p50", "p90", "p99", "top_share", "bottom_share",
                       "headline", "low_sample", "empty", "clamped", "truncated",
                       "inexact", "start_ms", "end_ms")})
    d["start"], d["end"] = _iso(r.start_ms), _iso(r.end_ms)
    d["flags"] = [key for key, _, _ in _FLAGS if d[key]]
    # a clamped duration's quantiles at or beyond a bound are that bound's
    b = bounds.get(base["metric"]) if r.clamped else None
    if b is not None:
        lo, hi = b
        d["bounded"] = {q: (">=" if d[q] >= hi else "<=") for q in ("p50", "p90", "p99")
                        if d[q] is not None and (d[q] >= hi or 0 < d[q] <= lo)}
        d["bound"] = {"lo": lo, "hi": hi}
    return d


_BANDS = ("bottom", "middle", "top")


def _drivers(ctx, sets):
    """The "drivers" of a dashboard (replay's and query's): per driver set
    (dicts of id, name, outcome and driver metric names, window_ms, as
    replay defined them or _snapshot_sets found them), its summary and its
    drivers (ctx.key_drivers), NaN as None. Touchpoint drivers come by
    importance, |r| (r < 0 is important too), those without an r after
    them; the overall driver last."""
    out = []
    for st in sets:
        res = ctx.key_drivers(st["id"])
        window = st.get("window_ms")
        if window is not None:
            window = window or _DRIVERS_DEFAULT_WINDOW  # 0: the library's default
        d = dict(name=st["name"], outcome=st.get("outcome"), driver=st.get("driver"),
                 window_ms=window, window=None if window is None else report._span(window))
        d.update({k: v for k, v in res._asdict().items() if k != "drivers"})
        rows = []
        for dr in res.drivers:
            q = dr.quadrant
            row = dict(touchpoint=dr.touchpoint_name, overall=dr.touchpoint is None)
            row.update({k: _json_num(v) for k, v in dr._asdict().items()
                        if k in ("n", "importance", "ci_low", "ci_high", "p_value",
                                 "significant", "performance", "outcome_mean")})
            row["significant"] = bool(dr.significant)
            row["quadrant"] = q.name.lower() if isinstance(q, Quadrant) else str(int(q))
            row["bands"] = {band: {k: _json_num(v) for k, v in b._asdict().items()}
                            for band, b in zip(_BANDS, dr.bands)}
            row.update({k: _json_num(getattr(dr, k)) for k in
                        ("band_difference", "band_ci_low", "band_ci_high", "band_p_value")})
            rows.append(row)
        rows.sort(key=lambda r: (r["overall"], r["importance"] is None,
                                 -abs(r["importance"] or 0.0), r["touchpoint"] or ""))
        d["drivers"] = rows
        out.append(d)
    return out


def _snapshot_sets(ctx):
    """The driver sets of a context loaded from a snapshot, as _drivers
    takes them (ctx.drivers_def of every id, 0, 1, ... in order)."""
    metric_names = {int(m): m.name for m in ctx.metrics}
    sets = []
    for i in range(DRIVER_SETS_MAX):
        try:
            d = ctx.drivers_def(i)
        except UnknownIdError:
            break
        sets.append(dict(id=i, name=d.name, outcome=metric_names.get(d.outcome),
                         driver=metric_names.get(d.driver), window_ms=d.window_ms))
    return sets


def _iso(ms):
    return from_ms(ms).isoformat().replace("+00:00", "Z")


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


def _print_summary(out, file):
    """The lines above the tables: rows, rejections, order, notes."""
    w = file.write
    w(f"cxm replay {out['file']}: {out['rows']:,} rows, {out['accepted']:,} accepted, "
      f"{out['rejected']:,} rejected ({out['seconds']:.1f} s)\n")
    n = out["out_of_order"]
    if out["sorted"]:
        w(f"  {n:,} row{'s were' if n != 1 else ' was'} out of time order: all were fed "
          f"sorted by time\n" if n else "  the rows were in time order\n")
    elif n:
        w(f"  {n:,} row{'s were' if n != 1 else ' was'} out of time order and fed as read "
          f"(--no-sort): libcxm refuses those too far behind the newest\n")
    for note in out["notes"]:
        w(f"  note: {note}\n")
    for reason, k in list(out["rejections_by_reason"].items())[:10]:
        w(f"  rejected {k:,}: {reason}\n")
    for r in out["rejections"][:5]:
        w(f"  line {r['line']}: {r['reason']}\n")
    if out.get("saved"):
        w(f"  saved the snapshot {out['saved']}\n")


def _print_query_summary(out, file):
    """The lines above the tables of `cxm query`: what the snapshot holds."""
    w = file.write
    snap = out["snapshot"]
    upto = "no event" if snap["watermark"] is None else f"events up to {snap['watermark']}"
    w(f"cxm query {out['file']}: a snapshot of {snap['accepted']:,} interactions accepted, "
      f"{snap['rejected']:,} rejected, {upto}\n")
    counts = [(snap[k], k[:-1] if snap[k] == 1 else k)
              for k in ("metrics", "touchpoints", "journeys", "segments")]
    w("  " + ", ".join(f"{n:,} {what}" for n, what in counts) + "\n")
    for note in out["notes"]:
        w(f"  note: {note}\n")


def _fmt_quantiles(d):
    bounded, bound = d.get("bounded", {}), d.get("bound", {})
    parts = []
    for q in ("p50", "p90", "p99"):
        side = bounded.get(q)
        if side is None:
            parts.append(f"{q} {d[q]:.1f}")
        else:  # a clamped quantile: the bound, not an estimate
            parts.append(f"{q} {side}{bound['hi'] if side == '>=' else bound['lo']:g}")
    return "  ".join(parts)


def _print_dashboard(out, file=sys.stdout, summary=_print_summary):
    """The text dashboard: summary's lines (replay's or query's), then per
    window a table of every result with its flags, and the funnels."""
    w = file.write
    summary(out, file)
    if out["end"] is None:
        w("nothing was accepted: no dashboard\n")
        return
    letters = {key: letter for key, letter, _ in _FLAGS}
    for win in out["windows"]:
        w(f"\n== last {win['window']} ending {out['end']}\n")
        w(f"{'metric':<16} {'scope':<12} {'name':<20} {'n':>10} {'value':>10} {'flags':<5} "
          f"{'95 % CI':<20} extra\n")
        seen = set()
        for d in win["rows"]:
            extra = ""
            if d["kind"] == "duration" and d["n"] and d["p50"] is not None:
                extra = _fmt_quantiles(d)
            flags = "".join(letters[f] for f in d["flags"])
            seen.update(d["flags"])
            name = "" if d["name"] is None else str(d["name"])[:20]
            w(f"{d['metric'][:16]:<16} {d['scope'][:12]:<12} {name:<20} {d['n']:>10,} "
              f"{_fmt_value(d):>10} {flags:<5} {_fmt_ci(d):<20} {extra}".rstrip() + "\n")
        if seen:
            w("flags:\n")
            for key, letter, text in _FLAGS:
                if key in seen:
                    w(f"  {letter}  {text}\n")
        for f in win.get("funnels", []):
            conv = "-" if f["conversion"] is None else f"{100 * f['conversion']:.1f} %"
            goal = "" if f["goal_p50"] is None else f", median {f['goal_p50']:.0f} s to the goal"
            low = " (low sample)" if f["low_sample"] else ""
            w(f"\nfunnel {f['journey']}: {f['entered']:,} entered, {f['completed']:,} completed "
              f"({conv}), {f['abandoned']:,} abandoned, {f['expired']:,} expired{goal}{low}\n")
            for st in f["steps"]:
                drop = "-" if st["drop_off"] is None else f"{100 * st['drop_off']:.1f} %"
                nxt = "" if st["next_p50"] is None else f"  next step p50 {st['next_p50']:.0f} s"
                w(f"  {st['step'][:24]:<24} {st['reached']:>10,}  drop-off {drop:>7}{nxt}\n")
    cal = out.get("calendar")
    if cal:
        w(f"\n== per {cal['unit']} in {cal['tz']}\n")
        w(f"{'from':<26} {'metric':<16} {'n':>10} {'value':>10} {'flags':<5} {'95 % CI':<20}\n")
        seen = set()
        for b in cal["buckets"]:
            for d in b["rows"]:
                flags = "".join(letters[f] for f in d["flags"])
                seen.update(d["flags"])
                w(f"{b['start']:<26} {d['metric'][:16]:<16} {d['n']:>10,} {_fmt_value(d):>10} "
                  f"{flags:<5} {_fmt_ci(d)}".rstrip() + "\n")
            for what, key in (("funnel", "funnels"), ("cohort", "cohorts")):
                for f in b.get(key, []):
                    conv = "-" if f["conversion"] is None else f"{100 * f['conversion']:.1f} %"
                    w(f"{b['start']:<26} {what} {f['journey']}: {f['entered']:,} entered, "
                      f"{f['completed']:,} completed ({conv})\n")
        if seen:
            w("flags:\n")
            for key, letter, text in _FLAGS:
                if key in seen:
                    w(f"  {letter}  {text}\n")
    _print_drivers(out, file)


def _fmt_p(p):
    if p is None:
        return "-"
    return "<0.0001" if p < 0.0001 else f"{p:.4f}"


def _fmt_num(v, sign=False):
    if v is None:
        return "-"
    return f"{v:+.2f}" if sign else f"{v:.2f}"


def _print_drivers(out, file):
    """The "key drivers" tables of out["drivers"] (replay's and query's)."""
    w = file.write
    for st in out.get("drivers", ()):
        about = [f"{k} {st[k]}" for k in ("outcome", "driver", "window") if st.get(k)]
        w(f"\n== key drivers: {st['name']}" + (f" ({', '.join(about)})" if about else "")
          + "\n")
        w(f"  {st['outcomes']:,} outcome{'s' if st['outcomes'] != 1 else ''} with a customer "
          f"id, {st['paired']:,} paired with a driver value; {st['customers']:,} customer "
          f"record{'s' if st['customers'] != 1 else ''} held")
        if st["unremembered"]:
            w(f"; {st['unremembered']:,} driver values not kept (--max-customers)")
        w("\n")
        w(f"{'driver':<20} {'n':>9} {'r':>7} {'95 % CI':<17} {'p':>7} {'':1} {'perf':>6} "
          f"{'quadrant':<10} {'bottom':>8} {'top':>8} {'top-bottom':>10} {'p':>7}\n")
        for d in st["drivers"]:
            name = "(overall)" if d["overall"] else str(d["touchpoint"])[:20]
            r = "-" if d["importance"] is None else f"{d['importance']:+.3f}"
            ci = ("" if d["ci_low"] is None or d["ci_high"] is None
                  else f"[{d['ci_low']:+.2f}, {d['ci_high']:+.2f}]")
            quadrant = "not placed" if d["quadrant"] == "none" else d["quadrant"]
            w(f"{name:<20} {d['n']:>9,} {r:>7} {ci:<17} {_fmt_p(d['p_value']):>7} "
              f"{'*' if d['significant'] else '':1} {_fmt_num(d['performance']):>6} "
              f"{quadrant:<10} {_fmt_num(d['bands']['bottom']['mean']):>8} "
              f"{_fmt_num(d['bands']['top']['mean']):>8} "
              f"{_fmt_num(d['band_difference'], sign=True):>10} "
              f"{_fmt_p(d['band_p_value']):>7}\n")
    if out.get("drivers"):
        w("r: Pearson's r of the driver's value and the outcome over the pairs, * significant "
          "at 95 %;\nperf: the mean driver value; bottom, top: the mean outcome when the "
          "driver value is in\nits bottom or top box; top-bottom: their difference and its "
          "Welch p\n")


def _print_csv(out, summary):
    """--csv of replay and query: summary's lines on standard error, the
    rows on standard output. Key drivers have no place in those rows
    (results of a window): a line on standard error says they are left
    out."""
    summary(out, sys.stderr)
    if out.get("drivers"):
        n = len(out["drivers"])
        sys.stderr.write(f"  note: --csv leaves out the key drivers of {n} driver "
                         f"set{'s' if n != 1 else ''}; the text and --json show them\n")
    _write_csv(out)


def _write_csv(out, file=sys.stdout):
    """One row per (window, metric, scope, name) result; flags joined by "|"."""
    wr = csv.writer(file, lineterminator="\n")
    wr.writerow(("window", "metric", "kind", "headline", "scope", "name") + _CSV_FIELDS)
    for win in out["windows"]:
        for d in win["rows"]:
            cells = []
            for k in _CSV_FIELDS:
                v = d.get(k)
                if k == "flags":
                    v = "|".join(v)
                cells.append("" if v is None else v)
            wr.writerow([win["window"], d["metric"], d["kind"], d["headline"], d["scope"],
                         "" if d["name"] is None else d["name"]] + cells)
    cal = out.get("calendar")
    for b in cal["buckets"] if cal else ():
        for d in b["rows"]:  # window: "month America/New_York 2026-01-01T05:00:00Z"
            cells = ["|".join(d[k]) if k == "flags" else ("" if d.get(k) is None else d[k])
                     for k in _CSV_FIELDS]
            wr.writerow([f"{cal['unit']} {cal['tz']} {b['start']}", d["metric"], d["kind"],
                         d["headline"], "all", ""] + cells)


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
    p.add_argument("--journey-option", action="append", default=[],
                   metavar="NAME:KEY=VALUE,...",
                   help="how a --journey is judged: conversion=, abandon=, lateness=, repeat= "
                        "(spans such as 30d), strict, count_repeats, equal_times_hold, restart, "
                        "window_exclusive, strict_order, allow_reentry, strict_dedup "
                        "(=yes/no; alone: yes)")
    p.add_argument("--na", action="append", default=[], metavar="NAME=CODE",
                   help="a metric's \"no answer\" code (an integer): a cell holding it is "
                        "counted as skipped, not as a value (repeat)")
    p.add_argument("--channel", default="other", help="channel of new touchpoints (other)")
    p.add_argument("--format", choices=["csv", "jsonl"], help="default: by the file's extension")
    p.add_argument("--no-sort", action="store_true",
                   help="feed the rows as read, not sorted by time (streams; less memory)")


QUERY_DESCRIPTION = """\
Print the dashboard of a saved snapshot: what `cxm replay` prints after
feeding an export, from a snapshot instead (replay --save, ctx.save(),
cxm_snapshot_save()), with nothing to feed:

    python3 -m cxm replay calls.csv --map ts=time ... --key-file customer.key \\
        --save calls.cxms
    python3 -m cxm query calls.cxms --key-file customer.key --window 24h --window 7d

A snapshot loads only with the customer key it was saved under, which the
file does not hold: give --key or --key-file; its tiers are read from the
file. Per window: each metric (or each --metric) overall, on its --top
touchpoints with the most answers and per segment value, and each
journey's funnel after a sweep at the end, every result with its flags,
as text, --json or --csv in replay's shapes. The windows end at the
latest event the snapshot holds (--end watermark), at the clock's now
(--end now) or at an ISO 8601 time (--end 2026-11-22T12:00:00Z).
"""


def _query_end(parser, text):
    """--end as query() takes it: WATERMARK, or ms (now, or the time given)."""
    word = text.strip().lower()
    if word == "watermark":
        return WATERMARK
    if word == "now":
        return time.time_ns() // 1_000_000
    try:
        ms = _time_parser("iso", timezone.utc)(text)
    except (ValueError, OverflowError) as e:
        parser.error(f"--end {text!r}: write watermark, now or an ISO 8601 time such as "
                     f"2026-11-22T12:00:00Z ({e})")
    if ms < 0:
        parser.error(f"--end {text!r}: libcxm's times begin in 1970")
    return ms


def _query_main(args, parser):
    """Run `python3 -m cxm query` with the arguments main parsed."""
    windows = args.window or ["24h"]
    for w in windows:
        report._check_span(parser, "--window", w)
    end = _query_end(parser, args.end)
    if args.top < 0:
        parser.error("--top must be 0 or more")
    path = args.file
    try:
        snapshot = report.is_snapshot(path)
    except OSError as e:
        sys.stderr.write(f"cxm query: {path}: {e.strerror or e}\n")
        return 1
    if not snapshot:
        sys.stderr.write(f"cxm query: {path}: not a libcxm snapshot (no magic number); an "
                         f"export is read by cxm replay\n")
        return 1
    key = report._read_key(parser, args)
    cfg = {}
    if args.max_customers is not None:
        cfg["max_customers"] = args.max_customers
    try:
        ctx = report.load_snapshot(path, key, **cfg)
    except OSError as e:
        sys.stderr.write(f"cxm query: {path}: {e.strerror or e}\n")
        return 1
    except Error as e:
        sys.stderr.write(f"cxm query: {path}: {e}\n")
        return 1
    with ctx:
        metrics, touchpoints, journeys, segments = _definitions(ctx)
        if args.metric:
            known = {m.name for m in metrics}
            unknown = [n for n in args.metric if n not in known]
            if unknown:
                names = ", ".join(m.name for m in metrics) or "none"
                raise SystemExit(f"cxm query: --metric {unknown[0]!r}: {path} has no metric of "
                                 f"that name (it has: {names})")
            metrics = [m for m in metrics if m.name in args.metric]
        st = ctx.stats()
        wm = st.watermark_ms
        out = {
            "file": path,
            "snapshot": {"accepted": st.accepted, "rejected": st.rejected_total,
                         "customers": st.customers, "watermark": None if wm < 0 else _iso(wm),
                         "metrics": len(ctx.metrics), "touchpoints": len(touchpoints),
                         "journeys": len(journeys), "segments": len(segments)},
            "notes": [],
            "end": None,
            "windows": [],
        }
        at = wm if end == WATERMARK else end
        if at >= 0:
            out["end"] = _iso(at)
            if end != WATERMARK and wm >= 0 and at < wm:
                out["notes"].append(f"the windows end before the snapshot's latest event "
                                    f"({out['snapshot']['watermark']}): what came later is "
                                    f"left out")
            try:
                if journeys:
                    ctx.sweep(at)  # instances overdue at the end count as abandoned
                out["windows"] = _windows(ctx, windows, end, metrics, touchpoints, journeys,
                                          segments, args.top, args.by_touchpoint)
            except Error as e:
                sys.stderr.write(f"cxm query: {path}: {e}\n")
                return 1
        try:
            sets = _snapshot_sets(ctx)  # the key drivers of each driver set it holds
            if sets:
                out["drivers"] = _drivers(ctx, sets)
        except Error as e:
            sys.stderr.write(f"cxm query: {path}: {e}\n")
            return 1
    if args.json:
        json.dump(out, sys.stdout, indent=1)
        sys.stdout.write("\n")
    elif args.csv:
        _print_csv(out, _print_query_summary)
    else:
        _print_dashboard(out, summary=_print_query_summary)
    return 0


def _parser():
    """(the parser of python3 -m cxm, its replay, report and query subparsers)."""
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
    out_fmt = rp.add_mutually_exclusive_group()
    out_fmt.add_argument("--json", action="store_true", help="machine-readable output")
    out_fmt.add_argument("--csv", action="store_true",
                         help="one CSV row per metric, scope and window on standard output "
                              "(the summary on standard error)")
    rp.add_argument("--no-progress", action="store_true", help="no progress bar")
    rp.add_argument("--drivers", action="append", default=[], metavar="OUTCOME:DRIVER[:WINDOW]",
                    help="a key-driver analysis of two --map metrics, such as nps:csat:30d: "
                         "each touchpoint's and the overall DRIVER answer against the "
                         "customer's OUTCOME at most WINDOW (30d) later (repeat; not with "
                         "--no-sort)")
    rp.add_argument("--calendar", metavar="UNIT[:ZONE]",
                    help="also every metric, funnel and entry cohort per calendar day, week, "
                         "month, quarter "
                         "or year in ZONE (an IANA name such as America/New_York; UTC), from "
                         "the first event's to the last's; keeps 400 days of hours")
    rp.add_argument("--save", metavar="FILE",
                    help="after feeding, save the context as a snapshot (for cxm query, cxm "
                         "report); needs --key or --key-file")
    rp.add_argument("--key", metavar="HEX",
                    help="the context's customer key, 32 hex digits (random by default)")
    rp.add_argument("--key-file", metavar="FILE", help="a file holding that key")
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
    qp = sub.add_parser("query", help="print the dashboard of a snapshot, as replay prints it",
                        description=QUERY_DESCRIPTION,
                        formatter_class=argparse.RawDescriptionHelpFormatter)
    qp.add_argument("file", help="a snapshot (replay --save, ctx.save(), cxm_snapshot_save())")
    qp.add_argument("--key", metavar="HEX", help="the snapshot's customer key, 32 hex digits")
    qp.add_argument("--key-file", metavar="FILE", help="a file holding that key")
    qp.add_argument("--window", action="append", metavar="SPAN",
                    help="dashboard window such as 24h, 7d (repeat; default 24h)")
    qp.add_argument("--end", default="watermark", metavar="watermark|now|TIME",
                    help="where the windows end: the latest event (watermark, the default), "
                         "the clock's now, or an ISO 8601 time (UTC without an offset)")
    qp.add_argument("--metric", action="append", metavar="NAME",
                    help="only this metric (repeat; default every metric)")
    qp.add_argument("--top", type=int, default=10, help="touchpoints shown per metric (10)")
    qp.add_argument("--no-touchpoints", dest="by_touchpoint", action="store_false",
                    help="no per-touchpoint rows")
    qp.add_argument("--max-customers", type=int, default=None,
                    help="customer table size, when the snapshot's needs more than the default")
    out_fmt = qp.add_mutually_exclusive_group()
    out_fmt.add_argument("--json", action="store_true", help="machine-readable output")
    out_fmt.add_argument("--csv", action="store_true",
                         help="one CSV row per metric, scope and window on standard output "
                              "(the summary on standard error)")
    return parser, rp, rep, qp


def main(argv=None):
    parser, rp, rep, qp = _parser()
    args = parser.parse_args(argv)
    if args.command == "report":
        return report._main(args, rep)
    if args.command == "query":
        try:
            return _query_main(args, qp)
        except KeyboardInterrupt:
            sys.stderr.write("cxm query: interrupted\n")
            return 130
    if args.command != "replay":
        parser.print_help()
        return 2
    if not os.path.exists(args.file):
        parser.error(f"no such file: {args.file}")
    for w in args.window or []:
        report._check_span(rp, "--window", w)
    if args.drivers and args.no_sort:
        rp.error("--drivers needs the rows sorted: a driver set pairs only what is fed after "
                 "it is defined, over the touchpoints it names, so replay defines it once "
                 "every row is read; --no-sort feeds rows as it reads them")
    args.calendar_parsed = None if args.calendar is None else _parse_calendar(rp, args.calendar)
    args.customer_key = None
    if args.save is not None and args.key is None and args.key_file is None:
        rp.error("--save: a snapshot loads only with the customer key it was saved under, "
                 "which it does not hold: give --key HEX or --key-file FILE")
    if args.key is not None or args.key_file is not None:
        args.customer_key = report._read_key(rp, args)
    replay = _Replay(args)
    saved = True
    try:
        with replay.ctx:
            replay.run()
            if args.save is not None:  # before the dashboard's sweep: the state as fed
                try:
                    replay.ctx.save(args.save)
                except Error as e:
                    sys.stderr.write(f"cxm replay: cannot save {args.save}: {e}\n")
                    saved = False
            out = replay.dashboard()
            if args.save is not None and saved:
                out["saved"] = args.save
    except BulkFeedError as e:
        sys.stderr.write(f"cxm {e}\n")  # "cxm replay stopped at line ..."
        return 1
    except KeyboardInterrupt as e:
        if getattr(e, "sorted_at", None) is not None:
            sys.stderr.write(f"cxm replay: interrupted at line {e.index}: the rows were fed "
                             f"sorted by time: {e.report.accepted} accepted and "
                             f"{e.report.rejected} rejected, those before line {e.index}'s "
                             f"time {e.sorted_at}; none from it on was fed\n")
        elif getattr(e, "report", None) is not None:
            sys.stderr.write(f"cxm replay: interrupted at line {e.index}: {e.report.accepted} "
                             f"accepted and {e.report.rejected} rejected before it; none from "
                             f"line {e.index} on was fed\n")
        return 130
    if args.json:
        json.dump(out, sys.stdout, indent=1)
        sys.stdout.write("\n")
    elif args.csv:
        _print_csv(out, _print_summary)
    else:
        _print_dashboard(out)
    return 0 if saved and (out["accepted"] or not out["rows"]) else 1


def console_main():
    """The `cxm` console script of the pip package."""
    sys.exit(main())
