"""Whether a Python upload uses SQLAlchemy's asyncio extension, and the database URLs it
is then given: :func:`async_database`.

The extension (``create_async_engine``, ``AsyncEngine``, ``async_sessionmaker``,
``async_engine_from_config``, ``sqlalchemy.ext.asyncio``, SQLModel's
``sqlmodel.ext.asyncio``) refuses a URL whose driver is not async ("The asyncio extension
requires an async driver to be used. The loaded 'psycopg2' is not async."): a plain
``postgresql://`` is psycopg2's. When the app's modules (or its Alembic ``env.py``) use it,
the URLs the *service* gives it (its PostgreSQL's, its SQLite file's) name the async
driver it installs: ``postgresql+asyncpg://`` with asyncpg among its dependencies,
``postgresql+psycopg://`` with psycopg 3, ``sqlite+aiosqlite://`` with aiosqlite; with
none listed, asyncpg or aiosqlite, which its build then adds
(:meth:`AsyncDatabase.to_install`), as it adds greenlet, which the extension needs and
SQLAlchemy 2.1 installs only with its ``asyncio`` extra. A sync app keeps the plain URL,
psycopg2's, unless it installs another driver and no psycopg2 (:func:`sync_driver_url`);
the app's own URLs (its ``.env``, the ``env`` launch option) are never changed. Read from
the files only (a regular expression over its modules: nothing runs). An app on Tortoise
ORM is given its PostgreSQL as ``postgres://`` (:func:`tortoise_url`), the scheme Tortoise
knows. An Alembic ``env.py`` that is sync (``engine_from_config``) given an async
driver's URL (gkarumba's fastapi-async-auth-docker-redis: its compose's
``mysql+aiomysql://``, which its app's engine takes) fails on "MissingGreenlet": its
set-up step is given that URL naming the sync driver of the same database the app's
environment has (:func:`sync_migration_urls`); one making its engine of its ini's URL
alone, only its ini (the app's modules it imports keep theirs). The other way round,
an async ``env.py`` (``async_engine_from_config``) beside an app whose engine is sync
(``create_engine``): the app keeps the plain URL, its Alembic steps are given the async
driver's, which its build adds (:attr:`AsyncDatabase.migrations_only`,
:func:`async_migration_urls`).
"""

from __future__ import annotations

import posixpath
import re
from collections.abc import Iterable
from dataclasses import dataclass

from .alembicheads import INI_URL_VARIABLE
from .depspec import PythonDeps
from .pyapp import python_files

__all__ = [
    "URL_VARIABLES",
    "AsyncDatabase",
    "async_database",
    "async_migration_urls",
    "sync_driver_url",
    "sync_migration_urls",
    "sync_url",
    "tortoise_url",
]

# The variables the service fills with a database URL (backing.postgres, sandbox.process):
# DATABASE_URL, and the other names apps read it as (realworld-fastify-drizzle's envalid
# requires POSTGRES_URL, which Vercel's Postgres gives).
URL_VARIABLES = (
    "DATABASE_URL",
    "SQLALCHEMY_DATABASE_URI",
    "POSTGRES_URL",
    "POSTGRESQL_URL",
    "POSTGRES_URI",
    "DATABASE_URI",
    "DB_URL",
)
_USES = re.compile(
    rb"\b(?:create_async_engine|async_engine_from_config|async_sessionmaker|AsyncEngine)\b"
    rb"|\b(?:sqlalchemy|sqlmodel)\.ext\.asyncio\b"
)
# An env.py that makes the async driver's URL sync itself (incRED1bl's FastApi-PetProject:
# ``os.getenv("DATABASE_URL").replace("asyncpg", "psycopg2")``): given the sync URL, it
# imports the app's module, whose async engine is then made on psycopg2 and refused. Or
# that runs the async driver sync (arsendada's shopFastAPI: ``settings.DATABASE_URL +
# "?async_fallback=True"``, which psycopg2 refused as "invalid connection option").
_REWRITES = re.compile(
    rb"""\.replace\(\s*[rb]?['"][^'"]*(?:asyncpg|aiomysql|asyncmy|aiosqlite)"""
    rb"""|['"?&]async_fallback\b"""
)
# An async engine or session factory made (not a type named alone), and a sync engine.
_MAKES_ASYNC = re.compile(
    rb"\b(?:create_async_engine|async_engine_from_config|async_sessionmaker|AsyncEngine)\s*\("
)
_MAKES_SYNC = re.compile(rb"\bcreate_engine\s*\(")
# A sync env.py's engine made of its ini's section (``engine_from_config(config.get_section(
# …))``), and one that sets that section's URL itself (of a variable, its settings').
_FROM_THE_INI = re.compile(rb"\bengine_from_config\s*\(")
_SETS_URL = re.compile(rb"\bset_main_option\s*\(|\bset_section_option\s*\(|\bcreate_engine\s*\(")
# Per dialect, the async drivers SQLAlchemy has, as (distribution, driver), preferred first;
# the first is the one added when the app lists none.
_DRIVERS = {
    "postgresql": (("asyncpg", "asyncpg"), ("psycopg", "psycopg"), ("psycopg-binary", "psycopg")),
    "sqlite": (("aiosqlite", "aiosqlite"),),
}
_PLAIN = re.compile(r"^(postgres(?:ql)?|sqlite)://", re.IGNORECASE)  # no driver named
_ALEMBIC = re.compile(rb"^from alembic import context", re.MULTILINE)  # an Alembic env.py
_ASYNCIO_EXTRA = re.compile(r"\s*sqlalchemy\s*\[[^\]]*\basyncio\b", re.IGNORECASE)
_MAX_SOURCE = 1024 * 1024
_SQLALCHEMY = {"sqlalchemy", "flask-sqlalchemy", "sqlmodel"}  # who reads a URL's driver
# Tortoise ORM's own name of PostgreSQL (its db_url schemes: postgres, asyncpg, psycopg);
# `postgresql://` it refuses ("Unknown DB scheme: postgresql", fastapi-tdd-docker's 0.20).
_POSTGRESQL = re.compile(r"^postgresql(?:\+\w+)?://", re.IGNORECASE)


@dataclass(frozen=True)
class AsyncDatabase:
    """An upload using SQLAlchemy's asyncio extension (see the module doc)."""

    where: str  # the first module found using it
    listed: frozenset[str]  # its dependencies' normalised distribution names
    greenlet: bool = True  # installed by what it lists (SQLAlchemy's asyncio extra)
    # Only its Alembic env.py uses it, its app's engine sync: the app is given the plain
    # URLs, its Alembic steps the async ones (:func:`async_migration_urls`).
    migrations_only: bool = False

    def driver(self, dialect: str) -> tuple[str, str]:
        """(distribution, driver) for ``dialect``: the one it lists, else the first."""
        choices = _DRIVERS[dialect]
        return next((c for c in choices if c[0] in self.listed), choices[0])

    def url(self, url: str) -> str:
        """``url`` naming the async driver, when it names none (else as it is)."""
        found = _PLAIN.match(url)
        if found is None:
            return url
        dialect = "sqlite" if found.group(1).lower() == "sqlite" else "postgresql"
        return f"{dialect}+{self.driver(dialect)[1]}://{url[found.end() :]}"

    def to_install(self, urls: Iterable[str]) -> list[str]:
        """What its build must add: the drivers ``urls`` (as given to the app) name that
        it does not list, and greenlet."""
        missing: list[str] = [] if self.greenlet else ["greenlet"]
        for url in urls:
            dialect, _, driver = url.partition("://")[0].lower().partition("+")
            named = [d for d, n in _DRIVERS.get(dialect, ()) if n == driver]
            if named and not self.listed.intersection(named):
                missing.append(named[0])
        return list(dict.fromkeys(missing))


def async_database(files: dict[str, bytes], deps: PythonDeps) -> AsyncDatabase | None:
    """The upload's use of SQLAlchemy's asyncio extension, or None (a sync app);
    ``deps``: what it lists."""
    envs = [p for p in files if posixpath.basename(p) == "env.py" and _ALEMBIC.search(files[p])]
    modules = [p for p in sorted(python_files(files)) if len(files[p]) <= _MAX_SOURCE]
    own = [p for p in modules if p not in envs]
    if not any(_MAKES_ASYNC.search(files[p]) for p in own) and any(
        _MAKES_SYNC.search(files[p]) for p in own
    ):
        # Its engine is sync (create_engine), the extension named for a type alone:
        # sajidreshmi's fastapi-crm annotates a route's ``db: AsyncSession`` and runs
        # ``create_engine``; given aiosqlite's URL, "MissingGreenlet" at start. Its
        # Alembic env.py may still be async (leonsk27's fastapi-transaction: SQLModel's
        # create_engine in app/db.py, async_engine_from_config in migrations/env.py): its
        # steps take the async URL (:func:`async_migration_urls`), whose driver the build
        # adds; the app keeps the plain one.
        async_envs = [p for p in sorted(envs) if _MAKES_ASYNC.search(files[p])]
        if not async_envs:
            return None
        return AsyncDatabase(async_envs[0], *_listing(deps), migrations_only=True)
    for path in [*modules, *sorted(envs)]:
        data = files[path]
        if len(data) <= _MAX_SOURCE and _USES.search(data):
            return AsyncDatabase(path, *_listing(deps))
    return None


def _listing(deps: PythonDeps) -> tuple[frozenset[str], bool]:
    """(the distributions ``deps`` lists, whether they install greenlet)."""
    listed = frozenset(deps.names())
    extra = any(_ASYNCIO_EXTRA.match(line) for line in deps.requirements)
    return listed, "greenlet" in listed or extra or deps.lock is not None


def sync_driver_url(url: str, listed: set[str]) -> str:
    """``url`` (a plain ``postgresql://``, psycopg2's to SQLAlchemy) naming the sync driver
    a SQLAlchemy app installs instead of psycopg2 (``listed``: its distributions): psycopg
    3's ``postgresql+psycopg://`` (docker-flask-example's uv.lock has no psycopg2: "No
    module named 'psycopg2'"), pg8000's. Others, and an app with psycopg2, as they are."""
    found = _PLAIN.match(url)
    if found is None or found.group(1).lower() == "sqlite" or not listed & _SQLALCHEMY:
        return url
    if listed & {"psycopg2", "psycopg2-binary"}:
        return url
    for names, driver in (({"psycopg", "psycopg-binary"}, "psycopg"), ({"pg8000"}, "pg8000")):
        if listed & names:
            return f"postgresql+{driver}://{url[found.end() :]}"
    return url


def sync_url(url: str, listed: set[str]) -> str:
    """``url`` naming an async driver (``postgresql+asyncpg://``) as the same database's
    URL naming the sync driver ``listed`` (its distributions) installs, its default where
    it lists none: a variable named for the app's sync clients (``DATABASE_URL_SYNC``, which
    its Alembic ``env.py`` reads beside the app's ``DATABASE_URL_ASYNC``). Others as they are."""
    modules = {_MODULES.get(name, name) for name in listed}
    return _with_sync_driver(url, modules, default=True) or url


def _with_sync_driver(url: str, modules: Iterable[str], *, default: bool) -> str | None:
    """``url`` naming an async driver, as the same database's URL naming the sync driver
    of those ``modules`` hold (sqlite3 always there), else its dialect's first where
    ``default``; None for a URL naming no async driver, or no sync driver found."""
    found = _ASYNC_URL.match(url)
    if found is None:
        return None
    have = {*modules, "sqlite3"}
    dialect = found.group(1)
    drivers = _SYNC_DRIVERS[dialect.lower()]
    driver = next((d for m, d in drivers if m in have), drivers[0][1] if default else None)
    if driver is None:
        return None
    scheme = f"{dialect}+{driver}" if driver else dialect
    return f"{scheme}://{url[found.end() :]}"


# The module a sync driver's distribution installs, where the two names differ.
_MODULES = {
    "psycopg2-binary": "psycopg2",
    "psycopg-binary": "psycopg",
    "mysqlclient": "MySQLdb",
}


def tortoise_url(url: str) -> str:
    """``url`` as Tortoise ORM reads a PostgreSQL one (``postgres://``), SQLAlchemy's
    schemes (``postgresql://``, ``postgresql+asyncpg://``) being none of its; others as they
    are."""
    return _POSTGRESQL.sub("postgres://", url, count=1)


# A URL naming an async driver: (its dialect, as written), and its sync counterparts by
# the module each is, preferred first ("": the dialect's default, SQLite's sqlite3).
_ASYNC_URL = re.compile(
    r"^(mysql|mariadb|postgresql|postgres|sqlite)\+(?:aiomysql|asyncmy|asyncpg|aiosqlite)://",
    re.IGNORECASE,
)
_SYNC_DRIVERS = {
    "mysql": (("pymysql", "pymysql"), ("MySQLdb", "mysqldb")),
    "mariadb": (("pymysql", "pymysql"), ("MySQLdb", "mysqldb")),
    "postgresql": (("psycopg2", "psycopg2"), ("psycopg", "psycopg")),
    "postgres": (("psycopg2", "psycopg2"), ("psycopg", "psycopg")),
    "sqlite": (("sqlite3", ""),),
}


def async_migration_urls(
    files: dict[str, bytes], where: str, env: dict[str, str], modules: Iterable[str]
) -> dict[str, str]:
    """The database URLs of ``env`` an Alembic set-up step run in ``where`` is given in
    place of theirs: where every Alembic ``env.py`` there makes an async engine
    (``async_engine_from_config``) and a URL names no driver (the app's own engine is
    sync: :attr:`AsyncDatabase.migrations_only`), the same URL naming the async driver
    ``modules`` (what the app's environment has) holds; none else."""
    envs = _alembic_envs(files, where)
    if not envs or not all(_MAKES_ASYNC.search(data) for data in envs):
        return {}
    installed = AsyncDatabase(where, frozenset(modules))
    changed: dict[str, str] = {}
    for name in URL_VARIABLES:
        url = env.get(name, "")
        if (named := installed.url(url)) != url:  # (a URL naming a driver: as it is)
            changed[name] = named
    return changed


def _alembic_envs(files: dict[str, bytes], where: str) -> list[bytes]:
    """The Alembic ``env.py`` files under ``where``."""
    prefix = f"{where}/" if where else ""
    return [
        data
        for path, data in files.items()
        if path.startswith(prefix)
        and posixpath.basename(path) == "env.py"
        and _ALEMBIC.search(data)
    ]


def sync_migration_urls(
    files: dict[str, bytes], where: str, env: dict[str, str], modules: Iterable[str]
) -> dict[str, str]:
    """The database URLs of ``env`` an Alembic set-up step run in ``where`` is given in
    place of theirs: where every Alembic ``env.py`` there is sync (none uses the asyncio
    extension) and a URL names an async driver, the same URL naming the sync driver of
    its database that ``modules`` (what the app's environment has) holds; none else, nor
    where an env.py makes the async URL sync itself. Where every env.py makes its engine
    of its ini's URL alone (``engine_from_config``, setting none), only the URL its ini
    is given (``alembicheads.INI_URL_VARIABLE``): DmitryDubovikov's FastAPI-Weather's
    env.py imports its models, whose module makes ``create_async_engine(DATABASE_URL)``
    as it loads, and psycopg2's URL there refused it before any table was made."""
    envs = _alembic_envs(files, where)
    if not envs or any(_USES.search(data) or _REWRITES.search(data) for data in envs):
        return {}
    modules = set(modules)  # read once per variable below
    if all(_FROM_THE_INI.search(d) and not _SETS_URL.search(d) for d in envs):
        # Its engine of the ini's URL alone: the URL variables are not its own but the
        # app's modules' it imports (their async engine made as they load), kept; the
        # ini is given the sync one (alembicheads.INI_URL_VARIABLE).
        url = _with_sync_driver(env.get("DATABASE_URL", ""), modules, default=False)
        return {INI_URL_VARIABLE: url} if url is not None else {}
    changed: dict[str, str] = {}
    for name in URL_VARIABLES:
        if (url := _with_sync_driver(env.get(name, ""), modules, default=False)) is not None:
            changed[name] = url
    return changed
