"""Many threads feeding and querying one context; close() while another
thread runs without the GIL."""
import threading
import unittest

import cxm
from support import T0, Model, make_ctx

N = 20_000


class Threads(unittest.TestCase):
    def test_feeders_and_a_reader_lose_nothing(self):
        ctx = make_ctx()  # a Python clock: called from threads without the GIL too
        m = Model(ctx)
        tps = [m.ivr, m.chat, m.agent, m.web]
        errors = []
        done = threading.Event()

        def single(tp):
            try:
                for i in range(N):
                    ctx.feed(T0 - (i % 50) * 1000, tp, {m.nps: i % 11, m.aht: 1.0 + i % 7},
                             f"c{i % 300}", {m.tier: "gold" if i % 2 else "silver"})
            except Exception as e:  # pragma: no cover - reported below
                errors.append(e)

        def batched(tp):
            try:
                for first in range(0, N, 1000):
                    rows = [(T0 - (i % 50) * 1000, tp, {m.nps: i % 11, m.aht: 1.0 + i % 7},
                             f"c{i % 300}", {m.tier: "gold" if i % 2 else "silver"})
                            for i in range(first, first + 1000)]
                    rep = ctx.feed_many(rows)
                    if rep.rejected:
                        errors.append(rep)
            except Exception as e:  # pragma: no cover
                errors.append(e)

        reads = [0]

        def reader():
            q = ctx.make_query(m.nps, "1h")
            while not done.is_set():
                r = ctx.run(q)
                assert r.n <= 4 * N
                ctx.stats()
                reads[0] += 1

        threads = [threading.Thread(target=single, args=(tps[0],)),
                   threading.Thread(target=single, args=(tps[1],)),
                   threading.Thread(target=batched, args=(tps[2],)),
                   threading.Thread(target=batched, args=(tps[3],))]
        r = threading.Thread(target=reader)
        r.start()
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        done.set()
        r.join()
        self.assertEqual(errors, [])
        self.assertGreater(reads[0], 0)
        self.assertEqual(ctx.query(m.volume, "1h").n, 4 * N)
        self.assertEqual(ctx.query(m.nps, "1h").n, 4 * N)
        self.assertEqual(ctx.query(m.nps, "1h", segment=m.gold).n, 2 * N)
        for tp in tps:
            self.assertEqual(ctx.query(m.aht, "1h", touchpoint=tp).n, N)
        self.assertEqual(ctx.stats().accepted, 4 * N)
        ctx.close()

    def test_close_while_another_thread_feeds_a_buffer(self):
        ctx = cxm.Context(clock=lambda: T0)
        m = Model(ctx)
        lay = cxm.Layout(16, time=(0, "q"), touchpoint=(8, "I"), measures={m.nps: (12, "I")})
        import struct
        data = struct.pack("<qII", T0, int(m.web), 9) * 400_000
        started = threading.Event()
        outcome = []

        def feeder():
            started.set()
            try:
                outcome.append(ctx.feed_buffer(data, lay))
            except ValueError as e:  # closed before it began
                outcome.append(e)

        t = threading.Thread(target=feeder)
        t.start()
        started.wait()
        ctx.close()  # deferred until the feeder's call returns
        t.join()
        self.assertTrue(ctx.closed)
        self.assertEqual(len(outcome), 1)
        if isinstance(outcome[0], cxm.FeedReport):
            self.assertEqual(outcome[0].accepted, 400_000)

    def test_close_while_another_thread_feeds_rows(self):
        ctx = cxm.Context(clock=lambda: T0)
        m = Model(ctx)
        rows = [(T0, m.web, {m.nps: 9})] * 200_000
        outcome = []

        def feeder():
            try:
                outcome.append(ctx.feed_many(rows))
            except cxm.BulkFeedError as e:  # closed while it ran: what it fed is reported
                outcome.append(e)
            except ValueError as e:  # closed before it began
                outcome.append(e)

        t = threading.Thread(target=feeder)
        t.start()
        ctx.close()
        t.join()
        self.assertTrue(ctx.closed)
        self.assertEqual(len(outcome), 1)
        if isinstance(outcome[0], cxm.BulkFeedError):
            self.assertIn("clos", str(outcome[0].__cause__))
            self.assertEqual(outcome[0].accepted, outcome[0].index)
        elif isinstance(outcome[0], ValueError):
            self.assertIn("clos", str(outcome[0]))

    def test_close_from_inside_a_call(self):
        # Python code running inside a call (a clock, a __float__) closes the
        # context: the call finishes on a context that is still there, and
        # the context is freed when it returns
        holder = {}

        def clock():
            holder["ctx"].close()
            return T0
        ctx = holder["ctx"] = cxm.Context(clock=clock)
        tp = ctx._touchpoint_define("t", 8, None, None)
        ctx.feed(T0, tp)
        self.assertTrue(ctx.closed)
        with self.assertRaises(ValueError):
            ctx.feed(T0, tp)

        ctx2 = cxm.Context(clock=lambda: T0)
        tp2 = ctx2.touchpoint("t")
        amount = ctx2.metric("a", "amount")

        class Closer:
            def __float__(self):
                ctx2.close()
                return 1.0
        ctx2.feed(T0, tp2, {amount: Closer()})
        self.assertTrue(ctx2.closed)
        ctx3 = cxm.Context(clock=lambda: T0)
        tp3 = ctx3.touchpoint("t")
        a3 = ctx3.metric("a", "amount")

        class Closer3:
            def __float__(self):
                ctx3.close()
                return 1.0
        rep = None
        with self.assertRaises(cxm.BulkFeedError) as cm:
            rep = ctx3.feed_many([(T0, tp3, {a3: Closer3()}), (T0, tp3, {a3: 2.0})])
        self.assertIsNone(rep)
        self.assertIsInstance(cm.exception.__cause__, ValueError)  # "the context is closing"
        # the row read before close() was fed; the one after was not
        self.assertEqual((cm.exception.index, cm.exception.accepted), (1, 1))
        self.assertTrue(ctx3.closed)


    def test_snapshots_exports_funnels_and_merges_while_feeding(self):
        src = make_ctx(max_customers=10_000)
        dst = make_ctx(max_customers=10_000)
        m = Model(src)
        Model(dst)
        errors = []
        done = threading.Event()

        def feeder():
            try:
                for first in range(0, N, 1000):
                    rows = [(T0 - (i % 50) * 1000, m.ivr if i % 2 else m.agent, {m.nps: i % 11},
                             f"c{i % 300}") for i in range(first, first + 1000)]
                    rep = src.feed_many(rows)
                    if rep.rejected:
                        errors.append(rep)
            except Exception as e:  # pragma: no cover
                errors.append(e)

        def reader():
            try:
                while not done.is_set():
                    src.funnel(m.support, "1h")
                    src.export(segments=False)
                    with make_ctx(max_customers=10_000) as copy:
                        copy.load(src.snapshot())
                        assert copy.stats().accepted <= N
            except Exception as e:  # pragma: no cover
                errors.append(e)

        threads = [threading.Thread(target=feeder), threading.Thread(target=reader)]
        for t in threads:
            t.start()
        threads[0].join()
        done.set()
        threads[1].join()
        self.assertEqual(errors, [])
        dst.merge(src)  # after the feeding: exact
        self.assertEqual(dst.query(m.nps, "1h").n, N)
        self.assertEqual(repr(dst.funnel(m.support, "1h")._asdict()), repr(src.funnel(m.support, "1h")._asdict()))
        src.close()
        dst.close()


if __name__ == "__main__":
    unittest.main()
