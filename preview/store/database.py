"""The :class:`Store`: every database call, run in a worker thread under a limiter.

SQLAlchemy is blocking, so each public coroutine here wraps one short synchronous unit
of work in ``trio.to_thread.run_sync`` with the store's ``CapacityLimiter``; nothing
blocks the event loop. The schema is created and upgraded with Alembic in
:meth:`Store.migrate`.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterable, Sequence
from datetime import datetime
from pathlib import Path
from typing import Any, TypeVar

import trio
from alembic import command
from alembic.config import Config
from sqlalchemy import Engine, Row, create_engine, delete, event, func, insert, select, update
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, DBAPIError
from sqlalchemy.orm import Session, sessionmaker

from .models import (
    ACTIVE_STATUSES,
    Generation,
    GenerationFile,
    LogEvent,
    PreviewInstance,
)

__all__ = ["LOG_EVENT_COLUMNS", "DatabaseUnavailable", "Store"]

_T = TypeVar("_T")
_MIGRATIONS = Path(__file__).resolve().parent.parent / "migrations"
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
_EVENT_FIELDS = ("seq", "timestamp", "level", "message", "source", "stream", "status")
_SQLITE_EVENT_VALUES = (
    f"SELECT {', '.join(_EVENT_FIELDS)} FROM log_events"
    " WHERE preview_id = ? AND seq > ? AND seq < ? ORDER BY seq LIMIT ?"
)
_NO_BOUND = 1 << 62


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    # WAL lets stream readers run while the log writer commits; NORMAL is durable
    # across a crash of the service (not of the machine), which is what logs need.
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=10000")
    cursor.close()


class DatabaseUnavailable(Exception):
    """The database at the configured URL cannot be opened or brought up to date: a
    malformed URL, a missing driver, a server that refuses, a file that cannot be made.
    The message says which, in one line, without the URL's password."""


def _unavailable(url: str, error: BaseException) -> DatabaseUnavailable:
    try:
        shown = make_url(url).render_as_string(hide_password=True)
    except ArgumentError:
        shown = repr(url)
    reason = str(getattr(error, "orig", None) or error).strip().splitlines()
    return DatabaseUnavailable(
        f"cannot open the database {shown}: {reason[0] if reason else type(error).__name__}"
    )


class Store:
    """Owner of the engine. Open with :meth:`open` (migrates), close with :meth:`aclose`."""

    def __init__(self, url: str, *, threads: int = 4) -> None:
        self.url = url
        self.engine: Engine = self._create_engine(url, threads)
        self._sessions = sessionmaker(self.engine, expire_on_commit=False)
        self._limiter = trio.CapacityLimiter(threads)

    @staticmethod
    def _create_engine(url: str, threads: int) -> Engine:
        if url.startswith("sqlite"):
            path = url.split("///", 1)[-1]
            if path and path != ":memory:":
                Path(path).parent.mkdir(parents=True, exist_ok=True)
            engine = create_engine(url, pool_size=threads, max_overflow=0)
            event.listen(engine, "connect", _sqlite_pragmas)
            return engine
        return create_engine(url, pool_size=threads, max_overflow=0, pool_pre_ping=True)

    @classmethod
    async def open(cls, url: str, *, threads: int = 4) -> Store:
        """Connect and migrate; :class:`DatabaseUnavailable` if that cannot be done."""
        try:
            store = cls(url, threads=threads)
        except (ArgumentError, ImportError, OSError) as error:  # OSError: the SQLite dir
            raise _unavailable(url, error) from error
        try:
            await store.migrate()
        except BaseException as error:
            store.engine.dispose()
            if isinstance(error, DBAPIError):
                raise _unavailable(url, error) from error
            raise
        return store

    async def aclose(self) -> None:
        self.engine.dispose()

    async def _run(self, fn: Callable[..., _T], *args: Any) -> _T:
        return await trio.to_thread.run_sync(
            functools.partial(fn, *args), limiter=self._limiter, abandon_on_cancel=False
        )

    async def _in_session(self, fn: Callable[[Session], _T]) -> _T:
        def unit() -> _T:
            with self._sessions.begin() as session:
                return fn(session)

        return await self._run(unit)

    # -- schema ---------------------------------------------------------------------

    async def migrate(self) -> None:
        def upgrade() -> None:
            config = Config()
            config.set_main_option("script_location", str(_MIGRATIONS))
            with self.engine.begin() as connection:
                config.attributes["connection"] = connection
                command.upgrade(config, "head")

        await self._run(upgrade)

    # -- generations ----------------------------------------------------------------

    async def add_generation(self, generation: Generation, files: dict[str, bytes]) -> None:
        def unit(session: Session) -> None:
            session.add(generation)
            session.flush()
            if not files:
                # execute() with an empty list would run one INSERT with no values.
                return
            session.execute(
                insert(GenerationFile),
                [
                    {"generation_id": generation.id, "path": p, "size": len(c), "content": c}
                    for p, c in files.items()
                ],
            )

        await self._in_session(unit)

    async def get_generation(self, gid: str) -> Generation | None:
        return await self._in_session(lambda s: s.get(Generation, gid))

    async def list_generations(self, user_id: str) -> list[Generation]:
        query = (
            select(Generation)
            .where(Generation.user_id == user_id)
            .order_by(Generation.created_at.desc())
        )
        return await self._in_session(lambda s: list(s.scalars(query)))

    async def generation_file_list(self, gid: str) -> list[tuple[str, int]]:
        query = (
            select(GenerationFile.path, GenerationFile.size)
            .where(GenerationFile.generation_id == gid)
            .order_by(GenerationFile.path)
        )
        return await self._in_session(lambda s: [(p, n) for p, n in s.execute(query)])

    async def generation_files(self, gid: str) -> dict[str, bytes]:
        query = select(GenerationFile.path, GenerationFile.content).where(
            GenerationFile.generation_id == gid
        )
        return await self._in_session(lambda s: {p: bytes(c) for p, c in s.execute(query)})

    # -- previews -------------------------------------------------------------------

    async def add_preview(self, preview: PreviewInstance) -> None:
        await self._in_session(lambda s: s.add(preview))

    async def update_preview(self, pid: str, **values: Any) -> None:
        query = update(PreviewInstance).where(PreviewInstance.id == pid).values(**values)
        await self._in_session(lambda s: s.execute(query))

    async def get_preview(self, pid: str) -> PreviewInstance | None:
        return await self._in_session(lambda s: s.get(PreviewInstance, pid))

    async def latest_preview(self, gid: str) -> PreviewInstance | None:
        query = (
            select(PreviewInstance)
            .where(PreviewInstance.generation_id == gid)
            .order_by(PreviewInstance.created_at.desc(), PreviewInstance.id.desc())
            .limit(1)
        )
        return await self._in_session(lambda s: s.scalars(query).first())

    async def unfinished_previews(self) -> list[PreviewInstance]:
        query = select(PreviewInstance).where(PreviewInstance.status.in_(ACTIVE_STATUSES))
        return await self._in_session(lambda s: list(s.scalars(query)))

    # -- log events -----------------------------------------------------------------

    async def add_log_events(self, rows: Sequence[dict[str, Any]]) -> None:
        """Insert a batch of row dicts in one transaction (one executemany statement)."""
        await self.add_log_values([tuple(row[c] for c in LOG_EVENT_COLUMNS) for row in rows])

    async def add_log_values(self, values: Sequence[tuple[Any, ...]]) -> None:
        """Insert a batch of tuples in ``LOG_EVENT_COLUMNS`` order, in one transaction."""
        if not values:
            return
        dialect = self.engine.dialect
        if dialect.name == "sqlite":
            await self._run(self._add_log_values_sqlite, values)
        elif dialect.name == "postgresql" and dialect.driver == "psycopg":
            await self._run(self._add_log_values_copy, values)
        else:
            rows = [dict(zip(LOG_EVENT_COLUMNS, value, strict=True)) for value in values]
            await self._in_session(lambda s: s.execute(LogEvent.__table__.insert(), rows))

    def _add_log_values_sqlite(self, values: Sequence[tuple[Any, ...]]) -> None:
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
        with self.engine.begin() as connection:
            for start in range(0, whole, step):
                connection.exec_driver_sql(_SQLITE_INSERT_MANY, tuple(flat[start : start + step]))
            if whole < len(flat):
                rest = [tuple(flat[i : i + width]) for i in range(whole, len(flat), width)]
                connection.exec_driver_sql(_SQLITE_INSERT_LOG_EVENTS + _SQLITE_ROW, rest)

    def _add_log_values_copy(self, values: Sequence[tuple[Any, ...]]) -> None:
        # PostgreSQL through psycopg 3: one COPY streams the batch, several times the
        # rows per second of multi-row INSERTs. The driver's errors are wrapped as
        # SQLAlchemy's (IntegrityError, ...), like those of any statement.
        with self.engine.begin() as connection:
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

    async def log_events(
        self,
        preview_id: str,
        *,
        after: int = 0,
        before: int | None = None,
        limit: int | None = 1000,
        levels: Iterable[str] | None = None,
        sources: Iterable[str] | None = None,
        streams: Iterable[str] | None = None,
        text: str | None = None,
    ) -> list[Row[Any]]:
        """Rows (attributes as ``LogEvent``'s: ``seq``, ``timestamp``, …) in id order.

        Plain rows, not ORM objects: a subscriber overtaken by the ring reads through
        here, and building ORM objects would cost three times the query."""
        table = LogEvent.__table__
        query = (
            select(table)
            .where(table.c.preview_id == preview_id, table.c.seq > after)
            .order_by(table.c.seq)
        )
        if before is not None:
            query = query.where(table.c.seq < before)
        if levels:
            query = query.where(table.c.level.in_(list(levels)))
        if sources:
            query = query.where(table.c.source.in_(list(sources)))
        if streams:
            query = query.where(table.c.stream.in_(list(streams)))
        if text:
            escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
            query = query.where(table.c.message.ilike(f"%{escaped}%", escape="\\"))
        if limit is not None:
            query = query.limit(limit)

        def rows() -> list[Row[Any]]:
            with self.engine.connect() as connection:
                return list(connection.execute(query))

        return await self._run(rows)

    async def log_event_values(
        self, preview_id: str, *, after: int, before: int | None, limit: int
    ) -> list[tuple[Any, ...]]:
        """Rows with ``after < seq < before``, unfiltered, in seq order, as tuples of
        ``Event``'s arguments (``timestamp`` a naive UTC datetime).

        The path of a subscriber the ring overtook, which must catch up faster than
        the child writes: on SQLite the rows come straight from sqlite3, three times
        the rows per second of a SQLAlchemy select (whose rows and DateTime parsing
        cost twice the query)."""
        if self.engine.dialect.name == "sqlite":
            return await self._run(self._log_event_values_sqlite, preview_id, after, before, limit)
        table = LogEvent.__table__
        query = (
            select(*(table.c[name] for name in _EVENT_FIELDS))
            .where(table.c.preview_id == preview_id, table.c.seq > after)
            .order_by(table.c.seq)
            .limit(limit)
        )
        if before is not None:
            query = query.where(table.c.seq < before)

        def rows() -> list[tuple[Any, ...]]:
            with self.engine.connect() as connection:
                return [tuple(row) for row in connection.execute(query)]

        return await self._run(rows)

    def _log_event_values_sqlite(
        self, preview_id: str, after: int, before: int | None, limit: int
    ) -> list[tuple[Any, ...]]:
        parameters = (preview_id, after, _NO_BOUND if before is None else before, limit)
        with self.engine.connect() as connection:
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
        # _add_log_values_sqlite does); the lines of one pipe read share one.
        values: list[tuple[Any, ...]] = []
        append, parse = values.append, datetime.fromisoformat
        last_text, last_moment = None, None
        for seq, text, level, message, source, stream, status in rows:
            if text != last_text:
                last_text, last_moment = text, parse(text)
            append((seq, last_moment, level, message, source, stream, status))
        return values

    async def count_log_events(self, preview_id: str) -> int:
        query = select(func.count()).select_from(LogEvent).where(LogEvent.preview_id == preview_id)
        return await self._in_session(lambda s: s.scalar(query) or 0)

    async def delete_generation(self, gid: str) -> None:
        await self._in_session(lambda s: s.execute(delete(Generation).where(Generation.id == gid)))
