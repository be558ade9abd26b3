"""The one boundary where the driver's errors become the service's (see ``database``).

A database that refuses or drops connections, SQLite busy beyond its timeout, an I/O
error mean "not now": :class:`~preview.errors.StoreUnavailable` (503 with
``Retry-After``); no space left: :class:`~preview.errors.StoreFull` (507). Anything else
(a broken constraint: a bug) is left as it is. :class:`DatabaseUnavailable` is the one
line said when the database cannot be opened at all.
"""

from __future__ import annotations

import sqlite3

from sqlalchemy.engine import make_url
from sqlalchemy.exc import (
    ArgumentError,
    DBAPIError,
    InterfaceError,
    OperationalError,
    SQLAlchemyError,
)
from sqlalchemy.exc import TimeoutError as PoolTimeout

from ..errors import StoreError, StoreFull, StoreUnavailable

__all__ = ["DatabaseUnavailable", "first_line", "store_error", "unavailable"]

# SQLite's primary result codes that say "not now" rather than "never": another
# connection holds the lock (past busy_timeout), the file cannot be read or opened.
_SQLITE_TRANSIENT = {
    sqlite3.SQLITE_BUSY,
    sqlite3.SQLITE_LOCKED,
    sqlite3.SQLITE_IOERR,
    sqlite3.SQLITE_CANTOPEN,
    sqlite3.SQLITE_PROTOCOL,
}
_PG_DISK_FULL = "53100"


def store_error(error: SQLAlchemyError) -> StoreError | None:
    """The service's error for a driver error that means "not now", else None."""
    if isinstance(error, PoolTimeout):
        return StoreUnavailable("The database is busy; try again shortly.")
    if not isinstance(error, DBAPIError):
        return None
    cause = error.orig
    if isinstance(cause, sqlite3.Error):
        code = (getattr(cause, "sqlite_errorcode", None) or 0) & 0xFF
        if code == sqlite3.SQLITE_FULL:
            return StoreFull("The service's storage is full; nothing was stored.")
        if code in _SQLITE_TRANSIENT:
            return StoreUnavailable("The database is busy; try again shortly.")
        return None
    if getattr(cause, "sqlstate", None) == _PG_DISK_FULL:
        return StoreFull("The service's storage is full; nothing was stored.")
    if error.connection_invalidated or isinstance(error, OperationalError | InterfaceError):
        return StoreUnavailable("The database is unavailable; try again shortly.")
    return None


class DatabaseUnavailable(Exception):
    """The database at the configured URL cannot be opened or brought up to date: a
    malformed URL, a missing driver, a server that refuses, a file that cannot be made.
    The message says which, in one line, without the URL's password."""


def first_line(error: BaseException) -> str:
    lines = str(getattr(error, "orig", None) or error).strip().splitlines()
    return lines[0] if lines else type(error).__name__


def unavailable(url: str, error: BaseException) -> DatabaseUnavailable:
    try:
        shown = make_url(url).render_as_string(hide_password=True)
    except ArgumentError:
        shown = repr(url)
    return DatabaseUnavailable(f"cannot open the database {shown}: {first_line(error)}")
