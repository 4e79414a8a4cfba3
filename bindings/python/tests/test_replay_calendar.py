"""Issue 12's acceptance test: a shuffled multi-month CSV replayed as it
comes (sorted by replay), with per-month values in New York time and a
lead -> deal funnel with a 90-day conversion window, against the same
numbers computed in plain Python (zoneinfo for the months)."""
import json
import os
import random
import subprocess
import tempfile
import unittest
from datetime import datetime, timedelta, timezone
from zoneinfo import ZoneInfo

from support import PY, python_env

NY = ZoneInfo("America/New_York")
UTC = timezone.utc
START = datetime(2025, 10, 1, tzinfo=UTC)
DAY = timedelta(days=1)


def iso(t):
    return t.strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


def month_start(t):
    """The first instant of the New York month holding t (UTC)."""
    local = t.astimezone(NY)
    return datetime(local.year, local.month, 1, tzinfo=NY).astimezone(UTC)


def nps(scores):
    return 100.0 * (sum(s >= 9 for s in scores) - sum(s <= 6 for s in scores)) / len(scores)


def make_rows(rng):
    rows = []  # (time, touchpoint, customer, nps, handle seconds)
    # NPS answers over five months, a quarter of them within 3 hours of a
    # New York midnight that begins a month (UTC months would differ there)
    edges = [month_start(START + timedelta(days=31 * k + 1)) for k in range(1, 5)]
    for i in range(1500):
        if i % 4 == 0:
            t = rng.choice(edges) + timedelta(minutes=rng.randint(-180, 180), seconds=7)
        else:
            t = START + timedelta(seconds=rng.randint(0, 150 * 86400))
        rows.append((t, "survey", "", rng.randint(0, 10), ""))
    # handle times on the agent line
    for i in range(800):
        t = START + timedelta(seconds=rng.randint(0, 150 * 86400))
        rows.append((t, "agent", "", "", round(rng.uniform(20, 1200), 3)))
    # sales: lead, maybe qualified within 40 days, maybe a deal 1 to 110
    # days after that (so some past 90 days from the lead)
    people = []
    for c in range(240):
        lead = START + timedelta(seconds=rng.randint(0, 90 * 86400))
        qual = lead + timedelta(seconds=rng.randint(86400, 40 * 86400)) if rng.random() < 0.7 else None
        deal = None
        if qual is not None and rng.random() < 0.7:
            deal = qual + timedelta(seconds=rng.randint(86400, 110 * 86400))
            if abs((deal - lead) - 90 * DAY) < timedelta(minutes=5):
                deal += timedelta(minutes=10)  # not at the window's edge: seconds matter there
        who = f"c{c}"
        people.append((lead, qual, deal))
        rows.append((lead, "lead", who, "", ""))
        if qual:
            rows.append((qual, "qualified", who, "", ""))
        if deal:
            rows.append((deal, "deal", who, "", ""))
    return rows, people


class ShuffledMonths(unittest.TestCase):
    def test_replay_equals_plain_python(self):
        rng = random.Random(20261204)
        rows, people = make_rows(rng)
        shuffled = rows[:]
        rng.shuffle(shuffled)
        with tempfile.TemporaryDirectory() as d:
            path = os.path.join(d, "history.csv")
            with open(path, "w", encoding="utf-8") as f:
                f.write("time,tp,who,nps,handle_s\n")
                for t, tp, who, score, h in shuffled:
                    f.write(f"{iso(t)},{tp},{who},{score},{h}\n")
            p = subprocess.run(
                [PY, "-m", "cxm", "replay", path, "--map", "time=time", "--map", "tp=touchpoint",
                 "--map", "who=customer", "--map", "nps=nps", "--map", "handle_s=duration:aht",
                 "--journey", "sales=lead,qualified,deal",
                 "--journey-option", "sales:conversion=90d", "--window", "400d",
                 "--calendar", "month:America/New_York", "--json", "--no-progress"],
                env=python_env(), capture_output=True, text=True, timeout=300)
        self.assertEqual(p.returncode, 0, p.stderr)
        out = json.loads(p.stdout)
        # counts: every row fed, once, sorted
        self.assertEqual((out["rows"], out["accepted"], out["rejected"]), (len(rows), len(rows), 0))
        self.assertTrue(out["sorted"])
        self.assertGreater(out["out_of_order"], len(rows) // 3)
        whole = {(r["metric"], r["scope"]): r for r in out["windows"][0]["rows"]}
        self.assertEqual(whole[("interactions", "all")]["n"], len(rows))
        scores = [r[3] for r in rows if r[1] == "survey"]
        handles = [r[4] for r in rows if r[1] == "agent"]
        self.assertEqual(whole[("nps", "all")]["n"], len(scores))
        self.assertAlmostEqual(whole[("nps", "all")]["value"], nps(scores), places=9)
        self.assertEqual(whole[("aht", "all")]["n"], len(handles))
        self.assertAlmostEqual(whole[("aht", "all")]["mean"], sum(handles) / len(handles),
                               places=6)
        # per New York month
        cal = out["calendar"]
        self.assertEqual((cal["unit"], cal["tz"]), ("month", "America/New_York"))
        by_month = {}
        for t, tp, _, score, _ in rows:
            if tp == "survey":
                by_month.setdefault(month_start(t), []).append(score)
        first, last = min(r[0] for r in rows), max(r[0] for r in rows)
        months = []
        m = month_start(first)
        while m <= last:
            months.append(m)
            m = month_start(m + timedelta(days=32))
        self.assertEqual([b["start_ms"] for b in cal["buckets"]],
                         [int(m.timestamp() * 1000) for m in months])
        checked = 0
        for b in cal["buckets"]:
            self.assertFalse(b["inexact"], b["start"])
            row = {r["metric"]: r for r in b["rows"]}["nps"]
            want = by_month.get(datetime.fromtimestamp(b["start_ms"] / 1000, UTC), [])
            self.assertEqual(row["n"], len(want), b["start"])
            if want:
                self.assertAlmostEqual(row["value"], nps(want), places=9, msg=b["start"])
                checked += 1
        self.assertGreaterEqual(checked, 5)
        # UTC months would have given other counts: the zone matters here
        utc_months = {}
        for t, tp, _, score, _ in rows:
            if tp == "survey":
                utc_months.setdefault((t.year, t.month), []).append(score)
        self.assertNotEqual(sorted(len(v) for v in utc_months.values()),
                            sorted(len(v) for v in by_month.values()))
        # the funnel over everything, 90-day conversion
        f = out["windows"][0]["funnels"][0]
        end = max(r[0] for r in rows)
        window = 90 * DAY
        entered = len(people)
        reached_q = sum(1 for lead, q, _ in people if q is not None and q - lead <= window)
        completed = sum(1 for lead, q, deal in people
                        if deal is not None and deal - lead <= window)
        closed = [(lead, q, deal) for lead, q, deal in people
                  if not (deal is not None and deal - lead <= window) and lead + window < end]
        abandoned = sum(1 for _, q, _ in closed if q is None)
        self.assertEqual((f["entered"], f["completed"]), (entered, completed))
        self.assertEqual([s["reached"] for s in f["steps"]], [entered, reached_q, completed])
        self.assertEqual(f["abandoned"], abandoned)
        self.assertEqual(f["expired"], len(closed) - abandoned)
        self.assertAlmostEqual(f["conversion"], completed / entered, places=12)
        # each New York month's entry cohort: its leads, and their deals
        # within the window, however much later
        cohorts = 0
        for b in cal["buckets"]:
            m = datetime.fromtimestamp(b["start_ms"] / 1000, UTC)
            mine = [(lead, q, deal) for lead, q, deal in people if month_start(lead) == m]
            c = b["cohorts"][0]
            self.assertEqual(c["entered"], len(mine), b["start"])
            self.assertEqual(c["completed"],
                             sum(1 for lead, _, deal in mine
                                 if deal is not None and deal - lead <= window), b["start"])
            self.assertEqual([s["reached"] for s in c["steps"]][1],
                             sum(1 for lead, q, _ in mine if q is not None and q - lead <= window))
            self.assertIsNone(c["goal_p50"])  # not kept per cohort
            cohorts += bool(mine)
        self.assertGreaterEqual(cohorts, 3)
        # the events of a month are not its cohort's fate
        self.assertNotEqual([b["funnels"][0]["completed"] for b in cal["buckets"]],
                            [b["cohorts"][0]["completed"] for b in cal["buckets"]])


if __name__ == "__main__":
    unittest.main()
