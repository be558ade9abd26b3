"""Old previews' log history removed in the background: :class:`LogRetention`.

``PREVIEW_LOG_RETENTION_DAYS`` after a preview ended (``stopped`` or ``failed``), its log
events are deleted, oldest first, ``batch_rows`` per transaction with a pause between:
each transaction is short, so the live previews' log writers (which share the database,
and on SQLite its one write lock) wait at most one batch, never a whole preview's log.
The pause outlasts SQLite's busy handler's longest back-off (100 ms) and the log
writers' wait for company (``logs.writer``: 250 ms, then the store): a writer that met
the lock gets it before the next batch does, and one that lingered stores its lines
between two batches. (At 250 ms, the linger's own length, a quiet machine's fast
batches sometimes ran two in a row with no commit between.)
The row stays, with ``logs_removed_at`` saying when (the status and the history say so);
its kept requests (``history``) go with its log.
One pass at start, then one every ``interval``; a task in the supervisor's nursery.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta

import trio
from sqlalchemy import Engine, delete, func, select, update

from ..clock import utcnow
from ..errors import StoreError
from .database import Store
from .models import LogEvent, PreviewInstance, ProxiedRequest

__all__ = ["LogRetention"]

_log = logging.getLogger(__name__)
_PER_PASS = 100  # a pass looks for this many at a time, until none is left
_ENDED = ("stopped", "failed")


def _expired(engine: Engine, ended_before: datetime, limit: int) -> list[str]:
    """Previews that ended before ``ended_before`` and still have their log."""
    row = PreviewInstance
    query = (
        select(row.id)
        .where(
            row.status.in_(_ENDED),
            func.coalesce(row.stopped_at, row.created_at) < ended_before,
            row.logs_removed_at.is_(None),
        )
        .limit(limit)
    )
    with engine.connect() as connection:
        return list(connection.scalars(query))


def _remove_batch(engine: Engine, preview_id: str, rows: int) -> int:
    """Delete the preview's ``rows`` oldest log events, in one transaction; how many."""
    table = LogEvent.__table__
    mine = table.c.preview_id == preview_id
    with engine.begin() as connection:
        bound = connection.scalar(
            select(table.c.seq).where(mine).order_by(table.c.seq).offset(rows - 1).limit(1)
        )
        query = delete(table).where(mine)
        if bound is not None:
            query = query.where(table.c.seq <= bound)
        return connection.execute(query).rowcount


def _mark_removed(engine: Engine, preview_id: str, at: datetime) -> None:
    """Its log is gone: say so, and remove its kept requests (bounded per preview)."""
    with engine.begin() as connection:
        connection.execute(delete(ProxiedRequest).where(ProxiedRequest.preview_id == preview_id))
        connection.execute(
            update(PreviewInstance)
            .where(PreviewInstance.id == preview_id)
            .values(logs_removed_at=at)
        )


class LogRetention:
    """Removes the log history of previews that ended more than ``days`` ago (module doc)."""

    def __init__(
        self,
        store: Store,
        days: float,
        *,
        batch_rows: int = 5000,
        pause: float = 0.5,
        interval: float = 3600.0,
    ) -> None:
        self._store = store
        self.days = days
        self.batch_rows = batch_rows
        self.pause = pause
        self.interval = interval
        self.passes = 0  # passes completed
        self._passed = trio.lowlevel.ParkingLot()
        # What else ends with the logs (snapshots), each told the same moment at each pass.
        self.also: list[Callable[[datetime], Awaitable[object]]] = []

    async def run(self) -> None:
        """A pass now and every ``interval``, until cancelled. A pass the database fails
        is logged and tried again at the next."""
        while True:
            try:
                await self.run_once()
            except StoreError as error:
                _log.warning("log retention: the database failed this pass (%s)", error.message)
            except Exception:  # never the service's end: the next pass tries again
                _log.exception("log retention: this pass failed")
            await trio.sleep(self.interval)

    async def run_once(self, now: datetime | None = None) -> int:
        """One pass: every preview ended more than ``days`` before ``now`` loses its log;
        how many previews did."""
        ended_before = (now or utcnow()) - timedelta(days=self.days)
        store, done = self._store, 0
        while previews := await store.run_sync(_expired, store.engine, ended_before, _PER_PASS):
            for preview_id in previews:
                await self._remove_log(preview_id)
                done += 1
        for remove in self.also:
            await remove(ended_before)
        self.passes += 1
        self._passed.unpark_all()
        return done

    async def _remove_log(self, preview_id: str) -> None:
        store, removed = self._store, 0
        while True:
            count = await store.run_sync(_remove_batch, store.engine, preview_id, self.batch_rows)
            removed += count
            await trio.sleep(self.pause)  # the writers' turn
            if count < self.batch_rows:
                break
        await store.run_sync(_mark_removed, store.engine, preview_id, utcnow())
        _log.info("log retention: removed the %d log events of %s", removed, preview_id)

    async def wait_for_pass(self, count: int) -> None:
        """Return once ``count`` passes have completed."""
        while self.passes < count:
            await self._passed.park()
