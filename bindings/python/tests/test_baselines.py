"""Named baselines: ctx.baseline(), ctx.compare_baseline() on the weeks of
tests/test_baselines.c (NPS 0 the week before last, 50 the last week)."""
import math
import unittest

import cxm
from support import HOUR, T0, make_ctx

DAY, WEEK = 24 * HOUR, 7 * 24 * HOUR


class Baselines(unittest.TestCase):
    def setUp(self):
        self.ctx = make_ctx(tiers=[("1m", 120), ("1h", 24 * 30)])
        self.nps = self.ctx.metric("nps", "nps")
        self.tp = self.ctx.touchpoint("agent", "phone")
        for i in range(40):  # in time order: the watermark moves with them
            self.ctx.feed(T0 - 2 * WEEK + HOUR + i * HOUR, self.tp, {self.nps: 9 if i < 20 else 0})
        for i in range(40):
            self.ctx.feed(T0 - WEEK + HOUR + i * HOUR, self.tp, {self.nps: 9 if i < 30 else 0})

    def tearDown(self):
        self.ctx.close()

    def test_kinds(self):
        ctx = self.ctx
        wk = ctx.baseline("last week", offset="7d")
        ctx.baseline("week 47", period=(T0 - 2 * WEEK, T0 - WEEK))
        ctx.baseline("benchmark", target=40, metric="nps")
        c = ctx.compare_baseline("nps", "7d", wk, end=T0 - 1)
        self.assertAlmostEqual(c.a, 0, places=9)
        self.assertAlmostEqual(c.b, 50, places=9)
        self.assertLess(c.p_value, 0.05)
        self.assertEqual(ctx.compare_baseline("nps", "7d", "week 47", end=T0 - 1).difference,
                         c.difference)
        t = ctx.compare_baseline("nps", "7d", "benchmark", end=T0 - 1)
        se = 100 * math.sqrt(0.75 / 40)
        self.assertEqual((t.a, t.n_a, t.n_b), (40, 0, 40))
        self.assertAlmostEqual(t.difference, 10, places=9)
        self.assertAlmostEqual(t.p_value, math.erfc(10 / se / math.sqrt(2)), places=12)
        b = ctx.baseline_def("benchmark")
        self.assertEqual((b.kind, b.metric, b.target, b.name), (cxm.BaselineKind.TARGET, int(self.nps),
                                                                40.0, "benchmark"))
        self.assertEqual(ctx.baseline_def(wk).offset_ms, WEEK)

    def test_errors(self):
        ctx = self.ctx
        with self.assertRaises(TypeError):
            ctx.baseline("x")
        with self.assertRaises(TypeError):
            ctx.baseline("x", offset="7d", target=3, metric="nps")
        with self.assertRaises(TypeError):
            ctx.baseline("x", target=3)
        with self.assertRaises(cxm.OutOfRangeError):
            ctx.baseline("x", period=(T0, T0))
        with self.assertRaises(cxm.NotFiniteError):
            ctx.baseline("x", target=float("nan"), metric="nps")
        ctx.baseline("x", offset="1d")
        with self.assertRaises(cxm.ExistsError):
            ctx.baseline("x", offset="2d")
        with self.assertRaises(cxm.UnknownIdError):
            ctx.compare_baseline("nps", "1d", "nope")
        with self.assertRaises(cxm.UnknownIdError):
            ctx.baseline_def(9)


if __name__ == "__main__":
    unittest.main()
