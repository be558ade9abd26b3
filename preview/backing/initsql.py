"""An upload's database init scripts (``wants.InitScripts``: its compose file's
``/docker-entrypoint-initdb.d``, or its one schema file), run by the service in each
database the app opens, before it does: :func:`run_init_cancellably`.

The SQL is the upload's, and the service runs it in a thread (psycopg blocks), which
Trio cannot cancel: ``SELECT pg_sleep(86400)`` held the preview's end (its relay's
login waits for the scripts) for as long as it said, its session open on the server.
So the thread is abandoned when the preview ends, and the query it runs is cancelled
on the server (and no script after it starts). A script that fails as a whole is run
again statement by statement, as ``psql -f`` runs a file, going on past those that fail.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Awaitable, Callable
from contextlib import suppress
from dataclasses import dataclass
from functools import partial
from typing import TYPE_CHECKING, Any

import trio

from .wants import InitScripts

if TYPE_CHECKING:
    import psycopg

__all__ = ["Told", "run_init_cancellably", "run_init_scripts", "tell_init"]

Told = Callable[[str], Awaitable[None]]
_CANCEL_TIME = 10.0  # s: the cancel request's own connection, at most


async def tell_init(lines: list[str], told: Told | None, said: Callable[[str], None]) -> None:
    """Tell what an upload's init scripts did (:func:`run_init_scripts`): to ``told``
    (the preview's log) where the logins were given one, else to ``said``."""
    for text in lines:
        if told is not None:
            await told(text)
        else:
            said(text)


# psql's own commands (``\c todo``, ``\connect``), which the server does not know: the
# scripts run in each database the app opens, whichever it connected to (torikatsupg's
# hono-todo: 03_create_table.sql begins with ``\c todo``, and its CREATE TABLE was never
# run, a syntax error at "\").
_META_COMMAND = re.compile(r"^[ \t]*\\[a-zA-Z!?][^\n]*$", re.M)
# Its own database made (or dropped) first: each the app names is made on first use, and
# the server refuses it among other statements (DanielArturoAlejoAlvarez's REST-API-
# NodeJS-Sequelize: sql/db.sql begins ``CREATE DATABASE node_postgresql_rest_api;``, and
# "CREATE DATABASE cannot run inside a transaction block" left its tables unmade).
_DATABASE_MADE = re.compile(r"^[ \t]*(?:CREATE|DROP)\s+DATABASE\b[^;]*;", re.M | re.I)


# psql's ``COPY … FROM stdin;`` with the rows below it, ended by a line ``\.``: pg_dump's
# default format (seanism4113's Express-reservations: data.sql's rows were sent as SQL, "syntax
# error at or near "1"", so the tables its statements made stayed empty). Its rows go to the
# server as COPY data, the statements around it as they are.
_COPY_FROM_STDIN = re.compile(
    r"^[ \t]*(COPY\s[^;]*?\bFROM\s+stdin\b[^;]*);[ \t]*\r?\n(.*?)^\\\.[ \t]*\r?$",
    re.M | re.I | re.S,
)


# A column's default taken from a sequence (``DEFAULT nextval('articles_id_seq'::regclass)``),
# and a sequence's making: pgAdmin's "CREATE Script" of a table names its sequence and
# never makes it (DarKaizoku's BLOGexpressAPI: src/sql/createDB.sql, "relation
# "articles_id_seq" does not exist", and none of its tables was made).
_SEQUENCE_USED = re.compile(
    r"""\bnextval\(\s*'((?:"?[A-Za-z_]\w*"?\.)?"?[A-Za-z_]\w*"?)'(?:::regclass)?\s*\)""", re.I
)
_SEQUENCE_MADE = re.compile(
    r"""\bCREATE\s+(?:TEMP(?:ORARY)?\s+|UNLOGGED\s+)?SEQUENCE\s+(?:IF\s+NOT\s+EXISTS\s+)?"""
    r"""((?:"?[A-Za-z_]\w*"?\.)?"?[A-Za-z_]\w*"?)""",
    re.I,
)


def _with_its_sequences(sql: str) -> str:
    """``sql`` after the sequences its column defaults take values from and that it never
    makes (above), each made first, as the tables' own ``serial`` would have."""
    made = {_sequence_name(m.group(1)) for m in _SEQUENCE_MADE.finditer(sql)}
    missing = dict.fromkeys(
        name
        for m in _SEQUENCE_USED.finditer(sql)
        if (name := m.group(1)) and _sequence_name(name) not in made
    )
    if not missing:
        return sql
    return "".join(f"CREATE SEQUENCE IF NOT EXISTS {name};\n" for name in missing) + sql


def _sequence_name(name: str) -> str:
    """A sequence's name as the server resolves it: unquoted, lower case, in ``public``
    where no schema is given."""
    parts = [p.strip('"') for p in name.split(".")]
    return ".".join(["public", *parts] if len(parts) == 1 else parts).lower()


def _pieces(text: str) -> list[tuple[str, str | None]]:
    """``text`` as (its SQL, None) and (a COPY statement, its rows) in order."""
    pieces: list[tuple[str, str | None]] = []
    at = 0
    for found in _COPY_FROM_STDIN.finditer(text):
        pieces += [(text[at : found.start()], None), (found.group(1), found.group(2))]
        at = found.end()
    return [*pieces, (text[at:], None)]


@dataclass(frozen=True)
class _Partly:
    """A script's statements that failed, where others of it ran: each one's first error
    line, of how many it has."""

    failures: tuple[str, ...] = ()
    statements: int = 0


def _run_script(connection: psycopg.Connection, text: str) -> _Partly:
    """One script's statements, its psql commands and its own database's making left out,
    its COPY rows copied; what failed of it where the rest ran (:func:`_one_by_one`)."""
    import psycopg  # lazy: psycopg loads only once a PostgreSQL is used

    partly = _Partly()
    for sql, rows in _pieces(text):
        if rows is not None:
            with connection.cursor() as cursor, cursor.copy(sql) as copy:  # type: ignore[arg-type]
                copy.write(rows)
            continue
        statements = _with_its_sequences(_DATABASE_MADE.sub("", _META_COMMAND.sub("", sql)))
        if not statements.strip():
            continue
        try:  # no parameters: one simple query, its statements all run (or none)
            connection.execute(statements)  # type: ignore[call-overload]
        except psycopg.Error as error:
            failed = _one_by_one(connection, statements, error)
            partly = _Partly(
                (*partly.failures, *failed.failures), partly.statements + failed.statements
            )
    return partly


def _one_by_one(connection: psycopg.Connection, sql: str, error: Exception) -> _Partly:
    """``sql``'s statements run one at a time, as ``psql -f`` runs a file, going on past
    one that fails: farhanhasindipro25's music-library-express-postgres keeps its tables,
    its rows and the queries its code runs (``WHERE songs.song_uid = $1``) in scripts.sql,
    whose one query failed on "there is no parameter $1" and made none of its tables.
    Raises ``error`` where it has one statement, or every one fails."""
    import psycopg
    import sqlparse  # lazy: only for a script that failed as a whole

    statements = [
        cleaned
        for piece in sqlparse.split(sql)
        if (cleaned := sqlparse.format(piece, strip_comments=True).strip().rstrip(";").strip())
    ]
    # (each on its own: a ``BEGIN`` kept would let one failure abort every later one,
    # "current transaction is aborted", as the whole script's run did, and left its
    # transaction open: ended first)
    if connection.info.transaction_status != psycopg.pq.TransactionStatus.IDLE:
        connection.execute("ROLLBACK")  # type: ignore[call-overload]
    statements = [s for s in statements if not _TRANSACTION_CONTROL.match(s)]
    if len(statements) < 2:
        raise error
    failures: list[str] = []
    for statement in statements:
        try:
            connection.execute(statement)  # type: ignore[call-overload]
        except psycopg.Error as failure:
            failures.append(_first_line(failure))
    if len(failures) == len(statements):
        raise error
    return _Partly(tuple(failures), len(statements))


_TRANSACTION_CONTROL = re.compile(
    r"(?:BEGIN|START\s+TRANSACTION|COMMIT|END|ROLLBACK|ABORT)(?:\s+(?:WORK|TRANSACTION))?\s*$",
    re.I,
)


def _first_line(error: Exception) -> str:
    """What an error says first (psycopg's message, its detail on the lines after)."""
    return next(iter(str(error).strip().splitlines()), "")


def run_init_scripts(
    connection: psycopg.Connection,
    scripts: InitScripts,
    cancelled: Callable[[], bool] = lambda: False,
) -> list[str]:
    """Blocking: an upload's database init scripts run in ``connection``'s database
    (autocommit), in order, as the image runs them on a new cluster; a line for each to
    tell (one that fails says its first error line, and the next is still run, as the
    app's own error will say what it missed), none once ``cancelled``."""
    import psycopg  # lazy: psycopg loads only once a PostgreSQL is used

    told = []
    for path, text in scripts:
        if cancelled():
            break
        try:
            partly = _run_script(connection, text)
        except psycopg.Error as error:
            first = _first_line(error)
            told.append(f"PostgreSQL: the init script {path} failed: {first}")
            continue
        if partly.failures:
            told.append(
                f"PostgreSQL: the init script {path} was run statement by statement, as "
                f"psql runs a file: {len(partly.failures)} of its {partly.statements} "
                f"failed (the first: {partly.failures[0]})"
            )
            continue
        told.append(f"PostgreSQL: the init script {path} was run")
    return told


class _Running:
    """The thread's connection, once open, and whether its caller gave up on it."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.connection: Any = None
        self.cancelled = False


def _connected_run(
    connect: Callable[[], psycopg.Connection], scripts: InitScripts, running: _Running
) -> list[str]:
    import psycopg  # lazy: psycopg loads only once a PostgreSQL is used

    try:
        with connect() as connection:
            with running.lock:
                if running.cancelled:
                    return []
                running.connection = connection
            return run_init_scripts(connection, scripts, lambda: running.cancelled)
    except psycopg.OperationalError as error:
        first = _first_line(error)
        return [f"PostgreSQL: the init scripts could not run: {first}"]


def _cancel_query(connection: Any) -> None:
    cancel = getattr(connection, "cancel_safe", None) or connection.cancel  # (psycopg 3.1)
    with suppress(Exception):  # (the query ended meanwhile, the server went)
        cancel()


async def run_init_cancellably(
    connect: Callable[[], psycopg.Connection],
    scripts: InitScripts,
    limiter: trio.CapacityLimiter | None = None,
) -> list[str]:
    """``scripts`` run in the database ``connect`` opens (autocommit), in a thread
    given up when this is cancelled, its query then cancelled on the server; the lines
    to tell (:func:`tell_init`)."""
    running = _Running()
    run = partial(_connected_run, connect, scripts, running)
    try:
        return await trio.to_thread.run_sync(run, limiter=limiter, abandon_on_cancel=True)
    except trio.Cancelled:
        with running.lock:
            running.cancelled = True
            connection = running.connection
        if connection is not None:
            with trio.CancelScope(shield=True), trio.move_on_after(_CANCEL_TIME):
                await trio.to_thread.run_sync(_cancel_query, connection, abandon_on_cancel=True)
        raise
