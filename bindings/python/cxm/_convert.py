"""Python time types to and from libcxm's integers of milliseconds.

The extension takes ints on its fast paths and calls these only for other
objects: an aware datetime, an ISO 8601 string with an offset, a numpy
datetime64; a timedelta, a string such as "24h" or "1h30m", a numpy
timedelta64.
"""
import operator
import re
from datetime import datetime, timedelta, timezone

UTC = timezone.utc
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_MS = timedelta(milliseconds=1)

_UNIT_MS = {
    "ms": 1,
    "s": 1000,
    "m": 60_000,
    "min": 60_000,
    "h": 3_600_000,
    "d": 86_400_000,
    "w": 604_800_000,
}
_SPAN_PART = re.compile(r"\s*(\d+(?:\.\d*)?)\s*(ms|min|s|m|h|d|w)", re.IGNORECASE)
_NUMPY_UNIT = {"ms": (1, 1), "s": (1000, 1), "m": (60_000, 1), "h": (3_600_000, 1),
               "D": (86_400_000, 1), "W": (604_800_000, 1), "us": (1, 1000),
               "ns": (1, 1_000_000)}


def _numpy_ms(obj, kind):
    """ms of a numpy datetime64 or timedelta64 scalar, or None for others."""
    dtype = getattr(obj, "dtype", None)
    if dtype is None or getattr(dtype, "kind", None) != kind:
        return None
    text = str(obj)
    if text in ("NaT", "nat"):
        raise ValueError("NaT is not a time")
    unit = dtype.str.split("[")[-1].rstrip("]") if "[" in dtype.str else ""
    if unit not in _NUMPY_UNIT:
        raise ValueError(f"numpy unit {unit!r} is not supported; use ms, s, us or ns")
    mul, div = _NUMPY_UNIT[unit]
    return int(obj.astype("int64")) * mul // div


def parse_iso(text):
    """An ISO 8601 string with an offset (or Z) as an aware datetime."""
    s = text.strip()
    if s.endswith(("Z", "z")):
        s = s[:-1] + "+00:00"
    t = datetime.fromisoformat(s)
    if t.tzinfo is None:
        raise ValueError(f"time {text!r} has no UTC offset; add Z or +hh:mm")
    return t


def time_ms(t):
    """An instant as ms since the Unix epoch.

    Accepts an int (already ms), an aware datetime, an ISO 8601 string with
    an offset, a numpy datetime64, or anything with __index__. A naive
    datetime is refused: which zone it means is the caller's to say. A
    bool or a float is refused too (True is not 1 ms; seconds or ms?).
    """
    if isinstance(t, bool):
        raise TypeError("time must be an int of ms or a datetime, not bool")
    if isinstance(t, int):
        return int(t)
    if isinstance(t, datetime):
        if t.tzinfo is None or t.utcoffset() is None:
            raise ValueError(
                "naive datetime: give it a tzinfo (datetime(..., tzinfo=timezone.utc))")
        return (t - EPOCH) // _MS
    if isinstance(t, str):
        return (parse_iso(t) - EPOCH) // _MS
    ms = _numpy_ms(t, "M")
    if ms is not None:
        return ms
    if isinstance(t, float):
        raise TypeError("time must be an int of ms or a datetime, not a float "
                        "(seconds or ms? say int(t * 1000) for seconds)")
    try:
        return operator.index(t)
    except TypeError:
        raise TypeError(f"time must be an int of ms since the epoch, an aware datetime "
                        f"or an ISO 8601 string, not {type(t).__name__}") from None


def span_ms(w):
    """A window length as ms: an int (ms), a timedelta, "24h", "7d",
    "1h30m", "90s", "500ms", or a numpy timedelta64. A string is exact: a
    part of a millisecond ("1.5ms", "0.0001s") is refused, not rounded."""
    if isinstance(w, bool):
        raise TypeError("window must be an int of ms, a timedelta or a string such as '24h', "
                        "not bool")
    if isinstance(w, int):
        return int(w)
    if isinstance(w, timedelta):
        return w // _MS
    if isinstance(w, str):
        from fractions import Fraction  # exact: "0.1s" is 100 ms, not 100.00000000000001

        pos, total, text = 0, Fraction(0), w.strip()
        while pos < len(text):
            m = _SPAN_PART.match(text, pos)
            if not m:
                raise ValueError(f"window {w!r}: write it as 24h, 7d, 30m, 90s, 500ms or 1h30m")
            total += Fraction(m.group(1)) * _UNIT_MS[m.group(2).lower()]
            pos = m.end()
        if not text:
            raise ValueError("window is empty")
        if total.denominator != 1:
            raise ValueError(f"window {w!r} is not a whole number of milliseconds")
        return int(total)
    ms = _numpy_ms(w, "m")
    if ms is not None:
        return ms
    if isinstance(w, float):
        raise TypeError("window must be an int of ms, a timedelta or a string such as '24h'")
    try:
        return operator.index(w)
    except TypeError:
        raise TypeError(f"window must be an int of ms, a timedelta or a string such as "
                        f"'24h', not {type(w).__name__}") from None


def from_ms(ms):
    """ms since the epoch as an aware datetime in UTC."""
    return EPOCH + timedelta(milliseconds=ms)
