"""The log's hot paths below SQLAlchemy's ORM: a stored batch of events and a catch-up read.

Persistence and a subscriber the ring overtook must both keep up with a child printing
as fast as it can, so these go to the driver with plain tuples: multi-row INSERTs and
sqlite3's own cursor on SQLite, one COPY on PostgreSQL. Each function is one synchronous
unit of work for ``Store.run_sync`` (a worker thread, the store's error translation); the
driver's errors are raised as SQLAlchemy's, like those of any statement.
"""

from __future__ import annotations

import functools
import os
import time
from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Engine
from sqlalchemy.exc import DBAPIError

__all__ = [
    "EVENT_FIELDS",
    "LOG_EVENT_COLUMNS",
    "Pace",
    "copy_postgres",
    "event_values_sqlite",
    "insert_rows_sqlite",
    "insert_sqlite",
    "write_lock_sqlite",
]

LOG_EVENT_COLUMNS = (
    "preview_id",
    "seq",
    "timestamp",
    "level",
    "message",
    "source",
    "stream",
    "status",
    "process",
)
_LOG_EVENTS = f"log_events ({', '.join(LOG_EVENT_COLUMNS)})"
_SQLITE_INSERT_LOG_EVENTS = f"INSERT INTO {_LOG_EVENTS} VALUES "
# Rows per multi-row INSERT: one statement step (and one release of the GIL) for many
# rows instead of one each, as many as _MAX_VALUES allows (binding them holds the GIL:
# insert_rows_sqlite); the rest of a batch in statements of fewer (at most one each).
_SQLITE_CHUNKS = (256, 128, 64, 32, 16, 8, 4, 2, 1)
_MAX_VALUES = 512
_PG_COPY_LOG_EVENTS = f"COPY {_LOG_EVENTS} FROM STDIN"
# Event's arguments in order (id is the seq), for log_event_values.
EVENT_FIELDS = (
    "seq",
    "timestamp",
    "level",
    "message",
    "source",
    "stream",
    "status",
    "process",
)
_SQLITE_EVENT_VALUES = (
    f"SELECT {', '.join(EVENT_FIELDS)} FROM log_events"
    " WHERE preview_id = ? AND seq > ? AND seq < ? ORDER BY seq LIMIT ?"
)
_NO_BOUND = 1 << 62
# A paced write works this long at most, then rests this long (see Pace), at most this
# many times a transaction: the write lock is held 20 ms more at most (other writers wait
# for it, up to the busy timeout), however slow the machine or large the batch.
_SLICE = 0.00025
_REST = 0.001
_MOST_RESTS = 20
_YIELD = getattr(os, "sched_yield", lambda: None)  # where there is none: no yield


class Pace:
    """A background write's statements in short slices with rests between them.

    On a machine whose cores the service, its previews and their callers share (two
    here), a writer thread working a millisecond or more at once made the proxied call
    under way late by about as long: the kernel queues the woken caller or app behind
    the thread, whichever core it ran on (a process, ``nice`` or a cgroup's share does
    the same; benchmarks/HISTORY.md, the proxy's twentieth to twenty-fourth rounds). A
    slice of a quarter of a millisecond delays a call by that at most, and a rest of a
    millisecond, longer than a call, lets it pass before the next one. So a batch of a
    trickle (the log's after its linger, the request history's) takes a few times as
    long (its rests 20 ms at most) but never more than a fifth of a core; a writer
    behind (a flood), or a reader waiting for it (``hurried``, read in the writer's
    thread: a flag of the loop's), writes at once. Past its rests, or hurried, it lets
    the core go after each slice instead (``sched_yield``: nothing if nobody waits for
    the core): an app at ``SCHED_BATCH`` (``sandbox.child``) woken by a call does not
    preempt the thread, and waited out its time slice, milliseconds, behind the rest of
    a batch of large rows (the request history's 64 KiB samples: a large JSON answer's
    p99 at one connection +9-13 ms, now +1; benchmarks/HISTORY.md, the twenty-eighth
    round). Called between statements, in the store's worker thread."""

    def __init__(self, hurried: Callable[[], bool]) -> None:
        self._hurried = hurried
        self._began = time.perf_counter()
        self.rests = 0
        self.yields = 0

    def __call__(self) -> None:
        if time.perf_counter() - self._began < _SLICE:
            return
        if self.rests >= _MOST_RESTS or self._hurried():
            # No rest (the lock would be held too long, or a reader waits): the core and
            # the GIL let go for a moment, so that an app or the loop woken meanwhile
            # runs now rather than after this thread's time slice (milliseconds).
            _YIELD()
            self.yields += 1
        else:
            time.sleep(_REST)  # the GIL is let go, and the write lock kept (one transaction)
            self.rests += 1
        self._began = time.perf_counter()


def insert_sqlite(
    engine: Engine, values: Sequence[tuple[Any, ...]], pace: Pace | None = None
) -> None:
    """Insert tuples in ``LOG_EVENT_COLUMNS`` order, in one transaction (SQLite), with
    ``pace`` between its statements."""
    # The hot path of persistence: plain values straight to sqlite3 (multi-row
    # INSERTs, the rest by executemany), with the timestamp in the exact text form
    # SQLAlchemy's SQLite DateTime writes and reads. SQLAlchemy's per-row parameter
    # processing would otherwise cost twice the insert.
    flat: list[Any] = []
    last_moment, last_text = None, ""
    extend = flat.extend
    for pid, seq, moment, level, message, source, stream, status, process in values:
        if moment is not last_moment:  # lines of one pipe read share one timestamp
            last_moment = moment
            last_text = moment.isoformat(sep=" ", timespec="microseconds")
        extend((pid, seq, last_text, level, message, source, stream, status, process))
    with engine.begin() as connection:
        insert_rows_sqlite(
            connection, _SQLITE_INSERT_LOG_EVENTS, len(LOG_EVENT_COLUMNS), flat, pace
        )


def insert_rows_sqlite(
    connection: Any,
    insert: str,
    width: int,
    flat: Sequence[Any],
    pace: Pace | None = None,
    most_rows: int = _SQLITE_CHUNKS[0],
) -> None:
    """Insert the rows of ``flat`` (``width`` values each, in order) on ``connection``
    with multi-row statements (``insert``: ``INSERT INTO t (columns) VALUES ``), with
    ``pace`` (:class:`Pace`) between them.

    sqlite3 lets the GIL go around each statement's step, so a row a step (executemany)
    was a hand-over of the GIL per row to the event loop's thread whenever it was busy:
    two context switches a row, at a few hundred proxied calls a second most of the
    service's context switches. But it binds a statement's parameters with the GIL
    held, in C, where no switch interval reaches: 256 history rows (5,120 values) held
    the loop's thread for a millisecond and more on a slow VM. So a statement is up to
    ``_MAX_VALUES`` values and ``most_rows`` rows (its caller's bound on a statement's
    bytes), straight to sqlite3's cursor (SQLAlchemy's per-statement steps cost as much
    as a small statement's insert)."""
    count, done = len(flat) // width, 0
    cursor = connection.connection.driver_connection.cursor()
    dbapi_error = connection.dialect.loaded_dbapi.Error
    try:
        for rows in _SQLITE_CHUNKS:
            if (rows * width > _MAX_VALUES or rows > most_rows) and rows > 1:
                continue
            while count - done >= rows:
                statement = _multirow(insert, width, rows)
                values = tuple(flat[done * width : (done + rows) * width])
                try:
                    cursor.execute(statement, values)
                except dbapi_error as error:
                    raise DBAPIError.instance(statement, None, error, dbapi_error) from error
                done += rows
                if pace is not None:
                    pace()
    finally:
        cursor.close()


@functools.lru_cache(maxsize=32)
def _multirow(insert: str, width: int, rows: int) -> str:
    return insert + ", ".join([f"({', '.join('?' * width)})"] * rows)


def write_lock_sqlite(engine: Engine) -> None:
    """Take SQLite's write lock and let it go at once: raises (busy, past the busy
    timeout) while another connection holds it, as the log's next batch would."""
    with engine.connect() as connection:
        connection.exec_driver_sql("BEGIN IMMEDIATE")
        connection.exec_driver_sql("ROLLBACK")


def copy_postgres(engine: Engine, values: Sequence[tuple[Any, ...]]) -> None:
    """Insert tuples in ``LOG_EVENT_COLUMNS`` order, in one transaction (psycopg 3)."""
    # PostgreSQL through psycopg 3: one COPY streams the batch, several times the
    # rows per second of multi-row INSERTs. The driver's errors are wrapped as
    # SQLAlchemy's (IntegrityError, ...), like those of any statement.
    with engine.begin() as connection:
        dbapi_error = connection.dialect.loaded_dbapi.Error
        cursor = connection.connection.driver_connection.cursor()  # type: ignore[union-attr]
        try:
            with cursor.copy(_PG_COPY_LOG_EVENTS) as copy:
                for value in values:
                    copy.write_row(value)
        except dbapi_error as error:
            raise DBAPIError.instance(_PG_COPY_LOG_EVENTS, None, error, dbapi_error) from error
        finally:
            cursor.close()


def event_values_sqlite(
    engine: Engine, preview_id: str, after: int, before: int | None, limit: int
) -> list[tuple[Any, ...]]:
    """``Store.log_event_values`` on SQLite: the rows straight from sqlite3."""
    parameters = (preview_id, after, _NO_BOUND if before is None else before, limit)
    with engine.connect() as connection:
        dbapi_error = connection.dialect.loaded_dbapi.Error
        try:
            cursor = connection.connection.driver_connection.execute(  # type: ignore[union-attr]
                _SQLITE_EVENT_VALUES, parameters
            )
            rows = cursor.fetchall()
        except dbapi_error as error:
            wrapped = DBAPIError.instance(_SQLITE_EVENT_VALUES, parameters, error, dbapi_error)
            raise wrapped from error
    # Timestamps are the text SQLAlchemy's SQLite DateTime writes (as
    # insert_sqlite does); the lines of one pipe read share one.
    values: list[tuple[Any, ...]] = []
    append, parse = values.append, datetime.fromisoformat
    last_text, last_moment = None, None
    for seq, text, level, message, source, stream, status, process in rows:
        if text != last_text:
            last_text, last_moment = text, parse(text)
        append((seq, last_moment, level, message, source, stream, status, process))
    return values
