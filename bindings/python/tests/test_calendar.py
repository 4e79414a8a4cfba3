"""Calendar buckets in a time zone: ctx.query(calendar=...), ctx.query_series(calendar=...)
and ctx.calendar_bucket() on the New York answers of tests/test_calendar_query.c."""
import unittest
from datetime import datetime
from zoneinfo import ZoneInfo

import cxm
from support import make_ctx

NY = "America/New_York"
_NYZ = ZoneInfo(NY)


def ny_ms(*ymd_hm):
    return int(datetime(*ymd_hm, tzinfo=_NYZ).timestamp() * 1000)


DEC1, JAN1, FEB1, MAR1 = ny_ms(2025, 12, 1), ny_ms(2026, 1, 1), ny_ms(2026, 2, 1), ny_ms(2026, 3, 1)
MINUTE = 60_000


def fed(hours=True):
    """Four NPS answers around the turns of the year and of January, New
    York time; with an hour tier long enough to hold them (exact months)."""
    tiers = [("1m", 120), ("1h", 24 * 100)] if hours else None
    ctx = make_ctx(now=ny_ms(2026, 2, 10), **({"tiers": tiers} if tiers else {}))
    nps = ctx.metric("nps", "nps")
    tp = ctx.touchpoint("survey", "email")
    for t, score in ((JAN1 - 10 * MINUTE, 5), (JAN1 + 10 * MINUTE, 9), (FEB1 - 30 * MINUTE, 10),
                     (FEB1 + 30 * MINUTE, 0)):
        ctx.feed(t, tp, {nps: score})
    return ctx


class Calendar(unittest.TestCase):
    def test_month(self):
        with fed() as ctx:
            r = ctx.query("nps", calendar="month", tz=NY, end=JAN1 + 14 * 86_400_000)
            self.assertEqual((r.n, r.value, r.start_ms, r.end_ms), (2, 100.0, JAN1, FEB1))
            self.assertFalse(r.inexact)
            r = ctx.query("nps", calendar=cxm.Calendar.MONTH, end="watermark", tz=NY)
            self.assertEqual((r.n, r.start_ms), (1, FEB1))
            # in UTC, January holds the 5 and the 9
            r = ctx.query("nps", calendar="month", end=JAN1 + 86_400_000)
            self.assertEqual((r.n, r.value), (2, 0.0))

    def test_series_and_bucket(self):
        with fed() as ctx:
            end = FEB1 + 3 * 86_400_000
            rows = ctx.query_series("nps", end - DEC1 - 20 * 86_400_000 + 1, calendar="month",
                                    tz=NY, end=end)
            self.assertEqual([(r.start_ms, r.end_ms, r.n) for r in rows],
                             [(DEC1, JAN1, 1), (JAN1, FEB1, 2), (FEB1, MAR1, 1)])
            self.assertEqual(rows[1].inexact, False)
            self.assertEqual(ctx.calendar_bucket("month", NY, JAN1 + 5), (JAN1, FEB1))
            day = ny_ms(2026, 3, 8)  # daylight saving begins: 23 hours
            s, e = ctx.calendar_bucket("day", NY, day + 12 * 3_600_000)
            self.assertEqual((s, e - s), (day, 23 * 3_600_000))
            s, e = ctx.calendar_bucket("week", "UTC", "2026-01-01T00:00:00Z")
            self.assertEqual(cxm.from_ms(s).isoformat(), "2025-12-29T00:00:00+00:00")

    def test_inexact_with_default_tiers(self):
        with fed(hours=False) as ctx:
            r = ctx.query("nps", calendar="month", tz=NY, end=JAN1 + 14 * 86_400_000)
            self.assertTrue(r.inexact)
            self.assertEqual(r.start_ms % 86_400_000, 0)  # a UTC day's edge

    def test_errors(self):
        with fed() as ctx:
            with self.assertRaises(cxm.UnknownIdError):
                ctx.query("nps", calendar="month", tz="Mars/Olympus_Mons")
            with self.assertRaises(cxm.EncodingError):
                ctx.query("nps", calendar="month", tz="../etc/passwd")
            with self.assertRaises(cxm.TooLongError):
                ctx.calendar_bucket("day", "a" * 300)
            with self.assertRaises(cxm.InvalidArgumentError):
                ctx.query("nps", calendar="fortnight")
            with self.assertRaises(cxm.InvalidArgumentError):
                ctx.calendar_bucket(9)
            with self.assertRaises(TypeError):
                ctx.query("nps", "1d", calendar="month")
            with self.assertRaises(TypeError):
                ctx.query("nps")
            with self.assertRaises(TypeError):
                ctx.query_series("nps", "30d", "1d", calendar="day")
            with self.assertRaises(TypeError):
                ctx.query("nps", calendar="day", tz=5)
            with self.assertRaises(cxm.OutOfRangeError):
                ctx.calendar_bucket("day", "UTC", -5)


if __name__ == "__main__":
    unittest.main()
