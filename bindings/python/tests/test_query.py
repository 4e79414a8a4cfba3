"""Queries, results, comparisons, statistics."""
import math
import unittest
from datetime import datetime, timedelta

import cxm
from support import HOUR, MIN, T0, Model, make_ctx


class Queries(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.ctx = make_ctx()
        m = cls.m = Model(cls.ctx)
        ctx = cls.ctx
        # 100 answers: 0..10 cycling, at the agent (gold) and the ivr (silver)
        for i in range(100):
            tp, seg = (m.agent, "gold") if i % 2 else (m.ivr, "silver")
            ctx.feed(T0 - (i % 60) * MIN, tp, {m.nps: i % 11, m.aht: 60.0 + i, m.resolved: i % 4 != 0,
                                               m.csat: 1 + i % 5, m.ces: 1 + i % 7,
                                               m.cxi: (1 + i % 10, 10 - i % 10, 5)},
                     customer=f"c{i % 25}", segments={m.tier: seg})
        ctx.feed(T0, m.web, {m.revenue: 12.5})

    @classmethod
    def tearDownClass(cls):
        cls.ctx.close()

    def test_scopes(self):
        ctx, m = self.ctx, self.m
        self.assertEqual(ctx.query(m.nps, "2h").n, 100)
        self.assertEqual(ctx.query(m.nps, "2h", touchpoint=m.agent).n, 50)
        self.assertEqual(ctx.query(m.nps, "2h", touchpoint="ivr").n, 50)
        self.assertEqual(ctx.query(m.nps, "2h", journey=m.support).n, 100)
        self.assertEqual(ctx.query(m.nps, "2h", journey="support", step="resolution").n, 50)
        self.assertEqual(ctx.query(m.nps, "2h", journey=m.support, step=0).n, 50)
        self.assertEqual(ctx.query(m.nps, "2h", channel="phone").n, 100)
        self.assertEqual(ctx.query(m.nps, "2h", channel=cxm.Channel.WEB).n, 0)
        self.assertEqual(ctx.query(m.nps, "2h", segment=m.gold).n, 50)
        self.assertEqual(ctx.query("nps", "2h", segment=("tier", "silver"), touchpoint=m.ivr).n, 50)
        self.assertEqual(ctx.query(m.nps, timedelta(minutes=10)).n, 20)  # minutes 0-9 back, twice each
        self.assertEqual(ctx.query(m.nps, 2 * HOUR, end=T0).n, 100)
        self.assertEqual(ctx.query(m.nps, "1h", end=cxm.from_ms(T0 - HOUR)).n, 0)
        with self.assertRaises(TypeError):
            ctx.query(m.nps, "1h", touchpoint=m.agent, journey=m.support)
        with self.assertRaises(TypeError):
            ctx.query(m.nps, "1h", step=1)
        with self.assertRaises(cxm.UnknownIdError):
            ctx.query(m.nps, "1h", segment=("tier", "platinum"))
        with self.assertRaises(cxm.UnknownIdError):
            ctx.query(m.nps, "1h", touchpoint=40)
        with self.assertRaises(cxm.UnknownIdError):
            ctx.query(99, "1h")
        with self.assertRaises(cxm.UnknownIdError):
            ctx.query(m.nps, "1h", channel=0)
        with self.assertRaises(cxm.OutOfRangeError):
            ctx.query(m.nps, 0)
        with self.assertRaises(cxm.OutOfRangeError):
            ctx.query(m.nps, "1h", end=-5)
        with self.assertRaises(cxm.InvalidArgumentError):
            ctx.run(cxm._cxm.Query(0, 1000, None, 9))

    def test_result_object(self):
        ctx, m = self.ctx, self.m
        r = ctx.query(m.nps, "2h", touchpoint=m.agent)
        self.assertEqual((r.kind, r.headline, r.n), ("score", "net", 50))
        self.assertAlmostEqual(r.value, 100 * (r.top - r.bottom) / r.n)
        self.assertEqual(r.ci, (r.ci_low, r.ci_high))
        self.assertLess(r.ci_low, r.value)
        self.assertEqual(r.start, cxm.from_ms(r.start_ms))
        self.assertEqual(r.end_ms - r.start_ms, 2 * HOUR)
        self.assertFalse(r.low_sample or r.empty or r.clamped or r.truncated)
        d = r._asdict()
        self.assertEqual(tuple(d), r._fields)
        self.assertEqual(d["n"], 50)
        self.assertEqual(d["kind"], "score")
        self.assertTrue(repr(r).startswith("Result(kind='score', headline='net', value="))
        with self.assertRaises(AttributeError):
            r.value = 1
        with self.assertRaises(AttributeError):
            r.anything = 1
        with self.assertRaises(TypeError):
            cxm.Result()
        with self.assertRaises(TypeError):
            type(r)()

    def test_kinds(self):
        ctx, m = self.ctx, self.m
        aht = ctx.query(m.aht, "2h")
        self.assertEqual((aht.kind, aht.headline, aht.n, aht.min, aht.max), ("duration", "mean", 100, 60, 159))
        self.assertTrue(aht.p50 <= aht.p90 <= aht.p99)
        self.assertEqual(aht.quantile_end_ms - aht.quantile_start_ms >= HOUR, True)
        res = ctx.query(m.resolved, "2h")
        self.assertEqual((res.headline, res.value), ("share", 75.0))
        csat = ctx.query(m.csat, "2h")
        self.assertEqual((csat.headline, csat.value), ("top_box", 40.0))
        ces = ctx.query(m.ces, "2h")
        self.assertEqual(ces.headline, "mean")
        cxi = ctx.query(m.cxi, "2h")
        self.assertEqual((cxi.kind, cxi.questions, len(cxi.item_net), cxi.item_n), ("index", 3, 3, (100, 100, 100)))
        rev = ctx.query(m.revenue, "2h")
        self.assertEqual((rev.headline, rev.value, rev.n), ("sum", 12.5, 1))
        self.assertTrue(rev.low_sample)
        self.assertTrue(math.isnan(rev.ci_low))
        vol = ctx.query(m.volume, "2h")
        self.assertEqual((vol.headline, vol.value), ("count", 101))
        dist = ctx.query(m.distinct, "2h")
        self.assertAlmostEqual(dist.value, 25, delta=2)
        empty = ctx.query(m.nps, "2h", touchpoint=m.web)
        self.assertTrue(empty.empty and empty.low_sample)
        self.assertTrue(math.isnan(empty.value))
        self.assertEqual(empty.flags & cxm.RESULT_EMPTY, cxm.RESULT_EMPTY)
        old = ctx.query(m.nps, "1000d")
        self.assertTrue(old.truncated)

    def test_query_objects(self):
        ctx, m = self.ctx, self.m
        q = cxm.Query(m.nps, "2h", touchpoint=m.agent, end=T0)
        self.assertEqual((q.metric, q.scope, q.id, q.span_ms, q.end_ms), (0, cxm.Scope.TOUCHPOINT, 2, 2 * HOUR, T0))
        self.assertEqual((q.step, q.segment, q.segment_value), (None, None, 0))
        self.assertEqual(repr(q), f"Query(metric=0, span_ms=7200000, end_ms={T0}, scope=touchpoint, id=2)")
        self.assertEqual(ctx.run(q).n, 50)
        q2 = q.replace(window="30m")
        self.assertEqual((q2.span_ms, q2.end_ms, q2.id), (30 * MIN, T0, 2))
        self.assertIsInstance(q2, cxm.Query)
        self.assertIsNone(q.replace(end=None).end_ms)
        qs = cxm.Query(m.nps, "1h", journey=m.support, step=1, segment=(m.tier, m.gold))
        self.assertEqual((qs.scope, qs.step, qs.segment, qs.segment_value), (cxm.Scope.STEP, 1, 0, 0))
        self.assertIn("step=1", repr(qs))
        self.assertEqual(cxm.Query(m.nps, "1h", channel="chat").id, cxm.Channel.CHAT)
        mq = ctx.make_query("aht", "1h", touchpoint="agent call", segment=("tier", "gold"))
        self.assertIsInstance(mq, cxm.Query)
        with self.assertRaises(AttributeError):
            q.metric = 3
        with self.assertRaises(TypeError):
            ctx.run(42)
        with self.assertRaises(TypeError):
            cxm.Query(m.nps)
        with self.assertRaises(TypeError):
            cxm.Query(m.nps, 1.5)
        # never "now" or "watermark" (CXM_NOW, CXM_WATERMARK): an instant libcxm refuses
        self.assertEqual(cxm.Query(m.nps, 1000, end=-(2 ** 63)).end_ms, -(2 ** 63) + 2)
        self.assertEqual(cxm.Query(m.nps, 1000, end=-(2 ** 63) + 1).end_ms, -(2 ** 63) + 2)

    def test_quantiles_and_distribution(self):
        ctx, m = self.ctx, self.m
        p = ctx.quantiles(m.aht, [0, 0.5, 1], "2h")
        self.assertEqual(p[0], 60)
        self.assertEqual(p[2], 159)
        self.assertLess(abs(p[1] - 109) / 109, 0.011)
        q = ctx.make_query(m.aht, "2h", touchpoint=m.agent)
        self.assertEqual(len(ctx.quantiles(q, [0.9])), 1)
        with self.assertRaises(cxm.KindError):
            ctx.quantiles(m.nps, [0.5], "2h")
        with self.assertRaises(cxm.OutOfRangeError):
            ctx.quantiles(m.aht, [1.5], "2h")
        with self.assertRaises(cxm.NotFiniteError):
            ctx.quantiles(m.aht, [math.nan], "2h")
        with self.assertRaises(cxm.InvalidArgumentError):
            ctx.quantiles(m.aht, [], "2h")
        with self.assertRaises(cxm.InvalidArgumentError):
            ctx.quantiles(m.aht, [0.5] * 65, "2h")
        with self.assertRaises(TypeError):
            ctx.quantiles(q, [0.5], "2h")
        with self.assertRaises(TypeError):
            ctx.quantiles(m.aht, [0.5])
        d = ctx.distribution(m.nps, "2h")
        self.assertEqual(sorted(d), list(range(11)))
        self.assertEqual(sum(d.values()), 100)
        self.assertEqual(min(ctx.distribution(m.csat, "2h")), 1)
        dq = ctx.distribution(ctx.make_query(m.cxi, "2h"), item=2)
        self.assertEqual(dq[5], 100)
        with self.assertRaises(cxm.OutOfRangeError):
            ctx.distribution(m.cxi, "2h", item=3)
        with self.assertRaises(cxm.KindError):
            ctx.distribution(m.aht, "2h")

    def test_compare(self):
        ctx, m = self.ctx, self.m
        a = ctx.make_query(m.nps, "2h", segment=("tier", "gold"))
        b = ctx.make_query(m.nps, "2h", segment=("tier", "silver"))
        c = ctx.compare(a, b)
        ra, rb = ctx.run(a), ctx.run(b)
        self.assertEqual((c.a, c.b, c.n_a, c.n_b), (ra.value, rb.value, 50, 50))
        self.assertAlmostEqual(c.difference, rb.value - ra.value)
        self.assertTrue(0 <= c.p_value <= 1)
        self.assertEqual(c.headline, "net")
        self.assertEqual(set(c._asdict()), set(c._fields))
        self.assertTrue(repr(c).startswith("Comparison(headline='net'"))
        with self.assertRaises(cxm.InvalidArgumentError):
            ctx.compare(a, ctx.make_query(m.csat, "2h"))
        with self.assertRaises(cxm.KindError):
            ctx.compare(ctx.make_query(m.revenue, "2h"), ctx.make_query(m.revenue, "2h"))
        with self.assertRaises(TypeError):
            ctx.compare(a)

    def test_stats(self):
        s = self.ctx.stats()
        self.assertEqual(s.accepted, 101)
        self.assertEqual(s.watermark_ms, T0)
        self.assertGreater(s.series, 0)
        self.assertEqual(s.customers, 25)
        self.assertEqual(s.rejected, {})
        self.assertIn("accepted=101", repr(s))
        self.assertEqual(s._asdict()["accepted"], 101)
        with make_ctx() as ctx:
            tp = ctx.touchpoint("t")
            for _ in range(3):
                with self.assertRaises(cxm.TooEarlyError):
                    ctx.feed(T0 + HOUR, tp)
            self.assertEqual(ctx.stats().rejected, {cxm.Status.TOO_EARLY: 3})
            self.assertEqual(ctx.stats().watermark_ms, -1)



DAY = 24 * HOUR


def journey_ctx(**config):
    """20 customers begin "support" at the ivr 100 min before T0 (even ones
    gold), the first 10 reach the agent 5 min later."""
    ctx = make_ctx(**config)
    m = Model(ctx)
    for i in range(20):
        ctx.feed(T0 - 100 * MIN + i * 1000, m.ivr, customer=f"c{i}",
                 segments={m.tier: "gold" if i % 2 == 0 else "silver"})
    for i in range(10):
        ctx.feed(T0 - 95 * MIN + i * 1000, m.agent, customer=f"c{i}",
                 segments={m.tier: "gold" if i % 2 == 0 else "silver"})
    return ctx, m


def close_to(a, b, rel):
    return abs(a - b) <= rel * abs(b)


class Funnels(unittest.TestCase):
    def setUp(self):
        self.ctx, self.m = journey_ctx()

    def tearDown(self):
        self.ctx.close()

    def test_funnel_counts_steps_and_times(self):
        ctx, m = self.ctx, self.m
        f = ctx.funnel(m.support, "2h")
        self.assertIsInstance(f, cxm.Funnel)
        self.assertEqual((f.entered, f.completed, f.n_steps), (20, 10, 2))
        self.assertEqual(f.conversion, 0.5)
        self.assertEqual((f.abandoned, f.expired, f.broken, f.displaced, f.repeats), (0, 0, 0, 0, 0))
        self.assertEqual(f.goal_n, 10)
        self.assertTrue(close_to(f.goal_p50, 300.0, 0.05), f.goal_p50)
        self.assertEqual(f.goal_mean, 300.0)
        self.assertFalse(f.empty)
        self.assertTrue(f.low_sample)  # 20 entered < the default min_samples (30)
        self.assertEqual(f.end_ms - f.start_ms, 2 * HOUR)
        self.assertEqual(f.end, cxm.from_ms(f.end_ms))
        s0, s1 = f.steps
        self.assertIsInstance(s0, cxm.FunnelStep)
        self.assertEqual((s0.index, s0.reached, s0.conversion), (0, 20, 1.0))
        self.assertEqual((s1.index, s1.reached, s1.step_conversion, s1.drop_off), (1, 10, 0.5, 0.5))
        self.assertEqual(s0.next_n, 10)
        self.assertTrue(math.isnan(s1.next_p50))
        # names, datetimes and timedeltas as elsewhere
        same = ctx.funnel("support", timedelta(hours=2), end=cxm.from_ms(T0))
        self.assertEqual(same.entered, 20)
        self.assertEqual(ctx.funnel(m.support, 2 * HOUR, end=T0).steps[1].reached, 10)

    def test_funnel_is_an_immutable_record(self):
        f = self.ctx.funnel(self.m.support, "2h")
        with self.assertRaises(AttributeError):
            f.entered = 3
        with self.assertRaises(AttributeError):
            f.steps[0].reached = 3
        d = f._asdict()
        self.assertEqual(d["entered"], 20)
        self.assertEqual([s.reached for s in d["steps"]], [20, 10])
        self.assertEqual(f.steps[1]._asdict()["drop_off"], 0.5)
        self.assertIn("entered", cxm.Funnel._fields)
        self.assertIn("drop_off", cxm.FunnelStep._fields)
        self.assertTrue(repr(f).startswith("Funnel(entered=20, completed=10"))
        self.assertTrue(repr(f.steps[0]).startswith("FunnelStep(index=0, reached=20"))
        with self.assertRaises(TypeError):
            cxm.Funnel()

    def test_breakdowns(self):
        ctx, m = self.ctx, self.m
        self.assertEqual(ctx.funnel(m.support, "2h", segment=m.gold).entered, 10)
        self.assertEqual(ctx.funnel(m.support, "2h", segment=("tier", "gold")).completed, 5)
        self.assertEqual(ctx.funnel(m.support, "2h", channel="phone").entered, 20)
        empty = ctx.funnel(m.support, "2h", channel=cxm.Channel.CHAT)
        self.assertEqual(empty.entered, 0)
        self.assertTrue(empty.empty)
        self.assertTrue(math.isnan(empty.conversion))

    def test_funnel_errors(self):
        ctx, m = self.ctx, self.m
        with self.assertRaises(cxm.UnknownIdError):
            ctx.funnel("nope", "2h")
        with self.assertRaises(cxm.UnknownIdError):
            ctx.funnel(99, "2h")
        with self.assertRaises(cxm.OutOfRangeError):
            ctx.funnel(m.support, 0)
        with self.assertRaises(cxm.OutOfRangeError):
            ctx.funnel(m.support, "1h", end=-5)
        with self.assertRaises(cxm.InvalidArgumentError):
            ctx.funnel(m.support, "2h", segment=m.gold, channel="phone")
        with self.assertRaises(cxm.InvalidArgumentError):
            ctx.funnel(m.support, "2h", channel=99)
        with self.assertRaises(cxm.InvalidArgumentError):
            ctx.funnel(m.support, "2h", channel="pigeon")
        with self.assertRaisesRegex(cxm.InvalidArgumentError, "channel 0"):
            ctx.funnel(m.support, "2h", channel=0)  # was "no breakdown": the filter dropped
        with self.assertRaises(TypeError):
            ctx.funnel(m.support, "2h", channel=2.0)
        with self.assertRaises(cxm.UnknownIdError):
            ctx.funnel(m.support, "2h", segment=("tier", "platinum"))
        with self.assertRaises(cxm.UnknownIdError):
            ctx.funnel(m.support, "2h", segment=(m.tier, 3))
        with self.assertRaises(ValueError):
            ctx.funnel(m.support, "2h", end=datetime(2026, 1, 1))  # naive
        with self.assertRaises(TypeError):
            ctx.funnel(m.support, 1.5)

    def test_funnel_quantiles(self):
        ctx, m = self.ctx, self.m
        goal = ctx.funnel_quantiles(m.support, "2h", [0.5, 0.9])
        self.assertEqual(len(goal), 2)
        self.assertTrue(all(close_to(v, 300.0, 0.05) for v in goal), goal)
        self.assertEqual(ctx.funnel_quantiles("support", "2h", (0.5,), step="contact"),
                         ctx.funnel_quantiles(m.support, "2h", (0.5,), step=0))
        none = ctx.funnel_quantiles(m.support, "2h", [0.5], channel="chat")
        self.assertTrue(math.isnan(none[0]))
        with self.assertRaises(cxm.OutOfRangeError):
            ctx.funnel_quantiles(m.support, "2h", [0.5], step="resolution")  # the last step
        with self.assertRaises(cxm.UnknownIdError):
            ctx.funnel_quantiles(m.support, "2h", [0.5], step=5)
        with self.assertRaises(cxm.OutOfRangeError):
            ctx.funnel_quantiles(m.support, "2h", [1.5])
        with self.assertRaises(cxm.NotFiniteError):
            ctx.funnel_quantiles(m.support, "2h", [float("nan")])
        with self.assertRaises(cxm.InvalidArgumentError):
            ctx.funnel_quantiles(m.support, "2h", [])
        with self.assertRaises(cxm.InvalidArgumentError):
            ctx.funnel_quantiles(m.support, "2h", [0.5] * 65)
        with self.assertRaises(TypeError):
            ctx.funnel_quantiles(m.support, "2h", ["x"])

    def test_sweep_counts_abandonment(self):
        ctx, m = self.ctx, self.m
        ctx.set_journey_options(m.support, abandon="1d")  # the default waits the window out
        self.assertEqual(ctx.sweep(), 0)  # nothing is overdue yet
        ctx.test_clock.now = T0 + 2 * DAY
        self.assertEqual(ctx.sweep(), 10)  # the 10 who never reached the agent
        self.assertEqual(ctx.sweep(cxm.from_ms(T0 + 2 * DAY)), 0)
        self.assertEqual(ctx.funnel(m.support, "3d").abandoned, 10)
        with self.assertRaises(cxm.OutOfRangeError):
            ctx.sweep(-5)
        with self.assertRaises(ValueError):
            ctx.sweep("yesterday")


class JourneyOptionsTests(unittest.TestCase):
    def test_defaults_set_and_get(self):
        with make_ctx() as ctx:
            m = Model(ctx)
            o = ctx.journey_options(m.support)
            # abandonment defaults to the conversion window
            self.assertEqual(o, cxm.JourneyOptions(timedelta(days=7), timedelta(days=7),
                                                   timedelta(hours=2), timedelta(days=7)))
            self.assertEqual(o.flags, 0)
            ctx.set_journey_options(m.support, strict=True, conversion="2d", abandon=HOUR)
            o = ctx.journey_options("support")
            self.assertTrue(o.strict)
            self.assertFalse(o.restart)
            self.assertEqual((o.conversion, o.abandon), (timedelta(days=2), timedelta(hours=1)))
            self.assertEqual(o.repeat, timedelta(days=7))  # not given: the default again
            ctx.set_journey_options(m.support, conversion="90d")
            o = ctx.journey_options(m.support)
            self.assertEqual((o.conversion, o.abandon), (timedelta(days=90), timedelta(days=90)))
            opts = cxm.JourneyOptions(restart=True, window_exclusive=True, lateness="10m")
            ctx.set_journey_options(m.support, opts)
            got = ctx.journey_options(m.support)
            self.assertEqual((got.restart, got.window_exclusive, got.strict), (True, True, False))
            self.assertEqual(got.lateness, timedelta(minutes=10))
            self.assertEqual(got.flags, cxm._cxm.JOURNEY_RESTART | cxm._cxm.JOURNEY_WINDOW_EXCLUSIVE)
            ctx.set_journey_options(m.support, got, equal_times_hold=True)
            self.assertTrue(ctx.journey_options(m.support).equal_times_hold)
            self.assertEqual(got.replace(strict=True)._asdict()["strict"], True)

    def test_count_repeats_changes_the_funnel(self):
        counts = []
        for repeats in (False, True):
            with make_ctx() as ctx:
                m = Model(ctx)
                ctx.set_journey_options(m.support, count_repeats=repeats)
                for k in range(3):
                    ctx.feed(T0 - 30 * MIN + k * MIN, m.ivr, customer="c1")
                counts.append(ctx.funnel(m.support, "1h").steps[0].reached)
        self.assertEqual(counts, [1, 3])

    def test_windowfunnel_modes(self):
        # strict_order: a contact on the web (no journey) ends the instance
        # begun on the ivr; strict_dedup: a second ivr contact... is step 0,
        # let be, while a repeated agent call would end it
        results = {}
        for name, opts in (("default", {}), ("strict_order", {"strict_order": True}),
                           ("reentry", {"strict_order": True, "allow_reentry": True})):
            with make_ctx() as ctx:
                m = Model(ctx)
                ctx.set_journey_options(m.support, **opts)
                o = ctx.journey_options(m.support)
                self.assertEqual((o.strict_order, o.allow_reentry),
                                 (opts.get("strict_order", False), opts.get("allow_reentry", False)))
                ctx.feed(T0 - 30 * MIN, m.ivr, customer="c1")
                ctx.feed(T0 - 20 * MIN, m.web, customer="c1")
                ctx.feed(T0 - 10 * MIN, m.agent, customer="c1")
                f = ctx.funnel(m.support, "1h")
                results[name] = (f.completed, f.broken)
        self.assertEqual(results, {"default": (1, 0), "strict_order": (0, 1), "reentry": (0, 1)})
        with make_ctx() as ctx:
            m = Model(ctx)
            ctx.set_journey_options(m.support, strict_dedup=True)
            for k in range(2):
                ctx.feed(T0 - 30 * MIN + k * MIN, m.ivr, customer="c1")
            self.assertEqual(ctx.funnel(m.support, "1h").broken, 0)  # step 0 again: let be
            with self.assertRaises(cxm.InvalidArgumentError):
                ctx.set_journey_options(m.support, allow_reentry=True)  # needs strict_order
            with self.assertRaises(cxm.InvalidArgumentError):
                ctx.set_journey_options(m.support, strict_dedup=True, count_repeats=True)
            self.assertTrue(ctx.journey_options(m.support).strict_dedup)

    def test_option_errors(self):
        with make_ctx() as ctx:
            m = Model(ctx)
            with self.assertRaises(cxm.OutOfRangeError):
                ctx.set_journey_options(m.support, conversion="10ms")
            with self.assertRaises(cxm.OutOfRangeError):
                ctx.set_journey_options(m.support, abandon="401d")
            with self.assertRaises(cxm.OutOfRangeError):
                ctx.set_journey_options(m.support, repeat=timedelta(seconds=-1))
            with self.assertRaises(cxm.UnknownIdError):
                ctx.set_journey_options(7, strict=True)
            with self.assertRaises(cxm.UnknownIdError):
                ctx.journey_options("nope")
            with self.assertRaises(TypeError):
                ctx.set_journey_options(m.support, sloppy=True)
            with self.assertRaises(ValueError):
                ctx.set_journey_options(m.support, conversion="soon")
            # a failed call changed nothing
            self.assertEqual(ctx.journey_options(m.support), cxm.JourneyOptions(
                timedelta(days=7), timedelta(days=7), timedelta(hours=2), timedelta(days=7)))


class Churn(unittest.TestCase):
    def test_churn_and_rate(self):
        ctx, m = journey_ctx()
        with ctx:
            ctx.churn("c1", T0 - 10 * MIN)
            ctx.churn(b"c2", cxm.from_ms(T0 - 5 * MIN))
            ctx.churn("never seen", T0 - MIN)  # added to the table, marked churned
            r = ctx.churn_rate(m.distinct, "1h", active="2h")
            self.assertIsInstance(r, cxm.Churn)
            self.assertEqual(r.churned, 3)
            self.assertTrue(close_to(r.active, 20.0, 0.05), r.active)
            self.assertAlmostEqual(r.rate, r.churned / r.active)
            self.assertEqual(r.end_ms - r.start_ms, HOUR)  # ends at the end of now's bucket
            self.assertEqual(r.start, cxm.from_ms(r.start_ms))
            self.assertGreaterEqual(r.active_end_ms - r.active_start_ms, 2 * HOUR)
            self.assertFalse(r.empty)
            self.assertEqual(r._asdict()["churned"], 3)
            self.assertTrue(repr(r).startswith("Churn(rate="))
            with self.assertRaises(AttributeError):
                r.churned = 0
            quiet = ctx.churn_rate("customers", "1h", active="1h", end=T0 - 10 * HOUR)
            self.assertTrue(quiet.empty)
            self.assertTrue(math.isnan(quiet.rate))

    def test_churn_errors(self):
        ctx, m = journey_ctx()
        with ctx:
            ctx.churn("c1", T0)
            with self.assertRaises(cxm.ExistsError):
                ctx.churn("c1", T0)  # not seen since
            ctx.feed(T0, m.web, customer="c1")
            ctx.churn("c1", T0)  # seen again: may churn again
            with self.assertRaises(cxm.InvalidArgumentError):
                ctx.churn("", T0)
            with self.assertRaises(TypeError):
                ctx.churn(None, T0)
            with self.assertRaises(cxm.TooLongError):
                ctx.churn("x" * 100_000, T0)
            with self.assertRaises(cxm.TooEarlyError):
                ctx.churn("c3", T0 + DAY)
            with self.assertRaises(cxm.TooLateError):
                ctx.churn("c4", T0 - 30 * DAY)
            with self.assertRaises(cxm.OutOfRangeError):
                ctx.churn("c4", -1)
            with self.assertRaises(cxm.KindError):
                ctx.churn_rate(m.nps, "1h", active="1h")
            with self.assertRaises(cxm.UnknownIdError):
                ctx.churn_rate(99, "1h", active="1h")
            with self.assertRaises(cxm.OutOfRangeError):
                ctx.churn_rate(m.distinct, 0, active="1h")
            with self.assertRaises(cxm.OutOfRangeError):
                ctx.churn_rate(m.distinct, "1h", active=0)
            with self.assertRaises(TypeError):
                ctx.churn_rate(m.distinct, "1h")  # active is required


if __name__ == "__main__":
    unittest.main()
