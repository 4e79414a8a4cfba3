"""Context lifecycle, configuration, clock, module functions; snapshots,
merge and the OpenMetrics / Prometheus exposition."""
import gc
import io
import math
import os
import pathlib
import re
import struct
import tempfile
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


    def test_zero_is_not_silently_the_default(self):
        # libcxm reads 0 as "the default": max_customers=0 meant a million
        for key in ("shards", "max_journeys", "max_steps", "max_touchpoints", "max_metrics",
                    "max_segments", "max_segment_values", "max_name_len", "max_customer_id_len",
                    "max_measures", "min_samples", "max_customers", "max_series", "confidence"):
            with self.subTest(key=key):
                with self.assertRaisesRegex(cxm.OutOfRangeError, f"{key}=0"):
                    cxm.Context(**{key: 0})
        for value in ("0s", 0, timedelta(0)):
            with self.assertRaisesRegex(cxm.OutOfRangeError, "max_future=0"):
                cxm.Context(max_future=value)
        with self.assertRaisesRegex(cxm.OutOfRangeError, "tiers"):
            cxm.Context(tiers=[])
        with self.assertRaisesRegex(cxm.InvalidArgumentError, "random key"):
            cxm.Context(customer_key=bytes(16))
        # None, like a key left out, is the default; policy 0 is a policy (evict)
        with cxm.Context(max_customers=None, max_future=None, tiers=None, clock=None,
                         customer_key=None, customer_policy=0) as ctx:
            self.assertEqual(ctx.stats().shards, cxm.Context().stats().shards)
        with self.assertRaisesRegex(TypeError, "unexpected keyword argument 'colour'"):
            cxm.Context(colour=None)

    def test_metric_definitions_are_not_clamped(self):
        with cxm.Context() as ctx:
            d = cxm.MetricDef(kind="score", scale_min=1, scale_max=5, top_min=[5], bottom_max=[1])
            for change, text in ((dict(scale_max=2 ** 40), "scale_max 1099511627776 does not fit"),
                                 (dict(na=-(2 ** 31) - 1), "na -2147483649 does not fit"),
                                 (dict(top_min=[2 ** 32]), "top_min 4294967296 does not fit"),
                                 (dict(questions=-1), "questions -1 is negative")):
                with self.subTest(change=change):
                    with self.assertRaisesRegex(cxm.OutOfRangeError, text):
                        ctx.metric("m", d.replace(**change))
            with self.assertRaises(TypeError):
                ctx.metric("m", d.replace(duration_lo=True))
            self.assertEqual(len(ctx.metrics), 0)


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

    def test_a_failing_clock_raises_its_own_exception(self):
        # it used to be "unraisable" and read as now = 0: TooEarlyError "after now (0)"
        boom = RuntimeError("clock broke")
        calls = []

        def bad():
            calls.append(1)
            raise boom
        with cxm.Context(clock=bad) as ctx:
            j = ctx.journey("j", ["a", "b"])
            tp = ctx.touchpoint("a", journey=j, step="a")
            nps = ctx.metric("nps")
            customers = ctx.metric("customers", "distinct")
            calls_that_read_the_clock = [
                lambda: ctx.feed(T0, tp, {nps: 9}),
                lambda: ctx.query(nps, "1h"),
                lambda: ctx.run(ctx.make_query(nps, "1h")),
                lambda: ctx.quantiles(ctx.metric("aht", "duration"), [0.5], "1h"),
                lambda: ctx.funnel(j, "1h"),
                lambda: ctx.churn_rate(customers, "1h", active="1h"),
                lambda: ctx.churn("c1", T0),
                lambda: ctx.sweep(),
            ]
            for call in calls_that_read_the_clock:
                with self.assertRaises(RuntimeError) as cm:
                    call()
                self.assertIs(cm.exception, boom)
            self.assertEqual(ctx.stats().rejected_total, 0)  # no TooEarly counted: libcxm never ran
            self.assertEqual(ctx.stats().accepted, 0)
            # a query with an explicit end does not read the clock
            self.assertEqual(ctx.query(nps, "1h", end=T0).n, 0)
            with self.assertRaises(cxm.BulkFeedError) as cm:
                ctx.feed_many([(T0, tp, {nps: 9})] * 3)
            self.assertIs(cm.exception.__cause__, boom)
            self.assertEqual((cm.exception.accepted, cm.exception.index), (0, 0))
            self.assertIn("RuntimeError: clock broke", str(cm.exception))
            with self.assertRaises(cxm.BulkFeedError) as cm:
                ctx.feed_buffer(struct.pack("<qI4x", T0, int(tp)) * 5,
                                cxm.Layout(16, time=(0, "q"), touchpoint=(8, "I")))
            self.assertIs(cm.exception.__cause__, boom)
            self.assertEqual(cm.exception.report, (0, 0, []))
            self.assertEqual(ctx.stats().accepted, 0)

    def test_a_clock_that_returns_nonsense(self):
        for value, exc in (("soon", ValueError), (True, TypeError), (2 ** 70, cxm.OutOfRangeError),
                           (1.5, TypeError), (None, TypeError)):
            with self.subTest(value=value):
                with cxm.Context(clock=lambda: value) as ctx:
                    tp = ctx.touchpoint("a")
                    with self.assertRaises(exc):
                        ctx.feed(T0, tp)
                    self.assertEqual(ctx.stats().rejected_total, 0)

    def test_the_clock_is_read_once_per_call(self):
        reads = []

        def clock():
            reads.append(1)
            return T0
        with cxm.Context(clock=clock) as ctx:
            tp = ctx.touchpoint("a")
            ctx.feed(T0, tp)
            self.assertEqual(len(reads), 1)
            ctx.feed_many([(T0, tp)] * 2500)  # three chunks of 1024
            self.assertEqual(len(reads), 4)
            ctx.stats()
            ctx.query(ctx.metric("nps"), "1h", end=T0)  # an explicit end: no clock
            self.assertEqual(len(reads), 4)


class ModuleFunctions(unittest.TestCase):
    def test_versions(self):
        self.assertEqual(cxm.libversion(), cxm._cxm.VERSION)
        self.assertEqual(cxm.libversion_number(), cxm._cxm.VERSION_NUMBER)
        self.assertRegex(cxm.__version__, r"^\d+\.\d+\.\d+$")
        # the version is written once, in meson.build's project(): the module
        # says the one it was compiled from, which meson passes to the tests
        self.assertEqual(cxm.__version__, cxm._cxm.VERSION)
        if "CXM_PROJECT_VERSION" in os.environ:
            self.assertEqual(cxm.__version__, os.environ["CXM_PROJECT_VERSION"])

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



# ---- snapshots and merge ------------------------------------------------------

def feed_rows(ctx, m, rows):
    for i, t in rows:
        ctx.feed(t, m.ivr, {m.nps: i % 11, m.aht: 20.0 + i % 97, m.resolved: i % 3 == 0},
                 customer=f"c{i % 40}", segments={m.tier: "gold" if i % 2 else "silver"})
        if i % 40 < 25:  # the same customer, later, at the goal
            ctx.feed(t + 2 * MIN, m.agent, {m.revenue: 1.25 * (i % 8), m.csat: 1 + i % 5},
                     customer=f"c{i % 40}")


ROWS = [(i, T0 - 90 * MIN + (i // 40) * 10 * MIN + i % 40) for i in range(320)]


def answers(ctx, m):
    """What the merge property compares: queries, quantiles, distributions,
    distinct counts, a funnel, statistics."""
    out = {}
    for name, metric in (("nps", m.nps), ("aht", m.aht), ("resolved", m.resolved),
                         ("revenue", m.revenue), ("csat", m.csat), ("distinct", m.distinct)):
        for scope in ({}, {"touchpoint": m.ivr}, {"segment": m.gold}):
            r = ctx.query(metric, "2h", **scope)._asdict()
            for k in ("sum", "mean", "stddev", "value", "ci_low", "ci_high"):
                if isinstance(r.get(k), float) and not math.isnan(r[k]):
                    r[k] = round(r[k], 9)  # sums of the halves add in another order
            out[name, tuple(scope)] = repr(r)
    out["q"] = ctx.quantiles(m.aht, [0.1, 0.5, 0.99], "2h")
    out["dist"] = ctx.distribution(m.nps, "2h")
    f = ctx.funnel(m.support, "2h")
    out["funnel"] = repr(f._asdict())
    s = ctx.stats()
    out["stats"] = (s.accepted, s.rejected_total, s.customers)
    return out


class Snapshots(unittest.TestCase):
    def setUp(self):
        self.ctx = make_ctx()
        self.m = Model(self.ctx)
        feed_rows(self.ctx, self.m, ROWS)
        self.tmp = tempfile.TemporaryDirectory()

    def tearDown(self):
        self.ctx.close()
        self.tmp.cleanup()

    def test_round_trip_through_bytes(self):
        data = self.ctx.snapshot()
        self.assertIsInstance(data, bytes)
        with cxm.Context.from_snapshot(data, clock=self.ctx.test_clock,
                                       customer_key=bytes(range(16))) as back:
            self.assertEqual(answers(back, self.m), answers(self.ctx, self.m))
            self.assertEqual(back.touchpoints.names(), self.ctx.touchpoints.names())
            self.assertEqual(back.snapshot(), data)  # the same state, byte for byte
        with make_ctx() as other:  # bytearray and memoryview too
            other.load(memoryview(bytearray(data)))
            self.assertEqual(other.stats().accepted, self.ctx.stats().accepted)

    def test_round_trip_through_a_file(self):
        path = pathlib.Path(self.tmp.name) / "node-a.cxm"
        self.ctx.save(path)
        self.assertEqual(path.read_bytes(), self.ctx.snapshot())
        self.assertEqual(os.listdir(self.tmp.name), ["node-a.cxm"])  # no temporary left
        for source in (path, str(path)):
            with make_ctx() as back:
                back.load(source)
                self.assertEqual(answers(back, self.m), answers(self.ctx, self.m))
        self.ctx.save(str(path))  # over the old one

    def test_load_errors_leave_the_context_as_it_was(self):
        data = self.ctx.snapshot()
        with self.assertRaises(cxm.InvalidArgumentError):
            self.ctx.load(data)  # not empty
        with make_ctx() as ctx:
            with self.assertRaises(cxm.CorruptError):
                ctx.load(b"not a snapshot at all")
            with self.assertRaises(cxm.CorruptError):
                ctx.load(data[: len(data) // 2])
            bad = bytearray(data)
            bad[len(bad) // 2] ^= 0x40
            with self.assertRaises(cxm.CorruptError):
                ctx.load(bytes(bad))
            with self.assertRaises(cxm.FileError) as cm:
                ctx.load(os.path.join(self.tmp.name, "missing.cxm"))
            self.assertIsInstance(cm.exception, OSError)
            with self.assertRaises(cxm.InvalidArgumentError):
                ctx.load("")
            with self.assertRaises(TypeError):
                ctx.load(42)
            self.assertEqual(len(ctx.touchpoints), 0)
            ctx.load(data)  # still empty: loads
            self.assertEqual(len(ctx.touchpoints), 4)
        with make_ctx(customer_key=b"another key 16 b") as ctx:
            with self.assertRaises(cxm.ExistsError):
                ctx.load(data)  # another customer key
        with make_ctx(tiers=[("1m", 60), ("1h", 48)]) as ctx:
            with self.assertRaises(cxm.ExistsError):
                ctx.load(data)  # other tiers

    def test_save_errors(self):
        with self.assertRaises(cxm.FileError):
            self.ctx.save(os.path.join(self.tmp.name, "no", "such", "dir.cxm"))
        with self.assertRaises(cxm.InvalidArgumentError):
            self.ctx.save("")
        with self.assertRaises(ValueError):
            self.ctx.save("nul\0byte")
        self.ctx.close()
        with self.assertRaises(ValueError):
            self.ctx.snapshot()


class Merge(unittest.TestCase):
    def test_halves_merge_to_the_whole(self):
        whole, half_a, half_b = make_ctx(), make_ctx(), make_ctx()
        models = [Model(c) for c in (whole, half_a, half_b)]
        m = models[0]
        feed_rows(whole, m, ROWS)
        # split by customer, so that each journey instance stays on one side
        feed_rows(half_a, m, [r for r in ROWS if r[0] % 40 < 20])
        feed_rows(half_b, m, [r for r in ROWS if r[0] % 40 >= 20])
        expected = answers(whole, m)
        self.assertNotEqual(answers(half_a, m), expected)
        with make_ctx() as by_bytes, make_ctx() as by_file, tempfile.TemporaryDirectory() as d:
            half_a.merge(half_b)  # context into context
            self.assertEqual(answers(half_a, m), expected)
            Model(by_bytes)
            Model(by_file)
            path = os.path.join(d, "b.cxm")
            half_b.save(path)
            by_bytes.merge(whole.snapshot())  # snapshot bytes
            self.assertEqual(answers(by_bytes, m), expected)
            by_file.merge(bytearray(half_a.snapshot()))  # half_a is the whole now
            by_file.merge(path)
            by_file.merge(pathlib.Path(path))  # half_b twice more
            twice = by_file.query(m.nps, "2h")
            self.assertEqual(twice.n, whole.query(m.nps, "2h").n + 2 * half_b.query(m.nps, "2h").n)
        for c in (whole, half_a, half_b):
            c.close()

    def test_merge_errors(self):
        with make_ctx() as a, make_ctx() as b, make_ctx(customer_key=b"another key 16 b") as k:
            Model(a)
            with self.assertRaises(cxm.UnknownIdError):
                b.merge(a)  # b lacks a's definitions
            with self.assertRaises(cxm.UnknownIdError):
                b.merge(a.snapshot())
            b.journey("support", ["contact", "elsewhere"])
            with self.assertRaises(cxm.ExistsError):
                b.merge(a)  # defined differently
            Model(k)
            with self.assertRaises(cxm.ExistsError):
                k.merge(a)  # another customer key
            with self.assertRaises(cxm.InvalidArgumentError):
                a.merge(a)
            with self.assertRaises(cxm.CorruptError):
                a.merge(b"garbage")
            with self.assertRaises(cxm.FileError):
                a.merge("/nonexistent/dir/x.cxm")
            with self.assertRaises(TypeError):
                a.merge(42)
            closed = make_ctx()
            closed.close()
            with self.assertRaises(ValueError):
                a.merge(closed)
            with self.assertRaises(ValueError):
                closed.merge(a)


# ---- exposition ---------------------------------------------------------------

SAMPLE = re.compile(r'^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$')
LABEL = re.compile(r'([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"')


def parse(text):
    """[(name, {label: value}, value)] of every sample line."""
    out = []
    for line in text.splitlines():
        if not line or line.startswith("#"):
            continue
        mt = SAMPLE.match(line)
        assert mt, line
        labels = dict(LABEL.findall(mt.group(2) or ""))
        out.append((mt.group(1), labels, float(mt.group(3))))
    return out


def find(samples, name, **labels):
    hits = [v for n, lab, v in samples if n == name and all(lab.get(k) == w for k, w in labels.items())
            and ("segment" in labels or "segment" not in lab)]
    assert len(hits) == 1, (name, labels, hits)
    return hits[0]


class Stubs(unittest.TestCase):
    def test_stubs_cover_the_public_surface(self):
        import ast
        here = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "cxm")
        trees = [ast.parse(open(os.path.join(here, f), encoding="utf-8").read())
                 for f in ("__init__.pyi", "_cxm.pyi")]
        methods, top = set(), set()
        for n in trees[0].body:
            if isinstance(n, (ast.ClassDef, ast.FunctionDef)):
                top.add(n.name)
            elif isinstance(n, ast.AnnAssign):
                top.add(n.target.id)
            elif isinstance(n, ast.ImportFrom):
                top.update(a.asname or a.name for a in n.names)
        for tree in trees:
            for n in tree.body:
                if isinstance(n, ast.ClassDef) and n.name == "Context":
                    methods.update(b.name for b in n.body if isinstance(b, ast.FunctionDef))
                    methods.update(b.target.id for b in n.body if isinstance(b, ast.AnnAssign))
        self.assertEqual({n for n in dir(cxm.Context) if not n.startswith("_")} - methods, set())
        self.assertEqual(set(cxm.__all__) - top, set())


class self_raises:
    """assertRaises for setUpClass."""

    def __init__(self, cls):
        self.cls = cls

    def __enter__(self):
        return self

    def __exit__(self, tp, value, tb):
        assert tp is not None and issubclass(tp, self.cls), tp
        return True


class Exposition(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.ctx = make_ctx()
        cls.m = Model(cls.ctx)
        feed_rows(cls.ctx, cls.m, ROWS)
        with self_raises(cxm.OutOfRangeError):
            cls.ctx.feed(T0, cls.m.agent, {cls.m.nps: 42})  # one rejection, counted

    @classmethod
    def tearDownClass(cls):
        cls.ctx.close()

    def test_openmetrics_parsed_back(self):
        ctx, m = self.ctx, self.m
        text = ctx.export()
        self.assertIsInstance(text, str)
        self.assertTrue(text.endswith("# EOF\n"))
        s = parse(text)
        nps = ctx.query(m.nps, "2h", touchpoint=m.ivr)
        self.assertEqual(find(s, "cxm_score_responses_total", metric="nps", touchpoint="ivr"), nps.n)
        self.assertEqual(find(s, "cxm_score_top_box_total", metric="nps", touchpoint="ivr"), nps.top)
        self.assertEqual(find(s, "cxm_score_answers_total", metric="nps", touchpoint="ivr", point="10"),
                         ctx.distribution(m.nps, "2h", touchpoint=m.ivr)[10])
        gold = ctx.query(m.nps, "2h", touchpoint=m.ivr, segment=m.gold)
        self.assertEqual(find(s, "cxm_score_responses_total", metric="nps", touchpoint="ivr",
                              segment="tier", segment_value="gold"), gold.n)
        res = ctx.query(m.resolved, "2h", touchpoint=m.ivr)
        self.assertEqual(find(s, "cxm_rate_outcomes_total", metric="resolved", touchpoint="ivr",
                              outcome="yes"), res.top)
        aht = ctx.query(m.aht, "2h", touchpoint=m.ivr)
        self.assertEqual(find(s, "cxm_duration_seconds_count", metric="aht", touchpoint="ivr"), aht.n)
        self.assertAlmostEqual(find(s, "cxm_duration_seconds_sum", metric="aht", touchpoint="ivr"), aht.sum)
        rev = ctx.query(m.revenue, "2h", touchpoint=m.agent)
        self.assertAlmostEqual(find(s, "cxm_amount_sum", metric="revenue", touchpoint="agent call"), rev.sum)
        st = ctx.stats()
        self.assertEqual(find(s, "cxm_interactions_accepted_total"), st.accepted)
        self.assertEqual(find(s, "cxm_interactions_rejected_total", reason="out of range"), 1)
        self.assertFalse([n for n, _, _ in s if "customers" in n])  # DISTINCT is not exposed

    def test_options(self):
        ctx, m = self.ctx, self.m
        prom = ctx.export("prometheus")
        self.assertNotIn("# EOF", prom)
        self.assertEqual(prom, ctx.export(cxm.ExportFormat.PROMETHEUS))
        self.assertTrue(cxm.OPENMETRICS_CONTENT_TYPE.startswith("application/openmetrics-text"))
        self.assertTrue(cxm.PROMETHEUS_CONTENT_TYPE.startswith("text/plain"))
        labelled = parse(ctx.export(labels={"node": "a", "tenant": 'x"y'}))
        self.assertTrue(all(lab.get("node") == "a" for _, lab, _ in labelled))
        self.assertTrue(all(lab.get("tenant") == 'x\\"y' for _, lab, _ in labelled))
        self.assertTrue(all("segment_value" not in lab for _, lab, _ in parse(ctx.export(segments=False))))
        self.assertNotIn("cxm_score_answers", ctx.export(points=False))
        self.assertIn("cxm_score_responses", ctx.export(points=False))
        les = [lab["le"] for n, lab, _ in parse(ctx.export(buckets=[1, 60.5]))
               if n == "cxm_duration_seconds_bucket" and lab["touchpoint"] == "ivr" and "segment" not in lab]
        self.assertEqual(len(les), 3)
        self.assertEqual(les[-1], "+Inf")
        self.assertEqual(ctx.export(buckets=None), ctx.export())
        out = io.StringIO()
        n = ctx.export_write(out, "prometheus", segments=False)
        self.assertEqual(out.getvalue(), ctx.export("prometheus", segments=False))
        self.assertEqual(n, len(out.getvalue()))
        raw = io.BytesIO()
        ctx.export_write(raw)
        self.assertEqual(raw.getvalue().decode(), ctx.export())
        with make_ctx() as empty:
            self.assertIn("cxm_interactions_accepted_total 0", empty.export())

    def test_export_errors(self):
        ctx = self.ctx
        with self.assertRaises(cxm.InvalidArgumentError):
            ctx.export("xml")
        with self.assertRaises(cxm.InvalidArgumentError):
            ctx.export(7)
        with self.assertRaises(cxm.OutOfRangeError):
            ctx.export(buckets=[2, 1])
        with self.assertRaises(cxm.OutOfRangeError):
            ctx.export(buckets=[-1])
        with self.assertRaises(cxm.NotFiniteError):
            ctx.export(buckets=[1, float("nan")])
        with self.assertRaises(cxm.OutOfRangeError):
            ctx.export(buckets=range(1, 100))
        with self.assertRaises(TypeError):
            ctx.export(buckets=["x"])
        with self.assertRaisesRegex(cxm.OutOfRangeError, "buckets=\\[\\]"):
            ctx.export(buckets=[])  # was the default bounds
        with self.assertRaises(TypeError):
            ctx.export(buckets=[True])
        with self.assertRaises(TypeError):
            ctx.export(points=None)
        with self.assertRaises(cxm.InvalidArgumentError):
            ctx.export(labels={"metric": "x"})  # the exposition's own label
        with self.assertRaises(cxm.InvalidArgumentError):
            ctx.export(labels={"bad-name": "x"})
        with self.assertRaises(cxm.InvalidArgumentError):
            ctx.export(labels={"__x": "x"})
        with self.assertRaises(cxm.EncodingError):
            ctx.export(labels={"node": ""})
        with self.assertRaises(cxm.EncodingError):
            ctx.export(labels={"node": "a\0b"})
        with self.assertRaises(cxm.TooLongError):
            ctx.export(labels={"node": "x" * 5000})
        with self.assertRaises(cxm.OutOfRangeError):
            ctx.export(labels={f"l{i}": "v" for i in range(9)})
        with self.assertRaises(TypeError):
            ctx.export(labels={1: "v"})


if __name__ == "__main__":
    unittest.main()
