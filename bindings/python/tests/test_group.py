"""Breakdowns and series: ctx.query_by() against one ctx.query() per group,
ctx.query_series() against hand-counted hours, the rows (namedtuples for
pandas), cxm.to_pandas(), and every bad argument."""
import gc
import math
import os
import re
import subprocess
import sys
import tracemalloc
import unittest
from datetime import timedelta
from unittest import mock

import cxm
from support import HOUR, MIN, PY, T0, make_ctx, python_env

END = T0 + 6 * HOUR - 1  # the last millisecond of the six hours fed
DOC = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "..", "docs", "python.md")

try:
    import pandas
except ImportError:
    pandas = None


def same(test, row, result, key=2):
    """A row's Result columns equal a Result's fields, NaN to NaN."""
    got = row._asdict()
    want = result._asdict()
    test.assertEqual(list(got)[key:], list(want))
    for name, value in want.items():
        mine = got[name]
        if isinstance(value, float) and math.isnan(value):
            test.assertTrue(math.isnan(mine), f"{name}: {mine} is not NaN")
        else:
            test.assertEqual(mine, value, name)


class Fixture(unittest.TestCase):
    """The C test's model (tests/test_group.c): care, a journey of two
    steps: ivr (step 0, phone), agent (step 1, phone), chat (step 1, chat);
    web (web) and two idle touchpoints never fed: newsletter (email) and
    desk (in person). Six hours: hour h has h + 1 interactions on each fed
    touchpoint, an NPS answer h (a detractor, or a promoter 9 from hour 3
    on) at the ivr and the agent, a handle time 60 s × (t + 1) on each."""

    @classmethod
    def setUpClass(cls):
        ctx = cls.ctx = make_ctx(now=T0 + 6 * HOUR)
        cls.care = ctx.journey("care", ["contact", "answer"])
        cls.ivr = ctx.touchpoint("ivr", "phone", cls.care, "contact")
        cls.agent = ctx.touchpoint("agent", "phone", cls.care, "answer")
        cls.chat = ctx.touchpoint("chat", "chat", cls.care, "answer")
        cls.web = ctx.touchpoint("web", "web")
        cls.idle = ctx.touchpoint("newsletter", "email")
        cls.desk = ctx.touchpoint("desk", "in person")
        cls.nps = ctx.metric("nps")
        cls.calls = ctx.metric("calls", "volume")
        cls.aht = ctx.metric("aht", "duration")
        cls.tier = ctx.segment("tier", 4)
        cls.region = ctx.segment("region", 4)
        cls.empty_dim = ctx.segment("empty", 4)
        for v in ("gold", "silver", "bronze"):
            ctx.segment_value(cls.tier, v)
        ctx.segment_value(cls.region, "north")
        fed = (cls.ivr, cls.agent, cls.chat, cls.web)
        rows = []
        for h in range(6):
            for k in range(h + 1):
                for t, tp in enumerate(fed):
                    measures = {cls.aht: 60.0 * (t + 1)}
                    if tp in (cls.ivr, cls.agent):
                        measures[cls.nps] = 9 if h >= 3 else h
                    rows.append((T0 + h * HOUR + k * MIN, tp, measures, None,
                                 {cls.tier: (h + k + t) % 3}))
        report = ctx.feed_many(rows)
        assert report.ok, report

    @classmethod
    def tearDownClass(cls):
        cls.ctx.close()


class Breakdowns(Fixture):
    def test_by_touchpoint(self):
        ctx = self.ctx
        names = ["ivr", "agent", "chat", "web", "newsletter", "desk"]
        for metric in (self.nps, self.calls, self.aht, "nps"):
            with self.subTest(metric=metric):
                rows = ctx.query_by(metric, "6h", "touchpoint", end=END)
                self.assertEqual([r.touchpoint for r in rows], names)
                self.assertEqual([r.touchpoint_id for r in rows], list(range(6)))
                for r in rows:
                    self.assertIsInstance(r, cxm.TouchpointRow)
                    same(self, r, ctx.query(metric, "6h", touchpoint=r.touchpoint_id, end=END))
                self.assertTrue(rows[4].empty and rows[5].empty)
                self.assertEqual(sum(r.n for r in rows), ctx.query(metric, "6h", end=END).n)
        # hand counts: 21 interactions on each fed touchpoint, 21 answers at the ivr
        calls = ctx.query_by(self.calls, "6h", "touchpoint", end=END)
        self.assertEqual([r.n for r in calls], [21, 21, 21, 21, 0, 0])
        self.assertEqual(calls[3].value, 21)
        nps = ctx.query_by(self.nps, "6h", "touchpoint", end=END)
        self.assertEqual((nps[0].n, nps[0].top, nps[0].bottom), (21, 15, 6))
        # within a journey, a step of it; names and ids alike
        rows = ctx.query_by(self.calls, "6h", "touchpoint", journey="care", end=END)
        self.assertEqual([(r.touchpoint, r.touchpoint_id) for r in rows],
                         [("ivr", 0), ("agent", 1), ("chat", 2)])
        rows = ctx.query_by(self.calls, "6h", cxm.GroupBy.TOUCHPOINT, journey=self.care,
                            step="answer", end=END)
        self.assertEqual([r.touchpoint for r in rows], ["agent", "chat"])
        for r in rows:
            same(self, r, ctx.query(self.calls, "6h", touchpoint=r.touchpoint, end=END))
        # a segment filter applies to every group
        rows = ctx.query_by(self.calls, "6h", "touchpoint", segment=("tier", "gold"), end=END)
        for r in rows:
            same(self, r, ctx.query(self.calls, "6h", touchpoint=r.touchpoint,
                                    segment=("tier", "gold"), end=END))
        self.assertEqual(sum(r.n for r in rows),
                         ctx.query(self.calls, "6h", segment=("tier", "gold"), end=END).n)
        # a touchpoint scope: itself
        rows = ctx.query_by(self.calls, "6h", "touchpoint", touchpoint="web", end=END)
        self.assertEqual([(r.touchpoint, r.n) for r in rows], [("web", 21)])

    def test_by_segment(self):
        ctx = self.ctx
        for metric in (self.nps, self.calls, self.aht):
            for dim in ("tier", self.tier, int(self.tier)):
                with self.subTest(metric=metric, dim=dim):
                    rows = ctx.query_by(metric, "6h", "segment", dim=dim, end=END)
                    self.assertEqual([(r.segment, r.segment_id) for r in rows],
                                     [("gold", 0), ("silver", 1), ("bronze", 2)])
                    for r in rows:
                        self.assertIsInstance(r, cxm.SegmentRow)
                        same(self, r, ctx.query(metric, "6h", segment=("tier", r.segment),
                                                end=END))
                    self.assertEqual(sum(r.n for r in rows), ctx.query(metric, "6h", end=END).n)
        # with a scope
        rows = ctx.query_by(self.nps, "6h", "segment", dim="tier", touchpoint="ivr", end=END)
        for r in rows:
            same(self, r, ctx.query(self.nps, "6h", touchpoint="ivr",
                                    segment=(self.tier, r.segment_id), end=END))
        # a dimension with one value, never fed; one without values
        rows = ctx.query_by(self.calls, "6h", "segment", dim="region", end=END)
        self.assertEqual([(r.segment, r.n, r.empty) for r in rows], [("north", 0, True)])
        self.assertEqual(ctx.query_by(self.calls, "6h", "segment", dim="empty", end=END), [])

    def test_by_step(self):
        ctx = self.ctx
        for metric in (self.nps, self.calls, self.aht):
            with self.subTest(metric=metric):
                rows = ctx.query_by(metric, "6h", "step", journey="care", end=END)
                self.assertEqual([(r.step, r.step_id) for r in rows],
                                 [("contact", 0), ("answer", 1)])
                for r in rows:
                    self.assertIsInstance(r, cxm.StepRow)
                    same(self, r, ctx.query(metric, "6h", journey=self.care, step=r.step_id,
                                            end=END))
        rows = ctx.query_by(self.calls, "6h", "step", journey=self.care, end=END)
        self.assertEqual([r.n for r in rows], [21, 42])

    def test_by_channel(self):
        ctx = self.ctx
        for metric in (self.nps, self.calls, self.aht):
            with self.subTest(metric=metric):
                rows = ctx.query_by(metric, "6h", "channel", end=END)
                self.assertEqual([(r.channel, r.channel_id) for r in rows],
                                 [("phone", 1), ("chat", 2), ("email", 3), ("web", 4),
                                  ("in person", 7)])
                for r in rows:
                    self.assertIsInstance(r, cxm.ChannelRow)
                    same(self, r, ctx.query(metric, "6h", channel=r.channel_id, end=END))
                    same(self, r, ctx.query(metric, "6h", channel=r.channel, end=END))
                self.assertTrue(rows[2].empty and rows[4].empty)
        rows = ctx.query_by(self.calls, "6h", "CHANNEL", end=END)
        self.assertEqual([r.n for r in rows], [42, 21, 0, 21, 0])

    def test_by_names_numbers_and_members(self):
        ctx = self.ctx
        want = ctx.query_by(self.calls, "6h", "touchpoint", end=END)
        for by in (cxm.GroupBy.TOUCHPOINT, 1, "Touchpoint", " touchpoint "):
            got = ctx.query_by(self.calls, "6h", by, end=END)
            self.assertEqual([r[:2] for r in got], [r[:2] for r in want])
            self.assertEqual([r.n for r in got], [r.n for r in want])
        got = ctx.query_by(self.calls, "6h", 2, dim="tier", end=END)
        self.assertEqual([(r.segment, r.n) for r in got], [("gold", 28), ("silver", 28),
                                                           ("bronze", 28)])

    def test_windows_and_now(self):
        ctx = self.ctx
        # the clock's now (T0 + 6 h): the window ends with its minute, as query()'s
        for r in ctx.query_by(self.calls, "2h", "touchpoint"):
            same(self, r, ctx.query(self.calls, "2h", touchpoint=r.touchpoint_id))
        # other windows and ends: a timedelta, ms, a datetime
        for window, end in ((timedelta(hours=3), cxm.from_ms(T0 + 3 * HOUR - 1)),
                            (90 * MIN, T0 + 2 * HOUR), ("1000d", END)):
            for r in ctx.query_by(self.nps, window, "channel", end=end):
                same(self, r, ctx.query(self.nps, window, channel=r.channel_id, end=end))
        old = ctx.query_by(self.nps, "1000d", "touchpoint", end=END)
        self.assertTrue(all(r.truncated for r in old))


class Series(Fixture):
    def test_hours_by_hand(self):
        ctx = self.ctx
        for every in ("1h", timedelta(hours=1), HOUR):
            with self.subTest(every=every):
                rows = ctx.query_series(self.nps, "6h", every, end=END)
                self.assertEqual(len(rows), 6)
                for h, r in enumerate(rows):
                    self.assertIsInstance(r, cxm.SeriesRow)
                    self.assertEqual((r.start_ms, r.end_ms), (T0 + h * HOUR, T0 + (h + 1) * HOUR))
                    self.assertEqual((r.start, r.end),
                                     (cxm.from_ms(T0 + h * HOUR), cxm.from_ms(T0 + (h + 1) * HOUR)))
                    self.assertEqual(r.n, 2 * (h + 1))
                    self.assertAlmostEqual(r.value, -100 if h < 3 else 100)
                    same(self, r, ctx.query(self.nps, "1h", end=T0 + (h + 1) * HOUR - 1), key=0)
        calls = ctx.query_series(self.calls, "6h", "1h", end=END)
        self.assertEqual([r.n for r in calls], [4 * (h + 1) for h in range(6)])

    def test_every_metric_and_scope(self):
        ctx = self.ctx
        for metric in (self.nps, self.calls, self.aht):
            for where in ({}, {"touchpoint": "chat"}, {"journey": "care", "step": "answer"},
                          {"channel": "phone"}, {"segment": ("tier", "silver")}):
                with self.subTest(metric=metric, where=where):
                    rows = ctx.query_series(metric, "6h", "2h", end=END, **where)
                    self.assertEqual(len(rows), 3)
                    for i, r in enumerate(rows):
                        same(self, r, ctx.query(metric, "2h", end=T0 + (i + 1) * 2 * HOUR - 1,
                                                **where), key=0)

    def test_edges(self):
        ctx = self.ctx
        # a window that is not a multiple of the step: the first reaches back
        rows = ctx.query_series(self.nps, "5h", "2h", end=END)
        self.assertEqual([(r.start_ms, r.end_ms) for r in rows],
                         [(T0, T0 + 2 * HOUR), (T0 + 2 * HOUR, T0 + 4 * HOUR),
                          (T0 + 4 * HOUR, T0 + 6 * HOUR)])
        self.assertEqual(sum(r.n for r in rows), 42)
        # one window: the query itself
        rows = ctx.query_series(self.nps, "1h", "1h", end=END)
        self.assertEqual(len(rows), 1)
        same(self, rows[0], ctx.query(self.nps, "1h", end=END), key=0)
        # more windows than the first buffer holds: asked again at the size libcxm says
        rows = ctx.query_series(self.calls, "6h", "1m", end=END)
        self.assertEqual(len(rows), 360)
        self.assertEqual(sum(r.n for r in rows), 84)
        self.assertEqual(rows[0].start_ms, T0)
        self.assertEqual(rows[-1].end_ms, T0 + 6 * HOUR)
        # each what query() answers for its minute (where the data is held
        # only hourly, that is the hour, once, as for any window)
        for i, r in enumerate(rows):
            same(self, r, ctx.query(self.calls, "1m", end=END - (359 - i) * MIN), key=0)
        self.assertTrue(all(a.end_ms == b.start_ms for a, b in zip(rows[-60:], rows[-59:])))
        # the clock's now
        rows = ctx.query_series(self.calls, "2h", "1h")
        self.assertEqual(rows[-1].end_ms, ctx.query(self.calls, "2h").end_ms)


class Rows(Fixture):
    def test_rows_are_namedtuples(self):
        ctx = self.ctx
        rows = ctx.query_by(self.nps, "6h", "touchpoint", end=END)
        r = rows[0]
        self.assertIsInstance(r, tuple)
        self.assertEqual(type(r)._fields, ("touchpoint", "touchpoint_id") + cxm.Result._fields)
        self.assertEqual(tuple(r._asdict()), type(r)._fields)
        self.assertEqual((r[0], r[1], r.key, r.id), ("ivr", 0, "ivr", 0))
        self.assertEqual(r.ci, (r.ci_low, r.ci_high))
        self.assertEqual((r.kind, r.headline), ("score", "net"))
        self.assertTrue(repr(r).startswith("TouchpointRow(touchpoint='ivr', touchpoint_id=0, "
                                           "kind='score', headline='net', value="))
        with self.assertRaises(AttributeError):
            r.n = 3
        with self.assertRaises(AttributeError):
            r.anything = 3
        self.assertEqual(r._replace(n=7).n, 7)
        for by, cls, key in (("segment", cxm.SegmentRow, "segment"),
                             ("step", cxm.StepRow, "step"),
                             ("channel", cxm.ChannelRow, "channel")):
            kw = {"dim": "tier"} if by == "segment" else {"journey": "care"} if by == "step" else {}
            row = ctx.query_by(self.nps, "6h", by, end=END, **kw)[0]
            self.assertIs(type(row), cls)
            self.assertEqual(cls._fields[:2], (key, key + "_id"))
            self.assertEqual(cls._fields[2:], cxm.Result._fields)
        s = ctx.query_series(self.nps, "6h", "1h", end=END)[0]
        self.assertEqual(cxm.SeriesRow._fields, cxm.Result._fields)
        self.assertFalse(hasattr(s, "key"))
        self.assertTrue(repr(s).startswith("SeriesRow(kind='score', headline='net', value=-100.0"))
        # the dicts pandas would get, without pandas
        dicts = [row._asdict() for row in rows]
        self.assertEqual([d["touchpoint"] for d in dicts], ["ivr", "agent", "chat", "web",
                                                            "newsletter", "desk"])
        self.assertIn("value", dicts[0])
        self.assertIn("ci_low", dicts[0])

    def test_rows_pickle(self):
        import pickle

        ctx = self.ctx
        r = ctx.query_by(self.calls, "6h", "touchpoint", end=END)[0]
        back = pickle.loads(pickle.dumps(r))
        self.assertIs(type(back), cxm.TouchpointRow)
        self.assertEqual(back.touchpoint, "ivr")
        self.assertEqual(back.n, r.n)

    def test_to_pandas_without_pandas(self):
        rows = self.ctx.query_series(self.nps, "6h", "1h", end=END)
        with mock.patch.dict(sys.modules, {"pandas": None}):
            with self.assertRaises(ImportError) as cm:
                cxm.to_pandas(rows)
        self.assertIn("needs pandas", str(cm.exception))
        self.assertIn("_asdict()", str(cm.exception))
        self.assertEqual(cm.exception.name, "pandas")

    @unittest.skipUnless(pandas, "pandas is not installed (apt-get install python3-pandas)")
    def test_to_pandas(self):
        ctx = self.ctx
        rows = ctx.query_by(self.nps, "6h", "touchpoint", end=END)
        df = pandas.DataFrame(rows)
        self.assertEqual(list(df.columns), list(cxm.TouchpointRow._fields))
        df2 = cxm.to_pandas(rows)
        self.assertEqual(list(df2.columns), list(df.columns))
        self.assertEqual(df2.shape, (6, len(cxm.TouchpointRow._fields)))
        self.assertEqual(list(df2["touchpoint"]), [r.touchpoint for r in rows])
        self.assertEqual(list(df2["n"]), [r.n for r in rows])
        series = cxm.to_pandas(ctx.query_series(self.nps, "6h", "1h", end=END))
        self.assertEqual(list(series.columns), list(cxm.Result._fields))
        self.assertEqual(list(series["value"]), [-100.0] * 3 + [100.0] * 3)
        # Results too, through _asdict()
        res = cxm.to_pandas([ctx.query(self.nps, "6h", end=END), ctx.query(self.calls, "6h", end=END)])
        self.assertEqual(list(res.columns), list(cxm.Result._fields))
        self.assertEqual(list(res["n"]), [42, 84])


class BadArguments(Fixture):
    def test_query_by(self):
        ctx, nps = self.ctx, self.nps
        with self.assertRaises(cxm.InvalidArgumentError) as cm:
            ctx.query_by(nps, "1h", "pigeon")
        self.assertIn("touchpoint", str(cm.exception))
        for by in (0, 5, 99):
            with self.assertRaises(cxm.InvalidArgumentError):
                ctx.query_by(nps, "1h", by)
        for by in (True, 1.0, None):
            with self.assertRaises(TypeError):
                ctx.query_by(nps, "1h", by)
        with self.assertRaises(TypeError):
            ctx.query_by(nps, "1h", "segment")  # no dim
        with self.assertRaises(TypeError):
            ctx.query_by(nps, "1h", "touchpoint", dim="tier")
        with self.assertRaises(cxm.UnknownIdError):
            ctx.query_by(nps, "1h", "segment", dim="nope")
        with self.assertRaises(cxm.UnknownIdError):
            ctx.query_by(nps, "1h", "segment", dim=9)
        with self.assertRaises(cxm.UnknownIdError):
            ctx.query_by(nps, "1h", "segment", dim=-1)
        # segment values of two dimensions together are not kept
        with self.assertRaises(cxm.UnsupportedError) as cm:
            ctx.query_by(nps, "1h", "segment", dim="region", segment=("tier", "gold"))
        self.assertEqual(cm.exception.code, cxm.Status.UNSUPPORTED)
        with self.assertRaises(cxm.UnsupportedError):
            ctx.query_by(nps, "1h", "segment", dim="tier", segment=("tier", "gold"))
        # steps of a journey query only; channels of a query of everything
        with self.assertRaises(cxm.InvalidArgumentError):
            ctx.query_by(nps, "1h", "step")
        with self.assertRaises(cxm.InvalidArgumentError):
            ctx.query_by(nps, "1h", "step", touchpoint="ivr")
        with self.assertRaises(cxm.InvalidArgumentError):
            ctx.query_by(nps, "1h", "step", journey="care", step="answer")
        with self.assertRaises(cxm.InvalidArgumentError):
            ctx.query_by(nps, "1h", "channel", touchpoint="ivr")
        with self.assertRaises(cxm.InvalidArgumentError):
            ctx.query_by(nps, "1h", "channel", journey="care")
        # what query() refuses
        with self.assertRaises(cxm.UnknownIdError):
            ctx.query_by(99, "1h", "touchpoint")
        with self.assertRaises(cxm.UnknownIdError):
            ctx.query_by("nope", "1h", "touchpoint")
        with self.assertRaises(cxm.UnknownIdError):
            ctx.query_by(nps, "1h", "touchpoint", touchpoint=40)
        with self.assertRaises(cxm.OutOfRangeError):
            ctx.query_by(nps, 0, "touchpoint")
        with self.assertRaises(cxm.OutOfRangeError):
            ctx.query_by(nps, "1h", "touchpoint", end=-5)
        with self.assertRaises(TypeError):
            ctx.query_by(nps, "1h", "touchpoint", touchpoint="ivr", journey="care")
        with self.assertRaises(TypeError):
            ctx.query_by(nps, "1h")
        with self.assertRaises(TypeError):
            ctx.query_by(nps, "1h", "touchpoint", "tier")  # keywords only after by
        with self.assertRaises(TypeError):
            ctx.query_by(nps, "1h", "touchpoint", where="ivr")

    def test_query_series(self):
        ctx, nps = self.ctx, self.nps
        for every in (0, -MIN, MIN + 1, "90s", "2h", 30_000):
            with self.subTest(every=every):
                with self.assertRaises(cxm.OutOfRangeError) as cm:
                    ctx.query_series(nps, "1h", every)
                self.assertIn("step_ms", str(cm.exception))
        for every in (True, 1.5, None, [MIN]):
            with self.assertRaises(TypeError):
                ctx.query_series(nps, "1h", every)
        with self.assertRaises(ValueError):
            ctx.query_series(nps, "1h", "an hour")
        with self.assertRaises(cxm.OutOfRangeError):
            ctx.query_series(nps, "1h", 2**63)
        with self.assertRaises(cxm.UnknownIdError):
            ctx.query_series(99, "1h", "1m")
        with self.assertRaises(cxm.OutOfRangeError):
            ctx.query_series(nps, 0, "1m")
        with self.assertRaises(cxm.UnknownIdError):
            ctx.query_series(nps, "1h", "1m", segment=("tier", "platinum"))
        with self.assertRaises(TypeError):
            ctx.query_series(nps, "1h", "1m", step=1)  # a step needs its journey
        with self.assertRaises(TypeError):
            ctx.query_series(nps, "1h")

    def test_the_extension_calls(self):
        ctx = self.ctx
        q = ctx.make_query(self.nps, "1h")
        with self.assertRaises(TypeError):
            ctx._query_group(42, 1, None)
        with self.assertRaises(TypeError):
            ctx._query_group(q, 1)
        with self.assertRaises(TypeError):
            ctx._query_group(q, 1, None, by=1)
        with self.assertRaises(cxm.OutOfRangeError):
            ctx._query_group(q, -1, None)
        with self.assertRaises(cxm.InvalidArgumentError):
            ctx._query_group(q, 1, 0)  # dim with another grouping
        with self.assertRaises(TypeError):
            ctx._query_series(q)
        with self.assertRaises(TypeError):
            ctx._query_series("q", "1m")
        self.assertEqual(len(ctx._query_series(q, "1m")), 60)
        self.assertEqual(len(ctx._query_group(q, 1, None)[0]), 1 + len(cxm.Result._fields))

    def test_closed_context(self):
        ctx = make_ctx()
        nps = ctx.metric("nps")
        ctx.touchpoint("t")
        q = ctx.make_query(nps, "1h")
        ctx.close()
        with self.assertRaises(ValueError):
            ctx._query_group(q, 1, None)
        with self.assertRaises(ValueError):
            ctx._query_series(q, "1m")


class Clock(unittest.TestCase):
    def test_read_once_per_call(self):
        calls = []

        def clock():
            calls.append(1)
            return T0

        with cxm.Context(clock=clock) as ctx:
            nps = ctx.metric("nps")
            for i in range(100):
                ctx.touchpoint(f"t{i}")
            del calls[:]
            rows = ctx.query_by(nps, "1h", "touchpoint")  # 100 groups: asked twice
            self.assertEqual((len(rows), len(calls)), (100, 1))
            rows = ctx.query_series(nps, "6h", "1m")      # 360 windows: asked twice
            self.assertEqual((len(rows), len(calls)), (360, 2))
            ctx.query_series(nps, "6h", "1m", end=T0)     # an end: no clock
            self.assertEqual(len(calls), 2)

    def test_a_failing_clock_propagates(self):
        def clock():
            raise RuntimeError("no time today")

        with cxm.Context(clock=clock) as ctx:
            nps = ctx.metric("nps")
            ctx.touchpoint("t")
            for call in (lambda: ctx.query_by(nps, "1h", "touchpoint"),
                         lambda: ctx.query_series(nps, "1h", "1m")):
                with self.assertRaises(RuntimeError):
                    call()
            self.assertEqual(len(ctx.query_by(nps, "1h", "touchpoint", end=T0)), 1)


class Leaks(unittest.TestCase):
    def test_flat_across_calls(self):
        ctx = make_ctx(now=T0)
        self.addCleanup(ctx.close)
        tp = ctx.touchpoint("t", "phone")
        nps = ctx.metric("nps")
        tier = ctx.segment("tier", 4)
        ctx.feed(T0, tp, {nps: 9}, segments={tier: "gold"})

        def calls():
            ctx.query_by(nps, "1h", "touchpoint")
            ctx.query_by(nps, "1h", "segment", dim=tier)
            ctx.query_series(nps, "2h", "1m")  # two tries: 120 windows
            for bad in (lambda: ctx.query_by(nps, "1h", "step"),
                        lambda: ctx.query_series(nps, "1h", MIN + 1),
                        lambda: ctx._query_group(ctx.make_query(nps, "1h"), 2, 9)):
                try:
                    bad()
                except cxm.Error:
                    pass

        for _ in range(200):
            calls()
        gc.collect()
        tracemalloc.start()
        snap0 = tracemalloc.take_snapshot()
        objects0 = len(gc.get_objects())
        for _ in range(2000):
            calls()
        gc.collect()
        objects1 = len(gc.get_objects())
        snap1 = tracemalloc.take_snapshot()
        tracemalloc.stop()
        grown = sum(s.size_diff for s in snap1.compare_to(snap0, "filename"))
        top = "\n".join(str(s) for s in snap1.compare_to(snap0, "lineno")[:5])
        self.assertLess(grown, 64 * 1024, top)
        self.assertLess(objects1 - objects0, 50)


class Guide(unittest.TestCase):
    def test_example_prints_what_the_guide_says(self):
        if not os.path.exists(DOC):
            self.skipTest("docs/python.md is not in this tree")
        with open(DOC, encoding="utf-8") as f:
            text = f.read()
        m = re.search(r"### Example: a breakdown and a trend[^\n]*\n\n```python\n(.*?)```\n\n"
                      r"prints\n\n```\n(.*?)```", text, re.S)
        self.assertIsNotNone(m)
        p = subprocess.run([PY, "-c", m.group(1)], env=python_env(), capture_output=True, text=True,
                           timeout=120)
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertEqual(p.stdout, m.group(2))


if __name__ == "__main__":
    unittest.main()
