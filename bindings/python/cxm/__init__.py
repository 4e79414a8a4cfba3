"""cxm: customer-experience metrics along customer journeys.

The Python face of libcxm. Define journeys, touchpoints, metrics and
segments on a Context, feed it interactions one at a time (``feed``), from
any iterable (``feed_many``) or from a buffer of records (``feed_buffer``),
and query rolling windows into immutable Result objects::

    import cxm
    with cxm.Context() as ctx:
        agent = ctx.touchpoint("agent call", "phone")
        nps = ctx.metric("nps")                      # the NPS preset
        ctx.feed(datetime.now(timezone.utc), agent, {nps: 9}, customer="c-1")
        print(ctx.query(nps, "24h", touchpoint=agent))

Every call is one call into libcxm; this module only turns names, datetimes
and timedeltas into the integers the C library takes. See docs/python.md.
"""
import collections
import dataclasses
import enum
import io
import operator
import os
from datetime import timedelta
from typing import Any, Dict, Iterable, Iterator, List, NamedTuple, Optional, Tuple

from . import _cxm
from ._convert import UTC, from_ms, parse_iso, span_ms, time_ms  # noqa: F401
from .serve import Server, serve  # noqa: F401  (re-exported; HTTP loads on first use)
from ._cxm import (  # noqa: F401  (re-exported)
    Churn,
    Comparison,
    CorruptError,
    EncodingError,
    Error,
    Event,
    ExistsError,
    FileError,
    Funnel,
    FunnelStep,
    InvalidArgumentError,
    KindError,
    LimitError,
    NoMemoryError,
    NotFiniteError,
    OutOfRangeError,
    RejectedError,
    Result,
    Stats,
    TooEarlyError,
    TooLateError,
    TooLongError,
    UnknownIdError,
    UnsupportedError,
    VersionError,
    libversion,
    libversion_number,
    strerror,
)

_cxm._set_converters(time_ms, span_ms, from_ms)

# the libcxm version the module was compiled from (the wheel's version);
# libversion() is the one loaded, the same unless a shared libcxm was replaced
__version__ = _cxm.VERSION

__all__ = [
    "serve", "Server",
    "Context", "Query", "Layout", "MetricDef", "preset", "FeedReport", "Rejection", "BulkFeedError",
    "Journey", "Touchpoint", "Metric", "Segment", "SegmentValue",
    "Status", "Channel", "Kind", "Headline", "Scope", "Preset", "CustomerPolicy",
    "Result", "Comparison", "Stats", "Error", "InvalidArgumentError", "UnknownIdError",
    "OutOfRangeError", "TooLateError", "TooEarlyError", "NotFiniteError", "TooLongError",
    "NoMemoryError", "LimitError", "CorruptError", "FileError", "VersionError",
    "UnsupportedError", "ExistsError", "EncodingError", "KindError", "RejectedError",
    "libversion", "libversion_number", "strerror", "time_ms", "span_ms", "from_ms", "UTC",
    "NONE", "TIME_MAX", "WATERMARK",
    "JourneyOptions", "Funnel", "FunnelStep", "Churn", "ExportFormat",
    "OPENMETRICS_CONTENT_TYPE", "PROMETHEUS_CONTENT_TYPE",
    "Cmp", "TriggerDef", "Event", "Survey", "AskReason", "Ask",
    "AlertKind", "AlertState", "AlertStatus", "SignalKind", "SignalDef",
    "GroupBy", "Calendar", "BaselineKind", "Baseline", "TouchpointRow", "SegmentRow", "StepRow", "ChannelRow", "SeriesRow", "to_pandas",
    "Trend", "Forecast",
    "Quadrant", "Band", "Driver", "DriversResult", "DriversDef",
]

NONE = _cxm.NONE
TIME_MAX = _cxm.TIME_MAX
# end=WATERMARK (the string "watermark"): a window that ends with the finest
# bucket of the newest interaction accepted (CXM_WATERMARK), not the clock's
# now; for history fed in bulk. Until anything is accepted it is end=None.
WATERMARK = "watermark"
RESULT_LOW_SAMPLE = _cxm.RESULT_LOW_SAMPLE
RESULT_EMPTY = _cxm.RESULT_EMPTY
RESULT_CLAMPED = _cxm.RESULT_CLAMPED
RESULT_TRUNCATED = _cxm.RESULT_TRUNCATED
OPENMETRICS_CONTENT_TYPE = _cxm.OPENMETRICS_CONTENT_TYPE
PROMETHEUS_CONTENT_TYPE = _cxm.PROMETHEUS_CONTENT_TYPE
JOURNEY_MAX_WINDOW = timedelta(milliseconds=_cxm.JOURNEY_MAX_WINDOW_MS)
MAX_SURVEYS = _cxm.MAX_SURVEYS
SURVEY_MAX_CAP = _cxm.SURVEY_MAX_CAP
MAX_SIGNALS = _cxm.MAX_SIGNALS
SIGNAL_MAX_COUNT = _cxm.SIGNAL_MAX_COUNT
DRIVER_SETS_MAX = _cxm.DRIVER_SETS_MAX
DRIVERS_MAX = _cxm.DRIVERS_MAX


# ---- the C enums ------------------------------------------------------------

class Status(enum.IntEnum):
    """cxm_status: what every call returns; Error.code is one of these."""
    OK = 0
    INVALID = 1
    UNKNOWN_ID = 2
    OUT_OF_RANGE = 3
    TOO_LATE = 4
    TOO_EARLY = 5
    NOT_FINITE = 6
    TOO_LONG = 7
    NO_MEMORY = 8
    LIMIT = 9
    CORRUPT = 10
    IO = 11
    VERSION = 12
    UNSUPPORTED = 13
    EXISTS = 14
    ENCODING = 15
    KIND = 16
    REJECTED = 17


class Channel(enum.IntEnum):
    """cxm_channel: where a touchpoint happens."""
    PHONE = 1
    CHAT = 2
    EMAIL = 3
    WEB = 4
    SMS = 5
    SOCIAL = 6
    IN_PERSON = 7
    OTHER = 8


class Kind(enum.IntEnum):
    """cxm_metric_kind: how a metric folds its measures."""
    SCORE = 1
    INDEX = 2
    DURATION = 3
    RATE = 4
    AMOUNT = 5
    VOLUME = 6
    DISTINCT = 7
    SENTIMENT = 8


class Headline(enum.IntEnum):
    """cxm_headline: which number Result.value is."""
    DEFAULT = 0
    NET = 1
    TOP_BOX = 2
    BOTTOM_BOX = 3
    MEAN = 4
    SHARE = 5
    SUM = 6
    COUNT = 7


class Scope(enum.IntEnum):
    """cxm_scope: what part of the model a query covers."""
    ALL = 0
    TOUCHPOINT = 1
    STEP = 2
    JOURNEY = 3
    CHANNEL = 4


class Preset(enum.IntEnum):
    """cxm_preset: the standard metrics (docs/metrics.md)."""
    NPS = 1
    CSAT5 = 2
    CSAT7 = 3
    CSAT10 = 4
    CES7 = 5
    CES5 = 6
    CXI = 7
    DURATION = 8
    RATE = 9
    AMOUNT = 10
    VOLUME = 11
    DISTINCT = 12
    SENTIMENT = 13


class ExportFormat(enum.IntEnum):
    """cxm_export_format: the text format of ``Context.export``."""
    OPENMETRICS = 0
    PROMETHEUS = 1


class CustomerPolicy(enum.IntEnum):
    """cxm_customer_policy: what happens at max_customers."""
    EVICT = 0
    REFUSE = 1


class Cmp(enum.IntEnum):
    """cxm_cmp: how a trigger compares a measure's value with its threshold."""
    LT = 0
    LE = 1
    GT = 2
    GE = 3
    EQ = 4
    NE = 5


class AskReason(enum.IntEnum):
    """cxm_ask: the survey governor's answer, ASK or the first rule that
    says no (in this order of precedence)."""
    ASK = 0
    NOT_ELIGIBLE = 1
    SAMPLED_OUT = 2
    SURVEY_RESPONDED = 3
    SURVEY_INVITED = 4
    SURVEY_CAP = 5
    RESPONDED = 6
    INVITED = 7
    CAP = 8


class AlertKind(enum.IntEnum):
    """cxm_alert_kind: what an alert compares with its levels."""
    LEVEL = 0
    CHANGE = 1
    FORECAST = 2


class AlertState(enum.IntEnum):
    """cxm_alert_state: what an alert is doing."""
    OK = 0
    PENDING = 1
    FIRING = 2


class SignalKind(enum.IntEnum):
    """cxm_signal_kind: what an in-journey signal watches for."""
    STUCK = 1
    REPEAT = 2
    BACKWARDS = 3
    FAILURE = 4


class GroupBy(enum.IntEnum):
    """cxm_group_by: what ``ctx.query_by`` breaks a window down by."""
    TOUCHPOINT = 1
    SEGMENT = 2
    STEP = 3
    CHANNEL = 4


class BaselineKind(enum.IntEnum):
    """cxm_baseline_kind: what a named baseline compares a query with."""
    OFFSET = 1
    PERIOD = 2
    TARGET = 3


class Baseline(NamedTuple):
    """A named baseline (cxm_baseline_get): offset_ms for OFFSET,
    start_ms/end_ms for PERIOD, metric and target for TARGET."""
    id: int
    name: str
    kind: BaselineKind
    metric: int
    offset_ms: int
    start_ms: int
    end_ms: int
    target: float


class Quadrant(enum.IntEnum):
    """cxm_driver_quadrant: where a key driver falls among its set's
    drivers, its importance against their mean importance and its
    performance against their mean performance."""
    NONE = 0  # fewer than 3 pairs, or no variance: not placed
    STRENGTH = 1  # important and performing well: keep it
    PRIORITY = 2  # important and performing below the others: improve it first
    MAINTAIN = 3  # performing well, not important
    LOW = 4  # neither: attend to it last


def _quadrant(code):
    try:
        return Quadrant(code)
    except ValueError:  # a quadrant newer than this package: kept as its number
        return code


class Band(NamedTuple):
    """An experience band of a key driver (cxm_driver_band): the outcomes
    paired with a driver value in the driver metric's bottom box, middle
    or top box; ``mean`` is NaN when ``n`` is 0, its interval (Student's
    t, at the context's confidence) NaN below 2."""
    n: int
    mean: float
    ci_low: float
    ci_high: float


class Driver(NamedTuple):
    """One driver of ``ctx.key_drivers()`` (cxm_driver): its touchpoint's
    id and name (None for the overall driver), the pairs of (driver
    value, outcome) it has, its importance (Pearson's r of the pairs) with
    its interval (Fisher's z) and two-sided p-value, ``significant`` at
    the context's confidence, its Quadrant, its performance (the mean
    driver value over its pairs) and the mean outcome; ``bands`` the
    outcome by experience band (bottom box, middle, top box) and
    ``band_difference`` the top band's mean outcome minus the bottom's,
    with its Welch interval and p-value. Statistics without the data for
    them are NaN."""
    touchpoint: Optional[int]
    touchpoint_name: Optional[str]
    n: int
    importance: float
    ci_low: float
    ci_high: float
    p_value: float
    significant: bool
    quadrant: Quadrant
    performance: float
    outcome_mean: float
    bands: Tuple[Band, Band, Band]
    band_difference: float
    band_ci_low: float
    band_ci_high: float
    band_p_value: float


class DriversResult(NamedTuple):
    """``ctx.key_drivers()``'s answer (cxm_drivers_run): the set's
    drivers, the outcomes fed with a customer id since its definition and
    how many of them paired with a driver value, the customer records it
    holds, the driver values it could not keep, the bytes it holds, and
    ``drivers``: a Driver per driver, in definition order (the overall
    one last)."""
    n_drivers: int
    outcomes: int
    paired: int
    customers: int
    unremembered: int
    memory_bytes: int
    drivers: List[Driver]


class DriversDef(NamedTuple):
    """A driver set's definition as the set holds it (cxm_drivers_get):
    its id and name, the outcome and driver metrics' ids, the journey's id
    (or None), the drivers' touchpoint ids in order (a journey's resolved
    when it was defined; the overall driver not among them), ``overall``
    (whether the overall driver comes last) and ``window_ms`` (the default
    resolved)."""
    id: int
    name: str
    outcome: int
    driver: int
    journey: Optional[int]
    touchpoints: Tuple[int, ...]
    overall: bool
    window_ms: int


class Calendar(enum.IntEnum):
    """cxm_calendar_unit: a calendar bucket in a time zone (``calendar=``
    of ``ctx.query`` and ``ctx.query_series``)."""
    DAY = 1
    WEEK = 2
    MONTH = 3
    QUARTER = 4
    YEAR = 5


_CMP_SYMBOLS = {"<": Cmp.LT, "<=": Cmp.LE, ">": Cmp.GT, ">=": Cmp.GE, "==": Cmp.EQ, "!=": Cmp.NE}


def _cmp(op):
    """A Cmp from itself, its number, its symbol ("<=") or its name ("le")."""
    if isinstance(op, str):
        if op in _CMP_SYMBOLS:
            return _CMP_SYMBOLS[op]
        key = op.strip().upper()
        if key in Cmp.__members__:
            return Cmp[key]
        _cxm._raise_status(Status.INVALID, f"{op!r} is not a comparison (<, <=, >, >=, ==, !=, "
                           f"or lt, le, gt, ge, eq, ne)")
    return _enum(Cmp, op)


_ALIASES = {Preset: {"CSAT": "CSAT5", "CES": "CES7", "CX_INDEX": "CXI"}}


def _index(value, what):
    """An int argument: an int or anything with __index__, never a bool
    (True is not 1 here) nor a float (no silent truncation)."""
    if isinstance(value, bool):
        raise TypeError(f"{what} must be an int, not bool")
    try:
        return operator.index(value)
    except TypeError:
        raise TypeError(f"{what} must be an int, not {type(value).__name__}") from None


def _flag(value, what):
    """A yes/no argument: a bool, not any truthy object ("no" is truthy)."""
    if not isinstance(value, bool):
        raise TypeError(f"{what} must be True or False, not {type(value).__name__}")
    return value


def _enum(cls, value):
    """An enum member from itself, its number or its name in any case
    ("in person", "in-person" and "IN_PERSON" alike). A number that is not
    a member goes to libcxm, which refuses it with its own code."""
    if isinstance(value, str):
        key = value.strip().upper().replace(" ", "_").replace("-", "_")
        key = _ALIASES.get(cls, {}).get(key, key)
        try:
            return cls[key]
        except KeyError:
            names = ", ".join(m.name.lower() for m in cls)
            _cxm._raise_status(Status.INVALID, f"{value!r} is not a {cls.__name__.lower()} ({names})")
    if isinstance(value, cls):
        return value
    value = _index(value, cls.__name__.lower())
    try:
        return cls(value)
    except ValueError:
        return value  # libcxm refuses it with its own code and message


# ---- definitions as ints with a name ----------------------------------------

class _Id(int):
    """A definition's id (what libcxm takes), with its name. Ids of
    different kinds are plain ints underneath: Touchpoint 0 == Metric 0."""

    name: str

    def __new__(cls, id, name, **attrs):
        self = int.__new__(cls, id)
        self.name = name
        self.__dict__.update(attrs)
        return self

    def __repr__(self):
        return f"{type(self).__name__}({int(self)}, {self.name!r})"

    def __str__(self):
        return self.name

    def __reduce__(self):
        attrs = {k: v for k, v in self.__dict__.items() if k != "name"}
        return (_rebuild, (type(self), int(self), self.name, attrs))


def _rebuild(cls, id, name, attrs):
    return cls(id, name, **attrs)


class Journey(_Id):
    """A journey: .name and .steps (step k has id k)."""
    steps: Tuple[str, ...]


class Touchpoint(_Id):
    """A touchpoint: .name, .channel, .journey and .step (None when alone)."""
    channel: Channel
    journey: Optional[int]
    step: Optional[int]


class Metric(_Id):
    """A metric: .name and .kind."""
    kind: Kind


class Segment(_Id):
    """A segment dimension: .name."""


class SegmentValue(_Id):
    """A value of a segment dimension: .name and .segment (the dimension's id)."""
    segment: int


class Survey(_Id):
    """A survey of the governor: .name."""


_OBJ_JOURNEY, _OBJ_TOUCHPOINT, _OBJ_METRIC, _OBJ_SEGMENT = 1, 2, 3, 4


class Definitions:
    """The journeys, touchpoints, metrics or segments of a context: look
    one up by name or id (``ctx.touchpoints["ivr"]``), iterate, count.
    An unknown name or id raises UnknownIdError (a KeyError)."""

    def __init__(self, ctx, kind):
        self._ctx = ctx
        self._kind = kind

    def __len__(self):
        return self._ctx._count(self._kind)

    def __iter__(self) -> Iterator[Any]:
        for i in range(len(self)):
            yield self[i]

    def __getitem__(self, key):
        ctx, kind = self._ctx, self._kind
        if isinstance(key, str):
            id, name = ctx._find(kind, key), key
        else:
            id = _index(key, "an id")
            name = ctx._name(kind, id)
        return ctx._object(kind, id, name)

    def __contains__(self, key):
        try:
            self[key]
        except UnknownIdError:
            return False
        return True

    def get(self, key, default=None):
        try:
            return self[key]
        except UnknownIdError:
            return default

    def names(self) -> List[str]:
        return [self._ctx._name(self._kind, i) for i in range(len(self))]

    def __repr__(self):
        return f"<{type(self).__name__} {self.names()!r}>"


# ---- metric definitions -----------------------------------------------------

@dataclasses.dataclass(frozen=True)
class MetricDef:
    """A metric's rule (cxm_metric_def). Start from ``cxm.preset(name)``
    and ``replace()`` what differs; the fields are those of the C struct,
    with ``na`` standing for has_na/na_value (None: no "no answer" code)."""

    kind: Kind
    headline: Headline = Headline.DEFAULT
    scale_min: int = 0
    scale_max: int = 0
    questions: int = 1
    na: Optional[int] = None
    top_min: Tuple[int, ...] = ()
    bottom_max: Tuple[int, ...] = ()
    duration_lo: float = 0.0
    duration_hi: float = 0.0
    relative_error: float = 0.0
    precision: int = 0

    def __post_init__(self):
        object.__setattr__(self, "kind", _enum(Kind, self.kind))
        object.__setattr__(self, "headline", _enum(Headline, self.headline))
        object.__setattr__(self, "top_min", tuple(self.top_min))
        object.__setattr__(self, "bottom_max", tuple(self.bottom_max))

    def replace(self, **changes) -> "MetricDef":
        return dataclasses.replace(self, **changes)

    def _asdict(self) -> Dict[str, Any]:
        d = dataclasses.asdict(self)
        d["kind"], d["headline"] = int(self.kind), int(self.headline)
        return d


def preset(name) -> MetricDef:
    """A preset's definition: "nps", "csat5" (or "csat"), "csat7", "csat10",
    "ces7" (or "ces"), "ces5", "cxi", "duration", "rate", "amount",
    "volume", "distinct", "sentiment", or a Preset."""
    return MetricDef(**_cxm.preset(_enum(Preset, name)))


# ---- journey options ----------------------------------------------------------

_JOURNEY_FLAGS = (
    ("strict", _cxm.JOURNEY_STRICT),
    ("count_repeats", _cxm.JOURNEY_COUNT_REPEATS),
    ("equal_times_hold", _cxm.JOURNEY_EQUAL_TIMES_HOLD),
    ("restart", _cxm.JOURNEY_RESTART),
    ("window_exclusive", _cxm.JOURNEY_WINDOW_EXCLUSIVE),
    ("strict_order", _cxm.JOURNEY_STRICT_ORDER),
    ("allow_reentry", _cxm.JOURNEY_ALLOW_REENTRY),
    ("strict_dedup", _cxm.JOURNEY_STRICT_DEDUP),
)


def _opt_span(value, what):
    """A journey option's duration in ms; None is libcxm's default (0 in
    the C struct). A duration that is not positive would read as that
    default too: refused."""
    if value is None:
        return 0
    ms = span_ms(value)
    if ms <= 0:
        _cxm._raise_status(Status.OUT_OF_RANGE, f"{what} must be a positive duration, not "
                           f"{value!r} ({ms} ms); None means the default")
    return ms


@dataclasses.dataclass(frozen=True)
class JourneyOptions:
    """How a journey's progress is judged (cxm_journey_options; see
    docs/journeys.md). Durations are timedeltas, strings such as "2d" or ms;
    None means libcxm's default (conversion 7 days, abandon the conversion window, lateness
    the finest tier's reach, repeat 7 days). ``ctx.journey_options(j)``
    returns one with the defaults filled in, as timedeltas."""

    conversion: Any = None
    abandon: Any = None
    lateness: Any = None
    repeat: Any = None
    strict: bool = False
    count_repeats: bool = False
    equal_times_hold: bool = False
    restart: bool = False
    window_exclusive: bool = False
    strict_order: bool = False
    allow_reentry: bool = False
    strict_dedup: bool = False

    def __post_init__(self):
        for name, _ in _JOURNEY_FLAGS:
            _flag(getattr(self, name), name)

    @property
    def flags(self) -> int:
        return sum(bit for name, bit in _JOURNEY_FLAGS if getattr(self, name))

    def replace(self, **changes) -> "JourneyOptions":
        return dataclasses.replace(self, **changes)

    def _asdict(self) -> Dict[str, Any]:
        return dataclasses.asdict(self)

    def _args(self):
        return (self.flags, _opt_span(self.conversion, "conversion"),
                _opt_span(self.abandon, "abandon"), _opt_span(self.lateness, "lateness"),
                _opt_span(self.repeat, "repeat"))

    @classmethod
    def _from_tuple(cls, t):
        flags, conv, abandon, late, rep = t
        ms = lambda v: timedelta(milliseconds=v)  # noqa: E731
        return cls(ms(conv), ms(abandon), ms(late), ms(rep),
                   **{name: bool(flags & bit) for name, bit in _JOURNEY_FLAGS})


# ---- queries ----------------------------------------------------------------

def _segment_pair(segment):
    """(dimension, value) of a segment filter: a SegmentValue or a pair;
    (None, 0) without one."""
    if segment is None:
        return None, 0
    if isinstance(segment, SegmentValue):
        return segment.segment, int(segment)
    seg, val = segment
    return seg, val


def _scope(touchpoint, journey, step, channel):
    given = [x is not None for x in (touchpoint, journey, channel)]
    if sum(given) > 1:
        raise TypeError("give at most one of touchpoint, journey (with step) and channel")
    if step is not None and journey is None:
        raise TypeError("step needs its journey")
    if touchpoint is not None:
        return Scope.TOUCHPOINT, touchpoint, None
    if journey is not None:
        return (Scope.JOURNEY, journey, None) if step is None else (Scope.STEP, journey, step)
    if channel is not None:
        return Scope.CHANNEL, _enum(Channel, channel), None
    return Scope.ALL, 0, None


class Query(_cxm.Query):
    """A query compiled once (cxm_query), run with ``ctx.run(q)``:
    metric × scope × segment filter × window. Ids only; ``ctx.make_query``
    takes names.

    ``Query(nps, "24h", touchpoint=agent, segment=gold, end=t)`` where
    window is a timedelta, "24h" or ms; end is a datetime or ms (None: the
    context clock's now; "watermark", cxm.WATERMARK: the newest interaction
    accepted, read each time the query runs); segment is a SegmentValue or
    (segment, value id).
    """

    __slots__ = ()

    def __new__(cls, metric, window, *, end=None, touchpoint=None, journey=None, step=None,
                channel=None, segment=None):
        scope, id, st = _scope(touchpoint, journey, step, channel)
        seg, val = _segment_pair(segment)
        return super().__new__(cls, metric, window, end, int(scope), id, st, seg, val)

    def replace(self, *, window=None, end=Ellipsis) -> "Query":
        """The same query with another window or end (end=None: now,
        end="watermark": the newest interaction accepted)."""
        return _cxm.Query.__new__(
            type(self), self.metric, self.span_ms if window is None else window,
            self.end_ms if end is Ellipsis else end, self.scope, self.id, self.step,
            self.segment, self.segment_value)

    def __repr__(self):
        parts = [f"metric={self.metric}", f"span_ms={self.span_ms}"]
        if self.end_ms == WATERMARK:
            parts.append(f"end={WATERMARK!r}")
        elif self.end_ms is not None:
            parts.append(f"end_ms={self.end_ms}")
        parts.append(f"scope={Scope(self.scope).name.lower()}")
        if self.scope != Scope.ALL:
            parts.append(f"id={self.id}")
        if self.step is not None:
            parts.append(f"step={self.step}")
        if self.segment is not None:
            parts.append(f"segment=({self.segment}, {self.segment_value})")
        return f"Query({', '.join(parts)})"


# ---- breakdowns and series: rows --------------------------------------------

# A row is a namedtuple: its columns are the group's name and id (none for
# a series), then Result._fields in order, so that pandas.DataFrame(rows)
# names them. Attributes that are not columns (start, end, ci, key, id)
# are properties. The repr shows what Result's does.
_RESULT_REPR = ("kind", "headline", "value", "ci_low", "ci_high", "n", "start_ms", "end_ms",
                "flags")


class _ResultRow:
    """What a row has besides its columns, as a Result has it."""

    __slots__ = ()
    _key: Tuple[str, ...] = ()

    @property
    def start(self):
        """start_ms as an aware datetime (UTC)."""
        return from_ms(self.start_ms)

    @property
    def end(self):
        """end_ms as an aware datetime (UTC)."""
        return from_ms(self.end_ms)

    @property
    def ci(self) -> Tuple[float, float]:
        """(ci_low, ci_high)."""
        return (self.ci_low, self.ci_high)

    def __repr__(self):
        # the key and the fields Result's repr shows: the whole row is long
        parts = (f"{f}={getattr(self, f)!r}" for f in self._key + _RESULT_REPR)
        return f"{type(self).__name__}({', '.join(parts)})"


class _GroupRow(_ResultRow):
    __slots__ = ()

    @property
    def key(self) -> str:
        """The group's name (the first column, whatever the breakdown)."""
        return self[0]

    @property
    def id(self) -> int:
        """The group's id (the second column)."""
        return self[1]


def _row_type(name, key, doc):
    fields = ((key, key + "_id") if key else ()) + tuple(Result._fields)
    base = collections.namedtuple("_" + name, fields, module=__name__)
    mixin = _GroupRow if key else _ResultRow
    return type(name, (base, mixin),
                {"__slots__": (), "__doc__": doc, "__module__": __name__,
                 "_key": (key, key + "_id") if key else (), "__repr__": _ResultRow.__repr__})


TouchpointRow = _row_type(
    "TouchpointRow", "touchpoint",
    "One touchpoint of ``ctx.query_by(..., 'touchpoint')``: its name (``touchpoint``) and id "
    "(``touchpoint_id``), then every field of Result.")
SegmentRow = _row_type(
    "SegmentRow", "segment",
    "One value of ``ctx.query_by(..., 'segment', dim=...)``: the value's name (``segment``) "
    "and id within the dimension (``segment_id``), then every field of Result.")
StepRow = _row_type(
    "StepRow", "step",
    "One step of ``ctx.query_by(..., 'step', journey=...)``: its name (``step``) and index "
    "(``step_id``), then every field of Result.")
ChannelRow = _row_type(
    "ChannelRow", "channel",
    "One channel of ``ctx.query_by(..., 'channel')``: its name (``channel``: 'phone', "
    "'in person'...) and number (``channel_id``, as in Channel), then every field of Result.")
SeriesRow = _row_type(
    "SeriesRow", "",
    "One window of ``ctx.query_series()``: every field of Result, start_ms and end_ms "
    "the window it covers.")
Forecast = collections.namedtuple("Forecast", "start_ms end_ms value pi_low pi_high",
                                  module=__name__)
Forecast.__doc__ = ("One step ahead of ``ctx.trend()``: the window [start_ms, end_ms), Holt's "
                    "forecast of the headline value and its prediction interval at the "
                    "context's confidence (NaN below 3 points).")
Trend = collections.namedtuple(
    "Trend", "windows points start_ms end_ms step_ms slope slope_ci_low slope_ci_high p_value "
             "r2 fitted_last alpha beta level trend sigma forecast", module=__name__)
Trend.__doc__ = ("``ctx.trend()``'s answer (cxm_trend): the least-squares slope of the "
                 "windows' headline values per step with its Student-t interval and p-value, "
                 "r2, Holt's smoothing (alpha, beta, level, trend, sigma), and ``forecast``, a "
                 "list of Forecast. Statistics are NaN below 3 points with a value.")
_GROUP_ROWS = {GroupBy.TOUCHPOINT: TouchpointRow, GroupBy.SEGMENT: SegmentRow,
               GroupBy.STEP: StepRow, GroupBy.CHANNEL: ChannelRow}


def _channel_name(ch):
    try:
        return Channel(ch).name.lower().replace("_", " ")
    except ValueError:
        return str(ch)


def to_pandas(rows):
    """A pandas.DataFrame of rows, one column per field: the rows of
    ``ctx.query_by()`` or ``ctx.query_series()`` (or any namedtuples, or
    Result objects). pandas is optional: without it, ImportError."""
    try:
        import pandas
    except ImportError as e:
        raise ImportError("cxm.to_pandas() needs pandas (pip install pandas, or apt-get install "
                          "python3-pandas); without it, [r._asdict() for r in rows] gives the "
                          "same columns as dicts", name="pandas") from e
    data = [r if isinstance(r, tuple) else r._asdict() for r in rows]
    return pandas.DataFrame(data)


# ---- triggers -----------------------------------------------------------------

class TriggerDef(NamedTuple):
    """A trigger's rule as ``ctx.trigger_def(rule)`` reads it back
    (cxm_trigger_get): the metric and question tested, how (``op``) and
    against what, where (``scope`` and ``id``, ``step`` for a STEP scope,
    else None, as in a Query), the segment value required (``segment`` and
    ``segment_value``, both None without one), and whether it is on."""
    metric: int
    item: int
    op: Cmp
    threshold: float
    scope: Scope
    id: int
    step: Optional[int]
    segment: Optional[int]
    segment_value: Optional[int]
    enabled: bool


# ---- the survey governor -------------------------------------------------------

class Ask(NamedTuple):
    """The survey governor's answer (cxm_survey_should_ask): ``ask``
    (True: invite now), ``reason`` (an AskReason: ASK, or the first rule
    that says no) and, for a cool-down or a cap, when that rule stops
    saying no: ``until_ms`` (ms since the epoch) and ``until`` (an aware
    datetime), None otherwise. True or false as ``ask`` is: ``if
    ctx.should_ask(...):``."""
    ask: bool
    reason: AskReason
    until_ms: Optional[int]

    @property
    def until(self):
        """until_ms as an aware datetime (UTC), or None."""
        return None if self.until_ms is None else from_ms(self.until_ms)

    def __bool__(self):
        return self.ask


def _ask_reason(code):
    try:
        return AskReason(code)
    except ValueError:  # a reason newer than this package: kept as its number
        return code


# the answers that end at no time, made once: should_ask() returns these
_ASK_NO_END = {r: Ask(r == AskReason.ASK, r, None) for r in AskReason}


def _gov_span(value, what):
    """A governor duration in ms: None is 0, libcxm's "no such rule" (as is
    a zero duration: no cool-down). A negative one is refused here, by its
    name."""
    if value is None:
        return 0
    ms = span_ms(value)
    if ms < 0:
        _cxm._raise_status(Status.OUT_OF_RANGE, f"{what} must not be negative, not {value!r} "
                           f"({ms} ms)")
    return ms


def _gov_cap(max_invites, window):
    """(max_invites, window ms) of a cap; (0, 0) without one. libcxm reads
    a cap of 0 as "no cap": refused, since it reads as "never"."""
    if max_invites is None:
        return 0, _gov_span(window, "window")
    n = _index(max_invites, "max_invites")
    if n == 0:
        _cxm._raise_status(Status.OUT_OF_RANGE, "max_invites=0 would mean no cap to libcxm: give "
                           f"1 to {SURVEY_MAX_CAP}, or None for no cap")
    return n, _gov_span(window, "window")


# ---- metric alerts --------------------------------------------------------------

_ALERT_INSUFFICIENT = 0x1  # cxm_alert_status::flags, CXM_ALERT_INSUFFICIENT


class AlertStatus(NamedTuple):
    """What an alert is doing (cxm_alert_status_get): its ``state`` (an
    AlertState), since when (``since_ms``), its last evaluation's instant
    (``evaluated_ms``) and when it last resolved (``resolved_ms``), each
    ms since the epoch or None (never), with aware datetimes ``since``,
    ``evaluated`` and ``resolved``; what the last evaluation saw:
    ``value`` (the value, or a CHANGE alert's change), ``baseline`` and
    ``p_value`` (CHANGE; else NaN), the window's sample size ``n``; how
    often it started firing (``fired``) and whether the last evaluation
    had too few samples and left the state as it was (``insufficient``)."""
    state: AlertState
    since_ms: Optional[int]
    evaluated_ms: Optional[int]
    resolved_ms: Optional[int]
    value: float
    baseline: float
    p_value: float
    n: int
    fired: int
    insufficient: bool

    @property
    def since(self):
        """since_ms as an aware datetime (UTC), or None."""
        return None if self.since_ms is None else from_ms(self.since_ms)

    @property
    def evaluated(self):
        """evaluated_ms as an aware datetime (UTC), or None."""
        return None if self.evaluated_ms is None else from_ms(self.evaluated_ms)

    @property
    def resolved(self):
        """resolved_ms as an aware datetime (UTC), or None."""
        return None if self.resolved_ms is None else from_ms(self.resolved_ms)


def _alert_state(code):
    try:
        return AlertState(code)
    except ValueError:  # a state newer than this package: kept as its number
        return code


def _never(ms):
    return None if ms == -1 else ms


def _alert_span(value, what):
    """An alert's duration in ms: None is 0 (no such wait); a negative one
    is refused here, by its name."""
    if value is None:
        return 0
    ms = span_ms(value)
    if ms < 0:
        _cxm._raise_status(Status.OUT_OF_RANGE, f"{what} must not be negative, not {value!r} "
                           f"({ms} ms)")
    return ms


# ---- in-journey signals ----------------------------------------------------------

class SignalDef(NamedTuple):
    """A signal as ``ctx.signal_def(signal)`` reads it back
    (cxm_signal_get): its ``kind`` (a SignalKind), ``journey``, ``step``
    (None: any), ``count`` and ``window_ms`` (0 where the kind takes
    none; ``window`` as a timedelta), and for a FAILURE signal the
    ``metric``, question ``item``, ``op`` (a Cmp) and ``threshold`` a
    failing value compares with (``metric`` and ``op`` None for the other
    kinds), and whether it is on (``enabled``)."""
    kind: SignalKind
    journey: int
    step: Optional[int]
    count: int
    window_ms: int
    metric: Optional[int]
    item: int
    op: Optional[Cmp]
    threshold: float
    enabled: bool

    @property
    def window(self) -> timedelta:
        """window_ms as a timedelta."""
        return timedelta(milliseconds=self.window_ms)


def _signal_kind(code):
    try:
        return SignalKind(code)
    except ValueError:  # a kind newer than this package: kept as its number
        return code


# ---- feeding in bulk --------------------------------------------------------

class Rejection(NamedTuple):
    """One input row libcxm (or the binding) did not take: its index in the
    input, the status code and a reason."""
    index: int
    code: Status
    reason: str


class FeedReport(NamedTuple):
    """What a bulk feed did: rows accepted, rows rejected, and every
    rejection with its index and reason (none is dropped silently)."""
    accepted: int
    rejected: int
    rejections: List[Rejection]

    @property
    def ok(self) -> bool:
        return self.rejected == 0

    def by_reason(self) -> Dict[str, int]:
        """Rejections counted by reason."""
        out: Dict[str, int] = {}
        for r in self.rejections:
            out[r.reason] = out.get(r.reason, 0) + 1
        return out

    def __repr__(self):
        head = ", ".join(repr(r) for r in self.rejections[:3])
        more = f", ... {len(self.rejections) - 3} more" if len(self.rejections) > 3 else ""
        return f"FeedReport(accepted={self.accepted}, rejected={self.rejected}, rejections=[{head}{more}])"


def _report(t, offset=0) -> FeedReport:
    acc, rej, lst = t
    return FeedReport(acc, rej, [Rejection(i + offset, Status(c), r) for i, c, r in lst])


class BulkFeedError(Error):
    """A bulk feed (``feed_many``, ``feed_buffer``, ``python3 -m cxm
    replay``) stopped before the end of its input.

    ``__cause__`` is the exception that stopped it: the iterable's, a
    value's ``__float__``, the clock's, libcxm's. ``index`` is the input
    row (counted like Rejection.index; a line for the replay) at which it
    stopped. Every row before ``index`` was fed: accepted, or rejected and
    listed in ``report.rejections``; no row from ``index`` on was fed.
    ``report`` is the FeedReport of the rows before ``index``;
    ``accepted`` and ``rejected`` are its counts. ``code`` is the cause's
    when the cause is a cxm.Error."""

    def __init__(self, message="", report=None, index=0):
        super().__init__(message)
        self.report = report if report is not None else FeedReport(0, 0, [])
        self.index = index

    @property
    def accepted(self) -> int:
        return self.report.accepted

    @property
    def rejected(self) -> int:
        return self.report.rejected


def _bulk_error(cause, report, index, what, unit="row"):
    """What a bulk feed stopped by ``cause`` at ``index`` raises: a
    BulkFeedError from cause, with the report of the rows before index. A
    BaseException that is not an Exception (KeyboardInterrupt, SystemExit)
    is not wrapped, so that ``except Exception`` still lets it through: it
    carries ``report`` and ``index`` itself (and, from Python 3.11, a note)."""
    text = (f"{report.accepted} accepted and {report.rejected} rejected before {unit} "
            f"{index}; none from {unit} {index} on was fed")
    if not isinstance(cause, Exception):
        try:
            cause.report, cause.index = report, index
            if hasattr(cause, "add_note"):
                cause.add_note(f"cxm {what}: {text}")
        except (AttributeError, TypeError):
            pass
        return cause
    err = BulkFeedError(f"{what} stopped at {unit} {index} by {type(cause).__name__}: {cause}; "
                        f"{text}", report, index)
    err.__cause__ = cause
    err.code, err.status = ((cause.code, getattr(cause, "status", None))
                            if isinstance(cause, Error) else (None, None))
    return err


def _bulk_failure(cause, accepted, rejected, rejections, index, what):
    """The extension's hook: a bulk feed in C stopped at index."""
    return _bulk_error(cause, _report((accepted, rejected, rejections)), index, what)


_cxm._set_bulk(_bulk_failure)


_CODES = {("i", 1): "b", ("u", 1): "B", ("b", 1): "?", ("i", 2): "h", ("u", 2): "H",
          ("i", 4): "i", ("u", 4): "I", ("i", 8): "q", ("u", 8): "Q", ("f", 4): "f",
          ("f", 8): "d"}
_TIME_UNITS = {"ms": (1, 1), "s": (1000, 1), "us": (1, 1000), "ns": (1, 1_000_000),
               "m": (60_000, 1), "h": (3_600_000, 1), "D": (86_400_000, 1)}


class Layout:
    """How to read one fixed-size record of a buffer for ``feed_buffer``.

    Each field is ``(offset, code)`` with a struct-module code: b B h H i I
    q Q (integers), f d (floats), ? (bool); a customer may also be
    ``(offset, "16s")``: fixed bytes, trailing NULs stripped. Records are
    little-endian (native) and packed as the offsets say.

    - time: integer, in ``time_unit`` ("ms", "s", "us" or "ns") since the epoch
    - touchpoint: integer id
    - customer: integer (fed as its 8 little-endian bytes, like an int
      customer given to ``feed``) or fixed bytes; optional
    - segments: ``{segment id: (offset, code)}``, value ids; -1 or
      0xFFFFFFFF for "no value"
    - measures: ``{metric id or (metric id, question): (offset, code)}``;
      a NaN in a float field means "not measured"

    ``Layout.from_dtype(ctx, dtype)`` builds one from a numpy structured
    dtype by field names.
    """

    def __init__(self, record_size, *, time, touchpoint, customer=None, segments=None,
                 measures=None, time_unit="ms"):
        if time_unit not in _TIME_UNITS:
            raise ValueError(f"time_unit must be one of {', '.join(_TIME_UNITS)}")
        mul, div = _TIME_UNITS[time_unit]
        cust, cust_size = None, 0
        if customer is not None:
            off, code = customer
            if isinstance(code, str) and code.endswith("s"):
                try:
                    cust_size = int(code[:-1] or 1)
                except ValueError:
                    raise ValueError(f"customer: {code!r} is not a bytes code such as '16s'") from None
                cust = (_index(off, "customer offset"), "s")
            else:
                cust = (_index(off, "customer offset"), code)
        segs = tuple((_index(d, "segment"), 0, _index(o, "segment offset"), c)
                     for d, (o, c) in (segments or {}).items())
        meas = []
        for key, (o, c) in (measures or {}).items():
            metric, item = key if isinstance(key, tuple) else (key, 0)
            meas.append((_index(metric, "metric"), _index(item, "question"),
                         _index(o, "measure offset"), c))
        self.record_size = _index(record_size, "record_size")
        # offsets and sizes are checked against the record by the extension
        self._t = (self.record_size, (_index(time[0], "time offset"), time[1]), mul, div,
                   (_index(touchpoint[0], "touchpoint offset"), touchpoint[1]), cust, cust_size,
                   segs, tuple(meas))

    @classmethod
    def from_dtype(cls, ctx, dtype, *, time="time", touchpoint="touchpoint",
                   customer="customer", segments=None, measures=None, ignore=()):
        """Map a numpy structured dtype's fields: ``time``, ``touchpoint`` and
        ``customer`` by those names (or the names given), every other field
        to the metric or segment of the same name of ``ctx``, unless
        ``measures={field: metric or (metric, question)}`` or
        ``segments={field: segment}`` say otherwise. A field that maps to
        nothing is an error unless listed in ``ignore``."""
        if dtype.names is None:
            raise TypeError("feed_buffer needs a structured dtype (named fields)")
        if isinstance(ignore, (str, bytes)):
            raise TypeError("ignore must be a list of field names, not a string")
        measures = dict(measures or {})
        segments = dict(segments or {})
        f_time = f_tp = f_cust = None
        f_segs, f_meas = {}, {}
        for name in dtype.names:
            fdt, off = dtype.fields[name][:2]
            if fdt.subdtype is not None or fdt.names is not None:
                raise TypeError(f"field {name!r}: nested and array fields are not supported")
            if fdt.byteorder == ">":
                raise TypeError(f"field {name!r} is big-endian; use astype('<...')")
            if name == time:
                if fdt.kind == "M":
                    unit = fdt.str.split("[")[-1].rstrip("]")
                    if unit not in _TIME_UNITS:
                        raise TypeError(f"time field unit {unit!r} is not supported")
                    f_time = (off, "q", unit)
                elif fdt.kind in "iu":
                    f_time = (off, _CODES[fdt.kind, fdt.itemsize], "ms")
                else:
                    raise TypeError(f"time field {name!r} must be an int of ms or datetime64")
            elif name == touchpoint:
                f_tp = (off, _code(name, fdt, "iu"))
            elif name == customer:
                f_cust = (off, f"{fdt.itemsize}s") if fdt.kind == "S" else (off, _code(name, fdt, "iu"))
            elif name in measures:
                f_meas[_metric_key(ctx, measures.pop(name))] = (off, _code(name, fdt, "iufb"))
            elif name in segments:
                f_segs[_id_of(ctx.segments, segments.pop(name))] = (off, _code(name, fdt, "iu"))
            elif name in ignore:
                continue
            elif ctx.metrics.get(name) is not None:
                f_meas[int(ctx.metrics[name])] = (off, _code(name, fdt, "iufb"))
            elif ctx.segments.get(name) is not None:
                f_segs[int(ctx.segments[name])] = (off, _code(name, fdt, "iu"))
            else:
                raise ValueError(f"field {name!r} is no metric or segment of the context; "
                                 f"map it with measures=/segments= or list it in ignore=")
        if f_time is None or f_tp is None:
            raise ValueError(f"the dtype needs a {time!r} and a {touchpoint!r} field")
        if measures or segments:
            raise ValueError(f"no such fields: {', '.join(list(measures) + list(segments))}")
        return cls(dtype.itemsize, time=f_time[:2], time_unit=f_time[2], touchpoint=f_tp,
                   customer=f_cust, segments=f_segs, measures=f_meas)

    def __repr__(self):
        return f"<cxm.Layout {self._t!r}>"


def _code(name, fdt, kinds):
    key = (fdt.kind, fdt.itemsize)
    if fdt.kind not in kinds or key not in _CODES:
        raise TypeError(f"field {name!r}: dtype {fdt} is not supported here")
    return _CODES[key]


def _id_of(defs, key):
    return int(defs[key]) if isinstance(key, str) else _index(key, "an id")


def _metric_key(ctx, key):
    if isinstance(key, tuple):
        return (_id_of(ctx.metrics, key[0]), _index(key[1], "question"))
    return _id_of(ctx.metrics, key)


_RECORD_CHUNK = 65536


# ---- the context ------------------------------------------------------------

class Context(_cxm.Context):
    """One tenant's definitions and aggregates (cxm_context). Use it as a
    context manager, or call close(). Safe to share between threads.

    Configuration, every key optional (absent or None: libcxm's default; a
    0, which libcxm would replace by its default, is refused):
    tiers=[("1m", 120), ("1h", 192), ("1d", 400)] (bucket width, count);
    shards, max_future ("5m", a timedelta or ms), max_journeys, max_steps,
    max_touchpoints, max_metrics, max_segments, max_segment_values,
    max_name_len, max_customer_id_len, max_measures, min_samples,
    max_series, confidence (0.95), customer_key (16 bytes), max_customers,
    customer_policy ("evict" or "refuse"), max_triggers (256),
    event_queue (4096 events, rounded up to a power of two), clock (a
    callable returning now as ms or an aware datetime; the default is the
    system clock).
    """

    def __init__(self, **config):
        conv = {}
        for key, value in config.items():
            if value is None:
                key = "max_future_ms" if key == "max_future" else key
                conv[key] = None  # like leaving it out: libcxm's default
                continue
            if key == "tiers":
                if isinstance(value, (str, bytes)):
                    raise TypeError("tiers is a sequence of (bucket width, count) pairs, "
                                    "not a string")
                value = tuple((span_ms(w), n) for w, n in value)
            elif key in ("max_future", "max_future_ms"):
                key, value = "max_future_ms", span_ms(value)
            elif key == "customer_policy":
                value = _enum(CustomerPolicy, value)
            elif key == "customer_key":
                value = bytes(value)
            elif key == "clock" and value is not None:
                value = _clock(value)
            conv[key] = value
        super().__init__(**conv)

    def __repr__(self):
        if self.closed:
            return "<cxm.Context closed>"
        return (f"<cxm.Context journeys={len(self.journeys)} touchpoints={len(self.touchpoints)} "
                f"metrics={len(self.metrics)} segments={len(self.segments)}>")

    # -- definitions --

    def journey(self, name: str, steps: Iterable[str]) -> Journey:
        """Define a journey with its ordered steps (cxm_journey_define).
        steps is a sequence of names: a str is refused (TypeError), since
        "abc" would be the steps a, b and c."""
        if isinstance(steps, (str, bytes)):
            raise TypeError("steps must be a sequence of step names, not a string")
        steps = tuple(steps)
        return Journey(self._journey_define(name, steps), name, steps=steps)

    def touchpoint(self, name: str, channel=Channel.OTHER, journey=None, step=None) -> Touchpoint:
        """Define a touchpoint (cxm_touchpoint_define): a channel (a Channel,
        or a name such as "phone"), and optionally a journey (id or name)
        and one of its steps (id or name)."""
        ch = _enum(Channel, channel)
        j = None if journey is None else _id_of(self.journeys, journey)
        s = step
        if isinstance(step, str):
            s = self._step_find(j, step) if j is not None else None
        s = None if s is None else _index(s, "step")
        id = self._touchpoint_define(name, ch, j, s if j is not None else None)
        return Touchpoint(id, name, channel=_channel(ch), journey=j, step=s if j is not None else None)

    def metric(self, name: str, definition=None) -> Metric:
        """Define a metric (cxm_metric_define) from a preset name ("nps",
        "csat", "ces", "cxi", "duration", "rate", "amount", "volume",
        "distinct"…), a Preset or a MetricDef. Without one, the name is
        the preset's: ``ctx.metric("nps")``."""
        d = name if definition is None else definition
        spec = d._asdict() if isinstance(d, MetricDef) else int(_enum(Preset, d))
        id = self._metric_define(name, spec)
        return Metric(id, name, kind=Kind(self._metric_get(id)["kind"]))

    def segment(self, name: str, max_values: int) -> Segment:
        """Define a segment dimension with at most max_values values (cxm_segment_define)."""
        return Segment(self._segment_define(name, max_values), name)

    def segment_value(self, segment, value: str, *, add: bool = True) -> SegmentValue:
        """The id of a value of a dimension, added if new unless add=False
        (cxm_segment_value / cxm_segment_value_find)."""
        seg = _id_of(self.segments, segment)
        return SegmentValue(self._segment_value(seg, value, _flag(add, "add")), value, segment=seg)

    def segment_values(self, segment) -> Tuple[SegmentValue, ...]:
        """Every value of a dimension so far, in id order."""
        seg = _id_of(self.segments, segment)
        return tuple(SegmentValue(v, self._segment_value_name(seg, v), segment=seg)
                     for v in range(self._segment_values(seg)))

    def metric_def(self, metric) -> MetricDef:
        """A metric's definition (cxm_metric_get)."""
        return MetricDef(**self._metric_get(_id_of(self.metrics, metric)))

    @property
    def journeys(self) -> Definitions:
        return Definitions(self, _OBJ_JOURNEY)

    @property
    def touchpoints(self) -> Definitions:
        return Definitions(self, _OBJ_TOUCHPOINT)

    @property
    def metrics(self) -> Definitions:
        return Definitions(self, _OBJ_METRIC)

    @property
    def segments(self) -> Definitions:
        return Definitions(self, _OBJ_SEGMENT)

    def _object(self, kind, id, name):
        if kind == _OBJ_JOURNEY:
            steps = tuple(self._step_name(id, s) for s in range(self._journey_steps(id)))
            return Journey(id, name, steps=steps)
        if kind == _OBJ_TOUCHPOINT:
            ch, j, s = self._touchpoint_get(id)
            return Touchpoint(id, name, channel=_channel(ch), journey=j, step=s)
        if kind == _OBJ_METRIC:
            return Metric(id, name, kind=Kind(self._metric_get(id)["kind"]))
        return Segment(id, name)

    # -- feeding --
    # feed(time, touchpoint, measures=None, customer=None, segments=None)
    # is the extension's own method: one call, no Python in between.

    def feed_many(self, rows: Iterable[Any], *, start: int = 0) -> FeedReport:
        """Feed rows in batches of 1024 (cxm_feed_batch, the GIL released).

        A row is a tuple ``(time, touchpoint[, measures[, customer[,
        segments]]])`` or a dict with those keys. Returns a FeedReport; rows
        are never dropped silently: each rejected one is listed with its
        index (counted from ``start``) and reason. If anything stops the
        feed before the end (the iterable raises, a value's __float__
        raises something other than TypeError/ValueError, the clock
        fails...), every row before the failing one is fed and a
        BulkFeedError from that exception says how many were accepted
        (``e.report``) and from which row on nothing was fed (``e.index``)."""
        return _report(self._feed_many(rows, start))

    def feed_buffer(self, data, layout: Optional[Layout] = None, **mapping) -> FeedReport:
        """Feed fixed-size records from a numpy structured array (fields
        mapped by name, see Layout.from_dtype; ``mapping`` goes to it) or
        from bytes / a memoryview with an explicit Layout. The loop runs in
        C without the GIL; a record's index is its position in ``data``."""
        if layout is None:
            dtype = getattr(data, "dtype", None)
            if dtype is None:
                raise TypeError("feed_buffer needs a numpy structured array, or layout=")
            layout = Layout.from_dtype(self, dtype, **mapping)
        elif mapping:
            raise TypeError("give either layout= or field mappings, not both")
        if hasattr(data, "dtype"):
            import numpy  # only reached with a numpy array

            data = numpy.ascontiguousarray(data).reshape(-1).view(numpy.uint8)
        if _cxm.HAS_BUFFER or isinstance(data, bytes):
            return _report(self._feed_records(data, layout._t))
        # before 3.11 the stable ABI has no buffer protocol: copy in chunks
        view = memoryview(data).cast("B")
        rs = layout.record_size
        if len(view) % rs:
            raise ValueError(f"the buffer's {len(view)} bytes are not a whole number of "
                             f"{rs}-byte records")
        acc = rej = first = 0
        lst: List[Rejection] = []
        try:
            for first in range(0, len(view) // rs, _RECORD_CHUNK):
                chunk = bytes(view[first * rs:(first + _RECORD_CHUNK) * rs])
                r = _report(self._feed_records(chunk, layout._t, first))
                acc += r.accepted
                rej += r.rejected
                lst.extend(r.rejections)
        except BulkFeedError as e:  # a chunk stopped: the report covers every chunk before
            rep = FeedReport(acc + e.accepted, rej + e.rejected, lst + e.report.rejections)
            raise _bulk_error(e.__cause__, rep, e.index, "feed_buffer") from e.__cause__
        except BaseException as e:  # between chunks (a copy ran out of memory, ^C)
            err = _bulk_error(e, FeedReport(acc, rej, lst), first, "feed_buffer")
            if err is e:
                raise
            raise err from e
        return FeedReport(acc, rej, lst)

    # -- queries --

    def make_query(self, metric, window, *, end=None, touchpoint=None, journey=None,
                   step=None, channel=None, segment=None) -> Query:
        """A Query, taking names as well as ids: ``ctx.make_query("nps",
        "7d", touchpoint="ivr", segment=("tier", "gold"))``."""
        m = _id_of(self.metrics, metric)
        touchpoint, journey, step, segment = self._where(touchpoint, journey, step, segment)
        return Query(m, window, end=end, touchpoint=touchpoint, journey=journey, step=step,
                     channel=channel, segment=segment)

    def _where(self, touchpoint, journey, step, segment):
        """Names of a scope and segment filter as ids (make_query, trigger)."""
        if touchpoint is not None:
            touchpoint = _id_of(self.touchpoints, touchpoint)
        if journey is not None:
            journey = _id_of(self.journeys, journey)
            if isinstance(step, str):
                step = self._step_find(journey, step)
        if segment is not None and not isinstance(segment, SegmentValue):
            if isinstance(segment, (str, bytes)):  # "ab" would be the pair ("a", "b")
                raise TypeError("segment must be a SegmentValue or a (segment, value) pair, "
                                "not a string")
            seg, val = segment
            seg = _id_of(self.segments, seg)
            if isinstance(val, str):
                val = self._segment_value(seg, val, False)
            segment = (seg, val)
        return touchpoint, journey, step, segment

    def query(self, metric, window=None, *, end=None, touchpoint=None, journey=None,
              step=None, channel=None, segment=None, calendar=None, tz="UTC") -> Result:
        """Run one query (cxm_query_run): ``ctx.query(nps, "24h",
        touchpoint=agent)``. Names work as in make_query. end is an instant,
        None (the context clock's now) or "watermark" (cxm.WATERMARK: the
        window ends with the newest interaction accepted, for history fed
        in bulk; the clock's now until anything is). To run the same
        query often, build it once with make_query() or Query and use run().

        With ``calendar=`` ("day", "week", "month", "quarter", "year" or a
        Calendar) the window is instead the calendar bucket in time zone
        ``tz`` (an IANA name) that holds ``end`` (cxm_query_calendar):
        ``ctx.query(nps, calendar="month", tz="America/New_York",
        end="2026-01-15")``; no window is given. A result whose interval is
        not the bucket's (the tiers hold its edges only in UTC days) has
        ``inexact`` set and says what it covered."""
        if calendar is not None:
            if window is not None:
                raise TypeError("give a window or calendar=, not both")
            q = self.make_query(metric, 1, end=end, touchpoint=touchpoint, journey=journey,
                                step=step, channel=channel, segment=segment)
            return self._query_calendar(q, tz, _enum(Calendar, calendar))
        if window is None:
            raise TypeError("query() needs a window, or calendar=")
        return self.run(self.make_query(metric, window, end=end, touchpoint=touchpoint,
                                        journey=journey, step=step, channel=channel,
                                        segment=segment))

    def calendar_bucket(self, calendar, tz="UTC", at=None) -> Tuple[int, int]:
        """The calendar bucket of ``calendar`` in time zone ``tz`` that
        holds ``at`` (an instant, None for now, or "watermark"), as
        (start_ms, end_ms) (cxm_calendar_bucket)."""
        return self._calendar_bucket(tz, _enum(Calendar, calendar), at)

    def _as_query(self, q, window, scope) -> Query:
        if isinstance(q, _cxm.Query):
            if window is not None or scope:
                raise TypeError("give a Query, or a metric with its window and scope")
            return q
        if window is None:
            raise TypeError("a window is needed with a metric")
        return self.make_query(q, window, **scope)

    def quantiles(self, query, qs: Iterable[float], window=None, **scope) -> Tuple[float, ...]:
        """Quantiles of a DURATION metric (cxm_query_quantiles): a Query, or
        a metric with window and scope as in query()."""
        return self._quantiles(self._as_query(query, window, scope), tuple(qs))

    def distribution(self, query, window=None, *, item: int = 0, **scope) -> Dict[int, int]:
        """Counts per answer point of a SCORE or INDEX metric
        (cxm_query_distribution), as {point: count}."""
        q = self._as_query(query, window, scope)
        counts = self._distribution(q, item)
        low = self._metric_get(q.metric)["scale_min"]
        return {low + i: c for i, c in enumerate(counts)}

    def query_by(self, metric, window, by, *, end=None, touchpoint=None, journey=None,
                 step=None, channel=None, segment=None, dim=None) -> List[Any]:
        """One query broken down, in one call (cxm_query_group, the GIL
        released): a row per touchpoint of the scope, per value of the
        segment dimension ``dim``, per step of the journey (a query with
        ``journey=`` and no step) or per channel that has a touchpoint (a
        query of everything); every group, data or not, in id order. by
        is "touchpoint", "segment", "step", "channel" or a GroupBy; the
        rest is as in query(). A row is a namedtuple: the group's name and
        id, then the fields of the Result ``query()`` gives for that group
        (TouchpointRow, SegmentRow, StepRow, ChannelRow), so that
        ``pandas.DataFrame(rows)`` (or ``cxm.to_pandas(rows)``) has a
        column per field."""
        g = _enum(GroupBy, by)
        if g == GroupBy.SEGMENT:
            if dim is None:
                raise TypeError("a breakdown by segment needs dim=, the segment dimension")
            dim = _id_of(self.segments, dim)
        elif dim is not None:
            raise TypeError("dim= is for a breakdown by segment only")
        q = self.make_query(metric, window, end=end, touchpoint=touchpoint, journey=journey,
                            step=step, channel=channel, segment=segment)
        raw = self._query_group(q, int(g), dim)
        if g == GroupBy.TOUCHPOINT:
            name = lambda k: self._name(_OBJ_TOUCHPOINT, k)  # noqa: E731
        elif g == GroupBy.SEGMENT:
            name = lambda k: self._segment_value_name(dim, k)  # noqa: E731
        elif g == GroupBy.STEP:
            name = lambda k: self._step_name(q.id, k)  # noqa: E731
        else:
            name = _channel_name
        make = _GROUP_ROWS[g]._make
        return [make((name(t[0]),) + t) for t in raw]

    def query_series(self, metric, window, every=None, *, end=None, touchpoint=None,
                     journey=None, step=None, channel=None, segment=None, calendar=None,
                     tz="UTC") -> List[SeriesRow]:
        """One query as a time series (cxm_query_series, the GIL
        released): the window cut into consecutive windows of ``every``
        ("1h", a timedelta or ms: a multiple of the finest bucket, at most
        the window), oldest first, the last ending where the window ends;
        the first reaches back before it when the window is not a multiple
        of ``every``. Each is a SeriesRow: the fields of the Result
        ``query()`` gives for it, start_ms/end_ms the window it covers.
        The rest is as in query() (``step=`` is the journey's step).

        With ``calendar=`` instead of ``every``, one row per calendar
        bucket in time zone ``tz``, from the bucket holding the window's
        start to the one holding its end (cxm_query_calendar_series):
        ``ctx.query_series(nps, "365d", calendar="month",
        tz="Europe/Berlin")``; a row's ``inexact`` says its interval is not
        the bucket's."""
        q = self.make_query(metric, window, end=end, touchpoint=touchpoint, journey=journey,
                            step=step, channel=channel, segment=segment)
        make = SeriesRow._make
        if (every is None) == (calendar is None):
            raise TypeError("give every= or calendar=, one of them")
        if calendar is not None:
            return [make(t) for t in self._query_calendar_series(q, tz, _enum(Calendar, calendar))]
        return [make(t) for t in self._query_series(q, every)]

    def baseline(self, name, *, offset=None, period=None, target=None, metric=None) -> int:
        """Define a named baseline (cxm_baseline_define) and return its id:
        exactly one of ``offset="7d"`` (the same window that much earlier:
        "vs last week"), ``period=(start, end)`` (a fixed period, instants:
        "vs Q3") or ``target=40`` with ``metric=`` (a value of that metric's
        headline: "vs the benchmark"). Baselines are kept in snapshots."""
        given = [k for k, v in (("offset", offset), ("period", period), ("target", target))
                 if v is not None]
        if len(given) != 1:
            raise TypeError("give one of offset=, period= or target=")
        if (metric is not None) != (target is not None):
            raise TypeError("metric= goes with target=, and only with it")
        if offset is not None:
            return self._baseline_define(name, BaselineKind.OFFSET, 0, span_ms(offset), 0, 0, 0.0)
        if period is not None:
            start, end = period
            return self._baseline_define(name, BaselineKind.PERIOD, 0, 0, time_ms(start),
                                         time_ms(end), 0.0)
        return self._baseline_define(name, BaselineKind.TARGET, int(_metric_key(self, metric)),
                                     0, 0, 0, float(target))

    def baseline_def(self, baseline) -> Baseline:
        """A baseline by name or id (cxm_baseline_find, cxm_baseline_get)."""
        t = self._baseline_get(baseline)
        return Baseline(t[0], t[1], BaselineKind(t[2]), *t[3:])

    def compare_baseline(self, metric, window, baseline, *, end=None, touchpoint=None,
                         journey=None, step=None, channel=None, segment=None) -> Comparison:
        """A query against a named baseline (cxm_query_baseline): ``a`` is
        the baseline, ``b`` the window, ``difference`` b - a with its
        interval and p-value. ``baseline`` is a name or an id; the rest is
        as in query()."""
        q = self.make_query(metric, window, end=end, touchpoint=touchpoint, journey=journey,
                            step=step, channel=channel, segment=segment)
        bid = baseline if not isinstance(baseline, str) else self._baseline_get(baseline)[0]
        return self._query_baseline(q, bid)

    def drivers(self, name, *, outcome, driver, touchpoints=None, journey=None,
                overall=False, window=None) -> int:
        """Define a key-driver set (cxm_drivers_define) and return its id.
        From then on each customer's latest ``driver`` answer (a SCORE,
        RATE or SENTIMENT metric) at each of ``touchpoints`` (names or ids),
        or at each step's touchpoint of ``journey`` when no touchpoints are
        given, pairs with the ``outcome`` (SCORE, RATE, AMOUNT, DURATION or
        SENTIMENT) the same customer has at most ``window`` later ("7d", a
        timedelta or ms; None or 0: 30 days). ``overall=True`` adds the
        overall driver, the latest answer at any touchpoint ("revenue by
        NPS band"). Metrics and the journey are names or ids. Driver sets
        are kept in snapshots; ``key_drivers()`` reads one."""
        if isinstance(touchpoints, (str, bytes)):
            raise TypeError("touchpoints must be a sequence of touchpoints, not a string")
        tps = () if touchpoints is None else tuple(_id_of(self.touchpoints, t) for t in touchpoints)
        j = None if journey is None else _id_of(self.journeys, journey)
        flags = _cxm.DRIVERS_OVERALL if _flag(overall, "overall") else 0
        return self._drivers_define(name, _id_of(self.metrics, outcome),
                                    _id_of(self.metrics, driver), j, tps,
                                    0 if window is None else span_ms(window), flags)

    def drivers_find(self, name: str) -> int:
        """A driver set's id by name (cxm_drivers_find)."""
        return self._drivers_find(name)

    def drivers_def(self, set) -> DriversDef:
        """A driver set's definition, by name or id (cxm_drivers_get)."""
        t = self._drivers_get(set)
        return DriversDef(*t[:6], bool(t[6] & _cxm.DRIVERS_OVERALL), t[7])

    def key_drivers(self, set) -> DriversResult:
        """The key-driver analysis of a driver set, a name or an id
        (cxm_drivers_run, the GIL released): per driver its importance
        for the outcome, interval, significance, performance, Quadrant
        and the outcome by experience band. Statistics cover every pair
        since the definition."""
        t = self._drivers_run(set)
        drivers = []
        for d in t[6]:
            tp = d[0]
            drivers.append(Driver(tp, None if tp is None else self._name(_OBJ_TOUCHPOINT, tp),
                                  *d[1:6], d[6], _quadrant(d[7]), d[8], d[9],
                                  tuple(Band(*b) for b in d[10]), *d[11:]))
        return DriversResult(*t[:6], drivers)

    def trend(self, metric, window, every, horizon=0, *, end=None, touchpoint=None,
              journey=None, step=None, channel=None, segment=None) -> Trend:
        """The trend of a query over consecutive windows of ``every`` and
        Holt's forecast of the next ``horizon`` (cxm_query_trend, the GIL
        released; at most 64). The windows are those of query_series();
        the rest is as in query()."""
        q = self.make_query(metric, window, end=end, touchpoint=touchpoint, journey=journey,
                            step=step, channel=channel, segment=segment)
        *head, fc = self._query_trend(q, every, horizon)
        return Trend(*head, [Forecast(*f) for f in fc])

    # compare(a, b) and run(q) are the extension's own methods.

    # -- customers --

    def last_seen(self, customer):
        """When a customer was last seen, as an aware datetime (cxm_customer_last_seen)."""
        return from_ms(self._last_seen(customer))

    def last_seen_ms(self, customer) -> int:
        """The same in ms since the epoch."""
        return self._last_seen(customer)

    def forget(self, customer) -> None:
        """Erase a customer (cxm_customer_forget): right to erasure."""
        self._forget(customer)

    # churn(customer, time) is the extension's own method (cxm_customer_churn).

    # -- journeys, funnels, churn --

    def set_journey_options(self, journey, options: Optional[JourneyOptions] = None,
                            **kw) -> None:
        """Set how a journey's progress is judged from now on
        (cxm_journey_set_options): a JourneyOptions, or its fields as
        keywords (``strict=True, conversion="2d"``); what is not given is
        the default."""
        if options is None:
            options = JourneyOptions(**kw)
        elif kw:
            options = options.replace(**kw)
        self._journey_set_options(journey, *options._args())

    def journey_options(self, journey) -> JourneyOptions:
        """The options a journey is judged by, defaults filled in
        (cxm_journey_get_options)."""
        return JourneyOptions._from_tuple(self._journey_get_options(journey))

    def _funnel_args(self, journey, window, end, segment, channel):
        seg, val = None, 0
        if segment is not None:
            if isinstance(segment, SegmentValue):
                seg, val = segment.segment, int(segment)
            else:
                seg, val = segment
                seg = _id_of(self.segments, seg)
                if isinstance(val, str):
                    val = self._segment_value(seg, val, False)
        ch = 0  # no breakdown by channel
        if channel is not None:
            ch = int(_enum(Channel, channel))
            if ch == 0:  # libcxm reads 0 as "no channel": refuse it rather than drop the filter
                _cxm._raise_status(Status.INVALID, "channel 0 is not a channel; None means no "
                                   "breakdown")
        return (journey, window, end, seg, val, ch)

    def funnel(self, journey, window, *, end=None, segment=None, channel=None,
               cohort=False) -> Funnel:
        """A journey's funnel over a window (cxm_funnel_run): entered,
        completed, conversion, abandoned... and ``.steps``, one FunnelStep
        per step. Break it down by one segment value (a SegmentValue or
        (segment, value), names allowed) or by the channel the instances
        began on, not both. end is as in query() ("watermark" included).

        With ``cohort=True``, the entry-cohort funnel instead
        (cxm_funnel_cohort_run): what the instances that *began* in the
        window, widened to whole UTC hours, did, whenever they did it.
        Counts and means are exact; the quantiles (goal_p50, next_p90...)
        are NaN; start/end are the cohort hours covered. For a calendar
        bucket, pass its edges: ``s, e = ctx.calendar_bucket("month", tz);
        ctx.funnel(j, e - s, end=e - 1, cohort=True)``.
        The GIL is released."""
        return self._funnel(*self._funnel_args(journey, window, end, segment, channel),
                            _flag(cohort, "cohort"))

    def funnel_quantiles(self, journey, window, qs: Iterable[float], *, step=None, end=None,
                         segment=None, channel=None) -> Tuple[float, ...]:
        """Quantiles, in seconds, of the time from a step (id or name) to
        the next one reached, or with step=None of the time from entry to
        the goal (cxm_funnel_quantiles)."""
        args = self._funnel_args(journey, window, end, segment, channel)
        if isinstance(step, str):
            j = journey if not isinstance(journey, str) else self.journeys[journey]
            step = self._step_find(int(j), step)
        return self._funnel_quantiles(*args, step, tuple(qs))

    def sweep(self, now=None) -> int:
        """End and count the journey instances whose abandonment timeout or
        conversion window has passed at ``now`` (None: the context clock);
        returns how many (cxm_journey_sweep)."""
        return self._sweep(now)

    def churn_rate(self, distinct, window, *, active, end=None) -> Churn:
        """Churn events in the window over the customers active in
        ``active`` before it, counted by a DISTINCT metric (cxm_churn_rate).
        end is as in query() ("watermark" included)."""
        return self._churn_rate(distinct, end, window, active)

    # -- snapshots and merge --

    def save(self, path) -> None:
        """Save a snapshot to a file, atomically (cxm_snapshot_save)."""
        self._save(os.fspath(path))

    # snapshot() -> bytes is the extension's own method (cxm_snapshot_write).

    def load(self, source) -> None:
        """Load a snapshot into this empty context: a path, or the bytes
        ``snapshot()`` gave (cxm_snapshot_load / _load_mem). Nothing else
        may run on the context meanwhile; other threads' calls raise."""
        if isinstance(source, (bytes, bytearray, memoryview)):
            self._load(source, False)
        else:
            self._load(os.fspath(source), True)

    @classmethod
    def from_snapshot(cls, source, **config) -> "Context":
        """A new context (with ``config``: the saver's tiers and
        customer_key) loaded from a snapshot path or bytes."""
        ctx = cls(**config)
        try:
            ctx.load(source)
        except BaseException:
            ctx.close()
            raise
        return ctx

    def merge(self, source) -> None:
        """Add another context, a snapshot file or snapshot bytes into this
        one (cxm_merge / cxm_snapshot_merge / _merge_mem): every query then
        answers as if this context had been fed both."""
        if isinstance(source, _cxm.Context):
            self._merge(source, 0)
        elif isinstance(source, (bytes, bytearray, memoryview)):
            self._merge(source, 2)
        else:
            self._merge(os.fspath(source), 1)

    # -- triggers and events --

    def trigger(self, metric, op, threshold, *, item: int = 0, touchpoint=None, journey=None,
                step=None, channel=None, segment=None) -> int:
        """Define a trigger (cxm_trigger_define) and return its id: every
        accepted interaction with a measure of ``metric`` (question
        ``item`` of a CX index) whose value compares with ``threshold`` as
        ``op`` says ("<", "<=", ">", ">=", "==", "!=", or a Cmp) puts an
        Event on the queue, taken off with ``poll_events()``. Scope and
        segment filter are given as to make_query(), names or ids:
        ``ctx.trigger("nps", "<=", 6, touchpoint="agent call",
        segment=("tier", "gold"))``."""
        m = _id_of(self.metrics, metric)
        touchpoint, journey, step, segment = self._where(touchpoint, journey, step, segment)
        scope, id, st = _scope(touchpoint, journey, step, channel)
        seg, val = _segment_pair(segment)
        return self._trigger_define(m, item, int(_cmp(op)), threshold, int(scope), id, st, seg, val)

    def trigger_enable(self, rule: int, on: bool = True) -> None:
        """Switch a trigger on or off (cxm_trigger_enable); a trigger is on when defined."""
        self._trigger_enable(rule, _flag(on, "on"))

    def trigger_def(self, rule: int) -> TriggerDef:
        """A trigger's rule, and whether it is on (cxm_trigger_get)."""
        metric, item, op, threshold, scope, id, step, seg, val, on = self._trigger_get(rule)
        return TriggerDef(metric, item, Cmp(op), threshold, Scope(scope), id, step, seg, val, on)

    # poll_events(max_events=1024) and customer_hash(customer) are the
    # extension's own methods (cxm_events_poll, cxm_customer_hash).

    # -- the survey governor --

    def survey(self, name: str, *, min_since_invite=None, min_since_response=None,
               max_invites: Optional[int] = None, window=None, sample_rate: Optional[float] = None,
               touchpoint=None, journey=None, step=None, channel=None) -> Survey:
        """Define a survey of the governor (cxm_survey_define) and return
        it (an int id, 0, 1, … in definition order, with its name):
        not again within ``min_since_invite`` of inviting a customer, nor
        ``min_since_response`` of their answer; at most ``max_invites``
        invitations within ``window``; a share ``sample_rate`` of customers
        (None: everyone); asked at the moments of a scope given as to
        make_query() (names or ids; none: every touchpoint). Durations are
        timedeltas, "7d" or ms; None: no such rule."""
        touchpoint, journey, step, _ = self._where(touchpoint, journey, step, None)
        scope, id, st = _scope(touchpoint, journey, step, channel)
        inv = _gov_span(min_since_invite, "min_since_invite")
        resp = _gov_span(min_since_response, "min_since_response")
        cap, win = _gov_cap(max_invites, window)
        rate = 0.0  # libcxm's "everyone"
        if sample_rate is not None:
            if isinstance(sample_rate, bool):
                raise TypeError("sample_rate must be a number, not bool")
            if sample_rate == 0:
                _cxm._raise_status(Status.OUT_OF_RANGE, "sample_rate=0 would mean everyone to "
                                   "libcxm: give a share in (0, 1], or None for everyone")
            rate = sample_rate
        id = self._survey_define(name, inv, resp, cap, win, rate, int(scope), id, st)
        return Survey(id, name)

    def _survey_id(self, survey):
        """A survey's id from its name; anything else goes to the extension
        as it is, which takes an int (a Survey is one) and refuses the rest."""
        if isinstance(survey, str):
            return self._survey_find(survey)
        return survey

    def set_governor(self, *, min_since_invite=None, min_since_response=None,
                     max_invites: Optional[int] = None, window=None) -> None:
        """Set the rules across every survey (cxm_governor_set), replacing
        the previous ones: what is not given is no rule, so
        ``set_governor()`` removes them all. They apply to the history
        recorded before too, as far as libcxm still keeps it."""
        cap, win = _gov_cap(max_invites, window)
        self._governor_set(_gov_span(min_since_invite, "min_since_invite"),
                           _gov_span(min_since_response, "min_since_response"), cap, win)

    def should_ask(self, survey, customer, touchpoint, time) -> Ask:
        """Whether to invite a customer to a survey now
        (cxm_survey_should_ask), at a moment on a touchpoint: an Ask, true
        when it is yes; else its reason says which rule said no and, for a
        cool-down or a cap, its until when that rule stops. Changes
        nothing: record what was done with record_invite()."""
        code, until = self._should_ask(self._survey_id(survey), customer, touchpoint, time)
        if until == -1:
            a = _ASK_NO_END.get(code)  # (an Ask of a skip is false: no "or" here)
            if a is not None:
                return a
            until = None
        return Ask(code == AskReason.ASK, _ask_reason(code), until)

    def record_invite(self, survey, customer, time) -> None:
        """Record that a survey invited a customer at time (cxm_survey_record)."""
        self._survey_record(self._survey_id(survey), customer, _cxm.SURVEY_INVITED, time)

    def record_response(self, survey, customer, time) -> None:
        """Record that a customer answered a survey at time (cxm_survey_record)."""
        self._survey_record(self._survey_id(survey), customer, _cxm.SURVEY_RESPONDED, time)

    # -- metric alerts --

    def alert(self, name: str, metric, window, *, op, fire, clear=None, kind="level",
              baseline_offset=None, max_p_value: Optional[float] = None,
              min_samples: Optional[int] = None, pending=None, cooldown=None, touchpoint=None,
              journey=None, step=None, channel=None, segment=None) -> int:
        """Define a metric alert (cxm_alert_define) and return its id (0,
        1, … in definition order). It watches ``metric`` over the rolling
        ``window`` ending at each evaluation (scope and segment filter as
        to make_query(), names or ids) and fires when the value (LEVEL) or
        its change from a baseline window ``baseline_offset`` earlier
        (CHANGE; None: the window before, ``window`` earlier), or its
        distance from Holt's forecast of it from the windows of the same
        length in the ``baseline_offset`` before it (FORECAST, "below
        forecast"; None: 7 windows), compares with ``fire`` as ``op`` says
        ("<", "<=", ">", ">=" or a Cmp), and for a CHANGE or FORECAST with
        ``max_p_value`` also has a p-value below it. A firing
        alert resolves only once the value no longer compares so with
        ``clear`` (None: ``fire``; hysteresis). It stays PENDING for
        ``pending`` before firing, does not fire again within ``cooldown``
        of resolving, and leaves its state alone below ``min_samples``
        samples (None: 1). Durations as windows; None: none."""
        m = _id_of(self.metrics, metric)
        touchpoint, journey, step, segment = self._where(touchpoint, journey, step, segment)
        q = Query(m, window, touchpoint=touchpoint, journey=journey, step=step,
                  channel=channel, segment=segment)
        k = _enum(AlertKind, kind)
        if clear is None:
            clear = fire
        if baseline_offset is None:
            offset = (q.span_ms if k == AlertKind.CHANGE
                      else 7 * q.span_ms if k == AlertKind.FORECAST else 0)
        else:
            offset = span_ms(baseline_offset)
        p = 0.0  # libcxm's "no test"
        if max_p_value is not None:
            if isinstance(max_p_value, bool):
                raise TypeError("max_p_value must be a number, not bool")
            if max_p_value != max_p_value:
                _cxm._raise_status(Status.NOT_FINITE, "max_p_value must be a number in (0, 1], "
                                   "not nan")
            if max_p_value == 0:
                _cxm._raise_status(Status.OUT_OF_RANGE, "max_p_value=0 would mean no test to "
                                   "libcxm: give a level in (0, 1], or None for no test")
            p = max_p_value
        least = 0  # libcxm's 1
        if min_samples is not None:
            least = _index(min_samples, "min_samples")
            if least <= 0:
                _cxm._raise_status(Status.OUT_OF_RANGE, f"min_samples must be at least 1, not "
                                   f"{min_samples!r}; None means 1")
        return self._alert_define(name, q, int(k), int(_cmp(op)), fire, clear, offset, p, least,
                                  _alert_span(pending, "pending"),
                                  _alert_span(cooldown, "cooldown"))

    def evaluate_alerts(self, now=None) -> int:
        """Evaluate every alert at ``now`` (None: the context clock), moving
        their states and queueing an Event for each that starts firing or
        resolves (cxm_alerts_evaluate); returns how many changed state."""
        return self._alerts_evaluate(now)

    def alert_status(self, alert: int) -> AlertStatus:
        """What an alert is doing (cxm_alert_status_get): an AlertStatus."""
        state, flags, since, ev, res, value, base, p, n, fired = self._alert_status(alert)
        return AlertStatus(_alert_state(state), _never(since), _never(ev), _never(res), value,
                           base, p, n, fired, bool(flags & _ALERT_INSUFFICIENT))

    # -- in-journey signals --

    def signal(self, kind, journey, *, step=None, count: int = 0, window=None, metric=None,
               item: int = 0, op=None, threshold: float = 0.0) -> int:
        """Define an in-journey signal (cxm_signal_define) and return its id
        (0, 1, … in definition order): a rule about one customer's progress
        on ``journey`` (id or name) that puts an Event of kind "signal" on
        the queue when it holds, at most once per customer and journey
        instance (see ``signal_rearm``). ``kind`` is "stuck", "repeat",
        "backwards", "failure" or a SignalKind; ``step`` (id or name; None:
        any) the step it watches. STUCK: no progress for ``window`` (seen
        by ``sweep()``); REPEAT: ``count`` (2 … 8) contacts on the step
        within ``window``, inclusive; BACKWARDS: a contact on an earlier
        step, ``step`` being where it went back from (no count, no window);
        FAILURE: ``count`` (1 … 8) measures of ``metric`` (question
        ``item``) that compare with ``threshold`` as ``op`` says ("<",
        "<=", ">", ">=", "==", "!=" or a Cmp) within ``window``:
        ``ctx.signal("failure", "shop", step="pay", count=2, window="10m",
        metric="paid", op="==", threshold=0)``. Durations are timedeltas,
        "30m" or ms; None: none."""
        k = _enum(SignalKind, kind)
        j = _id_of(self.journeys, journey)
        if isinstance(step, str):
            step = self._step_find(j, step)
        failure = k == SignalKind.FAILURE
        if failure and (metric is None or op is None):
            raise TypeError("a failure signal needs its metric and op (how a failing value "
                            "compares with threshold)")
        if op is not None and not failure and isinstance(k, SignalKind):
            # libcxm would not see op="<" (its number is 0, the default)
            _cxm._raise_status(Status.INVALID, f"op is for failure signals only, not "
                               f"{k.name.lower()}")
        m = None if metric is None else _id_of(self.metrics, metric)
        cmp = 0 if op is None else int(_cmp(op))
        return self._signal_define(int(k), j, step, count, 0 if window is None else window, m,
                                   item, cmp, threshold)

    def signal_enable(self, signal: int, on: bool = True) -> None:
        """Switch a signal on or off (cxm_signal_enable); a signal is on when defined."""
        self._signal_enable(signal, _flag(on, "on"))

    def signal_def(self, signal: int) -> SignalDef:
        """A signal's definition, and whether it is on (cxm_signal_get)."""
        kind, journey, step, count, window, metric, item, op, threshold, on = \
            self._signal_get(signal)
        k = _signal_kind(kind)
        failure = k == SignalKind.FAILURE
        return SignalDef(k, journey, step, count, window, metric, item,
                         Cmp(op) if failure else None, threshold, on)

    def signal_rearm(self, signal: int, customer) -> None:
        """Let a signal that fired during a customer's current journey
        instance fire again, on the next evidence that it holds
        (cxm_signal_rearm); nothing to do if it has not fired for them. The
        customer is taken as feed() takes it (str, bytes or int)."""
        self._signal_rearm(signal, customer)

    # -- exposition --

    def export(self, format=ExportFormat.OPENMETRICS, *, buckets=None, labels=None,
               segments: bool = True, points: bool = True) -> str:
        """The OpenMetrics (default) or Prometheus text of every aggregate
        (cxm_export_write, the GIL released). ``buckets``: histogram bounds
        in seconds (None: the defaults); ``labels``: constant labels
        {name: value} put first on every sample; ``segments=False``: only
        the series of every interaction; ``points=False``: no per-point
        answer counters. See docs/prometheus.md."""
        fmt = int(_enum(ExportFormat, format))
        flags = ((0 if _flag(segments, "segments") else _cxm.EXPORT_NO_SEGMENTS)
                 | (0 if _flag(points, "points") else _cxm.EXPORT_NO_POINTS))
        if isinstance(buckets, (str, bytes)):
            raise TypeError("buckets must be a sequence of bounds in seconds, not a string")
        labels = dict(labels) if labels is not None else {}
        return self._export(fmt, flags, None if buckets is None else tuple(buckets),
                            tuple(labels), tuple(labels.values()))

    def export_write(self, file, format=ExportFormat.OPENMETRICS, **options) -> int:
        """Write ``export()``'s text to a file object (text or binary);
        returns the characters written."""
        text = self.export(format, **options)
        if isinstance(file, io.TextIOBase):
            file.write(text)
        else:
            file.write(text.encode("utf-8"))
        return len(text)


def _channel(ch):
    try:
        return Channel(ch)
    except ValueError:
        return ch


def _clock(fn):
    if not callable(fn):
        raise TypeError("clock must be callable")

    def clock():
        t = fn()
        return t if type(t) is int else time_ms(t)
    return clock
