"""python3 -m cxm query: the dashboard of a saved snapshot. An export is
replayed with --save, then the snapshot is queried: the dashboard (every
metric, scope, value, flag and funnel) must be the replay's, in text,
--json and --csv; --metric, --end and the errors are checked on their own."""
import csv
import io
import json
import os
import shutil
import subprocess
import tempfile
import time
import unittest
from datetime import datetime, timedelta, timezone

import cxm
import gen_export
from cxm import report
from support import PY, python_env

ROWS = 2000
KEY = "000102030405060708090a0b0c0d0e0f"
MAPS = ["--map", "ts=time", "--map", "queue=touchpoint", "--map", "channel=channel",
        "--map", "caller=customer", "--map", "nps=nps", "--map", "handle_s=duration:aht",
        "--map", "solved=rate:resolved", "--segment", "tier",
        "--journey", "care=ivr,tech support,callback"]
WINDOWS = ["--window", "24h", "--window", "1h", "--window", "3000d"]


def cxm_run(command, args):
    return subprocess.run([PY, "-m", "cxm", command] + args, env=python_env(),
                          capture_output=True, text=True, timeout=120)


def replay(args):
    return cxm_run("replay", args + ["--no-progress"])


def query(args):
    return cxm_run("query", args)


def as_json(test, p):
    test.assertEqual(p.returncode, 0, p.stderr)
    return json.loads(p.stdout)


def dashboard_text(stdout):
    """The text from the first table on: what replay and query share."""
    i = stdout.find("\n== last ")
    return stdout[i:] if i >= 0 else None


class Query(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.dir = tempfile.mkdtemp(prefix="cxm-query-")
        cls.csv = cls.path("calls.csv")
        gen_export.write(cls.csv, ROWS)
        cls.key_file = cls.path("customer.key")
        with open(cls.key_file, "w") as f:
            f.write(KEY + "\n")
        cls.snap = cls.path("calls.cxms")
        cls.args = [cls.csv] + MAPS + WINDOWS + ["--key-file", cls.key_file]
        p = replay(cls.args + ["--save", cls.snap, "--json"])
        if p.returncode != 0:
            raise AssertionError(p.stderr)
        cls.replayed = json.loads(p.stdout)
        cls.key = ["--key-file", cls.key_file]

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.dir, ignore_errors=True)

    @classmethod
    def path(cls, name):
        return os.path.join(cls.dir, name)

    def no_traceback(self, p):
        self.assertNotIn("Traceback", p.stderr)
        self.assertNotIn("Traceback", p.stdout)

    # -- the acceptance test: the snapshot's dashboard is the replay's --

    def test_json_is_the_replays(self):
        r = self.replayed
        self.assertEqual(r["saved"], self.snap)
        self.assertEqual(r["accepted"], ROWS)
        q = as_json(self, query([self.snap] + WINDOWS + self.key + ["--json"]))
        self.assertEqual(q["end"], r["end"])
        self.assertEqual(q["windows"], r["windows"])  # metrics, scopes, values, flags, funnels
        self.assertEqual(q["file"], self.snap)
        snap = q["snapshot"]
        self.assertEqual((snap["accepted"], snap["rejected"]), (ROWS, 0))
        self.assertEqual(snap["watermark"], r["end"])
        self.assertEqual((snap["metrics"], snap["touchpoints"], snap["journeys"],
                          snap["segments"]), (5, len(gen_export.QUEUES), 1, 1))
        self.assertEqual(q["notes"], [])
        # what the comparison covers: every kind of row and a funnel that moved
        win = q["windows"][0]
        self.assertEqual([m for m in dict.fromkeys(d["metric"] for d in win["rows"])],
                         ["interactions", "customers", "nps", "aht", "resolved"])
        self.assertEqual({d["scope"] for d in win["rows"]}, {"all", "touchpoint", "tier"})
        f, = win["funnels"]
        self.assertEqual(f["journey"], "care")
        self.assertGreater(f["completed"], 0)
        self.assertIn("truncated", next(d for d in q["windows"][2]["rows"]
                                        if d["scope"] == "all")["flags"])

    def test_options_that_shape_the_dashboard_are_replays(self):
        more = ["--top", "2", "--no-touchpoints"]
        for extra in (["--top", "2"], more):
            r = as_json(self, replay(self.args + extra + ["--json"]))
            q = as_json(self, query([self.snap] + WINDOWS + self.key + extra + ["--json"]))
            self.assertEqual(q["windows"], r["windows"], extra)
        # the default window is replay's: 24h
        r = as_json(self, replay([self.csv] + MAPS + ["--key-file", self.key_file, "--json"]))
        q = as_json(self, query([self.snap, "--key", KEY, "--json"]))
        self.assertEqual([w["window"] for w in q["windows"]], ["24h"])
        self.assertEqual(q["windows"], r["windows"])

    def test_text_is_the_replays(self):
        r = replay(self.args)
        self.assertEqual(r.returncode, 0, r.stderr)
        p = query([self.snap] + WINDOWS + self.key)
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertEqual(p.stderr, "")
        self.assertTrue(p.stdout.startswith(
            f"cxm query {self.snap}: a snapshot of {ROWS:,} interactions accepted, 0 rejected, "
            f"events up to {self.replayed['end']}\n"))
        self.assertIn("  5 metrics, 8 touchpoints, 1 journey, 1 segment\n", p.stdout)
        self.assertIsNotNone(dashboard_text(p.stdout))
        self.assertEqual(dashboard_text(p.stdout), dashboard_text(r.stdout))
        self.assertIn("funnel care:", p.stdout)
        self.assertIn("T  truncated", p.stdout)

    def test_csv_is_the_replays(self):
        r = replay(self.args + ["--csv"])
        p = query([self.snap] + WINDOWS + self.key + ["--csv"])
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertEqual(p.stdout, r.stdout)
        self.assertIn(f"cxm query {self.snap}: a snapshot of", p.stderr)  # not in the CSV
        got = list(csv.DictReader(io.StringIO(p.stdout)))
        want = [(w["window"], d) for w in self.replayed["windows"] for d in w["rows"]]
        self.assertEqual(len(got), len(want))
        for g, (window, d) in zip(got, want):
            self.assertEqual((g["window"], g["metric"], g["scope"], g["name"], int(g["n"])),
                             (window, d["metric"], d["scope"], d["name"] or "", d["n"]))
            self.assertEqual(g["flags"], "|".join(d["flags"]))

    # -- every flag shows --

    def test_every_flag_shows_as_in_replay(self):
        path = self.path("flags.csv")
        t0 = datetime(2026, 11, 22, tzinfo=timezone.utc)
        with open(path, "w", newline="") as f:
            w = csv.writer(f, lineterminator="\n")
            w.writerow(["t", "tp", "handle_s", "score"])
            for i in range(10):  # seconds beyond a week: clamped; ten rows: low sample
                w.writerow([(t0 + timedelta(minutes=i)).strftime("%Y-%m-%dT%H:%M:%SZ"), "ivr",
                            str(10 + i if i < 5 else 2_000_000), ""])
        snap = self.path("flags.cxms")
        args = [path, "--map", "t=time", "--map", "tp=touchpoint", "--map",
                "handle_s=duration:aht", "--map", "score=nps", "--window", "1h",
                "--window", "3000d", "--key", KEY]
        r = as_json(self, replay(args + ["--save", snap, "--json"]))
        q = as_json(self, query([snap, "--window", "1h", "--window", "3000d", "--key", KEY,
                                 "--json"]))
        self.assertEqual(q["windows"], r["windows"])
        flags = {f for w in q["windows"] for d in w["rows"] for f in d["flags"]}
        self.assertEqual(flags, {"low_sample", "empty", "clamped", "truncated"})
        aht = next(d for d in q["windows"][0]["rows"] if d["metric"] == "aht")
        self.assertEqual(aht["bounded"], {"p90": ">=", "p99": ">="})
        p = query([snap, "--window", "1h", "--window", "3000d", "--key", KEY])
        self.assertEqual(p.returncode, 0, p.stderr)
        line = next(ln for ln in p.stdout.splitlines() if ln.startswith("aht") and " all " in ln)
        self.assertRegex(line, r"\d LC +\[")
        self.assertIn("p90 >=604800  p99 >=604800", line)
        for legend in ("L  low sample", "E  empty", "C  clamped", "T  truncated"):
            self.assertIn(legend, p.stdout)
        self.assertEqual(dashboard_text(p.stdout), dashboard_text(replay(args).stdout))

    # -- --metric --

    def test_metric_limits_the_metrics(self):
        q = as_json(self, query([self.snap] + WINDOWS + self.key
                                + ["--metric", "aht", "--metric", "nps", "--metric", "aht",
                                   "--json"]))
        for qw, rw in zip(q["windows"], self.replayed["windows"]):
            # the dashboard's order, the replay's rows of those metrics, the funnels too
            self.assertEqual(qw["rows"], [d for d in rw["rows"] if d["metric"] in ("nps", "aht")])
            self.assertEqual(qw["funnels"], rw["funnels"])
        self.assertEqual([m for m in dict.fromkeys(d["metric"] for d in q["windows"][0]["rows"])],
                         ["nps", "aht"])
        p = query([self.snap] + self.key + ["--metric", "interactions"])
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertRegex(p.stdout, r"\ninteractions +all ")
        self.assertNotRegex(p.stdout, r"\nnps ")

    def test_unknown_metric_is_an_error(self):
        p = query([self.snap] + self.key + ["--metric", "nps", "--metric", "csat"])
        self.assertEqual(p.returncode, 1)
        self.assertEqual(p.stdout, "")
        self.assertIn("cxm query: --metric 'csat'", p.stderr)
        self.assertIn("interactions, customers, nps, aht, resolved", p.stderr)  # what there is
        self.no_traceback(p)

    # -- --end --

    def test_end_at_an_iso_time(self):
        end = "2026-11-22T12:00:00Z"
        ms = cxm.time_ms(end)
        q = as_json(self, query([self.snap, "--window", "6h", "--end", end, "--json"] + self.key))
        self.assertEqual(q["end"], end)
        self.assertEqual(len(q["notes"]), 1)
        self.assertIn("before the snapshot's latest event", q["notes"][0])
        # without an offset: UTC
        naive = as_json(self, query([self.snap, "--window", "6h", "--end", "2026-11-22T12:00:00",
                                     "--json"] + self.key))
        self.assertEqual(naive["windows"], q["windows"])
        # each result is libcxm's for that end, from the snapshot loaded here
        key = bytes.fromhex(KEY)
        with report.load_snapshot(self.snap, key) as ctx:
            ctx.sweep(ms)
            rows = q["windows"][0]["rows"]
            for d in rows:
                scope = {"touchpoint": d["name"]} if d["scope"] == "touchpoint" else {}
                if d["scope"] == "tier":
                    scope = {"segment": ("tier", d["name"])}
                r = ctx.query(d["metric"], "6h", end=ms, **scope)
                self.assertEqual((d["n"], d["start_ms"], d["end_ms"]),
                                 (r.n, r.start_ms, r.end_ms), d)
                if d["value"] is not None:
                    self.assertAlmostEqual(d["value"], r.value)
            f = ctx.funnel("care", "6h", end=ms)
            self.assertEqual((q["windows"][0]["funnels"][0]["entered"],
                              q["windows"][0]["funnels"][0]["completed"]),
                             (f.entered, f.completed))
        total = next(d for d in rows if d["metric"] == "interactions" and d["scope"] == "all")
        self.assertGreater(total["n"], 0)
        self.assertLess(total["n"], ROWS)
        self.assertLessEqual(total["start_ms"], ms)  # the window ends with the bucket of end
        self.assertGreater(total["end_ms"], ms - 6 * 3_600_000)
        # --end watermark is the default
        w = as_json(self, query([self.snap, "--end", "watermark", "--json"] + self.key))
        self.assertEqual(w["end"], self.replayed["end"])

    def test_end_now(self):
        before = time.time()
        q = as_json(self, query([self.snap, "--end", "now", "--window", "1h", "--json"]
                                + self.key))
        end = datetime.fromisoformat(q["end"].replace("Z", "+00:00")).timestamp()
        self.assertLessEqual(before - 1, end)
        self.assertLessEqual(end, time.time() + 1)
        win, = q["windows"]
        self.assertEqual(win["window"], "1h")

    def test_bad_end_and_window(self):
        for args in (["--end", "yesterday"], ["--end", "1960-01-01T00:00:00Z"],
                     ["--window", "5x"], ["--window", "0h"], ["--top", "-1"],
                     ["--json", "--csv"]):
            p = query([self.snap] + self.key + args)
            self.assertEqual(p.returncode, 2, args)
            self.assertEqual(p.stdout, "", args)
            self.no_traceback(p)
        p = query([self.snap] + self.key + ["--end", "soon"])
        self.assertIn("--end 'soon': write watermark, now or an ISO 8601 time", p.stderr)

    # -- errors: the file, the snapshot, the key --

    def test_errors_name_the_file_and_say_why(self):
        with open(self.snap, "rb") as f:
            data = f.read()
        cut = self.path("cut.cxms")
        with open(cut, "wb") as f:
            f.write(data[:100])
        flipped = bytearray(data)
        flipped[len(data) // 2] ^= 0x40
        flip = self.path("flipped.cxms")
        with open(flip, "wb") as f:
            f.write(bytes(flipped))
        other_key = ["--key", "f" * 32]
        missing = self.path("missing.cxms")
        for path, key, words in (
                (missing, self.key, "No such file or directory"),
                (self.dir, self.key, "Is a directory"),
                (self.csv, self.key, "not a libcxm snapshot"),
                (cut, self.key, "snapshot: "),
                (flip, self.key, "snapshot: "),
                (self.snap, other_key, "saved under another customer key")):
            p = query([path] + key)
            self.assertEqual(p.returncode, 1, (path, p.stderr))
            self.assertEqual(p.stdout, "", path)
            self.assertTrue(p.stderr.startswith(f"cxm query: {path}: "), p.stderr)
            self.assertIn(words, p.stderr)
            self.assertEqual(p.stderr.count("\n"), 1, p.stderr)
            self.no_traceback(p)
        # libcxm's own message, not a paraphrase
        with self.assertRaises(cxm.Error) as cm:
            report.load_snapshot(flip, bytes.fromhex(KEY))
        self.assertIn(str(cm.exception), query([flip] + self.key).stderr)

    def test_the_key_is_required(self):
        p = query([self.snap])
        self.assertEqual(p.returncode, 2)
        self.assertIn("give --key HEX or --key-file FILE", p.stderr)
        for args in (["--key", "123"], ["--key", KEY, "--key-file", self.key_file],
                     ["--key-file", self.path("no.key")]):
            p = query([self.snap] + args)
            self.assertEqual(p.returncode, 2, args)
            self.no_traceback(p)

    def test_a_snapshot_without_events(self):
        snap = self.path("empty.cxms")
        with cxm.Context(customer_key=bytes.fromhex(KEY)) as ctx:
            ctx.touchpoint("ivr", "phone")
            ctx.metric("nps")
            ctx.save(snap)
        p = query([snap] + self.key)
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertIn("0 interactions accepted, 0 rejected, no event", p.stdout)
        self.assertIn("nothing was accepted: no dashboard", p.stdout)
        q = as_json(self, query([snap, "--json"] + self.key))
        self.assertEqual((q["end"], q["windows"]), (None, []))
        # at the clock's now, every result is there, empty
        q = as_json(self, query([snap, "--end", "now", "--json"] + self.key))
        d, = q["windows"][0]["rows"]
        self.assertEqual((d["metric"], d["n"], d["flags"]), ("nps", 0, ["low_sample", "empty"]))

    # -- replay --save --

    def test_replay_save_needs_a_key_and_says_when_it_fails(self):
        base = [self.csv, "--map", "ts=time", "--map", "queue=touchpoint"]
        p = replay(base + ["--save", self.path("nokey.cxms")])
        self.assertEqual(p.returncode, 2)
        self.assertIn("--save", p.stderr)
        self.assertIn("--key HEX or --key-file FILE", p.stderr)
        self.assertFalse(os.path.exists(self.path("nokey.cxms")))
        bad = os.path.join(self.path("no-such-dir"), "x.cxms")
        p = replay(base + ["--save", bad, "--key", KEY])
        self.assertEqual(p.returncode, 1)
        self.assertIn(f"cxm replay: cannot save {bad}: ", p.stderr)
        self.assertIn("== last 24h", p.stdout)  # the dashboard all the same
        self.assertNotIn("saved the snapshot", p.stdout)
        self.no_traceback(p)
        ok = self.path("ok.cxms")
        p = replay(base + ["--save", ok, "--key", KEY])
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertIn(f"  saved the snapshot {ok}\n", p.stdout)
        # cxm report reads it as well
        p = cxm_run("report", [ok, "--key", KEY, "-o", self.path("ok.html")])
        self.assertEqual(p.returncode, 0, p.stderr)


if __name__ == "__main__":
    unittest.main()
