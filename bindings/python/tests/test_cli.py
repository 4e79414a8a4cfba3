"""python3 -m cxm replay on generated CSV and JSON-lines exports."""
import json
import os
import re
import shutil
import subprocess
import tempfile
import unittest

import gen_export
from support import PY, python_env

MAPS = ["--map", "ts=time", "--map", "queue=touchpoint", "--map", "channel=channel",
        "--map", "caller=customer", "--map", "nps=nps", "--map", "handle_s=duration:aht",
        "--map", "solved=rate:resolved", "--segment", "tier"]
ROWS = 3000


def run(args, **kw):
    return subprocess.run([PY, "-m", "cxm", "replay"] + args, env=python_env(), capture_output=True,
                          text=True, timeout=120, **kw)


class Replay(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.dir = tempfile.mkdtemp(prefix="cxm-cli-")
        cls.csv = os.path.join(cls.dir, "calls.csv")
        cls.jsonl = os.path.join(cls.dir, "calls.jsonl")
        gen_export.write(cls.csv, ROWS)
        gen_export.write(cls.jsonl, ROWS)
        # three odd lines at the end: no time, not a number, and one far
        # behind the newest (fed in its place once sorted; too late with --no-sort)
        with open(cls.csv, "a") as f:
            f.write(",ivr,phone,c1,gold,10,yes,9\n")
            f.write("2026-11-22T23:59:00Z,ivr,phone,c1,gold,ten,yes,9\n")
            f.write("2026-11-22T03:00:00Z,ivr,phone,c1,gold,10,yes,9\n")

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.dir, ignore_errors=True)

    def test_journey_funnels(self):
        j = ["--journey", "care=ivr,tech support,callback", "--window", "24h", "--no-progress"]
        p = run([self.csv, "--json"] + j + MAPS)
        self.assertEqual(p.returncode, 0, p.stderr)
        f, = json.loads(p.stdout)["windows"][0]["funnels"]
        self.assertEqual(f["journey"], "care")
        self.assertEqual([s["step"] for s in f["steps"]], ["ivr", "tech support", "callback"])
        self.assertGreater(f["entered"], 100)
        self.assertEqual(f["steps"][0]["reached"], f["entered"])
        self.assertEqual(f["steps"][2]["reached"], f["completed"])
        self.assertGreater(f["entered"], f["completed"])
        self.assertEqual(f["abandoned"], 0)  # the data span one day: none 24 h overdue yet
        p = run([self.csv] + j + MAPS)
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertIn(f"funnel care: {f['entered']:,} entered, {f['completed']:,} completed", p.stdout)
        self.assertIn("drop-off", p.stdout)
        p = run([self.csv, "--journey", "care"] + MAPS)
        self.assertNotEqual(p.returncode, 0)
        self.assertIn("NAME=STEP,STEP", p.stderr)

    def test_json_output(self):
        p = run([self.csv, "--json", "--no-progress", "--window", "48h", "--window", "1h"] + MAPS)
        self.assertEqual(p.returncode, 0, p.stderr)
        out = json.loads(p.stdout)
        self.assertEqual(out["rows"], ROWS + 3)
        self.assertEqual(out["accepted"], ROWS + 1)  # sorted: the late line is fed in its place
        self.assertEqual(out["rejected"], 2)
        self.assertEqual((out["sorted"], out["out_of_order"]), (True, 1))
        lines = {r["line"]: r["reason"] for r in out["rejections"]}
        self.assertEqual(sorted(lines), [ROWS + 2, ROWS + 3])
        self.assertEqual(lines[ROWS + 2], "no time")
        self.assertIn("not a number", lines[ROWS + 3])
        self.assertEqual(p.stderr, "")
        # fed as read, the line far behind the newest is too late
        p = run([self.csv, "--json", "--no-progress", "--no-sort", "--window", "48h"] + MAPS)
        nosort = json.loads(p.stdout)
        self.assertEqual((nosort["accepted"], nosort["rejected"]), (ROWS, 3))
        self.assertEqual((nosort["sorted"], nosort["out_of_order"]), (False, 1))
        self.assertEqual({r["line"]: r["reason"] for r in nosort["rejections"]}[ROWS + 4],
                         "too late")
        win = out["windows"][0]
        self.assertEqual(win["window"], "48h")
        cells = {(r["metric"], r["scope"], r["name"]): r for r in win["rows"]}
        self.assertEqual(cells["interactions", "all", None]["n"], ROWS + 1)  # 48 h: the whole day
        answers = sum(1 for r in gen_export.rows(ROWS) if r["nps"] != "") + 1  # + the late line
        self.assertEqual(cells["nps", "all", None]["n"], answers)
        self.assertEqual(cells["aht", "all", None]["headline"], "mean")
        tiers = [k for k in cells if k[0] == "nps" and k[1] == "tier"]
        self.assertEqual(sum(cells[k]["n"] for k in tiers), answers)
        self.assertTrue(any(k[1] == "touchpoint" for k in cells))
        self.assertEqual(out["windows"][1]["window"], "1h")

    def test_jsonl_matches_csv(self):
        a = json.loads(run([self.jsonl, "--json", "--no-progress", "--no-touchpoints"] + MAPS).stdout)
        self.assertEqual((a["rows"], a["accepted"], a["rejected"]), (ROWS, ROWS, 0))
        self.assertEqual(a["out_of_order"], 0)
        # --no-sort: the CSV's line far behind the newest is too late, the rest is the same
        b = json.loads(run([self.csv, "--json", "--no-progress", "--no-touchpoints", "--no-sort"]
                           + MAPS).stdout)
        va = {(r["metric"], r["name"]): r["n"] for r in a["windows"][0]["rows"]}
        vb = {(r["metric"], r["name"]): r["n"] for r in b["windows"][0]["rows"]}
        self.assertEqual(va, vb)

    def test_text_dashboard_and_plain_counter(self):
        # without tqdm: a counter on stderr
        code = ("import sys; sys.modules['tqdm'] = None; from cxm._replay import main; "
                "sys.exit(main(sys.argv[1:]))")
        p = subprocess.run([PY, "-c", code, "replay", self.csv] + MAPS, env=python_env(),
                           capture_output=True, text=True, timeout=120)
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertIn(f"{ROWS + 3:,} rows", p.stderr)
        self.assertIn("== last 24h ending", p.stdout)
        self.assertIn(f"{ROWS + 1:,} accepted, 2 rejected", p.stdout)
        self.assertIn("1 row was out of time order: all were fed sorted by time", p.stdout)
        self.assertRegex(p.stdout, r"nps\s+all\s+\d")

    def test_tqdm_progress_bar(self):
        try:
            import tqdm  # noqa: F401
        except ImportError:
            self.skipTest("tqdm is not installed (apt-get install python3-tqdm)")
        p = run([self.csv, "--window", "24h"] + MAPS)
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertIn("rows/s", p.stderr)
        self.assertIn("100%", p.stderr)

    def test_time_formats(self):
        path = os.path.join(self.dir, "fmt.csv")
        with open(path, "w") as f:
            f.write("when,where,score\n")
            f.write("22/11/2026 10:00:00,shop,9\n22/11/2026 10:01:00,shop,3\n")
        p = run([path, "--json", "--no-progress", "--map", "when=time", "--map", "where=touchpoint",
                 "--map", "score=nps", "--time-format", "%d/%m/%Y %H:%M:%S", "--tz", "+01:00"])
        out = json.loads(p.stdout)
        self.assertEqual(out["accepted"], 2)
        self.assertEqual(out["end"], "2026-11-22T09:01:00Z")
        ms = os.path.join(self.dir, "ms.csv")
        with open(ms, "w") as f:
            f.write("t,score\n1795348800000,10\n")
        out = json.loads(run([ms, "--json", "--no-progress", "--map", "t=time", "--map", "score=csat10:sat",
                              "--touchpoint", "web", "--time-format", "ms"]).stdout)
        self.assertEqual(out["accepted"], 1)
        self.assertIn("sat", {r["metric"] for r in out["windows"][0]["rows"]})

    def test_a_replay_that_stops_says_how_far_it_got(self):
        # an unreadable line half-way: the lines read before it are fed and
        # the replay says exactly from which line on nothing was fed
        src = os.path.join(self.dir, "broken.csv")
        gen_export.write(src, 20000)
        with open(src, "rb") as f:
            data = f.read().split(b"\n")
        data.insert(10001, b"2026-11-22T12:00:00Z,ivr,phone,c\xff\xfe,gold,10,yes,9")
        with open(src, "wb") as f:
            f.write(b"\n".join(data))
        p = run([src, "--no-progress"] + MAPS)
        self.assertEqual(p.returncode, 1, p.stderr)
        m = re.search(r"replay stopped at line (\d+) by UnicodeDecodeError: .*; (\d+) accepted and "
                      r"0 rejected before line \1; none from line \1 on was fed", p.stderr)
        self.assertIsNotNone(m, p.stderr)
        line, accepted = int(m.group(1)), int(m.group(2))
        self.assertLessEqual(line, 10002)  # the file is decoded in blocks: maybe a few lines early
        self.assertGreater(line, 9000)
        self.assertEqual(accepted, line - 2)  # lines 2 .. line-1: every row before it, none lost

    def test_json_booleans_are_no_times_nor_scores(self):
        path = os.path.join(self.dir, "bools.jsonl")
        with open(path, "w") as f:
            f.write('{"ts": true, "page": "web", "rating": 5}\n')
            f.write('{"ts": "2026-11-22T10:00:00Z", "page": "web", "rating": true}\n')
            f.write('{"ts": "2026-11-22T10:00:00Z", "page": "web", "rating": 4, "ok": true}\n')
        p = run([path, "--json", "--no-progress", "--map", "ts=time", "--map", "page=touchpoint",
                 "--map", "rating=csat5", "--map", "ok=rate:ok"])
        out = json.loads(p.stdout)
        self.assertEqual((out["accepted"], out["rejected"]), (1, 2), out["rejections"])
        reasons = {r["line"]: r["reason"] for r in out["rejections"]}
        self.assertIn("not a time", reasons[1])
        self.assertIn("not a number", reasons[2])

    def test_usage_errors(self):
        p = run([self.csv, "--map", "queue=touchpoint"])
        self.assertNotEqual(p.returncode, 0)
        self.assertIn("time", p.stderr)
        p = run([self.csv, "--map", "ts=time", "--map", "x=fax"])
        self.assertNotEqual(p.returncode, 0)
        self.assertIn("preset", p.stderr)
        p = run([os.path.join(self.dir, "missing.csv"), "--map", "ts=time"])
        self.assertEqual(p.returncode, 2)
        p = subprocess.run([PY, "-m", "cxm"], env=python_env(), capture_output=True, text=True)
        self.assertEqual(p.returncode, 2)
        self.assertIn("replay", p.stdout)


if __name__ == "__main__":
    unittest.main()
