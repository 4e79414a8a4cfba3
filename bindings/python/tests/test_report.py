"""cxm.report and `python3 -m cxm report`: one self-contained, accessible
HTML page that says what the context says.

Every page rendered here goes through check_page(), which parses it with
html.parser and fails on a script, an event handler, any URL or external
reference, a table header cell without scope, a chart without a text
alternative, headings out of order, or duplicate ids."""
import html.parser
import os
import shutil
import subprocess
import tempfile
import unittest

import cxm
import cxm.report
import gen_export
from support import HOUR, MIN, PY, T0, make_ctx, python_env

ODD = "<b>&co"                      # a touchpoint name that must be escaped
HOSTILE = '"><script>alert(1)</script>'  # a segment value, likewise
KEY = bytes(range(1, 17))
VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source",
        "track", "wbr"}
FORBIDDEN = {"script", "iframe", "frame", "object", "embed", "img", "image", "use", "link",
             "base", "audio", "video", "source", "form", "input", "foreignobject"}


class Node:
    def __init__(self, tag, attrs, parent):
        self.tag, self.attrs, self.parent, self.children = tag, dict(attrs), parent, []

    def text(self):
        return "".join(c if isinstance(c, str) else c.text() for c in self.children)

    def walk(self):
        yield self
        for c in self.children:
            if isinstance(c, Node):
                yield from c.walk()

    def find(self, tag):
        return [n for n in self.walk() if n.tag == tag]

    def kids(self, tag):
        return [c for c in self.children if isinstance(c, Node) and c.tag == tag]


class Tree(html.parser.HTMLParser):
    """The page as a tree of Nodes; text is unescaped."""

    def __init__(self, page):
        super().__init__(convert_charrefs=True)
        self.root = self.cur = Node("#root", {}, None)
        self.feed(page)
        self.close()

    def handle_starttag(self, tag, attrs):
        n = Node(tag, attrs, self.cur)
        self.cur.children.append(n)
        if tag not in VOID:
            self.cur = n

    def handle_startendtag(self, tag, attrs):
        self.cur.children.append(Node(tag, attrs, self.cur))

    def handle_endtag(self, tag):
        n = self.cur
        while n is not None and n.tag != tag:
            n = n.parent
        if n is None:
            raise AssertionError(f"</{tag}> closes nothing")
        if n is not self.cur:
            raise AssertionError(f"</{tag}> closes <{n.tag}> while <{self.cur.tag}> is open")
        self.cur = n.parent

    def handle_data(self, data):
        self.cur.children.append(data)


def rows_of(table):
    """[(row header text, [cell texts])] of a table's body."""
    out = []
    for tr in table.find("tr"):
        if tr.parent.tag != "tbody":
            continue
        cells = [c for c in tr.children if isinstance(c, Node)]
        out.append((cells[0].text(), [c.text() for c in cells[1:]]))
    return out


def table(tree, caption):
    found = [t for t in tree.root.find("table") if t.kids("caption")[0].text() == caption]
    if len(found) != 1:
        raise AssertionError(f"{len(found)} tables captioned {caption!r}; captions: "
                             f"{[t.kids('caption')[0].text() for t in tree.root.find('table')]}")
    return dict(rows_of(found[0]))


class PageChecks:
    def check_page(self, page):
        """What every page must be; returns its tree."""
        self.assertTrue(page.startswith("<!DOCTYPE html>\n"))
        low = page.lower()
        for bad in ("http:", "https:", "url(", "@import", "javascript:", "//"):
            self.assertNotIn(bad, low, f"the page holds {bad!r}")
        tree = Tree(page)
        root = tree.root
        htmls = root.find("html")
        self.assertEqual(len(htmls), 1)
        self.assertEqual(htmls[0].attrs.get("lang"), "en")
        titles = [t for t in root.find("title") if t.parent.tag == "head"]
        self.assertEqual(len(titles), 1)
        self.assertTrue(titles[0].text().strip())
        csp = [m for m in root.find("meta")
               if m.attrs.get("http-equiv") == "Content-Security-Policy"]
        self.assertEqual(len(csp), 1)
        self.assertIn("default-src 'none'", csp[0].attrs["content"])
        ids = [n.attrs["id"] for n in root.walk() if "id" in n.attrs]
        self.assertEqual(len(ids), len(set(ids)), "duplicate ids")
        for n in root.walk():
            self.assertNotIn(n.tag, FORBIDDEN, f"<{n.tag}> in the page")
            for a, v in n.attrs.items():
                self.assertFalse(a.startswith("on"), f"<{n.tag} {a}>: an event handler")
                self.assertNotIn(a, ("src", "srcset", "xlink:href", "action", "formaction",
                                     "background", "poster"), f"<{n.tag} {a}=...>")
                self.assertFalse((v or "").strip().lower().startswith("data:"), f"{a}={v!r}")
                if a == "href":
                    self.assertTrue(v.startswith("#") and v[1:] in ids, f"href {v!r}")
        # headings: one h1 first, then never a level skipped
        levels = [int(n.tag[1]) for n in root.walk()
                  if len(n.tag) == 2 and n.tag[0] == "h" and n.tag[1] in "123456"]
        self.assertEqual(levels[0], 1)
        self.assertEqual(levels.count(1), 1)
        for a, b in zip(levels, levels[1:]):
            self.assertLessEqual(b, a + 1, f"heading h{a} followed by h{b}")
        # tables: a caption, header cells with scope, each body row led by a row header
        for t in root.find("table"):
            caps = t.kids("caption")
            self.assertEqual(len(caps), 1)
            self.assertTrue(caps[0].text().strip())
            for th in t.find("th"):
                self.assertIn(th.attrs.get("scope"), ("col", "row"), caps[0].text())
            self.assertTrue(all(th.attrs["scope"] == "col" for th in t.kids("thead")[0].find("th")))
            for tr in t.kids("tbody")[0].kids("tr"):
                first = [c for c in tr.children if isinstance(c, Node)][0]
                self.assertEqual((first.tag, first.attrs.get("scope")), ("th", "row"))
        # charts: images with a title (or aria-label) and a description
        for svg in root.find("svg"):
            self.assertEqual(svg.attrs.get("role"), "img")
            title = svg.kids("title")
            self.assertTrue(svg.attrs.get("aria-label") or (title and title[0].text().strip()))
            desc = svg.kids("desc")
            self.assertTrue(desc and desc[0].text().strip())
            for ref in svg.attrs.get("aria-labelledby", "").split():
                self.assertIn(ref, ids)
        return tree


def feed_known(ctx):
    """Known data over the 24 hours before T0; returns the definitions."""
    care = ctx.journey("care", ["start", "done"])
    ivr = ctx.touchpoint("ivr", "phone", care, "start")
    agent = ctx.touchpoint("agent", "phone", care, "done")
    odd = ctx.touchpoint(ODD, "web")
    nps, csat = ctx.metric("nps"), ctx.metric("csat", "csat5")
    aht, solved = ctx.metric("aht", "duration"), ctx.metric("resolved", "rate")
    ctx.metric("interactions", "volume")
    tier = ctx.segment("tier", 4)
    for h in range(24):
        t0 = T0 - 24 * HOUR + h * HOUR
        for k, score in enumerate((10, 10, 10, 10, 10, 10, 8, 8, 3, 3)):  # NPS +40
            c = f"c{h}-{k}"
            ctx.feed(t0 + k * MIN, ivr, {nps: score}, customer=c,
                     segments={tier: HOSTILE if k % 2 else "gold"})
            if k < 7:  # 7 of 10 reach the second step
                ctx.feed(t0 + k * MIN + 30_000, agent, {aht: 100.0 if k % 2 else 300.0,
                                                        solved: k != 0}, customer=c)
        for k, score in enumerate((10, 10, 0, 0, 0)):  # NPS -20
            ctx.feed(t0 + 20 * MIN + k * MIN, odd, {nps: score, csat: 5 if k < 4 else 1})
    return ivr, agent, odd


class Render(unittest.TestCase, PageChecks):
    @classmethod
    def setUpClass(cls):
        cls.ctx = make_ctx(customer_key=KEY)
        feed_known(cls.ctx)
        cls.page = cxm.report.render(cls.ctx, "24h", step="1h", title="Q4 & <care>")
        cls.tree = Tree(cls.page)

    @classmethod
    def tearDownClass(cls):
        cls.ctx.close()

    def test_self_contained_and_accessible(self):
        self.check_page(self.page)
        self.assertEqual(self.tree.root.find("title")[0].text(), "Q4 & <care>")
        self.assertEqual(self.tree.root.find("h1")[0].text(), "Q4 & <care>")

    def test_names_are_escaped(self):
        self.assertNotIn(ODD, self.page)
        self.assertIn("&lt;b&gt;&amp;co", self.page)
        self.assertNotIn("<script", self.page.lower())
        self.assertEqual(self.tree.root.find("b"), [])
        self.assertEqual(table(self.tree, "nps by touchpoint, last 1 d")[ODD][2], "-20.0")
        self.assertIn(HOSTILE, table(self.tree, "Headlines by tier, last 1 d"))

    def test_summary_says_what_the_context_says(self):
        s = table(self.tree, "Every metric, all touchpoints, last 1 d")
        # ivr: 240 answers at +40, <b>&co: 120 at -20: (192 - 120) / 360
        self.assertEqual(s["nps"][1:3], ["360", "+20.0"])
        r = self.ctx.query("nps", "24h", end=T0 - 1)
        self.assertEqual(s["nps"][3], f"{r.ci_low:+.1f} to {r.ci_high:+.1f}")
        self.assertEqual(s["csat"][1:3], ["120", "80.0 %"])
        self.assertEqual(s["aht"][1:3], ["168", "3 min 34 s"])   # 3 × 100 s, 4 × 300 s
        self.assertEqual(s["interactions"][1:3], ["528", "528"])
        by_tp = table(self.tree, "nps by touchpoint, last 1 d")
        self.assertEqual(by_tp["ivr"][1:3], ["240", "+40.0"])
        self.assertEqual(list(by_tp), ["All touchpoints", "ivr", ODD])  # most answers first

    def test_trends_per_hour(self):
        t = table(self.tree, "nps per hour (start of each, UTC)")
        self.assertEqual(len(t), 24)
        first = cxm.from_ms(T0 - 24 * HOUR).strftime("%Y-%m-%d %H:%M")
        self.assertEqual(t[first], ["+20.0 (n 15), low sample", "+40.0 (n 10), low sample",
                                    "-20.0 (n 5), low sample"])
        descs = {s.kids("title")[0].text(): s.kids("desc")[0].text()
                 for s in self.tree.root.find("svg")}
        self.assertIn("Latest (2026-11-22 11:00): +40.0", descs["nps per hour at ivr"])
        self.assertIn("24 points, 24 with answers", descs["nps per hour at ivr"])
        self.assertIn(f"nps per hour at {ODD}", descs)
        # a band (polygon) of confidence intervals under each line
        for svg in self.tree.root.find("svg"):
            if svg.kids("title")[0].text().startswith("nps per hour"):
                self.assertEqual(len([p for p in svg.find("polygon")
                                      if p.attrs["class"] == "band"]), 1)
                self.assertEqual(len(svg.find("circle")), 24)

    def test_charts_and_tables(self):
        titles = sorted(s.kids("title")[0].text() for s in self.tree.root.find("svg"))
        self.assertEqual(titles, sorted([
            "nps per hour, all touchpoints", "nps per hour at ivr", f"nps per hour at {ODD}",
            "csat per hour, all touchpoints", f"csat per hour at {ODD}",
            "aht: distribution of durations", "aht: durations by touchpoint",
            "Funnel of care"]))
        self.assertEqual(len(self.tree.root.find("table")), 9)
        self.assertEqual(self.page.count("<svg "), 8)

    def test_funnel(self):
        steps = table(self.tree, "Steps of care, last 1 d")
        self.assertEqual(steps["start"][:2], ["240", "100.0 %"])
        self.assertEqual(steps["done"][:3], ["168", "70.0 %", "30.0 %"])
        self.assertIn("240 entered, 168 completed (conversion 70.0 %", self.tree.root.text())
        desc = [s for s in self.tree.root.find("svg")
                if s.kids("title")[0].text() == "Funnel of care"][0].kids("desc")[0].text()
        self.assertIn("Step 2, done: 168 reached (70.0 % of entered), drop-off 30.0 %", desc)

    def test_durations(self):
        t = table(self.tree, "aht by touchpoint, last 1 d")
        self.assertEqual(t["agent"][:2], ["168", "3 min 34 s"])
        svg = [s for s in self.tree.root.find("svg")
               if s.kids("title")[0].text() == "aht: distribution of durations"][0]
        self.assertGreater(len(svg.find("rect")), 1)
        self.assertIn("p50", svg.text())

    def test_windows_and_steps(self):
        p = cxm.report.render(self.ctx, "6h", step="2h", generated=cxm.from_ms(T0))
        self.check_page(p)
        t = table(Tree(p), "nps per 2 h interval (start of each, UTC)")
        self.assertEqual(len(t), 3)
        with self.assertRaises(ValueError):
            cxm.report.render(self.ctx, "24h", step="25h")
        with self.assertRaises(ValueError):
            cxm.report.render(self.ctx, "24h", step="1m")   # 1440 points
        with self.assertRaises(ValueError):
            cxm.report.render(self.ctx, "24h", top=-1)

    def test_points_finer_than_the_data_kept(self):
        # minutes are kept for 2 h, then hours: 5-minute points older than
        # that are not drawn from hourly data, and the page says so
        with make_ctx() as ctx:
            nps, ivr = ctx.metric("nps"), ctx.touchpoint("ivr")
            for i in range(6 * 60):
                ctx.feed(T0 - 6 * HOUR + i * MIN, ivr, {nps: 9 if i % 2 else 10})
            p = cxm.report.render(ctx, "6h", step="5m")
        tree = self.check_page(p)
        t = table(tree, "nps per 5 min interval (start of each, UTC)")
        self.assertEqual(len(t), 72)
        self.assertEqual(t[cxm.from_ms(T0 - 6 * HOUR).strftime("%Y-%m-%d %H:%M")],
                         ["not kept per 5 min interval"] * 2)
        self.assertEqual(t[cxm.from_ms(T0 - 5 * MIN).strftime("%Y-%m-%d %H:%M")],
                         ["+100.0 (n 5), low sample"] * 2)
        self.assertEqual(sum(v == ["not kept per 5 min interval"] * 2 for v in t.values()), 48)
        svg = tree.root.find("svg")[0]
        self.assertEqual(len(svg.find("circle")), 24)
        self.assertIn("48 points are no longer kept per 5 min interval",
                      svg.kids("desc")[0].text())

    def test_empty_context(self):
        with make_ctx() as ctx:
            ctx.metric("nps")
            p = cxm.report.render(ctx)
        tree = self.check_page(p)
        self.assertIn("nothing to report", tree.root.text())
        self.assertEqual(tree.root.find("svg"), [])

    def test_write_is_atomic_and_complete(self):
        d = tempfile.mkdtemp(prefix="cxm-report-")
        try:
            path = os.path.join(d, "r.html")
            page = cxm.report.write(self.ctx, path, "24h", generated=cxm.from_ms(T0))
            with open(path, encoding="utf-8") as f:
                self.assertEqual(f.read(), page)
            self.assertEqual(os.listdir(d), ["r.html"])
        finally:
            shutil.rmtree(d)


def cli(args, **kw):
    return subprocess.run([PY, "-m", "cxm", "report"] + args, env=python_env(),
                          capture_output=True, text=True, timeout=120, **kw)


MAPS = ["--map", "ts=time", "--map", "queue=touchpoint", "--map", "channel=channel",
        "--map", "caller=customer", "--map", "nps=nps", "--map", "handle_s=duration:aht",
        "--map", "solved=rate:resolved", "--segment", "tier"]


class Command(unittest.TestCase, PageChecks):
    @classmethod
    def setUpClass(cls):
        cls.dir = tempfile.mkdtemp(prefix="cxm-report-")
        cls.csv = os.path.join(cls.dir, "calls.csv")
        gen_export.write(cls.csv, 2000)
        # a snapshot with tiers other than the defaults: the command reads them from the file
        cls.snap = os.path.join(cls.dir, "node.cxms")
        with make_ctx(customer_key=KEY, tiers=[("1m", 120), ("1h", 48)]) as ctx:
            feed_known(ctx)
            ctx.save(cls.snap)
            cls.snap_page = cxm.report.render(ctx, "24h")
        cls.keyfile = os.path.join(cls.dir, "customer.key")
        with open(cls.keyfile, "w") as f:
            f.write(KEY.hex() + "\n")

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.dir, ignore_errors=True)

    def out(self, name):
        return os.path.join(self.dir, name)

    def read(self, path):
        with open(path, encoding="utf-8") as f:
            return f.read()

    def test_from_csv(self):
        out = self.out("csv.html")
        j = ["--journey", "care=ivr,tech support,callback"]
        p = cli([self.csv, "-o", out, "--window", "48h", "--no-progress"] + j + MAPS)
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertIn(f"wrote {out}", p.stdout)
        tree = self.check_page(self.read(out))
        # the same numbers as `cxm replay` over a window holding the whole day
        r = subprocess.run([PY, "-m", "cxm", "replay", self.csv, "--json", "--no-progress",
                            "--window", "48h"] + j + MAPS, env=python_env(),
                           capture_output=True, text=True, timeout=120)
        self.assertEqual(r.returncode, 0, r.stderr)
        import json
        dash = json.loads(r.stdout)
        cells = {(c["metric"], c["scope"], c["name"]): c for c in dash["windows"][0]["rows"]}
        nps = cells["nps", "all", None]
        s = table(tree, "Every metric, all touchpoints, last 2 d")
        self.assertEqual(s["nps"][1:3], [f"{nps['n']:,}", f"{nps['value']:+.1f}"])
        funnel = dash["windows"][0]["funnels"][0]
        steps = table(tree, "Steps of care, last 2 d")
        self.assertEqual(steps["ivr"][0], f"{funnel['steps'][0]['reached']:,}")
        self.assertIn("2,000 rows read, 2,000 accepted, 0 rejected", tree.root.text())
        # 8 queues: nps all + 6 busiest, aht histogram and box plot, the funnel
        self.assertEqual(len(tree.root.find("svg")), 10)

    def test_from_snapshot(self):
        for key in (["--key", KEY.hex()], ["--key-file", self.keyfile]):
            out = self.out("snap.html")
            p = cli([self.snap, "-o", out] + key)
            self.assertEqual(p.returncode, 0, p.stderr)
            tree = self.check_page(self.read(out))
            want = table(Tree(self.snap_page), "Every metric, all touchpoints, last 1 d")
            got = table(tree, "Every metric, all touchpoints, last 1 d")
            self.assertEqual(got["nps"], want["nps"])
            self.assertEqual(got["nps"][2], "+20.0")
            self.assertEqual(len(tree.root.find("svg")), 8)
            self.assertNotIn(ODD, self.read(out))

    def test_snapshot_tiers(self):
        self.assertEqual(cxm.report.snapshot_tiers(self.snap), [(60_000, 120), (3_600_000, 48)])
        self.assertIsNone(cxm.report.snapshot_tiers(self.csv))
        self.assertTrue(cxm.report.is_snapshot(self.snap))
        self.assertFalse(cxm.report.is_snapshot(self.csv))

    def test_snapshot_needs_its_key(self):
        out = self.out("nokey.html")
        p = cli([self.snap, "-o", out])
        self.assertEqual(p.returncode, 2)
        self.assertIn("--key", p.stderr)
        p = cli([self.snap, "-o", out, "--key", "00" * 16])
        self.assertEqual(p.returncode, 2)
        self.assertIn("all zero", p.stderr)
        p = cli([self.snap, "-o", out, "--key", "xyz"])
        self.assertEqual(p.returncode, 2)
        p = cli([self.snap, "-o", out, "--key", "ff" * 16])
        self.assertEqual(p.returncode, 1)
        self.assertIn("customer key", p.stderr)
        p = cli([self.snap, "-o", out, "--key", KEY.hex()] + MAPS)
        self.assertEqual(p.returncode, 2)
        self.assertIn("snapshot", p.stderr)
        p = cli([self.csv, "-o", out, "--key", KEY.hex()] + MAPS)
        self.assertEqual(p.returncode, 2)
        self.assertFalse(os.path.exists(out))

    def test_refusals(self):
        out = self.out("bad.html")
        p = cli([self.out("missing.csv"), "-o", out])
        self.assertEqual(p.returncode, 2)
        p = cli([self.csv, "-o", out, "--step", "3d", "--window", "1d"] + MAPS)
        self.assertEqual(p.returncode, 2)
        self.assertIn("--step", p.stderr)
        p = cli([self.csv, "-o", out, "--no-progress", "--map", "ts=time",
                 "--map", "queue=touchpoint", "--time-format", "ms"])
        self.assertEqual(p.returncode, 1)   # no line has a time in ms
        self.assertIn("none of the 2000 rows", p.stderr)
        self.assertFalse(os.path.exists(out))

    def test_stdout(self):
        p = cli([self.snap, "-o", "-", "--key-file", self.keyfile, "--title", "node <1>"])
        self.assertEqual(p.returncode, 0, p.stderr)
        tree = self.check_page(p.stdout)
        self.assertEqual(tree.root.find("h1")[0].text(), "node <1>")


if __name__ == "__main__":
    unittest.main()
