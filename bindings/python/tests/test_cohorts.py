"""Entry-cohort funnels: ctx.funnel(..., cohort=True) (cxm_funnel_cohort_run)
on a hand-worked case, against event-time totals, per New York month, and
on bad input."""
import math
import random
import unittest
from datetime import datetime, timedelta, timezone

import cxm
from support import HOUR, MIN, T0, make_ctx

DAY = 24 * HOUR
D = T0 - 12 * HOUR  # 2026-11-22T00:00:00Z, a UTC day's start
NY = "America/New_York"
_EST = timezone(timedelta(hours=-5))  # New York in winter (no zoneinfo: 3.8 runs this too)


def ny_winter_ms(*ymd_hm):
    return int(datetime(*ymd_hm, tzinfo=_EST).timestamp() * 1000)


class World:
    """A context whose clock follows the feed, with a journey lead:
    visit (web or chat), demo, offer, deal."""

    def __init__(self, now, conversion="30d", **config):
        self.ctx = ctx = make_ctx(now=now, **config)
        self.lead = ctx.journey("lead", ["visit", "demo", "offer", "deal"])
        self.web = ctx.touchpoint("web", "web", self.lead, "visit")
        self.chat = ctx.touchpoint("chat", "chat", self.lead, "visit")
        self.demo = ctx.touchpoint("demo", "phone", self.lead, "demo")
        self.offer = ctx.touchpoint("offer", "email", self.lead, "offer")
        self.deal = ctx.touchpoint("deal", "web", self.lead, "deal")
        self.other = ctx.touchpoint("newsletter", "email")
        self.region = ctx.segment("region", 4)
        ctx.segment_value(self.region, "east")
        ctx.segment_value(self.region, "west")
        ctx.set_journey_options(self.lead, conversion=conversion)

    def touch(self, tp, t, customer, region=None):
        clock = self.ctx.test_clock
        clock.now = max(clock.now, t)
        self.ctx.feed(t, tp, customer=customer,
                      segments={self.region: region} if region else None)

    def at(self, now):
        self.ctx.test_clock.now = now


def cohort_of(ctx, a, b, **kw):
    """The cohorts of [a, b)."""
    return ctx.funnel("lead", b - a, end=b - 1, cohort=True, **kw)


class HandWorked(unittest.TestCase):
    """Hour A: ann (web) and bob (chat) enter; hour B: cid enters. Ann
    reaches the deal 10 days after her entry; nobody else moves."""

    A, B = D + 10 * HOUR, D + 11 * HOUR

    def setUp(self):
        A, B = self.A, self.B
        self.w = w = World(A)
        w.touch(w.web, A + 5 * MIN, "ann")
        w.touch(w.chat, A + 50 * MIN, "bob")
        w.touch(w.web, B + 1 * MIN, "cid")
        w.touch(w.deal, A + 5 * MIN + 10 * DAY, "ann")

    def tearDown(self):
        self.w.ctx.close()

    def test_cohort_of_hour_a(self):
        ctx, A = self.w.ctx, self.A
        f = cohort_of(ctx, A, A + HOUR)
        self.assertIsInstance(f, cxm.Funnel)
        self.assertEqual((f.start_ms, f.end_ms), (A, A + HOUR))
        self.assertEqual(f.flags & cxm.RESULT_TRUNCATED, 0)
        self.assertEqual((f.entered, f.completed, f.n_steps), (2, 1, 4))
        self.assertEqual(f.conversion, 0.5)
        self.assertEqual(f.goal_n, 1)
        self.assertAlmostEqual(f.goal_mean, 10 * 86_400.0, places=3)
        self.assertTrue(math.isnan(f.goal_p50) and math.isnan(f.goal_p90))
        self.assertEqual(len(f.steps), 4)
        self.assertIsInstance(f.steps[0], cxm.FunnelStep)
        # skipped steps count as reached
        self.assertEqual([s.reached for s in f.steps], [2, 1, 1, 1])
        s0 = f.steps[0]
        self.assertEqual(s0.next_n, 1)
        self.assertAlmostEqual(s0.next_mean, 10 * 86_400.0, places=3)
        self.assertTrue(math.isnan(s0.next_p50) and math.isnan(s0.next_p90))
        # the same hour given as a timedelta and datetime
        same = ctx.funnel(self.w.lead, timedelta(hours=1), end=cxm.from_ms(A + 59 * MIN),
                          cohort=True)
        self.assertEqual((same.entered, same.completed, same.start_ms), (2, 1, A))

    def test_other_cohorts_and_edges(self):
        ctx, A, B = self.w.ctx, self.A, self.B
        b = cohort_of(ctx, B, B + HOUR)
        self.assertEqual((b.entered, b.completed, b.goal_n), (1, 0, 0))
        self.assertTrue(math.isnan(b.goal_mean))
        # a window between the edges takes the whole hours it touches
        ab = ctx.funnel("lead", HOUR, end=B + 30 * MIN, cohort=True)
        self.assertEqual((ab.start_ms, ab.end_ms), (A, B + HOUR))
        self.assertEqual((ab.entered, ab.completed), (3, 1))
        # a day with no entries: empty, not an error
        none = cohort_of(ctx, D + 5 * DAY, D + 6 * DAY)
        self.assertEqual(none.entered, 0)
        self.assertTrue(none.empty)
        self.assertTrue(math.isnan(none.conversion))
        # by the channel the instance began on
        chat = cohort_of(ctx, A, A + HOUR, channel="chat")
        self.assertEqual((chat.entered, chat.completed), (1, 0))

    def test_event_time_differs(self):
        ctx = self.w.ctx
        day = ctx.funnel("lead", "1d", end=D + DAY - 1)
        self.assertEqual((day.entered, day.completed), (3, 0))
        self.assertEqual(ctx.funnel("lead", "1d", end=D + DAY - 1, cohort=False).entered, 3)
        later = ctx.funnel("lead", "1d", end=D + 11 * DAY - 1)
        self.assertEqual((later.entered, later.completed), (0, 1))
        self.assertEqual(cohort_of(ctx, D, D + DAY).completed, 1)
        self.assertEqual(cohort_of(ctx, D + 10 * DAY, D + 11 * DAY).completed, 0)

    def test_ends_counted_in_their_cohort_after_a_sweep(self):
        w, A, B = self.w, self.A, self.B
        w.at(A + 40 * DAY)
        w.ctx.sweep()
        a = cohort_of(w.ctx, A, A + HOUR)
        self.assertEqual(a.abandoned + a.expired, 1)  # bob's instance
        b = cohort_of(w.ctx, B, B + HOUR)
        self.assertEqual(b.abandoned + b.expired, 1)  # cid's
        day = w.ctx.funnel("lead", "1d", end=D + DAY - 1)
        self.assertEqual(day.abandoned + day.expired, 0)  # counted when noticed, in event time


class EveryEventHasACohort(unittest.TestCase):
    """Over a window covering everything, cohort and event-time funnels
    count the same."""

    @classmethod
    def setUpClass(cls):
        start = T0 - 20 * DAY
        cls.w = w = World(start, conversion="2d")
        rnd = random.Random(100)
        tps = [w.web, w.chat, w.demo, w.offer, w.deal, w.other]
        t = start
        for _ in range(3000):
            t += rnd.randrange(8 * MIN)
            w.touch(rnd.choice(tps), t, f"c-{rnd.randrange(300)}",
                    "east" if rnd.randrange(3) else "west")
        w.at(t + 3 * DAY)
        w.ctx.sweep()

    @classmethod
    def tearDownClass(cls):
        cls.w.ctx.close()

    def assertSame(self, co, ev):
        for k in ("entered", "completed", "abandoned", "expired", "broken", "displaced",
                  "repeats", "goal_n", "n_steps"):
            self.assertEqual(getattr(co, k), getattr(ev, k), k)
        if co.goal_n:
            self.assertAlmostEqual(co.goal_mean, ev.goal_mean, delta=1e-9 * ev.goal_mean + 1e-6)
        for cs, es in zip(co.steps, ev.steps):
            self.assertEqual((cs.reached, cs.next_n), (es.reached, es.next_n))
            if cs.next_n:
                self.assertAlmostEqual(cs.next_mean, es.next_mean,
                                       delta=1e-9 * es.next_mean + 1e-6)

    def test_totals_equal_event_time(self):
        ctx = self.w.ctx
        for kw in ({}, {"channel": "web"}, {"segment": ("region", "east")}):
            with self.subTest(**{k: str(v) for k, v in kw.items()}):
                ev = ctx.funnel("lead", "40d", **kw)
                co = ctx.funnel("lead", "40d", cohort=True, **kw)
                self.assertGreater(co.entered, 50)
                self.assertSame(co, ev)
                self.assertTrue(math.isnan(co.goal_p50))
                self.assertFalse(math.isnan(ev.goal_p50))

    def test_days_add_up(self):
        ctx = self.w.ctx
        whole = ctx.funnel("lead", "40d", cohort=True)
        now = ctx.test_clock.now
        entered = completed = 0
        day = (now - 40 * DAY) // DAY * DAY
        while day < now:
            f = cohort_of(ctx, day, day + DAY)
            entered += f.entered
            completed += f.completed
            day += DAY
        self.assertEqual((entered, completed), (whole.entered, whole.completed))


class NewYorkMonth(unittest.TestCase):
    """A New York month's cohort, from ctx.calendar_bucket()'s edges."""

    def test_month(self):
        JAN1, FEB1 = ny_winter_ms(2026, 1, 1), ny_winter_ms(2026, 2, 1)
        w = World(JAN1 - HOUR, conversion="40d", tiers=[("1m", 120), ("1h", 24 * 100)])
        with w.ctx as ctx:
            w.touch(w.web, JAN1 - 30 * MIN, "dec")   # New York December, UTC January
            w.touch(w.web, JAN1 + 30 * MIN, "jan")
            w.touch(w.deal, JAN1 + 2 * DAY, "dec")
            w.touch(w.web, FEB1 - 30 * MIN, "late")  # New York January, UTC February
            w.touch(w.web, FEB1 + 30 * MIN, "feb")
            w.touch(w.deal, FEB1 + DAY, "jan")       # after the month, in its cohort
            w.at(FEB1 + 10 * DAY)
            s, e = ctx.calendar_bucket("month", NY, JAN1 + 5 * DAY)
            self.assertEqual((s, e), (JAN1, FEB1))
            f = ctx.funnel("lead", e - s, end=e - 1, cohort=True)
            self.assertEqual((f.start_ms, f.end_ms), (JAN1, FEB1))
            self.assertEqual((f.entered, f.completed, f.goal_n), (2, 1, 1))
            self.assertAlmostEqual(f.goal_mean, (FEB1 + DAY - (JAN1 + 30 * MIN)) / 1000, places=3)
            self.assertTrue(math.isnan(f.goal_p90))
            # event time over the same month: the entries, and dec's deal
            ev = ctx.funnel("lead", e - s, end=e - 1)
            self.assertEqual((ev.start_ms, ev.end_ms), (JAN1, FEB1))
            self.assertEqual((ev.entered, ev.completed), (2, 1))
            # the UTC month holds other entries
            us, ue = ctx.calendar_bucket("month", "UTC", JAN1 + 5 * DAY)
            u = ctx.funnel("lead", ue - us, end=ue - 1, cohort=True)
            self.assertEqual((u.start_ms, u.end_ms), (us, ue))
            self.assertEqual((u.entered, u.completed), (2, 2))


class BadInput(unittest.TestCase):
    def setUp(self):
        self.w = World(T0)
        self.w.touch(self.w.web, T0 - MIN, "x")

    def tearDown(self):
        self.w.ctx.close()

    def test_cohort_is_a_bool(self):
        ctx = self.w.ctx
        for bad in (1, 0, "yes", None, 1.0):
            with self.subTest(cohort=bad), self.assertRaises(TypeError):
                ctx.funnel("lead", "1h", cohort=bad)
        with self.assertRaises(TypeError):
            ctx.funnel("lead", "1h", None, None, None, True)  # keyword-only

    def test_libcxm_refusals(self):
        ctx = self.w.ctx
        with self.assertRaises(cxm.UnknownIdError):
            ctx.funnel("nope", "1h", cohort=True)
        with self.assertRaises(cxm.UnknownIdError):
            ctx.funnel(99, "1h", cohort=True)
        with self.assertRaises(cxm.OutOfRangeError):
            ctx.funnel("lead", 0, cohort=True)
        with self.assertRaises(cxm.OutOfRangeError):
            ctx.funnel("lead", "1h", end=-5, cohort=True)
        with self.assertRaises(cxm.InvalidArgumentError):
            ctx.funnel("lead", "1h", segment=("region", "east"), channel="web", cohort=True)
        with self.assertRaises(cxm.UnknownIdError):
            ctx.funnel("lead", "1h", segment=("region", "north"), cohort=True)
        self.assertEqual(ctx.funnel("lead", "1h", cohort=True).entered, 1)


if __name__ == "__main__":
    unittest.main()
