"""Where a running preview's PostgreSQL databases are, as the service reaches them
(``backing.PostgresBacking``): :func:`live_databases` (those it has) and
:func:`database_for` (one by the name the app knows it by, made if the app has not
used it yet: a snapshot may seed a database before the app's first connection).

On the operator's server (``PREVIEW_APP_POSTGRES_URL``) the service dumps as that
URL's user and restores logged in as the preview's role; on a private server (the
app's own superuser's), through its socket as that superuser.
"""

from __future__ import annotations

import trio
from sqlalchemy.engine import make_url

from ..backing import PostgresBacking
from ..backing.appdb import SharedLogins
from ..backing.pgprivate import SUPERUSER, PrivateLogins
from .pgdata import PgDatabase

__all__ = ["database_for", "live_databases"]

_BASE_ENV = {"PATH": "/usr/bin:/bin", "LANG": "C.UTF-8", "PGCONNECT_TIMEOUT": "10"}


def _operator_env(url: str, database: str) -> dict[str, str]:
    parsed = make_url(url)
    env = {
        **_BASE_ENV,
        "PGHOST": parsed.host or "127.0.0.1",
        "PGPORT": str(parsed.port or 5432),
        "PGUSER": parsed.username or "postgres",
        "PGDATABASE": database,
    }
    if parsed.password:
        env["PGPASSWORD"] = str(parsed.password)
    return env


def _private_env(logins: PrivateLogins, database: str) -> dict[str, str]:
    root = str(logins.server.socket_dir)  # (its sockets: Settings.sockets_dir)
    return {**_BASE_ENV, "PGHOST": root, "PGUSER": SUPERUSER, "PGDATABASE": database}


def _private_names(logins: PrivateLogins) -> list[str]:
    import psycopg  # lazy: psycopg loads only once a PostgreSQL is used

    with psycopg.connect(
        host=str(logins.server.socket_dir), user=SUPERUSER, dbname="postgres", connect_timeout=10
    ) as connection:
        rows = connection.execute(
            "SELECT datname FROM pg_database WHERE NOT datistemplate ORDER BY datname"
        )
        return [name for (name,) in rows]


async def live_databases(postgres: PostgresBacking, url: str, role: str) -> list[PgDatabase]:
    """The databases the preview has now (its app's, each by the name it uses)."""
    logins = postgres.logins
    if isinstance(logins, SharedLogins):
        return [
            PgDatabase(name, _operator_env(url, own), logins.role, logins.password)
            for name, own in sorted(logins.databases.items())
        ]
    if isinstance(logins, PrivateLogins):
        if not logins.server.ready.is_set() or logins.server.failure is not None:
            return []
        names = await trio.to_thread.run_sync(_private_names, logins)
        return [PgDatabase(name, _private_env(logins, name)) for name in names]
    if postgres.made_at_launch:
        return [_made_at_launch(postgres, url, role)]
    return []


async def database_for(
    postgres: PostgresBacking, url: str, role: str, key: str
) -> PgDatabase | None:
    """The database the app knows as ``key``, made if it has none yet; None when the
    preview has no PostgreSQL to put it in."""
    logins = postgres.logins
    if isinstance(logins, SharedLogins):
        login = await logins.login(role, key)
        return PgDatabase(key, _operator_env(url, login.database), login.role, login.password)
    if isinstance(logins, PrivateLogins):
        await logins.login(SUPERUSER, key)
        return PgDatabase(key, _private_env(logins, key))
    if postgres.made_at_launch:  # its one database, whatever the app calls it
        return _made_at_launch(postgres, url, role)
    return None


def _made_at_launch(postgres: PostgresBacking, url: str, role: str) -> PgDatabase:
    """The one database made at launch: its role's password is what the app was given."""
    return PgDatabase(role, _operator_env(url, role), role, postgres.env.get("POSTGRES_PASSWORD"))
