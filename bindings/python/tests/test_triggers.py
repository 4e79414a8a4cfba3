"""Triggers and the event queue: trigger(), trigger_enable(), trigger_def(),
poll_events(), customer_hash(), and the queue's counters in stats()."""
import math
import threading
import unittest
from datetime import datetime, timezone

import cxm
from support import MIN, T0, Model, make_ctx


def seqs(events):
    return [e.seq for e in events]


class Detractor(unittest.TestCase):
    def setUp(self):
        self.ctx = make_ctx()
        self.m = Model(self.ctx)

    def tearDown(self):
        self.ctx.close()

    def test_a_detractor_after_an_agent_call(self):
        ctx, m = self.ctx, self.m
        rule = ctx.trigger("nps", "<=", 6, touchpoint="agent call")
        self.assertEqual(rule, 0)
        self.assertEqual(ctx.poll_events(), [])                           # nothing yet
        ctx.feed(T0 - MIN, "agent call", {m.nps: 9}, customer="ann")      # a promoter
        ctx.feed(T0 - MIN, m.agent, {m.nps: 3, m.aht: 400.0}, customer="bob")
        ctx.feed(T0 - MIN, m.ivr, {m.nps: 2}, customer="eve")             # another touchpoint
        events = ctx.poll_events()
        self.assertEqual(len(events), 1)
        e = events[0]
        self.assertEqual((e.rule, e.seq, e.time_ms, e.touchpoint, e.metric, e.item, e.value, e.kind),
                         (rule, 0, T0 - MIN, int(m.agent), int(m.nps), 0, 3.0, "trigger"))
        self.assertEqual(e.customer, ctx.customer_hash("bob"))
        self.assertNotEqual(e.customer, ctx.customer_hash("eve"))
        self.assertEqual(e.time, datetime(2026, 11, 22, 11, 59, tzinfo=timezone.utc))
        self.assertEqual(e._fields, ("rule", "seq", "time_ms", "touchpoint", "metric", "item", "value",
                                     "customer", "kind"))
        self.assertEqual(e._asdict()["customer"], e.customer)
        self.assertIn("seq=0", repr(e))
        self.assertEqual(ctx.poll_events(), [])                           # taken once
        s = ctx.stats()
        self.assertEqual((s.events_queued, s.events_dropped), (1, 0))
        self.assertEqual(s._asdict()["events_queued"], 1)

    def test_events_are_immutable_and_come_from_a_context(self):
        ctx, m = self.ctx, self.m
        ctx.trigger(m.nps, "<", 7)
        ctx.feed(T0, m.web, {m.nps: 0})
        (e,) = ctx.poll_events()
        with self.assertRaises(AttributeError):
            e.value = 10
        with self.assertRaises(TypeError):
            cxm.Event()
        d = ctx.trigger_def(0)
        with self.assertRaises(AttributeError):
            d.threshold = 1

    def test_an_interaction_without_a_customer(self):
        ctx, m = self.ctx, self.m
        ctx.trigger(m.nps, "<=", 6)
        ctx.feed(T0, m.web, {m.nps: 0})
        (e,) = ctx.poll_events()
        self.assertIsNone(e.customer)

    def test_boundaries_are_as_written(self):
        ctx, m = self.ctx, self.m
        le = ctx.trigger(m.nps, "<=", 6)
        lt = ctx.trigger(m.nps, "<", 6)
        ge = ctx.trigger(m.nps, cxm.Cmp.GE, 6)
        gt = ctx.trigger(m.nps, "gt", 6)
        eq = ctx.trigger(m.nps, "==", 6)
        ne = ctx.trigger(m.nps, 5, 6)                                     # Cmp.NE by number
        C = cxm.Cmp
        self.assertEqual([ctx.trigger_def(r).op for r in (le, lt, ge, gt, eq, ne)],
                         [C.LE, C.LT, C.GE, C.GT, C.EQ, C.NE])
        for v in (5, 6, 7):
            ctx.feed(T0, m.web, {m.nps: v})
        got = {(e.rule, e.value) for e in ctx.poll_events()}
        self.assertEqual(got, {(le, 5), (le, 6), (lt, 5), (ge, 6), (ge, 7), (gt, 7), (eq, 6),
                               (ne, 5), (ne, 7)})

    def test_a_rate_an_index_question_and_one_match_per_interaction(self):
        ctx, m = self.ctx, self.m
        unresolved = ctx.trigger(m.resolved, "==", 0)
        easy = ctx.trigger(m.cxi, "<=", 3, item=1)
        ctx.feed(T0, m.agent, {m.resolved: True})
        ctx.feed(T0, m.agent, {m.resolved: False})
        ctx.feed(T0, m.agent, {m.cxi: (2, 9, 1)})                         # item 1 is 9: no match
        ctx.feed(T0, m.agent, {m.cxi: (9, 2, 8)})
        # two answers of the same question in one interaction: one event, the first
        ctx.feed(T0, m.agent, [(m.cxi, 1, 3), (m.cxi, 1, 1)])
        got = [(e.rule, e.item, e.value) for e in ctx.poll_events()]
        self.assertEqual(got, [(unresolved, 0, 0.0), (easy, 1, 2.0), (easy, 1, 3.0)])

    def test_a_refused_interaction_never_triggers(self):
        ctx, m = self.ctx, self.m
        ctx.trigger(m.nps, "<=", 6)
        with self.assertRaises(cxm.OutOfRangeError):
            ctx.feed(T0, m.agent, {m.nps: 3, m.csat: 9})                  # csat is 1-5
        with self.assertRaises(cxm.TooEarlyError):
            ctx.feed(T0 + 3_600_000, m.agent, {m.nps: 3})
        report = ctx.feed_many([(T0, m.agent, {m.nps: 3, m.csat: 9}), (T0, m.agent, {m.nps: 4})])
        self.assertEqual((report.accepted, report.rejected), (1, 1))
        self.assertEqual([e.value for e in ctx.poll_events()], [4.0])

    def test_scopes_and_segments_by_name(self):
        ctx, m = self.ctx, self.m
        step = ctx.trigger("nps", "<=", 6, journey="support", step="contact")
        journey = ctx.trigger("nps", "<=", 6, journey="support")
        channel = ctx.trigger("nps", "<=", 6, channel="phone")
        gold = ctx.trigger("nps", "<=", 6, segment=("tier", "gold"))
        gold_agent = ctx.trigger("nps", "<=", 6, touchpoint="agent call", segment=m.gold)
        d = ctx.trigger_def(step)
        self.assertEqual((d.scope, d.id, d.step, d.segment, d.segment_value),
                         (cxm.Scope.STEP, int(m.support), 0, None, None))
        self.assertEqual(ctx.trigger_def(journey)[4:7], (cxm.Scope.JOURNEY, int(m.support), None))
        self.assertEqual(ctx.trigger_def(channel)[4:6], (cxm.Scope.CHANNEL, int(cxm.Channel.PHONE)))
        d = ctx.trigger_def(gold)
        self.assertEqual((d.scope, d.segment, d.segment_value),
                         (cxm.Scope.ALL, int(m.tier), int(m.gold)))
        self.assertEqual(ctx.trigger_def(gold_agent)[4:], (cxm.Scope.TOUCHPOINT, int(m.agent), None,
                                                           int(m.tier), int(m.gold), True))
        ctx.feed(T0, m.ivr, {m.nps: 1}, segments={m.tier: "gold"})       # phone, contact
        ctx.feed(T0, m.chat, {m.nps: 1}, segments={m.tier: "silver"})    # chat, contact
        ctx.feed(T0, m.agent, {m.nps: 1})                                 # phone, resolution
        ctx.feed(T0, m.web, {m.nps: 1}, segments={m.tier: "gold"})       # web, no journey
        ctx.feed(T0, m.agent, {m.nps: 1}, segments={m.tier: "gold"})
        got = {}
        for e in ctx.poll_events():
            got.setdefault(e.rule, set()).add((e.touchpoint, e.seq))
        tps = {r: sorted(tp for tp, _ in v) for r, v in got.items()}
        ivr, chat, agent, web = int(m.ivr), int(m.chat), int(m.agent), int(m.web)
        self.assertEqual(tps, {step: sorted([ivr, chat]), journey: sorted([ivr, chat, agent, agent]),
                               channel: sorted([ivr, agent, agent]), gold: sorted([ivr, web, agent]),
                               gold_agent: [agent]})
        all_seqs = sorted(s for v in got.values() for _, s in v)
        self.assertEqual(all_seqs, list(range(13)))

    def test_a_rule_switched_off_and_on(self):
        ctx, m = self.ctx, self.m
        r = ctx.trigger(m.nps, "<=", 6)
        ctx.trigger_enable(r, False)
        self.assertFalse(ctx.trigger_def(r).enabled)
        ctx.feed(T0, m.web, {m.nps: 0})
        self.assertEqual(ctx.poll_events(), [])
        ctx.trigger_enable(r)
        self.assertTrue(ctx.trigger_def(r).enabled)
        ctx.feed(T0, m.web, {m.nps: 1})
        self.assertEqual([(e.rule, e.seq, e.value) for e in ctx.poll_events()], [(r, 0, 1.0)])
        self.assertEqual(ctx.stats().events_queued, 1)


class CustomerHash(unittest.TestCase):
    def test_the_siphash_reference_vectors(self):
        # SipHash-2-4-128, key 00..0f, messages 00 and 00 01: the two words
        # little-endian are the reference output bytes
        with make_ctx(customer_key=bytes(range(16))) as ctx:
            self.assertEqual(ctx.customer_hash(b"\x00").hex(), "da87c1d86b99af44347659119b22fc45")
            self.assertEqual(ctx.customer_hash(b"\x00\x01").hex(), "8177228da4a45dc7fca38bdef60affe4")

    def test_customers_are_converted_as_feed_converts_them(self):
        with make_ctx() as ctx:
            h = ctx.customer_hash("bob")
            self.assertIsInstance(h, bytes)
            self.assertEqual(len(h), 16)
            self.assertEqual(h, ctx.customer_hash(b"bob"))
            self.assertEqual(ctx.customer_hash("é"), ctx.customer_hash("é".encode()))
            self.assertEqual(ctx.customer_hash(258), ctx.customer_hash((258).to_bytes(8, "little")))
            self.assertEqual(ctx.customer_hash(-1), ctx.customer_hash(b"\xff" * 8))
            self.assertEqual(ctx.customer_hash(2**64 - 1), ctx.customer_hash(-1))
            self.assertNotEqual(h, ctx.customer_hash("bob "))
            with make_ctx(customer_key=bytes(range(1, 17))) as other:
                self.assertNotEqual(other.customer_hash("bob"), h)          # keyed

    def test_bad_customers(self):
        with make_ctx(max_customer_id_len=8) as ctx:
            for bad, exc in ((None, TypeError), (True, TypeError), (1.5, TypeError),
                             (["bob"], TypeError), ("", cxm.InvalidArgumentError),
                             (b"", cxm.InvalidArgumentError), (2**64, cxm.OutOfRangeError),
                             (-2**63 - 1, cxm.OutOfRangeError), ("123456789", cxm.TooLongError),
                             ("\ud800", UnicodeEncodeError)):
                with self.subTest(customer=bad), self.assertRaises(exc):
                    ctx.customer_hash(bad)
            with self.assertRaises(TypeError):
                ctx.customer_hash()
            with self.assertRaises(TypeError):
                ctx.customer_hash("a", "b")
            with self.assertRaises(TypeError):
                ctx.customer_hash(customer="a")


class Queue(unittest.TestCase):
    def test_overflow_drops_and_counts_with_gaps_in_seq(self):
        # docs/loop.md's worked example: a queue of 4, ten detractors
        with make_ctx(event_queue=4) as ctx:
            m = Model(ctx)
            ctx.trigger(m.nps, "<=", 6)
            for i in range(10):
                ctx.feed(T0, m.agent, {m.nps: 2}, customer=f"c{i}")
            s = ctx.stats()
            self.assertEqual((s.events_queued, s.events_dropped), (4, 6))
            self.assertEqual(seqs(ctx.poll_events(max_events=3)), [0, 1, 2])
            for i in range(3):
                ctx.feed(T0, m.agent, {m.nps: 2}, customer=f"d{i}")
            events = ctx.poll_events()
            self.assertEqual(seqs(events), [3, 10, 11, 12])             # 4-9 were dropped
            self.assertEqual(events[1].customer, ctx.customer_hash("d0"))
            s = ctx.stats()
            self.assertEqual((s.events_queued, s.events_dropped), (7, 6))
            self.assertEqual(ctx.poll_events(), [])

    def test_event_queue_is_rounded_up_to_a_power_of_two(self):
        with make_ctx(event_queue=5) as ctx:
            m = Model(ctx)
            ctx.trigger(m.nps, "<=", 6)
            for _ in range(10):
                ctx.feed(T0, m.web, {m.nps: 2})
            self.assertEqual(len(ctx.poll_events()), 8)
            self.assertEqual(ctx.stats().events_dropped, 2)

    def test_max_events_across_chunks(self):
        with make_ctx() as ctx:
            m = Model(ctx)
            ctx.trigger(m.nps, "<=", 6)
            ctx.feed_many((T0, m.web, {m.nps: 1}) for _ in range(150))
            self.assertEqual(seqs(ctx.poll_events(64)), list(range(64)))
            self.assertEqual(seqs(ctx.poll_events(max_events=65)), list(range(64, 129)))
            self.assertEqual(seqs(ctx.poll_events(1)), [129])
            self.assertEqual(seqs(ctx.poll_events(2**62)), list(range(130, 150)))
            self.assertEqual(ctx.poll_events(), [])

    def test_a_context_without_triggers(self):
        with make_ctx() as ctx:
            m = Model(ctx)
            ctx.feed(T0, m.web, {m.nps: 0})
            self.assertEqual(ctx.poll_events(), [])
            s = ctx.stats()
            self.assertEqual((s.events_queued, s.events_dropped), (0, 0))

    def test_every_event_is_taken_by_exactly_one_poller(self):
        with make_ctx(event_queue=1 << 15) as ctx:
            m = Model(ctx)
            ctx.trigger(m.nps, "<=", 6)
            rows = [(T0, m.web, {m.nps: i % 7}) for i in range(4000)]
            taken, feeding, errors = [[], []], [True], []

            def feed():
                try:
                    errors.extend(ctx.feed_many(rows).rejections)
                except Exception as e:  # reported below, not lost in the thread
                    errors.append(e)

            def poll(k):
                try:
                    while feeding[0]:
                        taken[k].extend(seqs(ctx.poll_events(100)))
                except Exception as e:
                    errors.append(e)

            feeders = [threading.Thread(target=feed) for _ in range(2)]
            pollers = [threading.Thread(target=poll, args=(k,)) for k in range(2)]
            for t in feeders + pollers:
                t.start()
            for t in feeders:
                t.join()
            feeding[0] = False
            for t in pollers:
                t.join()
            self.assertEqual(errors, [])
            rest = seqs(ctx.poll_events(1 << 15))
            every = taken[0] + taken[1] + rest
            self.assertEqual(sorted(every), list(range(2 * 4000)))
            self.assertEqual(ctx.stats().events_dropped, 0)


class Config(unittest.TestCase):
    def test_max_triggers(self):
        with make_ctx(max_triggers=2) as ctx:
            m = Model(ctx)
            self.assertEqual([ctx.trigger(m.nps, "<", 7), ctx.trigger(m.nps, ">", 8)], [0, 1])
            with self.assertRaises(cxm.LimitError):
                ctx.trigger(m.csat, "<", 2)

    def test_zero_and_bad_values_are_refused(self):
        for key in ("max_triggers", "event_queue"):
            with self.subTest(key=key):
                with self.assertRaisesRegex(cxm.OutOfRangeError, f"{key}=0"):
                    cxm.Context(**{key: 0})
                with self.assertRaises(cxm.OutOfRangeError):
                    cxm.Context(**{key: -1})
                with self.assertRaises(cxm.OutOfRangeError):
                    cxm.Context(**{key: 2**32})
                with self.assertRaises(TypeError):
                    cxm.Context(**{key: True})
                with self.assertRaises(TypeError):
                    cxm.Context(**{key: 4.0})
                cxm.Context(**{key: None}).close()                         # the default
        with self.assertRaises(cxm.OutOfRangeError):                      # libcxm's limits
            cxm.Context(max_triggers=65537)
        with self.assertRaises(cxm.OutOfRangeError):
            cxm.Context(event_queue=(1 << 20) + 1)


class Snapshots(unittest.TestCase):
    def test_rules_come_back_with_their_ids_and_state(self):
        with make_ctx() as ctx:
            m = Model(ctx)
            rules = [ctx.trigger(m.nps, "<=", 6, touchpoint=m.agent),
                     ctx.trigger(m.csat, "<", 2.5, journey=m.support, step="resolution",
                                 segment=("tier", "silver")),
                     ctx.trigger(m.cxi, "!=", 10, item=2, channel="chat"),
                     ctx.trigger(m.aht, ">", 600)]
            ctx.trigger_enable(rules[3], False)
            ctx.feed(T0, m.agent, {m.nps: 0})                              # queued, not saved
            defs = [ctx.trigger_def(r) for r in rules]
            data = ctx.snapshot()
        with make_ctx() as copy:
            copy.load(data)
            self.assertEqual([copy.trigger_def(r) for r in rules], defs)
            with self.assertRaises(cxm.UnknownIdError):
                copy.trigger_def(len(rules))
            self.assertEqual(copy.poll_events(), [])
            copy.feed(T0, "agent call", {"nps": 1, "aht": 900.0})          # the aht rule is off
            self.assertEqual([(e.rule, e.seq) for e in copy.poll_events()], [(rules[0], 0)])
            self.assertEqual(copy.trigger(m.nps, ">=", 9), len(rules))     # ids go on


class BadArguments(unittest.TestCase):
    def setUp(self):
        self.ctx = make_ctx()
        self.m = Model(self.ctx)

    def tearDown(self):
        self.ctx.close()

    def test_trigger(self):
        ctx, m = self.ctx, self.m
        values_before = ctx.segment_values(m.tier)
        cases = [
            (dict(metric="nope"), cxm.UnknownIdError),
            (dict(metric=99), cxm.UnknownIdError),
            (dict(metric=-1), cxm.UnknownIdError),
            (dict(metric=True), TypeError),
            (dict(metric=1.0), TypeError),
            (dict(metric=m.volume), cxm.KindError),
            (dict(metric="customers"), cxm.KindError),
            (dict(op="=<"), cxm.InvalidArgumentError),
            (dict(op="="), cxm.InvalidArgumentError),
            (dict(op=""), cxm.InvalidArgumentError),
            (dict(op=6), cxm.InvalidArgumentError),
            (dict(op=-1), cxm.OutOfRangeError),
            (dict(op=True), TypeError),
            (dict(op=1.0), TypeError),
            (dict(op=None), TypeError),
            (dict(threshold=math.nan), cxm.NotFiniteError),
            (dict(threshold=math.inf), cxm.NotFiniteError),
            (dict(threshold=10**400), cxm.NotFiniteError),
            (dict(threshold="6"), TypeError),
            (dict(threshold=None), TypeError),
            (dict(threshold=True), TypeError),
            (dict(item=1), cxm.OutOfRangeError),
            (dict(metric=m.cxi, item=3), cxm.OutOfRangeError),
            (dict(item=-1), cxm.OutOfRangeError),
            (dict(item=True), TypeError),
            (dict(item=0.0), TypeError),
            (dict(touchpoint="nope"), cxm.UnknownIdError),
            (dict(touchpoint=99), cxm.UnknownIdError),
            (dict(touchpoint=-1), cxm.UnknownIdError),
            (dict(touchpoint=True), TypeError),
            (dict(touchpoint=m.agent, channel="phone"), TypeError),
            (dict(touchpoint=m.agent, journey=m.support), TypeError),
            (dict(step="contact"), TypeError),
            (dict(journey="nope"), cxm.UnknownIdError),
            (dict(journey=m.support, step="nope"), cxm.UnknownIdError),
            (dict(journey=m.support, step=5), cxm.UnknownIdError),
            (dict(journey=m.support, step=True), TypeError),
            (dict(journey=True), TypeError),
            (dict(channel="pigeon"), cxm.InvalidArgumentError),
            (dict(channel=0), cxm.UnknownIdError),
            (dict(channel=True), TypeError),
            (dict(segment=("tier", "platinum")), cxm.UnknownIdError),
            (dict(segment=("nope", "gold")), cxm.UnknownIdError),
            (dict(segment=("tier", 3)), cxm.UnknownIdError),
            (dict(segment=("tier", True)), TypeError),
            (dict(segment=(True, 0)), TypeError),
            (dict(segment="tier"), TypeError),
            (dict(segment="ab"), TypeError),
            (dict(segment=("tier",)), ValueError),
            (dict(segment=5), TypeError),
        ]
        for kw, exc in cases:
            args = dict(metric=m.nps, op="<=", threshold=6)
            args.update(kw)
            with self.subTest(**{k: repr(v) for k, v in kw.items()}), self.assertRaises(exc):
                ctx.trigger(args.pop("metric"), args.pop("op"), args.pop("threshold"), **args)
        with self.assertRaises(TypeError):
            ctx.trigger(m.nps, "<=")
        with self.assertRaises(TypeError):
            ctx.trigger(m.nps, "<=", 6, 0)                                 # item is a keyword
        with self.assertRaises(TypeError):
            ctx.trigger(m.nps, "<=", 6, where="agent")
        self.assertEqual(ctx.segment_values(m.tier), values_before)        # never added
        self.assertEqual(ctx.trigger(m.nps, "<=", 6), 0)                   # nothing was defined
        self.assertEqual(ctx.stats().events_queued, 0)

    def test_trigger_enable_and_trigger_def(self):
        ctx, m = self.ctx, self.m
        for fn in (ctx.trigger_def, lambda r: ctx.trigger_enable(r, True)):
            with self.assertRaises(cxm.UnknownIdError):
                fn(0)                                                       # none defined yet
        r = ctx.trigger(m.nps, "<=", 6)
        for fn in (ctx.trigger_def, lambda r: ctx.trigger_enable(r, True)):
            for bad, exc in ((1, cxm.UnknownIdError), (-1, cxm.UnknownIdError),
                             (2**40, cxm.UnknownIdError), (True, TypeError), (0.0, TypeError),
                             ("0", TypeError), (None, TypeError)):
                with self.subTest(rule=bad), self.assertRaises(exc):
                    fn(bad)
        for on in (1, 0, "no", None):
            with self.subTest(on=on), self.assertRaises(TypeError):
                ctx.trigger_enable(r, on)
        self.assertTrue(ctx.trigger_def(r).enabled)
        with self.assertRaises(TypeError):
            ctx.trigger_def()
        with self.assertRaises(TypeError):
            ctx._trigger_get(r, r)
        with self.assertRaises(TypeError):
            ctx._trigger_define(m.nps, 0, 1, 6.0, 0, 0, None, None)         # 8 of 9
        with self.assertRaises(TypeError):
            ctx._trigger_enable(r, True, True)

    def test_the_private_define_refuses_what_libcxm_would_misread(self):
        ctx, m = self.ctx, self.m
        base = [m.nps, 0, 1, 6.0, 0, 0, None, None, 0]
        for i, bad, exc in ((4, 5, cxm.InvalidArgumentError), (4, 2**32, cxm.OutOfRangeError),
                            (2, 2**31, cxm.InvalidArgumentError), (5, -1, cxm.UnknownIdError),
                            (6, True, TypeError), (7, 99, cxm.UnknownIdError),
                            (8, -1, cxm.UnknownIdError)):
            args = list(base)
            args[i] = bad
            if i == 8:
                args[7] = m.tier
            with self.subTest(arg=i, value=bad), self.assertRaises(exc):
                ctx._trigger_define(*args)

    def test_poll_events(self):
        ctx = self.ctx
        for bad, exc in ((0, cxm.OutOfRangeError), (-1, cxm.OutOfRangeError),
                         (2**70, cxm.OutOfRangeError), (True, TypeError), (1.5, TypeError),
                         ("3", TypeError), (None, TypeError)):
            with self.subTest(max_events=bad), self.assertRaises(exc):
                ctx.poll_events(bad)
            with self.subTest(max_events=bad, keyword=True), self.assertRaises(exc):
                ctx.poll_events(max_events=bad)
        with self.assertRaises(TypeError):
            ctx.poll_events(1, 2)
        with self.assertRaises(TypeError):
            ctx.poll_events(cap=1)

    def test_a_closed_context(self):
        ctx, m = self.ctx, self.m
        r = ctx.trigger(m.nps, "<=", 6)
        ctx.close()
        for call in (lambda: ctx.trigger(0, "<=", 6), lambda: ctx.trigger_enable(r, False),
                     lambda: ctx.trigger_def(r), ctx.poll_events, lambda: ctx.customer_hash("bob")):
            with self.assertRaises(ValueError):
                call()


if __name__ == "__main__":
    unittest.main()
