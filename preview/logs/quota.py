"""How much of one preview's log the store keeps: :class:`LogQuota` (PREVIEW_LOG_QUOTA_MB).

A preview that prints without end must not fill the service's disk. Its log's first
lines are stored until they take seven eighths of the quota (the *head*). Past it the
live streams still get every event, but the writer stores only status events (the
lifecycle's, a handful) and counts the rest, so it never holds the producers back.
When the preview ends (:func:`seal_log`), the newest lines, those still in the
broadcast's ring, are stored within the last eighth (the *tail*), and one ``system``
event says how many lines were not stored, from which id and time: the history has a
gap, and says so. The status and the history tell it too (:meth:`LogQuota.summary`), and
the preview's row keeps it (``on_row``).

A row's size is estimated as SQLite stores it (:func:`stored_bytes`): the message, about
100 bytes for the rest of the row, and for a row longer than its page's share the 4 KiB
overflow page(s) it spills into (a 1,000-byte line takes 4.6 KiB on disk, ten 80-byte
lines 1.8 KiB). PostgreSQL stores long lines in less, so there the quota bounds from above.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from typing import Any

import trio

from ..clock import isoformat
from .broadcast import LogBroadcast
from .event import Event

__all__ = ["LogQuota", "seal_log", "stored_bytes", "truncation"]

_ROW = 100  # bytes a row takes besides its message (columns, header, its page's slack)
_COLUMNS = 70  # of which the other columns and the record's header
_LOCAL_MAX = 1002  # the largest row SQLite keeps whole on a 4 KiB page of this table
_LOCAL_MIN = 489  # what a longer row keeps on it; the rest goes to overflow pages
_PAGE = 4096
_OVERFLOW = _PAGE - 4
_SEAL_WAIT = 5.0  # s: for the writer to have seen every event before the count is made
_ROW_COLUMNS = (
    "log_dropped_lines",
    "log_dropped_since",
    "log_dropped_since_at",
    "log_dropped_until",
)


def stored_bytes(message: str) -> int:
    """About the bytes a log row with ``message`` adds to the SQLite file (module doc)."""
    size = len(message) if message.isascii() else len(message.encode("utf-8", "surrogatepass"))
    payload = size + _COLUMNS
    if payload <= _LOCAL_MAX:
        return size + _ROW
    local = _LOCAL_MIN + (payload - _LOCAL_MIN) % _OVERFLOW
    if local > _LOCAL_MAX:
        local = _LOCAL_MIN
    pages = -(-(payload - local) // _OVERFLOW)
    return local + _ROW - _COLUMNS + pages * _PAGE


class LogQuota:
    """One preview's log quota, kept by its writer (see the module doc).

    ``admit`` sorts each batch the writer takes into what to store; ``seal`` (once, when
    the preview ends) picks the tail and makes the count final. ``on_row`` gets the row's
    columns when the head is full and when the count is final."""

    def __init__(self, quota_bytes: int, on_row: Callable[..., Any] | None = None) -> None:
        self.quota_bytes = quota_bytes
        self._tail_budget = quota_bytes // 8
        self._head_budget = quota_bytes - self._tail_budget
        self._on_row = on_row or (lambda **values: None)
        self.stored = 0  # estimated bytes stored
        self.since: Event | None = None  # the first event the head had no room for
        self._passed = 0  # events not stored so far (past the head, not status ones)
        self._status_passed = 0  # status events past the head (stored)
        self.last_dropped_id = 0
        self._sealed_at: int | None = None  # the last id when sealed: later ones are stored
        self._tail: list[Event] = []  # for the writer's next batch
        self.dropped: int | None = None  # lines not stored, once sealed

    @property
    def truncated(self) -> bool:
        """Lines were left out of the store (so far, until sealed)."""
        return self.since is not None and self.dropped != 0

    def admit(self, batch: Sequence[Event]) -> Sequence[Event]:
        """The events of ``batch`` to store, in order, with the tail once sealed."""
        rest: Sequence[Event] = batch
        kept: list[Event] = []
        if self.since is None:
            stored, budget = self.stored, self._head_budget
            messages = [event.message for event in batch]
            longest = max(map(len, messages), default=0)
            if longest + _COLUMNS <= _LOCAL_MAX and "".join(messages).isascii():
                # Short ASCII lines (most): stored_bytes is the length and _ROW, summed.
                cost = sum(map(len, messages)) + _ROW * len(messages)
                if stored + cost <= budget:
                    self.stored = stored + cost
                    return batch
            for index, event in enumerate(batch):
                cost = stored_bytes(event.message)
                if stored + cost > budget:
                    self.stored = stored
                    self._head_full(event)
                    kept, rest = list(batch[:index]), batch[index:]
                    break
                stored += cost
            else:
                self.stored = stored
                return batch
        sealed_at = self._sealed_at
        if sealed_at is None:
            past = [event for event in rest if event.status is not None]
        else:
            past = [event for event in rest if event.status is not None or event.id > sealed_at]
        self._status_passed += sum(1 for event in past if event.status is not None)
        self._passed += len(rest) - len(past)
        if len(past) < len(rest):
            self.last_dropped_id = next(
                event.id
                for event in reversed(rest)
                if event.status is None and (sealed_at is None or event.id <= sealed_at)
            )
        self.stored += sum([stored_bytes(event.message) for event in past])
        kept += past
        if self._tail:
            kept, self._tail = self._tail + kept, []
        return kept

    def _head_full(self, event: Event) -> None:
        self.since = event
        self._on_row(
            log_dropped_since=event.id, log_dropped_since_at=event.timestamp, log_dropped_lines=None
        )

    def seal(self, recent: Sequence[Event], last_id: int) -> str | None:
        """The preview's log ends at ``last_id``: the tail is picked from ``recent`` (the
        ring's events, oldest first) and stored with the writer's next batch; every event
        after ``last_id`` is stored. The ``system`` message telling what was not stored,
        if anything was not."""
        self._sealed_at = last_id
        since = self.since
        if since is None:
            return None
        tail: list[Event] = []
        budget = self._tail_budget
        for event in reversed(recent):
            if event.id < since.id or event.id > last_id:
                break
            if event.status is not None:
                continue  # stored already
            cost = stored_bytes(event.message)
            if cost > budget:
                break
            budget -= cost
            tail.append(event)
        tail.reverse()
        self._tail = tail
        self.stored += self._tail_budget - budget
        self.dropped = max(0, last_id - since.id + 1 - self._status_passed - len(tail))
        if tail:
            self.last_dropped_id = tail[0].id - 1
        self._on_row(**self.row_values())
        if not self.dropped:
            return None
        return (
            f"log storage quota of {self.quota_bytes / 2**20:g} MiB reached "
            f"(PREVIEW_LOG_QUOTA_MB): {self.dropped:,} lines from id {since.id} "
            f"({isoformat(since.timestamp)}) to id {self.last_dropped_id} were streamed but "
            f"not stored; the history keeps the {since.id - 1:,} before them and the "
            f"{len(tail):,} after them"
        )

    def row_values(self) -> dict[str, Any]:
        since = self.since
        if since is None or not self.truncated:
            return dict.fromkeys(_ROW_COLUMNS)
        return {
            "log_dropped_lines": self.dropped,
            "log_dropped_since": since.id,
            "log_dropped_since_at": since.timestamp,
            "log_dropped_until": self.last_dropped_id,
        }

    def summary(self) -> dict[str, Any] | None:
        """``logsTruncated`` of the status and the history: None while everything is
        stored (or, once sealed, if nothing was left out)."""
        since = self.since
        if since is None or not self.truncated:
            return None
        return truncation(
            self.dropped if self.dropped is not None else self._passed,
            since.id,
            since.timestamp,
            self.last_dropped_id or None,
            final=self.dropped is not None,
        )


def truncation(
    dropped: int | None, since: int, since_at: Any, until: int | None, *, final: bool
) -> dict[str, Any]:
    """The ``logsTruncated`` shape, from a live quota or a preview's row."""
    return {
        "droppedLines": dropped,
        "since": {"id": since, "timestamp": isoformat(since_at)},
        "lastDroppedId": until,
        "final": final,
    }


async def seal_log(
    quota: LogQuota, broadcast: LogBroadcast, say: Callable[[str, str], Awaitable[None]]
) -> None:
    """When the preview ends, before its final status: once the writer has seen every
    event (past the head it only counts them; at most ``_SEAL_WAIT`` if the database
    holds it up), seal the quota and ``say`` what was not stored, if anything."""
    with trio.move_on_after(_SEAL_WAIT):
        await broadcast.wait_persisted(broadcast.last_id)
    told = quota.seal(broadcast.recent(), broadcast.last_id)
    if told is not None:
        await say("WARN", told)
