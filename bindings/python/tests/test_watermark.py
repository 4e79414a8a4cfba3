"""end="watermark" (cxm.WATERMARK, CXM_WATERMARK): windows that end with the
newest interaction accepted, for history fed in bulk long before the
clock's now; before anything is accepted, the clock's now (end=None)."""
import math
import sys
import threading
import time
import unittest

import cxm
from support import HOUR, MIN, T0, Model, make_ctx

YEAR = 365 * 24 * HOUR
OLD = T0 - YEAR  # last year's export: every time an hour or so before OLD


def minute_end(t):
    """The end of t's minute (the default finest bucket): a window's end_ms."""
    return (t // MIN + 1) * MIN


def window(r):
    """What a Result covers and counts (its value may be NaN)."""
    return (r.start_ms, r.end_ms, r.n)


def feed_history(ctx, m, base=OLD, n=20):
    """n customers begin "support" at the ivr from 100 min before base
    (even ones gold), the first half reach the agent 5 min later with an
    NPS answer; the newest interaction is returned."""
    for i in range(n):
        ctx.feed(base - 100 * MIN + i * 1000, m.ivr, {m.aht: 60.0 + i}, customer=f"c{i}",
                 segments={m.tier: "gold" if i % 2 == 0 else "silver"})
    newest = None
    for i in range(n // 2):
        newest = base - 95 * MIN + i * 1000 + 123
        ctx.feed(newest, m.agent, {m.nps: i % 11}, customer=f"c{i}",
                 segments={m.tier: "gold" if i % 2 == 0 else "silver"})
    return newest


class Unraisable:
    """Collects what sys.unraisablehook sees (a Python clock called from
    libcxm without the binding having read it first would end there)."""

    def __enter__(self):
        self.seen = []
        self.saved = sys.unraisablehook
        sys.unraisablehook = self.seen.append
        return self

    def __exit__(self, *exc):
        sys.unraisablehook = self.saved
        return False


class History(unittest.TestCase):
    def setUp(self):
        self.ctx = make_ctx()
        self.m = Model(self.ctx)
        self.newest = feed_history(self.ctx, self.m)
        self.end = minute_end(self.newest)

    def tearDown(self):
        self.ctx.close()

    def test_constant(self):
        self.assertEqual(cxm.WATERMARK, "watermark")
        self.assertIn("WATERMARK", cxm.__all__)

    def test_query(self):
        ctx, m = self.ctx, self.m
        self.assertEqual(ctx.query(m.nps, "4h").n, 0)  # ends at the clock's now: a year later
        r = ctx.query(m.nps, "4h", end="watermark")
        self.assertEqual(r.n, 10)
        self.assertEqual(r.end_ms, self.end)
        self.assertEqual(window(ctx.query(m.nps, "1h", end="watermark")),
                         (self.end - HOUR, self.end, 10))
        self.assertEqual(window(ctx.query("nps", "4h", end=cxm.WATERMARK, touchpoint="agent call")),
                         window(r))
        self.assertEqual(window(ctx.query(m.nps, "4h", end=self.newest)), window(r))  # the same
        self.assertEqual(ctx.query(m.nps, "4h", end="watermark", segment=("tier", "gold")).n, 5)
        # the window ends with the newest interaction's minute: the agent's
        # answers are in its last minute, the ivr's 5 minutes before
        self.assertEqual(ctx.query(m.aht, "4m", end="watermark").n, 0)
        self.assertEqual(ctx.query(m.aht, "2h", end="watermark").n, 20)

    def test_quantiles_distribution_compare(self):
        ctx, m = self.ctx, self.m
        self.assertEqual(ctx.quantiles(m.aht, [0, 1], "2h", end="watermark"), (60.0, 79.0))
        d = ctx.distribution(m.nps, "2h", end="watermark")
        self.assertEqual(sum(d.values()), 10)
        self.assertEqual(sum(ctx.distribution(m.nps, "2h").values()), 0)
        a = ctx.make_query(m.nps, "2h", end="watermark", segment=m.gold)
        b = ctx.make_query(m.nps, "2h", end="watermark", segment=m.silver)
        c = ctx.compare(a, b)
        self.assertEqual((c.n_a, c.n_b), (5, 5))
        now = ctx.compare(a, a.replace(end=None))  # one ends at the watermark, one now
        self.assertEqual((now.n_a, now.n_b), (5, 0))

    def test_reused_query_follows_the_watermark(self):
        ctx, m = self.ctx, self.m
        q = ctx.make_query(m.nps, "1h", end="watermark", touchpoint="agent call")
        self.assertEqual(q.end_ms, "watermark")
        self.assertEqual(repr(q), "Query(metric=0, span_ms=3600000, end='watermark', "
                         "scope=touchpoint, id=2)")
        first = ctx.run(q)
        self.assertEqual((first.n, first.end_ms), (10, self.end))
        later = self.newest + 30 * MIN
        ctx.feed(later, m.agent, {m.nps: 10}, customer="late")
        second = ctx.run(q)
        self.assertEqual((second.n, second.end_ms), (11, minute_end(later)))
        ctx.feed(later + 2 * HOUR, m.web, customer="later")  # another touchpoint moves it too
        self.assertEqual(ctx.run(q).end_ms, minute_end(later + 2 * HOUR))
        self.assertEqual(ctx.run(q).n, 0)
        self.assertEqual(ctx.run(q.replace(window="4h")).n, 11)
        # the same through Query, replace and the extension's own type
        q2 = cxm.Query(m.nps, "4h", end=cxm.WATERMARK)
        self.assertEqual(q2.end_ms, cxm.WATERMARK)
        self.assertIn("end='watermark'", repr(q2))
        self.assertEqual(q2.replace(window="1h").end_ms, "watermark")
        self.assertIsNone(q2.replace(end=None).end_ms)
        self.assertEqual(q2.replace(end=T0).end_ms, T0)
        self.assertEqual(cxm.Query(m.nps, "1h", end=T0).replace(end="watermark").end_ms,
                         "watermark")
        self.assertEqual(cxm._cxm.Query(int(m.nps), 1000, "watermark").end_ms, "watermark")
        self.assertEqual(ctx.run(q2).n, 11)

    def test_query_by(self):
        ctx, m = self.ctx, self.m
        self.assertEqual(sum(r.n for r in ctx.query_by(m.nps, "4h", "touchpoint")), 0)
        rows = ctx.query_by(m.nps, "4h", "touchpoint", end="watermark")
        self.assertEqual({r.touchpoint: r.n for r in rows if r.n}, {"agent call": 10})
        self.assertTrue(all(r.end_ms == self.end for r in rows))
        seg = ctx.query_by(m.nps, "4h", "segment", dim="tier", end=cxm.WATERMARK)
        self.assertEqual({r.segment: r.n for r in seg if r.n}, {"gold": 5, "silver": 5})

    def test_query_series(self):
        ctx, m = self.ctx, self.m
        self.assertEqual(sum(r.n for r in ctx.query_series(m.aht, "2h", "30m")), 0)
        rows = ctx.query_series(m.aht, "2h", "30m", end="watermark")
        self.assertEqual(len(rows), 4)
        self.assertEqual(rows[-1].end_ms, self.end)
        self.assertEqual(rows[0].start_ms, self.end - 2 * HOUR)
        self.assertEqual(sum(r.n for r in rows), 20)

    def test_funnel(self):
        ctx, m = self.ctx, self.m
        self.assertEqual(ctx.funnel(m.support, "4h").entered, 0)
        f = ctx.funnel(m.support, "4h", end="watermark")
        self.assertEqual((f.entered, f.completed), (20, 10))
        self.assertEqual(f.end_ms, self.end)
        self.assertEqual(ctx.funnel("support", "4h", end=cxm.WATERMARK, segment=m.gold).entered, 10)
        p = ctx.funnel_quantiles(m.support, "4h", [0.5], step="contact", end="watermark")
        self.assertLess(abs(p[0] - 300) / 300, 0.05)

    def test_churn_rate(self):
        ctx, m = self.ctx, self.m
        ctx.churn("c1", self.newest - 1000)  # after c1's and c2's last interactions
        ctx.churn("c2", self.newest - 500)
        # the window: the newest interaction's minute; active: the 2 hours before
        self.assertEqual(ctx.churn_rate(m.distinct, "1m", active="2h").churned, 0)
        r = ctx.churn_rate(m.distinct, "1m", active="2h", end="watermark")
        self.assertEqual(r.churned, 2)
        self.assertEqual((r.start_ms, r.end_ms), (self.end - MIN, self.end))
        self.assertLess(abs(r.active - 20) / 20, 0.05)  # the ivr's 20 customers, 5 minutes before

    def test_no_clock_call_once_there_is_a_watermark(self):
        state = {"calls": 0, "broken": False}

        def clock():
            state["calls"] += 1
            if state["broken"]:
                raise RuntimeError("the clock is broken")
            return T0
        with cxm.Context(clock=clock) as ctx:
            m = Model(ctx)
            feed_history(ctx, m)
            state["broken"] = True
            with Unraisable() as u:
                with self.assertRaisesRegex(RuntimeError, "broken"):
                    ctx.query(m.nps, "1h")  # ends now: the clock is read
                calls = state["calls"]
                q = ctx.make_query(m.nps, "4h", end="watermark")
                self.assertEqual(ctx.run(q).n, 10)
                self.assertEqual(ctx.query(m.nps, "4h", end="watermark").n, 10)
                ctx.quantiles(m.aht, [0.5], "4h", end="watermark")
                ctx.distribution(m.nps, "4h", end="watermark")
                ctx.query_by(m.nps, "4h", "touchpoint", end="watermark")
                ctx.query_series(m.nps, "4h", "1h", end="watermark")
                ctx.compare(q, q)
                self.assertEqual(ctx.funnel(m.support, "4h", end="watermark").entered, 20)
                ctx.funnel_quantiles(m.support, "4h", [0.5], end="watermark")
                ctx.churn_rate(m.distinct, "1h", active="2h", end="watermark")
                self.assertEqual(state["calls"], calls)  # never read
            self.assertEqual(u.seen, [])


class Empty(unittest.TestCase):
    """Before anything is accepted "watermark" is now, read as for end=None."""

    def test_watermark_is_now_before_any_data(self):
        with make_ctx() as ctx:
            m = Model(ctx)
            for now in (T0, T0 + 7 * MIN + 5):
                ctx.test_clock.now = now
                with Unraisable() as u:
                    r = ctx.query(m.nps, "1h", end="watermark")
                    self.assertEqual(window(r), window(ctx.query(m.nps, "1h")))
                    self.assertEqual(r.end_ms, minute_end(now))
                    q = ctx.make_query(m.nps, "1h", end="watermark")
                    self.assertEqual(ctx.run(q).end_ms, minute_end(now))
                    self.assertEqual([r.end_ms for r in ctx.query_by(m.nps, "1h", "touchpoint",
                                                                     end="watermark")],
                                     [minute_end(now)] * 4)
                    rows = ctx.query_series(m.nps, "1h", "30m", end="watermark")
                    self.assertEqual(rows[-1].end_ms, minute_end(now))
                    self.assertEqual(ctx.funnel(m.support, "1h", end="watermark").end_ms,
                                     minute_end(now))
                    self.assertEqual(ctx.churn_rate(m.distinct, "1h", active="1h",
                                                    end="watermark").end_ms, minute_end(now))
                    p = ctx.quantiles(m.aht, [0.5], "1h", end="watermark")
                    self.assertTrue(math.isnan(p[0]))
                self.assertEqual(u.seen, [])
            # then the first interaction: the same Query now follows it
            ctx.feed(OLD, m.agent, {m.nps: 9})
            self.assertEqual(ctx.run(q).end_ms, minute_end(OLD))
            self.assertEqual(ctx.run(q).n, 1)

    def test_a_failing_clock_fails_the_call_as_for_now(self):
        def broken():
            raise RuntimeError("no time")
        with cxm.Context(clock=broken) as ctx:
            m = Model(ctx)
            with Unraisable() as u:
                for end in (None, "watermark"):
                    with self.assertRaisesRegex(RuntimeError, "no time"):
                        ctx.query(m.nps, "1h", end=end)
                    with self.assertRaisesRegex(RuntimeError, "no time"):
                        ctx.funnel(m.support, "1h", end=end)
                    with self.assertRaisesRegex(RuntimeError, "no time"):
                        ctx.churn_rate(m.distinct, "1h", active="1h", end=end)
            self.assertEqual(u.seen, [])

    def test_without_a_python_clock(self):
        with cxm.Context() as ctx:  # libcxm's own clock
            m = Model(ctx)
            r = ctx.query(m.nps, "1h", end="watermark")
            self.assertEqual(r.n, 0)
            ctx.feed(OLD, m.agent, {m.nps: 9})
            r = ctx.query(m.nps, "1h", end="watermark")
            self.assertEqual((r.n, r.end_ms), (1, minute_end(OLD)))
            self.assertEqual(ctx.query(m.nps, "1h").n, 0)

    def test_load_and_merge_bring_a_watermark(self):
        with make_ctx() as src:
            m = Model(src)
            src.feed(OLD, m.agent, {m.nps: 9})
            snap = src.snapshot()
        with make_ctx() as ctx:
            Model(ctx)
            q = ctx.make_query("nps", "1h", end="watermark")
            self.assertEqual(ctx.run(q).end_ms, minute_end(T0))  # nothing yet: now
            ctx.merge(snap)
            r = ctx.run(q)
            self.assertEqual((r.n, r.end_ms), (1, minute_end(OLD)))
        key = bytes(range(16))  # make_ctx()'s
        with cxm.Context.from_snapshot(snap, clock=lambda: T0, customer_key=key) as ctx:
            r = ctx.query("nps", "1h", end="watermark")
            self.assertEqual((r.n, r.end_ms), (1, minute_end(OLD)))


class Threads(unittest.TestCase):
    def test_watermark_queries_while_feeding(self):
        with make_ctx() as ctx:
            m = Model(ctx)
            q = ctx.make_query(m.nps, "1h", end="watermark")
            stop = threading.Event()
            errors = []

            def feeder():
                try:
                    for i in range(2000):
                        ctx.feed(OLD + i * 1000, m.agent, {m.nps: i % 11}, customer=f"c{i % 50}")
                        if i % 100 == 0:
                            time.sleep(0.001)  # let the readers in
                finally:
                    stop.set()

            def reader():
                try:
                    last, seen = 0, 0
                    while not stop.is_set() or seen < 5:  # some reads after the last feed
                        e = ctx.run(q).end_ms
                        f = ctx.funnel(m.support, "1h", end="watermark").end_ms
                        if e != minute_end(T0):  # before the first feed: now
                            self.assertGreaterEqual(e, last)
                            self.assertLessEqual(e, minute_end(OLD + 2000 * 1000))
                            self.assertGreaterEqual(f, e)
                            last, seen = e, seen + 1
                except Exception as exc:  # noqa: BLE001  (reported below)
                    errors.append(exc)

            with Unraisable() as u:
                threads = [threading.Thread(target=reader) for _ in range(3)]
                threads.append(threading.Thread(target=feeder))
                for t in threads:
                    t.start()
                for t in threads:
                    t.join()
            self.assertEqual(errors, [])
            self.assertEqual(u.seen, [])
            r = ctx.run(q)
            self.assertEqual((r.n, r.end_ms), (2000, minute_end(OLD + 1999 * 1000)))


class BadEnds(unittest.TestCase):
    def test_bad_ends_raise(self):
        with make_ctx() as ctx:
            m = Model(ctx)
            ctx.feed(OLD, m.agent, {m.nps: 9})
            for bad, exc in (("watermrk", ValueError), ("Watermark", ValueError),
                             (" watermark", ValueError), ("now", ValueError), ("", ValueError),
                             (b"watermark", TypeError), (1.5, TypeError), (True, TypeError),
                             (-5, cxm.OutOfRangeError)):
                with self.subTest(end=bad):
                    with self.assertRaises(exc):
                        ctx.query(m.nps, "1h", end=bad)
                    with self.assertRaises(exc):
                        ctx.run(cxm.Query(m.nps, "1h", end=bad))
                    with self.assertRaises(exc):
                        ctx.query_by(m.nps, "1h", "touchpoint", end=bad)
                    with self.assertRaises(exc):
                        ctx.funnel(m.support, "1h", end=bad)
                    with self.assertRaises(exc):
                        ctx.churn_rate(m.distinct, "1h", active="1h", end=bad)
            with self.assertRaisesRegex(ValueError, "watermark"):
                ctx.query(m.nps, "1h", end="watermrk")
            # a time given as a string still works
            self.assertEqual(ctx.query(m.nps, "1h", end="2025-11-22T12:00:00Z").end_ms,
                             minute_end(cxm.time_ms("2025-11-22T12:00:00Z")))
            # the ints libcxm reads as now and watermark are instants here (out of range)
            for i in (-(2 ** 63), -(2 ** 63) + 1):
                q = cxm.Query(m.nps, "1h", end=i)
                self.assertNotIn(q.end_ms, (None, "watermark"))
                with self.assertRaises(cxm.OutOfRangeError):
                    ctx.run(q)
                with self.assertRaises(cxm.OutOfRangeError):
                    ctx.funnel(m.support, "1h", end=i)
            # sweep() takes an instant or None, not "watermark"
            with self.assertRaises(ValueError):
                ctx.sweep("watermark")


if __name__ == "__main__":
    unittest.main()
