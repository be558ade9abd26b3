"""Each preview's own throwaway PostgreSQL database, when ``PREVIEW_APP_POSTGRES_URL`` is set.

A role and a database, both named at random (``pv_<24 hex>``: the name says
nothing of the preview, its generation or its user), are created on that server: the
role has a random password and owns only its database, which no other role may connect
to (``CONNECT`` revoked from ``PUBLIC``). Inside that database the catalogs that list the
server's databases by name (``pg_database``, and the views that join it:
``pg_stat_activity``, ``pg_stat_database``, …) are closed to ``PUBLIC``: its role cannot
read the other previews' database names there. The privileges of a catalog are each
database's own (its ``pg_class`` row), so nothing changes for the server's other
databases and clients. A database every role may open (``postgres``) still lists them
to a role that reaches it; the sandbox's relay (``pgrelay``) lets a preview open its own databases
only, as its role, whose password it never sees; unsandboxed, the names it could read
there are random. Sandboxed, they are made on the app's first connection
(:class:`SharedLogins`: each database name the app uses is one of the role's, ``pv_…``
then ``pv_…_1`` … ``pv_…_16``); unsandboxed, at launch, given as ``DATABASE_URL`` and
the usual ``POSTGRES_*`` variables. At the preview's end all are dropped (connections
cut first). Each role is marked with the node that made it (its comment, written in the
transaction that creates it: ``Settings.node``); at a service's start, the roles marked
with its own node, and their databases, are a previous run's leftovers and dropped.
Those of other services sharing the server (another node, another data dir) are theirs
and live: they are never touched, nor unmarked ones (earlier versions'). Blocking
(psycopg): call through ``trio.to_thread``.
"""

from __future__ import annotations

import re
import secrets
import sys
from collections.abc import Callable, Collection
from functools import partial
from typing import TYPE_CHECKING
from urllib.parse import quote, urlsplit

import trio
from sqlalchemy.engine import make_url

from .initsql import Told, run_init_cancellably, run_init_scripts, tell_init
from .pgrelay import Login, LoginRefused
from .wants import COMMON_EXTENSIONS, InitScripts

if TYPE_CHECKING:
    import psycopg

__all__ = [
    "COMMON_EXTENSIONS",
    "DATABASE_NAME",
    "MAX_EXTRA_DATABASES",
    "SharedLogins",
    "Told",
    "add_common_extensions",
    "create_app_database",
    "create_database",
    "create_role",
    "database_server",
    "drop_app_database",
    "drop_leftover_databases",
    "is_psycopg_error",
    "new_database_name",
    "run_init_scripts",
    "tell_init",
]


def is_psycopg_error(error: BaseException) -> bool:
    """Whether ``error`` is psycopg's. psycopg is imported only once a PostgreSQL is used
    (idle RSS); an error of its own means it was, so this imports nothing."""
    module = sys.modules.get("psycopg")
    return module is not None and isinstance(error, module.Error)


DATABASE_NAME = re.compile(r"^pv_[0-9a-f]{24}$")  # a preview's role and database
_MARK = "preview-service node "  # a role's comment: the node whose preview it is
# A preview's role, or one of its databases (``_1`` … ``_16``): group 1 the role.
_PREVIEW_NAME = re.compile(r"^(pv_[0-9a-f]{24})(?:_\d{1,2})?$")
_TIMEOUT = 10
MAX_EXTRA_DATABASES = 16  # beside its first, per preview
# The catalogs of a database that name the server's databases: pg_database and the views
# over it (read in the new database itself, so whatever this server's version has).
_NAMING_CATALOGS = """
SELECT DISTINCT c.relname FROM pg_class c
JOIN pg_namespace n ON n.oid = c.relnamespace AND n.nspname = 'pg_catalog'
JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0
WHERE c.relkind IN ('r', 'v') AND a.attname IN ('datname', 'database')
  AND a.atttypid = 'name'::regtype
"""


def add_common_extensions(connection: psycopg.Connection, own: Collection[str] = ()) -> list[str]:
    """Create :data:`COMMON_EXTENSIONS` in ``connection``'s database (a superuser's, in
    autocommit); those the server lacks are left out, and those the upload creates itself
    (``own``: ``wants.PostgresWants.own_extensions``), whose ``CREATE EXTENSION`` would
    fail on one already there. The ones created."""
    import psycopg  # lazy: psycopg loads only once a PostgreSQL is used
    from psycopg import sql

    created = []
    for name in (n for n in COMMON_EXTENSIONS if n not in own):
        try:
            statement = sql.SQL("CREATE EXTENSION IF NOT EXISTS {}").format(sql.Identifier(name))
            connection.execute(statement)
        except psycopg.Error:  # not installed on this server: the app does without
            continue
        created.append(name)
    return created


def database_server(url: str) -> tuple[str, int] | None:
    """(host, port) of the previews' PostgreSQL server; None when not configured."""
    if not url:
        return None
    parts = urlsplit(re.sub(r"^postgresql\+\w+://", "postgresql://", url))
    return parts.hostname or "127.0.0.1", parts.port or 5432


def _admin(url: str) -> psycopg.Connection:
    import psycopg  # lazy: psycopg loads only once a PostgreSQL is used

    plain = re.sub(r"^postgresql\+\w+://", "postgresql://", url)
    return psycopg.connect(plain, autocommit=True, connect_timeout=_TIMEOUT)


def new_database_name() -> str:
    """A name for a preview's role and database that tells nothing (module doc)."""
    return "pv_" + secrets.token_hex(12)


def create_role(url: str, role: str, node: str) -> str:
    """Create the preview's role (:func:`new_database_name`), marked as ``node``'s;
    its random password."""
    if not DATABASE_NAME.match(role):
        raise ValueError("not a preview role's name")
    from psycopg import sql  # lazy: psycopg loads only once a PostgreSQL is used

    password = secrets.token_urlsafe(24)
    name = sql.Identifier(role)
    with _admin(url) as admin, admin.transaction():  # never a role without its mark
        admin.execute(
            sql.SQL("CREATE ROLE {} LOGIN PASSWORD {}").format(name, sql.Literal(password))
        )
        admin.execute(sql.SQL("COMMENT ON ROLE {} IS {}").format(name, sql.Literal(_mark(node))))
    return password


def _mark(node: str) -> str:
    """A role's comment: which node's preview it is."""
    return f"{_MARK}{node}"


def create_database(url: str, role: str, database: str, own: Collection[str] = ()) -> None:
    """Create ``database``, ``role``'s and closed as the module doc says."""
    if _PREVIEW_NAME.match(database) is None or not database.startswith(role):
        raise ValueError("not a preview database's name")
    from psycopg import sql  # lazy: psycopg loads only once a PostgreSQL is used

    name = sql.Identifier(database)
    with _admin(url) as admin:
        admin.execute(sql.SQL("CREATE DATABASE {} OWNER {}").format(name, sql.Identifier(role)))
        try:
            admin.execute(sql.SQL("REVOKE ALL ON DATABASE {} FROM PUBLIC").format(name))
            with _admin(_in_database(url, database)) as inside:
                add_common_extensions(inside, own)
                catalogs = [row[0] for row in inside.execute(_NAMING_CATALOGS)]
                inside.execute(
                    sql.SQL("REVOKE SELECT ON {} FROM PUBLIC").format(
                        sql.SQL(", ").join(sql.Identifier("pg_catalog", c) for c in catalogs)
                    )
                )
        except BaseException:
            admin.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(name))
            raise


def create_app_database(url: str, database: str, node: str) -> dict[str, str]:
    """Create the role and database ``database`` (:func:`new_database_name`) for a
    preview of ``node``, closed as the module doc says; the variables that give them to
    the app."""
    password = create_role(url, database, node)
    try:
        create_database(url, database, database)
    except BaseException:
        drop_app_database(url, database)
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


def drop_app_database(url: str, role: str) -> None:
    """Drop a preview's databases (their sessions cut) and role; nothing if gone."""
    found = _PREVIEW_NAME.match(role)
    if found is None or found.group(1) != role:
        raise ValueError("not a preview role's name")
    from psycopg import sql  # lazy: psycopg loads only once a PostgreSQL is used

    with _admin(url) as admin:
        rows = admin.execute("SELECT datname FROM pg_database").fetchall()
        for (database,) in rows:
            own = _PREVIEW_NAME.match(database)
            if own is not None and own.group(1) == role:
                admin.execute(
                    sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(
                        sql.Identifier(database)
                    )
                )
        admin.execute(sql.SQL("DROP ROLE IF EXISTS {}").format(sql.Identifier(role)))


def drop_leftover_databases(url: str, node: str) -> list[str]:
    """Drop the databases and roles of ``node``'s previews on the server (none runs:
    the service is starting); the roles dropped."""
    with _admin(url) as admin:
        marked = admin.execute(
            "SELECT rolname FROM pg_roles WHERE shobj_description(oid, 'pg_authid') = %s",
            (_mark(node),),
        ).fetchall()
    leftovers = sorted(r[0] for r in marked if DATABASE_NAME.match(r[0]))
    for role in leftovers:
        drop_app_database(url, role)
    return leftovers


class SharedLogins:
    """A sandboxed preview's logins on the operator's server (``pgrelay.Logins``): its
    role made on the first connection, each database name the app uses one of its own
    databases, made on first use (the module doc); all dropped by :meth:`drop`.
    ``said`` is told each database the app begins to use."""

    def __init__(
        self,
        url: str,
        role: str,
        node: str,
        said: Callable[[str], None] = lambda text: None,
        limiter: trio.CapacityLimiter | None = None,
        init_scripts: InitScripts = (),
        init_told: Told | None = None,
        own_extensions: tuple[str, ...] = (),
    ) -> None:
        self._url = url
        self._own_extensions = own_extensions
        self._node = node  # whose preview: its role is marked so
        self._init_scripts = init_scripts
        self._init_told = init_told  # where what its init scripts did is told (else said)
        self.role = role
        self._said = said
        self._password: str | None = None
        self._names: dict[str, str] = {}  # the app's database name -> its own
        self._lock = trio.Lock()
        self._limiter = limiter or trio.CapacityLimiter(1)

    async def login(self, user: str, database: str) -> Login:
        async with self._lock:
            if self._password is None:
                self._password = await self._blocking(create_role, self._url, self.role, self._node)
            own = self._names.get(database)
            if own is None:
                if len(self._names) > MAX_EXTRA_DATABASES:
                    raise LoginRefused(f"a preview has at most {MAX_EXTRA_DATABASES + 1} databases")
                own = self.role if not self._names else f"{self.role}_{len(self._names)}"
                await self._blocking(
                    partial(create_database, own=self._own_extensions), self._url, self.role, own
                )
                self._names[database] = own
                self._said(f"PostgreSQL: database {database!r} created for the app")
                if self._init_scripts:  # as its role: the SQL is the upload's
                    told = await run_init_cancellably(
                        partial(self._connect_as_role, own, self._password),
                        self._init_scripts,
                        self._limiter,
                    )
                    await tell_init(told, self._init_told, self._said)
            return Login(self.role, own, self._password)

    def _connect_as_role(self, own: str, password: str) -> psycopg.Connection:
        import psycopg  # lazy: psycopg loads only once a PostgreSQL is used

        url = make_url(re.sub(r"^postgresql\+\w+://", "postgresql://", self._url))
        as_role = url.set(username=self.role, password=password, database=own)
        return psycopg.connect(
            as_role.render_as_string(hide_password=False),
            autocommit=True,
            connect_timeout=_TIMEOUT,
        )

    async def _blocking(self, function: Callable[..., object], *args: str) -> str:
        try:
            return await trio.to_thread.run_sync(  # type: ignore[return-value]
                lambda: function(*args), limiter=self._limiter
            )
        except Exception as error:
            if not is_psycopg_error(error):
                raise
            first = next(iter(str(error).strip().splitlines()), "")
            raise LoginRefused(f"the preview's database could not be made: {first}") from None

    @property
    def used(self) -> bool:
        return self._password is not None

    @property
    def password(self) -> str | None:
        """Its role's, once made (the service's own logins as it: ``snapshots``)."""
        return self._password

    @property
    def databases(self) -> dict[str, str]:
        """The database names the app used, each with the name of its own."""
        return dict(self._names)

    def drop(self) -> None:
        """Blocking: its databases and role dropped, if any was made."""
        if self._password is not None:
            drop_app_database(self._url, self.role)
