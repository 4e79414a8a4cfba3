"""python3 -m cxm replay --drivers: a key-driver analysis of a shuffled
export. Customers visit three touchpoints, answering CSAT (1..5) at each a
few minutes apart, then NPS (0..10) at a survey touchpoint that depends
strongly on one touchpoint's CSAT, weakly on another's and not at all on
the third's. The importances, performances and band means of --json must
equal a plain-Python recomputation over the same pairs (each customer's
latest CSAT at the touchpoint at or before the NPS answer, within the
window) to 1e-9; the text has the table; --no-sort and bad names are
refused; and `cxm query` of the snapshot replay --save wrote gives the
same drivers."""
import json
import math
import os
import random
import shutil
import subprocess
import tempfile
import unittest
from datetime import datetime, timedelta, timezone

import cxm
from support import PY, python_env

KEY = "000102030405060708090a0b0c0d0e0f"
START = datetime(2026, 3, 1, tzinfo=timezone.utc)
STRONG, WEAK, NULL = "shop", "phone", "web"
TOUCHPOINTS = (STRONG, WEAK, NULL)
MAPS = ["--map", "time=time", "--map", "tp=touchpoint", "--map", "who=customer",
        "--map", "csat=csat5:csat", "--map", "nps=nps"]
CSAT5 = cxm.preset("csat5")
BOTTOM_MAX, TOP_MIN = CSAT5.bottom_max[0], CSAT5.top_min[0]


def iso(t):
    return t.strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


def make_rows(rng):
    """[(time, touchpoint, customer or "", csat or None, nps or None)]."""
    rows = []

    def nps_of(csat):
        y = 5 + 1.5 * (csat[STRONG] - 3) + 0.5 * (csat[WEAK] - 3) + rng.gauss(0, 1.2)
        return max(0, min(10, int(round(y))))

    for c in range(600):
        who = f"c{c}"
        t = START + timedelta(seconds=rng.randint(0, 20 * 86400))
        csat = {}
        for k, tp in enumerate(rng.sample(TOUCHPOINTS, 3)):  # a few minutes apart
            csat[tp] = rng.randint(1, 5)
            rows.append((t + timedelta(minutes=4 * k, seconds=rng.randint(0, 59)), tp, who,
                         csat[tp], None))
        # the NPS answer: most 10-20 minutes after the last visit, one in five
        # 2-3 days after (outside a 1d window, inside the default 30d)
        if rng.random() < 0.2:
            t_nps = t + timedelta(days=2, seconds=rng.randint(0, 86400))
        else:
            t_nps = t + timedelta(minutes=rng.randint(18, 28))
        rows.append((t_nps, "survey", who, None, nps_of(csat)))
        if rng.random() < 0.1:
            # a later visit, then a second NPS answer: it pairs with the new
            # value there, and the first answer never does
            tp = rng.choice(TOUCHPOINTS)
            csat[tp] = rng.randint(1, 5)
            rows.append((t_nps + timedelta(minutes=30), tp, who, csat[tp], None))
            rows.append((t_nps + timedelta(minutes=60), "survey", who, None, nps_of(csat)))
    # NPS answers of customers without a CSAT (outcomes that pair with nothing)
    for c in range(40):
        rows.append((START + timedelta(seconds=rng.randint(0, 20 * 86400)), "survey",
                     f"n{c}", None, rng.randint(0, 10)))
    # anonymous answers: without a customer id nothing is paired nor counted
    for c in range(30):
        t = START + timedelta(seconds=rng.randint(0, 20 * 86400))
        rows.append((t, rng.choice(TOUCHPOINTS), "", rng.randint(1, 5), None))
        rows.append((t + timedelta(minutes=10), "survey", "", None, rng.randint(0, 10)))
    return rows


def expected_pairs(rows, window):
    """{touchpoint or None (the overall driver): [(csat, nps)]}, the number
    of outcomes with a customer id and how many of them paired."""
    csats = {}  # customer -> [(time, touchpoint, csat)]
    for t, tp, who, csat, _ in rows:
        if who and csat is not None:
            csats.setdefault(who, []).append((t, tp, csat))
    pairs = {tp: [] for tp in TOUCHPOINTS + (None,)}
    outcomes = paired = 0
    span = timedelta(milliseconds=window)
    for t, tp, who, _, nps in rows:
        if not who or nps is None:
            continue
        outcomes += 1
        seen = [x for x in csats.get(who, ()) if x[0] <= t and t - x[0] <= span]
        if seen:
            paired += 1
            pairs[None].append((max(seen)[2], nps))
        for d in TOUCHPOINTS:
            at = [x for x in seen if x[1] == d]
            if at:
                pairs[d].append((max(at)[2], nps))
    return pairs, outcomes, paired


def pearson(pairs):
    n = len(pairs)
    mx = sum(x for x, _ in pairs) / n
    my = sum(y for _, y in pairs) / n
    sxy = sum((x - mx) * (y - my) for x, y in pairs)
    sxx = sum((x - mx) ** 2 for x, _ in pairs)
    syy = sum((y - my) ** 2 for _, y in pairs)
    return sxy / math.sqrt(sxx * syy)


def mean(values):
    values = list(values)
    return sum(values) / len(values) if values else None


def no_nan(text):
    def refuse(name):
        raise AssertionError(f"{name} in the JSON: NaN must be null")
    return json.loads(text, parse_constant=refuse)


class ReplayDrivers(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.dir = tempfile.mkdtemp(prefix="cxm-drivers-")
        rng = random.Random(20261211)
        cls.rows = make_rows(rng)
        shuffled = cls.rows[:]
        rng.shuffle(shuffled)
        cls.csv = os.path.join(cls.dir, "visits.csv")
        with open(cls.csv, "w", encoding="utf-8") as f:
            f.write("time,tp,who,csat,nps\n")
            for t, tp, who, csat, nps in shuffled:
                f.write(f"{iso(t)},{tp},{who},{'' if csat is None else csat},"
                        f"{'' if nps is None else nps}\n")
        cls.key_file = os.path.join(cls.dir, "customer.key")
        with open(cls.key_file, "w") as f:
            f.write(KEY + "\n")
        cls.snap = os.path.join(cls.dir, "visits.cxms")
        p = cls.replay(["--drivers", "nps:csat", "--json", "--key-file", cls.key_file,
                        "--save", cls.snap])
        if p.returncode != 0:
            raise AssertionError(p.stderr)
        cls.out = no_nan(p.stdout)

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.dir, ignore_errors=True)

    @classmethod
    def replay(cls, args):
        return subprocess.run([PY, "-m", "cxm", "replay", cls.csv] + MAPS + args +
                              ["--no-progress"], env=python_env(), capture_output=True,
                              text=True, timeout=120)

    def query(self, args):
        return subprocess.run([PY, "-m", "cxm", "query", self.snap, "--key-file",
                               self.key_file] + args, env=python_env(), capture_output=True,
                              text=True, timeout=120)

    def check_set(self, st, window):
        pairs, outcomes, paired = expected_pairs(self.rows, window)
        self.assertEqual((st["name"], st["outcome"], st["driver"], st["window_ms"]),
                         ("csat drives nps", "nps", "csat", window))
        self.assertEqual((st["outcomes"], st["paired"], st["unremembered"]),
                         (outcomes, paired, 0))
        self.assertEqual(st["n_drivers"], len(TOUCHPOINTS) + 2)  # the survey, the overall
        by_name = {("(overall)" if d["overall"] else d["touchpoint"]): d for d in st["drivers"]}
        self.assertEqual(set(by_name), set(TOUCHPOINTS) | {"survey", "(overall)"})
        for tp in TOUCHPOINTS + (None,):
            d = by_name["(overall)" if tp is None else tp]
            got = pairs[tp]
            self.assertEqual(d["n"], len(got), tp)
            self.assertAlmostEqual(d["importance"], pearson(got), delta=1e-9, msg=tp)
            self.assertAlmostEqual(d["performance"], mean(x for x, _ in got), delta=1e-9)
            self.assertAlmostEqual(d["outcome_mean"], mean(y for _, y in got), delta=1e-9)
            bands = {"bottom": [y for x, y in got if x <= BOTTOM_MAX],
                     "middle": [y for x, y in got if BOTTOM_MAX < x < TOP_MIN],
                     "top": [y for x, y in got if x >= TOP_MIN]}
            for band, ys in bands.items():
                self.assertEqual(d["bands"][band]["n"], len(ys), (tp, band))
                self.assertAlmostEqual(d["bands"][band]["mean"], mean(ys), delta=1e-9)
            self.assertAlmostEqual(d["band_difference"],
                                   mean(bands["top"]) - mean(bands["bottom"]), delta=1e-9)
            self.assertLessEqual(d["ci_low"], d["importance"])
            self.assertLessEqual(d["importance"], d["ci_high"])
        # the outcome's own touchpoint has no CSAT: shown, not placed, NaN as null
        survey = by_name["survey"]
        self.assertEqual((survey["n"], survey["quadrant"], survey["importance"],
                          survey["bands"]["top"]["mean"]), (0, "none", None, None))
        # ordered by importance: the planted effects first, the null one
        # after, then the driver without an r, the overall driver last
        names = [("(overall)" if d["overall"] else d["touchpoint"]) for d in st["drivers"]]
        self.assertEqual(names, [STRONG, WEAK, NULL, "survey", "(overall)"])
        r = {tp: by_name[tp]["importance"] for tp in TOUCHPOINTS}
        self.assertGreater(r[STRONG], 0.6)
        self.assertGreater(r[WEAK], 0.1)
        self.assertTrue(by_name[STRONG]["significant"] and by_name[WEAK]["significant"])
        self.assertLess(by_name[NULL]["ci_low"], 0)  # the seeded null driver's interval
        self.assertGreater(by_name[NULL]["ci_high"], 0)  # covers 0
        self.assertIn(by_name[STRONG]["quadrant"], ("strength", "priority"))
        return pairs

    def test_json_equals_plain_python(self):
        out = self.out
        self.assertEqual(out["accepted"], len(self.rows))
        self.assertTrue(out["sorted"])
        self.assertGreater(out["out_of_order"], len(self.rows) // 3)
        self.assertEqual(len(out["drivers"]), 1)
        self.check_set(out["drivers"][0], 30 * 86_400_000)

    def test_window(self):
        p = self.replay(["--drivers", "nps:csat:1d", "--json"])
        self.assertEqual(p.returncode, 0, p.stderr)
        st = no_nan(p.stdout)["drivers"][0]
        self.assertEqual(st["window"], "1 d")
        pairs = self.check_set(st, 86_400_000)
        # the late answers (2-3 days) did not pair
        self.assertLess(st["paired"], st["outcomes"] - 40 - 60)
        self.assertLess(len(pairs[STRONG]), self.out["drivers"][0]["drivers"][0]["n"])

    def test_text_has_the_table(self):
        p = self.replay(["--drivers", "nps:csat"])
        self.assertEqual(p.returncode, 0, p.stderr)
        text = p.stdout
        self.assertIn("\n== key drivers: csat drives nps (outcome nps, driver csat, window 30 d)\n",
                      text)
        self.assertLess(text.index("\n== last 24h"), text.index("== key drivers"))
        lines = text[text.index("== key drivers"):].splitlines()
        self.assertTrue(lines[2].startswith("driver "), lines[2])
        self.assertIn("quadrant", lines[2])
        d = self.out["drivers"][0]["drivers"][0]
        row = lines[3].split()
        self.assertEqual(row[:3], [STRONG, f"{d['n']:,}", f"{d['importance']:+.3f}"])
        self.assertIn("*", row)
        self.assertIn(f"{d['bands']['bottom']['mean']:.2f}", row)
        self.assertIn(f"{d['bands']['top']['mean']:.2f}", row)
        self.assertIn(f"{d['band_difference']:+.2f}", row)
        self.assertEqual([x.split()[0] for x in lines[3:8]],
                         [STRONG, WEAK, NULL, "survey", "(overall)"])
        self.assertIn("not placed", lines[6])

    def test_csv_leaves_drivers_out(self):
        p = self.replay(["--drivers", "nps:csat", "--csv"])
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertTrue(p.stdout.startswith("window,metric,kind,"))
        self.assertNotIn("drives", p.stdout)
        self.assertIn("--csv leaves out the key drivers of 1 driver set", p.stderr)

    def test_no_sort_is_refused(self):
        p = self.replay(["--drivers", "nps:csat", "--no-sort"])
        self.assertEqual(p.returncode, 2)
        self.assertIn("--drivers needs the rows sorted", p.stderr)
        self.assertIn("--no-sort", p.stderr)
        self.assertEqual(p.stdout, "")

    def test_bad_specs(self):
        for spec, words in (("nps:cast", "no --map column feeds a metric named 'cast'"),
                            ("nps", "write OUTCOME:DRIVER[:WINDOW]"),
                            ("nps:csat:soon", "--drivers 'nps:csat:soon'"),
                            ("nps:csat:500d", "the window is 1 ms to 400d"),
                            ("nps:interactions", "interactions is a volume metric")):
            with self.subTest(spec=spec):
                p = self.replay(["--drivers", spec])
                self.assertEqual(p.returncode, 1, p.stderr)
                self.assertIn(words, p.stderr)
                self.assertTrue(p.stderr.startswith("cxm replay: --drivers"), p.stderr)
                self.assertNotIn("Traceback", p.stderr)
                self.assertEqual(p.stdout, "")
        p = self.replay(["--drivers", "nps:csat", "--drivers", "nps:csat:1d"])
        self.assertEqual(p.returncode, 1)
        self.assertIn("'csat drives nps' is given twice", p.stderr)

    def test_query_of_the_snapshot(self):
        p = self.query(["--json"])
        self.assertEqual(p.returncode, 0, p.stderr)
        got = no_nan(p.stdout)["drivers"]
        want = self.out["drivers"]
        self.assertEqual(len(got), 1)
        # the record tables of a load are sized afresh: bytes aside, the same
        strip = [{k: v for k, v in st.items() if k != "memory_bytes"} for st in (got[0], want[0])]
        self.assertEqual(strip[0], strip[1])
        p = self.query([])
        self.assertEqual(p.returncode, 0, p.stderr)
        replayed = self.replay(["--drivers", "nps:csat"]).stdout
        self.assertEqual(p.stdout[p.stdout.index("\n== key drivers"):],
                         replayed[replayed.index("\n== key drivers"):])
        p = self.query(["--csv"])
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertIn("--csv leaves out the key drivers of 1 driver set", p.stderr)

    def test_sets_of_a_snapshot(self):
        """query names each set of a loaded snapshot as the library holds
        it (ctx.drivers_def), with its metrics and window."""
        from cxm import _replay, report
        with report.load_snapshot(self.snap, report.parse_key(KEY)) as ctx:
            sets = _replay._snapshot_sets(ctx)
            self.assertEqual(sets, [dict(id=0, name="csat drives nps", outcome="nps",
                                         driver="csat", window_ms=30 * 86_400_000)])
            d = _replay._drivers(ctx, sets)[0]
            self.assertEqual(d["name"], "csat drives nps")
            self.assertEqual(d["drivers"], self.out["drivers"][0]["drivers"])


if __name__ == "__main__":
    unittest.main()
