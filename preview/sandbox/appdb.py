"""Each preview's own throwaway PostgreSQL database, when ``PREVIEW_APP_POSTGRES_URL`` is set.

At launch a role and a database, both named at random (``pv_<24 hex>``: the name says
nothing of the preview, its generation or its user), are created on that server: the
role has a random password and owns only its database, which no other role may connect
to (``CONNECT`` revoked from ``PUBLIC``). Inside that database the catalogs that list the
server's databases by name (``pg_database``, and the views that join it:
``pg_stat_activity``, ``pg_stat_database``, …) are closed to ``PUBLIC``: its role cannot
read the other previews' database names there. The privileges of a catalog are each
database's own (its ``pg_class`` row), so nothing changes for the server's other
databases and clients. A database every role may open (``postgres``) still lists them
to a role that reaches it; the sandbox's relay lets a preview open its own database
only, and unsandboxed the names it could read there are random. The app gets its
database as ``DATABASE_URL`` and the usual ``POSTGRES_*`` variables. At the preview's
end both are dropped (connections cut first); at the service's start, any left by a
previous run are (and those of earlier versions, named ``preview_<16 hex>``).
Blocking (psycopg): call through ``trio.to_thread``.
"""

from __future__ import annotations

import re
import secrets
from urllib.parse import quote, urlsplit

import psycopg
from psycopg import sql
from sqlalchemy.engine import make_url

__all__ = [
    "DATABASE_NAME",
    "create_app_database",
    "database_server",
    "drop_app_database",
    "drop_leftover_databases",
    "new_database_name",
    "relayed",
]

DATABASE_NAME = re.compile(r"^pv_[0-9a-f]{24}$")  # a preview's role and database
_LEFTOVER = re.compile(r"^(?:pv_[0-9a-f]{24}|preview_[0-9a-f]{16})$")  # and earlier ones'
_TIMEOUT = 10
# The catalogs of a database that name the server's databases: pg_database and the views
# over it (read in the new database itself, so whatever this server's version has).
_NAMING_CATALOGS = """
SELECT DISTINCT c.relname FROM pg_class c
JOIN pg_namespace n ON n.oid = c.relnamespace AND n.nspname = 'pg_catalog'
JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0
WHERE c.relkind IN ('r', 'v') AND a.attname IN ('datname', 'database')
  AND a.atttypid = 'name'::regtype
"""


def database_server(url: str) -> tuple[str, int] | None:
    """(host, port) of the previews' PostgreSQL server; None when not configured."""
    if not url:
        return None
    parts = urlsplit(re.sub(r"^postgresql\+\w+://", "postgresql://", url))
    return parts.hostname or "127.0.0.1", parts.port or 5432


def relayed(variables: dict[str, str], port: int) -> dict[str, str]:
    """The app's database variables as a sandboxed app sees the server: at its own
    ``127.0.0.1:port``, the relay to the real server (its network reaches nothing else)."""
    changed = dict(variables)
    host, real_port = variables.get("POSTGRES_HOST"), variables.get("POSTGRES_PORT")
    if host and real_port and "DATABASE_URL" in changed:
        changed["DATABASE_URL"] = changed["DATABASE_URL"].replace(
            f"@{host}:{real_port}/", f"@127.0.0.1:{port}/", 1
        )
    changed["POSTGRES_HOST"], changed["POSTGRES_PORT"] = "127.0.0.1", str(port)
    return changed


def _admin(url: str) -> psycopg.Connection:
    plain = re.sub(r"^postgresql\+\w+://", "postgresql://", url)
    return psycopg.connect(plain, autocommit=True, connect_timeout=_TIMEOUT)


def new_database_name() -> str:
    """A name for a preview's role and database that tells nothing (module doc)."""
    return "pv_" + secrets.token_hex(12)


def create_app_database(url: str, database: str) -> dict[str, str]:
    """Create the role and database ``database`` (:func:`new_database_name`) for a
    preview, closed as the module doc says; the variables that give them to the app."""
    if not DATABASE_NAME.match(database):
        raise ValueError("not a preview database's name")
    password = secrets.token_urlsafe(24)
    name = sql.Identifier(database)
    with _admin(url) as admin:
        admin.execute(
            sql.SQL("CREATE ROLE {} LOGIN PASSWORD {}").format(name, sql.Literal(password))
        )
        try:
            admin.execute(sql.SQL("CREATE DATABASE {} OWNER {}").format(name, name))
            admin.execute(sql.SQL("REVOKE ALL ON DATABASE {} FROM PUBLIC").format(name))
            with _admin(_in_database(url, database)) as inside:
                catalogs = [row[0] for row in inside.execute(_NAMING_CATALOGS)]
                inside.execute(
                    sql.SQL("REVOKE SELECT ON {} FROM PUBLIC").format(
                        sql.SQL(", ").join(sql.Identifier("pg_catalog", c) for c in catalogs)
                    )
                )
        except BaseException:
            admin.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(name))
            admin.execute(sql.SQL("DROP ROLE IF EXISTS {}").format(name))
            raise
    parts = urlsplit(re.sub(r"^postgresql\+\w+://", "postgresql://", url))
    host, port = parts.hostname or "127.0.0.1", str(parts.port or 5432)
    return {
        "DATABASE_URL": (
            f"postgresql://{database}:{quote(password, safe='')}@{host}:{port}/{database}"
        ),
        "POSTGRES_HOST": host,
        "POSTGRES_PORT": port,
        "POSTGRES_USER": database,
        "POSTGRES_PASSWORD": password,
        "POSTGRES_DB": database,
    }


def _in_database(url: str, database: str) -> str:
    """``url`` (the admin's) with ``database`` as the database it opens."""
    return make_url(url).set(database=database).render_as_string(hide_password=False)


def drop_app_database(url: str, database: str) -> None:
    """Drop a preview's database (its sessions cut) and role; nothing if already gone."""
    if not _LEFTOVER.match(database):
        raise ValueError("not a preview database's name")
    name = sql.Identifier(database)
    with _admin(url) as admin:
        admin.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(name))
        admin.execute(sql.SQL("DROP ROLE IF EXISTS {}").format(name))


def drop_leftover_databases(url: str, keep: set[str] = frozenset()) -> list[str]:
    """Drop every preview database and role on the server but those in ``keep``."""
    with _admin(url) as admin:
        databases = [r[0] for r in admin.execute("SELECT datname FROM pg_database").fetchall()]
        roles = [r[0] for r in admin.execute("SELECT rolname FROM pg_roles").fetchall()]
    leftovers = sorted({n for n in [*databases, *roles] if _LEFTOVER.match(n) and n not in keep})
    for name in leftovers:
        drop_app_database(url, name)
    return leftovers
