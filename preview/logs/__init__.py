"""The log pipeline: the child's pipes to lines and levels, events, the broadcast and its
subscribers, the writer that stores every event, and the fields of a JSON line (read
when the history is, not at intake)."""

from .broadcast import OFFER_GROUP, WAKE_GROUP, LogBroadcast
from .causes import (
    NO_SPACE,
    failure_cause,
    fault_cause,
    gitignored_module,
    gitignored_submodule,
    missing_env,
    namesake_wrapper,
    no_prisma_engine,
    no_space,
    report_fault,
    shown_lines,
    with_stand_ins,
    write_failure,
)
from .childoutput import ERROR_LINES, SPLIT_MARK, ChildOutput
from .event import SSE_KEEPALIVE, Event, sse_frames
from .fields import (
    FIELD_NAME,
    MAX_FIELD_FILTERS,
    MISSING,
    FieldFilter,
    field_text,
    field_value,
    line_fields,
    matches_all,
    parse_condition,
)
from .hostpaths import REVISION_DIRS, HostPaths
from .lines import JS_FRAME, LevelClassifier, Line, LineSplitter, classify_level
from .quota import LogQuota, seal_log, stored_bytes, truncation
from .subscription import HEARTBEAT, PARKED, Gap, Parked, Sink, Subscription
from .tails import OutputTails
from .writer import write_log_events

__all__ = [
    "ERROR_LINES",
    "FIELD_NAME",
    "HEARTBEAT",
    "JS_FRAME",
    "MAX_FIELD_FILTERS",
    "MISSING",
    "NO_SPACE",
    "OFFER_GROUP",
    "PARKED",
    "REVISION_DIRS",
    "SPLIT_MARK",
    "SSE_KEEPALIVE",
    "WAKE_GROUP",
    "ChildOutput",
    "Event",
    "FieldFilter",
    "Gap",
    "HostPaths",
    "LevelClassifier",
    "Line",
    "LineSplitter",
    "LogBroadcast",
    "LogQuota",
    "OutputTails",
    "Parked",
    "Sink",
    "Subscription",
    "classify_level",
    "failure_cause",
    "fault_cause",
    "field_text",
    "field_value",
    "gitignored_module",
    "gitignored_submodule",
    "line_fields",
    "matches_all",
    "missing_env",
    "namesake_wrapper",
    "no_prisma_engine",
    "no_space",
    "parse_condition",
    "report_fault",
    "seal_log",
    "shown_lines",
    "sse_frames",
    "stored_bytes",
    "truncation",
    "with_stand_ins",
    "write_failure",
    "write_log_events",
]
