"""The log's hot paths below SQLAlchemy's ORM: a stored batch of events and a catch-up read.

Persistence and a subscriber the ring overtook must both keep up with a child printing
as fast as it can, so these go to the driver with plain tuples: multi-row INSERTs and
sqlite3's own cursor on SQLite, one COPY on PostgreSQL. Each function is one synchronous
unit of work for ``Store._run`` (a worker thread, the store's error translation); the
driver's errors are raised as SQLAlchemy's, like those of any statement.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Engine
from sqlalchemy.exc import DBAPIError

__all__ = [
    "EVENT_FIELDS",
    "LOG_EVENT_COLUMNS",
    "copy_postgres",
    "event_values_sqlite",
    "insert_sqlite",
    "write_lock_sqlite",
]

LOG_EVENT_COLUMNS = (
    "preview_id", "seq", "timestamp", "level", "message", "source", "stream", "status",
)  # fmt: skip
_SQLITE_ROW = f"({', '.join('?' * len(LOG_EVENT_COLUMNS))})"
_LOG_EVENTS = f"log_events ({', '.join(LOG_EVENT_COLUMNS)})"
_SQLITE_INSERT_LOG_EVENTS = f"INSERT INTO {_LOG_EVENTS} VALUES "
# Rows per multi-row INSERT: one statement step (and one release of the GIL) for many
# rows instead of one each; 256 x 8 parameters stays far below SQLite's 32,766.
_SQLITE_ROWS_PER_INSERT = 256
_SQLITE_INSERT_MANY = _SQLITE_INSERT_LOG_EVENTS + ", ".join([_SQLITE_ROW] * _SQLITE_ROWS_PER_INSERT)
_PG_COPY_LOG_EVENTS = f"COPY {_LOG_EVENTS} FROM STDIN"
# Event's arguments in order (id is the seq), for log_event_values.
EVENT_FIELDS = ("seq", "timestamp", "level", "message", "source", "stream", "status")
_SQLITE_EVENT_VALUES = (
    f"SELECT {', '.join(EVENT_FIELDS)} FROM log_events"
    " WHERE preview_id = ? AND seq > ? AND seq < ? ORDER BY seq LIMIT ?"
)
_NO_BOUND = 1 << 62


def insert_sqlite(engine: Engine, values: Sequence[tuple[Any, ...]]) -> None:
    """Insert tuples in ``LOG_EVENT_COLUMNS`` order, in one transaction (SQLite)."""
    # The hot path of persistence: plain values straight to sqlite3 (multi-row
    # INSERTs, the rest by executemany), with the timestamp in the exact text form
    # SQLAlchemy's SQLite DateTime writes and reads. SQLAlchemy's per-row parameter
    # processing would otherwise cost twice the insert.
    flat: list[Any] = []
    last_moment, last_text = None, ""
    extend = flat.extend
    for pid, seq, moment, level, message, source, stream, status in values:
        if moment is not last_moment:  # lines of one pipe read share one timestamp
            last_moment = moment
            last_text = moment.isoformat(sep=" ", timespec="microseconds")
        extend((pid, seq, last_text, level, message, source, stream, status))
    width, rows = len(LOG_EVENT_COLUMNS), _SQLITE_ROWS_PER_INSERT
    step = width * rows
    whole = len(values) // rows * step
    with engine.begin() as connection:
        for start in range(0, whole, step):
            connection.exec_driver_sql(_SQLITE_INSERT_MANY, tuple(flat[start : start + step]))
        if whole < len(flat):
            rest = [tuple(flat[i : i + width]) for i in range(whole, len(flat), width)]
            connection.exec_driver_sql(_SQLITE_INSERT_LOG_EVENTS + _SQLITE_ROW, rest)


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
    for seq, text, level, message, source, stream, status in rows:
        if text != last_text:
            last_text, last_moment = text, parse(text)
        append((seq, last_moment, level, message, source, stream, status))
    return values
