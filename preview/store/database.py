"""The :class:`Store`: every database call, run in a worker thread under a limiter.

SQLAlchemy is blocking, so each public coroutine here wraps one short synchronous unit
of work in ``trio.to_thread.run_sync`` with the store's ``CapacityLimiter``; nothing
blocks the event loop. The schema is created and upgraded with Alembic in
:meth:`Store.migrate` (``schema``).

Every call goes through :meth:`Store.run_sync`, the one boundary where the driver's errors
that mean "not now" become the service's (``failures``): ``StoreUnavailable`` (503 with
``Retry-After``) or ``StoreFull`` (507). The transaction was rolled back, so nothing of
the call was kept. Other errors (a broken constraint: a bug) pass unchanged. The pool
checks a connection before lending it (``pool_pre_ping``), so it recovers by itself
once the database is back. The log's hot paths are in ``logrows``.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import trio
from sqlalchemy import Engine, Row, create_engine, delete, event, func, insert, or_, select, update
from sqlalchemy.engine import Connection, make_url
from sqlalchemy.exc import ArgumentError, DBAPIError, IntegrityError, SQLAlchemyError

from ..errors import StoreError
from .failures import DatabaseUnavailable, first_line, store_error, unavailable
from .logrows import (
    EVENT_FIELDS,
    LOG_EVENT_COLUMNS,
    Pace,
    copy_postgres,
    event_values_sqlite,
    insert_sqlite,
    write_lock_sqlite,
)
from .models import (
    ACTIVE_STATUSES,
    Generation,
    GenerationFile,
    GenerationGone,
    LogEvent,
    PreviewInstance,
    first,
    name_postgresql_predicates,
    one,
    records,
)
from .revisions import insert_generation
from .schema import SchemaNotUpgraded, upgrade_schema

__all__ = ["LOG_EVENT_COLUMNS", "DatabaseUnavailable", "Store"]

_T = TypeVar("_T")
_log = logging.getLogger(__name__)
_IDLE_IN_TRANSACTION_TIMEOUT = 4.0  # s; below a lease's 6 s (preview.cluster)
_PG_CONNECT_TIMEOUT = 10  # s; a server that does not answer is down, not slow
# s; SQLite waits this long for another connection's write lock, then the call fails
# (503 for the API's; the log writer and a preview's row keeper retry in the background).
# Short: a lock held for seconds (another process's transaction) must not hold an upload,
# a launch or a history request as long; the service's own writes take milliseconds.
_BUSY_TIMEOUT = 1.0
_MIGRATION_BUSY_TIMEOUT = 10.0  # s; at start, another process may be migrating too


def _sqlite_pragmas(busy_timeout: float, dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    # WAL lets stream readers run while the log writer commits; NORMAL is durable
    # across a crash of the service (not of the machine), which is what logs need.
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute(f"PRAGMA busy_timeout={int(busy_timeout * 1000)}")
    cursor.close()


@dataclass(frozen=True)
class LogFilter:
    """Which of a preview's log lines a history read wants: each part given must hold.
    ``processes``: the workers' names, ``web`` for the lines of none; ``text``: a
    case-blind substring; ``field_keys``: only lines that hold each key as a JSON object
    (``"key"``) or a logfmt record (``key=``) would (a field filter's prefilter:
    ``logs.fields`` checks the candidates)."""

    levels: Collection[str] = ()
    sources: Collection[str] = ()
    streams: Collection[str] = ()
    processes: Collection[str] = ()
    text: str | None = None
    field_keys: Collection[str] = ()

    @property
    def narrows(self) -> bool:
        """Whether it leaves any line out."""
        parts = (self.levels, self.sources, self.streams, self.processes, self.field_keys)
        return any(parts) or bool(self.text)


ALL_LINES = LogFilter()


class Store:
    """Owner of the engine. Open with :meth:`open` (migrates), close with :meth:`aclose`.

    ``busy_timeout`` (SQLite): how long a call waits for another connection's lock
    before it fails with ``StoreUnavailable``."""

    def __init__(self, url: str, *, threads: int = 4, busy_timeout: float = _BUSY_TIMEOUT) -> None:
        self.url = url
        self.busy_timeout = busy_timeout
        self.engine: Engine = self._create_engine(url, threads, busy_timeout)
        # Whether the last batch of log events was refused (down, locked, full), and who
        # waits for the next refusal: a reader waiting for lines to be stored is told at
        # once that they will not be for now (see log_writable).
        self._log_refused = False
        self._log_refusals = trio.lowlevel.ParkingLot()
        self._limiter = trio.CapacityLimiter(threads)
        self._failing: StoreError | None = None  # the last call's error, until one succeeds
        self._closed = False
        # Cluster mode (preview.cluster): (node, epoch) of this node once it holds its
        # lease. Its previews' rows are then written only while they are still its own:
        # a node declared dead (whose rows the others failed, moving their epoch on)
        # changes none of them. None on a single node: no condition at all.
        self.owner: tuple[str, int] | None = None
        # Set when this node fenced itself: its previews' lines are stored only while the
        # preview is still its own (the others may have reaped it and ended its log).
        self.fenced = False

    @staticmethod
    def _create_engine(url: str, threads: int, busy_timeout: float) -> Engine:
        if url.startswith("sqlite"):
            path = url.split("///", 1)[-1]
            if path and path != ":memory:":
                Path(path).parent.mkdir(parents=True, exist_ok=True)
            engine = create_engine(url, pool_size=threads, max_overflow=0)
            event.listen(engine, "connect", functools.partial(_sqlite_pragmas, busy_timeout))
            return engine
        connect_args: dict[str, Any] = {}
        parsed = make_url(url)
        if parsed.get_backend_name() == "postgresql":
            name_postgresql_predicates()  # the dialect is loaded now anyway
            if "connect_timeout" not in parsed.query:
                connect_args["connect_timeout"] = _PG_CONNECT_TIMEOUT
            # Every transaction of ours is a few statements in a row; one left open this
            # long means this process stalled (a node paused, a machine frozen) while it
            # held row locks: PostgreSQL ends it, so the other nodes can reap what it ran
            # (a paused node's open transaction held its preview's row: never reaped).
            options = parsed.query.get("options", "")
            if isinstance(options, tuple):
                options = " ".join(options)
            idle_ms = int(_IDLE_IN_TRANSACTION_TIMEOUT * 1000)
            connect_args["options"] = (
                f"{options} -c idle_in_transaction_session_timeout={idle_ms}".strip()
            )
        return create_engine(
            url, pool_size=threads, max_overflow=0, pool_pre_ping=True, connect_args=connect_args
        )

    @classmethod
    async def open(
        cls,
        url: str,
        *,
        threads: int = 4,
        busy_timeout: float = _BUSY_TIMEOUT,
        migrate_apart: bool = False,
    ) -> Store:
        """Connect and migrate (``migrate_apart``: Alembic, when the schema is not
        current, in a child process: ``schema``); :class:`DatabaseUnavailable` if that
        cannot be done."""
        try:
            store = cls(url, threads=threads, busy_timeout=busy_timeout)
        except (ArgumentError, ImportError, OSError) as error:  # OSError: the SQLite dir
            raise unavailable(url, error) from error
        try:
            await store.migrate(apart=migrate_apart)
        except BaseException as error:
            store.engine.dispose()
            if isinstance(error, StoreError) and error.__cause__ is not None:
                raise unavailable(url, error.__cause__) from error
            if isinstance(error, (DBAPIError, SchemaNotUpgraded)):
                raise unavailable(url, error) from error
            raise
        return store

    async def aclose(self) -> None:
        self._closed = True
        self.engine.dispose()

    async def ping(self) -> None:
        """Raise :class:`DatabaseUnavailable` unless ``SELECT 1`` answers. Outside the
        store's own threads, so a busy store still answers; cancelled (the caller's time
        limit), a hung connect is left to its thread (trio's default limiter bounds how
        many there are)."""
        if self._closed:
            raise DatabaseUnavailable("the store is closed")

        def select_one() -> None:
            with self.engine.connect() as connection:
                connection.exec_driver_sql("SELECT 1")

        try:
            await trio.to_thread.run_sync(select_one, abandon_on_cancel=True)
        except SQLAlchemyError as error:
            reason = str(getattr(error, "orig", None) or error).strip().splitlines()
            raise DatabaseUnavailable(reason[0] if reason else type(error).__name__) from None

    async def log_writable(self) -> None:
        """Raise ``StoreUnavailable`` if the last batch of log events was refused and the
        database still refuses it (SQLite: another connection's lock, after the busy
        timeout); return if none was, or the lock can be had now."""
        if self._log_refused and self.engine.dialect.name == "sqlite":
            await self.run_sync(write_lock_sqlite, self.engine)

    async def wait_log_refused(self) -> None:
        """Return when the database next refuses a batch of log events."""
        await self._log_refusals.park()

    async def run_sync(self, fn: Callable[..., _T], *args: Any) -> _T:
        """``fn(*args)`` (a blocking database call) in one of the store's threads (its
        limiter, ``PREVIEW_DB_THREADS``); SQLAlchemy's errors as the store's, said once
        when it fails and once when it is reachable again."""
        try:
            result = await trio.to_thread.run_sync(
                functools.partial(fn, *args), limiter=self._limiter, abandon_on_cancel=False
            )
        except SQLAlchemyError as error:
            translated = store_error(error)
            if translated is None:
                raise
            if self._failing is None:
                _log.warning("database: %s (%s)", translated.message, first_line(error))
            self._failing = translated
            raise translated from error
        if self._failing is not None:
            _log.warning("database: reachable again")
            self._failing = None
        return result

    async def _in_transaction(self, fn: Callable[[Connection], _T]) -> _T:
        def unit() -> _T:
            with self.engine.begin() as connection:
                return fn(connection)

        return await self.run_sync(unit)

    # -- schema ---------------------------------------------------------------------

    async def migrate(self, *, apart: bool = False) -> None:
        await self.run_sync(
            functools.partial(
                upgrade_schema,
                self.engine,
                lock_wait=_MIGRATION_BUSY_TIMEOUT,
                busy_timeout=self.busy_timeout,
                apart=apart,
            )
        )

    # -- generations ----------------------------------------------------------------

    async def add_generation(self, generation: Generation, files: dict[str, bytes]) -> None:
        await self._in_transaction(functools.partial(insert_generation, generation, files))

    async def get_generation(self, gid: str) -> Generation | None:
        return await self._in_transaction(lambda c: one(c, Generation, Generation.id == gid))

    async def list_generations(self, user_id: str) -> list[Generation]:
        query = (
            select(Generation)
            .where(Generation.user_id == user_id)
            .order_by(Generation.created_at.desc())
        )
        return await self._in_transaction(lambda c: records(Generation, c.execute(query)))

    async def generation_file_list(self, gid: str) -> list[tuple[str, int]]:
        query = (
            select(GenerationFile.path, GenerationFile.size)
            .where(GenerationFile.generation_id == gid)
            .order_by(GenerationFile.path)
        )
        return await self._in_transaction(lambda c: [(p, n) for p, n in c.execute(query)])

    async def generation_files(self, gid: str) -> dict[str, bytes]:
        query = select(GenerationFile.path, GenerationFile.content).where(
            GenerationFile.generation_id == gid
        )
        return await self._in_transaction(lambda c: {p: bytes(b) for p, b in c.execute(query)})

    # -- previews -------------------------------------------------------------------

    async def add_preview(self, preview: PreviewInstance) -> None:
        """``GenerationGone`` if a delete of its generation came first (its foreign key)."""
        try:
            await self._in_transaction(
                lambda c: c.execute(insert(PreviewInstance), preview.values())
            )
        except IntegrityError:
            if await self.get_generation(preview.generation_id) is None:
                raise GenerationGone(preview.generation_id) from None
            raise

    async def update_preview(self, pid: str, *, any_owner: bool = False, **values: Any) -> None:
        """Set columns of a row; in cluster mode only of this node's own (:attr:`owner`),
        unless ``any_owner`` (its rows of an earlier epoch, closed out at its start)."""
        query = update(PreviewInstance).where(PreviewInstance.id == pid).values(**values)
        if self.owner is not None and not any_owner:
            node, epoch = self.owner
            query = query.where(
                PreviewInstance.node_id == node, PreviewInstance.owner_epoch == epoch
            )
        await self._in_transaction(lambda c: c.execute(query))

    async def get_preview(self, pid: str) -> PreviewInstance | None:
        return await self._in_transaction(
            lambda c: one(c, PreviewInstance, PreviewInstance.id == pid)
        )

    async def latest_preview(self, gid: str) -> PreviewInstance | None:
        query = (
            select(PreviewInstance)
            .where(PreviewInstance.generation_id == gid)
            .order_by(PreviewInstance.created_at.desc(), PreviewInstance.id.desc())
            .limit(1)
        )
        return await self._in_transaction(lambda c: first(PreviewInstance, c.execute(query)))

    async def unfinished_previews(self, *, node: str | None = None) -> list[PreviewInstance]:
        """Rows still live; ``node``: only those of that node (and of a single node's
        run before cluster mode, which name none), the others' being theirs."""
        query = select(PreviewInstance).where(PreviewInstance.status.in_(ACTIVE_STATUSES))
        if node is not None:
            query = query.where(
                or_(PreviewInstance.node_id == node, PreviewInstance.node_id.is_(None))
            )
        return await self._in_transaction(lambda c: records(PreviewInstance, c.execute(query)))

    # -- log events -----------------------------------------------------------------

    async def add_log_events(self, rows: Sequence[dict[str, Any]]) -> None:
        """Insert a batch of row dicts in one transaction (one executemany statement)."""
        await self.add_log_values([tuple(row.get(c) for c in LOG_EVENT_COLUMNS) for row in rows])

    async def add_log_values(self, values: Sequence[tuple], pace: Pace | None = None) -> None:
        """Insert tuples in ``LOG_EVENT_COLUMNS`` order, in one transaction (SQLite: paced)."""
        if not values:
            return
        if self.fenced and not await self._still_owned(values[0][0]):
            return  # refused: reaped, its log ended by the reaper's last line
        dialect = self.engine.dialect
        try:
            if dialect.name == "sqlite":
                await self.run_sync(insert_sqlite, self.engine, values, pace)
            elif dialect.name == "postgresql" and dialect.driver == "psycopg":
                await self.run_sync(copy_postgres, self.engine, values)
            else:
                rows: list[dict[str, Any]] = [
                    dict(zip(LOG_EVENT_COLUMNS, value, strict=True)) for value in values
                ]
                await self._in_transaction(lambda c: c.execute(LogEvent.__table__.insert(), rows))
        except IntegrityError:
            # Cluster mode: a node that was reaped while it could not renew (paused) finds
            # the reaper's last line at its next id; its own lines are refused, not retried.
            if self.owner is not None and not await self._still_owned(values[0][0]):
                _log.warning("preview %s: lines refused, another node ended it", values[0][0])
                return
            raise
        except StoreError:
            self._log_refused = True
            self._log_refusals.unpark_all()
            raise
        self._log_refused = False

    async def _still_owned(self, preview_id: str) -> bool:
        """Whether the preview is this node's still (cluster mode: not reaped)."""
        if self.owner is None:
            return True
        node, epoch = self.owner
        query = select(PreviewInstance.id).where(
            PreviewInstance.id == preview_id,
            PreviewInstance.node_id == node,
            PreviewInstance.owner_epoch == epoch,
        )
        return await self._in_transaction(lambda c: c.scalar(query) is not None)

    async def log_events(
        self,
        preview_id: str,
        *,
        after: int = 0,
        before: int | None = None,
        limit: int | None = 1000,
        where: LogFilter = ALL_LINES,
    ) -> list[Row[Any]]:
        """Rows (attributes as ``LogEvent``'s: ``seq``, ``timestamp``, …) in id order,
        those ``where`` wants.

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
        if where.levels:
            query = query.where(table.c.level.in_(list(where.levels)))
        if where.sources:
            query = query.where(table.c.source.in_(list(where.sources)))
        if where.streams:
            query = query.where(table.c.stream.in_(list(where.streams)))
        if where.processes:
            names = [name for name in where.processes if name != "web"]
            chosen = [table.c.process.in_(names)] if names else []
            if "web" in where.processes:
                chosen.append(table.c.process.is_(None))
            query = query.where(or_(*chosen))
        if where.text:
            text = where.text
            escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
            query = query.where(table.c.message.ilike(f"%{escaped}%", escape="\\"))
        for key in where.field_keys:  # candidates: lines that hold it as JSON or logfmt would
            escaped = key.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
            query = query.where(
                or_(
                    table.c.message.like(f'{{%"{escaped}"%', escape="\\"),
                    table.c.message.like(f"%{escaped}=%", escape="\\"),
                )
            )
        if limit is not None:
            query = query.limit(limit)

        def rows() -> list[Row[Any]]:
            with self.engine.connect() as connection:
                return list(connection.execute(query))

        return await self.run_sync(rows)

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
            return await self.run_sync(
                event_values_sqlite, self.engine, preview_id, after, before, limit
            )
        table = LogEvent.__table__
        query = (
            select(*(table.c[name] for name in EVENT_FIELDS))
            .where(table.c.preview_id == preview_id, table.c.seq > after)
            .order_by(table.c.seq)
            .limit(limit)
        )
        if before is not None:
            query = query.where(table.c.seq < before)

        def rows() -> list[tuple[Any, ...]]:
            with self.engine.connect() as connection:
                return [tuple(row) for row in connection.execute(query)]

        return await self.run_sync(rows)

    async def count_log_events(self, preview_id: str) -> int:
        query = select(func.count()).select_from(LogEvent).where(LogEvent.preview_id == preview_id)
        return await self._in_transaction(lambda c: c.scalar(query) or 0)

    async def last_log_seq(self, preview_id: str) -> int:
        """The preview's newest event id (0 if it has none)."""
        query = select(func.max(LogEvent.seq)).where(LogEvent.preview_id == preview_id)
        return await self._in_transaction(lambda c: c.scalar(query) or 0)

    async def rename_generation(self, gid: str, project_id: str | None) -> None:
        query = update(Generation).where(Generation.id == gid).values(project_id=project_id)
        if (await self._in_transaction(lambda c: c.execute(query))).rowcount == 0:
            raise GenerationGone(gid)  # deleted meanwhile

    async def delete_generation(self, gid: str) -> None:
        await self._in_transaction(
            lambda c: c.execute(delete(Generation).where(Generation.id == gid))
        )
