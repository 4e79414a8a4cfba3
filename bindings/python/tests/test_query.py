"""Queries, results, comparisons, statistics."""
import math
import unittest
from datetime import timedelta

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
        self.assertEqual(cxm.Query(m.nps, 1000, end=-(2 ** 63)).end_ms, -(2 ** 63) + 1)  # never "now"

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


if __name__ == "__main__":
    unittest.main()
