"""Journeys, touchpoints, metrics, segments: definitions and look-ups."""
import pickle
import unittest

import cxm
from support import T0, Model, make_ctx


class Definitions(unittest.TestCase):
    def setUp(self):
        self.ctx = make_ctx()
        self.m = Model(self.ctx)

    def tearDown(self):
        self.ctx.close()

    def test_ids_are_ints_with_names(self):
        m = self.m
        self.assertEqual((int(m.support), int(m.ivr), int(m.agent), int(m.nps)), (0, 0, 2, 0))
        self.assertEqual(repr(m.agent), "Touchpoint(2, 'agent call')")
        self.assertEqual(str(m.agent), "agent call")
        self.assertEqual(m.agent.channel, cxm.Channel.PHONE)
        self.assertEqual((m.agent.journey, m.agent.step), (0, 1))
        self.assertEqual((m.web.journey, m.web.step), (None, None))
        self.assertEqual(m.support.steps, ("contact", "resolution"))
        self.assertEqual(m.nps.kind, cxm.Kind.SCORE)
        self.assertEqual(m.aht.kind, cxm.Kind.DURATION)
        self.assertEqual((int(m.gold), m.gold.name, m.gold.segment), (0, "gold", int(m.tier)))
        for obj in (m.support, m.agent, m.nps, m.tier, m.gold):
            copy = pickle.loads(pickle.dumps(obj))
            self.assertEqual((type(copy), int(copy), copy.name), (type(obj), int(obj), obj.name))
        self.assertEqual(pickle.loads(pickle.dumps(m.agent)).channel, cxm.Channel.PHONE)

    def test_lookup_views(self):
        ctx = self.ctx
        self.assertEqual(len(ctx.touchpoints), 4)
        self.assertEqual(ctx.touchpoints.names(), ["ivr", "chat bot", "agent call", "web"])
        self.assertEqual([int(t) for t in ctx.touchpoints], [0, 1, 2, 3])
        tp = ctx.touchpoints["agent call"]
        self.assertEqual((int(tp), tp.channel, tp.journey, tp.step), (2, cxm.Channel.PHONE, 0, 1))
        self.assertEqual(ctx.touchpoints[3].name, "web")
        self.assertEqual(ctx.journeys["support"].steps, ("contact", "resolution"))
        self.assertEqual(ctx.metrics["aht"].kind, cxm.Kind.DURATION)
        self.assertEqual(ctx.segments[1].name, "region")
        self.assertIn("ivr", ctx.touchpoints)
        self.assertIn(0, ctx.journeys)
        self.assertNotIn("fax", ctx.touchpoints)
        self.assertNotIn(99, ctx.metrics)
        self.assertIsNone(ctx.metrics.get("nope"))
        self.assertEqual(ctx.metrics.get("nope", 5), 5)
        with self.assertRaises(KeyError):
            ctx.touchpoints["fax"]
        with self.assertRaises(cxm.UnknownIdError):
            ctx.journeys[7]
        self.assertIn("'nps'", repr(ctx.metrics))

    def test_segment_values(self):
        ctx, m = self.ctx, self.m
        self.assertEqual(ctx.segment_value(m.tier, "gold"), m.gold)  # existing: same id
        bronze = ctx.segment_value("tier", "bronze")
        self.assertEqual(int(bronze), 2)
        self.assertEqual(ctx.segment_value(m.tier, "bronze", add=False), bronze)
        with self.assertRaises(cxm.UnknownIdError):
            ctx.segment_value(m.tier, "platinum", add=False)
        self.assertEqual([v.name for v in ctx.segment_values(m.tier)], ["gold", "silver", "bronze"])
        self.assertEqual(ctx.segment_values("region"), ())
        ctx.segment_value(m.tier, "platinum")
        with self.assertRaises(cxm.LimitError):
            ctx.segment_value(m.tier, "diamond")
        with self.assertRaises(cxm.UnknownIdError):
            ctx.segment_value(9, "x")
        with self.assertRaises(cxm.UnknownIdError):
            ctx.segment_values("nope")
        self.assertEqual(ctx._segment_value_name(m.tier, 1), "silver")
        with self.assertRaises(cxm.UnknownIdError):
            ctx._segment_value_name(m.tier, 40)

    def test_metric_definitions(self):
        ctx = self.ctx
        d = ctx.metric_def("nps")
        self.assertEqual(d, cxm.preset("nps"))
        self.assertEqual((d.kind, d.headline, d.scale_min, d.scale_max), (cxm.Kind.SCORE, cxm.Headline.NET, 0, 10))
        self.assertEqual((d.top_min, d.bottom_max), ((9,), (6,)))
        self.assertEqual(cxm.preset("csat"), cxm.preset(cxm.Preset.CSAT5))
        self.assertEqual(cxm.preset("CES").scale_max, 7)
        self.assertEqual(cxm.preset("cxi").questions, 3)
        # a custom metric: CES as NET, with a "no answer" code
        ces_net = cxm.preset("ces7").replace(headline="net", na=99)
        m = ctx.metric("ces net", ces_net)
        back = ctx.metric_def(m)
        self.assertEqual((back.headline, back.na), (cxm.Headline.NET, 99))
        custom = cxm.MetricDef(kind="score", scale_min=1, scale_max=4, top_min=[4], bottom_max=[1])
        self.assertEqual(ctx.metric_def(ctx.metric("four", custom)).scale_max, 4)
        with self.assertRaises(cxm.OutOfRangeError):
            ctx.metric("bad", cxm.MetricDef(kind="score", scale_min=1, scale_max=500, top_min=[4], bottom_max=[1]))
        with self.assertRaises(cxm.InvalidArgumentError):
            ctx.metric("bad", cxm.MetricDef(kind=42))
        with self.assertRaises(cxm.NotFiniteError):
            ctx.metric("bad", cxm.preset("duration").replace(duration_hi=float("inf")))
        with self.assertRaises(cxm.InvalidArgumentError):
            ctx.metric("unknown preset name")
        with self.assertRaises(cxm.InvalidArgumentError):
            ctx.metric("x", 99)
        with self.assertRaises(cxm.InvalidArgumentError):
            cxm.preset(0)
        with self.assertRaises(TypeError):
            ctx._metric_define("x", "not a dict")
        self.assertEqual(ctx.metric_def(ctx.metric("distinct", "distinct")).precision, 12)
        # observations take a "no answer" code too: 0 s written for unanswered calls
        asa = ctx.metric("asa", cxm.preset("duration").replace(na=0))
        tp = ctx.touchpoint("queue", "phone")
        for v in (30.0, 0.0, 90.0, 0.0, 60.0):
            ctx.feed(T0, tp, {asa: v})
        r = ctx.query(asa, "1h", touchpoint=tp, end=T0 + 1)
        self.assertEqual((r.n, r.skipped, r.mean), (3, 2, 60.0))
        with self.assertRaises(cxm.OutOfRangeError):
            ctx.metric("rate na 1", cxm.preset("rate").replace(na=1))
        with self.assertRaises(cxm.InvalidArgumentError):
            ctx.metric("volume na", cxm.preset("volume").replace(na=-1))
        self.assertGreater(ctx.series_bytes("nps"), 0)
        self.assertEqual(ctx.series_bytes(self.m.nps), ctx.series_bytes(0))
        with self.assertRaises(cxm.UnknownIdError):
            ctx.series_bytes(999)

    def test_definition_errors(self):
        ctx, m = self.ctx, self.m
        with self.assertRaises(cxm.ExistsError):
            ctx.touchpoint("ivr")
        with self.assertRaises(ValueError):
            ctx.metric("nps")
        with self.assertRaises(cxm.ExistsError):
            ctx.journey("two", ["a", "a"])
        with self.assertRaises(cxm.EncodingError):
            ctx.touchpoint("bad\x01name")
        with self.assertRaises(cxm.EncodingError):
            ctx.touchpoint("")
        with self.assertRaises(cxm.EncodingError):
            ctx.touchpoint("nul\x00inside")
        with self.assertRaises(cxm.TooLongError):
            ctx.segment("s" * 500, 2)
        with self.assertRaises(cxm.InvalidArgumentError):
            ctx.journey("none", [])
        with self.assertRaises(cxm.UnknownIdError):
            ctx.touchpoint("x", "phone", journey=5)
        with self.assertRaises(cxm.UnknownIdError):
            ctx.touchpoint("x", "phone", journey="support", step="closing")
        with self.assertRaises(cxm.UnknownIdError):
            ctx.touchpoint("x", "phone", journey=m.support, step=9)
        with self.assertRaises(cxm.InvalidArgumentError):
            ctx.touchpoint("x", "fax")
        with self.assertRaises(cxm.InvalidArgumentError):
            ctx.touchpoint("x", 0)
        with self.assertRaises(cxm.OutOfRangeError):
            ctx.segment("s", 0)
        with self.assertRaises(TypeError):
            ctx.touchpoint(42)
        with self.assertRaises(TypeError):
            ctx.journey("j", [1, 2])
        self.assertEqual(len(ctx.touchpoints), 4)  # nothing was added by the failures

    def test_limits(self):
        with make_ctx(max_touchpoints=2, max_journeys=1, max_metrics=1, max_segments=1) as ctx:
            ctx.touchpoint("a")
            ctx.touchpoint("b")
            with self.assertRaises(cxm.LimitError):
                ctx.touchpoint("c")
            ctx.journey("j", ["s"])
            with self.assertRaises(cxm.LimitError):
                ctx.journey("k", ["s"])
            ctx.metric("nps")
            with self.assertRaises(cxm.LimitError):
                ctx.metric("csat")
            ctx.segment("tier", 2)
            with self.assertRaises(cxm.LimitError):
                ctx.segment("region", 2)

    def test_channels_by_name(self):
        ctx = self.ctx
        self.assertEqual(ctx.touchpoint("shop", "in person").channel, cxm.Channel.IN_PERSON)
        self.assertEqual(ctx.touchpoint("tw", "SOCIAL").channel, cxm.Channel.SOCIAL)
        self.assertEqual(ctx.touchpoint("txt", 5).channel, cxm.Channel.SMS)
        self.assertEqual(ctx.touchpoint("other").channel, cxm.Channel.OTHER)

    def test_raw_lookups(self):
        ctx, m = self.ctx, self.m
        self.assertEqual(ctx._find(2, "web"), 3)
        self.assertEqual(ctx._name(3, 1), "csat")
        self.assertEqual(ctx._count(4), 2)
        self.assertEqual(ctx._journey_steps("support"), 2)
        self.assertEqual(ctx._step_name(m.support, 0), "contact")
        self.assertEqual(ctx._step_find(m.support, "resolution"), 1)
        self.assertEqual(ctx._touchpoint_get(m.web), (int(cxm.Channel.WEB), None, None))
        with self.assertRaises(cxm.InvalidArgumentError):
            ctx._count(9)
        with self.assertRaises(cxm.UnknownIdError):
            ctx._find(1, "nope")
        with self.assertRaises(cxm.UnknownIdError):
            ctx._step_name(m.support, 5)
        with self.assertRaises(cxm.UnknownIdError):
            ctx._touchpoint_get(40)
        with self.assertRaises(TypeError):
            ctx._count()
        with self.assertRaises(TypeError):
            ctx._count(1, kind=2)



class Sentiment(unittest.TestCase):
    """A sentiment score from a model (docs/outcomes.md): the preset, its
    shares and NET, the no-answer code, and the scale's refusals."""

    def test_scores(self):
        with make_ctx() as ctx:
            s = ctx.metric("sentiment", "sentiment")
            self.assertEqual(ctx.metric_def(s).kind, cxm.Kind.SENTIMENT)
            net = ctx.metric("sentiment net", cxm.preset("sentiment").replace(headline="net"))
            chat = ctx.touchpoint("chat", "chat")
            for i, v in enumerate((0.8, -0.6, 0.05, 0.0, -0.05, 0.5)):
                ctx.feed(T0 - 10 * 60_000 + i, chat, {s: v, net: v})
            r = ctx.query(s, "1h")
            self.assertEqual((r.kind, r.headline, r.n, r.top, r.bottom), ("sentiment", "mean", 6, 3, 2))
            self.assertAlmostEqual(r.value, 0.7 / 6, places=12)
            self.assertAlmostEqual(ctx.query(net, "1h").value, 100 * (3 - 2) / 6, places=9)
            with self.assertRaises(cxm.OutOfRangeError):
                ctx.feed(T0, chat, {s: 1.5})
            with self.assertRaises(cxm.OutOfRangeError):
                ctx.metric("bad", cxm.preset("sentiment").replace(na=0))


if __name__ == "__main__":
    unittest.main()
