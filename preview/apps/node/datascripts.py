"""A Node app's own data set-up scripts (:func:`data_scripts`), run as set-up steps by
``npm run`` where nothing else makes its database.

Only for an app that keeps its data in a SQLite file (``sqlite3``, ``better-sqlite3``,
``@libsql/client``, ``sql.js`` … listed, no database server's client) and has no
migrations the service runs (Prisma's, knex's, Drizzle's): a package.json script named
for making the database (``setup-example-db``, ``db:init``, ``init-db``,
``create-tables``), then, with it, one named for seeding it (``seed``, ``db:seed``).
Sequelize's express-example keeps its tables and rows in ``npm run setup-example-db``;
without it every route answered 500 (no such table). On a server's database such
scripts also create the database or its user (``db:create``), which the service has
already made under its own names, so they are left to the app there: but where such a
script runs a file of the upload that makes the tables itself (``"db_migrate": "node
migrations/index.js"``, whose file sends ``CREATE TABLE IF NOT EXISTS``), it is the app's
schema, and it is run (:func:`table_scripts`; its failure is not the launch's).
"""

from __future__ import annotations

import re
from collections.abc import Callable

__all__ = ["data_scripts", "table_scripts"]

_SQLITE = {"sqlite3", "better-sqlite3", "@libsql/client", "libsql", "sqlite", "sql.js"}
_SERVERS = {
    "pg",
    "pg-promise",
    "postgres",
    "@neondatabase/serverless",
    "mysql",
    "mysql2",
    "mariadb",
    "mongoose",
    "mongodb",
    "tedious",
    "mssql",
    "oracledb",
}
_WORDS = re.compile(r"[-:_.]")
_MAKE = {"setup", "init", "initialize", "initialise", "create", "reset", "bootstrap"}
_DATABASE = {"db", "database", "tables", "schema", "sqlite"}
_NOT = {"test", "tests", "drop", "undo", "rollback", "watch", "dev"}


def data_scripts(
    scripts: dict[str, str], listed: dict[str, str], files: dict[str, bytes] | None = None
) -> tuple[tuple[str, ...], ...]:
    """The ``npm run`` steps of the module doc, in order; () for none. ``scripts``:
    package.json's; ``listed``: its dependencies and devDependencies; ``files``: the
    upload's, where a seed script with no script making the database before it is run
    alone when its own file makes the tables (:func:`_seed_makes_tables`)."""
    if _SERVERS & listed.keys():
        return table_scripts(scripts, files or {})
    if not (_SQLITE & listed.keys()):
        return ()
    make = _named(scripts, lambda words: bool(words & _MAKE and words & _DATABASE))
    seed = _named(scripts, lambda words: "seed" in words or "seeds" in words)
    if make is None:
        made = seed is not None and _seed_makes_tables(scripts[seed], files or {})
        return (("npm", "run", seed),) if made and seed is not None else ()
    return tuple(("npm", "run", name) for name in (make, seed) if name is not None)


_NODE_FILE = re.compile(r"^node\s+(?:\./)?([\w./-]+\.[cm]?js)\s*$")
# Tables made by the script itself: Sequelize's sync() (``Profile.sync({ force: true })``),
# knex's createTable, or SQL's CREATE TABLE.
_MAKES_TABLES = re.compile(rb"\.sync\s*\(|\bcreateTable\s*\(|\bCREATE\s+TABLE\b", re.IGNORECASE)


def _seed_makes_tables(command: str, files: dict[str, bytes]) -> bool:
    """Whether the seed script ``command`` (``node ./scripts/seedDb.js``) runs a file of
    the upload that makes the tables: its only table creation, then (christianjtr's
    express-rest-api-sequelize: ``Profile.sync({ force: true })`` in scripts/seedDb.js,
    the README's ``npm run seed`` before ``npm start``; every route met "no such table")."""
    found = _NODE_FILE.match(command.strip())
    return found is not None and bool(_MAKES_TABLES.search(files.get(found.group(1), b"")))


_MIGRATE = {"migrate", "migration", "migrations"}


def table_scripts(scripts: dict[str, str], files: dict[str, bytes]) -> tuple[tuple[str, ...], ...]:
    """On a database server's client: the plainest package.json script named for
    migrating or making the database (``db_migrate``, ``migrate``, ``db:init``) whose
    command runs a file of the upload that makes the tables itself
    (:func:`_seed_makes_tables`): ``npm run`` it, as its author did once by hand."""
    named = _named(
        {k: v for k, v in scripts.items() if _seed_makes_tables(v, files)},
        lambda words: bool(words & _MIGRATE or (words & _MAKE and words & _DATABASE)),
    )
    return (("npm", "run", named),) if named is not None else ()


def _named(scripts: dict[str, str], wanted: Callable[[set[str]], bool]) -> str | None:
    for name in sorted(scripts, key=len):  # the plainest first (db:seed before db:seed:all)
        words = set(_WORDS.split(name.lower()))
        if wanted(words) and not words & _NOT:
            return name
    return None
