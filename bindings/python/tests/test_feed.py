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
            (cxm.UnknownIdError, lambda: ctx.feed(T0, -1)),
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
            (cxm.UnknownIdError, lambda: ctx.feed(T0, m.web, segments=[None] * 65)),
            (cxm.LimitError, lambda: [ctx.feed(T0, m.web, segments={m.tier: v}) for v in "abcdef"]),
            (cxm.OutOfRangeError, lambda: ctx.feed(T0, m.web, customer=2 ** 64)),
            (cxm.OutOfRangeError, lambda: ctx.feed(T0, m.web, customer=-(2 ** 63) - 1)),
            (cxm.EncodingError, lambda: ctx.feed(T0, m.web, segments={m.tier: "a\x00b"})),
        ]
        for exc, call in binding:
            with self.assertRaises(exc):
                call()

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
