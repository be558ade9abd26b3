"""The log pipeline: the child's pipes to lines and levels, events, the broadcast and its
subscribers, and the writer that stores every event."""

from .broadcast import OFFER_GROUP, WAKE_GROUP, LogBroadcast
from .childoutput import ERROR_LINES, SPLIT_MARK, ChildOutput, relative_to
from .event import SSE_KEEPALIVE, Event
from .failure import failure_cause
from .lines import LevelClassifier, Line, LineSplitter, classify_level
from .subscription import HEARTBEAT, PARKED, Gap, Parked, Sink, Subscription
from .writer import write_log_events

__all__ = [
    "ERROR_LINES",
    "HEARTBEAT",
    "OFFER_GROUP",
    "PARKED",
    "SPLIT_MARK",
    "SSE_KEEPALIVE",
    "WAKE_GROUP",
    "ChildOutput",
    "Event",
    "Gap",
    "LevelClassifier",
    "Line",
    "LineSplitter",
    "LogBroadcast",
    "Parked",
    "Sink",
    "Subscription",
    "classify_level",
    "failure_cause",
    "relative_to",
    "write_log_events",
]
