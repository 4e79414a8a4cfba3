"""Key drivers: ctx.drivers(), ctx.key_drivers() on the planted effects of
tests/test_drivers.c (seeded with Python's random), against a plain
recomputation; revenue by NPS band through the overall driver; the window;
snapshots and merges; bad arguments."""
import math
import os
import random
import tempfile
import unittest
from datetime import timedelta

import cxm
from support import HOUR, MIN, T0, make_ctx

DAY = 24 * HOUR
N_TP = 5
SET = "csat drivers of nps"


def make_fx(now=T0 + 30 * DAY):
    """A context with touchpoints tp0..tp4, survey and shop, and the
    metrics csat (CSAT5), nps (NPS) and revenue (AMOUNT)."""
    ctx = make_ctx(now)
    tps = [ctx.touchpoint(f"tp{i}", "phone") for i in range(N_TP)]
    ctx.touchpoint("survey", "email")
    ctx.touchpoint("shop", "web")
    ctx.metric("csat", "csat5")
    ctx.metric("nps", "nps")
    ctx.metric("revenue", "amount")
    return ctx, tps


def define_set(ctx, tps):
    return ctx.drivers(SET, outcome="nps", driver="csat", touchpoints=tps, window="7d")


def feed_planted(ctx, seed, first, n):
    """NPS = clamp(round(6 + 1.0 (csat0 - 3) + 0.5 (csat1 - 3) + noise)):
    customer c visits tp0..tp4 a minute apart, 10 minutes after customer
    c - 1, and answers at the survey 6 minutes after its first visit.
    Returns [(x0..x4, y)]."""
    rng = random.Random(seed)
    pairs = []
    for c in range(first, first + n):
        t = T0 + c * 10 * MIN
        cust = f"customer-{c}"
        xs = [rng.randint(1, 5) for _ in range(N_TP)]
        for i, x in enumerate(xs):
            ctx.feed(t + i * MIN, f"tp{i}", {"csat": x}, customer=cust)
        y = round(6 + 1.0 * (xs[0] - 3) + 0.5 * (xs[1] - 3) + rng.gauss(0, 1.2))
        y = min(10, max(0, y))
        ctx.feed(t + 6 * MIN, "survey", {"nps": y}, customer=cust)
        pairs.append((xs, y))
    return pairs


def mean(v):
    return sum(v) / len(v)


def pearson(xs, ys):
    mx, my = mean(xs), mean(ys)
    sxx = sum((x - mx) ** 2 for x in xs)
    syy = sum((y - my) ** 2 for y in ys)
    sxy = sum((x - mx) * (y - my) for x, y in zip(xs, ys))
    return sxy / math.sqrt(sxx * syy)


def same(a, b):
    """Equal, NaN equal to NaN (named tuples of floats, nested)."""
    if isinstance(a, float) and isinstance(b, float):
        return a == b or (math.isnan(a) and math.isnan(b))
    if isinstance(a, (tuple, list)) and isinstance(b, (tuple, list)):
        return len(a) == len(b) and all(same(x, y) for x, y in zip(a, b))
    return a == b


class Planted(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.ctx, cls.tps = make_fx()
        cls.set = define_set(cls.ctx, cls.tps)
        cls.pairs = feed_planted(cls.ctx, 42, 0, 600)
        cls.res = cls.ctx.key_drivers(SET)

    @classmethod
    def tearDownClass(cls):
        cls.ctx.close()

    def test_summary(self):
        res = self.res
        self.assertIsInstance(res, cxm.DriversResult)
        self.assertEqual((res.n_drivers, res.outcomes, res.paired, res.customers, res.unremembered),
                         (N_TP, 600, 600, 600, 0))
        self.assertGreater(res.memory_bytes, 0)
        self.assertEqual(len(res.drivers), N_TP)
        self.assertEqual(self.set, 0)
        self.assertEqual(self.ctx.drivers_find(SET), self.set)
        self.assertTrue(same(self.ctx.key_drivers(self.set), res))  # by id as by name

    def test_against_a_plain_recomputation(self):
        ys = [y for _, y in self.pairs]
        for i, d in enumerate(self.res.drivers):
            xs = [x[i] for x, _ in self.pairs]
            self.assertIsInstance(d, cxm.Driver)
            self.assertEqual((d.touchpoint, d.touchpoint_name, d.n),
                             (int(self.tps[i]), f"tp{i}", 600))
            self.assertAlmostEqual(d.importance, pearson(xs, ys), delta=1e-9)
            self.assertLess(d.ci_low, d.importance)
            self.assertLess(d.importance, d.ci_high)
            self.assertAlmostEqual(d.performance, mean(xs), delta=1e-9)
            self.assertAlmostEqual(d.outcome_mean, mean(ys), delta=1e-9)
            self.assertIsInstance(d.significant, bool)
            self.assertIsInstance(d.quadrant, cxm.Quadrant)

    def test_planted_drivers_rank_first(self):
        ds = self.res.drivers
        ranked = sorted(ds, key=lambda d: abs(d.importance), reverse=True)
        self.assertEqual([d.touchpoint_name for d in ranked[:2]], ["tp0", "tp1"])
        self.assertGreater(ds[0].importance, ds[1].importance)
        self.assertTrue(ds[0].significant and ds[1].significant)
        self.assertLess(ds[0].p_value, 1e-20)
        self.assertIn(ds[0].quadrant, (cxm.Quadrant.STRENGTH, cxm.Quadrant.PRIORITY))
        for d in ds[2:]:
            self.assertLess(abs(d.importance), 0.1)
            self.assertGreater(ds[1].importance, abs(d.importance))

    def test_bands_are_the_hand_grouped_means(self):
        # CSAT5's boxes: 1-2 bottom, 3 middle, 4-5 top
        for i, d in enumerate(self.res.drivers):
            groups = ([], [], [])
            for x, y in self.pairs:
                groups[0 if x[i] <= 2 else 2 if x[i] >= 4 else 1].append(y)
            self.assertIsInstance(d.bands, tuple)
            self.assertEqual(len(d.bands), 3)
            for band, ys in zip(d.bands, groups):
                self.assertIsInstance(band, cxm.Band)
                self.assertEqual(band.n, len(ys))
                self.assertAlmostEqual(band.mean, mean(ys), delta=1e-9)
                self.assertLess(band.ci_low, band.mean)
                self.assertLess(band.mean, band.ci_high)
            self.assertAlmostEqual(d.band_difference, mean(groups[2]) - mean(groups[0]), delta=1e-9)
            self.assertLess(d.band_ci_low, d.band_difference)
            self.assertLess(d.band_difference, d.band_ci_high)
        self.assertLess(self.res.drivers[0].band_p_value, 1e-10)


class Overall(unittest.TestCase):
    def setUp(self):
        self.ctx, self.tps = make_fx()

    def tearDown(self):
        self.ctx.close()

    def test_revenue_by_nps_band(self):
        # detractors 50 and 70, passives 80, promoters 90, 110, 100
        ctx = self.ctx
        s = ctx.drivers("revenue by nps", outcome="revenue", driver="nps", overall=True)
        nps = [3, 6, 8, 9, 10, 9]
        rev = [50, 70, 80, 90, 110, 100]
        for c in range(6):  # the answers on any touchpoint; revenue a day later
            ctx.feed(T0 + c * MIN, self.tps[c % N_TP], {"nps": nps[c]}, customer=c)
        for c in range(6):
            ctx.feed(T0 + DAY + c * MIN, "shop", {"revenue": rev[c]}, customer=c)
        res = ctx.key_drivers(s)
        self.assertEqual((res.n_drivers, res.outcomes, res.paired, res.customers), (1, 6, 6, 6))
        (o,) = res.drivers
        self.assertIsNone(o.touchpoint)
        self.assertIsNone(o.touchpoint_name)
        self.assertEqual(o.n, 6)
        self.assertEqual([b.n for b in o.bands], [2, 1, 3])
        self.assertEqual([b.mean for b in o.bands], [60, 80, 100])
        self.assertTrue(math.isnan(o.bands[1].ci_low) and math.isnan(o.bands[1].ci_high))
        # detractors: sd 14.142, t(0.975, 1) = 12.706; promoters: sd 10, t(0.975, 2) = 4.303
        self.assertAlmostEqual(o.bands[0].ci_low, 60 - 12.706204736174698 * 10, delta=1e-6)
        self.assertAlmostEqual(o.bands[2].ci_high, 100 + 4.302652729749464 * 10 / math.sqrt(3),
                               delta=1e-6)
        self.assertAlmostEqual(o.band_difference, 40, delta=1e-12)
        se = math.sqrt(100 + 100 / 3)  # Welch
        self.assertGreater((o.band_ci_high - o.band_ci_low) / 2 / se, 4.3)
        self.assertTrue(0.05 < o.band_p_value < 0.2)
        self.assertGreater(o.importance, 0.8)
        self.assertAlmostEqual(o.performance, mean(nps), delta=1e-12)
        self.assertAlmostEqual(o.outcome_mean, mean(rev), delta=1e-12)

    def test_journey_drivers_and_the_overall_one_last(self):
        ctx = self.ctx
        j = ctx.journey("buy", ["call", "visit", "order"])
        t2 = ctx.touchpoint("order page", "web", j, "order")
        t0 = ctx.touchpoint("sales call", "phone", j, "call")
        t1 = ctx.touchpoint("store", "in person", j, "visit")
        s = ctx.drivers("buy", outcome="nps", driver="csat", journey="buy", overall=True)
        res = ctx.key_drivers("buy")
        self.assertEqual(res.n_drivers, 4)
        self.assertEqual([d.touchpoint for d in res.drivers], [int(t0), int(t1), int(t2), None])
        self.assertEqual([d.touchpoint_name for d in res.drivers],
                         ["sales call", "store", "order page", None])
        self.assertEqual(ctx.drivers_find("buy"), s)
        d = ctx.drivers_def("buy")
        self.assertEqual(d, cxm.DriversDef(s, "buy", int(ctx.metrics["nps"]), int(ctx.metrics["csat"]),
                                           int(j), (int(t0), int(t1), int(t2)), True,
                                           30 * 86_400_000))
        self.assertEqual(ctx.drivers_def(s), d)
        with self.assertRaises(cxm.UnknownIdError):
            ctx.drivers_def("no such set")
        with self.assertRaises(cxm.UnknownIdError):
            ctx.drivers_def(s + 1)

    def test_nothing_paired_is_nan(self):
        ctx = self.ctx
        define_set(ctx, self.tps)
        res = ctx.key_drivers(SET)
        self.assertEqual((res.outcomes, res.paired, res.customers), (0, 0, 0))
        for d in res.drivers:
            self.assertEqual((d.n, d.significant, d.quadrant), (0, False, cxm.Quadrant.NONE))
            for v in (d.importance, d.ci_low, d.ci_high, d.performance, d.outcome_mean,
                      d.band_difference, d.band_p_value, d.bands[0].mean):
                self.assertTrue(math.isnan(v))

    def test_window(self):
        ctx = self.ctx
        ctx.drivers("a day", outcome="nps", driver="csat", touchpoints=["tp0", "tp1"],
                    window=timedelta(days=1))
        ctx.drivers("a week", outcome="nps", driver="csat", touchpoints=self.tps[:2],
                    window=7 * DAY)
        # csat two days before the answer: outside a day, inside a week
        ctx.feed(T0, "tp0", {"csat": 5}, customer="one")
        ctx.feed(T0 + 2 * DAY, "survey", {"nps": 9}, customer="one")
        day, week = ctx.key_drivers("a day"), ctx.key_drivers("a week")
        self.assertEqual((day.outcomes, day.paired, day.drivers[0].n), (1, 0, 0))
        self.assertEqual((week.outcomes, week.paired, week.drivers[0].n), (1, 1, 1))
        # a survey asking both pairs them
        ctx.feed(T0 + 3 * DAY, "tp1", {"csat": 4, "nps": 8}, customer="both")
        day = ctx.key_drivers("a day")
        self.assertEqual((day.paired, day.drivers[1].n, day.drivers[1].performance), (1, 1, 4.0))


class Snapshots(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.TemporaryDirectory()
        self.a, tps = make_fx()
        define_set(self.a, tps)
        feed_planted(self.a, 7, 0, 150)

    def tearDown(self):
        self.a.close()
        self.tmp.cleanup()

    def test_round_trip(self):
        a = self.a
        want = a.key_drivers(SET)
        self.assertGreater(want.paired, 0)
        data = a.snapshot()
        with cxm.Context.from_snapshot(data, clock=a.test_clock,
                                       customer_key=bytes(range(16))) as back:
            self.assertEqual(back.drivers_find(SET), a.drivers_find(SET))
            got = back.key_drivers(SET)
            self.assertTrue(same(got, want), (got, want))
            self.assertGreater(got.memory_bytes, 0)
            # a customer remembered across the load pairs with a new answer
            back.feed(T0 + 150 * 10 * MIN, "survey", {"nps": 10}, customer="customer-0")
            after = back.key_drivers(SET)
            self.assertEqual(after.paired, want.paired + 1)
            self.assertEqual(after.drivers[0].n, want.drivers[0].n + 1)
        path = os.path.join(self.tmp.name, "drivers.cxm")
        a.save(path)
        with make_ctx(T0 + 30 * DAY) as back:
            back.load(path)
            self.assertTrue(same(back.key_drivers(SET), want))
            with self.assertRaises(cxm.ExistsError):  # the set came with the snapshot
                back.drivers(SET, outcome="nps", driver="csat", overall=True)

    def test_merge_is_feeding_both(self):
        b, tps = make_fx()
        u, tpu = make_fx()
        try:
            define_set(b, tps)
            define_set(u, tpu)
            feed_planted(b, 8, 150, 150)
            feed_planted(u, 7, 0, 150)
            feed_planted(u, 8, 150, 150)
            self.a.merge(b)
            got, want = self.a.key_drivers(SET), u.key_drivers(SET)
            self.assertEqual((got.outcomes, got.paired, got.customers),
                             (want.outcomes, want.paired, want.customers))
            for g, w in zip(got.drivers, want.drivers):
                self.assertEqual((g.touchpoint, g.n, [x.n for x in g.bands], g.quadrant),
                                 (w.touchpoint, w.n, [x.n for x in w.bands], w.quadrant))
                self.assertAlmostEqual(g.importance, w.importance, delta=1e-9)
                self.assertAlmostEqual(g.band_difference, w.band_difference, delta=1e-9)
        finally:
            b.close()
            u.close()


class BadArguments(unittest.TestCase):
    def setUp(self):
        self.ctx, self.tps = make_fx()
        self.ctx.metric("calls", "volume")

    def tearDown(self):
        self.ctx.close()

    def define(self, name="x", **kw):
        args = dict(outcome="nps", driver="csat", touchpoints=self.tps[:2])
        args.update(kw)
        return self.ctx.drivers(name, **args)

    def test_definitions_refused(self):
        ctx = self.ctx
        with self.assertRaises(cxm.UnknownIdError):
            self.define(outcome="no such metric")
        with self.assertRaises(KeyError):  # UnknownIdError is a KeyError
            self.define(driver="no such metric")
        with self.assertRaises(cxm.UnknownIdError):
            self.define(outcome=77)
        with self.assertRaises(cxm.UnknownIdError):
            self.define(touchpoints=["tp0", "no such touchpoint"])
        with self.assertRaises(cxm.UnknownIdError):
            self.define(touchpoints=[500])
        with self.assertRaises(cxm.UnknownIdError):
            self.define(touchpoints=[-1])
        with self.assertRaises(cxm.UnknownIdError):
            self.define(touchpoints=None, journey=3)
        with self.assertRaises(cxm.KindError):
            self.define(driver="revenue")  # an AMOUNT is no experience
        with self.assertRaises(cxm.KindError):
            self.define(outcome="calls")  # a VOLUME is no outcome
        with self.assertRaises(cxm.InvalidArgumentError):
            self.define(touchpoints=None)  # no driver
        with self.assertRaises(cxm.InvalidArgumentError):
            self.define(touchpoints=["tp1", self.tps[1]])  # twice
        with self.assertRaises(cxm.OutOfRangeError):
            self.define(window=-1)
        with self.assertRaises(cxm.OutOfRangeError):
            self.define(window=cxm.JOURNEY_MAX_WINDOW + timedelta(milliseconds=1))
        with self.assertRaises(cxm.LimitError):
            self.define(touchpoints=list(range(cxm.DRIVERS_MAX + 1)))
        with self.assertRaises(cxm.EncodingError):
            self.define("")
        with self.assertRaises(TypeError):
            self.define(7)
        with self.assertRaises(TypeError):
            self.define(touchpoints="tp0")  # not the touchpoints t, p and 0
        with self.assertRaises(TypeError):
            self.define(touchpoints=[True])
        with self.assertRaises(TypeError):
            self.define(overall="yes")
        with self.assertRaises(TypeError):
            ctx.drivers("x", outcome="nps", touchpoints=self.tps)  # no driver=
        with self.assertRaises(cxm.UnknownIdError):  # nothing was defined by any of those
            ctx.drivers_find("x")
        self.assertEqual(self.define(window="1d"), 0)
        with self.assertRaises(cxm.ExistsError):
            self.define()
        for i in range(1, cxm.DRIVER_SETS_MAX):
            self.assertEqual(self.define(f"set {i}", overall=True), i)
        with self.assertRaises(cxm.LimitError):
            self.define("one more")
        self.assertEqual(ctx.drivers_find("set 3"), 3)

    def test_unknown_sets(self):
        ctx = self.ctx
        self.define()
        with self.assertRaises(cxm.UnknownIdError):
            ctx.key_drivers("nope")
        with self.assertRaises(cxm.UnknownIdError):
            ctx.drivers_find("nope")
        with self.assertRaises(cxm.UnknownIdError):
            ctx.key_drivers(1)
        with self.assertRaises(cxm.UnknownIdError):
            ctx.key_drivers(cxm.DRIVER_SETS_MAX)
        with self.assertRaises(cxm.UnknownIdError):
            ctx.key_drivers(-1)
        with self.assertRaises(TypeError):
            ctx.key_drivers(1.5)
        with self.assertRaises(TypeError):
            ctx.drivers_find(0)
        self.assertEqual(ctx.key_drivers(0).n_drivers, 2)
        ctx.close()
        with self.assertRaises(ValueError):
            ctx.key_drivers(0)
        with self.assertRaises(ValueError):
            self.define("y")


if __name__ == "__main__":
    unittest.main()
