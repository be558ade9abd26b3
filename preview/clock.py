"""Wall-clock helpers: naive UTC in storage, ISO 8601 with ``Z`` on the wire."""

from __future__ import annotations

from datetime import UTC, datetime

__all__ = ["isoformat", "utcnow"]


def utcnow() -> datetime:
    """Naive UTC, the storage convention of every timestamp column."""
    return datetime.now(UTC).replace(tzinfo=None)


def isoformat(moment: datetime | None) -> str | None:
    """``2026-11-21T12:00:00.123Z`` (milliseconds), or None."""
    if moment is None:
        return None
    return moment.isoformat(timespec="milliseconds") + "Z"
