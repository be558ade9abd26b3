"""Persistence: the tables with a plain record class each, and the trio-friendly :class:`Store`."""

from .database import ALL_LINES, DatabaseUnavailable, LogFilter, Store
from .logrows import Pace
from .models import (
    ACTIVE_STATUSES,
    Generation,
    GenerationFile,
    GenerationGone,
    LogEvent,
    PreviewInstance,
)
from .retention import LogRetention
from .retry import until_stored

__all__ = [
    "ACTIVE_STATUSES",
    "ALL_LINES",
    "DatabaseUnavailable",
    "Generation",
    "GenerationFile",
    "GenerationGone",
    "LogEvent",
    "LogFilter",
    "LogRetention",
    "Pace",
    "PreviewInstance",
    "Store",
    "until_stored",
]
