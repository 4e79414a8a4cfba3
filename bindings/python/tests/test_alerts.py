"""Metric alerts: alert(), evaluate_alerts(), alert_status() and their
events on the trigger queue: docs/loop.md's LEVEL timeline (too few
samples, pending, firing, hysteresis, resolved, the cool-down), a CHANGE
alert with a significant drop, and the bad arguments of each call."""
import math
import unittest
from datetime import datetime, timedelta, timezone

import cxm
from support import HOUR, MIN, T0, Model, make_ctx


class Level(unittest.TestCase):
    """NPS of the agent call over the last hour below 0, pending for 10
    minutes, resolving only at 10 or more, not again within 30 minutes, 5
    answers at least (docs/loop.md, "Metric alerts")."""

    def setUp(self):
        self.ctx = make_ctx()
        self.m = Model(self.ctx)

    def tearDown(self):
        self.ctx.close()

    def answers(self, n, value, t):
        self.ctx.test_clock.now = max(self.ctx.test_clock.now, t)
        for _ in range(n):
            self.ctx.feed(t, self.m.agent, {self.m.nps: value})

    def evaluate(self, t):
        self.ctx.test_clock.now = max(self.ctx.test_clock.now, t)
        return self.ctx.evaluate_alerts(t)

    def test_the_timeline_of_the_guide(self):
        ctx, m = self.ctx, self.m
        a = ctx.alert("agent NPS low", "nps", "1h", touchpoint="agent call", op="<", fire=0,
                      clear=10, min_samples=5, pending="10m", cooldown=timedelta(minutes=30))
        self.assertEqual(a, 0)
        self.assertIs(type(a), int)
        s = ctx.alert_status(a)
        self.assertEqual((s.state, s.since_ms, s.evaluated_ms, s.resolved_ms, s.fired),
                         (cxm.AlertState.OK, None, None, None, 0))
        self.assertIsNone(s.since)
        self.assertFalse(s.insufficient)

        self.assertEqual(self.evaluate(T0), 0)                    # 0 answers
        s = ctx.alert_status(a)
        self.assertTrue(s.insufficient)
        self.assertEqual((s.state, s.since_ms, s.evaluated_ms), (cxm.AlertState.OK, T0, T0))
        self.assertEqual(s.evaluated, datetime(2026, 11, 22, 12, 0, tzinfo=timezone.utc))
        self.answers(4, 0, T0 + MIN)
        self.assertEqual(self.evaluate(T0 + 2 * MIN), 0)          # 4 < 5
        self.assertTrue(ctx.alert_status(a).insufficient)
        self.answers(2, 0, T0 + 3 * MIN)                          # 6 detractors: -100
        self.assertEqual(self.evaluate(T0 + 10 * MIN), 1)
        s = ctx.alert_status(a)
        self.assertEqual((s.state, s.since_ms, s.n, s.insufficient),
                         (cxm.AlertState.PENDING, T0 + 10 * MIN, 6, False))
        self.assertAlmostEqual(s.value, -100)
        self.assertTrue(math.isnan(s.baseline) and math.isnan(s.p_value))
        self.assertEqual(self.evaluate(T0 + 19 * MIN), 0)         # 9 of its 10 minutes
        self.assertEqual(ctx.alert_status(a).state, cxm.AlertState.PENDING)
        self.assertEqual(ctx.poll_events(), [])

        self.assertEqual(self.evaluate(T0 + 20 * MIN), 1)
        s = ctx.alert_status(a)
        self.assertEqual((s.state, s.since_ms, s.fired), (cxm.AlertState.FIRING, T0 + 20 * MIN, 1))
        (e,) = ctx.poll_events()
        self.assertEqual((e.kind, e.rule, e.time_ms, e.metric, e.touchpoint, e.customer),
                         ("alert firing", a, T0 + 20 * MIN, int(m.nps), cxm.NONE, None))
        self.assertAlmostEqual(e.value, -100)
        self.assertIn('cxm_alert_firing{alert="agent NPS low"} 1', ctx.export())

        self.answers(7, 10, T0 + 21 * MIN)                        # +7.7: below the clear level
        self.assertEqual(self.evaluate(T0 + 25 * MIN), 0)
        s = ctx.alert_status(a)
        self.assertEqual(s.state, cxm.AlertState.FIRING)
        self.assertAlmostEqual(s.value, 100 / 13)
        self.answers(3, 9, T0 + 26 * MIN)                         # +25: resolved
        self.assertEqual(self.evaluate(T0 + 30 * MIN), 1)
        s = ctx.alert_status(a)
        self.assertEqual((s.state, s.resolved_ms), (cxm.AlertState.OK, T0 + 30 * MIN))
        self.assertEqual(s.resolved, datetime(2026, 11, 22, 12, 30, tzinfo=timezone.utc))
        (e,) = ctx.poll_events()
        self.assertEqual((e.kind, e.rule, e.time_ms), ("alert resolved", a, T0 + 30 * MIN))
        self.assertAlmostEqual(e.value, 25)
        self.assertIn('cxm_alert_firing{alert="agent NPS low"} 0', ctx.export())

        self.answers(30, 3, T0 + 31 * MIN)                        # negative again: cool-down
        self.assertEqual(self.evaluate(T0 + 40 * MIN), 0)
        self.assertEqual(self.evaluate(T0 + 59 * MIN + 59_999), 0)
        self.assertEqual(ctx.alert_status(a).state, cxm.AlertState.OK)
        self.assertEqual(self.evaluate(T0 + 60 * MIN), 1)         # 30 minutes after resolving
        self.assertEqual(ctx.alert_status(a).state, cxm.AlertState.PENDING)
        self.assertEqual(self.evaluate(T0 + 70 * MIN), 1)
        s = ctx.alert_status(a)
        self.assertEqual((s.state, s.fired), (cxm.AlertState.FIRING, 2))
        self.assertAlmostEqual(s.value, -50)                      # the first 6 left the window
        self.assertEqual([e.kind for e in ctx.poll_events()], ["alert firing"])

    def test_now_defaults_to_the_clock_and_names_or_ids_work(self):
        ctx, m = self.ctx, self.m
        a = ctx.alert("any", m.nps, HOUR, op=cxm.Cmp.LE, fire=0)  # no pending: fires at once
        b = ctx.alert("gold", "nps", timedelta(hours=1), op="lt", fire=0, channel="phone",
                      segment=("tier", "gold"))
        self.assertEqual((a, b), (0, 1))
        self.answers(2, 0, T0)
        ctx.test_clock.now = T0 + MIN
        self.assertEqual(ctx.evaluate_alerts(), 1)                # only a: gold has no answers
        s = ctx.alert_status(a)
        self.assertEqual((s.state, s.since_ms), (cxm.AlertState.FIRING, T0 + MIN))
        self.assertTrue(ctx.alert_status(b).insufficient)
        self.assertEqual(ctx.evaluate_alerts("2026-11-22T12:02:00Z"), 0)
        self.assertEqual(ctx.alert_status(a).evaluated_ms, T0 + 2 * MIN)
        (e,) = ctx.poll_events()
        self.assertEqual((e.kind, e.rule), ("alert firing", a))

    def test_a_status_is_immutable(self):
        a = self.ctx.alert("x", "nps", "1h", op="<", fire=0)
        s = self.ctx.alert_status(a)
        self.assertIsInstance(s, tuple)
        with self.assertRaises(AttributeError):
            s.state = cxm.AlertState.FIRING
        self.assertEqual(s._fields, ("state", "since_ms", "evaluated_ms", "resolved_ms", "value",
                                     "baseline", "p_value", "n", "fired", "insufficient"))
        self.assertIsInstance(s.state, cxm.AlertState)


class Change(unittest.TestCase):
    """NPS down more than 20 points against the hour before, significant at
    5 % (tests/test_alerts.c, change)."""

    def setUp(self):
        self.ctx = make_ctx()
        self.m = Model(self.ctx)

    def tearDown(self):
        self.ctx.close()

    def answers(self, n, value, t):
        self.ctx.test_clock.now = max(self.ctx.test_clock.now, t)
        for _ in range(n):
            self.ctx.feed(t, self.m.agent, {self.m.nps: value})

    def evaluate(self, t):
        self.ctx.test_clock.now = max(self.ctx.test_clock.now, t)
        return self.ctx.evaluate_alerts(t)

    def test_a_significant_drop_fires_a_small_one_does_not(self):
        ctx = self.ctx
        a = ctx.alert("nps drop", "nps", "1h", kind="change", op="<", fire=-20, clear=-10,
                      max_p_value=0.05, min_samples=3)           # baseline: the hour before
        # hour 1: +66.7; hour 2: -33.3 on 3 answers a side: -100, not significant
        self.answers(2, 10, T0 + 10 * MIN)
        self.answers(1, 8, T0 + 11 * MIN)
        self.answers(1, 10, T0 + HOUR + 10 * MIN)
        self.answers(2, 1, T0 + HOUR + 11 * MIN)
        self.assertEqual(self.evaluate(T0 + 2 * HOUR - 1), 0)
        s = ctx.alert_status(a)
        self.assertEqual(s.state, cxm.AlertState.OK)
        self.assertAlmostEqual(s.value, -100)
        self.assertAlmostEqual(s.baseline, 200 / 3)
        self.assertGreaterEqual(s.p_value, 0.05)
        # hour 4: +75 on 40 answers; hour 5: -75: -150, p tiny
        self.answers(35, 10, T0 + 3 * HOUR + 5 * MIN)
        self.answers(5, 0, T0 + 3 * HOUR + 6 * MIN)
        self.answers(5, 10, T0 + 4 * HOUR + 5 * MIN)
        self.answers(35, 0, T0 + 4 * HOUR + 6 * MIN)
        self.assertEqual(self.evaluate(T0 + 5 * HOUR - 1), 1)
        s = ctx.alert_status(a)
        self.assertEqual((s.state, s.n, s.fired), (cxm.AlertState.FIRING, 40, 1))
        self.assertAlmostEqual(s.value, -150)
        self.assertAlmostEqual(s.baseline, 75)
        self.assertLess(s.p_value, 0.001)
        (e,) = ctx.poll_events()
        self.assertEqual((e.kind, e.rule, e.time_ms), ("alert firing", a, T0 + 5 * HOUR - 1))
        # hour 6 like hour 5: no change, past the clear level: resolved
        self.answers(5, 10, T0 + 5 * HOUR + 5 * MIN)
        self.answers(35, 0, T0 + 5 * HOUR + 6 * MIN)
        self.assertEqual(self.evaluate(T0 + 6 * HOUR - 1), 1)
        self.assertEqual(ctx.alert_status(a).state, cxm.AlertState.OK)
        self.assertEqual([e.kind for e in ctx.poll_events()], ["alert resolved"])

    def test_the_same_hour_last_week(self):
        a = self.ctx.alert("wow", "nps", "1h", kind=cxm.AlertKind.CHANGE, op=">", fire=10,
                           baseline_offset="7d")
        self.assertEqual(self.evaluate(T0), 0)
        self.assertTrue(self.ctx.alert_status(a).insufficient)   # no baseline a week ago

    def test_below_forecast(self):
        # revenue per hour on the web shop: 100, 110 ... 150 for six hours
        # (Holt's forecast of the seventh: 160), then 100 in the hour watched
        start = T0 - 7 * HOUR
        for h, v in enumerate([100, 110, 120, 130, 140, 150, 100]):
            self.ctx.feed(start + h * HOUR + MIN, self.m.web, {self.m.revenue: v})
        a = self.ctx.alert("below forecast", "revenue", "1h", kind="forecast", op="<", fire=-30,
                           clear=-10, baseline_offset="6h", touchpoint=self.m.web)
        self.evaluate(start + 7 * HOUR - 1)
        s = self.ctx.alert_status(a)
        self.assertEqual(s.state, cxm.AlertState.FIRING)
        self.assertAlmostEqual(s.baseline, 160, places=9)
        self.assertAlmostEqual(s.value, -60, places=9)
        with self.assertRaises(cxm.OutOfRangeError):  # two windows of history: too few
            self.ctx.alert("short", "revenue", "1h", kind="forecast", op="<", fire=0,
                           baseline_offset="2h")


class BadArguments(unittest.TestCase):
    def setUp(self):
        self.ctx = make_ctx()
        self.m = Model(self.ctx)

    def tearDown(self):
        self.ctx.close()

    def test_alert(self):
        ctx, m = self.ctx, self.m
        ok = dict(op="<", fire=0)
        bad = [
            (cxm.InvalidArgumentError, dict(op="==", fire=0)),              # alerts: < <= > >=
            (cxm.InvalidArgumentError, dict(op="~", fire=0)),
            (cxm.InvalidArgumentError, dict(op=9, fire=0)),
            (cxm.InvalidArgumentError, dict(ok, kind="trend")),
            (cxm.InvalidArgumentError, dict(ok, kind=7)),
            (cxm.NotFiniteError, dict(op="<", fire=math.nan)),
            (cxm.NotFiniteError, dict(op="<", fire=0, clear=math.inf)),
            (cxm.OutOfRangeError, dict(op="<", fire=0, clear=-1)),          # on the firing side
            (cxm.OutOfRangeError, dict(op=">", fire=0, clear=1)),
            (cxm.OutOfRangeError, dict(ok, pending=-1)),
            (cxm.OutOfRangeError, dict(ok, cooldown=timedelta(seconds=-1))),
            (cxm.OutOfRangeError, dict(ok, min_samples=0)),                 # libcxm's "1"
            (cxm.OutOfRangeError, dict(ok, min_samples=-3)),
            (cxm.OutOfRangeError, dict(ok, baseline_offset="1h")),          # LEVEL: no baseline
            (cxm.OutOfRangeError, dict(ok, max_p_value=0.05)),
            (cxm.OutOfRangeError, dict(ok, kind="change", baseline_offset=0)),
            (cxm.OutOfRangeError, dict(ok, kind="change", max_p_value=0)),  # libcxm's "no test"
            (cxm.OutOfRangeError, dict(ok, kind="change", max_p_value=1.5)),
            (cxm.NotFiniteError, dict(ok, kind="change", max_p_value=math.nan)),
            (TypeError, dict(op="<", fire=True)),
            (TypeError, dict(op="<", fire=None)),
            (TypeError, dict(op="<", fire="0")),
            (TypeError, dict(ok, min_samples=2.0)),
            (TypeError, dict(ok, min_samples=True)),
            (TypeError, dict(ok, kind="change", max_p_value=True)),
            (TypeError, dict(ok, touchpoint="ivr", channel="phone")),
            (cxm.UnknownIdError, dict(ok, touchpoint="nowhere")),
            (cxm.UnknownIdError, dict(ok, segment=("tier", "platinum"))),
        ]
        for exc, kw in bad:
            with self.subTest(kw=kw), self.assertRaises(exc):
                ctx.alert("a", "nps", "1h", **kw)
        with self.assertRaises(TypeError):
            ctx.alert("a", "nps", "1h", fire=0)                             # op is needed
        with self.assertRaises(TypeError):
            ctx.alert("a", "nps", "1h", "<", 0)                             # keywords only
        with self.assertRaises(cxm.UnknownIdError):
            ctx.alert("a", "no such metric", "1h", **ok)
        with self.assertRaises(cxm.OutOfRangeError):
            ctx.alert("a", "nps", 0, **ok)                                   # the window's span
        with self.assertRaises(ValueError):
            ctx.alert("a", "nps", "1.5ms", **ok)
        with self.assertRaises(TypeError):
            ctx.alert("a", "nps", None, **ok)
        with self.assertRaises(cxm.KindError):                              # no p-value for a count
            ctx.alert("a", "volume", "1h", kind="change", op="<", fire=0, max_p_value=0.05)
        with self.assertRaises(cxm.EncodingError):
            ctx.alert("", "nps", "1h", **ok)
        with self.assertRaises(TypeError):
            ctx.alert(b"a", "nps", "1h", **ok)
        self.assertEqual(ctx.alert("a", "nps", "1h", **ok), 0)              # nothing was defined
        with self.assertRaises(cxm.ExistsError):
            ctx.alert("a", "aht", "1h", op=">", fire=600)
        self.assertEqual(ctx.alert("b", "volume", "1h", kind="change", op="<", fire=0), 1)

    def test_evaluate_alerts(self):
        ctx = self.ctx
        self.assertEqual(ctx.evaluate_alerts(T0), 0)                        # no alert: nothing to do
        ctx.alert("a", "nps", "1h", op="<", fire=0)
        for t, exc in ((-1, cxm.OutOfRangeError), (cxm.TIME_MAX + 1, cxm.OutOfRangeError),
                       (2 ** 63, cxm.OutOfRangeError), (True, TypeError), (1.5, TypeError),
                       (datetime(2026, 11, 22), ValueError), ("yesterday", ValueError)):
            with self.subTest(t=t), self.assertRaises(exc):
                ctx.evaluate_alerts(t)
        self.assertIsNone(ctx.alert_status(0).evaluated_ms)                 # none of them ran

        def broken():
            raise RuntimeError("clock")
        with cxm.Context(clock=broken) as c:
            c.metric("nps")
            with self.assertRaises(RuntimeError):
                c.evaluate_alerts()

    def test_alert_status(self):
        ctx = self.ctx
        ctx.alert("a", "nps", "1h", op="<", fire=0)
        for alert, exc in ((1, cxm.UnknownIdError), (-1, cxm.UnknownIdError),
                           (2 ** 40, cxm.UnknownIdError), ("a", TypeError), (True, TypeError),
                           (0.0, TypeError), (None, TypeError)):
            with self.subTest(alert=alert), self.assertRaises(exc):
                ctx.alert_status(alert)

    def test_a_closed_context(self):
        ctx = make_ctx()
        ctx.metric("nps")
        ctx.close()
        for call in (lambda: ctx.alert("a", "nps", "1h", op="<", fire=0),
                     lambda: ctx.evaluate_alerts(T0), lambda: ctx.alert_status(0)):
            with self.assertRaises(ValueError):
                call()


if __name__ == "__main__":
    unittest.main()
