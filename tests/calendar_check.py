#!/usr/bin/python3
"""Calendar buckets of lib/calendar.c against Python's zoneinfo.

usage: calendar_check.py CALENDAR_DUMP

Draws (zone, unit, instant) triples with a fixed seed over every zone of
/usr/share/zoneinfo/tzdata.zi (zone1970.tab without it), instants from
1970 to 2200 weighted toward the days offsets change and the local
midnights next to them, feeds them to CALENDAR_DUMP (tests/calendar_dump.c)
and compares its bucket [start, end) and offset with what zoneinfo says,
exactly.

What a bucket is (lib/cxm_internal.h): the earliest instant whose local
time is at or after the local midnight beginning the bucket, to the same
for the next bucket, with buckets tiling time. Python's fold and its
handling of nonexistent times do not say that directly, so this script
finds the offset changes around each midnight (sampling zoneinfo's
offsets, then bisecting to the second) and takes, over the segments of
constant offset in time order, the first instant whose local time reaches
the midnight. The bucket of t is the latest whose start is at or before t.

Exits 77 (meson's skip) without /usr/share/zoneinfo or zoneinfo.
Environment: CXM_CALENDAR_SEED, CXM_CALENDAR_N (triples; default 6000,
300 under valgrind).
"""

import datetime as dt
import importlib.util
import os
import random
import subprocess
import sys

ZDIR = "/usr/share/zoneinfo"
SKIP = 77
HOUR = 3600
DAY = 86400
HI = 7258118400  # 2200-01-01T00:00:00Z, seconds
TABLE_END = 2208988800  # 2040-01-01: fat files list changes to 2037
TIME_MAX_MS = 253402300799999
EPOCH = dt.date(1970, 1, 1)
UNITS = ["day", "week", "month", "quarter", "year"]


def zone_names():
    """Every zone and link name tzdata lists, as files of ZDIR."""
    names = set()
    zi = os.path.join(ZDIR, "tzdata.zi")
    if os.path.exists(zi):
        with open(zi, encoding="utf-8") as f:
            for line in f:
                w = line.split()
                if len(w) >= 2 and w[0] == "Z":
                    names.add(w[1])
                elif len(w) >= 3 and w[0] == "L":
                    names.add(w[2])
    else:
        with open(os.path.join(ZDIR, "zone1970.tab"), encoding="utf-8") as f:
            for line in f:
                w = line.split("\t")
                if not line.startswith("#") and len(w) >= 3:
                    names.add(w[2].strip())
    out = []
    for n in sorted(names):
        if n.startswith(("posix/", "right/")):
            continue
        p = os.path.join(ZDIR, n)
        if os.path.isfile(p):
            with open(p, "rb") as f:
                if f.read(4) == b"TZif":
                    out.append(n)
    return out


class Zone:
    def __init__(self, name):
        from zoneinfo import ZoneInfo

        self.name = name
        with open(os.path.join(ZDIR, name), "rb") as f:
            self.tz = ZoneInfo.from_file(f, key=name)
        self.memo = {}

    def off(self, s):
        """The offset (s) zoneinfo gives at instant s (s)."""
        return int(dt.datetime.fromtimestamp(s, self.tz).utcoffset().total_seconds())

    def changes(self, lo, hi, step):
        """The offset changes in (lo, hi]: (instant, new offset), in order.
        Sampled every step seconds and bisected to the second."""
        out = []
        a, oa = lo, self.off(lo)
        while a < hi:
            b = min(a + step, hi)
            ob = self.off(b)
            if ob != oa:
                l, r = a, b
                while r - l > 1:
                    m = (l + r) // 2
                    if self.off(m) == oa:
                        l = m
                    else:
                        r = m
                b, ob = r, self.off(r)
                out.append((b, ob))
            a, oa = b, ob
        return out

    def earliest(self, L):
        """The earliest instant (s) whose local time is at or after local
        time L (s): offsets lie within 26 h, so it is within L +- 27 h."""
        if L in self.memo:
            return self.memo[L]
        lo, hi = L - 27 * HOUR, L + 27 * HOUR
        t, o = lo, self.off(lo)
        for x, ox in self.changes(lo, hi, 1800) + [(hi + 1, None)]:
            c = max(t, L - o)
            if c < x:
                self.memo[L] = c
                return c
            t, o = x, ox
        raise AssertionError(f"{self.name}: no instant reaches local {L}")


def bucket_first(unit, d):
    if unit == "day":
        return d
    if unit == "week":
        return d - dt.timedelta(days=d.weekday())  # ISO: Monday
    if unit == "month":
        return d.replace(day=1)
    if unit == "quarter":
        return dt.date(d.year, (d.month - 1) // 3 * 3 + 1, 1)
    return dt.date(d.year, 1, 1)


def bucket_step(unit, d, k):
    """The first day of the bucket k buckets after the one starting on d."""
    if unit == "day":
        return d + dt.timedelta(days=k)
    if unit == "week":
        return d + dt.timedelta(days=7 * k)
    months = {"month": 1, "quarter": 3, "year": 12}[unit] * k
    m = d.year * 12 + d.month - 1 + months
    return dt.date(m // 12, m % 12 + 1, 1)


def expected(z, unit, t_ms):
    """(start, end, offset) in ms, by the definition above."""
    s = t_ms // 1000
    off = z.off(s)
    local = EPOCH + dt.timedelta(days=(s + off) // DAY)

    def begin(d):
        return z.earliest((d - EPOCH).days * DAY) * 1000

    # from the bucket before the local date's (no assumption that the
    # local date's own bucket already began), forward to the latest begun
    d = bucket_step(unit, bucket_first(unit, local), -1)
    if begin(d) > t_ms:
        raise AssertionError(f"{z.name} {unit} {t_ms}: the bucket before its date begins after it")
    while begin(bucket_step(unit, d, 1)) <= t_ms:
        d = bucket_step(unit, d, 1)
    return begin(d), begin(bucket_step(unit, d, 1)), off * 1000


def draw(rng, z):
    """An instant (ms) to try in zone z."""
    r = rng.random()
    if r < 0.35:
        return rng.randrange(0, HI * 1000)
    s = rng.randrange(0, TABLE_END) if rng.random() < 0.6 else rng.randrange(TABLE_END, HI)
    ch = z.changes(s, s + 400 * DAY, DAY)
    if not ch:
        return rng.randrange(0, HI * 1000)
    x, new = ch[0]
    if r < 0.75:
        # around the change itself
        delta = rng.choice([0, -1, 1, rng.randrange(-36 * HOUR * 1000, 36 * HOUR * 1000),
                            rng.randrange(-8 * DAY * 1000, 8 * DAY * 1000)])
        return x * 1000 + delta
    # around a local midnight next to the change, on either side of it
    old = z.off(x - 1)
    day = (x + rng.choice([old, new])) // DAY + rng.choice([0, 0, 1, -1])
    b = z.earliest(day * DAY) * 1000
    return b + rng.choice([0, -1, 1, rng.randrange(-HOUR * 1000, HOUR * 1000)])


# Cases worth having whatever the seed draws: midnights a change skips or
# repeats, the date Pacific/Apia skipped, and the first instant.
FIXED = [
    ("Pacific/Apia", 1325239200000),  # 2011-12-31T00:00+14, the instant of the skip
    ("Pacific/Apia", 1325239199999),
    ("Pacific/Apia", 1325152800000),  # 2011-12-29T00:00-10
    ("America/Santiago", 1630814400000),  # 2021-09-05T01:00-03: 00:00-04 skipped
    ("America/Santiago", 1617505200000),  # 2021-04-03T23:00-04: back from 24:00-03
    ("America/Havana", 1615698000000),  # 2021-03-14T01:00-04: 00:00-05 skipped
    ("America/Havana", 1636257600000),  # 2021-11-07T00:00-04: repeated at 01:00
    ("Asia/Beirut", 1635627600000),  # 2021-10-30T23:00+02: back from 24:00+03
    ("America/New_York", 0),
    ("America/Los_Angeles", 0),
    ("Pacific/Kiritimati", HI * 1000 - 1),
]


def main():
    if len(sys.argv) != 2:
        print(__doc__.strip().splitlines()[2], file=sys.stderr)
        return 2
    if not os.path.isdir(ZDIR):
        print(f"calendar_check: no {ZDIR}: skipped")
        return SKIP
    if importlib.util.find_spec("zoneinfo") is None:
        print("calendar_check: no zoneinfo module (Python < 3.9): skipped")
        return SKIP
    names = zone_names()
    if not names:
        print(f"calendar_check: no zones under {ZDIR}: skipped")
        return SKIP
    # The unit suite also runs under valgrind (meson test --setup=valgrind),
    # which wraps this interpreter and not calendar_dump: a minute per
    # thousand cases buys nothing there, so a small sample is drawn.
    preload = os.environ.get("LD_PRELOAD", "")
    under_valgrind = "vgpreload" in preload
    seed = int(os.environ.get("CXM_CALENDAR_SEED", "20261203"))
    n = int(os.environ.get("CXM_CALENDAR_N", "300" if under_valgrind else "6000"))
    rng = random.Random(seed)
    zones = {}

    def zone(name):
        if name not in zones:
            zones[name] = Zone(name)
        return zones[name]

    cases = []
    for name, t in FIXED:
        if name in names:
            cases += [(name, u, t) for u in UNITS]
    for i in range(n):
        name = names[i % len(names)]  # every zone, in turn
        unit = rng.choice(["day", "day", "day", "week", "month", "quarter", "year"])
        t = 0 if i < len(names) and rng.random() < 0.2 else draw(rng, zone(name))
        cases.append((name, unit, min(max(t, 0), TIME_MAX_MS)))

    feed = "".join(f"{name} {unit} {t}\n" for name, unit, t in cases)
    env = dict(os.environ, TZDIR=ZDIR)
    if under_valgrind:
        env["LD_PRELOAD"] = ":".join(p for p in preload.split(":") if "vgpreload" not in p)
    res = subprocess.run([sys.argv[1]], input=feed, capture_output=True, text=True, env=env)
    if res.returncode != 0:
        print(f"calendar_check: {sys.argv[1]} exited {res.returncode}: {res.stderr}")
        return 1
    lines = res.stdout.splitlines()
    if len(lines) != len(cases):
        print(f"calendar_check: {len(lines)} answers to {len(cases)} cases")
        return 1
    bad = 0
    for (name, unit, t), line in zip(cases, lines):
        want = expected(zone(name), unit, t)
        w = line.split()
        got = tuple(int(x) for x in w) if w and w[0] != "error" else line
        if got != want:
            bad += 1
            if bad <= 20:
                print(f"MISMATCH {name} {unit} t={t}: got {got}, want {want}")
    print(f"calendar_check: {len(cases)} cases in {len(set(c[0] for c in cases))} of {len(names)} zones "
          f"(seed {seed}): {len(cases) - bad} agree, {bad} differ")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
