"""A Node app's own data set-up scripts (:func:`data_scripts`), run as set-up steps by
``npm run`` where nothing else makes its database.

Only for an app that keeps its data in a SQLite file (``sqlite3``, ``better-sqlite3``,
``@libsql/client``, ``sql.js`` … listed, or Bun's ``bun:sqlite`` imported; no database
server's client) and has no
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

Whatever its database, a script that only copies a file of the upload to one it lacks
that its code reads by name (``"reset": "cp db/seed.json db/data.json"``, ``db/data.json``
kept out by its .gitignore) makes its data file: it runs first (:func:`copy_scripts`).
Gerpha's express-file-crud reads ``./db/data.json`` at start and died on ENOENT.
"""

from __future__ import annotations

import posixpath
import re
from collections.abc import Callable

from .devscript import BIN_FIRST_ON_PATH

__all__ = ["copy_scripts", "data_scripts", "table_scripts"]

_SQLITE = {"sqlite3", "better-sqlite3", "@libsql/client", "libsql", "sqlite", "sql.js"}
_SQLITE |= {"sqlite-async"}  # (sqlite3's promise wrapper: Glebvvss's restaurant-express-js)
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
    scripts: dict[str, str],
    listed: dict[str, str],
    files: dict[str, bytes] | None = None,
    readme: bytes = b"",
) -> tuple[tuple[str, ...], ...]:
    """The ``npm run`` steps of the module doc, in order; () for none. ``scripts``:
    package.json's; ``listed``: its dependencies and devDependencies; ``files``: the
    upload's, where a seed script with no script making the database before it is run
    alone when its own file makes the tables (:func:`_seed_makes_tables`); ``readme``: its
    README's text, whose runs of such a file are steps where no script is one."""
    if _SERVERS & listed.keys():
        return table_scripts(scripts, files or {})
    if not (_SQLITE & listed.keys()) and not _bun_sqlite(files or {}):
        return ()
    make = _named(scripts, lambda words: bool(words & _MAKE and words & _DATABASE))
    # Or one named for migrating that runs a file of the upload making the tables
    # (urfavteddybear's express-library-api: ``"migration": "node database/migration.js"``,
    # its CREATE TABLEs, then ``"seed"``, both RUN by its Dockerfile before ``node app.js``;
    # every route met "no such table").
    # Or one named for the database alone (larrythng96's simple-libsql-drizzle-express:
    # ``"db": "node src/db/seed.js"``, its CREATE TABLE and rows, the README's ``npm run
    # db`` before ``npm run dev``; /users met no such table).
    making = {k: v for k, v in scripts.items() if _seed_makes_tables(v, files or {})}
    make = make or _named(
        making, lambda words: bool(words & _MIGRATE or words <= _DATABASE or words <= _MAKE)
    )
    seed = _named(scripts, lambda words: "seed" in words or "seeds" in words)
    if make is None:
        made = seed is not None and _seed_makes_tables(scripts[seed], files or {})
        if made and seed is not None:
            return (("npm", "run", seed),)
        return _readme_table_files(readme, files or {})
    return tuple(("npm", "run", name) for name in (make, seed) if name is not None)


# A README's command line (in a code block or a backquoted span).
_README_LINE = re.compile(r"^[ \t]*(?:\$\s*)?(.+?)\s*$", re.MULTILINE)


def _readme_table_files(readme: bytes, files: dict[str, bytes]) -> tuple[tuple[str, ...], ...]:
    """The README's own runs of a file of the upload that makes the tables (fariswd's
    honobun: "Rename, init, run", ``bun run ./src/config/init.ts`` its only ``CREATE
    TABLE``, no script naming it; /product met "no such table"), each a set-up step, in
    the README's order."""
    steps: list[tuple[str, ...]] = []
    for line in _README_LINE.findall(readme[:200_000].decode("utf-8", "replace")):
        command = line.strip("`").strip()
        if _NODE_FILE.match(command) and _seed_makes_tables(command, files):
            step = ("sh", "-c", BIN_FIRST_ON_PATH + command)
            if step not in steps:
                steps.append(step)
    return tuple(steps)


# Bun's own SQLite (``import { Database } from "bun:sqlite"``), which no package lists.
_BUN_SQLITE = re.compile(rb"""\bfrom\s+["']bun:sqlite["']|\brequire\(\s*["']bun:sqlite["']""")


def _bun_sqlite(files: dict[str, bytes]) -> bool:
    """Whether a source of the upload's (not node_modules') opens Bun's built-in SQLite:
    fajaralfa's belajar-hono keeps its tables in ``"db:create": "bun run
    script/db:create.ts"`` (its schema.sql, run on bun:sqlite's Database); / met "no such
    table: users"."""
    return any(
        p.endswith((".ts", ".js", ".mjs", ".mts"))
        and "node_modules/" not in p
        and _BUN_SQLITE.search(d)
        for p, d in files.items()
    )


# ``node file.js``, its preloads given (``node -r ts-node/register src/db/run-seed.ts``);
# ``bun run file.ts`` alike.
_NODE_FILE = re.compile(
    r"^(?:npx\s++)?(?:node|ts-node|tsx|bun(?:\s++run)?+)\s++"
    r"(?:(?:-r|--require)\s++[\w@./-]++\s++|--?[a-z][\w-]*+\s++)*+"
    r"(?:\./)?([\w./-]+\.(?:[cm]?js|ts))\s*$"
)
# What may come before it in one script: its build (``npm run build && node
# ./dist/migrations/index.js``).
_BUILD_FIRST = re.compile(r"^(?:npm\s+run|yarn(?:\s+run)?)\s+[\w:.-]+$|^(?:tsc|babel)\b[^&|;]*$")
_OUTPUTS = ("dist/", "build/", "lib/", "out/")
# Tables made by the script itself: Sequelize's sync() (``Profile.sync({ force: true })``),
# knex's createTable, or SQL's CREATE TABLE.
_MAKES_TABLES = re.compile(rb"\.sync\s*\(|\bcreateTable\s*\(|\bCREATE\s+TABLE\b", re.IGNORECASE)
_RELATIVE_IMPORT = re.compile(rb"""(?:\bfrom\s+|\brequire\(\s*)["'](\.{1,2}/[\w./-]+)["']""")
# A script reading SQL files (``fs.readdirSync(dir).filter((f) => f.endsWith('.sql'))``,
# then each file's text sent as a query): the upload's SQL makes its tables.
_READS_SQL = re.compile(rb"""\breadFile(?:Sync)?\s*\(|\breaddir(?:Sync)?\s*\(""")


def _seed_makes_tables(command: str, files: dict[str, bytes]) -> bool:
    """Whether the seed script ``command`` (``node ./scripts/seedDb.js``) runs a file of
    the upload that makes the tables: its only table creation, then (christianjtr's
    express-rest-api-sequelize: ``Profile.sync({ force: true })`` in scripts/seedDb.js,
    the README's ``npm run seed`` before ``npm start``; every route met "no such table").
    The file may make them through a module of the upload it imports (SohrabYavari's
    ts-fastify-mysql: run-seed.ts runs seed.ts's ``CREATE TABLE users``), and be the
    build's output of a source the upload has (hdinjos's express-todos: ``"migrate": "npm
    run build && node ./dist/migrations/index.js"``, babel's dist/ from src/), and be run
    by ts-node or tsx."""
    *before, last = [part.strip() for part in command.strip().split("&&")]
    found = _NODE_FILE.match(last)
    if found is None or not all(_BUILD_FIRST.match(part) for part in before):
        return False
    path = _source(found.group(1), files)
    if path is None:
        return False
    text = files[path]
    if any(_MAKES_TABLES.search(files[p]) for p in _reached(path, files)):
        return True
    # Or the upload's SQL files, which it reads and sends (alhabib5565's ts-node-express-pg:
    # ``"migrate": "ts-node migrate.ts"`` runs src/database/migrations/*.sql in order;
    # every route met relation "users" does not exist).
    return (
        b".sql" in text
        and _READS_SQL.search(text) is not None
        and any(
            p.endswith(".sql") and "node_modules/" not in p and _MAKES_TABLES.search(data)
            for p, data in files.items()
        )
    )


# A module required by a name built from a folder's path (``require(`../migrations/
# ${name}.js`)``, ``require('./migrations/' + name)``): group 1 that folder.
_CODE = re.compile(r"\.(?:[cm]?js|ts)$")
_REQUIRED_FROM_FOLDER = re.compile(
    rb"""\brequire\(\s*(?:`(\.{1,2}/[\w./-]*/)\$\{|["'](\.{1,2}/[\w./-]*/)["']\s*\+)"""
)


def _reached(path: str, files: dict[str, bytes], depth: int = 2) -> list[str]:
    """``path`` and the upload's modules it imports, and theirs (``depth`` steps), with
    every module of a folder one of them requires by a built name (Glebvvss's
    restaurant-express-js: migrate.js imports src/core/db.js, which requires
    ``../migrations/${name}.js``: 0_schema.js sends its CREATE TABLEs)."""
    found, level = [path], [path]
    for _ in range(depth):
        near: list[str] = []
        for current in level:
            text = files[current]
            for named in _RELATIVE_IMPORT.findall(text):
                if (module := _source(_joined(current, named.decode()), files)) is not None:
                    near.append(module)
            for groups in _REQUIRED_FROM_FOLDER.findall(text):
                folder = _joined(current, next(g for g in groups if g).decode()) + "/"
                near += [p for p in sorted(files) if p.startswith(folder) and _CODE.search(p)]
        level = [p for p in dict.fromkeys(near) if p not in found]
        found += level
    return found


def _joined(path: str, relative: str) -> str:
    return posixpath.normpath(posixpath.join(posixpath.dirname(path), relative))


def _source(path: str, files: dict[str, bytes]) -> str | None:
    """The upload's file ``path`` names: itself, its module without an extension (an
    import's ``./seed``), or, under a build's output folder, the source it is built from
    (``dist/migrations/index.js`` from ``src/migrations/index.js``)."""
    if path in files:
        return path
    stem = path.rsplit(".", 1)[0] if path.endswith((".js", ".cjs", ".mjs", ".ts")) else path
    below = next((stem.removeprefix(o) for o in _OUTPUTS if stem.startswith(o)), None)
    for base in (stem, f"{stem}/index", *((f"src/{below}",) if below else ())):
        for ext in (".js", ".ts", ".cjs", ".mjs"):
            if f"{base}{ext}" in files:
                return f"{base}{ext}"
    return None


_MIGRATE = {"migrate", "migration", "migrations"}


def table_scripts(scripts: dict[str, str], files: dict[str, bytes]) -> tuple[tuple[str, ...], ...]:
    """On a database server's client: the plainest package.json script named for
    migrating or making the database (``db_migrate``, ``migrate``, ``db:init``) whose
    command runs a file of the upload that makes the tables itself
    (:func:`_seed_makes_tables`): ``npm run`` it, as its author did once by hand."""
    making = {k: v for k, v in scripts.items() if _seed_makes_tables(v, files)}
    # (a script named for making alone counts by its file's tables: Kauanphbbb's
    # short-links-with-fastify's ``"setup": "tsx src/setup.ts"``, its CREATE TABLE
    # short_links, its README's ``npm run setup`` first; /api/links met no such table)
    named = _named(
        making,
        lambda words: bool(
            words & _MIGRATE
            or words <= _DATABASE
            or words <= _MAKE
            or (words & _MAKE and words & _DATABASE)
        ),
    )
    # Else its seed script (SohrabYavari's ts-fastify-mysql: ``"seed": "node -r
    # ts-node/register src/db/run-seed.ts"``, whose seed.ts drops and creates its tables;
    # every route met "Table 'app.users' doesn't exist").
    named = named or _named(making, lambda words: bool(words & {"seed", "seeds"}))
    return (("npm", "run", named),) if named is not None else ()


def _named(scripts: dict[str, str], wanted: Callable[[set[str]], bool]) -> str | None:
    for name in sorted(scripts, key=len):  # the plainest first (db:seed before db:seed:all)
        words = set(_WORDS.split(name.lower()))
        if wanted(words) and not words & _NOT:
            return name
    return None


# A script of one copy: ``cp db/seed.json db/data.json`` (``-n``, ``-f`` and the like).
_COPY = re.compile(r"^cp(?:\s+-[a-zA-Z]+)*\s+(?:\./)?([\w./-]+)\s+(?:\./)?([\w./-]+)\s*$")


def copy_scripts(scripts: dict[str, str], files: dict[str, bytes]) -> tuple[tuple[str, ...], ...]:
    """The ``npm run`` steps of the scripts that copy a file of the upload to one it
    lacks that its Node code names (module doc), in the package's order."""
    found: list[tuple[str, ...]] = []
    for name, command in scripts.items():
        copy = _COPY.match(command.strip())
        if copy is None or _WORDS.split(name)[0] in _NOT:
            continue
        source, target = (posixpath.normpath(p) for p in copy.groups())
        if source not in files or target in files or ".." in target or target.startswith("."):
            continue
        named = (f"'{target}", f'"{target}', f"`{target}", f"/{target}")
        if any(
            path.endswith((".js", ".cjs", ".mjs", ".ts"))
            and not path.startswith("node_modules/")
            and any(n.encode() in data for n in named)
            for path, data in files.items()
        ):
            found.append(("npm", "run", name))
    return tuple(found)
