"""The survey governor: survey(), set_governor(), should_ask(),
record_invite(), record_response(), AskReason and Ask, and forget()
erasing a customer's history. The timelines are docs/loop.md's, worked by
hand (as tests/test_governor.c does in C)."""
import math
import unittest
from datetime import datetime, timedelta, timezone

import cxm
from support import HOUR, T0, Model, make_ctx

DAY = 24 * HOUR
WEEK = 7 * DAY
R = cxm.AskReason


def answer(a):
    """(reason, until_ms) of an Ask."""
    return a.reason, a.until_ms


class Timeline(unittest.TestCase):
    """docs/loop.md's worked timeline: a post-call survey (agent calls only;
    7 days after an invitation, 30 after a response), an e-mail survey
    without rules of its own, and 1 day / 7 days across surveys."""

    def setUp(self):
        self.ctx = make_ctx()
        self.m = Model(self.ctx)
        self.post = self.ctx.survey("post-call", min_since_invite="7d",
                                    min_since_response=timedelta(days=30), touchpoint="agent call")
        self.mail = self.ctx.survey("e-mail")
        self.ctx.set_governor(min_since_invite=DAY, min_since_response="1w")

    def tearDown(self):
        self.ctx.close()

    def test_cool_downs_their_bounds_and_until(self):
        ctx, m, post, mail = self.ctx, self.m, self.post, self.mail
        self.assertEqual((int(post), post.name, int(mail), mail.name), (0, "post-call", 1, "e-mail"))
        self.assertEqual(answer(ctx.should_ask(post, "alice", m.agent, T0)), (R.ASK, None))
        self.assertEqual(answer(ctx.should_ask(post, "alice", "ivr", T0)), (R.NOT_ELIGIBLE, None))
        ctx.record_invite(post, "alice", T0 + 500)                        # kept as T0's second

        # the survey's 7 days first (its own rules before those across surveys)
        a = ctx.should_ask("post-call", "alice", "agent call", T0 + HOUR)
        self.assertEqual(answer(a), (R.SURVEY_INVITED, T0 + WEEK))
        self.assertEqual(a.until, datetime(2026, 11, 29, 12, 0, tzinfo=timezone.utc))
        self.assertEqual(ctx.should_ask(post, "alice", m.agent, T0 + WEEK - 1).reason,
                         R.SURVEY_INVITED)
        self.assertEqual(answer(ctx.should_ask(post, "alice", m.agent, T0 + WEEK)),
                         (R.ASK, None))                                   # the bound is inclusive
        # the other survey meets the 1 day across surveys
        self.assertEqual(answer(ctx.should_ask(mail, "alice", m.web, T0 + HOUR)),
                         (R.INVITED, T0 + DAY))
        self.assertEqual(ctx.should_ask(mail, "alice", m.web, T0 + DAY - 1000).reason, R.INVITED)
        self.assertEqual(ctx.should_ask(mail, "alice", m.web, T0 + DAY).reason, R.ASK)
        # another customer is untouched
        self.assertTrue(ctx.should_ask(post, "bob", m.agent, T0 + HOUR))

        # alice answers 2 hours later: 30 days for post-call, 7 for any
        ctx.record_response(post, "alice", T0 + 2 * HOUR)
        self.assertEqual(answer(ctx.should_ask(post, "alice", m.agent, T0 + WEEK)),
                         (R.SURVEY_RESPONDED, T0 + 2 * HOUR + 30 * DAY))
        self.assertEqual(answer(ctx.should_ask(mail, "alice", m.web, T0 + 3 * DAY)),
                         (R.RESPONDED, T0 + 2 * HOUR + WEEK))
        self.assertTrue(ctx.should_ask(mail, "alice", m.web, T0 + 2 * HOUR + WEEK))
        self.assertTrue(ctx.should_ask(post, "alice", m.agent, T0 + 2 * HOUR + 30 * DAY))

    def test_an_interval_is_whole_seconds_and_the_survey_answers_first(self):
        ctx, m = self.ctx, self.m
        quick = ctx.survey("quick", min_since_invite="1.5s")              # 2 whole seconds
        ctx.record_invite(quick, "carol", T0 + 999)
        self.assertEqual(answer(ctx.should_ask(quick, "carol", m.web, T0 + 1999)),
                         (R.SURVEY_INVITED, T0 + 2000))
        # the 1 day across surveys says no too, later: the survey's answer comes first
        self.assertEqual(answer(ctx.should_ask(quick, "carol", m.web, T0 + 2000)),
                         (R.INVITED, T0 + DAY))

    def test_times_in_every_form_the_binding_takes(self):
        ctx, m = self.ctx, self.m
        ctx.record_invite("post-call", "dora", "2026-11-22T12:00:00Z")
        t = datetime(2026, 11, 22, 14, tzinfo=timezone(timedelta(hours=1)))  # 13:00 UTC
        self.assertEqual(answer(ctx.should_ask(self.post, "dora", m.agent, t)),
                         (R.SURVEY_INVITED, T0 + WEEK))
        ctx.record_response(self.post, b"dora", datetime(2026, 11, 22, 15, tzinfo=timezone.utc))
        self.assertEqual(ctx.should_ask(self.post, "dora", m.agent, T0 + WEEK).until_ms,
                         T0 + 3 * HOUR + 30 * DAY)                        # str and bytes alike

    def test_rules_across_surveys_are_replaced_whole(self):
        ctx, m = self.ctx, self.m
        ctx.record_invite(self.post, "erin", T0)
        self.assertEqual(ctx.should_ask(self.mail, "erin", m.web, T0 + HOUR).reason, R.INVITED)
        ctx.set_governor(min_since_response="7d")                         # no invitation rule now
        self.assertEqual(ctx.should_ask(self.mail, "erin", m.web, T0 + HOUR).reason, R.ASK)
        ctx.set_governor(min_since_invite="2h")                           # on the same history
        self.assertEqual(answer(ctx.should_ask(self.mail, "erin", m.web, T0 + HOUR)),
                         (R.INVITED, T0 + 2 * HOUR))
        ctx.set_governor()
        self.assertEqual(ctx.should_ask(self.mail, "erin", m.web, T0 + HOUR).reason, R.ASK)
        # the survey's own rule is untouched
        self.assertEqual(ctx.should_ask(self.post, "erin", m.agent, T0 + HOUR).reason,
                         R.SURVEY_INVITED)


class Caps(unittest.TestCase):
    def test_a_cap_per_survey_and_across_surveys(self):
        # at most 2 invitations of pulse in 10 days; at most 3 of all in 30
        with make_ctx() as ctx:
            m = Model(ctx)
            pulse = ctx.survey("pulse", max_invites=2, window="10d")
            other = ctx.survey("other")
            ctx.set_governor(max_invites=3, window=timedelta(days=30))
            ctx.record_invite(pulse, "dan", T0)
            self.assertTrue(ctx.should_ask(pulse, "dan", m.web, T0 + DAY))
            ctx.record_invite(pulse, "dan", T0 + DAY)
            self.assertEqual(answer(ctx.should_ask(pulse, "dan", m.web, T0 + 2 * DAY)),
                             (R.SURVEY_CAP, T0 + 10 * DAY))               # when T0's leaves
            self.assertEqual(ctx.should_ask(pulse, "dan", m.web, T0 + 10 * DAY - 1000).reason,
                             R.SURVEY_CAP)
            self.assertTrue(ctx.should_ask(pulse, "dan", m.web, T0 + 10 * DAY))
            # a response counts against no cap; the other survey's invitation
            # counts against the cap across surveys only
            ctx.record_response(pulse, "dan", T0 + 10 * DAY)
            ctx.record_invite(other, "dan", T0 + 10 * DAY)
            self.assertEqual(answer(ctx.should_ask(pulse, "dan", m.web, T0 + 10 * DAY)),
                             (R.CAP, T0 + 30 * DAY))
            self.assertEqual(answer(ctx.should_ask(other, "dan", m.web, T0 + 11 * DAY)),
                             (R.CAP, T0 + 30 * DAY))
            self.assertEqual(ctx.should_ask(other, "dan", m.web, T0 + 30 * DAY - 1000).reason, R.CAP)
            self.assertTrue(ctx.should_ask(other, "dan", m.web, T0 + 30 * DAY))
            ctx.set_governor()
            self.assertTrue(ctx.should_ask(other, "dan", m.web, T0 + 11 * DAY))

    def test_the_largest_cap(self):
        with make_ctx() as ctx:
            m = Model(ctx)
            s = ctx.survey("often", max_invites=cxm.SURVEY_MAX_CAP, window="1d")
            for i in range(cxm.SURVEY_MAX_CAP):
                self.assertTrue(ctx.should_ask(s, "fay", m.web, T0 + i * 1000))
                ctx.record_invite(s, "fay", T0 + i * 1000)
            self.assertEqual(answer(ctx.should_ask(s, "fay", m.web, T0 + HOUR)),
                             (R.SURVEY_CAP, T0 + DAY))


class Eligibility(unittest.TestCase):
    def test_scopes_by_name_and_by_id(self):
        with make_ctx() as ctx:
            m = Model(ctx)
            surveys = {
                "agent": ctx.survey("agent", touchpoint="agent call"),
                "agent by id": ctx.survey("agent by id", touchpoint=int(m.agent)),
                "contact": ctx.survey("contact", journey="support", step="contact"),
                "resolution": ctx.survey("resolution", journey=m.support, step=1),
                "support": ctx.survey("support", journey="support"),
                "web": ctx.survey("web", channel="web"),
                "phone": ctx.survey("phone", channel=cxm.Channel.PHONE),
                "any": ctx.survey("any"),
            }
            eligible = {
                "agent": {"agent call"}, "agent by id": {"agent call"},
                "contact": {"ivr", "chat bot"}, "resolution": {"agent call"},
                "support": {"ivr", "chat bot", "agent call"}, "web": {"web"},
                "phone": {"ivr", "agent call"}, "any": {"ivr", "chat bot", "agent call", "web"},
            }
            for name, s in surveys.items():
                for tp in ctx.touchpoints:
                    with self.subTest(survey=name, touchpoint=tp.name):
                        a = ctx.should_ask(name, "gus", tp.name, T0)
                        self.assertEqual(a.reason, R.ASK if tp.name in eligible[name]
                                         else R.NOT_ELIGIBLE)
                        self.assertEqual(ctx.should_ask(s, "gus", int(tp), T0), a)
                        self.assertIsNone(a.until_ms)


class Sampling(unittest.TestCase):
    def test_a_rate_of_0_3_decided_alike_by_every_context_with_the_key(self):
        key = bytes(range(16))
        n = 20_000
        with make_ctx(customer_key=key) as a, make_ctx(customer_key=key) as b, \
                make_ctx(customer_key=bytes(range(1, 17))) as c:
            for ctx in (a, b, c):
                ctx.touchpoint("web", "web")
            b.survey("first")                                             # ids differ: names count
            sa = a.survey("nps relationship", sample_rate=0.3)
            sb = b.survey("nps relationship", sample_rate=0.3)
            sc = c.survey("nps relationship", sample_rate=0.3)
            self.assertNotEqual(int(sa), int(sb))
            asked = same = same_other = 0
            for i in range(n):
                who = f"customer-{i}"
                x = a.should_ask(sa, who, "web", T0)
                y = b.should_ask(sb, who, "web", T0)
                z = c.should_ask(sc, who, "web", T0)
                self.assertIn(x.reason, (R.ASK, R.SAMPLED_OUT))
                asked += x.ask
                same += x == y
                same_other += x == z
            sigma = math.sqrt(n * 0.3 * 0.7)
            self.assertLessEqual(abs(asked - 0.3 * n), 3 * sigma, asked)
            self.assertEqual(same, n)
            # under another key the draws are independent: agreement near
            # 0.3² + 0.7² = 58 %, far from 100 %
            self.assertTrue(0.54 * n < same_other < 0.62 * n, same_other)
            # the same customer, the same answer, every time
            self.assertEqual({a.should_ask(sa, "customer-7", "web", T0 + i).reason
                              for i in range(20)}, {a.should_ask(sa, "customer-7", "web", T0).reason})

    def test_a_rate_of_one_is_everyone(self):
        with make_ctx() as ctx:
            ctx.touchpoint("web", "web")
            s = ctx.survey("all", sample_rate=1)
            self.assertTrue(all(ctx.should_ask(s, i, "web", T0) for i in range(1000)))


class Forget(unittest.TestCase):
    def test_forget_erases_the_history(self):
        with make_ctx() as ctx:
            m = Model(ctx)
            s = ctx.survey("quarterly", min_since_invite="90d")
            ctx.record_invite(s, "frank", T0)                              # never fed
            self.assertEqual(ctx.should_ask(s, "frank", m.web, T0 + DAY).reason, R.SURVEY_INVITED)
            ctx.forget("frank")
            self.assertTrue(ctx.should_ask(s, "frank", m.web, T0 + DAY))
            with self.assertRaises(cxm.UnknownIdError):
                ctx.forget("frank")                                        # nothing left of him
            # fed and recorded: forgotten from both
            ctx.feed(T0, m.web, {m.nps: 9}, customer="gina")
            ctx.record_invite(s, "gina", T0)
            ctx.forget("gina")
            with self.assertRaises(cxm.UnknownIdError):
                ctx.last_seen("gina")
            self.assertTrue(ctx.should_ask(s, "gina", m.web, T0 + DAY))

    def test_max_customers_bounds_what_is_kept(self):
        with make_ctx(max_customers=2) as ctx:
            m = Model(ctx)
            s = ctx.survey("quarterly", min_since_invite="90d")
            ctx.record_invite(s, "frank", T0)
            ctx.record_invite(s, "gina", T0)
            with self.assertRaises(cxm.LimitError):
                ctx.record_invite(s, "hal", T0)
            self.assertTrue(ctx.should_ask(s, "hal", m.web, T0 + 1000))  # nothing recorded
            ctx.forget("frank")
            ctx.record_invite(s, "hal", T0)                                # room again
            self.assertFalse(ctx.should_ask(s, "hal", m.web, T0 + 1000))


class Results(unittest.TestCase):
    def test_ask_reason_mirrors_cxm_ask(self):
        self.assertEqual([(r.name, int(r)) for r in R],
                         [("ASK", 0), ("NOT_ELIGIBLE", 1), ("SAMPLED_OUT", 2),
                          ("SURVEY_RESPONDED", 3), ("SURVEY_INVITED", 4), ("SURVEY_CAP", 5),
                          ("RESPONDED", 6), ("INVITED", 7), ("CAP", 8)])
        for bad in (9, -1):
            with self.subTest(reason=bad), self.assertRaises(ValueError):
                R(bad)

    def test_an_answer_is_an_immutable_named_tuple_true_when_yes(self):
        with make_ctx() as ctx:
            m = Model(ctx)
            s = ctx.survey("s", min_since_invite="1h", touchpoint=m.agent)
            yes = ctx.should_ask(s, "ian", m.agent, T0)
            ctx.record_invite(s, "ian", T0)
            later = ctx.should_ask(s, "ian", m.agent, T0 + 1000)
            no = ctx.should_ask(s, "ian", m.web, T0)
            self.assertIsInstance(yes, cxm.Ask)
            self.assertEqual(tuple(yes), (True, R.ASK, None))
            self.assertIs(bool(yes), True)
            self.assertIs(bool(later), False)
            self.assertIs(bool(no), False)                                 # a non-empty tuple, false
            self.assertEqual(later._fields, ("ask", "reason", "until_ms"))
            self.assertEqual(later._asdict(), {"ask": False, "reason": R.SURVEY_INVITED,
                                               "until_ms": T0 + HOUR})
            ok, reason, until = later
            self.assertEqual((ok, reason, until), (False, R.SURVEY_INVITED, T0 + HOUR))
            self.assertIsInstance(later.reason, R)
            self.assertEqual(later.until, datetime(2026, 11, 22, 13, tzinfo=timezone.utc))
            self.assertIsNone(yes.until)
            self.assertIsNone(no.until)
            self.assertIn("SURVEY_INVITED", repr(later))
            for a in (yes, later, no):
                with self.assertRaises(AttributeError):
                    a.ask = True
                with self.assertRaises(AttributeError):
                    a.until = None

    def test_surveys_are_ints_with_a_name(self):
        with make_ctx() as ctx:
            s = ctx.survey("post-call")
            self.assertIsInstance(s, cxm.Survey)
            self.assertEqual((int(s), s.name, str(s), repr(s)),
                             (0, "post-call", "post-call", "Survey(0, 'post-call')"))
            self.assertEqual(int(ctx.survey("é sondage")), 1)


class Limits(unittest.TestCase):
    def test_a_name_once_and_at_most_max_surveys(self):
        with make_ctx() as ctx:
            ctx.touchpoint("web", "web")
            first = ctx.survey("s0", min_since_invite="1d")
            with self.assertRaises(cxm.ExistsError):
                ctx.survey("s0")
            ctx.record_invite("s0", "jo", T0)                              # still the first one
            self.assertEqual(ctx.should_ask("s0", "jo", "web", T0 + 1000).reason, R.SURVEY_INVITED)
            for i in range(1, cxm.MAX_SURVEYS):
                self.assertEqual(int(ctx.survey(f"s{i}")), i)
            with self.assertRaises(cxm.LimitError):
                ctx.survey("one too many")
            with self.assertRaises(cxm.UnknownIdError):
                ctx.should_ask("one too many", "jo", "web", T0)
            self.assertEqual(int(first), 0)


class Snapshots(unittest.TestCase):
    def setUp(self):
        self.ctx = make_ctx()
        self.m = Model(self.ctx)
        self.post = self.ctx.survey("post-call", min_since_invite="7d", touchpoint="agent call")
        self.ctx.set_governor(min_since_response="7d")
        self.ctx.record_invite(self.post, "alice", T0)
        self.ctx.record_response(self.post, "bob", T0)

    def tearDown(self):
        self.ctx.close()

    def test_a_load_brings_surveys_rules_and_history_back(self):
        ctx = self.ctx
        want = [ctx.should_ask(self.post, who, "agent call", T0 + HOUR) for who in ("alice", "bob")]
        self.assertEqual([a.reason for a in want], [R.SURVEY_INVITED, R.RESPONDED])
        with cxm.Context.from_snapshot(ctx.snapshot(), customer_key=bytes(range(16))) as copy:
            self.assertEqual([copy.should_ask(int(self.post), who, "agent call", T0 + HOUR)
                              for who in ("alice", "bob")], want)
            # found by name too (cxm_survey_find)
            self.assertEqual([copy.should_ask("post-call", who, "agent call", T0 + HOUR)
                              for who in ("alice", "bob")], want)
            with self.assertRaisesRegex(cxm.UnknownIdError, "no survey is named"):
                copy.should_ask("post call", "alice", "agent call", T0 + HOUR)
            with self.assertRaises(cxm.ExistsError):
                copy.survey("post-call")
            self.assertEqual(int(copy.survey("e-mail")), 1)               # ids go on
            self.assertEqual(copy.should_ask("e-mail", "bob", "web", T0 + HOUR).reason, R.RESPONDED)

    def test_a_merge_adds_the_history_of_the_surveys_of_the_same_name(self):
        with make_ctx() as node:
            Model(node)
            node.survey("first")
            post = node.survey("post-call", min_since_invite="7d", touchpoint="agent call")
            self.assertTrue(node.should_ask(post, "alice", "agent call", T0 + HOUR))
            node.merge(self.ctx)
            self.assertEqual(answer(node.should_ask(post, "alice", "agent call", T0 + HOUR)),
                             (R.SURVEY_INVITED, T0 + WEEK))
            # the target's rules stay: no rule across surveys here
            self.assertTrue(node.should_ask("first", "bob", "web", T0 + HOUR))
            node.merge(self.ctx.snapshot())                                # each record once
            node.forget("alice")
            self.assertTrue(node.should_ask(post, "alice", "agent call", T0 + HOUR))


class BadArguments(unittest.TestCase):
    def setUp(self):
        self.ctx = make_ctx(max_customer_id_len=8)
        self.m = Model(self.ctx)

    def tearDown(self):
        self.ctx.close()

    SPANS = [
        (-1, cxm.OutOfRangeError),
        (timedelta(milliseconds=-1), cxm.OutOfRangeError),
        (cxm.TIME_MAX + 1, cxm.OutOfRangeError),
        (2**63, cxm.OutOfRangeError),
        ("-7d", ValueError),
        ("7 days", ValueError),
        ("1.5ms", ValueError),
        (True, TypeError),
        (1.5, TypeError),
        ([7], TypeError),
    ]

    def test_survey(self):
        ctx, m = self.ctx, self.m
        cases = [(dict(name=None), TypeError), (dict(name=b"s"), TypeError),
                 (dict(name=""), cxm.EncodingError), (dict(name="a\0b"), cxm.EncodingError),
                 (dict(name="\ud800"), cxm.EncodingError), (dict(name="x" * 300), cxm.TooLongError)]
        for key in ("min_since_invite", "min_since_response"):
            cases += [({key: v}, exc) for v, exc in self.SPANS]
        cases += [(dict(max_invites=2, window=v), exc) for v, exc in self.SPANS]
        cases += [
            (dict(max_invites=0), cxm.OutOfRangeError),                 # libcxm: no cap
            (dict(max_invites=0, window="1d"), cxm.OutOfRangeError),
            (dict(max_invites=-1, window="1d"), cxm.OutOfRangeError),
            (dict(max_invites=cxm.SURVEY_MAX_CAP + 1, window="1d"), cxm.OutOfRangeError),
            (dict(max_invites=2**32, window="1d"), cxm.OutOfRangeError),
            (dict(max_invites=True, window="1d"), TypeError),
            (dict(max_invites=2.0, window="1d"), TypeError),
            (dict(max_invites="2", window="1d"), TypeError),
            (dict(max_invites=2), cxm.OutOfRangeError),                 # a cap needs a window
            (dict(max_invites=2, window=0), cxm.OutOfRangeError),
            (dict(window="1d"), cxm.OutOfRangeError),                   # and a window its cap
            (dict(sample_rate=math.nan), cxm.NotFiniteError),
            (dict(sample_rate=0), cxm.OutOfRangeError),                 # libcxm: everyone
            (dict(sample_rate=0.0), cxm.OutOfRangeError),
            (dict(sample_rate=-0.1), cxm.OutOfRangeError),
            (dict(sample_rate=1.01), cxm.OutOfRangeError),
            (dict(sample_rate=math.inf), cxm.OutOfRangeError),
            (dict(sample_rate=True), TypeError),
            (dict(sample_rate="0.3"), TypeError),
            (dict(touchpoint="nope"), cxm.UnknownIdError),
            (dict(touchpoint=99), cxm.UnknownIdError),
            (dict(touchpoint=-1), cxm.UnknownIdError),
            (dict(touchpoint=True), TypeError),
            (dict(touchpoint=1.0), TypeError),
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
            (dict(channel=9), cxm.UnknownIdError),
            (dict(channel=True), TypeError),
        ]
        for kw, exc in cases:
            args = dict(name="s")
            args.update(kw)
            with self.subTest(**{k: repr(v) for k, v in kw.items()}), self.assertRaises(exc):
                ctx.survey(args.pop("name"), **args)
        for key in ("min_since_invite", "min_since_response", "window"):   # named in the message
            with self.assertRaisesRegex(cxm.OutOfRangeError, f"^{key} must not be negative"):
                ctx.survey("s", **{key: timedelta(seconds=-1)}, max_invites=1)
            with self.assertRaisesRegex(cxm.OutOfRangeError, f"^{key} must not be negative"):
                ctx.set_governor(**{key: -1}, max_invites=1)
        with self.assertRaises(TypeError):
            ctx.survey("s", "7d")                                          # keywords only
        with self.assertRaises(TypeError):
            ctx.survey("s", cooldown="7d")
        with self.assertRaises(TypeError):
            ctx.survey()
        # nothing was defined, and no name was kept
        with self.assertRaises(cxm.UnknownIdError):
            ctx.should_ask("s", "kim", m.web, T0)
        with self.assertRaises(cxm.UnknownIdError):
            ctx.should_ask(0, "kim", m.web, T0)
        self.assertEqual(int(ctx.survey("s")), 0)

    def test_set_governor(self):
        ctx, m = self.ctx, self.m
        s = ctx.survey("s")
        ctx.set_governor(min_since_invite="1d")
        cases = []
        for key in ("min_since_invite", "min_since_response"):
            cases += [({key: v}, exc) for v, exc in self.SPANS]
        cases += [(dict(max_invites=2, window=v), exc) for v, exc in self.SPANS]
        cases += [
            (dict(max_invites=0), cxm.OutOfRangeError),
            (dict(max_invites=0, window="1d"), cxm.OutOfRangeError),
            (dict(max_invites=-1, window="1d"), cxm.OutOfRangeError),
            (dict(max_invites=cxm.SURVEY_MAX_CAP + 1, window="1d"), cxm.OutOfRangeError),
            (dict(max_invites=True, window="1d"), TypeError),
            (dict(max_invites=2.0, window="1d"), TypeError),
            (dict(max_invites=2), cxm.OutOfRangeError),
            (dict(window="1d"), cxm.OutOfRangeError),
        ]
        for kw, exc in cases:
            with self.subTest(**{k: repr(v) for k, v in kw.items()}), self.assertRaises(exc):
                ctx.set_governor(**kw)
        with self.assertRaises(TypeError):
            ctx.set_governor("1d")                                         # keywords only
        with self.assertRaises(TypeError):
            ctx.set_governor(sample_rate=0.5)                              # a survey's, not these
        # the rules in force are still the first ones
        ctx.record_invite(s, "kim", T0)
        self.assertEqual(answer(ctx.should_ask(s, "kim", m.web, T0 + 1000)), (R.INVITED, T0 + DAY))

    def call_cases(self, s, call):
        """Bad surveys, customers and times for should_ask and the records
        of survey s (the only one); call(survey, customer, time) makes the
        call."""
        cases = [
            (dict(survey="nope"), cxm.UnknownIdError),
            (dict(survey=1), cxm.UnknownIdError),
            (dict(survey=-1), cxm.UnknownIdError),
            (dict(survey=2**40), cxm.UnknownIdError),
            (dict(survey=True), TypeError),
            (dict(survey=0.0), TypeError),
            (dict(survey=None), TypeError),
            (dict(survey=b"s"), TypeError),
            (dict(customer=None), TypeError),
            (dict(customer=True), TypeError),
            (dict(customer=1.5), TypeError),
            (dict(customer=["kim"]), TypeError),
            (dict(customer=""), cxm.InvalidArgumentError),
            (dict(customer=b""), cxm.InvalidArgumentError),
            (dict(customer="123456789"), cxm.TooLongError),
            (dict(customer=2**64), cxm.OutOfRangeError),
            (dict(time=-1), cxm.OutOfRangeError),
            (dict(time=cxm.TIME_MAX + 1), cxm.OutOfRangeError),
            (dict(time=2**63), cxm.OutOfRangeError),
            (dict(time=datetime(2026, 11, 22)), ValueError),              # naive
            (dict(time="2026-11-22T12:00:00"), ValueError),               # no offset
            (dict(time=1.5e12), TypeError),
            (dict(time=True), TypeError),
            (dict(time=None), TypeError),
        ]
        for kw, exc in cases:
            args = dict(survey=s, customer="kim", time=T0)
            args.update(kw)
            with self.subTest(**{k: repr(v) for k, v in kw.items()}), self.assertRaises(exc):
                call(**args)

    def test_should_ask(self):
        ctx, m = self.ctx, self.m
        s = ctx.survey("s")
        self.call_cases(s, lambda survey, customer, time:
                        ctx.should_ask(survey, customer, m.agent, time))
        for tp, exc in (("nope", cxm.UnknownIdError), (99, cxm.UnknownIdError),
                        (-1, cxm.UnknownIdError), (True, TypeError), (1.0, TypeError),
                        (None, TypeError)):
            with self.subTest(touchpoint=tp), self.assertRaises(exc):
                ctx.should_ask(s, "kim", tp, T0)
        with self.assertRaises(TypeError):
            ctx.should_ask(s, "kim", m.agent)
        with self.assertRaises(TypeError):
            ctx._should_ask(s, "kim", m.agent)                             # 3 of 4
        with self.assertRaises(TypeError):
            ctx._should_ask(s, "kim", m.agent, T0, T0)
        self.assertTrue(ctx.should_ask(s, "kim", m.agent, 0))             # the bounds themselves
        self.assertTrue(ctx.should_ask(s, "kim", m.agent, cxm.TIME_MAX))

    def test_record_invite_and_record_response(self):
        ctx, m = self.ctx, self.m
        s = ctx.survey("s", min_since_invite="1d", min_since_response="1d")
        for record in (ctx.record_invite, ctx.record_response):
            with self.subTest(record=record.__name__):
                self.call_cases(s, record)
                with self.assertRaises(TypeError):
                    record(s, "kim")
                with self.assertRaises(TypeError):
                    record(s, "kim", T0, T0)
        self.assertTrue(ctx.should_ask(s, "kim", m.web, T0 + 1000))       # nothing recorded

    def test_the_private_record_refuses_what_is_no_survey_event(self):
        ctx = self.ctx
        s = ctx.survey("s", min_since_invite="1d", min_since_response="1d")
        for what, exc in ((0, cxm.InvalidArgumentError), (3, cxm.InvalidArgumentError),
                          (2**31, cxm.InvalidArgumentError), (-1, cxm.OutOfRangeError),
                          (2**32, cxm.OutOfRangeError), (True, TypeError), (1.0, TypeError),
                          ("invited", TypeError), (None, TypeError)):
            with self.subTest(what=what), self.assertRaises(exc):
                ctx._survey_record(s, "kim", what, T0)
        self.assertTrue(ctx.should_ask(s, "kim", self.m.web, T0 + 1000))  # nothing recorded
        ctx._survey_record(s, "kim", cxm._cxm.SURVEY_RESPONDED, T0)
        self.assertEqual(ctx.should_ask(s, "kim", self.m.web, T0 + 1000).reason,
                         R.SURVEY_RESPONDED)

    def test_the_private_define_refuses_what_libcxm_would_misread(self):
        ctx = self.ctx
        base = ["s", 0, 0, 0, 0, 0.0, 0, 0, None]
        for i, bad, exc in ((6, 5, cxm.InvalidArgumentError), (6, 2**32, cxm.OutOfRangeError),
                            (6, 2**31, cxm.InvalidArgumentError), (6, -1, cxm.OutOfRangeError),
                            (7, -1, cxm.UnknownIdError), (8, True, TypeError),
                            (5, None, TypeError), (3, None, TypeError), (1, None, TypeError)):
            args = list(base)
            args[i] = bad
            with self.subTest(arg=i, value=bad), self.assertRaises(exc):
                ctx._survey_define(*args)
        with self.assertRaises(TypeError):
            ctx._survey_define(*base[:8])
        with self.assertRaises(TypeError):
            ctx._governor_set(0, 0, 0)
        self.assertEqual(ctx._survey_define(*base), 0)                     # nothing was defined

    def test_a_closed_context(self):
        ctx, m = self.ctx, self.m
        s = ctx.survey("s")
        ctx.close()
        for call in (lambda: ctx.survey("t"), lambda: ctx.set_governor(min_since_invite="1d"),
                     lambda: ctx.should_ask(s, "kim", m.web, T0),
                     lambda: ctx.should_ask("s", "kim", m.web, T0),
                     lambda: ctx.record_invite(s, "kim", T0),
                     lambda: ctx.record_response("s", "kim", T0)):
            with self.assertRaises(ValueError):
                call()


if __name__ == "__main__":
    unittest.main()
