"""python3 -m cxm replay on exports as they come: rows out of time order,
hours instead of seconds, a date and a time column, channel words that are
not libcxm's names, journey options; every result flag shown, and --csv.
Each small CSV is built here and the replay's output is checked against the
same numbers computed in plain Python."""
import csv
import io
import json
import os
import random
import shutil
import subprocess
import tempfile
import unittest
from datetime import datetime, timedelta, timezone

import cxm
from cxm import _replay
from support import PY, python_env

T0 = datetime(2026, 11, 22, tzinfo=timezone.utc)
QUEUES = ["ivr", "agent", "shop"]


def run(args):
    return subprocess.run([PY, "-m", "cxm", "replay"] + args + ["--no-progress"],
                          env=python_env(), capture_output=True, text=True, timeout=120)


def replay_json(test, args):
    p = run(args + ["--json"])
    test.assertEqual(p.returncode, 0, p.stderr)
    return json.loads(p.stdout)


def cells(out, window=0):
    return {(r["metric"], r["scope"], r["name"]): r for r in out["windows"][window]["rows"]}


def iso(t):
    return t.strftime("%Y-%m-%dT%H:%M:%SZ")


def write_csv(path, header, rows):
    with open(path, "w", newline="", encoding="utf-8") as f:
        w = csv.writer(f, lineterminator="\n")
        w.writerow(header)
        w.writerows(rows)


def out_of_order(times):
    """Rows earlier than a row before them."""
    newest, n = None, 0
    for t in times:
        if newest is not None and t < newest:
            n += 1
        else:
            newest = t
    return n


def nps(scores):
    return 100.0 * (sum(s >= 9 for s in scores) - sum(s <= 6 for s in scores)) / len(scores)


class Exports(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.dir = tempfile.mkdtemp(prefix="cxm-replay-")
        # three days of calls, shuffled: handle time in hours, a score for one in three
        rnd = random.Random(7)
        cls.rows = []
        for i in range(600):
            t = T0 + timedelta(minutes=7 * i, seconds=rnd.randrange(60))
            score = "" if i % 3 else str(rnd.randrange(11))
            cls.rows.append([iso(t), QUEUES[i % 3], f"{rnd.uniform(0.02, 0.4):.4f}", score])
        rnd.shuffle(cls.rows)
        cls.shuffled = os.path.join(cls.dir, "shuffled.csv")
        write_csv(cls.shuffled, ["when", "queue", "handle_h", "score"], cls.rows)
        cls.maps = ["--map", "when=time", "--map", "queue=touchpoint",
                    "--map", "handle_h=duration:aht*3600", "--map", "score=nps"]

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.dir, ignore_errors=True)

    def path(self, name):
        return os.path.join(self.dir, name)

    # -- 3. sorted by time --

    def test_shuffled_rows_are_sorted_and_all_fed(self):
        out = replay_json(self, [self.shuffled, "--window", "7d"] + self.maps)
        times = [datetime.fromisoformat(r[0].replace("Z", "+00:00")) for r in self.rows]
        self.assertEqual((out["rows"], out["accepted"], out["rejected"]), (600, 600, 0))
        self.assertTrue(out["sorted"])
        self.assertEqual(out["out_of_order"], out_of_order(times))
        self.assertGreater(out["out_of_order"], 100)
        self.assertEqual(out["end"], iso(max(times)))
        c = cells(out)
        self.assertEqual(c["interactions", "all", None]["n"], 600)
        for q in QUEUES:
            self.assertEqual(c["interactions", "touchpoint", q]["n"],
                             sum(r[1] == q for r in self.rows))
        # hours * 3600: seconds
        hours = [float(r[2]) for r in self.rows]
        self.assertAlmostEqual(c["aht", "all", None]["mean"], 3600 * sum(hours) / len(hours),
                               places=6)
        self.assertEqual(c["aht", "all", None]["n"], 600)
        scores = [int(r[3]) for r in self.rows if r[3] != ""]
        self.assertEqual(c["nps", "all", None]["n"], len(scores))
        self.assertAlmostEqual(c["nps", "all", None]["value"], nps(scores), places=9)
        # the text says it too
        p = run([self.shuffled, "--window", "7d"] + self.maps)
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertIn(f"{out['out_of_order']:,} rows were out of time order: all were fed sorted "
                      f"by time", p.stdout)

    def test_no_sort_feeds_as_read(self):
        out = replay_json(self, [self.shuffled, "--window", "7d", "--no-sort"] + self.maps)
        self.assertFalse(out["sorted"])
        self.assertGreater(out["rejected"], 0)  # rows far behind the newest: too late
        self.assertEqual(set(out["rejections_by_reason"]), {"too late"})
        self.assertEqual(out["accepted"] + out["rejected"], 600)
        self.assertEqual(cells(out)["interactions", "all", None]["n"], out["accepted"])
        p = run([self.shuffled, "--no-sort"] + self.maps)
        self.assertIn("out of time order and fed as read (--no-sort)", p.stdout)

    def test_sorting_keeps_line_numbers_and_equal_times_in_file_order(self):
        path = self.path("ties.csv")
        write_csv(path, ["when", "queue", "handle_h"],
                  [[iso(T0 + timedelta(hours=1)), "ivr", "0.1"],
                   [iso(T0), "ivr", "x"],
                   [iso(T0), "ivr", "0.2"],
                   ["", "ivr", "0.3"]])
        out = replay_json(self, [path, "--map", "when=time", "--map", "queue=touchpoint",
                                 "--map", "handle_h=duration:aht*3600"])
        self.assertEqual((out["accepted"], out["out_of_order"]), (2, 1))
        self.assertEqual([(r["line"], r["reason"][:12]) for r in out["rejections"]],
                         [(3, "column handl"), (5, "no time")])
        self.assertAlmostEqual(cells(out)["aht", "all", None]["mean"], 0.15 * 3600, places=6)

    def test_a_sorted_feed_that_stops_says_which_rows_were_fed(self):
        path = self.path("stop.csv")
        times = [T0 + timedelta(minutes=m) for m in (5, 1, 4, 2, 3)]
        write_csv(path, ["when", "queue"], [[iso(t), "ivr"] for t in times])

        class Failing:  # the context, whose feed_many stops after two rows
            def __init__(self, ctx):
                self.ctx = ctx

            def __getattr__(self, name):
                return getattr(self.ctx, name)

            def feed_many(self, rows):
                rep = self.ctx.feed_many(rows[:2])
                err = cxm.BulkFeedError("stopped", rep, 2)
                err.__cause__ = RuntimeError("disk on fire")
                raise err

        args = _replay._parser()[0].parse_args(["replay", path, "--map", "when=time", "--map",
                                                "queue=touchpoint", "--no-progress"])
        r = _replay._Replay(args)
        with r.ctx:
            real, r.ctx = r.ctx, Failing(r.ctx)
            with self.assertRaises(cxm.BulkFeedError) as cm:
                r.run()
            self.assertEqual(real.query("interactions", "1h", end=cxm.WATERMARK).n, 2)
        e = cm.exception
        # fed: 00:01 (line 3) and 00:02 (line 5); it stopped at 00:03, line 6
        self.assertEqual((e.index, e.accepted, e.rejected), (6, 2, 0))
        self.assertIn("replay stopped at line 6 by RuntimeError: disk on fire; the rows were fed "
                      "sorted by time: 2 accepted and 0 rejected, those before line 6's time "
                      "2026-11-22T00:03:00Z; none from it on was fed", str(e))

    # -- 4. unit scaling and a date + a time column --

    def test_scaling_in_map(self):
        path = self.path("units.csv")
        rows = [[iso(T0 + timedelta(minutes=i)), str(2 + i), str(30 * i + 60), str(5 * i)]
                for i in range(10)]
        write_csv(path, ["t", "handle_min", "wait_ms", "pct"], rows)
        out = replay_json(self, [path, "--touchpoint", "web", "--map", "t=time",
                                 "--map", "handle_min=duration:handle*60",
                                 "--map", "wait_ms=duration:wait/1000",
                                 "--map", "pct=amount:share / 100"])
        c = cells(out)
        self.assertAlmostEqual(c["handle", "all", None]["mean"],
                               sum(60 * float(r[1]) for r in rows) / 10, places=9)
        self.assertAlmostEqual(c["wait", "all", None]["mean"],
                               sum(float(r[2]) / 1000 for r in rows) / 10, places=9)
        self.assertAlmostEqual(c["share", "all", None]["sum"],
                               sum(float(r[3]) / 100 for r in rows), places=9)
        for bad in ("handle_min=duration*0", "handle_min=duration*hours", "handle_min=duration/"):
            p = run([path, "--touchpoint", "web", "--map", "t=time", "--map", bad])
            self.assertEqual(p.returncode, 1, bad)
            self.assertIn("K a number", p.stderr)

    def test_no_answer_codes(self):
        # a call-centre export: 0 s of speed of answer and -1 resolution for
        # calls nobody answered; answered after 30, 90, 60 s
        path = self.path("asa.csv")
        asa = ["30", "0", "90", "0", "60"]
        solved = ["1", "-1", "0", "-1", "yes"]
        rows = [[iso(T0 + timedelta(minutes=i)), asa[i], solved[i]] for i in range(5)]
        write_csv(path, ["t", "asa_min", "solved"], rows)
        base = [path, "--touchpoint", "queue", "--map", "t=time",
                "--map", "asa_min=duration:asa/60", "--map", "solved=rate:resolved"]
        c = cells(replay_json(self, base + ["--na", "asa=0", "--na", "resolved=-1"]))
        self.assertEqual((c["asa", "all", None]["n"], c["asa", "all", None]["skipped"]), (3, 2))
        self.assertAlmostEqual(c["asa", "all", None]["mean"], 1.0, places=12)  # 60 s / 60
        self.assertEqual((c["resolved", "all", None]["n"], c["resolved", "all", None]["skipped"]), (3, 2))
        self.assertAlmostEqual(c["resolved", "all", None]["value"], 200 / 3, places=9)
        # without a code the zeros are values (and a rate of -1 refuses its row)
        c = cells(replay_json(self, base[:-2]))
        self.assertEqual(c["asa", "all", None]["n"], 5)
        self.assertAlmostEqual(c["asa", "all", None]["mean"], 0.6, places=12)  # 36 s / 60
        for bad, msg in ((["--na", "nope=0"], "no --map column"), (["--na", "asa=x"], "integer"),
                         (["--na", "resolved=1"], "0 or 1")):
            p = run(base + bad)
            self.assertEqual(p.returncode, 1, bad)
            self.assertIn(msg, p.stderr)

    def test_date_and_time_columns(self):
        path = self.path("datetime.csv")
        rows = [["2026-11-22", "10:00:00", "shop", "9"], ["2026-11-22", "09:30", "shop", "3"],
                ["2026-11-21", "23:59:59", "shop", "10"], ["2026-11-22", "", "shop", "7"]]
        write_csv(path, ["day", "clock", "where", "score"], rows)
        maps = ["--map", "where=touchpoint", "--map", "score=nps", "--window", "24h"]
        out = replay_json(self, [path, "--map", "day+clock=time"] + maps)
        self.assertEqual((out["accepted"], out["rejected"]), (3, 1))
        self.assertEqual(out["rejections"], [{"line": 5, "reason": "no clock"}])
        self.assertEqual(out["end"], "2026-11-22T10:00:00Z")
        self.assertEqual(out["out_of_order"], 2)
        self.assertEqual(cells(out)["nps", "all", None]["n"], 3)
        self.assertAlmostEqual(cells(out)["nps", "all", None]["value"], nps([9, 3, 10]))
        # another layout, read by a strptime format after the join, in a zone
        other = self.path("datetime2.csv")
        write_csv(other, ["d", "h", "where", "score"],
                  [["22/11/2026", "10:00", "shop", "9"], ["22/11/2026", "11:15", "shop", "1"]])
        out = replay_json(self, [other, "--map", "d+h=time", "--time-format", "%d/%m/%Y %H:%M",
                                 "--tz", "+01:00"] + maps)
        self.assertEqual((out["accepted"], out["end"]), (2, "2026-11-22T10:15:00Z"))
        p = run([other, "--map", "d+h=time", "--time-format", "ms"] + maps)
        self.assertEqual(p.returncode, 1)
        self.assertIn("joins a date and a time", p.stderr)

    # -- 5. channel words --

    def test_channel_words(self):
        self.assertEqual(_replay.channel_of("Voice"), (cxm.Channel.PHONE, True))
        self.assertEqual(_replay.channel_of(" TELEPHONE "), (cxm.Channel.PHONE, True))
        self.assertEqual(_replay.channel_of("e-mail"), (cxm.Channel.EMAIL, True))
        self.assertEqual(_replay.channel_of("Live Chat"), (cxm.Channel.CHAT, True))
        self.assertEqual(_replay.channel_of("in_person"), (cxm.Channel.IN_PERSON, True))
        self.assertEqual(_replay.channel_of("In-Store"), (cxm.Channel.IN_PERSON, True))
        self.assertEqual(_replay.channel_of("facebook"), (cxm.Channel.SOCIAL, True))
        self.assertEqual(_replay.channel_of("Text"), (cxm.Channel.SMS, True))
        self.assertEqual(_replay.channel_of("fax"), (cxm.Channel.OTHER, False))
        words = {"hotline": ("Voice", "phone"), "desk": ("call", "phone"),
                 "inbox": ("E-Mail", "email"), "post": ("mail", "email"),
                 "bot": ("WebChat", "chat"), "agent chat": ("live chat", "chat"),
                 "mall": ("Store", "in person"), "high street": ("branch", "in person"),
                 "tweets": ("Twitter", "social"), "page": ("facebook", "social"),
                 "texts": ("text", "sms"), "fax room": ("fax", "other"),
                 "portal": ("web", "web")}
        path = self.path("channels.csv")
        rows = [[iso(T0 + timedelta(minutes=i)), tp, word]
                for i, (tp, (word, _)) in enumerate(sorted(words.items()))]
        write_csv(path, ["t", "tp", "ch"], rows)
        args = [path, "--map", "t=time", "--map", "tp=touchpoint", "--map", "ch=channel"]
        out = replay_json(self, args)
        self.assertEqual(out["accepted"], len(words))
        self.assertEqual(len(out["notes"]), 1)
        self.assertIn("'fax'", out["notes"][0])
        self.assertIn("'fax room'", out["notes"][0])
        p = run(args)
        self.assertIn("note: channel 'fax' is not a channel", p.stdout)
        # in the context: each touchpoint with its channel
        r = _replay._Replay(_replay._parser()[0].parse_args(["replay"] + args + ["--no-progress"]))
        with r.ctx:
            r.run()
            rows = r.ctx.query_by("interactions", "24h", "channel", end=cxm.WATERMARK)
            got = {row.channel: row.n for row in rows if row.n}
        want = {}
        for _, ch in words.values():
            want[ch] = want.get(ch, 0) + 1
        self.assertEqual(got, want)

    # -- 1. flags --

    def test_flags_in_text_and_json(self):
        path = self.path("flags.csv")
        # handle times in hours mistaken for seconds would be fine; these are
        # seconds beyond a week: clamped quantiles. Few answers: low sample.
        rows = [[iso(T0 + timedelta(minutes=i)), "ivr", str(10 + i if i < 5 else 2_000_000), ""]
                for i in range(10)]
        write_csv(path, ["t", "tp", "handle_s", "score"], rows)
        args = [path, "--map", "t=time", "--map", "tp=touchpoint", "--map",
                "handle_s=duration:aht", "--map", "score=nps", "--window", "1h",
                "--window", "3000d"]
        out = replay_json(self, args)
        c = cells(out)
        aht = c["aht", "all", None]
        self.assertEqual(aht["flags"], ["low_sample", "clamped"])
        self.assertTrue(aht["clamped"])
        self.assertEqual(aht["bounded"], {"p90": ">=", "p99": ">="})
        self.assertAlmostEqual(aht["mean"], sum(float(r[2]) for r in rows) / 10)  # exact still
        self.assertEqual(c["nps", "all", None]["flags"], ["low_sample", "empty"])
        self.assertEqual(c["interactions", "all", None]["flags"], ["low_sample"])
        long = cells(out, 1)
        self.assertIn("truncated", long["interactions", "all", None]["flags"])
        for d in list(c.values()) + list(long.values()):
            self.assertEqual(d["flags"], [k for k in ("low_sample", "empty", "clamped",
                                                      "truncated") if d[k]])
        p = run(args)
        self.assertEqual(p.returncode, 0, p.stderr)
        line = next(ln for ln in p.stdout.splitlines() if ln.startswith("aht") and " all " in ln)
        self.assertRegex(line, r"\d LC +\[")
        self.assertIn("p90 >=604800  p99 >=604800", line)
        self.assertIn("C  clamped: some durations lay outside", p.stdout)
        self.assertIn("L  low sample", p.stdout)
        self.assertIn("E  empty", p.stdout)
        self.assertIn("T  truncated", p.stdout)

    # -- 2. --csv --

    def test_csv_output(self):
        args = [self.shuffled, "--window", "7d", "--window", "6h"] + self.maps
        out = replay_json(self, args)
        p = run(args + ["--csv"])
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertIn("600 rows, 600 accepted", p.stderr)  # the summary is not in the CSV
        got = list(csv.DictReader(io.StringIO(p.stdout)))
        want = [(w["window"], r) for w in out["windows"] for r in w["rows"]]
        self.assertEqual(len(got), len(want))
        self.assertEqual(list(got[0])[:7], ["window", "metric", "kind", "headline", "scope",
                                            "name", "n"])
        for g, (window, r) in zip(got, want):
            self.assertEqual((g["window"], g["metric"], g["scope"], g["name"]),
                             (window, r["metric"], r["scope"], r["name"] or ""))
            self.assertEqual(int(g["n"]), r["n"])
            self.assertEqual(g["flags"], "|".join(r["flags"]))
            self.assertEqual(g["start"], r["start"])
            for k in ("value", "mean", "p99", "ci_low"):
                if r[k] is None:
                    self.assertEqual(g[k], "")
                else:
                    self.assertAlmostEqual(float(g[k]), r[k])
        scores = [int(r[3]) for r in self.rows if r[3] != ""]
        row = next(g for g in got if g["window"] == "7d" and g["metric"] == "nps"
                   and g["scope"] == "all")
        self.assertEqual(int(row["n"]), len(scores))
        self.assertAlmostEqual(float(row["value"]), nps(scores))
        p = run(args + ["--csv", "--json"])
        self.assertEqual(p.returncode, 2)

    # -- 6. journey options --

    def test_journey_options(self):
        # customers reach "ivr" then, for half of them, "agent"; the last
        # event comes 3 hours after the rest
        path = self.path("journey.csv")
        rows = []
        for i in range(40):
            t = T0 + timedelta(minutes=2 * i)
            rows.append([iso(t), "ivr", f"c{i}"])
            if i % 2 == 0:
                rows.append([iso(t + timedelta(minutes=1)), "agent", f"c{i}"])
        rows.append([iso(T0 + timedelta(hours=5)), "web", "late"])
        write_csv(path, ["t", "tp", "who"], rows)
        base = [path, "--map", "t=time", "--map", "tp=touchpoint", "--map", "who=customer",
                "--journey", "care=ivr,agent", "--window", "24h"]
        f, = replay_json(self, base)["windows"][0]["funnels"]
        self.assertEqual((f["entered"], f["completed"], f["abandoned"]), (40, 20, 0))
        f, = replay_json(self, base + ["--journey-option", "care:abandon=1h,conversion=2d"]
                         )["windows"][0]["funnels"]
        self.assertEqual((f["entered"], f["completed"], f["abandoned"]), (40, 20, 20))
        args = _replay._parser()[0].parse_args(
            ["replay"] + base + ["--journey-option", "care:abandon=90m,strict",
                                 "--journey-option", "care:count-repeats=no,restart=yes"])
        r = _replay._Replay(args)
        with r.ctx:
            o = r.ctx.journey_options("care")
        self.assertEqual((o.abandon, o.conversion), (timedelta(minutes=90), timedelta(days=7)))
        self.assertEqual((o.strict, o.count_repeats, o.restart), (True, False, True))
        f, = replay_json(self, base + ["--journey-option", "care:conversion=90d"]
                         )["windows"][0]["funnels"]  # B2B cycles: months
        self.assertEqual((f["entered"], f["completed"]), (40, 20))
        for bad, msg in (("care", "NAME:conversion"), ("nope:abandon=1h", "no --journey"),
                         ("care:speed=1h", "not an option"), ("care:abandon=soon", "abandon"),
                         ("care:strict=maybe", "yes or no"), ("care:conversion=401d", "care")):
            p = run(base + ["--journey-option", bad])
            self.assertEqual(p.returncode, 1, bad)
            self.assertIn(msg, p.stderr, bad)


if __name__ == "__main__":
    unittest.main()
