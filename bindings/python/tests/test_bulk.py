"""feed_many() and feed_buffer(): C-speed bulk feeds that report every rejection."""
import struct
import sys
import unittest

import cxm
from support import HOUR, T0, Model, make_ctx, numpy_or_none


class FeedMany(unittest.TestCase):
    def setUp(self):
        self.ctx = make_ctx()
        self.m = Model(self.ctx)

    def tearDown(self):
        self.ctx.close()

    def test_rows_of_every_shape(self):
        ctx, m = self.ctx, self.m
        rows = [
            (T0, m.web),
            (T0, m.web, {m.nps: 9}),
            (T0, m.web, [(m.nps, 10)], "alice"),
            [T0, m.web, None, "bob", {m.tier: "gold"}],
            {"time": T0, "touchpoint": m.agent, "measures": {m.aht: 120}},
            {"time": "2026-11-22T11:59:00Z", "touchpoint": "ivr", "customer": 7, "segments": ["silver"]},
        ]
        rep = ctx.feed_many(rows)
        self.assertEqual(rep, cxm.FeedReport(6, 0, []))
        self.assertTrue(rep.ok)
        self.assertEqual(ctx.query(m.volume, "1h").n, 6)
        self.assertEqual(ctx.query(m.nps, "1h").n, 2)
        self.assertEqual(ctx.query(m.volume, "1h", segment=m.gold).n, 1)
        self.assertEqual(ctx.feed_many([]), (0, 0, []))
        self.assertEqual(ctx.feed_many(iter(())).accepted, 0)

    def test_every_rejection_is_reported_in_order(self):
        ctx, m = self.ctx, self.m
        rows = [
            (T0, m.web, {m.nps: 9}),          # 0 ok
            (T0, m.web, {m.nps: 11}),         # 1 libcxm: out of range
            ("yesterday", m.web),             # 2 binding: not a time
            (T0, 77),                         # 3 libcxm: unknown touchpoint
            {"time": T0, "touchpoint": m.web, "mesures": {}},  # 4 binding: unknown key
            {"time": T0},                     # 5 binding: no touchpoint
            "not a row",                      # 6 binding: not a tuple
            (T0,),                            # 7 binding: too short
            (T0 - 5 * HOUR, m.web),           # 8 libcxm: too late
            (T0, m.web, {m.aht: float("nan")}),  # 9 libcxm: not finite
            (T0, "nowhere"),                  # 10 binding: unknown name
            (T0, m.web, {m.volume: 1}),       # 11 libcxm: kind
            (T0, m.web),                      # 12 ok
        ]
        before = ctx.stats().rejected_total
        rep = ctx.feed_many(rows, start=100)
        self.assertEqual((rep.accepted, rep.rejected), (2, 11))
        self.assertEqual([r.index for r in rep.rejections], [101, 102, 103, 104, 105, 106, 107, 108, 109, 110, 111])
        codes = [r.code for r in rep.rejections]
        S = cxm.Status
        self.assertEqual(codes, [S.OUT_OF_RANGE, S.INVALID, S.UNKNOWN_ID, S.INVALID, S.INVALID, S.INVALID,
                                 S.INVALID, S.TOO_LATE, S.NOT_FINITE, S.UNKNOWN_ID, S.KIND])
        reasons = {r.index: r.reason for r in rep.rejections}
        self.assertEqual(reasons[101], "out of range")
        self.assertIn("isoformat", reasons[102])
        self.assertIn("mesures", reasons[104])
        self.assertIn("'time' and 'touchpoint'", reasons[105])
        self.assertIn("tuple or a dict", reasons[106])
        self.assertIn("nowhere", reasons[110])
        self.assertIsInstance(rep.rejections[0].code, cxm.Status)
        self.assertEqual(rep.by_reason()["out of range"], 1)
        self.assertFalse(rep.ok)
        self.assertIn("rejected=11", repr(rep))
        # libcxm counts the rows it saw; the binding's own refusals never reach it
        self.assertEqual(ctx.stats().rejected_total - before, 5)

    def test_chunks_and_generators(self):
        ctx, m = self.ctx, self.m
        n = 5000

        def gen():
            for i in range(n):
                yield (T0 - (i % 100) * 1000, m.agent, {m.nps: i % 12}, f"c{i % 50}", {m.tier: "gold"})
        rep = ctx.feed_many(gen())
        bad = [i for i in range(n) if i % 12 == 11]
        self.assertEqual(rep.rejected, len(bad))
        self.assertEqual([r.index for r in rep.rejections], bad)
        self.assertEqual(rep.accepted, n - len(bad))
        self.assertEqual(ctx.query(m.nps, "1h").n, n - len(bad))

    def test_the_same_dict_reused_for_every_row(self):
        # rows are converted one by one and fed per chunk: a producer that
        # mutates one dict must not change rows already converted
        ctx, m = self.ctx, self.m

        def gen():
            row = {"time": T0, "touchpoint": m.web}
            for i in range(3000):
                row["customer"] = f"customer-{i}"
                row["measures"] = {m.nps: i % 11}
                yield row
        rep = ctx.feed_many(gen())
        self.assertEqual(rep.accepted, 3000)
        self.assertAlmostEqual(ctx.query(m.distinct, "1h").value, 3000, delta=150)  # HyperLogLog

    def test_an_iterable_that_fails(self):
        ctx, m = self.ctx, self.m

        def gen():
            for i in range(1500):
                yield (T0, m.web)
            raise RuntimeError("source broke")
        with self.assertRaisesRegex(RuntimeError, "source broke"):
            ctx.feed_many(gen())
        self.assertEqual(ctx.stats().accepted, 1500)  # what came before is fed
        with self.assertRaises(TypeError):
            ctx.feed_many(5)

    def test_exceptions_that_are_not_the_rows_fault_propagate(self):
        ctx, m = self.ctx, self.m

        class Boom:
            def __float__(self):
                raise KeyboardInterrupt

        with self.assertRaises(KeyboardInterrupt):
            ctx.feed_many([(T0, m.web, {m.amount if hasattr(m, "amount") else m.revenue: Boom()})])


class FeedBuffer(unittest.TestCase):
    def setUp(self):
        self.ctx = make_ctx()
        self.m = Model(self.ctx)

    def tearDown(self):
        self.ctx.close()

    def layout(self):
        m = self.m
        # <q time, I touchpoint, I tier, d nps, d aht, 16s customer>  = 48 bytes
        return cxm.Layout(48, time=(0, "q"), touchpoint=(8, "I"), segments={m.tier: (12, "I")},
                          measures={m.nps: (16, "d"), m.aht: (24, "d")}, customer=(32, "16s"))

    def records(self, n, bad=()):
        m = self.m
        out = bytearray()
        for i in range(n):
            nps = 11.0 if i in bad else (float("nan") if i % 4 else float(i % 11))
            out += struct.pack("<qIIdd16s", T0 - (i % 60) * 1000, int(m.agent),
                               int(m.gold) if i % 2 else 0xFFFFFFFF, nps, 60.0 + i % 300,
                               f"c{i % 77}".encode())
        return bytes(out)

    def test_bytes_and_memoryview(self):
        ctx, m = self.ctx, self.m
        data = self.records(3000, bad={5, 2999})
        rep = ctx.feed_buffer(data, self.layout())
        self.assertEqual((rep.accepted, rep.rejected), (2998, 2))
        self.assertEqual([(r.index, r.code) for r in rep.rejections],
                         [(5, cxm.Status.OUT_OF_RANGE), (2999, cxm.Status.OUT_OF_RANGE)])
        self.assertEqual(ctx.query(m.aht, "1h").n, 2998)
        self.assertEqual(ctx.query(m.nps, "1h").n, len([i for i in range(3000) if i % 4 == 0]))
        self.assertEqual(ctx.query(m.volume, "1h", segment=m.gold).n, 1498)  # odd rows, but 2999
        self.assertAlmostEqual(ctx.query(m.distinct, "1h").value, 77, delta=3)  # HyperLogLog
        rep2 = ctx.feed_buffer(memoryview(bytearray(data)), self.layout())
        self.assertEqual(rep2.accepted, 2998)
        self.assertEqual(ctx.last_seen_ms("c1"), max(T0 - (i % 60) * 1000 for i in range(3000) if i % 77 == 1))

    def test_int_customers_match_feed(self):
        ctx, m = self.ctx, self.m
        lay = cxm.Layout(16, time=(0, "q"), touchpoint=(8, "H"), customer=(10, "h"), time_unit="s")
        ctx.feed_buffer(struct.pack("<qHh4x", T0 // 1000, int(m.web), -2), lay)
        self.assertEqual(ctx.last_seen_ms(-2), T0)

    def test_layout_errors(self):
        ctx = self.ctx
        with self.assertRaisesRegex(ValueError, "whole number"):
            ctx.feed_buffer(b"x" * 47, self.layout())
        with self.assertRaisesRegex(ValueError, "does not fit"):
            ctx.feed_buffer(b"", cxm.Layout(8, time=(4, "q"), touchpoint=(0, "I")))
        with self.assertRaisesRegex(ValueError, "does not fit"):
            ctx.feed_buffer(b"", cxm.Layout(8, time=(0, "x"), touchpoint=(0, "I")))
        with self.assertRaisesRegex(TypeError, "integer"):
            ctx.feed_buffer(b"", cxm.Layout(16, time=(0, "d"), touchpoint=(8, "I")))
        with self.assertRaises(ValueError):
            cxm.Layout(16, time=(0, "q"), touchpoint=(8, "I"), time_unit="fortnight")
        with self.assertRaises(TypeError):
            ctx.feed_buffer(b"")
        with self.assertRaises(TypeError):
            ctx.feed_buffer(b"", self.layout(), time="t")
        with self.assertRaises(TypeError):
            ctx._feed_records(b"", ("not", "a", "layout"))
        with self.assertRaises(cxm.UnknownIdError):
            ctx.feed_buffer(b"", cxm.Layout(16, time=(0, "q"), touchpoint=(8, "I"), segments={70: (12, "I")}))
        self.assertEqual(ctx.feed_buffer(b"", self.layout()), (0, 0, []))

    @unittest.skipIf(numpy_or_none() is None, "numpy is not installed")
    def test_numpy_structured_array(self):
        np = numpy_or_none()
        ctx, m = self.ctx, self.m
        dt = np.dtype([("time", "M8[ns]"), ("touchpoint", "<u2"), ("customer", "S12"), ("tier", "<i4"),
                       ("nps", "<f4"), ("aht", "<f8"), ("resolved", "?"), ("note", "<i8")])
        a = np.zeros(2000, dtype=dt)
        a["time"] = np.datetime64(T0, "ms") - (np.arange(2000) % 90).astype("m8[s]")
        a["touchpoint"] = int(m.agent)
        a["customer"] = [f"k{i % 40}".encode() for i in range(2000)]
        a["tier"] = np.where(np.arange(2000) % 2 == 0, int(m.silver), -1)
        a["nps"] = np.where(np.arange(2000) % 3 == 0, np.arange(2000) % 11, np.nan)
        a["aht"] = 30.0
        a["resolved"] = np.arange(2000) % 5 != 0
        a["nps"][7] = 12  # one bad answer (7 % 3 != 0 would be NaN)
        rep = ctx.feed_buffer(a, ignore=["note"])
        self.assertEqual((rep.accepted, rep.rejected), (1999, 1))
        self.assertEqual(rep.rejections[0].index, 7)
        self.assertEqual(ctx.query(m.nps, "1h").n, len(range(0, 2000, 3)))
        self.assertEqual(ctx.query(m.resolved, "1h").top, sum(1 for i in range(2000) if i % 5 and i != 7))
        self.assertEqual(ctx.query(m.volume, "1h", segment=m.silver).n, 1000)
        self.assertAlmostEqual(ctx.query(m.distinct, "1h").value, 40, delta=2)  # HyperLogLog
        # a strided view is made contiguous; explicit mappings by field name
        rep = ctx.feed_buffer(a[::2], measures={"aht": "aht"}, segments={"tier": m.tier},
                              ignore=["note", "nps", "resolved"])
        self.assertEqual(rep.accepted, 1000)
        with self.assertRaisesRegex(ValueError, "'note' is no metric"):
            ctx.feed_buffer(a)
        with self.assertRaisesRegex(TypeError, "big-endian"):
            ctx.feed_buffer(a.astype(dt.newbyteorder(">")), ignore=["note"])
        with self.assertRaisesRegex(ValueError, "needs a 'time'"):
            ctx.feed_buffer(a[["touchpoint", "aht"]])
        with self.assertRaisesRegex(TypeError, "structured"):
            ctx.feed_buffer(np.zeros(3))
        with self.assertRaisesRegex(ValueError, "no such fields"):
            ctx.feed_buffer(a, measures={"missing": m.nps}, ignore=["note"])

    @unittest.skipIf(sys.version_info >= (3, 11), "the bytes fallback is for 3.8-3.10")
    def test_chunked_copy_before_311(self):
        ctx = self.ctx
        rep = ctx.feed_buffer(memoryview(self.records(200)), self.layout())
        self.assertEqual(rep.accepted, 200)


if __name__ == "__main__":
    unittest.main()
