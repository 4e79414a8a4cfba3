# Type stub of the cxm package (cxm/__init__.py and the extension).
import enum
from datetime import datetime, timedelta
from typing import (Any, Callable, Dict, Iterable, Iterator, List, Literal, Mapping, NamedTuple,
                    Optional, Sequence, Tuple, Union)

import io
import os

from ._cxm import (Churn as Churn, Funnel as Funnel, FunnelStep as FunnelStep,
                   Comparison as Comparison, CorruptError as CorruptError,
                   EncodingError as EncodingError, Error as Error, Event as Event,
                   ExistsError as ExistsError,
                   FileError as FileError, InvalidArgumentError as InvalidArgumentError,
                   KindError as KindError, LimitError as LimitError,
                   NoMemoryError as NoMemoryError, NotFiniteError as NotFiniteError,
                   OutOfRangeError as OutOfRangeError, RejectedError as RejectedError,
                   Result as Result, Stats as Stats, TooEarlyError as TooEarlyError,
                   TooLateError as TooLateError, TooLongError as TooLongError,
                   UnknownIdError as UnknownIdError, UnsupportedError as UnsupportedError,
                   VersionError as VersionError, libversion as libversion,
                   libversion_number as libversion_number, strerror as strerror)
from . import _cxm
from .serve import Server as Server, serve as serve

__version__: str
NONE: int
TIME_MAX: int
WATERMARK: Literal["watermark"]
RESULT_LOW_SAMPLE: int
RESULT_EMPTY: int
RESULT_CLAMPED: int
RESULT_TRUNCATED: int
UTC: Any
OPENMETRICS_CONTENT_TYPE: str
PROMETHEUS_CONTENT_TYPE: str
JOURNEY_MAX_WINDOW: timedelta
MAX_SURVEYS: int
SURVEY_MAX_CAP: int
MAX_SIGNALS: int
SIGNAL_MAX_COUNT: int
DRIVER_SETS_MAX: int
DRIVERS_MAX: int

Time = Union[int, datetime, str, Any]
Span = Union[int, timedelta, str, Any]
End = Union[Time, Literal["watermark"]]  # a window's end: also "watermark" (cxm.WATERMARK)
Customer = Union[str, bytes, int]

def time_ms(t: Time) -> int: ...
def span_ms(w: Span) -> int: ...
def from_ms(ms: int) -> datetime: ...
def parse_iso(text: str) -> datetime: ...

class Status(enum.IntEnum):
    OK: int
    INVALID: int
    UNKNOWN_ID: int
    OUT_OF_RANGE: int
    TOO_LATE: int
    TOO_EARLY: int
    NOT_FINITE: int
    TOO_LONG: int
    NO_MEMORY: int
    LIMIT: int
    CORRUPT: int
    IO: int
    VERSION: int
    UNSUPPORTED: int
    EXISTS: int
    ENCODING: int
    KIND: int
    REJECTED: int

class Channel(enum.IntEnum):
    PHONE: int
    CHAT: int
    EMAIL: int
    WEB: int
    SMS: int
    SOCIAL: int
    IN_PERSON: int
    OTHER: int

class Kind(enum.IntEnum):
    SCORE: int
    INDEX: int
    DURATION: int
    RATE: int
    AMOUNT: int
    VOLUME: int
    DISTINCT: int
    SENTIMENT: int

class Headline(enum.IntEnum):
    DEFAULT: int
    NET: int
    TOP_BOX: int
    BOTTOM_BOX: int
    MEAN: int
    SHARE: int
    SUM: int
    COUNT: int

class Scope(enum.IntEnum):
    ALL: int
    TOUCHPOINT: int
    STEP: int
    JOURNEY: int
    CHANNEL: int

class Preset(enum.IntEnum):
    NPS: int
    CSAT5: int
    CSAT7: int
    CSAT10: int
    CES7: int
    CES5: int
    CXI: int
    DURATION: int
    RATE: int
    AMOUNT: int
    VOLUME: int
    DISTINCT: int
    SENTIMENT: int

class ExportFormat(enum.IntEnum):
    OPENMETRICS: int
    PROMETHEUS: int

class JourneyOptions:
    conversion: Optional[Span]
    abandon: Optional[Span]
    lateness: Optional[Span]
    repeat: Optional[Span]
    strict: bool
    count_repeats: bool
    equal_times_hold: bool
    restart: bool
    window_exclusive: bool
    strict_order: bool
    allow_reentry: bool
    strict_dedup: bool
    def __init__(self, conversion: Optional[Span] = ..., abandon: Optional[Span] = ...,
                 lateness: Optional[Span] = ..., repeat: Optional[Span] = ...,
                 strict: bool = ..., count_repeats: bool = ..., equal_times_hold: bool = ...,
                 restart: bool = ..., window_exclusive: bool = ..., strict_order: bool = ...,
                 allow_reentry: bool = ..., strict_dedup: bool = ...) -> None: ...
    @property
    def flags(self) -> int: ...
    def replace(self, **changes: Any) -> JourneyOptions: ...
    def _asdict(self) -> Dict[str, Any]: ...

class CustomerPolicy(enum.IntEnum):
    EVICT: int
    REFUSE: int

class Cmp(enum.IntEnum):
    LT: int
    LE: int
    GT: int
    GE: int
    EQ: int
    NE: int

class AskReason(enum.IntEnum):
    ASK: int
    NOT_ELIGIBLE: int
    SAMPLED_OUT: int
    SURVEY_RESPONDED: int
    SURVEY_INVITED: int
    SURVEY_CAP: int
    RESPONDED: int
    INVITED: int
    CAP: int

class AlertKind(enum.IntEnum):
    LEVEL: int
    CHANGE: int
    FORECAST: int

class AlertState(enum.IntEnum):
    OK: int
    PENDING: int
    FIRING: int

class SignalKind(enum.IntEnum):
    STUCK: int
    REPEAT: int
    BACKWARDS: int
    FAILURE: int

class BaselineKind(enum.IntEnum):
    OFFSET: int
    PERIOD: int
    TARGET: int

class Baseline(NamedTuple):
    id: int
    name: str
    kind: BaselineKind
    metric: int
    offset_ms: int
    start_ms: int
    end_ms: int
    target: float

class Quadrant(enum.IntEnum):
    NONE: int
    STRENGTH: int
    PRIORITY: int
    MAINTAIN: int
    LOW: int

class Band(NamedTuple):
    n: int
    mean: float
    ci_low: float
    ci_high: float

class Driver(NamedTuple):
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
    n_drivers: int
    outcomes: int
    paired: int
    customers: int
    unremembered: int
    memory_bytes: int
    drivers: List[Driver]

class DriversDef(NamedTuple):
    id: int
    name: str
    outcome: int
    driver: int
    journey: Optional[int]
    touchpoints: Tuple[int, ...]
    overall: bool
    window_ms: int

class Calendar(enum.IntEnum):
    DAY: int
    WEEK: int
    MONTH: int
    QUARTER: int
    YEAR: int

class GroupBy(enum.IntEnum):
    TOUCHPOINT: int
    SEGMENT: int
    STEP: int
    CHANNEL: int

class AlertStatus(NamedTuple):
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
    def since(self) -> Optional[datetime]: ...
    @property
    def evaluated(self) -> Optional[datetime]: ...
    @property
    def resolved(self) -> Optional[datetime]: ...

class Ask(NamedTuple):
    ask: bool
    reason: AskReason
    until_ms: Optional[int]
    @property
    def until(self) -> Optional[datetime]: ...
    def __bool__(self) -> bool: ...

class TriggerDef(NamedTuple):
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

class SignalDef(NamedTuple):
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
    def window(self) -> timedelta: ...

class Journey(int):
    name: str
    steps: Tuple[str, ...]

class Touchpoint(int):
    name: str
    channel: Channel
    journey: Optional[int]
    step: Optional[int]

class Metric(int):
    name: str
    kind: Kind

class Segment(int):
    name: str

class SegmentValue(int):
    name: str
    segment: int

class Survey(int):
    name: str

class Definitions:
    def __len__(self) -> int: ...
    def __iter__(self) -> Iterator[Any]: ...
    def __getitem__(self, key: Union[int, str]) -> Any: ...
    def __contains__(self, key: object) -> bool: ...
    def get(self, key: Union[int, str], default: Any = ...) -> Any: ...
    def names(self) -> List[str]: ...

class MetricDef:
    kind: Kind
    headline: Headline
    scale_min: int
    scale_max: int
    questions: int
    na: Optional[int]
    top_min: Tuple[int, ...]
    bottom_max: Tuple[int, ...]
    duration_lo: float
    duration_hi: float
    relative_error: float
    precision: int
    def __init__(self, kind: Union[Kind, int, str], headline: Union[Headline, int, str] = ...,
                 scale_min: int = ..., scale_max: int = ..., questions: int = ...,
                 na: Optional[int] = ..., top_min: Sequence[int] = ...,
                 bottom_max: Sequence[int] = ..., duration_lo: float = ...,
                 duration_hi: float = ..., relative_error: float = ...,
                 precision: int = ...) -> None: ...
    def replace(self, **changes: Any) -> MetricDef: ...
    def _asdict(self) -> Dict[str, Any]: ...

def preset(name: Union[str, int, Preset]) -> MetricDef: ...

SegmentFilter = Union[SegmentValue, Tuple[Union[int, str], Union[int, str]]]

class Query(_cxm.Query):
    def __new__(cls, metric: int, window: Span, *, end: Optional[End] = ...,
                touchpoint: Optional[int] = ..., journey: Optional[int] = ...,
                step: Optional[int] = ..., channel: Union[None, int, str, Channel] = ...,
                segment: Optional[SegmentFilter] = ...) -> Query: ...
    def replace(self, *, window: Optional[Span] = ..., end: Optional[End] = ...) -> Query: ...

class TouchpointRow(NamedTuple):
    touchpoint: str
    touchpoint_id: int
    value: float
    ci_low: float
    ci_high: float
    n: int
    skipped: int
    top: int
    bottom: int
    top_share: float
    bottom_share: float
    mean: float
    min: float
    max: float
    sum: float
    stddev: float
    p50: float
    p90: float
    p99: float
    flags: int
    start_ms: int
    end_ms: int
    quantile_start_ms: int
    quantile_end_ms: int
    quantile_n: int
    questions: int
    kind: str
    headline: str
    low_sample: bool
    empty: bool
    clamped: bool
    truncated: bool
    inexact: bool
    item_net: Tuple[float, ...]
    item_n: Tuple[int, ...]
    @property
    def start(self) -> datetime: ...
    @property
    def end(self) -> datetime: ...
    @property
    def ci(self) -> Tuple[float, float]: ...
    @property
    def key(self) -> str: ...
    @property
    def id(self) -> int: ...

class SegmentRow(NamedTuple):
    segment: str
    segment_id: int
    value: float
    ci_low: float
    ci_high: float
    n: int
    skipped: int
    top: int
    bottom: int
    top_share: float
    bottom_share: float
    mean: float
    min: float
    max: float
    sum: float
    stddev: float
    p50: float
    p90: float
    p99: float
    flags: int
    start_ms: int
    end_ms: int
    quantile_start_ms: int
    quantile_end_ms: int
    quantile_n: int
    questions: int
    kind: str
    headline: str
    low_sample: bool
    empty: bool
    clamped: bool
    truncated: bool
    inexact: bool
    item_net: Tuple[float, ...]
    item_n: Tuple[int, ...]
    @property
    def start(self) -> datetime: ...
    @property
    def end(self) -> datetime: ...
    @property
    def ci(self) -> Tuple[float, float]: ...
    @property
    def key(self) -> str: ...
    @property
    def id(self) -> int: ...

class StepRow(NamedTuple):
    step: str
    step_id: int
    value: float
    ci_low: float
    ci_high: float
    n: int
    skipped: int
    top: int
    bottom: int
    top_share: float
    bottom_share: float
    mean: float
    min: float
    max: float
    sum: float
    stddev: float
    p50: float
    p90: float
    p99: float
    flags: int
    start_ms: int
    end_ms: int
    quantile_start_ms: int
    quantile_end_ms: int
    quantile_n: int
    questions: int
    kind: str
    headline: str
    low_sample: bool
    empty: bool
    clamped: bool
    truncated: bool
    inexact: bool
    item_net: Tuple[float, ...]
    item_n: Tuple[int, ...]
    @property
    def start(self) -> datetime: ...
    @property
    def end(self) -> datetime: ...
    @property
    def ci(self) -> Tuple[float, float]: ...
    @property
    def key(self) -> str: ...
    @property
    def id(self) -> int: ...

class ChannelRow(NamedTuple):
    channel: str
    channel_id: int
    value: float
    ci_low: float
    ci_high: float
    n: int
    skipped: int
    top: int
    bottom: int
    top_share: float
    bottom_share: float
    mean: float
    min: float
    max: float
    sum: float
    stddev: float
    p50: float
    p90: float
    p99: float
    flags: int
    start_ms: int
    end_ms: int
    quantile_start_ms: int
    quantile_end_ms: int
    quantile_n: int
    questions: int
    kind: str
    headline: str
    low_sample: bool
    empty: bool
    clamped: bool
    truncated: bool
    inexact: bool
    item_net: Tuple[float, ...]
    item_n: Tuple[int, ...]
    @property
    def start(self) -> datetime: ...
    @property
    def end(self) -> datetime: ...
    @property
    def ci(self) -> Tuple[float, float]: ...
    @property
    def key(self) -> str: ...
    @property
    def id(self) -> int: ...

class Forecast(NamedTuple):
    start_ms: int
    end_ms: int
    value: float
    pi_low: float
    pi_high: float

class Trend(NamedTuple):
    windows: int
    points: int
    start_ms: int
    end_ms: int
    step_ms: int
    slope: float
    slope_ci_low: float
    slope_ci_high: float
    p_value: float
    r2: float
    fitted_last: float
    alpha: float
    beta: float
    level: float
    trend: float
    sigma: float
    forecast: List[Forecast]

class SeriesRow(NamedTuple):
    value: float
    ci_low: float
    ci_high: float
    n: int
    skipped: int
    top: int
    bottom: int
    top_share: float
    bottom_share: float
    mean: float
    min: float
    max: float
    sum: float
    stddev: float
    p50: float
    p90: float
    p99: float
    flags: int
    start_ms: int
    end_ms: int
    quantile_start_ms: int
    quantile_end_ms: int
    quantile_n: int
    questions: int
    kind: str
    headline: str
    low_sample: bool
    empty: bool
    clamped: bool
    truncated: bool
    inexact: bool
    item_net: Tuple[float, ...]
    item_n: Tuple[int, ...]
    @property
    def start(self) -> datetime: ...
    @property
    def end(self) -> datetime: ...
    @property
    def ci(self) -> Tuple[float, float]: ...

_AnyGroupRow = Union[TouchpointRow, SegmentRow, StepRow, ChannelRow]

def to_pandas(rows: Iterable[Any]) -> Any: ...

class Rejection(NamedTuple):
    index: int
    code: Status
    reason: str

class FeedReport(NamedTuple):
    accepted: int
    rejected: int
    rejections: List[Rejection]
    @property
    def ok(self) -> bool: ...
    def by_reason(self) -> Dict[str, int]: ...

class BulkFeedError(Error):
    report: FeedReport
    index: int
    code: Optional[int]
    status: Optional[str]
    def __init__(self, message: str = ..., report: Optional[FeedReport] = ...,
                 index: int = ...) -> None: ...
    @property
    def accepted(self) -> int: ...
    @property
    def rejected(self) -> int: ...

class Layout:
    record_size: int
    def __init__(self, record_size: int, *, time: Tuple[int, str], touchpoint: Tuple[int, str],
                 customer: Optional[Tuple[int, str]] = ...,
                 segments: Optional[Mapping[int, Tuple[int, str]]] = ...,
                 measures: Optional[Mapping[Union[int, Tuple[int, int]], Tuple[int, str]]] = ...,
                 time_unit: str = ...) -> None: ...
    @classmethod
    def from_dtype(cls, ctx: Context, dtype: Any, *, time: str = ..., touchpoint: str = ...,
                   customer: str = ..., segments: Optional[Mapping[str, Union[int, str]]] = ...,
                   measures: Optional[Mapping[str, Any]] = ...,
                   ignore: Iterable[str] = ...) -> Layout: ...

MeasureKey = Union[int, str]
Measures = Union[None, Mapping[MeasureKey, Any], Sequence[Tuple[Any, ...]]]
Segments = Union[None, Mapping[Union[int, str], Union[int, str, None]], Sequence[Union[int, str, None]]]

class Context(_cxm.Context):
    def __init__(self, *, tiers: Sequence[Tuple[Span, int]] = ..., shards: int = ...,
                 max_future: Span = ..., max_journeys: int = ..., max_steps: int = ...,
                 max_touchpoints: int = ..., max_metrics: int = ..., max_segments: int = ...,
                 max_segment_values: int = ..., max_name_len: int = ...,
                 max_customer_id_len: int = ..., max_measures: int = ..., min_samples: int = ...,
                 max_series: int = ..., confidence: float = ..., customer_key: bytes = ...,
                 max_customers: int = ...,
                 customer_policy: Union[str, int, CustomerPolicy] = ...,
                 max_triggers: int = ..., event_queue: int = ...,
                 clock: Optional[Callable[[], Time]] = ...) -> None: ...
    def __enter__(self) -> Context: ...
    def journey(self, name: str, steps: Iterable[str]) -> Journey: ...
    def touchpoint(self, name: str, channel: Union[Channel, int, str] = ...,
                   journey: Union[None, int, str] = ..., step: Union[None, int, str] = ...) -> Touchpoint: ...
    def metric(self, name: str, definition: Union[None, str, int, Preset, MetricDef] = ...) -> Metric: ...
    def segment(self, name: str, max_values: int) -> Segment: ...
    def segment_value(self, segment: Union[int, str], value: str, *, add: bool = ...) -> SegmentValue: ...
    def segment_values(self, segment: Union[int, str]) -> Tuple[SegmentValue, ...]: ...
    def metric_def(self, metric: Union[int, str]) -> MetricDef: ...
    @property
    def journeys(self) -> Definitions: ...
    @property
    def touchpoints(self) -> Definitions: ...
    @property
    def metrics(self) -> Definitions: ...
    @property
    def segments(self) -> Definitions: ...
    def feed(self, time: Time, touchpoint: Union[int, str], measures: Measures = ...,
             customer: Optional[Customer] = ..., segments: Segments = ...) -> None: ...
    def feed_many(self, rows: Iterable[Any], *, start: int = ...) -> FeedReport: ...
    def feed_buffer(self, data: Any, layout: Optional[Layout] = ..., **mapping: Any) -> FeedReport: ...
    def make_query(self, metric: Union[int, str], window: Span, *, end: Optional[End] = ...,
                   touchpoint: Union[None, int, str] = ..., journey: Union[None, int, str] = ...,
                   step: Union[None, int, str] = ..., channel: Union[None, int, str, Channel] = ...,
                   segment: Optional[SegmentFilter] = ...) -> Query: ...
    def query(self, metric: Union[int, str], window: Optional[Span] = ..., *,
              end: Optional[End] = ...,
              touchpoint: Union[None, int, str] = ..., journey: Union[None, int, str] = ...,
              step: Union[None, int, str] = ..., channel: Union[None, int, str, Channel] = ...,
              segment: Optional[SegmentFilter] = ...,
              calendar: Union[None, str, int, Calendar] = ..., tz: str = ...) -> Result: ...
    def calendar_bucket(self, calendar: Union[str, int, Calendar], tz: str = ...,
                        at: Optional[End] = ...) -> Tuple[int, int]: ...
    def run(self, query: _cxm.Query) -> Result: ...
    def quantiles(self, query: Union[_cxm.Query, int, str], qs: Iterable[float],
                  window: Optional[Span] = ..., **scope: Any) -> Tuple[float, ...]: ...
    def distribution(self, query: Union[_cxm.Query, int, str], window: Optional[Span] = ..., *,
                     item: int = ..., **scope: Any) -> Dict[int, int]: ...
    def query_by(self, metric: Union[int, str], window: Span, by: Union[str, int, GroupBy], *,
                 end: Optional[End] = ..., touchpoint: Union[None, int, str] = ...,
                 journey: Union[None, int, str] = ..., step: Union[None, int, str] = ...,
                 channel: Union[None, int, str, Channel] = ...,
                 segment: Optional[SegmentFilter] = ...,
                 dim: Union[None, int, str] = ...) -> List[_AnyGroupRow]: ...
    def query_series(self, metric: Union[int, str], window: Span, every: Optional[Span] = ..., *,
                     end: Optional[End] = ..., touchpoint: Union[None, int, str] = ...,
                     journey: Union[None, int, str] = ..., step: Union[None, int, str] = ...,
                     channel: Union[None, int, str, Channel] = ...,
                     segment: Optional[SegmentFilter] = ...,
                     calendar: Union[None, str, int, Calendar] = ...,
                     tz: str = ...) -> List[SeriesRow]: ...
    def trend(self, metric: Union[int, str], window: Span, every: Span, horizon: int = ..., *,
              end: Optional[End] = ..., touchpoint: Union[None, int, str] = ...,
              journey: Union[None, int, str] = ..., step: Union[None, int, str] = ...,
              channel: Union[None, int, str, Channel] = ...,
              segment: Optional[SegmentFilter] = ...) -> Trend: ...
    def compare(self, a: _cxm.Query, b: _cxm.Query) -> Comparison: ...
    def baseline(self, name: str, *, offset: Optional[Span] = ...,
                 period: Optional[Tuple[Time, Time]] = ..., target: Optional[float] = ...,
                 metric: Union[None, int, str] = ...) -> int: ...
    def baseline_def(self, baseline: Union[int, str]) -> Baseline: ...
    def compare_baseline(self, metric: Union[int, str], window: Span, baseline: Union[int, str], *,
                         end: Optional[End] = ..., touchpoint: Union[None, int, str] = ...,
                         journey: Union[None, int, str] = ..., step: Union[None, int, str] = ...,
                         channel: Union[None, int, str, Channel] = ...,
                         segment: Optional[SegmentFilter] = ...) -> Comparison: ...
    def drivers(self, name: str, *, outcome: Union[int, str], driver: Union[int, str],
                touchpoints: Optional[Iterable[Union[int, str]]] = ...,
                journey: Union[None, int, str] = ..., overall: bool = ...,
                window: Optional[Span] = ...) -> int: ...
    def drivers_find(self, name: str) -> int: ...
    def drivers_def(self, set: Union[int, str]) -> DriversDef: ...
    def key_drivers(self, set: Union[int, str]) -> DriversResult: ...
    def stats(self) -> Stats: ...
    def series_bytes(self, metric: Union[int, str]) -> int: ...
    def last_seen(self, customer: Customer) -> datetime: ...
    def last_seen_ms(self, customer: Customer) -> int: ...
    def forget(self, customer: Customer) -> None: ...
    def churn(self, customer: Customer, time: Time) -> None: ...
    def set_journey_options(self, journey: Union[int, str], options: Optional[JourneyOptions] = ...,
                            **kw: Any) -> None: ...
    def journey_options(self, journey: Union[int, str]) -> JourneyOptions: ...
    def funnel(self, journey: Union[int, str], window: Span, *, end: Optional[End] = ...,
               segment: Optional[SegmentFilter] = ...,
               channel: Union[None, int, str, Channel] = ..., cohort: bool = ...) -> Funnel: ...
    def funnel_quantiles(self, journey: Union[int, str], window: Span, qs: Iterable[float], *,
                         step: Union[None, int, str] = ..., end: Optional[End] = ...,
                         segment: Optional[SegmentFilter] = ...,
                         channel: Union[None, int, str, Channel] = ...) -> Tuple[float, ...]: ...
    def sweep(self, now: Optional[Time] = ...) -> int: ...
    def churn_rate(self, distinct: Union[int, str], window: Span, *, active: Span,
                   end: Optional[End] = ...) -> Churn: ...
    def save(self, path: Union[str, bytes, "os.PathLike[str]"]) -> None: ...
    def snapshot(self) -> bytes: ...
    def load(self, source: Union[str, bytes, bytearray, memoryview, "os.PathLike[str]"]) -> None: ...
    @classmethod
    def from_snapshot(cls, source: Union[str, bytes, bytearray, memoryview, "os.PathLike[str]"],
                      **config: Any) -> Context: ...
    def merge(self, source: Union[_cxm.Context, str, bytes, bytearray, memoryview,
                                  "os.PathLike[str]"]) -> None: ...
    def trigger(self, metric: Union[int, str], op: Union[str, int, Cmp], threshold: float, *,
                item: int = ..., touchpoint: Union[None, int, str] = ...,
                journey: Union[None, int, str] = ..., step: Union[None, int, str] = ...,
                channel: Union[None, int, str, Channel] = ...,
                segment: Optional[SegmentFilter] = ...) -> int: ...
    def trigger_enable(self, rule: int, on: bool = ...) -> None: ...
    def trigger_def(self, rule: int) -> TriggerDef: ...
    def poll_events(self, max_events: int = ...) -> List[Event]: ...
    def customer_hash(self, customer: Customer) -> bytes: ...
    def survey(self, name: str, *, min_since_invite: Optional[Span] = ...,
               min_since_response: Optional[Span] = ..., max_invites: Optional[int] = ...,
               window: Optional[Span] = ..., sample_rate: Optional[float] = ...,
               touchpoint: Union[None, int, str] = ..., journey: Union[None, int, str] = ...,
               step: Union[None, int, str] = ...,
               channel: Union[None, int, str, Channel] = ...) -> Survey: ...
    def set_governor(self, *, min_since_invite: Optional[Span] = ...,
                     min_since_response: Optional[Span] = ..., max_invites: Optional[int] = ...,
                     window: Optional[Span] = ...) -> None: ...
    def should_ask(self, survey: Union[int, str], customer: Customer,
                   touchpoint: Union[int, str], time: Time) -> Ask: ...
    def record_invite(self, survey: Union[int, str], customer: Customer, time: Time) -> None: ...
    def record_response(self, survey: Union[int, str], customer: Customer, time: Time) -> None: ...
    def alert(self, name: str, metric: Union[int, str], window: Span, *,
              op: Union[str, int, Cmp], fire: float, clear: Optional[float] = ...,
              kind: Union[AlertKind, int, str] = ..., baseline_offset: Optional[Span] = ...,
              max_p_value: Optional[float] = ..., min_samples: Optional[int] = ...,
              pending: Optional[Span] = ..., cooldown: Optional[Span] = ...,
              touchpoint: Union[None, int, str] = ..., journey: Union[None, int, str] = ...,
              step: Union[None, int, str] = ..., channel: Union[None, int, str, Channel] = ...,
              segment: Optional[SegmentFilter] = ...) -> int: ...
    def evaluate_alerts(self, now: Optional[Time] = ...) -> int: ...
    def alert_status(self, alert: int) -> AlertStatus: ...
    def signal(self, kind: Union[SignalKind, int, str], journey: Union[int, str], *,
               step: Union[None, int, str] = ..., count: int = ..., window: Optional[Span] = ...,
               metric: Union[None, int, str] = ..., item: int = ...,
               op: Union[None, str, int, Cmp] = ..., threshold: float = ...) -> int: ...
    def signal_enable(self, signal: int, on: bool = ...) -> None: ...
    def signal_def(self, signal: int) -> SignalDef: ...
    def signal_rearm(self, signal: int, customer: Customer) -> None: ...
    def export(self, format: Union[ExportFormat, int, str] = ..., *,
               buckets: Optional[Iterable[float]] = ..., labels: Optional[Mapping[str, str]] = ...,
               segments: bool = ..., points: bool = ...) -> str: ...
    def export_write(self, file: Union[io.TextIOBase, Any], format: Union[ExportFormat, int, str] = ...,
                     **options: Any) -> int: ...
