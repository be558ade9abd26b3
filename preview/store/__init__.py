"""Persistence: SQLAlchemy models and the trio-friendly :class:`Store`."""

from .database import Store
from .models import ACTIVE_STATUSES, Generation, GenerationFile, LogEvent, PreviewInstance

__all__ = [
    "ACTIVE_STATUSES",
    "Generation",
    "GenerationFile",
    "LogEvent",
    "PreviewInstance",
    "Store",
]
