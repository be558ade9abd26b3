"""Each preview's own throwaway PostgreSQL database, when ``PREVIEW_APP_POSTGRES_URL`` is set.

At launch a role and a database, both named after the preview (``preview_<16 hex>``), are
created on that server: the role has a random password and owns only its database, which
no other role may connect to (``CONNECT`` revoked from ``PUBLIC``). The app gets them as
``DATABASE_URL`` and the usual ``POSTGRES_*`` variables. At the preview's end both are
dropped (connections cut first); at the service's start, any left by a previous run are.
Blocking (psycopg): call through ``trio.to_thread``.
"""

from __future__ import annotations

import re
import secrets
from urllib.parse import quote, urlsplit

import psycopg
from psycopg import sql

__all__ = [
    "create_app_database",
    "database_server",
    "drop_app_database",
    "drop_leftover_databases",
    "relayed",
]

_NAME = re.compile(r"^preview_[0-9a-f]{16}$")
_TIMEOUT = 10


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


def create_app_database(url: str, preview_id: str) -> dict[str, str]:
    """Create the preview's role and database; the variables that give them to the app."""
    if not _NAME.match(preview_id):
        raise ValueError("not a preview id")
    password = secrets.token_urlsafe(24)
    name = sql.Identifier(preview_id)
    with _admin(url) as admin:
        admin.execute(
            sql.SQL("CREATE ROLE {} LOGIN PASSWORD {}").format(name, sql.Literal(password))
        )
        try:
            admin.execute(sql.SQL("CREATE DATABASE {} OWNER {}").format(name, name))
            admin.execute(sql.SQL("REVOKE ALL ON DATABASE {} FROM PUBLIC").format(name))
        except BaseException:
            admin.execute(sql.SQL("DROP DATABASE IF EXISTS {}").format(name))
            admin.execute(sql.SQL("DROP ROLE IF EXISTS {}").format(name))
            raise
    parts = urlsplit(re.sub(r"^postgresql\+\w+://", "postgresql://", url))
    host, port = parts.hostname or "127.0.0.1", str(parts.port or 5432)
    return {
        "DATABASE_URL": (
            f"postgresql://{preview_id}:{quote(password, safe='')}@{host}:{port}/{preview_id}"
        ),
        "POSTGRES_HOST": host,
        "POSTGRES_PORT": port,
        "POSTGRES_USER": preview_id,
        "POSTGRES_PASSWORD": password,
        "POSTGRES_DB": preview_id,
    }


def drop_app_database(url: str, preview_id: str) -> None:
    """Drop the preview's database (its sessions cut) and role; nothing if already gone."""
    if not _NAME.match(preview_id):
        raise ValueError("not a preview id")
    name = sql.Identifier(preview_id)
    with _admin(url) as admin:
        admin.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(name))
        admin.execute(sql.SQL("DROP ROLE IF EXISTS {}").format(name))


def drop_leftover_databases(url: str, keep: set[str] = frozenset()) -> list[str]:
    """Drop every preview database and role on the server but those in ``keep``."""
    with _admin(url) as admin:
        databases = [r[0] for r in admin.execute("SELECT datname FROM pg_database").fetchall()]
        roles = [r[0] for r in admin.execute("SELECT rolname FROM pg_roles").fetchall()]
    leftovers = sorted({n for n in [*databases, *roles] if _NAME.match(n) and n not in keep})
    for name in leftovers:
        drop_app_database(url, name)
    return leftovers
