"""No leaks: Python objects and memory stay flat across 100k calls of each
kind (tracemalloc for the Python heap, the resident size for the rest)."""
import gc
import os
import sys
import tracemalloc
import unittest

import cxm
from support import T0, Model, make_ctx

CALLS = int(os.environ.get("CXM_LEAK_CALLS", "100000"))


def rss_bytes():
    try:
        with open("/proc/self/statm") as f:
            return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
    except (OSError, ValueError):
        return 0


class Leaks(unittest.TestCase):
    def setUp(self):
        # a small customer table: sweep() and a new context's table are O(max_customers)
        self.ctx = make_ctx(max_customers=1000)
        self.m = Model(self.ctx)
        self.q = self.ctx.make_query(self.m.nps, "1h", touchpoint=self.m.agent)
        self.rule = self.ctx.trigger(self.m.nps, "<=", 6, touchpoint="agent call",
                                     segment=("tier", "gold"))
        # reaching back 1 s, so that each customer keeps a record or two
        self.survey = self.ctx.survey("post-call", min_since_invite="1s", touchpoint="agent call")
        self.ctx.set_governor(min_since_response="1s")
        # repeat contacts on the first step: each customer keeps a signal record
        self.signal = self.ctx.signal("repeat", self.m.support, count=2, window="1h")
        self.rows = [(T0, self.m.agent, {self.m.nps: 9}, f"c{i}", {self.m.tier: "gold"}) for i in range(10)]
        self.rows.append((T0, self.m.agent, {self.m.nps: 12}))  # one rejection
        self.rows.append(("bad", self.m.agent))                  # one binding rejection
        import struct
        self.lay = cxm.Layout(16, time=(0, "q"), touchpoint=(8, "I"), measures={self.m.nps: (12, "I")})
        self.buf = struct.pack("<qII", T0, int(self.m.agent), 9) * 10 + struct.pack("<qII", T0, 99, 9)

    def tearDown(self):
        self.ctx.close()

    def stopping(self):
        m = self.m
        yield (T0, m.agent, {m.nps: 9}, "c3", {m.tier: "gold"})
        yield (T0, m.agent, {m.nps: 12}, "c2", {m.region: "never"})  # checked, refused
        yield (T0, m.agent, {m.nps: 9}, "c3", {m.tier: "gold"})
        raise RuntimeError("the source broke")

    def calls(self, i):
        ctx, m = self.ctx, self.m
        ctx.feed(T0, m.agent, {m.nps: i % 11, m.aht: 1.5}, f"c{i % 100}", {m.tier: "gold"})
        ctx.feed(T0, m.agent, [(m.cxi, 0, 5), (m.cxi, 1, 6)], i % 100)
        ctx.feed(T0, m.ivr, {}, f"r{i % 50}")  # a repeat contact from the 51st call on
        r = ctx.run(self.q)
        r._asdict()
        repr(r)
        for e in ctx.poll_events():  # the detractors of the first feed above
            e._asdict()
            repr(e)
        ctx.customer_hash(f"c{i % 100}")
        ctx.customer_hash(i)
        try:
            ctx.customer_hash("")
        except cxm.InvalidArgumentError:
            pass
        t = T0 + i * 1000
        ctx.should_ask(self.survey, f"c{i % 100}", m.agent, t).until
        ctx.record_invite("post-call", f"c{i % 100}", t)
        ctx.should_ask("post-call", i % 100, "agent call", t)._asdict()
        try:  # refused by libcxm after the customer was converted
            ctx.record_response(99, f"c{i % 100}", t)
        except cxm.UnknownIdError:
            pass
        try:
            ctx.feed(T0, m.agent, {m.nps: 11})
        except cxm.OutOfRangeError:
            pass
        try:
            ctx.feed(T0, m.agent, {m.nps: "x"})
        except TypeError:
            pass
        try:
            ctx.touchpoints[99]
        except KeyError:
            pass
        try:  # a new segment value on a refused row: checked, never defined
            ctx.feed(T0, m.agent, {m.nps: 11}, segments={m.region: "never"})
        except cxm.OutOfRangeError:
            pass
        if i % 10 == 0:
            ctx.feed_many(self.rows)
            try:  # a bulk feed that stops: BulkFeedError from the cause, with its report
                ctx.feed_many(self.stopping())
            except cxm.BulkFeedError as e:
                e.report.rejections

            ctx.feed_buffer(self.buf, self.lay)
            ctx.query(m.aht, "1h", segment=("tier", "gold"))
            ctx.quantiles(m.aht, [0.5, 0.9], "1h")
            ctx.distribution(m.nps, "1h")
            ctx.compare(self.q, self.q)
            ctx.stats().rejected
            ctx.last_seen("c1")
            ctx.segment_value(m.tier, "gold")
            ctx.metric_def(m.nps)
            ctx.trigger_def(self.rule)
            ctx.trigger_enable(self.rule, True)
            ctx.signal_def(self.signal)._asdict()
            ctx.signal_enable(self.signal, True)
            ctx.signal_rearm(self.signal, f"r{i % 50}")
            try:  # a signal refused after its names were resolved
                ctx.signal("repeat", "support", step="contact", count=9, window="1h")
            except cxm.OutOfRangeError:
                pass
            try:  # a rule refused after its names were resolved
                ctx.trigger("nps", "<", float("nan"), journey="support", step="contact",
                            segment=("tier", "gold"))
            except cxm.NotFiniteError:
                pass
            try:
                ctx.poll_events(0)
            except cxm.OutOfRangeError:
                pass
            ctx.set_governor(min_since_response="1s")
            try:  # a survey refused after its names were resolved
                ctx.survey("refused", journey="support", step="contact", sample_rate=float("nan"))
            except cxm.NotFiniteError:
                pass
            try:
                ctx.survey("post-call")
            except cxm.ExistsError:
                pass
            ctx.funnel(m.support, "1h", segment=m.gold).steps[1]._asdict()
            ctx.funnel_quantiles(m.support, "1h", [0.5], step="contact")
            ctx.set_journey_options(m.support, conversion="2d")
            ctx.journey_options(m.support)
            ctx.churn_rate(m.distinct, "1h", active="1h")
            ctx.sweep(T0)
            ctx.export(labels={"node": "a"}, buckets=[1, 10])
            try:
                ctx.churn(f"c{i % 100}", T0)
            except cxm.ExistsError:
                pass
            try:
                ctx.export(buckets=[2, 1])
            except cxm.OutOfRangeError:
                pass
            try:
                ctx.funnel(m.support, "1h", channel="pigeon")
            except cxm.InvalidArgumentError:
                pass
        if i % 100 == 0:
            data = ctx.snapshot()
            with make_ctx(max_customers=1000) as other:
                try:
                    other.load(data[:100])
                except cxm.CorruptError:
                    pass
                other.load(data)
                other.merge(ctx)
                other.merge(data)

    def test_flat_across_many_calls(self):
        for i in range(2000):  # warm up: series, customer table, caches
            self.calls(i)
        gc.collect()
        tracemalloc.start()
        snap0 = tracemalloc.take_snapshot()
        gc.collect()
        objects0 = len(gc.get_objects())
        rss0 = rss_bytes()
        for i in range(CALLS):
            self.calls(i)
        gc.collect()
        objects1 = len(gc.get_objects())
        rss1 = rss_bytes()
        snap1 = tracemalloc.take_snapshot()
        tracemalloc.stop()
        grown = sum(s.size_diff for s in snap1.compare_to(snap0, "filename"))
        top = "\n".join(str(s) for s in snap1.compare_to(snap0, "lineno")[:5])
        sys.stderr.write(f"\n{CALLS} rounds: Python heap {grown:+d} B, objects {objects1 - objects0:+d}, "
                         f"RSS {(rss1 - rss0) / 1e6:+.2f} MB\n")
        self.assertLess(grown, 64 * 1024, top)
        self.assertLess(objects1 - objects0, 50)
        if rss0:
            self.assertLess(rss1 - rss0, 8 * 1024 * 1024)


if __name__ == "__main__":
    unittest.main()
