"""Context lifecycle, configuration, clock, module functions."""
import gc
import sys
import unittest
import weakref
from datetime import datetime, timedelta, timezone

import cxm
from support import T0, HOUR, MIN, Model, make_ctx


class Lifecycle(unittest.TestCase):
    def test_context_manager_closes(self):
        with cxm.Context() as ctx:
            self.assertIsInstance(ctx, cxm.Context)
            self.assertFalse(ctx.closed)
        self.assertTrue(ctx.closed)
        self.assertEqual(repr(ctx), "<cxm.Context closed>")

    def test_close_is_idempotent_and_later_calls_fail(self):
        ctx = cxm.Context()
        tp = ctx.touchpoint("a")
        ctx.close()
        ctx.close()
        self.assertTrue(ctx.closed)
        for call in (lambda: ctx.feed(T0, tp), lambda: ctx.stats(), lambda: ctx.touchpoint("b"),
                     lambda: ctx.run(cxm.Query(0, "1h")), lambda: ctx.feed_many([]),
                     lambda: ctx.__enter__(), lambda: len(ctx.touchpoints)):
            with self.assertRaisesRegex(ValueError, "closed"):
                call()

    def test_exit_returns_false_so_exceptions_propagate(self):
        with self.assertRaises(ZeroDivisionError):
            with cxm.Context():
                1 / 0

    def test_init_twice_is_refused(self):
        ctx = cxm.Context()
        with self.assertRaises(RuntimeError):
            ctx.__init__()
        ctx.close()

    def test_garbage_collected_with_a_cycle_through_the_clock(self):
        ctx = cxm.Context(clock=lambda: T0)
        holder = [ctx]
        ctx.cycle = holder  # ctx -> list -> ctx
        ref = weakref.ref(ctx)
        del ctx, holder
        gc.collect()
        self.assertIsNone(ref())

    def test_repr_counts_definitions(self):
        with cxm.Context() as ctx:
            Model(ctx)
            self.assertEqual(repr(ctx), "<cxm.Context journeys=1 touchpoints=4 metrics=9 segments=2>")


class Config(unittest.TestCase):
    def test_every_key(self):
        ctx = cxm.Context(
            tiers=[("1m", 180), (timedelta(hours=1), 48), (86_400_000, 30)],
            shards=4, max_future="10m", max_journeys=10, max_steps=8, max_touchpoints=100,
            max_metrics=20, max_segments=4, max_segment_values=64, max_name_len=64,
            max_customer_id_len=32, max_measures=16, min_samples=5, max_series=10_000,
            confidence=0.9, customer_key=bytes(range(16)), max_customers=1000,
            customer_policy="refuse", clock=lambda: T0)
        self.assertEqual(ctx.stats().shards, 4)
        with self.assertRaises(cxm.TooLongError):
            ctx.touchpoint("x" * 65)
        ctx.close()

    def test_unknown_key(self):
        with self.assertRaisesRegex(TypeError, "unexpected keyword argument 'colour'"):
            cxm.Context(colour="red")
        with self.assertRaises(TypeError):
            cxm._cxm.Context(1)

    def test_values_libcxm_refuses(self):
        with self.assertRaises(cxm.OutOfRangeError) as cm:
            cxm.Context(tiers=[("1m", 1)])
        self.assertIn("buckets", str(cm.exception))
        with self.assertRaises(cxm.OutOfRangeError):
            cxm.Context(confidence=1.5)
        with self.assertRaises(cxm.NotFiniteError):
            cxm.Context(confidence=float("nan"))
        with self.assertRaises(cxm.OutOfRangeError):
            cxm.Context(max_segments=65)
        with self.assertRaises(cxm.OutOfRangeError):
            cxm.Context(tiers=[("1m", 10)] * 5)
        with self.assertRaises(cxm.InvalidArgumentError):
            cxm.Context(customer_policy=7)
        with self.assertRaises(cxm.InvalidArgumentError):
            cxm.Context(customer_policy="sometimes")
        with self.assertRaises(cxm.OutOfRangeError):
            cxm.Context(max_future="400d")
        with self.assertRaises(ValueError):
            cxm.Context(max_future="2 fortnights")

    def test_values_that_do_not_fit_the_c_types(self):
        with self.assertRaisesRegex(cxm.OutOfRangeError, "max_journeys -1 does not fit"):
            cxm.Context(max_journeys=-1)
        with self.assertRaises(cxm.OutOfRangeError):
            cxm.Context(max_series=-5)
        with self.assertRaises(TypeError):
            cxm.Context(customer_key=b"short")
        with self.assertRaises((TypeError, ValueError)):
            cxm.Context(tiers=[(60000,)])
        with self.assertRaises(TypeError):
            cxm._cxm.Context(tiers=[(60000,)])
        with self.assertRaises(TypeError):
            cxm.Context(clock=42)
        with self.assertRaises(TypeError):
            cxm.Context(max_journeys="ten")


class ClockTests(unittest.TestCase):
    def test_injected_clock_decides_too_early_and_now(self):
        ctx = make_ctx()
        m = Model(ctx)
        ctx.feed(T0, m.web, {m.nps: 9})
        with self.assertRaises(cxm.TooEarlyError):
            ctx.feed(T0 + 6 * MIN, m.web, {m.nps: 9})
        ctx.test_clock.now = T0 + 10 * MIN
        ctx.feed(T0 + 6 * MIN, m.web, {m.nps: 9})
        r = ctx.query(m.nps, "1h")  # ends at the clock's now
        self.assertEqual(r.n, 2)

    def test_clock_may_return_a_datetime(self):
        t = datetime(2026, 11, 22, 12, tzinfo=timezone.utc)
        with cxm.Context(clock=lambda: t) as ctx:
            m = Model(ctx)
            ctx.feed(T0, m.web)
            self.assertEqual(ctx.query(m.volume, "1h").end_ms, T0 + MIN)

    def test_a_failing_clock_is_reported_not_raised(self):
        seen = []
        old = sys.unraisablehook
        sys.unraisablehook = lambda u: seen.append(u.exc_type)
        try:
            def bad():
                raise RuntimeError("clock broke")
            with cxm.Context(clock=bad) as ctx:
                tp = ctx.touchpoint("a")
                with self.assertRaises(cxm.TooEarlyError):
                    ctx.feed(T0, tp)  # now reads as 0
        finally:
            sys.unraisablehook = old
        self.assertIn(RuntimeError, seen)


class ModuleFunctions(unittest.TestCase):
    def test_versions(self):
        self.assertEqual(cxm.libversion(), cxm._cxm.VERSION)
        self.assertEqual(cxm.libversion_number(), cxm._cxm.VERSION_NUMBER)
        self.assertRegex(cxm.__version__, r"^\d+\.\d+\.\d+$")

    def test_strerror(self):
        self.assertEqual(cxm.strerror(0), cxm._cxm.strerror(cxm.Status.OK))
        self.assertEqual(cxm.strerror(3), "out of range")
        self.assertEqual(cxm.strerror(999), "unknown status")
        self.assertEqual(cxm.strerror(-1), "unknown status")
        self.assertEqual(cxm.strerror(2 ** 80), "unknown status")
        with self.assertRaises(TypeError):
            cxm.strerror("3")
        for s in cxm.Status:
            self.assertNotEqual(cxm.strerror(s), "unknown status")

    def test_constants(self):
        self.assertEqual(cxm.NONE, 2 ** 32 - 1)
        self.assertEqual(cxm.TIME_MAX, 253402300799999)
        self.assertEqual(cxm._cxm.STATUS_COUNT, len(cxm.Status))
        self.assertEqual(cxm._cxm.LIMITED_API, 0x03080000)
        self.assertEqual(bool(cxm._cxm.HAS_FASTCALL), sys.version_info >= (3, 10))
        self.assertEqual(bool(cxm._cxm.HAS_BUFFER), sys.version_info >= (3, 11))
        self.assertTrue(cxm._cxm.__file__.endswith("_cxm.abi3.so"))

    def test_converters(self):
        t = datetime(2026, 11, 22, 12, tzinfo=timezone.utc)
        self.assertEqual(cxm.time_ms(t), T0)
        self.assertEqual(cxm.time_ms("2026-11-22T12:00:00Z"), T0)
        self.assertEqual(cxm.time_ms("2026-11-22T13:00:00+01:00"), T0)
        self.assertEqual(cxm.from_ms(T0), t)
        self.assertEqual(cxm.span_ms("24h"), 24 * HOUR)
        self.assertEqual(cxm.span_ms("1h30m"), 90 * MIN)
        self.assertEqual(cxm.span_ms("500ms"), 500)
        self.assertEqual(cxm.span_ms("1.5d"), 36 * HOUR)
        self.assertEqual(cxm.span_ms("2w"), 14 * 24 * HOUR)
        self.assertEqual(cxm.span_ms(timedelta(minutes=3)), 3 * MIN)
        with self.assertRaises(ValueError):
            cxm.time_ms(datetime(2026, 11, 22))  # naive
        with self.assertRaises(ValueError):
            cxm.time_ms("2026-11-22T12:00:00")  # no offset
        with self.assertRaises(TypeError):
            cxm.time_ms(1.5)
        with self.assertRaises(TypeError):
            cxm.time_ms(object())
        with self.assertRaises(ValueError):
            cxm.span_ms("")
        with self.assertRaises(TypeError):
            cxm.span_ms(2.5)


if __name__ == "__main__":
    unittest.main()
