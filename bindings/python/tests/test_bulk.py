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
                yield (T0, m.web, {m.nps: 11 if i in (3, 1400) else 9})
            raise RuntimeError("source broke")
        with self.assertRaises(cxm.BulkFeedError) as cm:
            ctx.feed_many(gen(), start=10)
        e = cm.exception
        self.assertIsInstance(e.__cause__, RuntimeError)
        self.assertEqual(str(e.__cause__), "source broke")
        # every row before the failure is fed (the partial chunk too) and reported
        self.assertEqual((e.index, e.accepted, e.rejected), (1510, 1498, 2))
        self.assertEqual([(r.index, r.code) for r in e.report.rejections],
                         [(13, cxm.Status.OUT_OF_RANGE), (1410, cxm.Status.OUT_OF_RANGE)])
        self.assertIsInstance(e.report, cxm.FeedReport)
        self.assertIn("1498 accepted and 2 rejected before row 1510", str(e))
        self.assertIsInstance(e, cxm.Error)
        self.assertIsNone(e.code)
        self.assertEqual(ctx.stats().accepted, 1498)
        with self.assertRaises(TypeError):
            ctx.feed_many(5)
        with self.assertRaisesRegex(TypeError, "not a string"):
            ctx.feed_many("rows")  # not three rows "r", "o", "w"...

    def test_a_value_that_raises_mid_chunk_drops_nothing(self):
        # a __float__ raising something that is not about the data stops the
        # feed: the 476 rows read before it in its chunk used to be dropped
        ctx, m = self.ctx, self.m

        class Broken:
            def __float__(self):
                raise RuntimeError("no float today")

        rows = [(T0, m.web, {m.nps: Broken() if i == 1500 else 9}) for i in range(2000)]
        with self.assertRaises(cxm.BulkFeedError) as cm:
            ctx.feed_many(rows)
        e = cm.exception
        self.assertIsInstance(e.__cause__, RuntimeError)
        self.assertEqual((e.index, e.accepted, e.rejected), (1500, 1500, 0))
        self.assertIn("1500 accepted", str(e))
        self.assertEqual(ctx.stats().accepted, 1500)
        self.assertEqual(ctx.query(m.nps, "1h").n, 1500)
        # the caller resumes where it stopped, nothing fed twice
        rows[1500] = (T0, m.web, {m.nps: 9})
        self.assertEqual(ctx.feed_many(rows[e.index:], start=e.index).accepted, 500)
        self.assertEqual(ctx.query(m.nps, "1h").n, 2000)

    def test_a_keyboard_interrupt_is_not_wrapped_but_carries_the_report(self):
        ctx, m = self.ctx, self.m

        def gen():
            yield from [(T0, m.web)] * 700
            raise KeyboardInterrupt
        with self.assertRaises(KeyboardInterrupt) as cm:
            ctx.feed_many(gen())
        self.assertEqual((cm.exception.index, cm.exception.report.accepted), (700, 700))
        self.assertEqual(ctx.stats().accepted, 700)

    def test_rejected_rows_define_no_segment_value(self):
        # four invalid rows used to use up a 4-value dimension: the next
        # valid row then got LimitError
        with make_ctx() as ctx:
            tp = ctx.touchpoint("t")
            nps = ctx.metric("nps")
            seg = ctx.segment("s", 4)
            rows = [(T0, tp, {nps: 11}, None, {seg: f"bad{i}"}) for i in range(4)]   # out of range
            rows += [(T0 + 3_600_000, tp, None, None, {seg: "early"}),             # too early
                     (T0, 999, None, None, {seg: "nowhere"}),                      # unknown touchpoint
                     (T0, tp, {nps: 9}, None, {seg: "a"}),
                     (T0, tp, {nps: 9}, None, {seg: "a"}),
                     (T0 - 3 * HOUR, tp, None, None, {seg: "late"}),               # behind row 6's watermark
                     (T0, tp, {nps: 8}, None, {seg: "b"})]
            rep = ctx.feed_many(rows)
            S = cxm.Status
            self.assertEqual([(r.index, r.code) for r in rep.rejections],
                             [(0, S.OUT_OF_RANGE), (1, S.OUT_OF_RANGE), (2, S.OUT_OF_RANGE),
                              (3, S.OUT_OF_RANGE), (4, S.TOO_EARLY), (5, S.UNKNOWN_ID),
                              (8, S.TOO_LATE)])
            self.assertEqual(rep.accepted, 3)
            self.assertEqual([v.name for v in ctx.segment_values(seg)], ["a", "b"])
            self.assertEqual(ctx.query(nps, "1h", segment=(seg, "a")).n, 2)
            ctx.feed(T0, tp, segments={seg: "c"})
            ctx.feed(T0, tp, segments={seg: "d"})  # the fourth value: still room for it
            self.assertEqual(len(ctx.segment_values(seg)), 4)

    def test_new_segment_values_keep_the_row_order(self):
        # the rows before a row with a new value are fed first, so that the
        # check sees the watermark they raise; the rows after follow in order
        with make_ctx() as ctx:
            m = Model(ctx)
            rows = []
            for i in range(3000):
                if i % 500 == 499:
                    rows.append((T0 - 3 * HOUR, m.web, None, f"c{i}", {m.region: f"r{i}"}))  # too late
                elif i % 700 == 0:
                    rows.append((T0 - i, m.web, {m.nps: 9}, f"c{i}", {m.region: f"r{i}"}))
                else:
                    rows.append((T0 - i, m.web, {m.nps: 12 if i % 999 == 1 else 9}, f"c{i}",
                                 {m.tier: "gold"}))
            rep = ctx.feed_many(rows)
            late = [i for i in range(3000) if i % 500 == 499]
            bad = [i for i in range(3000) if i % 999 == 1 and i % 500 != 499 and i % 700]
            self.assertEqual([r.index for r in rep.rejections], sorted(late + bad))
            self.assertEqual(rep.accepted, 3000 - len(late) - len(bad))
            self.assertEqual(sorted(v.name for v in ctx.segment_values(m.region)),
                             sorted(f"r{i}" for i in range(0, 3000, 700)))
            self.assertEqual(ctx.stats().accepted, rep.accepted)

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

    def test_offsets_that_wrap_around_are_refused(self):
        # off + size > record_size wrapped around for offsets near 2**64 and
        # the loop read outside the buffer (SIGSEGV, or garbage customers)
        ctx, m = self.ctx, self.m
        data = struct.pack("<qI12x", T0, int(m.web)) * 200
        base = dict(time=(0, "q"), touchpoint=(8, "I"))
        bad = [
            dict(customer=(2 ** 64 - 200, "216s")),
            dict(customer=(2 ** 64 - 8, "16s")),
            dict(customer=(8, f"{2 ** 64 - 4}s")),
            dict(customer=(2 ** 63, "q")),
            dict(customer=(-8, "q")),
            dict(customer=(20, "8s")),
            dict(measures={m.nps: (2 ** 64 - 4, "d")}),
            dict(measures={m.nps: (2 ** 70, "d")}),
            dict(segments={m.tier: (-4, "I")}),
            dict(segments={m.tier: (2 ** 64 - 2, "I")}),
        ]
        for extra in bad:
            with self.subTest(extra=extra):
                with self.assertRaisesRegex(ValueError, "not fit|outside every record"):
                    ctx.feed_buffer(data, cxm.Layout(24, **base, **extra))
        for field in ("time", "touchpoint"):
            with self.subTest(field=field):
                with self.assertRaises(ValueError):
                    ctx.feed_buffer(data, cxm.Layout(24, **dict(base, **{field: (2 ** 64 - 4, "q")})))
        with self.assertRaises(ValueError):
            ctx.feed_buffer(data, cxm.Layout(-24, **base))
        self.assertEqual(ctx.stats().accepted, 0)
        # the last byte of a record is still in bounds
        rep = ctx.feed_buffer(data, cxm.Layout(24, **base, customer=(16, "8s"),
                                               segments={m.tier: (20, "I")}))
        self.assertEqual(rep.accepted, 200)

    def test_fields_that_would_be_coerced_are_refused(self):
        ctx, m = self.ctx, self.m
        base = dict(time=(0, "q"), touchpoint=(8, "I"))
        with self.assertRaisesRegex(TypeError, "integer"):  # 2.7 would be touchpoint 2
            ctx.feed_buffer(b"", cxm.Layout(16, time=(0, "q"), touchpoint=(8, "d")))
        with self.assertRaisesRegex(TypeError, "integer"):
            ctx.feed_buffer(b"", cxm.Layout(16, **base, segments={m.tier: (12, "f")}))
        with self.assertRaisesRegex(TypeError, "integer"):
            ctx.feed_buffer(b"", cxm.Layout(16, **base, customer=(12, "?")))
        for bad in (24.0, True):
            with self.assertRaises(TypeError):
                cxm.Layout(bad, **base)
        with self.assertRaises(TypeError):
            cxm.Layout(16, time=(0.5, "q"), touchpoint=(8, "I"))
        with self.assertRaises(TypeError):
            cxm.Layout(16, **base, measures={m.nps: (True, "d")})
        with self.assertRaises(cxm.UnknownIdError):
            ctx.feed_buffer(b"", cxm.Layout(16, **base, measures={-1: (12, "I")}))

    def test_q_customers_keep_all_64_bits(self):
        # a 'Q' column saturated at 2**63 - 1: every id from 2**63 up was one customer
        ctx, m = self.ctx, self.m
        lay = cxm.Layout(24, time=(0, "q"), touchpoint=(8, "I"), customer=(16, "Q"))
        data = b"".join(struct.pack("<qI4xQ", T0 - k * 1000, int(m.web), c)
                        for k, c in enumerate((2 ** 63, 2 ** 64 - 1, 2 ** 63 - 1)))
        self.assertEqual(ctx.feed_buffer(data, lay).accepted, 3)
        self.assertEqual(ctx.last_seen_ms(2 ** 63), T0)
        self.assertEqual(ctx.last_seen_ms(-1), T0 - 1000)  # 2**64 - 1: the same 8 bytes as -1
        self.assertEqual(ctx.last_seen_ms(2 ** 63 - 1), T0 - 2000)
        self.assertEqual(ctx.stats().customers, 3)

    def test_a_negative_segment_value_other_than_minus_one_is_rejected(self):
        ctx, m = self.ctx, self.m
        lay = cxm.Layout(16, time=(0, "q"), touchpoint=(8, "H"), segments={m.tier: (12, "i")})
        data = b"".join(struct.pack("<qH2xi", T0, int(m.web), v) for v in (-1, -2, int(m.gold)))
        rep = ctx.feed_buffer(data, lay)
        self.assertEqual((rep.accepted, [(r.index, r.code) for r in rep.rejections]),
                         (2, [(1, cxm.Status.UNKNOWN_ID)]))
        self.assertEqual(ctx.query(m.volume, "1h", segment=m.gold).n, 1)

    def test_records_start_and_failures_report_what_was_fed(self):
        ctx, m = self.ctx, self.m
        lay = cxm.Layout(16, time=(0, "q"), touchpoint=(8, "I"), measures={m.nps: (12, "I")})
        data = b"".join(struct.pack("<qII", T0, int(m.web), 11 if i == 3 else 9) for i in range(3000))
        rep = ctx._feed_records(data, lay._t, 500)
        self.assertEqual((rep[0], rep[1], rep[2]), (2999, 1, [(503, 3, "out of range")]))
        with self.assertRaisesRegex(ValueError, "negative"):
            ctx._feed_records(data, lay._t, -1)
        with self.assertRaises(TypeError):
            ctx._feed_records(data, lay._t, True)

    def test_the_chunked_copy_reports_across_chunks(self):
        # before 3.11 the package feeds 64 k records per call: a failure in
        # a later call must still report the records of the earlier ones
        from unittest import mock
        reads = []

        def clock():
            reads.append(1)
            if len(reads) == 2:
                raise RuntimeError("clock broke")
            return T0
        with cxm.Context(clock=clock) as ctx:
            tp = ctx.touchpoint("t")
            nps = ctx.metric("nps")
            lay = cxm.Layout(16, time=(0, "q"), touchpoint=(8, "I"), measures={nps: (12, "I")})
            n = cxm._RECORD_CHUNK + 100
            data = b"".join(struct.pack("<qII", T0, int(tp), 11 if i == 7 else 9) for i in range(n))
            with mock.patch.object(cxm._cxm, "HAS_BUFFER", 0):
                with self.assertRaises(cxm.BulkFeedError) as cm:
                    ctx.feed_buffer(memoryview(data), lay)
            e = cm.exception
            self.assertEqual((e.index, e.accepted, e.rejected), (cxm._RECORD_CHUNK, cxm._RECORD_CHUNK - 1, 1))
            self.assertEqual(e.report.rejections[0].index, 7)
            self.assertEqual(str(e.__cause__), "clock broke")
            self.assertEqual(ctx.stats().accepted, cxm._RECORD_CHUNK - 1)

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
        with self.assertRaisesRegex(TypeError, "not a string"):
            ctx.feed_buffer(a, ignore="note")  # "no", "te"... would be ignored by substring

    @unittest.skipIf(sys.version_info >= (3, 11), "the bytes fallback is for 3.8-3.10")
    def test_chunked_copy_before_311(self):
        ctx = self.ctx
        rep = ctx.feed_buffer(memoryview(self.records(200)), self.layout())
        self.assertEqual(rep.accepted, 200)


if __name__ == "__main__":
    unittest.main()
