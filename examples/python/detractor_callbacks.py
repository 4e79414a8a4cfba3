#!/usr/bin/env python3
"""Call back the customers who just gave a low score after an agent call.

A day of a contact center, generated: customers call, some serve
themselves in the IVR, the others reach an agent. After each call the
program asks libcxm's survey governor whether to send the survey at all
(so that the customers who call five times a day are not surveyed five
times) and records what it sent. The answers come back minutes later and
are fed to libcxm, with the calls.

A trigger, NPS <= 6 after an agent call, turns every such answer into an
event on the context's queue. A second thread, the call-back desk, polls
the queue, finds the program's own customer record from the event's
customer hash (libcxm keeps no ids) and writes a call-back task into a
sqlite3 table, due within 2, 8 or 24 hours by tier.

    python3 detractor_callbacks.py                  # the day and its summary
    python3 detractor_callbacks.py --check          # the same, checked (the meson test)
    python3 detractor_callbacks.py --event-queue 4 --batch 4 --pace 0.1
                                                    # a desk too slow: events dropped, seen in seq

See README.md next to this file, docs/loop.md and docs/python.md.
"""
import argparse
import collections
import hashlib
import heapq
import os
import random
import sqlite3
import sys
import tempfile
import threading
import time
from datetime import datetime, timezone
from typing import Dict, List, NamedTuple, Optional

import cxm

DAY0 = datetime(2026, 11, 23, tzinfo=timezone.utc)      # the day replayed, a Monday
DAY0_MS = int(DAY0.timestamp() * 1000)
SEC, MIN, HOUR, DAY = 1000, 60_000, 3_600_000, 86_400_000

# The survey rules, once: given to libcxm and used by --check to verify it.
POST_CALL = dict(min_since_invite=4 * HOUR, min_since_response=3 * DAY,
                 max_invites=2, window=DAY, sample_rate=0.6)
SELF_SERVICE = dict(min_since_invite=DAY, sample_rate=0.3)
ACROSS = dict(min_since_invite=1 * HOUR, min_since_response=DAY)     # every survey
DETRACTOR_MAX = 6                                        # NPS 0-6
CALLBACK_WITHIN = {"gold": 2 * HOUR, "silver": 8 * HOUR, "bronze": 24 * HOUR}


# ---------------------------------------------------------------- the data

class Customer(NamedTuple):            # the host's own record (its CRM)
    id: str
    name: str
    tier: str
    phone: str


class Call(NamedTuple):
    customer: Customer
    start_ms: int
    ivr_s: float                       # time in the IVR
    agent_s: Optional[float]           # handle time with an agent; None: self-served
    resolved: bool
    # what the customer would answer if surveyed (drawn for every call, so
    # the day is the same whatever the governor decides)
    would_answer: bool
    answer_after_ms: int
    score: int


FIRST = ("Ana", "Ben", "Chloe", "Dev", "Elif", "Femi", "Grace", "Hugo", "Ines", "Jon",
         "Kofi", "Lena", "Mateo", "Nia", "Omar", "Priya", "Quinn", "Rosa", "Sven", "Yuki")
LAST = ("Silva", "Okafor", "Novak", "Brown", "Yilmaz", "Costa", "Nguyen", "Larsen",
        "Haddad", "Moreau", "Kowalski", "Patel", "Schmidt", "Tanaka", "Walsh")
# NPS 0..10: agent calls, worse when the problem stayed unresolved; the IVR
AGENT_SCORES = (2, 1, 1, 2, 2, 4, 5, 9, 15, 25, 34)
UNRESOLVED_SCORES = (9, 6, 7, 8, 8, 10, 10, 12, 12, 10, 8)
IVR_SCORES = (6, 3, 3, 4, 5, 8, 9, 12, 15, 17, 18)


def generate_day(seed: int, n_customers: int, n_calls: int):
    """The customers and one day of their calls, in order of start."""
    rng = random.Random(seed)
    customers = []
    for i in range(n_customers):
        tier = rng.choices(("gold", "silver", "bronze"), (10, 30, 60))[0]
        customers.append(Customer(f"C-{100000 + i}", f"{rng.choice(FIRST)} {rng.choice(LAST)}",
                                  tier, f"+44 20 7946 {rng.randrange(10000):04d}"))
    # most customers call once or twice; a few call all day
    weights = [rng.paretovariate(3.0) for _ in customers]
    calls = []
    for c in rng.choices(customers, weights, k=n_calls):
        start = DAY0_MS + int(rng.triangular(6.5, 21.5, 11.0) * HOUR) + rng.randrange(HOUR // 60)
        ivr_s = rng.uniform(20, 150)
        if rng.random() < 0.25:                                   # served by the IVR
            agent_s, resolved = None, rng.random() < 0.6
            scores = IVR_SCORES
        else:
            agent_s, resolved = rng.lognormvariate(5.6, 0.5), rng.random() < 0.8
            scores = AGENT_SCORES if resolved else UNRESOLVED_SCORES
        calls.append(Call(c, start, ivr_s, agent_s, resolved,
                          would_answer=rng.random() < 0.45,
                          answer_after_ms=rng.randrange(2 * MIN, 45 * MIN),
                          score=rng.choices(range(11), scores)[0]))
    calls.sort(key=lambda call: call.start_ms)
    return customers, calls


# -------------------------------------------------------- the call-back desk

class CallbackDesk(threading.Thread):
    """Polls the context's events and writes one call-back task for each."""

    def __init__(self, ctx, crm: Dict[bytes, Customer], db_path: str, *,
                 batch: int = 256, idle: float = 0.005, pace: float = 0.0):
        super().__init__(name="callback-desk")
        self.ctx, self.crm, self.db_path = ctx, crm, db_path
        self.batch = batch          # events taken per poll
        self.idle = idle            # seconds slept when the queue was empty
        self.pace = pace            # seconds slept after every poll (a slow desk)
        self.day_over = threading.Event()
        self.error: Optional[BaseException] = None

    def run(self):
        try:
            self._run()
        except BaseException as e:        # reported by the main thread
            self.error = e

    def _run(self):
        db = sqlite3.connect(self.db_path)
        db.execute("DROP TABLE IF EXISTS callback")
        db.execute("""CREATE TABLE callback (
            seq INTEGER PRIMARY KEY,       -- the event's number: a gap is an event dropped
            customer_id TEXT,              -- NULL: a customer this program does not know
            name TEXT, tier TEXT, phone TEXT,
            score INTEGER, answered_ms INTEGER, due_ms INTEGER,
            status TEXT NOT NULL DEFAULT 'open')""")
        while True:
            # read before polling: once the day is over and a poll finds the
            # queue empty, no event can come any more
            over = self.day_over.is_set()
            events = self.ctx.poll_events(self.batch)
            for ev in events:
                c = self.crm.get(ev.customer) if ev.customer is not None else None
                within = CALLBACK_WITHIN[c.tier] if c else CALLBACK_WITHIN["bronze"]
                db.execute("INSERT INTO callback (seq, customer_id, name, tier, phone, score,"
                           " answered_ms, due_ms) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                           (ev.seq, c and c.id, c and c.name, c and c.tier, c and c.phone,
                            int(ev.value), ev.time_ms, ev.time_ms + within))
            db.commit()
            if not events and over:
                break
            if self.pace:
                time.sleep(self.pace)
            elif not events:
                time.sleep(self.idle)
        db.close()


# ------------------------------------------------------------- the day

class Day(NamedTuple):
    customers: List[Customer]
    calls: List[Call]
    answers: list          # (customer id, survey, touchpoint, time ms, score), as fed
    invites: list          # (customer id, survey, time ms), as sent
    responses: list        # (customer id, survey, time ms)
    refused: collections.Counter      # AskReason name -> count
    tasks: list            # rows of the callback table
    stats: object          # ctx.stats() at the end
    seconds: float


def run_day(customers, calls, *, seed: int, event_queue: int, db_path: str,
            batch: int = 256, pace: float = 0.0) -> Day:
    end_ms = DAY0_MS + 2 * DAY
    key = hashlib.blake2b(b"callbacks %d" % seed, digest_size=16).digest()
    t0 = time.monotonic()
    with cxm.Context(clock=lambda: end_ms, customer_key=key, event_queue=event_queue) as ctx:
        support = ctx.journey("support call", ["self-service", "agent"])
        ivr = ctx.touchpoint("ivr", "phone", support, "self-service")
        agent = ctx.touchpoint("agent call", "phone", support, "agent")
        nps = ctx.metric("nps")
        aht = ctx.metric("handle time", "duration")
        resolved = ctx.metric("resolved", "rate")
        tier = ctx.segment("tier", 4)
        ctx.trigger(nps, "<=", DETRACTOR_MAX, touchpoint=agent)
        post_call = ctx.survey("post-call", touchpoint=agent, **POST_CALL)
        self_service = ctx.survey("self-service", touchpoint=ivr, **SELF_SERVICE)
        ctx.set_governor(**ACROSS)

        # the host's customers, by the hash libcxm's events carry
        crm = {ctx.customer_hash(c.id): c for c in customers}
        desk = CallbackDesk(ctx, crm, db_path, batch=batch, pace=pace)
        desk.start()

        answers, invites, responses = [], [], []
        refused = collections.Counter()
        # what happens, in time order: legs of calls ending, answers coming back
        pending = []
        for i, call in enumerate(calls):
            heapq.heappush(pending, (call.start_ms + int(call.ivr_s * SEC), i, "ivr", call))
        try:
            while pending:
                t, i, what, call = heapq.heappop(pending)
                c = call.customer
                if what == "ivr":
                    self_served = call.agent_s is None
                    ctx.feed(t, ivr, {aht: call.ivr_s, resolved: call.resolved if self_served else None},
                             customer=c.id, segments={tier: c.tier})
                    if self_served:
                        heapq.heappush(pending, (t, i, "ask", call))
                    else:
                        heapq.heappush(pending, (t + int(call.agent_s * SEC), i, "agent", call))
                elif what == "agent":
                    ctx.feed(t, agent, {aht: call.agent_s, resolved: call.resolved},
                             customer=c.id, segments={tier: c.tier})
                    heapq.heappush(pending, (t, i, "ask", call))
                elif what == "ask":                        # the call is over: survey it?
                    survey, tp = (self_service, ivr) if call.agent_s is None else (post_call, agent)
                    a = ctx.should_ask(survey, c.id, tp, t)
                    if not a:
                        refused[a.reason.name] += 1
                        continue
                    ctx.record_invite(survey, c.id, t)     # the SMS is sent
                    invites.append((c.id, survey.name, t))
                    if call.would_answer:
                        heapq.heappush(pending, (t + call.answer_after_ms, i, "answer", call))
                elif what == "answer":
                    survey, tp = (self_service, ivr) if call.agent_s is None else (post_call, agent)
                    ctx.record_response(survey, c.id, t)
                    ctx.feed(t, tp, {nps: call.score}, customer=c.id, segments={tier: c.tier})
                    answers.append((c.id, survey.name, tp.name, t, call.score))
                    responses.append((c.id, survey.name, t))
        finally:
            desk.day_over.set()
            desk.join()
        if desk.error is not None:
            raise desk.error
        stats = ctx.stats()
    seconds = time.monotonic() - t0
    db = sqlite3.connect(db_path)
    tasks = db.execute("SELECT seq, customer_id, name, tier, phone, score, answered_ms, due_ms"
                       " FROM callback ORDER BY seq").fetchall()
    db.close()
    return Day(customers, calls, answers, invites, responses, refused, tasks, stats, seconds)


def hhmm(ms: int) -> str:
    return datetime.fromtimestamp(ms / 1000, timezone.utc).strftime("%a %H:%M")


def summary(day: Day, event_queue: int) -> None:
    agent_calls = sum(call.agent_s is not None for call in day.calls)
    sent = collections.Counter(s for _, s, _ in day.invites)
    got = collections.Counter(s for _, s, _, _, _ in day.answers)
    detractors = sum(tp == "agent call" and score <= DETRACTOR_MAX
                     for _, _, tp, _, score in day.answers)
    print(f"{DAY0:%Y-%m-%d}: {len(day.calls)} calls from {len(day.customers)} customers, "
          f"{agent_calls} reached an agent")
    print(f"surveys sent: post-call {sent['post-call']}, self-service {sent['self-service']}; "
          f"not sent {sum(day.refused.values())} ("
          + ", ".join(f"{n} {r.lower()}" for r, n in day.refused.most_common()) + ")")
    print(f"answers: post-call {got['post-call']}, self-service {got['self-service']}; "
          f"detractors after an agent call: {detractors}")
    by_tier = collections.Counter(t[3] for t in day.tasks)
    print(f"call-back tasks: {len(day.tasks)} ("
          + ", ".join(f"{by_tier[t]} {t} within {CALLBACK_WITHIN[t] // HOUR} h"
                      for t in CALLBACK_WITHIN) + ")")
    print(f"events (queue of {event_queue}): queued {day.stats.events_queued}, "
          f"dropped {day.stats.events_dropped}; {day.seconds:.2f} s")
    if day.stats.events_dropped:
        matches = day.stats.events_queued + day.stats.events_dropped
        gap = sorted(set(range(matches)) - {t[0] for t in day.tasks})
        print(f"  the desk fell behind: {len(gap)} numbers missing in Event.seq "
              f"({', '.join(map(str, gap[:5]))}{', ...' if len(gap) > 5 else ''})")
    for seq, cid, name, tier, phone, score, answered, due in day.tasks[:3]:
        print(f"  #{seq} {cid} {name} ({tier}, {phone}): NPS {score} at {hhmm(answered)},"
              f" call back by {hhmm(due)}")


# ------------------------------------------------------------- --check

class Failures(list):
    def expect(self, ok: bool, what: str) -> None:
        if not ok:
            self.append(what)


def check_day(day: Day, *, overflow: bool) -> List[str]:
    """What the day must satisfy, from the host's own records of it."""
    f = Failures()
    known = {c.id for c in day.customers}
    scores = {}                                 # (customer, time) -> score of the answer fed
    for cid, _, tp, t, score in day.answers:
        scores[(cid, tp, t)] = score
    detractors = collections.Counter((cid, t) for cid, _, tp, t, score in day.answers
                                     if tp == "agent call" and score <= DETRACTOR_MAX)
    n_det = sum(detractors.values())
    f.expect(n_det > 50, f"only {n_det} detractor answers: the day tests little")
    f.expect(any(tp == "ivr" and s <= DETRACTOR_MAX for _, _, tp, _, s in day.answers),
             "no detractor in the IVR: the trigger's scope is not tested")

    tasks = collections.Counter()
    for seq, cid, _, _, _, score, answered, _ in day.tasks:
        f.expect(cid in known, f"task #{seq}: customer {cid!r} is not one of ours")
        fed = scores.get((cid, "agent call", answered))
        f.expect(fed is not None, f"task #{seq}: no answer of {cid} after an agent call at {answered}")
        f.expect(fed is None or fed <= DETRACTOR_MAX,
                 f"task #{seq}: {cid} answered {fed}, a {'promoter' if fed and fed >= 9 else 'passive'}")
        f.expect(fed is None or fed == score, f"task #{seq}: score {score}, fed {fed}")
        tasks[(cid, answered)] += 1
    f.expect(not tasks - detractors, f"tasks that are no detractor: {list(tasks - detractors)[:5]}")

    s = day.stats
    f.expect(s.events_queued == len(day.tasks),
             f"events_queued {s.events_queued} != {len(day.tasks)} tasks")
    f.expect(s.events_queued + s.events_dropped == n_det,
             f"queued {s.events_queued} + dropped {s.events_dropped} != {n_det} detractors")
    seqs = [t[0] for t in day.tasks]
    missing = set(range(n_det)) - set(seqs)
    f.expect(len(missing) == s.events_dropped,
             f"{len(missing)} numbers missing in Event.seq, {s.events_dropped} events dropped")
    if overflow:
        f.expect(s.events_dropped > 0, "a tiny queue and a slow desk, yet nothing dropped")
        f.expect(len(day.tasks) + s.events_dropped == n_det,
                 f"{len(day.tasks)} tasks + {s.events_dropped} dropped != {n_det} detractors")
    else:
        f.expect(s.events_dropped == 0, f"{s.events_dropped} events dropped")
        f.expect(len(day.tasks) == n_det, f"{len(day.tasks)} tasks for {n_det} detractors")
        f.expect(tasks == detractors,
                 f"detractors without a task: {list(detractors - tasks)[:5]}")

    f.extend(check_governor(day))
    return f


def check_governor(day: Day) -> List[str]:
    """No customer surveyed more than the rules allow, times kept to the second."""
    f = Failures()
    rules = {"post-call": POST_CALL, "self-service": SELF_SERVICE}
    invites = collections.defaultdict(list)     # customer -> [(second, survey)]
    for cid, survey, t in day.invites:
        invites[cid].append((t // SEC, survey))
    responded = collections.defaultdict(list)
    for cid, survey, t in day.responses:
        responded[cid].append((t // SEC, survey))
    for cid, sent in invites.items():
        sent.sort()
        for i, (sec, survey) in enumerate(sent):
            r = rules[survey]
            if i:
                gap = sec - sent[i - 1][0]
                f.expect(gap >= ACROSS["min_since_invite"] // SEC,
                         f"{cid} invited {gap} s after another survey's invitation")
            same = [x for x, s in sent[:i] if s == survey]
            if same and "min_since_invite" in r:
                f.expect(sec - same[-1] >= r["min_since_invite"] // SEC,
                         f"{cid} invited to {survey} {sec - same[-1]} s after the last time")
            if "max_invites" in r:
                in_window = sum(sec - r["window"] // SEC < x <= sec for x in same) + 1
                f.expect(in_window <= r["max_invites"],
                         f"{cid} invited to {survey} {in_window} times within its window")
            for rsec, rsurvey in responded[cid]:
                if rsec <= sec:
                    f.expect(sec - rsec >= ACROSS["min_since_response"] // SEC,
                             f"{cid} invited {sec - rsec} s after answering {rsurvey}")
                    if rsurvey == survey and "min_since_response" in r:
                        f.expect(sec - rsec >= r["min_since_response"] // SEC,
                                 f"{cid} invited to {survey} {sec - rsec} s after answering it")
    # the rules must have had something to do, or the above proves nothing
    for reason in ("SAMPLED_OUT", "SURVEY_INVITED", "SURVEY_CAP", "INVITED", "RESPONDED"):
        f.expect(day.refused[reason] > 0, f"the governor never said {reason}")
    f.expect(any(len(v) > 1 for v in invites.values()), "no customer invited twice at all")
    return f


# ------------------------------------------------------------- main

def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--seed", type=int, default=13)
    p.add_argument("--customers", type=int, default=2500)
    p.add_argument("--calls", type=int, default=9000)
    p.add_argument("--event-queue", type=int, default=4096, help="libcxm's event queue (a power of two)")
    p.add_argument("--batch", type=int, default=256, help="events the desk takes per poll")
    p.add_argument("--pace", type=float, default=0.0,
                   help="seconds the desk sleeps after every poll (0: only when the queue is empty)")
    p.add_argument("--db", help="sqlite3 file for the tasks (default: a temporary one)")
    p.add_argument("--check", action="store_true",
                   help="run the day with the default queue, then with a queue of 4 and a slow"
                        " desk, and check both; exit 1 on any failure")
    a = p.parse_args(argv)

    customers, calls = generate_day(a.seed, a.customers, a.calls)
    with tempfile.TemporaryDirectory(prefix="callbacks-") as tmp:
        if not a.check:
            db = a.db or os.path.join(tmp, "tasks.db")
            day = run_day(customers, calls, seed=a.seed, event_queue=a.event_queue,
                          batch=a.batch, pace=a.pace, db_path=db)
            summary(day, a.event_queue)
            return 0
        failed = False
        # a desk that keeps up, then one that takes 4 events every 0.1 s from a queue of 4
        for name, queue, batch, pace in (("default queue", 4096, 256, 0.0),
                                         ("queue of 4, slow desk", 4, 4, 0.1)):
            day = run_day(customers, calls, seed=a.seed, event_queue=queue, batch=batch,
                          pace=pace, db_path=os.path.join(tmp, f"tasks-{queue}.db"))
            summary(day, queue)
            failures = check_day(day, overflow=queue == 4)
            for what in failures[:20]:
                print(f"FAIL ({name}): {what}", file=sys.stderr)
            if len(failures) > 20:
                print(f"FAIL ({name}): ... {len(failures) - 20} more", file=sys.stderr)
            print(f"check ({name}): {'FAILED' if failures else 'ok'}\n")
            failed = failed or bool(failures)
        return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
