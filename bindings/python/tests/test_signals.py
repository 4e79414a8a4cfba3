"""In-journey signals: signal(), signal_enable(), signal_def(),
signal_rearm() and their events on the trigger queue (kind "signal").
The hand-worked timelines of tests/test_signals.c for each kind (STUCK
seen by sweep(), REPEAT with its inclusive window, BACKWARDS, FAILURE of a
RATE measure equal to 0), once per instance, re-arming, a new instance,
the signals through a snapshot, and the bad arguments of each call."""
import math
import os
import re
import subprocess
import threading
import unittest
from datetime import datetime, timedelta, timezone

import cxm
from support import HOUR, MIN, PY, T0, make_ctx, python_env

DAY = 24 * HOUR
STEPS = ("browse", "cart", "address", "pay", "done")


class Shop:
    """A shop journey of five steps, a touchpoint on each (named as the
    step), one off the journey, and the metrics of tests/test_signals.c."""

    def __init__(self, ctx):
        self.ctx = ctx
        self.shop = ctx.journey("shop", STEPS)
        self.tp = {s: ctx.touchpoint(s, "web", self.shop, s) for s in STEPS}
        self.faq = ctx.touchpoint("faq", "web")
        self.paid = ctx.metric("paid", "rate")
        self.nps = ctx.metric("nps")
        self.calls = ctx.metric("calls", "volume")
        self.aht = ctx.metric("aht", "duration")

    def visit(self, t, step, who):
        self.ctx.feed(t, self.tp[step] if step in self.tp else step, customer=who)

    def attempt(self, t, step, who, ok):
        """A payment attempt: paid 1 or 0."""
        self.ctx.feed(t, self.tp[step], {self.paid: ok}, customer=who)


def shop_ctx(**config):
    ctx = make_ctx(now=T0 + DAY, **config)  # a day on: every feed below is in the past
    return ctx, Shop(ctx)


class Base(unittest.TestCase):
    def setUp(self):
        self.ctx, self.s = shop_ctx()

    def tearDown(self):
        self.ctx.close()

    def events(self):
        evs = self.ctx.poll_events()
        for e in evs:
            self.assertEqual(e.kind, "signal")
        return evs

    def who(self, e):
        for c in ("alice", "bob", "carol", "dan", "erin", "fay", "gus"):
            if e.customer == self.ctx.customer_hash(c):
                return c
        return None


class Stuck(Base):
    def test_stuck_at_the_cart_inclusive_window(self):
        ctx, s, W, t = self.ctx, self.s, 30 * MIN, T0
        at_cart = ctx.signal("stuck", "shop", step="cart", window="30m")
        self.assertEqual(at_cart, 0)
        self.assertIs(type(at_cart), int)
        s.visit(t, "browse", "alice")
        s.visit(t + MIN, "cart", "alice")                        # at the cart from t + 1 min
        s.visit(t, "browse", "bob")
        s.visit(t + MIN, "cart", "bob")
        s.visit(t + 20 * MIN, "address", "bob")                  # moves on in time
        s.visit(t, "browse", "carol")                            # stuck, but at browse
        ctx.sweep(t + MIN + W - 1)                               # one ms short
        self.assertEqual(self.events(), [])
        ctx.sweep(t + MIN + W)                                   # exactly the window: inclusive
        (e,) = self.events()
        self.assertEqual((e.kind, e.rule, self.who(e), e.time_ms, e.item, e.touchpoint, e.metric),
                         ("signal", at_cart, "alice", t + MIN + W, 1, cxm.NONE, cxm.NONE))
        self.assertEqual(e.value, 1800.0)                        # seconds without progress
        self.assertEqual(e.time, datetime(2026, 11, 22, 12, 31, tzinfo=timezone.utc))
        self.assertEqual(e._asdict()["kind"], "signal")
        ctx.sweep(t + 2 * HOUR)                                  # later sweeps: nothing new
        self.assertEqual(self.events(), [])
        ctx.sweep(t + MIN + W)                                   # one far behind: seen already
        self.assertEqual(self.events(), [])
        self.assertEqual(ctx.stats().signals_unjudged, 0)

    def test_every_interval_rearm_and_switched_off(self):
        ctx, s, W, t = self.ctx, self.s, 10 * MIN, T0
        s.visit(t, "browse", "dan")                              # stuck at browse from t + W
        s.visit(t + 5 * MIN, "browse", "erin")
        s.visit(t + 5 * MIN + 1, "cart", "erin")                 # at the cart from t + 15 min + 1
        any_step = ctx.signal(cxm.SignalKind.STUCK, s.shop, window=timedelta(minutes=10))
        ctx.sweep(t + HOUR)                                      # the first sweep: both
        got = {self.who(e): e for e in self.events()}
        self.assertEqual(set(got), {"dan", "erin"})
        self.assertEqual((got["dan"].rule, got["dan"].time_ms, got["dan"].item),
                         (any_step, t + W, 0))
        self.assertEqual((got["erin"].time_ms, got["erin"].item), (t + 15 * MIN + 1, 1))
        self.assertAlmostEqual(got["erin"].value, (55 * MIN - 1) / 1000, places=9)
        s.visit(t + 2 * HOUR, "address", "erin")                 # stuck again: once per instance
        ctx.sweep(t + 3 * HOUR)
        self.assertEqual(self.events(), [])
        self.assertIsNone(ctx.signal_rearm(any_step, "erin"))
        ctx.sweep(t + 4 * HOUR)                                  # the address instant is past
        self.assertEqual(self.events(), [])
        s.visit(t + 5 * HOUR, "pay", "erin")
        ctx.sweep(t + 5 * HOUR + W)
        (e,) = self.events()
        self.assertEqual((self.who(e), e.item, e.time_ms), ("erin", 3, t + 5 * HOUR + W))
        ctx.signal_enable(any_step, False)
        self.assertFalse(ctx.signal_def(any_step).enabled)
        s.visit(t + 6 * HOUR, "browse", "fay")
        ctx.sweep(t + 7 * HOUR)
        self.assertEqual(self.events(), [])

    def test_up_to_the_abandonment_not_after(self):
        ctx, s = self.ctx, self.s
        ctx.set_journey_options("shop", abandon="20m")
        ctx.signal("stuck", "shop", window="20m")                # at the abandonment: still open
        ctx.signal("stuck", "shop", window=20 * MIN + 1)         # after it: never
        s.visit(T0, "browse", "gus")
        ctx.sweep(T0 + HOUR)
        (e,) = self.events()
        self.assertEqual((e.rule, e.time_ms), (0, T0 + 20 * MIN))

    def test_sweep_defaults_to_the_clock(self):
        ctx, s = self.ctx, self.s
        ctx.signal("stuck", "shop", window="1h")
        s.visit(T0, "browse", "alice")
        ctx.sweep()                                              # now: a day on
        (e,) = self.events()
        # the instant the window ran out; the seconds without progress at the sweep
        self.assertEqual((self.who(e), e.time_ms, e.value), ("alice", T0 + HOUR, DAY / 1000))


class Repeat(Base):
    def test_three_contacts_within_the_hour(self):
        ctx, s, t = self.ctx, self.s, T0
        three = ctx.signal("repeat", "shop", count=3, window="1h")
        # alice: reaches the cart at t, back at +20 min and +60 min: exactly W apart
        s.visit(t - MIN, "browse", "alice")
        s.visit(t, "cart", "alice")
        s.visit(t + 20 * MIN, "cart", "alice")
        self.assertEqual(self.events(), [])
        s.visit(t + 60 * MIN, "cart", "alice")
        (e,) = self.events()
        self.assertEqual((e.rule, self.who(e), e.time_ms, e.touchpoint, e.item, e.metric, e.value),
                         (three, "alice", t + 60 * MIN, int(s.tp["cart"]), 1, cxm.NONE, 3.0))
        s.visit(t + 61 * MIN, "cart", "alice")                   # once per instance
        self.assertEqual(self.events(), [])
        ctx.signal_rearm(three, b"alice")                        # bytes, as fed as str
        s.visit(t + 62 * MIN, "cart", "alice")
        (e,) = self.events()
        self.assertEqual(e.value, 4.0)                           # +20, +60, +61, +62
        # bob: one ms too late for the first, then a fourth makes three
        s.visit(t - MIN, "browse", "bob")
        s.visit(t, "cart", "bob")
        s.visit(t + 20 * MIN, "cart", "bob")
        s.visit(t + 60 * MIN + 1, "cart", "bob")
        self.assertEqual(self.events(), [])
        s.visit(t + 70 * MIN, "cart", "bob")
        (e,) = self.events()
        self.assertEqual((self.who(e), e.value), ("bob", 3.0))
        # carol: contacts below the step she is at are no repeats; moving on starts afresh
        for m, step in ((-1, "browse"), (0, "cart"), (1, "browse"), (2, "browse"), (3, "cart"),
                        (4, "address"), (5, "address")):
            s.visit(t + m * MIN, step, "carol")
        self.assertEqual(self.events(), [])
        s.visit(t + 6 * MIN, "address", "carol")
        (e,) = self.events()
        self.assertEqual((self.who(e), e.item), ("carol", 2))

    def test_one_step_and_eight_contacts(self):
        ctx, s = self.ctx, self.s
        pay8 = ctx.signal("repeat", "shop", step="pay", count=8, window="10m")
        ctx.signal("repeat", "shop", step=1, count=2, window=10 * MIN)
        s.visit(T0, "browse", "dan")
        s.visit(T0 + 1000, "pay", "dan")                         # skips to pay
        for i in range(1, 7):
            s.visit(T0 + 1000 + i * MIN, "pay", "dan")
        self.assertEqual(self.events(), [])                      # 7 contacts
        s.visit(T0 + 1000 + 7 * MIN, "pay", "dan")
        (e,) = self.events()
        self.assertEqual((e.rule, e.value, e.item), (pay8, 8.0, 3))


class Backwards(Base):
    def test_back_once_per_instance_and_a_new_instance(self):
        ctx, s = self.ctx, self.s
        back = ctx.signal("backwards", "shop")
        from_cart = ctx.signal("backwards", "shop", step="cart")
        s.visit(T0, "browse", "alice")
        s.visit(T0 + MIN, "address", "alice")
        s.visit(T0 + 2 * MIN, "address", "alice")                # the same step: not back
        self.assertEqual(self.events(), [])
        s.visit(T0 + 3 * MIN, "cart", "alice")
        (e,) = self.events()
        self.assertEqual((e.rule, e.item, e.value, e.touchpoint, e.time_ms, e.metric),
                         (back, 2, 1.0, int(s.tp["cart"]), T0 + 3 * MIN, cxm.NONE))
        s.visit(T0 + 4 * MIN, "browse", "alice")                 # once per instance
        self.assertEqual(self.events(), [])
        s.visit(T0, "browse", "bob")                             # from_cart: bob was at the cart
        s.visit(T0 + MIN, "cart", "bob")
        s.visit(T0 + 2 * MIN, "browse", "bob")
        self.assertEqual(sorted(e.rule for e in self.events()), [back, from_cart])
        s.visit(T0 + 5 * MIN, "done", "alice")                   # the goal: a new instance next
        s.visit(T0 + 6 * MIN, "browse", "alice")
        s.visit(T0 + 7 * MIN, "cart", "alice")
        self.assertEqual(self.events(), [])
        s.visit(T0 + 8 * MIN, "browse", "alice")
        self.assertEqual(len(self.events()), 2)
        s.visit(T0 + 9 * MIN, s.faq, "alice")                    # off the journey
        s.visit(T0 + 9 * MIN, "cart", "nobody")                  # no instance
        self.assertEqual(self.events(), [])

    def test_strict_breaks_the_instance_and_still_fires(self):
        ctx, s = self.ctx, self.s
        ctx.set_journey_options("shop", strict=True)
        back = ctx.signal("backwards", "shop")
        s.visit(T0, "browse", "alice")
        s.visit(T0 + MIN, "cart", "alice")
        s.visit(T0 + 2 * MIN, "browse", "alice")                 # breaks, and begins anew
        (e,) = self.events()
        self.assertEqual((e.rule, e.item), (back, 1))
        s.visit(T0 + 3 * MIN, "cart", "alice")
        s.visit(T0 + 4 * MIN, "browse", "alice")                 # the new instance's own
        self.assertEqual(len(self.events()), 1)
        self.assertEqual(ctx.funnel("shop", "1h", end=T0 + HOUR).broken, 2)

    def test_forget_forgets_the_signal_state(self):
        ctx, s = self.ctx, self.s
        ctx.signal("backwards", "shop")
        for m, step in ((0, "browse"), (1, "cart"), (2, "browse")):
            s.visit(T0 + m * MIN, step, "alice")
        self.assertEqual(len(self.events()), 1)
        ctx.forget("alice")
        for m, step in ((3, "browse"), (4, "cart"), (5, "browse")):
            s.visit(T0 + m * MIN, step, "alice")
        self.assertEqual(len(self.events()), 1)


class Failure(Base):
    def test_a_payment_declined_twice(self):
        ctx, s, W, t = self.ctx, self.s, 10 * MIN, T0
        twice = ctx.signal("failure", "shop", step="pay", count=2, window="10m", metric="paid",
                           op="==", threshold=0)
        d = ctx.signal_def(twice)
        self.assertEqual((d.kind, d.step, d.count, d.window_ms, d.metric, d.item, d.op, d.threshold),
                         (cxm.SignalKind.FAILURE, 3, 2, W, int(s.paid), 0, cxm.Cmp.EQ, 0.0))
        # alice fails at pay twice, exactly W apart
        s.visit(t - MIN, "browse", "alice")
        s.attempt(t, "pay", "alice", False)
        s.attempt(t + MIN, "pay", "alice", True)                 # a success is no failure
        self.assertEqual(self.events(), [])
        s.attempt(t + W, "pay", "alice", 0)
        (e,) = self.events()
        self.assertEqual((e.kind, e.rule, e.metric, e.touchpoint, e.item, e.value, self.who(e)),
                         ("signal", twice, int(s.paid), int(s.tp["pay"]), 3, 2.0, "alice"))
        s.attempt(t + W + 1, "pay", "alice", 0)                  # once per instance
        self.assertEqual(self.events(), [])
        # bob: one ms too far apart; a failure on another step is not this one's
        s.visit(t - MIN, "browse", "bob")
        s.attempt(t, "pay", "bob", 0)
        s.attempt(t + MIN, "address", "bob", 0)
        s.attempt(t + W + 1, "pay", "bob", 0)
        self.assertEqual(self.events(), [])
        s.attempt(t + W + 2, "pay", "bob", 0)
        (e,) = self.events()
        self.assertEqual(self.who(e), "bob")
        # with no instance, a failure belongs to none
        s.attempt(t, "pay", "carol", 0)
        s.attempt(t + 1, "pay", "carol", 0)
        self.assertEqual(self.events(), [])

    def test_two_signals_keep_their_own_counts_and_rearm(self):
        ctx, s = self.ctx, self.s
        once = ctx.signal("failure", "shop", count=1, window="1h", metric=s.paid, op=cxm.Cmp.EQ)
        three = ctx.signal("FAILURE", "shop", step=3, count=3, window=HOUR, metric="paid",
                           op="lt", threshold=0.5)
        s.visit(T0, "browse", "dan")
        s.attempt(T0 + 1, "pay", "dan", 0)
        self.assertEqual([e.rule for e in self.events()], [once])
        s.attempt(T0 + 2, "pay", "dan", 0)
        self.assertEqual(self.events(), [])
        s.attempt(T0 + 3, "pay", "dan", 0)
        self.assertEqual([e.rule for e in self.events()], [three])
        ctx.signal_rearm(once, "dan")                            # fires again on the next one
        s.attempt(T0 + 4, "pay", "dan", 0)
        self.assertEqual([e.rule for e in self.events()], [once])
        s.visit(T0, "browse", "erin")
        s.attempt(T0 + 5, "done", "erin", 0)                     # reaches the goal, failing
        (e,) = self.events()
        self.assertEqual((e.rule, e.item), (once, 4))

    def test_a_question_of_a_cx_index_and_other_comparisons(self):
        ctx, s = self.ctx, self.s
        cxi = ctx.metric("cxi")
        slow = ctx.signal("failure", "shop", step="cart", count=1, window="1h", metric="aht",
                          op=">", threshold=600)
        hard = ctx.signal("failure", "shop", count=1, window="1h", metric=cxi, item=1, op="<=",
                          threshold=3)
        self.assertEqual(ctx.signal_def(hard)[5:9], (int(cxi), 1, cxm.Cmp.LE, 3.0))
        s.visit(T0, "browse", "fay")
        ctx.feed(T0 + 1, s.tp["cart"], {s.aht: 600.0}, customer="fay")      # not above 600
        ctx.feed(T0 + 2, s.tp["cart"], {cxi: (1, 9, 1)}, customer="fay")    # question 1 is 9
        self.assertEqual(self.events(), [])
        ctx.feed(T0 + 3, s.tp["cart"], {s.aht: 601.0, cxi: (9, 3, 9)}, customer="fay")
        self.assertEqual(sorted((e.rule, e.metric, e.value) for e in self.events()),
                         [(slow, int(s.aht), 1.0), (hard, int(cxi), 1.0)])


class Queue(unittest.TestCase):
    def test_the_trigger_queue_its_numbers_and_drops(self):
        with make_ctx(now=T0 + DAY, event_queue=4) as ctx:
            s = Shop(ctx)
            rule = ctx.trigger("paid", "==", 0)
            back = ctx.signal("backwards", "shop")
            s.visit(T0, "browse", "alice")
            s.visit(T0 + 1, "cart", "alice")
            s.attempt(T0 + 2, "browse", "alice", 0)              # back, and a trigger
            evs = ctx.poll_events()                                # one queue, one numbering
            self.assertEqual(sorted((e.kind, e.rule) for e in evs),
                             [("signal", back), ("trigger", rule)])
            self.assertEqual([e.seq for e in evs], [0, 1])
            for i in range(6):                                    # six go back, a queue of 4
                who = f"c{i}"
                s.visit(T0, "browse", who)
                s.visit(T0 + 1, "cart", who)
                s.visit(T0 + 2, "browse", who)
            st = ctx.stats()
            self.assertEqual((st.events_queued, st.events_dropped, st.signals_unjudged), (6, 2, 0))
            self.assertEqual([e.seq for e in ctx.poll_events()], [2, 3, 4, 5])
            self.assertEqual(st._asdict()["signals_unjudged"], 0)
            self.assertEqual(st.query_cache_bytes, 0)  # no query has run

    def test_a_context_without_signals(self):
        with make_ctx() as ctx:
            s = Shop(ctx)
            s.visit(T0, "browse", "alice")
            s.visit(T0 + 1, "cart", "alice")
            s.visit(T0 + 2, "browse", "alice")
            self.assertEqual(ctx.poll_events(), [])
            self.assertEqual(ctx.stats().signals_unjudged, 0)

    def test_feeding_threads_and_a_poller(self):
        threads, per = 4, 300
        with make_ctx(now=T0 + DAY, event_queue=1 << 14) as ctx:
            s = Shop(ctx)
            ctx.signal("repeat", "shop", step="cart", count=2, window="1h")
            ctx.signal("backwards", "shop")
            browse, cart = s.tp["browse"], s.tp["cart"]
            rows = [[r for i in range(per) for r in (
                (T0 + i, browse, None, f"t{k}-c{i}"), (T0 + i + 1, cart, None, f"t{k}-c{i}"),
                (T0 + i + 2, cart, None, f"t{k}-c{i}"),              # REPEAT 2
                (T0 + i + 3, browse, None, f"t{k}-c{i}"),            # BACKWARDS
                (T0 + i + 4, browse, None, f"t{k}-c{i}"))] for k in range(threads)]
            errors, kinds, feeding = [], [], [True]

            def feed(k):
                try:
                    errors.extend(ctx.feed_many(rows[k]).rejections)
                except Exception as e:  # reported below, not lost in the thread
                    errors.append(e)

            def poll():
                try:
                    while feeding[0]:
                        kinds.extend(e.kind for e in ctx.poll_events(256))
                except Exception as e:
                    errors.append(e)

            feeders = [threading.Thread(target=feed, args=(k,)) for k in range(threads)]
            poller = threading.Thread(target=poll)
            poller.start()
            for t in feeders:
                t.start()
            for t in feeders:
                t.join()
            feeding[0] = False
            poller.join()
            kinds.extend(e.kind for e in ctx.poll_events(1 << 14))
            self.assertEqual(errors, [])
            self.assertEqual(len(kinds), 2 * threads * per)
            self.assertEqual(set(kinds), {"signal"})
            st = ctx.stats()
            self.assertEqual((st.events_dropped, st.signals_unjudged), (0, 0))


class Definitions(Base):
    def test_kinds_by_name_member_or_number(self):
        ctx = self.ctx
        ids = [ctx.signal("stuck", "shop", window="1h"),
               ctx.signal(" Repeat ", "shop", count=2, window="1h"),
               ctx.signal(3, 0),
               ctx.signal(cxm.SignalKind.FAILURE, self.s.shop, count=1, window="1h",
                          metric="paid", op="!=", threshold=1)]
        self.assertEqual(ids, [0, 1, 2, 3])
        K = cxm.SignalKind
        self.assertEqual([ctx.signal_def(i).kind for i in ids],
                         [K.STUCK, K.REPEAT, K.BACKWARDS, K.FAILURE])
        self.assertEqual([int(k) for k in K], [1, 2, 3, 4])

    def test_a_definition_read_back(self):
        ctx, s = self.ctx, self.s
        r = ctx.signal("repeat", "shop", step="address", count=4, window="90m")
        d = ctx.signal_def(r)
        self.assertIsInstance(d, cxm.SignalDef)
        self.assertEqual(d, (cxm.SignalKind.REPEAT, int(s.shop), 2, 4, 90 * MIN, None, 0, None, 0.0,
                             True))
        self.assertEqual(d.window, timedelta(minutes=90))
        self.assertEqual(d._fields, ("kind", "journey", "step", "count", "window_ms", "metric",
                                     "item", "op", "threshold", "enabled"))
        with self.assertRaises(AttributeError):
            d.count = 2
        b = ctx.signal_def(ctx.signal("backwards", "shop"))
        self.assertEqual((b.step, b.count, b.window_ms, b.window, b.metric, b.op),
                         (None, 0, 0, timedelta(0), None, None))
        ctx.signal_enable(r, False)
        self.assertFalse(ctx.signal_def(r).enabled)
        ctx.signal_enable(r)
        self.assertTrue(ctx.signal_def(r).enabled)

    def test_a_switched_off_signal_and_its_state(self):
        ctx, s = self.ctx, self.s
        back = ctx.signal("backwards", "shop")
        ctx.signal_enable(back, False)
        for m, step in ((0, "browse"), (1, "cart"), (2, "browse")):
            s.visit(T0 + m * MIN, step, "alice")
        self.assertEqual(self.events(), [])
        ctx.signal_enable(back, True)
        s.visit(T0 + 3 * MIN, "cart", "alice")
        s.visit(T0 + 4 * MIN, "browse", "alice")
        self.assertEqual([e.rule for e in self.events()], [back])

    def test_rearm_before_firing_and_customers_as_feed_takes_them(self):
        ctx, s = self.ctx, self.s
        back = ctx.signal("backwards", "shop")
        ctx.signal_rearm(back, "never-seen")                     # nothing to do
        for who in (258, b"\x00\x01"):
            for m, step in ((0, "browse"), (1, "cart"), (2, "browse")):
                s.visit(T0 + m * MIN, step, who)
            (e,) = self.events()
            self.assertEqual(e.customer, ctx.customer_hash(who))
            ctx.signal_rearm(back, who)
            s.visit(T0 + 3 * MIN, "cart", who)
            s.visit(T0 + 4 * MIN, "browse", who)
            self.assertEqual(len(self.events()), 1)
        self.assertEqual(ctx.customer_hash(258), ctx.customer_hash((258).to_bytes(8, "little")))

    def test_max_signals(self):
        ctx = self.ctx
        for i in range(cxm.MAX_SIGNALS):
            self.assertEqual(ctx.signal("backwards", "shop"), i)
        with self.assertRaises(cxm.LimitError):
            ctx.signal("backwards", "shop")
        self.assertEqual(cxm.SIGNAL_MAX_COUNT, 8)


class Snapshots(unittest.TestCase):
    def test_definitions_and_customer_state_come_back(self):
        with make_ctx(now=T0 + DAY) as ctx:
            s = Shop(ctx)
            back = ctx.signal("backwards", "shop")
            rep = ctx.signal("repeat", "shop", count=3, window="1h")
            stuck = ctx.signal("stuck", "shop", window="1h")
            fail = ctx.signal("failure", "shop", step="pay", count=2, window="1h", metric="paid",
                              op="==", threshold=0)
            ctx.signal_enable(fail, False)
            for m, step in ((0, "browse"), (1, "cart"), (2, "browse")):
                s.visit(T0 + m * MIN, step, "alice")             # back: fired
            for m, step in ((0, "browse"), (1, "cart"), (2, "cart")):
                s.visit(T0 + m * MIN, step, "bob")               # two of three
            ctx.sweep(T0 + 2 * HOUR)                             # both stuck
            self.assertEqual(sorted(e.rule for e in ctx.poll_events()), [back, stuck, stuck])
            defs = [ctx.signal_def(i) for i in range(4)]
            data = ctx.snapshot()
        self.assertEqual([d.enabled for d in defs], [True, True, True, False])
        with make_ctx(now=T0 + DAY) as copy:
            copy.load(data)
            self.assertEqual([copy.signal_def(i) for i in range(4)], defs)
            with self.assertRaises(cxm.UnknownIdError):
                copy.signal_def(4)
            self.assertEqual(copy.poll_events(), [])
            copy.feed(T0 + 3 * MIN, "browse", customer="alice")  # fired already: remembered
            self.assertEqual(copy.poll_events(), [])
            copy.feed(T0 + 3 * MIN, "cart", customer="bob")      # bob's two contacts came along
            (e,) = copy.poll_events()
            self.assertEqual((e.kind, e.rule, e.value, e.customer),
                             ("signal", rep, 3.0, copy.customer_hash("bob")))
            copy.sweep(T0 + 2 * HOUR)                            # the last sweep's instant too
            self.assertEqual(copy.poll_events(), [])
            copy.merge(data)                                     # a merge keeps the target's
            with self.assertRaises(cxm.UnknownIdError):
                copy.signal_def(4)
            again = copy.snapshot()
            with make_ctx(now=T0 + DAY) as third:                # and it loads again
                third.load(again)
                self.assertEqual([third.signal_def(i) for i in range(4)], defs)
                self.assertEqual(len(third.snapshot()), len(again))
            self.assertEqual(copy.signal("backwards", "shop"), 4)  # ids go on


class BadArguments(Base):
    def test_signal(self):
        ctx, s = self.ctx, self.s
        repeat = dict(kind="repeat", journey="shop", count=2, window="1h")
        failure = dict(kind="failure", journey="shop", count=1, window="1h", metric="paid",
                       op="==", threshold=0)
        cases = [
            (repeat, dict(kind="nope"), cxm.InvalidArgumentError),
            (repeat, dict(kind=""), cxm.InvalidArgumentError),
            (repeat, dict(kind="stuck_"), cxm.InvalidArgumentError),
            (repeat, dict(kind=0), cxm.InvalidArgumentError),
            (repeat, dict(kind=5), cxm.InvalidArgumentError),
            (repeat, dict(kind=-1), cxm.OutOfRangeError),
            (repeat, dict(kind=2**32), cxm.OutOfRangeError),
            (repeat, dict(kind=True), TypeError),
            (repeat, dict(kind=2.0), TypeError),
            (repeat, dict(kind=None), TypeError),
            (repeat, dict(journey="nope"), cxm.UnknownIdError),
            (repeat, dict(journey=9), cxm.UnknownIdError),
            (repeat, dict(journey=-1), cxm.UnknownIdError),
            (repeat, dict(journey=2**40), cxm.UnknownIdError),
            (repeat, dict(journey=True), TypeError),
            (repeat, dict(journey=0.0), TypeError),
            (repeat, dict(journey=None), TypeError),
            (repeat, dict(step="nope"), cxm.UnknownIdError),
            (repeat, dict(step=5), cxm.UnknownIdError),
            (repeat, dict(step=-1), cxm.UnknownIdError),
            (repeat, dict(step=True), TypeError),
            (repeat, dict(step=1.0), TypeError),
            (repeat, dict(journey="nope", step="cart"), cxm.UnknownIdError),
            (repeat, dict(count=0), cxm.OutOfRangeError),
            (repeat, dict(count=1), cxm.OutOfRangeError),
            (repeat, dict(count=9), cxm.OutOfRangeError),
            (repeat, dict(count=-1), cxm.OutOfRangeError),
            (repeat, dict(count=2**32), cxm.OutOfRangeError),
            (repeat, dict(count=True), TypeError),
            (repeat, dict(count=2.0), TypeError),
            (repeat, dict(count="2"), TypeError),
            (repeat, dict(window=None), cxm.OutOfRangeError),
            (repeat, dict(window=0), cxm.OutOfRangeError),
            (repeat, dict(window=-1), cxm.OutOfRangeError),
            (repeat, dict(window=cxm.JOURNEY_MAX_WINDOW + timedelta(milliseconds=1)),
             cxm.OutOfRangeError),
            (repeat, dict(window=2**63), cxm.OutOfRangeError),
            (repeat, dict(window="1.5ms"), ValueError),
            (repeat, dict(window="soon"), ValueError),
            (repeat, dict(window=True), TypeError),
            (repeat, dict(window=1.5), TypeError),
            (repeat, dict(metric="paid"), cxm.InvalidArgumentError),
            (repeat, dict(op="<"), cxm.InvalidArgumentError),     # "<" is libcxm's 0
            (repeat, dict(op="=="), cxm.InvalidArgumentError),
            (repeat, dict(item=1), cxm.InvalidArgumentError),
            (repeat, dict(threshold=1), cxm.InvalidArgumentError),
            (repeat, dict(threshold=math.nan), cxm.InvalidArgumentError),
            (repeat, dict(threshold="0"), TypeError),
            (dict(kind="stuck", journey="shop", window="1h"), dict(count=1), cxm.OutOfRangeError),
            (dict(kind="stuck", journey="shop", window="1h"), dict(step="done"),
             cxm.OutOfRangeError),                                 # the goal: an instance ends there
            (dict(kind="stuck", journey="shop"), {}, cxm.OutOfRangeError),
            (dict(kind="backwards", journey="shop"), dict(window="1h"), cxm.OutOfRangeError),
            (dict(kind="backwards", journey="shop"), dict(count=2), cxm.OutOfRangeError),
            (dict(kind="backwards", journey="shop"), dict(op=">"), cxm.InvalidArgumentError),
            (failure, dict(metric=None), TypeError),
            (failure, dict(op=None), TypeError),
            (failure, dict(metric="calls"), cxm.KindError),        # VOLUME: no measures
            (failure, dict(metric="nope"), cxm.UnknownIdError),
            (failure, dict(metric=99), cxm.UnknownIdError),
            (failure, dict(metric=-1), cxm.UnknownIdError),
            (failure, dict(metric=True), TypeError),
            (failure, dict(item=1), cxm.OutOfRangeError),
            (failure, dict(item=-1), cxm.OutOfRangeError),
            (failure, dict(item=True), TypeError),
            (failure, dict(op="=<"), cxm.InvalidArgumentError),
            (failure, dict(op=""), cxm.InvalidArgumentError),
            (failure, dict(op=6), cxm.InvalidArgumentError),
            (failure, dict(op=-1), cxm.OutOfRangeError),
            (failure, dict(op=True), TypeError),
            (failure, dict(op=1.0), TypeError),
            (failure, dict(threshold=math.nan), cxm.NotFiniteError),
            (failure, dict(threshold=math.inf), cxm.NotFiniteError),
            (failure, dict(threshold=10**400), cxm.NotFiniteError),
            (failure, dict(threshold="0"), TypeError),
            (failure, dict(threshold=None), TypeError),
            (failure, dict(threshold=True), TypeError),
            (failure, dict(count=0), cxm.OutOfRangeError),
            (failure, dict(count=9), cxm.OutOfRangeError),
            (failure, dict(window=None), cxm.OutOfRangeError),
        ]
        for base, kw, exc in cases:
            args = dict(base)
            args.update(kw)
            with self.subTest(**{k: repr(v) for k, v in kw.items()}), self.assertRaises(exc):
                ctx.signal(args.pop("kind"), args.pop("journey"), **args)
        with self.assertRaises(TypeError):
            ctx.signal("backwards")                                  # the journey is needed
        with self.assertRaises(TypeError):
            ctx.signal("repeat", "shop", "cart", 2, "1h")            # keywords only
        with self.assertRaises(TypeError):
            ctx.signal("backwards", "shop", where="cart")
        self.assertEqual(ctx.signal("backwards", "shop"), 0)         # nothing was defined
        self.assertIsInstance(ctx.signal("failure", "shop", count=8, window=HOUR, metric=s.aht,
                                         op=">", threshold=600), int)

    def test_signal_enable_signal_def_and_signal_rearm(self):
        ctx = self.ctx
        calls = (ctx.signal_def, lambda i: ctx.signal_enable(i, True),
                 lambda i: ctx.signal_rearm(i, "alice"))
        for fn in calls:
            with self.assertRaises(cxm.UnknownIdError):
                fn(0)                                                # none defined yet
        r = ctx.signal("backwards", "shop")
        for fn in calls:
            for bad, exc in ((1, cxm.UnknownIdError), (-1, cxm.UnknownIdError),
                             (2**40, cxm.UnknownIdError), (True, TypeError), (0.0, TypeError),
                             ("0", TypeError), (None, TypeError)):
                with self.subTest(signal=bad), self.assertRaises(exc):
                    fn(bad)
        for on in (1, 0, "no", None):
            with self.subTest(on=on), self.assertRaises(TypeError):
                ctx.signal_enable(r, on)
        self.assertTrue(ctx.signal_def(r).enabled)
        with self.assertRaises(TypeError):
            ctx.signal_def()
        with self.assertRaises(TypeError):
            ctx.signal_rearm(r)
        with self.assertRaises(TypeError):
            ctx._signal_get(r, r)
        with self.assertRaises(TypeError):
            ctx._signal_get(signal=r)
        with self.assertRaises(TypeError):
            ctx._signal_define(3, 0, None, 0, 0, None, 0, 0)          # 8 of 9
        with self.assertRaises(TypeError):
            ctx._signal_enable(r, True, True)
        with self.assertRaises(TypeError):
            ctx._signal_rearm(r, "a", "b")

    def test_rearm_customers(self):
        with make_ctx(max_customer_id_len=8) as ctx:
            Shop(ctx)
            r = ctx.signal("backwards", "shop")
            for bad, exc in ((None, TypeError), (True, TypeError), (1.5, TypeError),
                             (["bob"], TypeError), ("", cxm.InvalidArgumentError),
                             (b"", cxm.InvalidArgumentError), (2**64, cxm.OutOfRangeError),
                             ("123456789", cxm.TooLongError), ("\ud800", UnicodeEncodeError)):
                with self.subTest(customer=bad), self.assertRaises(exc):
                    ctx.signal_rearm(r, bad)
            ctx.signal_rearm(r, "12345678")
            ctx.signal_rearm(r, -1)

    def test_the_private_define_refuses_what_libcxm_would_misread(self):
        ctx = self.ctx
        base = [2, 0, None, 2, HOUR, None, 0, 0, 0.0]
        for i, bad, exc in ((0, 2**31, cxm.InvalidArgumentError), (0, 2**32, cxm.OutOfRangeError),
                            (1, "nope", cxm.UnknownIdError), (2, "cart", TypeError),
                            (5, "paid", TypeError), (5, 0, cxm.InvalidArgumentError),
                            (7, 2**31, cxm.InvalidArgumentError), (8, True, TypeError)):
            args = list(base)
            args[i] = bad
            with self.subTest(arg=i, value=bad), self.assertRaises(exc):
                ctx._signal_define(*args)
        self.assertEqual(ctx._signal_define(*base), 0)

    def test_a_closed_context(self):
        ctx = self.ctx
        r = ctx.signal("backwards", "shop")
        ctx.close()
        for call in (lambda: ctx.signal("backwards", 0), lambda: ctx.signal_enable(r, False),
                     lambda: ctx.signal_def(r), lambda: ctx.signal_rearm(r, "alice"),
                     lambda: ctx._signal_define(3, 0, None, 0, 0, None, 0, 0, 0.0)):
            with self.assertRaises(ValueError):
                call()


DOC = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "..", "docs", "python.md")


class Guide(unittest.TestCase):
    def test_signal_example_prints_what_the_guide_says(self):
        if not os.path.exists(DOC):
            self.skipTest("docs/python.md is not in this tree")
        with open(DOC, encoding="utf-8") as f:
            text = f.read()
        m = re.search(r"### Example: a checkout watched[^\n]*\n\n```python\n(.*?)```\n\nprints\n\n"
                      r"```\n(.*?)```", text, re.S)
        self.assertIsNotNone(m)
        p = subprocess.run([PY, "-c", m.group(1)], env=python_env(), capture_output=True, text=True,
                           timeout=120)
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertEqual(p.stdout, m.group(2))


if __name__ == "__main__":
    unittest.main()
