"""feed(): every form of every argument, and every way it is refused."""
import math
import unittest
from datetime import datetime, timedelta, timezone

import cxm
from support import HOUR, MIN, T0, Model, make_ctx, numpy_or_none


class Feed(unittest.TestCase):
    def setUp(self):
        self.ctx = make_ctx()
        self.m = Model(self.ctx)

    def tearDown(self):
        self.ctx.close()

    def count(self, metric, **scope):
        return self.ctx.query(metric, "1h", **scope).n

    def test_times(self):
        ctx, m = self.ctx, self.m
        ctx.feed(T0, m.web)
        ctx.feed(datetime(2026, 11, 22, 12, tzinfo=timezone.utc), m.web)
        ctx.feed(datetime(2026, 11, 22, 13, tzinfo=timezone(timedelta(hours=1))), m.web)
        ctx.feed("2026-11-22T11:59:00Z", m.web)
        np = numpy_or_none()
        if np is not None:
            ctx.feed(np.datetime64(T0, "ms"), m.web)
            ctx.feed(np.datetime64(T0 * 1_000_000, "ns"), m.web)
            ctx.feed(np.int64(T0), np.uint32(int(m.web)))
        self.assertEqual(self.count(m.volume), 7 if np is not None else 4)
        with self.assertRaises(ValueError):
            ctx.feed(datetime(2026, 11, 22, 12), m.web)  # naive
        with self.assertRaises(TypeError):
            ctx.feed(T0 / 1000, m.web)
        with self.assertRaises(TypeError):
            ctx.feed(None, m.web)
        with self.assertRaises(cxm.OutOfRangeError):
            ctx.feed(-1, m.web)
        with self.assertRaises(cxm.OutOfRangeError):
            ctx.feed(2 ** 70, m.web)  # beyond int64: refused by libcxm
        with self.assertRaises(cxm.TooLateError):
            ctx.feed(T0 - 3 * HOUR, m.web)
        with self.assertRaises(cxm.TooEarlyError):
            ctx.feed(T0 + 10 * MIN, m.web)

    def test_measures_forms(self):
        ctx, m = self.ctx, self.m
        ctx.feed(T0, m.agent, {m.nps: 10, m.aht: 300.5, m.resolved: True, m.revenue: -2})
        ctx.feed(T0, m.agent, [(m.nps, 9), (m.csat, 0, 5)])
        ctx.feed(T0, m.agent, ((m.nps, 0),))
        ctx.feed(T0, m.agent, {"nps": 7, "aht": None})  # by name; None: not measured
        ctx.feed(T0, m.agent, {m.cxi: (9, None, 10)})  # INDEX: answers by question
        ctx.feed(T0, m.agent, [[m.cxi, 1, 4]])
        ctx.feed(T0, m.agent, {m.resolved: False})
        ctx.feed(T0, m.agent, {})
        ctx.feed(T0, m.agent, None)
        self.assertEqual(self.count(m.nps), 4)
        self.assertEqual(self.count(m.aht), 1)
        self.assertEqual(self.count(m.csat), 1)
        r = ctx.query(m.resolved, "1h")
        self.assertEqual((r.n, r.top, r.bottom), (2, 1, 1))
        x = ctx.query(m.cxi, "1h")
        self.assertEqual(x.item_n, (1, 1, 1))
        self.assertEqual(ctx.query(m.revenue, "1h").sum, -2)
        self.assertEqual(self.count(m.volume), 9)
        np = numpy_or_none()
        if np is not None:
            ctx.feed(T0, m.agent, {m.nps: np.int8(9), m.aht: np.float32(1.5)})
            self.assertEqual(self.count(m.nps), 5)

    def test_customers_and_segments(self):
        ctx, m = self.ctx, self.m
        ctx.feed(T0, m.web, None, "alice")
        ctx.feed(T0, m.web, None, b"alice")  # the same bytes
        ctx.feed(T0, m.web, None, 12345, {m.tier: m.gold})
        ctx.feed(T0, m.web, None, (12345).to_bytes(8, "little"))  # ints are their 8 LE bytes
        ctx.feed(T0, m.web, None, -1, segments={m.tier: "bronze", m.region: "north"})
        ctx.feed(T0, m.web, None, 2 ** 64 - 1)  # the same 8 bytes as -1
        ctx.feed(T0, m.web, None, "ü-unicode", ["silver", None])
        ctx.feed(T0, m.web, segments={"tier": 0, "region": None})
        ctx.feed(T0, m.web, segments=[m.gold])
        ctx.feed(T0, m.web, customer=None, segments={m.tier: -1})  # -1: no value
        self.assertAlmostEqual(ctx.query(m.distinct, "1h").value, 4, delta=0.5)  # HyperLogLog
        self.assertEqual(self.count(m.volume, segment=m.gold), 3)
        self.assertEqual(self.count(m.volume, segment=("tier", "silver")), 1)
        self.assertEqual(self.count(m.volume, segment=("region", "north")), 1)
        self.assertEqual(ctx.last_seen_ms("alice"), T0)
        self.assertEqual(ctx.last_seen(b"alice"), cxm.from_ms(T0))
        self.assertEqual(ctx.last_seen_ms(-1), T0)
        ctx.forget("alice")
        with self.assertRaises(cxm.UnknownIdError):
            ctx.last_seen("alice")
        with self.assertRaises(cxm.UnknownIdError):
            ctx.forget("alice")
        with self.assertRaises(cxm.TooLongError):
            ctx.last_seen("x" * 1000)
        with self.assertRaises(cxm.InvalidArgumentError):
            ctx.last_seen("")
        with self.assertRaises(TypeError):
            ctx.last_seen(None)
        with self.assertRaises(TypeError):
            ctx.forget(1.5)
        self.assertEqual(ctx.stats().customers_forgotten, 1)

    def test_keywords(self):
        ctx, m = self.ctx, self.m
        ctx.feed(time=T0, touchpoint=m.web, measures={m.nps: 9}, customer="c", segments={m.tier: "gold"})
        ctx.feed(T0, m.web, customer="c")
        ctx.feed(T0, touchpoint="web")
        self.assertEqual(self.count(m.volume), 3)
        with self.assertRaisesRegex(TypeError, "unexpected keyword argument 'color'"):
            ctx.feed(T0, m.web, color=1)
        with self.assertRaisesRegex(TypeError, "multiple values for argument 'touchpoint'"):
            ctx.feed(T0, m.web, touchpoint=m.web)
        with self.assertRaisesRegex(TypeError, "missing required argument 'touchpoint'"):
            ctx.feed(T0)
        with self.assertRaisesRegex(TypeError, "at most 5 positional"):
            ctx.feed(T0, m.web, None, None, None, None)

    def test_refusals_leave_nothing(self):
        ctx, m = self.ctx, self.m
        before = ctx.stats()
        cases = [
            (cxm.OutOfRangeError, lambda: ctx.feed(T0, m.web, {m.nps: 11})),
            (cxm.OutOfRangeError, lambda: ctx.feed(T0, m.web, {m.nps: 9.5})),
            (cxm.OutOfRangeError, lambda: ctx.feed(T0, m.web, {m.aht: -1})),
            (cxm.OutOfRangeError, lambda: ctx.feed(T0, m.web, {m.resolved: 2})),
            (cxm.OutOfRangeError, lambda: ctx.feed(T0, m.web, [(m.cxi, 3, 9)])),
            (cxm.NotFiniteError, lambda: ctx.feed(T0, m.web, {m.aht: math.nan})),
            (cxm.NotFiniteError, lambda: ctx.feed(T0, m.web, {m.revenue: math.inf})),
            (cxm.NotFiniteError, lambda: ctx.feed(T0, m.web, {m.revenue: 10 ** 400})),
            (cxm.KindError, lambda: ctx.feed(T0, m.web, {m.volume: 1})),
            (cxm.UnknownIdError, lambda: ctx.feed(T0, 99)),
            (cxm.UnknownIdError, lambda: ctx.feed(T0, m.web, {77: 1})),
            (cxm.UnknownIdError, lambda: ctx.feed(T0, m.web, segments={m.tier: 3})),
            (cxm.TooLongError, lambda: ctx.feed(T0, m.web, customer="x" * 300)),
        ]
        for exc, call in cases:
            with self.assertRaises(exc):
                call()
        after = ctx.stats()
        self.assertEqual(after.accepted, before.accepted)
        self.assertEqual(after.rejected_total, before.rejected_total + len(cases))
        self.assertEqual(after.series, before.series)
        # the binding's own refusals (types) never reach libcxm
        binding = [
            (TypeError, lambda: ctx.feed(T0, m.web, 5)),
            (TypeError, lambda: ctx.feed(T0, m.web, {m.nps: "9"})),
            (TypeError, lambda: ctx.feed(T0, m.web, [(m.nps,)])),
            (TypeError, lambda: ctx.feed(T0, m.web, [7])),
            (TypeError, lambda: ctx.feed(T0, m.web, customer=1.5)),
            (TypeError, lambda: ctx.feed(T0, m.web, segments=5)),
            (TypeError, lambda: ctx.feed(T0, 1.0)),
            (cxm.UnknownIdError, lambda: ctx.feed(T0, "no such touchpoint")),
            (cxm.UnknownIdError, lambda: ctx.feed(T0, m.web, {"no such metric": 1})),
            (cxm.UnknownIdError, lambda: ctx.feed(T0, m.web, segments={"no such": "x"})),
            (cxm.UnknownIdError, lambda: ctx.feed(T0, m.web, segments={100: 1})),
            (cxm.UnknownIdError, lambda: ctx.feed(T0, -1)),
            (cxm.UnknownIdError, lambda: ctx.feed(T0, m.web, segments=[None] * 65)),
            (cxm.LimitError, lambda: [ctx.feed(T0, m.web, segments={m.tier: v}) for v in "abcdef"]),
            (cxm.OutOfRangeError, lambda: ctx.feed(T0, m.web, customer=2 ** 64)),
            (cxm.OutOfRangeError, lambda: ctx.feed(T0, m.web, customer=-(2 ** 63) - 1)),
            (cxm.EncodingError, lambda: ctx.feed(T0, m.web, segments={m.tier: "a\x00b"})),
        ]
        for exc, call in binding:
            with self.assertRaises(exc):
                call()

    def test_an_empty_customer_id_is_an_error_everywhere(self):
        # customer="" used to be fed as anonymous, while forget("") raised
        ctx, m = self.ctx, self.m
        for empty in ("", b""):
            with self.subTest(empty=empty):
                for call in (lambda: ctx.feed(T0, m.web, customer=empty),
                             lambda: ctx.forget(empty), lambda: ctx.last_seen(empty),
                             lambda: ctx.churn(empty, T0)):
                    with self.assertRaisesRegex(cxm.InvalidArgumentError, "empty customer id"):
                        call()
                rep = ctx.feed_many([(T0, m.web, None, empty), (T0, m.web, None, None)])
                self.assertEqual((rep.accepted, [(r.index, r.code) for r in rep.rejections]),
                                 (1, [(0, cxm.Status.INVALID)]))
        self.assertEqual(ctx.stats().accepted, 2)  # the two anonymous rows (None) only
        ctx.feed(T0, m.web, customer=None)  # None: no customer

    def test_no_bool_is_taken_as_an_int(self):
        ctx, m = self.ctx, self.m
        calls = [
            lambda: ctx.feed(T0, True),                        # touchpoint 1
            lambda: ctx.feed(True, m.web),                     # time 1 ms
            lambda: ctx.feed(T0, m.web, {True: 9}),            # metric 1
            lambda: ctx.feed(T0, m.web, customer=True),        # customer b"\x01\0..."
            lambda: ctx.feed(T0, m.web, segments={m.tier: True}),
            lambda: ctx.feed(T0, m.web, segments={True: "gold"}),
            lambda: ctx.feed(T0, m.web, [(m.cxi, True, 9)]),   # question 1
            lambda: ctx.feed_many([], start=True),
            lambda: ctx.query(m.nps, True),
            lambda: ctx.query(m.nps, "1h", end=True),
            lambda: ctx.quantiles(m.aht, [True], "1h"),
            lambda: ctx.segment("s", True),
            lambda: ctx.touchpoints[True],
            lambda: ctx.touchpoint("t", True),
            lambda: ctx.metric("m", True),
            lambda: ctx.segment_value(m.tier, "x", add="no"),
            lambda: cxm.Context(shards=True),
            lambda: cxm.Context(confidence=True),
            lambda: cxm.Query(m.nps, "1h", touchpoint=True),
            lambda: ctx.export(segments="no"),
            lambda: cxm.JourneyOptions(strict="no"),
            lambda: cxm.time_ms(False),
            lambda: cxm.span_ms(True),
        ]
        for i, call in enumerate(calls):
            with self.subTest(i=i):
                with self.assertRaises(TypeError):
                    call()
        self.assertEqual(ctx.stats().accepted, 0)
        # a bool measure is a rate's yes or no, as documented
        ctx.feed(T0, m.web, {m.resolved: True})
        self.assertEqual(ctx.query(m.resolved, "1h").top, 1)

    def test_no_float_is_truncated_to_an_int(self):
        ctx, m = self.ctx, self.m
        calls = [
            lambda: ctx.touchpoint("t", 2.7),                  # channel 2 (chat)
            lambda: ctx.touchpoints[1.5],
            lambda: ctx.touchpoint("t", "web", m.support, 1.0),
            lambda: ctx.metric_def(0.0),
            lambda: cxm.Context(tiers=[("1m", 120.5)]),
            lambda: cxm.Layout(16.0, time=(0, "q"), touchpoint=(8, "I")),
            lambda: ctx.feed(T0, float(m.web)),
        ]
        for i, call in enumerate(calls):
            with self.subTest(i=i):
                with self.assertRaises(TypeError):
                    call()
        self.assertEqual(len(ctx.touchpoints), 4)

    def test_negative_ids_are_named_as_given(self):
        # -1 used to reach libcxm as 4294967294 and be named so
        ctx, m = self.ctx, self.m
        for call, text in ((lambda: ctx.feed(T0, -1), "touchpoint -1 is not defined"),
                           (lambda: ctx.feed(T0, m.web, {-3: 1}), "metric -3 is not defined"),
                           (lambda: ctx.feed(T0, m.web, segments={m.tier: -2}), "segment value -2"),
                           (lambda: ctx.feed(T0, m.web, segments={-1: 0}), "segment dimension -1"),
                           (lambda: ctx.feed(T0, 2 ** 32 - 1), "touchpoint 4294967295"),
                           (lambda: ctx.feed(T0, 2 ** 80), "touchpoint 1208925819614629174706176"),
                           (lambda: ctx.touchpoints[-1], "touchpoint -1"),
                           (lambda: cxm.Query(-1, "1h"), "metric -1"),
                           (lambda: ctx.query(m.nps, "1h", journey=m.support, step=-1), "step -1")):
            with self.subTest(text=text):
                with self.assertRaisesRegex(cxm.UnknownIdError, text):
                    call()
        ctx.feed(T0, m.web, segments={m.tier: -1})  # -1 is "no value", as documented

    def test_times_and_windows_out_of_range_never_saturate(self):
        ctx, m = self.ctx, self.m
        big = [2 ** 63, -(2 ** 63) - 1, 2 ** 70]
        for w in big:
            with self.subTest(window=w):
                with self.assertRaisesRegex(cxm.OutOfRangeError, "does not fit in 64 bits"):
                    ctx.query(m.nps, w)  # 2**63 read as "everything" before
                with self.assertRaises(ValueError):
                    ctx.funnel(m.support, w)
                with self.assertRaises(ValueError):
                    ctx.churn_rate(m.distinct, "1h", active=w)
                with self.assertRaises(ValueError):
                    cxm.Query(m.nps, "1h", end=w)
                with self.assertRaises(ValueError):
                    ctx.sweep(w)
                with self.assertRaises(ValueError):
                    ctx.set_journey_options(m.support, abandon=w)
                with self.assertRaises(ValueError):
                    cxm.Context(max_future=w)
                with self.assertRaises(ValueError):
                    cxm.Context(tiers=[(w, 120)])
        with self.assertRaises(ValueError):
            cxm.span_ms("1.5ms")  # not rounded to 2 ms
        self.assertEqual(cxm.span_ms("0.1s"), 100)  # exact, not 100.00000000000001

    def test_zero_and_negative_durations_are_not_defaults(self):
        # conversion="0s" became libcxm's default of 7 days
        ctx, m = self.ctx, self.m
        for key in ("conversion", "abandon", "lateness", "repeat"):
            for value in ("0s", 0, timedelta(0), -1000, timedelta(hours=-1), "0ms"):
                with self.subTest(key=key, value=value):
                    with self.assertRaisesRegex(ValueError, "positive"):
                        ctx.set_journey_options(m.support, **{key: value})
        self.assertEqual(ctx.journey_options(m.support).conversion, timedelta(days=7))
        ctx.set_journey_options(m.support, conversion=None, abandon="2h")  # None: the default
        o = ctx.journey_options(m.support)
        self.assertEqual((o.conversion, o.abandon), (timedelta(days=7), timedelta(hours=2)))

    def test_strings_are_not_sequences_of_names(self):
        ctx, m = self.ctx, self.m
        with self.assertRaisesRegex(TypeError, "not a string"):
            ctx.journey("x", "abc")  # steps a, b, c before
        with self.assertRaisesRegex(TypeError, "not a string"):
            ctx._journey_define("x", "abc")
        with self.assertRaisesRegex(TypeError, "not a string"):
            cxm.Context(tiers="1m")
        with self.assertRaisesRegex(TypeError, "not a string"):
            ctx.export(buckets="125")
        self.assertNotIn("x", ctx.journeys)
        self.assertEqual(ctx.journey("x", ["abc"]).steps, ("abc",))

    def test_a_refused_interaction_defines_no_segment_value(self):
        ctx, m = self.ctx, self.m
        refused = [
            (cxm.OutOfRangeError, dict(measures={m.nps: 11})),
            (cxm.TooEarlyError, dict(time=T0 + HOUR)),
            (cxm.TooLateError, dict(time=T0 - 5 * HOUR)),
            (cxm.UnknownIdError, dict(touchpoint=99)),
            (cxm.NotFiniteError, dict(measures={m.aht: math.nan})),
            (cxm.KindError, dict(measures={m.volume: 1})),
        ]
        ctx.feed(T0, m.web)  # a watermark for TOO_LATE
        for k, (exc, change) in enumerate(refused):
            args = dict(time=T0, touchpoint=m.web, measures=None, segments={m.tier: f"new{k}"})
            args.update(change)
            with self.subTest(exc=exc):
                with self.assertRaises(exc):
                    ctx.feed(**args)
        self.assertEqual([v.name for v in ctx.segment_values(m.tier)], ["gold", "silver"])
        self.assertEqual(ctx.stats().rejected_total, 0)  # refused by the check, before libcxm fed
        ctx.feed(T0, m.web, segments={m.tier: "bronze", m.region: "north"})
        ctx.feed(T0, m.web, segments={m.tier: "iron"})  # the fourth value of four
        with self.assertRaises(cxm.LimitError):
            ctx.feed(T0, m.web, segments={m.tier: "tin"})
        self.assertEqual(ctx.stats().accepted, 3)
        self.assertEqual([v.name for v in ctx.segment_values(m.region)], ["north"])

    def test_a_refused_customer_defines_no_segment_value(self):
        with make_ctx(max_customers=64, customer_policy="refuse") as ctx:
            tp = ctx.touchpoint("t")
            seg = ctx.segment("s", 500)
            refused = 0
            for i in range(200):
                try:
                    ctx.feed(T0, tp, customer=f"c{i}", segments={seg: f"v{i}"})
                except cxm.LimitError:
                    refused += 1
            self.assertGreater(refused, 0)
            self.assertEqual(len(ctx.segment_values(seg)), 200 - refused)
            self.assertEqual(ctx.stats().customers, 200 - refused)

    def test_message_names_the_metric(self):
        with self.assertRaises(cxm.OutOfRangeError) as cm:
            self.ctx.feed(T0, self.m.web, {self.m.nps: 11})
        self.assertIn("'nps'", str(cm.exception))
        self.assertEqual(cm.exception.code, cxm.Status.OUT_OF_RANGE)
        self.assertEqual(cm.exception.status, "out of range")

    def test_many_measures(self):
        with make_ctx(max_measures=200) as ctx:
            tp = ctx.touchpoint("t")
            a = ctx.metric("a", "amount")
            ctx.feed(T0, tp, [(a, float(i)) for i in range(150)])  # beyond the inline 16
            self.assertEqual(ctx.query(a, "1h").n, 150)
            with self.assertRaises(cxm.LimitError):
                ctx.feed(T0, tp, [(a, 1.0)] * 201)


if __name__ == "__main__":
    unittest.main()
