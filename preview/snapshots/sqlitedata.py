"""A preview's SQLite databases: found in its directory, copied out and back through
SQLite's online backup API (a consistent copy while the app keeps writing; a restore
the app's own connections see at their next transaction), read for their tables.

The service runs as root; the app as a uid of its own. SQLite makes a journal (or a
WAL and its index) beside a database it writes: any such file this side made is given
to the database file's owner, else the app could not open its own database again. (The
keeper works on the app's databases with the app's rights, ``sandbox.appdir.as_owner``:
what it makes there is the app's anyway.)
Blocking: call through ``trio.to_thread``, within :func:`fed_while`: the app may leave a
FIFO as a database's ``-journal`` (SQLite opens it to see whether it is hot) or swap one
in for a database after its check, and SQLite's open or read of it would wait for ever
in a thread nothing cancels (the keeper's few threads serve every preview).
"""

from __future__ import annotations

import os
import sqlite3
import stat
from collections.abc import Awaitable, Callable
from contextlib import closing
from pathlib import Path
from typing import TypeVar

import trio

from ..sandbox.appdir import open_plain
from .rowdiff import TableRows

__all__ = [
    "HEADER",
    "SIDE_FILES",
    "backup_into",
    "database_size",
    "fed_while",
    "feed_fifos",
    "is_sqlite",
    "read_tables",
    "table_counts",
]

HEADER = b"SQLite format 3\x00"
SIDE_FILES = ("-journal", "-wal", "-shm")
_BUSY = 10.0  # s: how long a copy waits for the app's write lock
_STEP_PAGES = 1024  # pages copied per step: the app's writers wait at most one step
_FEED_EVERY = 1.0  # s: how often the FIFOs a call holds are fed while it runs
_FEED = b"\0" * 4096
_T = TypeVar("_T")


async def fed_while(database: Path, call: Callable[[], Awaitable[_T]]) -> _T:
    """``call()``, a thread's work on the SQLite ``database`` (the module doc): while it
    runs, each FIFO among its files (``-journal``, ``-wal`` …) and under its directory
    that this process holds open is fed bytes and closed again (:func:`feed_fifos`), so
    that SQLite's open of one returns and its read ends, and SQLite fails on what it
    read instead of holding its thread for ever. A plain file is never touched."""
    async with trio.open_nursery() as nursery:

        async def feed() -> None:
            while True:
                await trio.sleep(_FEED_EVERY)
                await trio.to_thread.run_sync(feed_fifos, database)

        nursery.start_soon(feed)
        try:
            result = await call()
        except Exception as error:  # raised below as it is, not in the nursery's group
            failure = error
        else:
            nursery.cancel_scope.cancel()
            return result
        nursery.cancel_scope.cancel()
    raise failure


def feed_fifos(database: Path) -> int:
    """Write a few bytes into each FIFO that is ``database`` or one of its side files,
    or that this process holds open below its directory (through ``/proc/self/fd``: the
    one opened, whatever its name became since), then close it: a reader waiting to
    open it gets it, a reader reading it gets the bytes, then its end. How many."""
    below = os.path.realpath(database.parent) + "/"
    # (its files by name never through a link: one may lead to any FIFO of the host's)
    fifos = [(str(database) + suffix, os.O_NOFOLLOW) for suffix in ("", *SIDE_FILES)]
    for name in os.listdir("/proc/self/fd"):
        link = f"/proc/self/fd/{name}"
        try:
            if os.readlink(link).startswith(below):
                fifos.append((link, 0))
        except OSError:  # closed meanwhile
            continue
    fed = 0
    for path, no_link in fifos:
        try:
            if not stat.S_ISFIFO(os.stat(path, follow_symlinks=not no_link).st_mode):
                continue
            fd = os.open(path, os.O_WRONLY | os.O_NONBLOCK | os.O_CLOEXEC | no_link)
        except OSError:  # not there, a link, or no reader (ENXIO)
            continue
        try:
            os.write(fd, _FEED)
            fed += 1
        except OSError:  # full (its reader is not reading): fed enough
            pass
        finally:
            os.close(fd)
    return fed


def is_sqlite(path: Path) -> bool:
    """Whether ``path`` is a plain file with SQLite's header (a link followed: the walk
    follows those inside the preview; a FIFO the app put there since: no)."""
    try:
        with open_plain(path) as file:
            return file.read(len(HEADER)) == HEADER
    except OSError:
        return False


def _connect(path: Path) -> sqlite3.Connection:
    return sqlite3.connect(str(path), timeout=_BUSY, isolation_level=None)


def _owned_alike(path: Path) -> None:
    """Give the side files beside ``path`` to ``path``'s owner (module doc)."""
    try:
        owner = os.stat(path)
    except OSError:
        return
    for suffix in SIDE_FILES:
        side = Path(str(path) + suffix)
        try:  # never through a link: the app's own may lead anywhere
            if os.stat(side, follow_symlinks=False).st_uid != owner.st_uid:
                os.chown(side, owner.st_uid, owner.st_gid, follow_symlinks=False)
        except OSError:
            continue


def database_size(path: Path) -> int:
    """Bytes a copy of it takes (its pages in use)."""
    try:
        with closing(_connect(path)) as connection:
            pages = connection.execute("PRAGMA page_count").fetchone()[0]
            size = connection.execute("PRAGMA page_size").fetchone()[0]
            return int(pages) * int(size)
    finally:
        _owned_alike(path)


def backup_into(source: Path, target: Path, *, owner_like: Path | None = None) -> None:
    """Copy the database ``source`` into ``target`` (made if absent, replaced whole if
    not), page by page, through the backup API. ``owner_like``: a file whose owner the
    target and its side files get when made here."""
    made = not target.exists()
    try:
        with closing(_connect(source)) as src, closing(_connect(target)) as dst:
            src.backup(dst, pages=_STEP_PAGES, sleep=0.01)
    finally:
        _owned_alike(source)
        like = owner_like if owner_like is not None else target
        if made and like.exists() and like != target:
            stat = os.stat(like)
            os.chown(target, stat.st_uid, stat.st_gid, follow_symlinks=False)
        _owned_alike(target)


def _tables(connection: sqlite3.Connection) -> list[str]:
    rows = connection.execute(
        "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'"
        " ORDER BY name"
    )
    return [name for (name,) in rows]


def _quoted(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _read_only(path: Path) -> sqlite3.Connection:
    return sqlite3.connect(f"file:{path}?mode=ro&immutable=1", uri=True)


def table_counts(path: Path) -> dict[str, int]:
    """Each table of a snapshot's copy, with its row count."""
    with closing(_read_only(path)) as connection:
        return {
            name: connection.execute(f"SELECT count(*) FROM {_quoted(name)}").fetchone()[0]
            for name in _tables(connection)
        }


def read_tables(path: Path) -> dict[str, TableRows]:
    """Each table of a snapshot's copy, whole (for a diff): its stored columns, those
    ``table_info`` names. Not ``SELECT *``, which computes its generated ones too: the
    app's schema says what they are, ``zeroblob(1000000000)`` a gigabyte a row, and an
    8 KiB database had the service allocate gigabytes to compare it."""
    found: dict[str, TableRows] = {}
    with closing(_read_only(path)) as connection:
        for name in _tables(connection):
            info = connection.execute(f"PRAGMA table_info({_quoted(name)})").fetchall()
            columns = [row[1] for row in info]
            key = [row[1] for row in sorted(info, key=lambda r: r[5]) if row[5] > 0]
            listed = ", ".join(_quoted(column) for column in columns)
            rows = connection.execute(f"SELECT {listed} FROM {_quoted(name)}").fetchall()
            found[name] = TableRows(columns, key, [tuple(r) for r in rows])
    return found
