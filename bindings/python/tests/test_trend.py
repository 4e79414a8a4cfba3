"""Trends and forecasts: ctx.trend() against the hand-worked line of the C test."""
import math
import unittest

import cxm
from support import HOUR, T0, make_ctx

# y = 1 3 2 5 4 6 8 7 over 8 hours: slope 39/42 per hour; with 6 degrees of
# freedom the 95 % t quantile is 2.446912 and the p-value 0.000863.
Y = (1, 3, 2, 5, 4, 6, 8, 7)


class Trends(unittest.TestCase):
    def setUp(self):
        self.ctx = make_ctx()
        self.rev = self.ctx.metric("revenue", "amount")
        self.tp = self.ctx.touchpoint("shop", "web")
        start = T0 - 8 * HOUR
        for i, y in enumerate(Y):
            self.ctx.feed(start + i * HOUR + 60000, self.tp, {self.rev: y})
        self.end = start + 8 * HOUR - 1

    def tearDown(self):
        self.ctx.close()

    def test_line_and_forecast(self):
        t = self.ctx.trend(self.rev, "8h", "1h", 3, touchpoint=self.tp, end=self.end)
        self.assertIsInstance(t, cxm.Trend)
        self.assertEqual((t.windows, t.points, t.step_ms), (8, 8, HOUR))
        b = 39 / 42
        se = math.sqrt((42 - b * 39) / 6 / 42)
        self.assertAlmostEqual(t.slope, b, places=12)
        self.assertAlmostEqual(t.slope_ci_low, b - 2.446911851 * se, places=7)
        self.assertAlmostEqual(t.p_value, 0.00086296818, places=9)
        self.assertEqual(len(t.forecast), 3)
        f = t.forecast[0]
        self.assertIsInstance(f, cxm.Forecast)
        self.assertEqual(f.start_ms, t.end_ms)
        self.assertAlmostEqual(f.value, t.level + t.trend, places=9)
        self.assertLess(f.pi_low, f.value)
        self.assertGreater(t.forecast[2].pi_high - t.forecast[2].pi_low, f.pi_high - f.pi_low)
        self.assertEqual(self.ctx.trend(self.rev, "8h", "1h", touchpoint=self.tp, end=self.end).forecast, [])

    def test_too_few_and_bad_arguments(self):
        t = self.ctx.trend(self.rev, "2h", "1h", 1, touchpoint=self.tp, end=self.end)
        self.assertEqual(t.points, 2)
        self.assertTrue(math.isnan(t.slope) and math.isnan(t.forecast[0].value))
        with self.assertRaises(ValueError):
            self.ctx.trend(self.rev, "8h", "1h", 65)
        with self.assertRaises(cxm.OutOfRangeError):
            self.ctx.trend(self.rev, "8h", "9h")
        with self.assertRaises(cxm.OutOfRangeError):
            self.ctx.trend(self.rev, "30d", "1min")  # more than 1024 windows
        with self.assertRaises(cxm.UnknownIdError):
            self.ctx.trend(99, "8h", "1h")


if __name__ == "__main__":
    unittest.main()
