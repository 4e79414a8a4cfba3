# Type stub of the extension module cxm._cxm (src/_cxm.c). Users import
# cxm, whose own stub (__init__.pyi) re-exports what they need.
from datetime import datetime
from typing import (Any, Callable, Dict, Iterable, List, Literal, Mapping, Optional, Sequence,
                    Tuple, Union)

NONE: int
TIME_MAX: int
VERSION: str
VERSION_NUMBER: int
STATUS_COUNT: int
MAX_QUESTIONS: int
HAS_FASTCALL: int
HAS_BUFFER: int
LIMITED_API: int
RESULT_LOW_SAMPLE: int
RESULT_EMPTY: int
RESULT_CLAMPED: int
RESULT_TRUNCATED: int
JOURNEY_STRICT: int
JOURNEY_COUNT_REPEATS: int
JOURNEY_EQUAL_TIMES_HOLD: int
JOURNEY_RESTART: int
JOURNEY_WINDOW_EXCLUSIVE: int
JOURNEY_STRICT_ORDER: int
JOURNEY_ALLOW_REENTRY: int
JOURNEY_STRICT_DEDUP: int
JOURNEY_MAX_WINDOW_MS: int
EXPORT_NO_SEGMENTS: int
EXPORT_NO_POINTS: int
EXPORT_MAX_BUCKETS: int
EXPORT_MAX_LABELS: int
OPENMETRICS_CONTENT_TYPE: str
PROMETHEUS_CONTENT_TYPE: str
SURVEY_INVITED: int
SURVEY_RESPONDED: int
MAX_SURVEYS: int
SURVEY_MAX_CAP: int
MAX_SIGNALS: int
SIGNAL_MAX_COUNT: int

class Error(Exception):
    code: Optional[int]
    status: str
class InvalidArgumentError(Error, ValueError): ...
class UnknownIdError(Error, KeyError): ...
class OutOfRangeError(Error, ValueError): ...
class TooLateError(Error, ValueError): ...
class TooEarlyError(Error, ValueError): ...
class NotFiniteError(Error, ValueError): ...
class TooLongError(Error, ValueError): ...
class NoMemoryError(Error, MemoryError): ...
class LimitError(Error): ...
class CorruptError(Error, ValueError): ...
class FileError(Error, OSError): ...
class VersionError(Error): ...
class UnsupportedError(Error): ...
class ExistsError(Error, ValueError): ...
class EncodingError(Error, ValueError): ...
class KindError(Error, TypeError): ...
class RejectedError(Error): ...

_Time = Any      # int ms, aware datetime, ISO 8601 str, numpy.datetime64
_End = Any       # a _Time, or "watermark" (CXM_WATERMARK)
_Span = Any      # int ms, timedelta, "24h", numpy.timedelta64
_Id = Union[int, str]
_Measures = Union[None, Mapping[Any, Any], Sequence[Tuple[Any, ...]]]
_Segments = Union[None, Mapping[Any, Any], Sequence[Any]]
_Customer = Union[None, str, bytes, int]
_Report = Tuple[int, int, List[Tuple[int, int, str]]]

class Query:
    metric: int
    scope: int
    id: int
    step: Optional[int]
    segment: Optional[int]
    segment_value: int
    span_ms: int
    end_ms: Union[None, int, Literal["watermark"]]
    def __new__(cls, metric: int, span_ms: _Span, end_ms: Optional[_End] = ..., scope: int = ...,
                id: int = ..., step: Optional[int] = ..., segment: Optional[int] = ...,
                segment_value: int = ...) -> Query: ...

class Result:
    _fields: Tuple[str, ...]
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
    start: Any
    end: Any
    ci: Tuple[float, float]
    def _asdict(self) -> Dict[str, Any]: ...

class Comparison:
    _fields: Tuple[str, ...]
    a: float
    b: float
    difference: float
    ci_low: float
    ci_high: float
    z: float
    p_value: float
    n_a: int
    n_b: int
    flags: int
    headline: str
    def _asdict(self) -> Dict[str, Any]: ...

class Stats:
    _fields: Tuple[str, ...]
    memory_bytes: int
    series: int
    series_bytes: int
    accepted: int
    rejected_total: int
    saturated: int
    watermark_ms: int
    shards: int
    shards_used: int
    customers: int
    customers_evicted: int
    customers_refused: int
    customers_forgotten: int
    customer_bytes: int
    events_queued: int
    events_dropped: int
    signals_unjudged: int
    rejected: Dict[int, int]
    def _asdict(self) -> Dict[str, Any]: ...

class FunnelStep:
    _fields: Tuple[str, ...]
    index: int
    reached: int
    conversion: float
    step_conversion: float
    drop_off: float
    next_n: int
    next_p50: float
    next_p90: float
    next_mean: float
    def _asdict(self) -> Dict[str, Any]: ...

class Funnel:
    _fields: Tuple[str, ...]
    entered: int
    completed: int
    abandoned: int
    expired: int
    broken: int
    displaced: int
    repeats: int
    conversion: float
    repeat_rate: float
    goal_n: int
    goal_p50: float
    goal_p90: float
    goal_mean: float
    n_steps: int
    flags: int
    start_ms: int
    end_ms: int
    quantile_start_ms: int
    quantile_end_ms: int
    low_sample: bool
    empty: bool
    clamped: bool
    steps: Tuple[FunnelStep, ...]
    start: datetime
    end: datetime
    def _asdict(self) -> Dict[str, Any]: ...

class Churn:
    _fields: Tuple[str, ...]
    rate: float
    churned: int
    active: float
    flags: int
    start_ms: int
    end_ms: int
    active_start_ms: int
    active_end_ms: int
    empty: bool
    start: datetime
    end: datetime
    def _asdict(self) -> Dict[str, Any]: ...

class Event:
    _fields: Tuple[str, ...]
    rule: int
    seq: int
    time_ms: int
    touchpoint: int
    metric: int
    item: int
    value: float
    customer: Optional[bytes]
    kind: str
    time: datetime
    def _asdict(self) -> Dict[str, Any]: ...

class Context:
    closed: bool
    def __init__(self, **config: Any) -> None: ...
    def close(self) -> None: ...
    def __enter__(self) -> Context: ...
    def __exit__(self, *exc: Any) -> bool: ...
    def feed(self, time: _Time, touchpoint: _Id, measures: _Measures = ...,
             customer: _Customer = ..., segments: _Segments = ...) -> None: ...
    def run(self, query: Query) -> Result: ...
    def compare(self, a: Query, b: Query) -> Comparison: ...
    def stats(self) -> Stats: ...
    def series_bytes(self, metric: _Id) -> int: ...
    def _journey_define(self, name: str, steps: Sequence[str]) -> int: ...
    def _touchpoint_define(self, name: str, channel: int, journey: Optional[int], step: Optional[int]) -> int: ...
    def _metric_define(self, name: str, spec: Union[int, Dict[str, Any]]) -> int: ...
    def _metric_get(self, metric: _Id) -> Dict[str, Any]: ...
    def _segment_define(self, name: str, max_values: int) -> int: ...
    def _segment_value(self, segment: _Id, value: str, add: bool) -> int: ...
    def _segment_value_name(self, segment: _Id, value: int) -> str: ...
    def _segment_values(self, segment: _Id) -> int: ...
    def _count(self, kind: int) -> int: ...
    def _find(self, kind: int, name: str) -> int: ...
    def _name(self, kind: int, id: int) -> str: ...
    def _journey_steps(self, journey: _Id) -> int: ...
    def _step_name(self, journey: _Id, step: int) -> str: ...
    def _step_find(self, journey: _Id, name: str) -> int: ...
    def _touchpoint_get(self, touchpoint: _Id) -> Tuple[int, Optional[int], Optional[int]]: ...
    def _feed_many(self, rows: Iterable[Any], start: int = ...) -> _Report: ...
    def _feed_records(self, buffer: Any, layout: Tuple[Any, ...], start: int = ...) -> _Report: ...
    def _quantiles(self, query: Query, qs: Sequence[float]) -> Tuple[float, ...]: ...
    def _distribution(self, query: Query, item: int) -> Tuple[int, ...]: ...
    def _query_group(self, query: Query, by: int, dim: Optional[int]) -> List[Tuple[Any, ...]]: ...
    def _query_series(self, query: Query, step: _Span) -> List[Tuple[Any, ...]]: ...
    def _query_calendar(self, query: Query, tz: str, unit: int) -> Result: ...
    def _query_calendar_series(self, query: Query, tz: str, unit: int) -> List[Tuple[Any, ...]]: ...
    def _calendar_bucket(self, tz: str, unit: int, at: Any) -> Tuple[int, int]: ...
    def _query_trend(self, query: Query, step: _Span, horizon: int) -> Tuple[Any, ...]: ...
    def _last_seen(self, customer: Union[str, bytes, int]) -> int: ...
    def _forget(self, customer: Union[str, bytes, int]) -> None: ...
    def churn(self, customer: Union[str, bytes, int], time: _Time) -> None: ...
    def snapshot(self) -> bytes: ...
    def _journey_set_options(self, journey: _Id, flags: int, conversion: _Span, abandon: _Span,
                             lateness: _Span, repeat: _Span) -> None: ...
    def _journey_get_options(self, journey: _Id) -> Tuple[int, int, int, int, int]: ...
    def _funnel(self, journey: _Id, window: _Span, end: Optional[_End], segment: Optional[_Id],
                value: int, channel: int) -> Funnel: ...
    def _funnel_quantiles(self, journey: _Id, window: _Span, end: Optional[_End],
                          segment: Optional[_Id], value: int, channel: int, step: Optional[int],
                          qs: Sequence[float]) -> Tuple[float, ...]: ...
    def _sweep(self, now: Optional[_Time]) -> int: ...
    def _churn_rate(self, distinct: _Id, end: Optional[_End], window: _Span,
                    active: _Span) -> Churn: ...
    def _save(self, path: Union[str, bytes]) -> None: ...
    def _load(self, source: Any, is_path: bool) -> None: ...
    def _merge(self, source: Any, kind: int) -> None: ...
    def _export(self, format: int, flags: int, buckets: Optional[Sequence[float]],
                names: Sequence[str], values: Sequence[str]) -> str: ...
    def customer_hash(self, customer: Union[str, bytes, int]) -> bytes: ...
    def _trigger_define(self, metric: _Id, item: int, op: int, threshold: float, scope: int,
                        id: int, step: Optional[int], segment: Optional[int],
                        segment_value: int) -> int: ...
    def _trigger_enable(self, rule: int, on: bool) -> None: ...
    def _trigger_get(self, rule: int) -> Tuple[int, int, int, float, int, int, Optional[int],
                                               Optional[int], Optional[int], bool]: ...
    def poll_events(self, max_events: int = ...) -> List[Event]: ...
    def _survey_find(self, name: str) -> int: ...
    def _survey_define(self, name: str, min_since_invite: _Span, min_since_response: _Span,
                       max_invites: int, window: _Span, sample_rate: float, scope: int, id: int,
                       step: Optional[int]) -> int: ...
    def _governor_set(self, min_since_invite: _Span, min_since_response: _Span, max_invites: int,
                      window: _Span) -> None: ...
    def _should_ask(self, survey: int, customer: Union[str, bytes, int], touchpoint: _Id,
                    time: _Time) -> Tuple[int, int]: ...
    def _survey_record(self, survey: int, customer: Union[str, bytes, int], what: int,
                       time: _Time) -> None: ...
    def _alert_define(self, name: str, query: Query, kind: int, op: int, fire: float,
                      clear: float, baseline_offset: _Span, max_p_value: float,
                      min_samples: int, for_: _Span, cooldown: _Span) -> int: ...
    def _alerts_evaluate(self, now: Optional[_Time]) -> int: ...
    def _alert_status(self, alert: int) -> Tuple[int, int, int, int, int, float, float, float,
                                                 int, int]: ...
    def _signal_define(self, kind: int, journey: _Id, step: Optional[int], count: int,
                       window: _Span, metric: Optional[int], item: int, op: int,
                       threshold: float) -> int: ...
    def _signal_enable(self, signal: int, on: bool) -> None: ...
    def _signal_get(self, signal: int) -> Tuple[int, int, Optional[int], int, int, Optional[int],
                                                int, int, float, bool]: ...
    def _signal_rearm(self, signal: int, customer: Union[str, bytes, int]) -> None: ...

def libversion() -> str: ...
def libversion_number() -> int: ...
def strerror(code: int) -> str: ...
def preset(number: int) -> Dict[str, Any]: ...
def snapshot_tiers(data: bytes) -> List[Tuple[int, int]]: ...
def _set_converters(time: Callable[[Any], int], span: Callable[[Any], int],
                    from_ms: Callable[[int], Any]) -> None: ...
def _set_bulk(hook: Callable[[BaseException, int, int, List[Tuple[int, int, str]], int, str],
                             BaseException]) -> None: ...
def _raise_status(code: int, message: str) -> None: ...
