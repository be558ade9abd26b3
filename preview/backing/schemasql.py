"""The SQL an upload declares for its database (:func:`declared_sql`), read in the order a
human setting the app up would read it, and run into the preview's own MariaDB
(:func:`run_mysql_scripts`; the PostgreSQL's are run by :mod:`.initsql`).

1. Its compose file's database service of that engine mounting files into
   ``/docker-entrypoint-initdb.d`` (``./db/schema.sql:/docker-entrypoint-initdb.d/01.sql``),
   which the official images run on a new server, in their names' order;
2. a Dockerfile built on that engine's image copying them there (``COPY init.sql
   /docker-entrypoint-initdb.d/``);
3. the SQL files its README tells to run (``mysql -u root ecommerce < database/shop.sql``,
   ``psql -f db/schema.sql``, "import file ``database/shop.sql``"), in the README's order;
4. its numbered SQL files of one folder (``00_base.sql``, ``01_users.sql``), in their
   numbers' order (:func:`_numbered_series`); else its one SQL file that creates tables
   (``database/ecommerce.sql``, a phpMyAdmin dump; ``schema.sql``; ``initdb.pgsql``;
   else a text file of SQL, ``CREATE TABLE .txt``),
   where nothing else makes its schema (migrations of any tool, Django); with the tables
   its code's queries name that the file does not make, where it queries by its driver
   alone (:func:`queried_tables`);
5. the ``CREATE TABLE`` blocks of its README (fenced or indented, a code span of its
   prose, or statements pasted into its prose with no fence; a terminal session's as its
   SQL statements), where it has no SQL file at all;
   else the ``CREATE TABLE`` statements of a Node script of its own that nothing runs
   nor imports (its author's ``node create-table.js``, once by hand: :func:`_unrun_script`),
   or of a Python script of its own likewise (``personas.py``: :func:`_unrun_python_script`,
   with the tables its queries name that the script does not make);
6. for a Node or Python app querying its database by its driver alone, where nothing of the upload
   makes a table (no SQL, no ORM, no migrations): the tables its queries name, with the
   columns they name (:func:`queried_tables`).

Each in the dialect of the engine it is run into: a MySQL dump (backquoted names,
``ENGINE=InnoDB``, ``AUTO_INCREMENT``) is not run into a PostgreSQL, nor a PostgreSQL one
(``SERIAL``, ``$$``, ``::``) into a MariaDB. Nothing here runs while reading: each rule is
a pure function of the upload's files, and says where its SQL came from.
"""

from __future__ import annotations

import posixpath
import re
from collections.abc import Awaitable, Callable, Collection
from dataclasses import dataclass
from typing import Literal

from ..apps.configvars import compose_projects, readme_paths

# (its path in the upload, its SQL), in the order to run them: ``wants.InitScripts``.
InitScripts = tuple[tuple[str, str], ...]
# How a compose service's init folder mounts are read (``wants.compose_init_scripts``,
# given by the caller: that module reads this one's rules).
ComposeScripts = Callable[[dict, str, dict[str, bytes]], dict[str, str]]

__all__ = [
    "DeclaredSql",
    "declared_sql",
    "dialect",
    "for_mariadb",
    "mysql_client_argv",
    "queried_tables",
    "run_mysql_scripts",
    "script_accounts",
    "used_database",
]

MYSQL, POSTGRES = "mysql", "postgres"
_IMAGES = {
    MYSQL: re.compile(r"^(?:[\w.-]+/)*(?:mysql|mariadb|percona[\w-]*)(?::|@|$)", re.I),
    POSTGRES: re.compile(r"postgres|postgis|timescale", re.I),
}
_INITDB = "/docker-entrypoint-initdb.d"
_MAX_SCRIPT = 4 * 1024 * 1024
_CREATE_TABLE = re.compile(rb"\bcreate\s++table\b", re.I)
# Code's lines commented out (``// CREATE TABLE estoque (…)``, ``# cur.execute(…)``) and
# block comments: what no one runs (DannerKurtz's estoque-API-com-fastify keeps its table
# script commented out in create-table.js; its queries' tables were not made for it).
_COMMENTED_OUT = re.compile(rb"^[ \t]*(?://|#)[^\n]*|/\*.*?\*/", re.M | re.S)
# Markers of each dialect; a file with neither (plain CREATE TABLE … INT, VARCHAR) runs on both.
_MYSQL_MARKS = re.compile(
    rb"`\w[^`\n]*`|\bENGINE\s*=|\bAUTO_INCREMENT\b|/\*!\d{5}|\bUNSIGNED\b|\bLOCK\s+TABLES\b"
    rb"|\b(?:TINY|MEDIUM|LONG)TEXT\b|\bint\(\d+\)|\bDEFAULT\s+CHARSET\b|\bUSE\s+`?\w+`?\s*;",
    re.I,
)
_POSTGRES_MARKS = re.compile(
    rb"\b(?:BIG|SMALL)SERIAL\b|\$\$|::\w|\bCREATE\s+EXTENSION\b|\bOWNER\s+TO\b|\bpg_catalog\b"
    rb"|\bsearch_path\b|\bGENERATED\s+(?:ALWAYS|BY\s+DEFAULT)\s+AS\s+IDENTITY\b|\bBYTEA\b"
    rb"|\bTIMESTAMPTZ\b|\bJSONB\b|\bplpgsql\b|\bCREATE\s+TYPE\b",
    re.I,
)
# Plain ``SERIAL``: PostgreSQL's mark, but MySQL's too (an alias of an auto-incremented
# BIGINT), where the script is one the app runs into a server of that engine.
_SERIAL = re.compile(rb"\bSERIAL\b", re.I)
_TESTS = re.compile(
    r"(?:^|/)(?:tests?|__tests__|spec|node_modules|\.venv|venv)/|(?:^|/)test_[^/]*$|\.(?:spec|test)\."
)
# What makes a schema otherwise: migrations (of any tool), Django, an ORM's config.
_SCHEMA_MADE = re.compile(
    r"(?:^|/)(?:migrations?|alembic|prisma|drizzle|versions)/"
    r"|(?:^|/)(?:alembic\.ini|knexfile\.\w+|\.sequelizerc|manage\.py|ormconfig\.\w+)$"
)
_DOCUMENT = re.compile(r"\.(?:sql|md|txt|rst)$|(?:^|/)(?:README|\.gitkeep)$", re.IGNORECASE)
# A README's command running a file of SQL: ``mysql … < x.sql``, ``psql … -f x.sql``,
# ``source x.sql``, ``\i x.sql``; or its words: "import (the) file x.sql".
_README_RUNS = re.compile(
    r"(?:\bmysql\b|\bmariadb\b|\bpsql\b)[^\n`]*?(?:<|\s-f\s*|\s--file[= ])"
    r"\s*[\"']?([\w./-]+\.sql)\b"
    r"|(?:^|[\s`])(?:source|\\i|\\\.)\s+[\"']?([\w./-]+\.sql)\b"
    r"|\bimport\b[^\n]{0,60}?([\w./-]+\.sql)\b",
    re.I,
)
_FENCE = re.compile(r"^(```|~~~)[^\n]*\n(.*?)^\1", re.M | re.S)


# How the upload declares its SQL, for the rules that judge a kind, not its wording:
# where it says its server runs them (a compose mount, a Dockerfile's copy into the
# init folder, a README's command), or what is read without being said (one file or a
# series making tables, a script of its own, a README's blocks, its code's queries).
DeclaredBy = Literal[
    "compose-mount",
    "dockerfile-copy",
    "readme-command",
    "numbered-series",
    "own-databases",
    "one-file",
    "whole-schema",
    "table-each",
    "readme-blocks",
    "unrun-script",
    "queries",
]


@dataclass(frozen=True)
class DeclaredSql:
    scripts: InitScripts  # (its path in the upload, its SQL), in the order to run them
    origin: str  # where the upload declares them, for the log
    by: DeclaredBy
    # The database the command that runs them names (``mysql -u root -p shop < x.sql``),
    # which the app then reads them from; None where it names none.
    database: str | None = None


# A string literal (either engine's escapes) or a line's comment: what the statements hold
# as data or prose, never a marker of their dialect. One alternation, so that a quote in a
# comment and a comment's dashes in a string are each read as what they are inside of.
_LITERAL_OR_COMMENT = re.compile(rb"'(?:[^'\\]|''|\\.)*+'|--[^\n]*+", re.S)


def dialect(data: bytes, *, serial_is_postgres: bool = True) -> str | None:
    """The SQL dialect ``data`` is written in, by its markers (:data:`MYSQL`, :data:`POSTGRES`)
    outside its strings and ``--`` comments (a dump's INSERTs of prose saying "Use the
    …" are no MySQL ``USE``); None where it has neither's (or as many of each). Plain
    ``SERIAL`` counts as PostgreSQL's unless ``serial_is_postgres`` is false."""
    statements = _LITERAL_OR_COMMENT.sub(_blanked, data[:_MAX_SCRIPT])
    mysql = len(_MYSQL_MARKS.findall(statements))
    postgres = len(_POSTGRES_MARKS.findall(statements))
    postgres += len(_SERIAL.findall(statements)) if serial_is_postgres else 0
    if mysql > postgres:
        return MYSQL
    return POSTGRES if postgres > mysql else None


def _blanked(found: re.Match[bytes]) -> bytes:
    """A literal as an empty one (its cast, ``'…'::text``, stays a cast), a comment as nothing."""
    return b"''" if found.group().startswith(b"'") else b""


def _fits(data: bytes, engine: str, *, into_its_image: bool = False) -> bool:
    """Whether ``data`` is SQL for ``engine``; ``into_its_image``: a script the app's
    compose file or Dockerfile puts in that engine's image's init folder, where plain
    ``SERIAL`` is that engine's (ktm-m's playground-fastify mounts init.sql, ``user_id
    SERIAL PRIMARY KEY``, into its MySQL's: judged PostgreSQL's, it was not run, and every
    query met a missing table)."""
    written = dialect(data, serial_is_postgres=not into_its_image)
    return written in (engine, None) and len(data) < _MAX_SCRIPT


def _scripts(
    files: dict[str, bytes], paths: list[str], engine: str, *, into_its_image: bool = False
) -> InitScripts:
    return tuple(
        (p, _up_part(files[p].decode("utf-8", "replace")))
        for p in paths
        if _fits(files[p], engine, into_its_image=into_its_image)
    )


# Where a migration tool's file turns from applying to undoing: dbmate's ``-- migrate:down``,
# sql-migrate's ``-- +migrate Down``, goose's ``-- +goose Down``.
_DOWN_MARK = re.compile(
    r"^[ \t]*--[ \t]*(?:migrate:down|\+migrate[ \t]+down|\+goose[ \t]+down)\b", re.I | re.M
)


def _up_part(text: str) -> str:
    """A migration file's applying part, as its tool runs it up: run whole, its undoing
    part dropped what it made (maketheworldwise's jam-factory-express-repository, dbmate's
    files: its ``-- migrate:down`` dropped every table its ``-- migrate:up`` created, and
    the next file's rows met "Table 'JAM_FACTORY.PRODUCT' doesn't exist")."""
    down = _DOWN_MARK.search(text)
    return text[: down.start()] if down is not None else text


def declared_sql(
    files: dict[str, bytes], engine: str, compose_scripts: ComposeScripts
) -> DeclaredSql | None:
    """The SQL the upload declares for its ``engine`` (:data:`MYSQL`, :data:`POSTGRES`)
    database, by the first rule of the module doc that finds some; None for none."""
    found = _compose_mounts(files, engine, compose_scripts)
    if found is not None and found.scripts:
        return found
    rules = (
        _dockerfile_copies,
        _readme_named,
        _numbered_series,
        _lone_file,
        _readme_blocks,
        _unrun_script,
        _unrun_python_script,
    )
    for rule in rules:
        found = rule(files, engine)
        if found is not None and found.scripts:
            return found
    return None


def queried_tables(
    files: dict[str, bytes],
    engine: str = MYSQL,
    *,
    own_script: tuple[str, frozenset[str]] | None = None,
    sql_made: frozenset[str] | None = None,
) -> DeclaredSql | None:
    """Rule 6 of the module doc: a table for each its Node code's SQL names (``SELECT …
    FROM``, ``INSERT INTO t (a, b)``, ``UPDATE t SET a = ?``, ``DELETE FROM``), with the
    columns named beside it (an insert's, an update's, a condition's, a select's list):
    ``id`` its key, numbered; a ``…_id`` a number; an ``is_…``/``has_…`` a boolean in
    PostgreSQL (which compares no text to one); any other text. tobiaditia's
    express-payroll and xmkabel's express-expenses made theirs by hand on their own
    servers: every query of their routes met "Table 'app.users' doesn't exist"; so did
    abv-solutions' nestjs-inventory on its PostgreSQL ('relation "projects" does not
    exist'). A Python app's likewise, where its code imports a SQL driver (psycopg,
    PyMySQL …) and no ORM (PavelYasukevich's fastapi-workout: ``cur.execute('''SELECT *
    FROM posts''')`` on psycopg 3, its table made by hand: 'relation "posts" does not
    exist'). None where the upload makes a table itself, or uses an ORM, or names none.
    ``own_script``: (its path, the tables it makes) of a table script of its own nothing runs
    (:func:`_unrun_python_script`): its statements are not the app's, nor its tables
    wanted again. ``sql_made``: the tables its one SQL file makes (:func:`_lone_file`),
    which that file's making no longer rules out, and which are not wanted again."""
    skipped, made = own_script if own_script is not None else ("", frozenset())
    made |= sql_made or frozenset()
    package = files.get("package.json", b"")
    node = bool(package) and not any(f'"{orm}"'.encode() in package for orm in _ORMS)
    python = _python_driver_alone(files)
    if not node and not python:
        return None
    if any(_SCHEMA_MADE.search(p) for p in files) or (
        sql_made is None
        and any(p.endswith(".sql") and _CREATE_TABLE.search(d) for p, d in files.items())
    ):
        return None
    tables: dict[str, dict[str, None]] = {}
    # A join's unqualified columns, each with the tables it may be of: given to one of
    # them once every statement is read, unless one already has it (else both would, and
    # the join would be ambiguous).
    joined: list[tuple[str, list[str]]] = []
    summed: set[str] = set()  # the columns a statement adds up: numbers
    for path, data in sorted(files.items()):
        code = (node and _NODE_CODE.search(path)) or (python and path.endswith(".py"))
        if not code or _TESTS.search(path) or len(data) > 512_000 or path == skipped:
            continue
        if _CREATE_TABLE.search(_COMMENTED_OUT.sub(b"", data)):
            return None  # it makes its tables itself
        run = _COMMENTED_OUT.sub(b"", data)  # (a query commented out names no table)
        text = run.decode("utf-8", "replace")
        for found in _STATEMENT.findall(_constants_inlined(text) if node else text):
            statement = next(part for part in found if part)
            named = _named(statement)
            summed.update(c.lower() for c in _SUMMED.findall(statement))
            for table in named.tables:
                if table.lower() not in _SERVER_SCHEMAS:
                    tables.setdefault(table, {})
            for table, columns in named.columns.items():
                if table in tables:
                    tables[table].update(dict.fromkeys(columns))
            if among := [t for t in named.tables if t in tables]:
                joined += [(column, among) for column in named.unplaced]
    for column, among in joined:
        if not any(column in tables[t] for t in among):
            tables[among[0]][column] = None
    tables = {t: c for t, c in tables.items() if t.lower() not in made}
    if not tables:
        return None
    script = "".join(_create_table(t, list(c), engine, summed) for t, c in tables.items())
    shown = f"tables {', '.join(tables)}"
    origin = (
        "its code's queries (the upload makes none)"
        if sql_made is None
        else "the tables its code's queries name that it does not make"
    )
    return DeclaredSql(((shown, script),), origin, "queries")


# A module's constant naming a word (``var tableName = 'categories'``), and where a string
# is joined with it (``'SELECT * from ' + tableName + ' where …'``, ``${tableName}``).
_WORD_CONSTANT = re.compile(
    r"""\b(?:var|let|const)\s+([A-Za-z_$][\w$]*)\s*=\s*(['"])(\w+)\2\s*[;\n]"""
)


# A literal's end, ``+`` and the next's start, of the same quote (``"a " + "b"``).
_JOINED_LITERALS = re.compile(r"""(["'])\s*\+\s*\1""")


def _constants_inlined(text: str) -> str:
    """``text`` with each string joined with a module's word constant holding that word:
    forcehandler's ExpressExpenseTracker queries ``'SELECT * from ' + tableName``, its
    ``tableName = 'categories'``; no table was made for it ("ER_NO_SUCH_TABLE"). Two
    literals joined by ``+`` are one (eendrzmail's PWO_backend: ``"Select " + "e.id,
    e.imie … " + "from employees as e …"``, a statement cut at its first literal)."""
    text = _JOINED_LITERALS.sub("", text)
    for name, _, value in _WORD_CONSTANT.findall(text):
        joined = re.compile(rf"""(['"])\s*\+\s*{re.escape(name)}\b(\s*\+\s*['"])?""")
        text = joined.sub(lambda m, v=value: v if m.group(2) else v + m.group(1), text)
        text = text.replace("${" + name + "}", value)
    return text


# The server's own schemas (``FROM information_schema.SESSION_STATUS``, ``pg_catalog.…``):
# read by name, never the app's tables to make.
_SERVER_SCHEMAS = frozenset(
    ("information_schema", "mysql", "performance_schema", "sys", "pg_catalog")
)
_ORMS = (
    "sequelize",
    "typeorm",
    "knex",
    "prisma",
    "@prisma/client",
    "objection",
    "bookshelf",
    "@mikro-orm/core",
    "drizzle-orm",
    "mongoose",
    "waterline",
    "kysely",
)
_NODE_CODE = re.compile(r"\.(?:[cm]?js|ts)$")
# A Python module importing a SQL server's driver, or an ORM (or a framework bringing one).
# (and the Flask extensions wrapping MySQLdb and PyMySQL: darmawguna's movie-flask queries
# ``film_tayang`` through Flask-MySQLdb's ``mysql.connection.cursor()``)
_PY_DRIVER_IMPORT = re.compile(
    rb"^\s*(?:import|from)\s+(?:psycopg2?|psycopg_pool|pymysql|mysql\.connector|MySQLdb"
    rb"|asyncpg|aiomysql|aiopg|pg8000|flask_mysqldb|flaskext\.mysql)\b",
    re.M,
)
_PY_ORM_IMPORT = re.compile(
    rb"^\s*(?:import|from)\s+(?:sqlalchemy|sqlmodel|flask_sqlalchemy|django|peewee|tortoise"
    rb"|pony|ormar|piccolo|databases|gino|edgy|saffier|orm)\b",
    re.M,
)


def _python_driver_alone(files: dict[str, bytes]) -> bool:
    """Whether the app's Python code (not its tests) imports a SQL server's driver and
    no ORM: its queries are all there is of its tables."""
    code = [d for p, d in files.items() if p.endswith(".py") and not _TESTS.search(p)]
    return any(_PY_DRIVER_IMPORT.search(d) for d in code) and not any(
        _PY_ORM_IMPORT.search(d) for d in code
    )


# A statement a string of the code begins with: from its verb to the end of its text
# (not prose in a message: "Failed to update the invoice").
# A template literal's runs to its closing backquote: its SQL quotes its values
# (aldabil21's Node-Express-Shop-Api: ``… td.language = '${reqLanguage}') LEFT JOIN
# coupon c …``, whose joins after the quote were never read).
# A statement in a string of the code: a template literal's, or a quoted string's up to
# its own closing quote (PostgreSQL's quoted names in a single-quoted one: iconsjo1's
# mindrest-auto's ``'SELECT 1 FROM public."Rest_Routes" WHERE method = $1'``, cut at its
# first ``"``, made a table "public" and none of its columns: 'column "method" does not
# exist' on every route).
_STATEMENT = re.compile(
    r"""(?<=`)\s*((?:SELECT|INSERT\s+INTO|UPDATE|DELETE\s+FROM)\b[^`;]*)"""
    r"""|(?<=')\s*((?:SELECT|INSERT\s+INTO|UPDATE|DELETE\s+FROM)\b[^'`;]*)"""
    r"""|(?<=")\s*((?:SELECT|INSERT\s+INTO|UPDATE|DELETE\s+FROM)\b[^"`;]*)""",
    re.I,
)
_WORD = r"[`\"]?([A-Za-z_]\w*)[`\"]?"
_TABLE = re.compile(
    rf"^(?:INSERT\s+INTO|DELETE\s+FROM)\s+{_WORD}|^UPDATE\s+{_WORD}\s+SET\b"
    rf"|^SELECT\b.*?\bFROM\s+{_WORD}",
    re.I | re.S,
)
_INSERTED = re.compile(r"^INSERT\s+INTO\s+\S+\s*\(([^)]*)\)", re.I)
_COMPARED = re.compile(
    rf"(?:\bWHERE|\bAND|\bOR|\bSET|\bON|,)\s+{_WORD}\s*"
    r"(?:=|<|>|!=|\bI?LIKE\b|\bIN\b|\bIS\b|\bBETWEEN\b|\bNOT\b)",
    re.I,
)
# (not a function's name: ``ORDER BY RAND()``)
_ORDERED = re.compile(rf"\b(?:ORDER|GROUP)\s+BY\s+{_WORD}(?!\w|\s*\()", re.I)
_SELECTED = re.compile(r"^SELECT\s+(.*?)\s+FROM\b", re.I | re.S)
_SQL_WORDS = {
    *("select", "from", "where", "and", "or", "set", "values", "as", "distinct", "not", "null"),
    *("case", "when", "then", "else", "end", "exists", "is", "in", "like", "between", "on"),
}
# A FROM clause, to the clause after it: its tables, each with its alias, are split at its
# commas and joins (``FROM examinations e LEFT JOIN rooms r ON room_id = r.id``).
_FROM_CLAUSE = re.compile(
    r"\bFROM\b(.*?)(?=\b(?:WHERE|GROUP|ORDER|LIMIT|HAVING|UNION|RETURNING|FOR)\b|\)|$)",
    re.I | re.S,
)
_JOIN = re.compile(
    r",|\b(?:NATURAL\s+)?(?:(?:LEFT|RIGHT|FULL|INNER|CROSS)\s+(?:OUTER\s+)?)?"
    r"(?:STRAIGHT_)?JOIN\b",
    re.I,
)
_CONDITION = re.compile(r"\b(?:ON|USING)\b", re.I)
_SOURCE = re.compile(rf"\s*{_WORD}(?:\s+(?:AS\s+)?([A-Za-z_]\w*))?\s*$", re.I)
# A table named with its database or schema (``FROM amberorder.menuitem``: dawnz's
# ejs-cafe-express, whose connection's database is amberorder; ``public.users``): the
# table of the database the app connects to. A server's own schema's is left as it is.
# (its table's name the code's own, ``public."${tableName}"``: no table of its own either)
_DATABASE_QUALIFIED = re.compile(
    r"\b(FROM|INTO|UPDATE|JOIN)(\s+)[`\"]?([A-Za-z_]\w*)[`\"]?\.(?=[`\"]?(?:[A-Za-z_]|\$\{))",
    re.I,
)


def _without_database(match: re.Match[str]) -> str:
    if match.group(3).lower() in _SERVER_SCHEMAS:
        return match.group(0)
    return match.group(1) + match.group(2)


# ``alias.column`` (or ``table.column``): the column of the table the alias names.
_QUALIFIED = re.compile(r"(?<![\w.])[`\"]?([A-Za-z_]\w*)[`\"]?\.[`\"]?([A-Za-z_]\w*)[`\"]?")
# A template literal's ``${…}``: the code's value, not SQL (``${req.body.name}``).
_INTERPOLATED = re.compile(r"\$\{[^}]*\}")


_GROUP = re.compile(r"\(([^()]*)\)")


def _without_groups(statement: str) -> str:
    """``statement`` without its parenthesised groups but its subqueries: a join's
    condition written ``ON(p.product_id = ps.product_id)`` (aldabil21's
    Node-Express-Shop-Api) ends no FROM clause, so the joins after it are read."""
    while True:
        flat = _GROUP.sub(lambda m: m[0] if _SUBQUERY.search(m[1]) else " ", statement)
        if flat == statement:
            return flat
        statement = flat


_SUBQUERY = re.compile(r"\bSELECT\b", re.I)
# An aggregate of one column (``SUM(total) total``, ``MAX(created_at)``): shoelfikar's
# Backend-Cashier-Food-Expressjs selects only ``SUM(total)`` of its ``transaksi``, whose
# table was made without it ("Unknown column 'total'").
_AGGREGATED = re.compile(
    r"\b(?:SUM|AVG|MIN|MAX|COUNT)\s*\(\s*(?:DISTINCT\s+)?([A-Za-z_]\w*)\s*\)", re.I
)
_CALLED = re.compile(r"\s*[A-Za-z_]\w*\s*\(")


@dataclass(frozen=True)
class _Named:
    """What one statement names: its tables (the first the one it is of), the columns it
    places in one of them, and its unqualified columns where it names several tables."""

    tables: list[str]
    columns: dict[str, list[str]]
    unplaced: list[str]


def _named(statement: str) -> _Named:
    """The tables ``statement`` names and the columns it names of each: a qualified one
    (``products.name``, ``r.room_name``) is its table's; an unqualified one is the one
    table's where it names one, else left to :func:`queried_tables` to place (harrymahardhika's
    express-shop-db selects ``products.name`` from ``cart join products``: given to
    ``cart``, it left ``products`` without it; Hutatsuiwa's attendance system selects
    ``room_name`` from ``examinations e LEFT JOIN rooms``: given to both, it was
    ambiguous)."""
    statement = _DATABASE_QUALIFIED.sub(_without_database, statement)
    table = _TABLE.search(statement)
    if table is None:
        return _Named([], {}, [])
    first = table.group(1) or table.group(2) or table.group(3)
    statement = _INTERPOLATED.sub("?", statement)
    aliases = {first.lower(): first}
    for clause in _FROM_CLAUSE.findall(_without_groups(statement)):
        for part in _JOIN.split(clause):
            source = _SOURCE.match(_CONDITION.split(part)[0])
            if source is not None and source.group(1).lower() not in _SQL_WORDS:
                name = source.group(1)
                aliases.setdefault(name.lower(), name)
                if source.group(2) and source.group(2).lower() not in _SQL_WORDS:
                    aliases.setdefault(source.group(2).lower(), name)
    tables = list(dict.fromkeys([first, *aliases.values()]))
    placed: dict[str, list[str]] = {}
    for qualifier, column in _QUALIFIED.findall(statement):
        if (owner := aliases.get(qualifier.lower())) is not None:
            placed.setdefault(owner, []).append(column)
    columns: list[str] = []
    if (inserted := _INSERTED.match(statement)) is not None:
        placed.setdefault(first, []).extend(c.strip(' `"') for c in inserted.group(1).split(","))
    columns += _COMPARED.findall(statement) + _ORDERED.findall(statement)
    if (selected := _SELECTED.match(statement)) is not None:
        for part in selected.group(1).split(","):
            if _CALLED.match(part):  # a function's name (``IF (a, b, c) manager``)
                columns += _AGGREGATED.findall(part)  # (but ``SUM(total)``'s column)
                continue
            word = part.strip().split()[0] if part.strip() else ""
            columns += [word] if re.fullmatch(r"[A-Za-z_]\w*", word) else []
    words = [c for c in columns if re.fullmatch(r"[A-Za-z_]\w*", c)]
    words = [c for c in words if c.lower() not in _SQL_WORDS and c.lower() not in aliases]
    placed = {t: [c for c in cs if re.fullmatch(r"[A-Za-z_]\w*", c)] for t, cs in placed.items()}
    if len(tables) == 1:
        placed.setdefault(first, []).extend(words)
        return _Named(tables, placed, [])
    return _Named(tables, placed, words)


def _spellings(columns: list[str]) -> list[str]:
    """``columns`` but ``id`` (the key), each once whatever its case: both engines read
    an unquoted name in any case as the same column (Totny123's school-koa selects
    ``building.name`` and filters on ``building.NAME``: its table, given both, was
    refused, "Duplicate column name"); its lower-case spelling where one is written,
    which PostgreSQL folds every unquoted name to."""
    spelled: dict[str, str] = {}
    for column in columns:
        lower = column.lower()
        if lower != "id" and (lower not in spelled or column == lower):
            spelled[lower] = column
    return list(spelled.values())


# A column a statement adds up or averages (``SUM(p.quantidade)``): a number.
_SUMMED = re.compile(r"\b(?:SUM|AVG)\s*\(\s*(?:\w+\.)?(\w+)\s*\)", re.I)


def _create_table(table: str, columns: list[str], engine: str, summed: Collection[str] = ()) -> str:
    """The engine's CREATE TABLE IF NOT EXISTS of ``table``, its columns typed by name
    (a key of another table's, ``…_id`` or ``id_…``, a number, as its ``id`` is: a join
    compares them, and PostgreSQL compares no text to a number) and by use (``summed``)."""
    quote = "`" if engine == MYSQL else '"'
    key = "INT AUTO_INCREMENT PRIMARY KEY" if engine == MYSQL else "SERIAL PRIMARY KEY"
    lines = [f"{quote}id{quote} {key}"]
    for column in _spellings(columns):
        lower = column.lower()
        kind = "VARCHAR(255)" if engine == MYSQL else "TEXT"
        if lower.endswith("_id") or lower.startswith("id_"):
            kind = "INT" if engine == MYSQL else "INTEGER"
        elif lower in summed:
            kind = "DECIMAL(15,2)" if engine == MYSQL else "NUMERIC"
        elif engine != MYSQL and lower.startswith(("is_", "has_")):
            kind = "BOOLEAN"
        lines.append(f"{quote}{column}{quote} {kind} NULL")
    body = ",\n  ".join(lines)
    return f"CREATE TABLE IF NOT EXISTS {quote}{table}{quote} (\n  {body}\n);\n"


def _compose_mounts(
    files: dict[str, bytes], engine: str, compose_init_scripts: ComposeScripts
) -> DeclaredSql | None:
    named: dict[str, str] = {}
    where = ""
    for project in compose_projects(files):
        for name, service in project.services.items():
            if not _IMAGES[engine].search(str(service.get("image", ""))):
                continue
            found = compose_init_scripts(service, posixpath.dirname(project.path), files)
            if found and not where:
                where = f"{project.path}'s {name} service ({_INITDB})"
            named.update(found)
    paths = [named[n] for n in sorted(named)]
    if not paths:
        return None
    return DeclaredSql(_scripts(files, paths, engine, into_its_image=True), where, "compose-mount")


_FROM = re.compile(r"^\s*FROM\s+(?:--\S+\s+)*(\S+)", re.I | re.M)
_COPY = re.compile(r"^\s*(?:COPY|ADD)\s+((?:--\S+\s+)*)(.+?)\s*$", re.I | re.M)


def _dockerfile_copies(files: dict[str, bytes], engine: str) -> DeclaredSql | None:
    for path in sorted(files):
        name = posixpath.basename(path)
        if not (name.startswith("Dockerfile") or name.endswith(".Dockerfile")):
            continue
        text = files[path][:262144].decode("utf-8", "replace")
        image = _FROM.search(text)
        if image is None or not _IMAGES[engine].search(image.group(1)):
            continue
        directory = posixpath.dirname(path)
        named: dict[str, str] = {}
        for copy in _COPY.finditer(text):
            if "--from" in copy.group(1):
                continue
            words = copy.group(2).split()
            if len(words) < 2 or not (words[-1].rstrip("/") + "/").startswith(_INITDB + "/"):
                continue
            target = words[-1]
            for source in words[:-1]:
                at = posixpath.normpath(posixpath.join(directory, source))
                if at in files:
                    into = target.endswith("/") or target.rstrip("/") == _INITDB
                    named[posixpath.basename(at) if into else posixpath.basename(target)] = at
                else:
                    inside = (p for p in files if posixpath.dirname(p) == at.rstrip("/."))
                    named.update((posixpath.basename(p), p) for p in inside)
        paths = [named[n] for n in sorted(named) if n.endswith(".sql")]
        if paths:
            scripts = _scripts(files, paths, engine, into_its_image=True)
            return DeclaredSql(scripts, f"{path} ({_INITDB})", "dockerfile-copy")
    return None


def _readme_named(files: dict[str, bytes], engine: str) -> DeclaredSql | None:
    """The SQL files of the upload its README runs or imports (the nearest README first):
    named by their path, or by their name alone where one file of the upload has it."""
    if any(_SCHEMA_MADE.search(p) and not _DOCUMENT.search(p) for p in files):
        return None  # its migrations make it (a README's SQL is then its data, or stale)
    sql = [p for p in files if p.endswith(".sql") and not _TESTS.search(p)]
    for readme in readme_paths(files):
        text = files[readme][:262144].decode("utf-8", "replace")
        found: list[str] = []
        database = None
        for match in _README_RUNS.finditer(text):
            named = next(g for g in match.groups() if g)
            database = database or _client_database(match.group(0))
            here = posixpath.normpath(posixpath.join(posixpath.dirname(readme), named))
            if here in files:
                path = here
            else:
                alike = [p for p in sql if posixpath.basename(p) == posixpath.basename(named)]
                if len(alike) != 1:
                    continue
                path = alike[0]
            if path not in found:
                found.append(path)
        scripts = _scripts(files, found, engine)
        if any(_CREATE_TABLE.search(text.encode()) for _, text in scripts):
            return DeclaredSql(
                scripts, f"the SQL files {readme} says to run", "readme-command", database
            )
    return None


# The MySQL client's options that take the next word as their value (``-u root``).
_CLIENT_VALUED = frozenset({"-u", "-h", "-P", "-S", "--user", "--host", "--port", "--socket"})
_CLIENT_DATABASE = re.compile(r"^(?:-D|--database=)(.*)$")


def _client_database(command: str) -> str | None:
    """The database a README's MySQL client command names (``mysql -u root -p 2025_M1 <
    sql/2025_m1.sql``: ``2025_M1``, which ThomasSanna's M1DE-crud-fastapi-mvc reads its
    tables from; ``-D shop``, ``--database=shop``), None where it names none (or is
    PostgreSQL's, whose server makes any database named on first use)."""
    words = command.replace("`", " ").split()
    if not words or words[0].lower() not in ("mysql", "mariadb"):
        return None
    rest = iter(w for w in words[1:] if w != "<")
    for word in rest:
        if word in _CLIENT_VALUED:
            next(rest, None)  # its value
        elif word in ("-D", "--database"):
            return next(rest, None)
        elif (given := _CLIENT_DATABASE.match(word)) is not None:
            return given.group(1) or None
        elif not word.startswith("-") and re.fullmatch(r"[\w$-]{1,64}", word):
            return word
    return None


# A file of a numbered series (``00_Base.sql``, ``01_Markets.sql``; Flyway's
# ``V1__init.sql``): its number says its place, as the official images' init folder
# runs its files in their names' order.
_NUMBERED = re.compile(r"^(?:V)?(\d+)(?:[_.-]|__)", re.I)


def _numbered_series(files: dict[str, bytes], engine: str) -> DeclaredSql | None:
    """The SQL files of one folder, each named with its number, run in their numbers'
    order, where two or more of them are there, one creates tables in ``engine``'s
    dialect and none is in the other's, and nothing else makes the schema. undo-works'
    AutoCrypto-Hono keeps ``sql/00_Base.sql`` (``create database crypto; use crypto;``),
    ``01_Markets.sql`` … ``05_Transactions.sql`` and the rows of ``21_coincheck.sql``:
    several files making tables, none of them the one, its cron met "Table
    'app.currencies' doesn't exist"."""
    if any(_SCHEMA_MADE.search(p) and not _DOCUMENT.search(p) for p in files):
        return None
    folders: dict[str, list[tuple[int, str]]] = {}
    for path in files:
        name = posixpath.basename(path)
        numbered = _NUMBERED.match(name)
        if not path.endswith(".sql") or _TESTS.search(path) or path.endswith(".down.sql"):
            continue
        if numbered is not None:
            folders.setdefault(posixpath.dirname(path), []).append((int(numbered.group(1)), path))
    for folder in sorted(folders):
        series = [path for _, path in sorted(folders[folder])]
        if len(series) < 2 or any(dialect(files[p]) not in (engine, None) for p in series):
            continue
        if any(_CREATE_TABLE.search(files[p]) for p in series):
            shown = f"its numbered SQL files in {folder or 'its root'}, in their order"
            return DeclaredSql(_scripts(files, series, engine), shown, "numbered-series")
    return None


def _lone_file(files: dict[str, bytes], engine: str) -> DeclaredSql | None:
    """Its one SQL file creating tables in ``engine``'s dialect, where nothing else makes
    the schema (:data:`_SCHEMA_MADE`)."""
    if any(_SCHEMA_MADE.search(p) and not _DOCUMENT.search(p) for p in files):
        return None
    # A .sql file first; else one of SQL's other names (vladislv31's initdb.pgsql), else a
    # text file holding SQL (pratestiago's "Ajuda/CREATE TABLE .txt", kept for reading).
    for suffixes in ((".sql",), _OTHER_SQL_SUFFIXES, (".txt",)):
        creates = _CREATE_TABLE if suffixes == (".sql",) else _CREATE_TABLE_STATEMENT
        sql = [p for p in files if p.endswith(suffixes) and not _TESTS.search(p)]
        sql = [p for p in sql if not p.endswith(".down.sql") and creates.search(files[p])]
        fitting = [p for p in sql if _fits(files[p], engine)]
        if fitting:
            break
    if len(fitting) > 1 and _own_databases(files, fitting, engine):
        shown = (
            "its SQL files that each create their own database and its tables"
            if engine == MYSQL
            else "its SQL files that each connect to a database of their own (psql's \\c)"
        )
        # The app's own first, its tests' after: the first is the one an app naming no
        # database is given (used_database).
        ordered = sorted(fitting, key=lambda p: ("test" in p.lower(), p))
        return DeclaredSql(_scripts(files, ordered, engine), shown, "own-databases")
    origin = "its one SQL file that creates tables"
    by: DeclaredBy = "one-file"
    if len(fitting) > 1 and (whole := _whole_schema(files, fitting)) is not None:
        fitting = [whole]
        origin = "its SQL file that creates every table its other SQL files create"
        by = "whole-schema"
    if len(fitting) > 1 and (each := _table_files(files, fitting, engine)) is not None:
        shown = (
            "its SQL files of a table each, a table before those referencing it, then"
            " those altering them"
        )
        scripts = _scripts(files, each, engine)
        if (rest := _queried_beyond(files, engine, scripts)) is not None:
            # Made first: its files' foreign keys may name them (eendrzmail's PWO_backend:
            # absences.sql references employees, which no file makes and its routes
            # query: "Can't create table `absences` (errno: 150)", then 500s).
            return DeclaredSql(
                (*rest.scripts, *scripts), f"{shown}, and {rest.origin}", "table-each"
            )
        return DeclaredSql(scripts, shown, "table-each")
    if len(fitting) > 1:  # the one whose name says it is the schema (CREATE TABLE .txt)
        fitting = [p for p in fitting if _SCHEMA_NAME.search(posixpath.basename(p))]
    if len(fitting) != 1:
        return None
    scripts = _scripts(files, fitting, engine)
    if fitting[0].endswith(".txt"):
        # A text file is notes as often as SQL: its statements alone (connie388's
        # order-express-mysql-server: setup.txt's npm commands and prose around its
        # CREATE TABLE, "ERROR 1064 … SQL syntax" at its first line).
        scripts = tuple((path, _statements(text)) for path, text in scripts)
    # The tables its code's queries name that the file does not make, where it queries by
    # its driver alone: kitzy02's StockExpress's express_sql.sql makes stocks and holdings,
    # its README names five tables, and /transactions and /watchlist met "Table
    # 'stock_express.transactions' doesn't exist".
    if scripts and (rest := _queried_beyond(files, engine, scripts)) is not None:
        return DeclaredSql((*scripts, *rest.scripts), f"{origin}, and {rest.origin}", by)
    return DeclaredSql(scripts, origin, by)


def _queried_beyond(
    files: dict[str, bytes], engine: str, scripts: tuple[tuple[str, str], ...]
) -> DeclaredSql | None:
    """The tables its code's queries name that ``scripts`` (its SQL files') do not make
    (:func:`queried_tables`), None for none."""
    made = frozenset(
        name.decode().lower()
        for _, text in scripts
        for name in _CREATED_TABLE_NAME.findall(text.encode())
    )
    return queried_tables(files, engine, sql_made=made)


# A table a statement creates, by its name (its schema's dropped, its quotes too).
_CREATED_TABLE_NAME = re.compile(
    rb"\bcreate\s+table\s+(?:if\s+not\s+exists\s+)?(?:[`\"]?\w+[`\"]?\.)?[`\"]?(\w+)", re.I
)


def _whole_schema(files: dict[str, bytes], paths: list[str]) -> str | None:
    """The one of ``paths`` creating every table the others create (and more): the
    schema whole, the others its parts (youone04's restapi-expressjs-roles: its dump
    ``sgl/db_restAPi.sql`` makes five tables, ``sgl/versi-2/akses_token.sql`` one of
    them again; neither was run, "Table 'db_restAPi.mahasiswa' doesn't exist"). None
    where none does, or two make the same tables."""
    tables = {p: {name.lower() for name in _CREATED_TABLE_NAME.findall(files[p])} for p in paths}
    whole = [p for p in paths if all(tables[q] <= tables[p] for q in paths)]
    return whole[0] if len(whole) == 1 and tables[whole[0]] else None


_REFERENCED = re.compile(rb"\breferences\s+(?:[`\"]?\w+[`\"]?\.)?[`\"]?(\w+)", re.I)
_ALTERED = re.compile(
    rb"\balter\s+table\s+(?:if\s+exists\s+)?(?:[`\"]?\w+[`\"]?\.)?[`\"]?(\w+)", re.I
)


def _table_files(files: dict[str, bytes], paths: list[str], engine: str) -> list[str] | None:
    """``paths`` (of one folder, each creating tables no other creates) in the order
    they run: a file before those whose tables reference its own, then the folder's files
    that only alter those tables (dusansekuloski's ExpressJS-products-CRUD-API-task:
    ``database/tables/create_categories_table.sql``, ``create_products_table.sql``,
    ``create_users_table.sql`` and ``alter_products_table.sql``, adding products' foreign
    key to categories; none was run, "relation \"categories\" does not exist"). None
    where they are of several folders, share a table, or reference each other in a ring."""
    folder = {posixpath.dirname(p) for p in paths}
    if len(folder) != 1:
        return None
    tables = {p: {n.lower() for n in _CREATED_TABLE_NAME.findall(files[p])} for p in paths}
    listed = [name for p in paths for name in tables[p]]
    made = set(listed)
    if len(listed) != len(made) or not all(tables.values()):
        return None
    needs = {
        p: {n.lower() for n in _REFERENCED.findall(files[p])} & made - tables[p] for p in paths
    }
    ordered: list[str] = []
    while len(ordered) < len(paths):
        done = _union(tables, ordered)
        ready = [p for p in sorted(paths) if p not in ordered and needs[p] <= done]
        if not ready:
            return None  # a ring of references
        ordered.append(ready[0])
    altering = sorted(
        p
        for p in files
        if posixpath.dirname(p) in folder
        and p.endswith(".sql")
        and p not in paths
        and not _CREATE_TABLE.search(files[p])
        and _fits(files[p], engine)
        and {n.lower() for n in _ALTERED.findall(files[p])} & made
    )
    return [*ordered, *altering]


def _union(tables: dict[str, set[str]], paths: list[str]) -> set[str]:
    return {name for p in paths for name in tables[p]}


def _own_databases(files: dict[str, bytes], paths: list[str], engine: str) -> bool:
    """Whether each MySQL dump of ``paths`` creates a database of its own and switches to
    it (``CREATE DATABASE IF NOT EXISTS `library_app_test`; USE `library_app_test`;``):
    they do not compete, each is run. alfaeliasws' express-ddd dumps ``library_app`` and,
    under ``__test__/``, ``library_app_test``, which its example's ``TEST=yes`` has it
    use: neither was run ("Unknown database 'library_app_test'"). Likewise each
    PostgreSQL script of ``paths`` that connects to a database of its own by psql's
    ``\\c`` (jesus-vc's postgresql-express-app: seeds/data.sql ``\\c biztime``,
    seeds/data_mn.sql ``\\c biztime_mn``, the one its code opens; neither was run, two
    files creating tables: "relation "invoices" does not exist")."""
    named = []
    for path in paths:
        text = files[path].decode("utf-8", "replace")
        if engine == MYSQL:
            used = _USE.search(text)
            if used is None or _CREATED_DATABASE.search(text) is None:
                return False
        else:
            used = _CONNECTS.search(text)
            if used is None:
                return False
        named.append(used.group(1).lower())
    return len(set(named)) == len(named)


# psql's switch to another database (``\c biztime``, ``\connect biztime_test``).
_CONNECTS = re.compile(r"^[ \t]*\\(?:c|connect)[ \t]+\"?([\w-]+)", re.M)


_CREATED_DATABASE = re.compile(r"^\s*CREATE\s+(?:DATABASE|SCHEMA)\b", re.I | re.M)


_SCHEMA_NAME = re.compile(r"schema|create[ _-]?tables?|init|ddl|tables", re.I)


_OTHER_SQL_SUFFIXES = (".pgsql", ".psql", ".mysql", ".ddl")
# A statement, not prose naming one: ``CREATE TABLE name (`` at a line's start.
_CREATE_TABLE_STATEMENT = re.compile(
    rb"^\s*create\s+table\s+(?:if\s+not\s+exists\s+)?[\w.\"`]+\s*\(", re.I | re.M
)


def _readme_blocks(files: dict[str, bytes], engine: str) -> DeclaredSql | None:
    """The code blocks of its README that create tables, where it has no SQL file:
    fenced, or indented (Markdown's other code block: moeenur's node-express-mysql-crud
    gives its ``CREATE TABLE`` indented by a tab); an indented block, and a block of a
    terminal session (psql's or mysql's prompts, the shell's commands around them), as
    its SQL statements alone."""
    if any(p.endswith(".sql") for p in files):
        return None
    if any(_SCHEMA_MADE.search(p) and not _DOCUMENT.search(p) for p in files):
        return None
    for readme in readme_paths(files):
        text = files[readme][:262144].decode("utf-8", "replace")
        blocks = [
            _statements(b) if indented or _SESSION.search(b) else b
            for b, indented in _code_blocks(text)
        ]
        blocks = [b for b in blocks if _CREATE_TABLE.search(b.encode())]
        blocks = [b for b in blocks if dialect(b.encode()) in (engine, None)]
        if blocks:
            scripts = tuple((f"{readme} (block {i + 1})", b) for i, b in enumerate(blocks))
            return DeclaredSql(scripts, f"the CREATE TABLE blocks of {readme}", "readme-blocks")
    return None


# A string of Node code that is a CREATE TABLE statement: a template literal's (a
# tagged one's: postgres' sql`…`), a quoted one's.
_CODE_CREATE = re.compile(
    r"`(\s*CREATE\s+TABLE\b[^`]*)`|'(\s*CREATE\s+TABLE\b[^'\n]*)'|\"(\s*CREATE\s+TABLE\b[^\"\n]*)\"",
    re.I,
)
_CODE_IMPORT = re.compile(
    r"""(?:\bfrom\s+|\bimport\s*\(?\s*|\brequire\s*\(\s*)["'](\.{1,2}/[^"']+)["']"""
)
_CODE_SUFFIX = re.compile(r"\.(?:[cm]?js|ts)$")


def _sql_or_schema_files(files: dict[str, bytes]) -> bool:
    """Whether the upload has a SQL file, or files making its schema otherwise
    (migrations of any tool): a script of its own is then not all there is of it."""
    return any(p.endswith(".sql") or _SCHEMA_MADE.search(p) for p in files)


def _unrun_script(files: dict[str, bytes], engine: str) -> DeclaredSql | None:
    """The ``CREATE TABLE`` statements of a Node script of the upload that nothing runs:
    no other module imports it, package.json (its scripts, its main) names it nowhere,
    and it serves nothing (no ``listen``); where it has no SQL file, no ORM, nor anything
    else making its schema. DanilloSouza03's Fastify-Video-Manager-API keeps its table in
    create-table.js (``sql`CREATE TABLE videos(…)` ``, its README: "Script para criar
    tabelas"), which its author ran once by hand: /videos met relation "videos" does not
    exist. Statements built with the code's values (``${…}``) are not the schema's."""
    package = files.get("package.json", b"")
    if not package or any(f'"{orm}"'.encode() in package for orm in _ORMS):
        return None
    if _sql_or_schema_files(files):
        return None
    code = {
        p: d.decode("utf-8", "replace")
        for p, d in files.items()
        if _CODE_SUFFIX.search(p) and "node_modules/" not in p and len(d) <= 512_000
    }
    imported = {
        posixpath.normpath(posixpath.join(posixpath.dirname(p), spec))
        for p, text in code.items()
        for spec in _CODE_IMPORT.findall(text)
    }
    named = package.decode("utf-8", "replace")
    for path, text in sorted(code.items()):
        stem = _CODE_SUFFIX.sub("", path)
        if _TESTS.search(path) or ".listen(" in text or posixpath.basename(stem) in named:
            continue
        if {path, stem} & imported or (stem.endswith("/index") and stem[:-6] in imported):
            continue
        statements = [
            next(g for g in m.groups() if g).strip().rstrip(";")
            for m in _CODE_CREATE.finditer(text)
        ]
        statements = [s for s in statements if "${" not in s]
        script = "".join(f"{s};\n" for s in statements)
        if statements and _fits(script.encode(), engine):
            shown = f"the CREATE TABLE statements of {path}, a script of its own nothing runs"
            return DeclaredSql(((path, script),), shown, "unrun-script")
    return None


# A string of Python code that is a CREATE TABLE statement (a triple-quoted one's, a
# quoted one's on one line), and a module's imports (``from x.y import z``, ``import x``).
_PY_CREATE = re.compile(
    r"""(\"\"\"|\'\'\')(\s*CREATE\s+TABLE\b.*?)\1|(["'])(\s*CREATE\s+TABLE\b[^"'\n]*)\3""",
    re.I | re.S,
)
_PY_IMPORT = re.compile(r"^\s*(?:from\s+([\w.]+)\s+import\s+([\w, ()]+)|import\s+([\w., ]+))", re.M)
# What serves or is served: an app object made, a server run (such a module is the app's).
_PY_SERVES = re.compile(
    r"\b(?:Flask|FastAPI|Starlette|Sanic|Quart|Blueprint|APIRouter)\(|\.run\(|\bserve\(|"
    r"\bget_wsgi_application\(|\bget_asgi_application\("
)
# The files that say what runs (a Procfile, a Dockerfile, compose, a script of the shell).
_RUN_DECLARING = re.compile(
    r"(?:^|/)(?:Procfile|Dockerfile[\w.-]*|Makefile|[^/]*\.(?:ya?ml|toml|json|sh|cfg|ini))$"
)
_CREATED = re.compile(r"create\s+table\s+(?:if\s+not\s+exists\s+)?[`\"]?(\w+)", re.I)


def _unrun_python_script(files: dict[str, bytes], engine: str) -> DeclaredSql | None:
    """The ``CREATE TABLE`` statements of a Python script of the upload that nothing
    runs (no module imports it, no file names it, it serves nothing), where the app
    queries its database by its driver alone; with the tables its queries name that the
    script does not make (:func:`queried_tables`). stylev822's proyecto-tienda-flask
    keeps its ``personas`` table in personas.py, run once by hand on its author's server
    (its own ``psycopg2.connect`` there): /equipo met relation "personas" does not exist,
    and /usuarios likewise for a table nothing of it makes."""
    if not _python_driver_alone(files):
        return None
    if _sql_or_schema_files(files):
        return None
    code = {
        p: d.decode("utf-8", "replace")
        for p, d in files.items()
        if p.endswith(".py") and not _TESTS.search(p) and len(d) <= 512_000
    }
    imported: set[str] = set()
    for text in code.values():
        for source, names, modules in _PY_IMPORT.findall(text):
            words = [source, *re.split(r"[\s,()]+", names), *re.split(r"[\s,]+", modules)]
            imported.update(part for word in words for part in word.split(".") if part)
    others = " ".join(
        d[:200_000].decode("utf-8", "replace") for p, d in files.items() if _RUN_DECLARING.search(p)
    )
    for path, text in sorted(code.items()):
        stem = posixpath.basename(path).removesuffix(".py")
        if stem in imported or stem == "__init__" or _PY_SERVES.search(text):
            continue
        if re.search(rf"(?<![\w.-]){re.escape(stem)}(?:\.py\b|:)", others):
            continue  # its Procfile's, its Dockerfile's (gunicorn app:app, python seed.py)
        statements = [
            (m.group(2) or m.group(4)).strip().rstrip(";") for m in _PY_CREATE.finditer(text)
        ]
        statements = [s for s in statements if "{" not in s and "%" not in s]
        script = "".join(f"{s};\n" for s in statements)
        if not statements or not _fits(script.encode(), engine):
            continue
        made = frozenset(m.group(1).lower() for m in _CREATED.finditer(script))
        rest = queried_tables(files, engine, own_script=(path, made))
        shown = f"the CREATE TABLE statements of {path}, a script of its own nothing runs"
        if rest is not None:
            shown += f", and {rest.origin}"
        scripts = ((path, script), *(rest.scripts if rest else ()))
        return DeclaredSql(scripts, shown, "unrun-script")
    return None


# An indented code block's line (a tab, or four spaces), and a blank one.
_INDENTED = re.compile(r"^(?:\t| {4})")
# A terminal session's marks: psql's prompt (``api=>``, ``postgres=#``, its continuation
# ``api-#``), mysql's (``mysql>``), psql's own commands (``\c api``, ``\q``), a shell's
# command around them (``psql -d postgres``, ``brew install postgresql``, ``$ mysql``).
_PROMPT = re.compile(r"^\s*(?:\w+[=(-][#>]|mysql>|MariaDB \[[^\]]*\]>|->)[ \t]?")
_SESSION = re.compile(
    r"^\s*(?:\w+[=(-][#>]|mysql>|\\[a-zA-Z]|\$\s|(?:sudo|brew|apt(?:-get)?|psql|mysql"
    r"|createdb|sqlite3|docker|npm|yarn|cd)\s)",
    re.M,
)
_LIST_ITEM = re.compile(r"^\s*(?:\d+[.)]|[-*])\s+")  # a step of a list: ``5. CREATE TABLE``
_STATEMENT_START = re.compile(
    r"^(?:CREATE|INSERT|ALTER|DROP|USE|SET|GRANT|UPDATE|DELETE|TRUNCATE|COMMENT|REPLACE)\b",
    re.I,
)
# What the preview gives itself: its database and its login (its server's own).
_NOT_SCHEMA = re.compile(
    r"^(?:(?:CREATE|DROP|ALTER)\s+(?:DATABASE|SCHEMA\s+IF|ROLE|USER)|GRANT|SET\s+ROLE|USE)\b",
    re.I,
)


# A statement in a code span of the README's prose (prince-1501's ExpressJS-postgresql-
# Connection: "Now Create TABLE inside it named country `CREATE TABLE country(…);`").
_SPAN = re.compile(r"(?<!`)`(\s*CREATE\s+TABLE\b[^`\n]*)`(?!`)", re.I)


# A statement pasted into the README's prose, no fence around it (a chat answer copied as
# text: its "sql" label and "Copiar código" button above it, as in annaclarathimoteo's
# API-Escola-FastAPI-MySQL, whose tables were then never made).
_PROSE_CREATE = re.compile(
    r"^ {0,3}create\s+table\s+(?:if\s+not\s+exists\s+)?[\w.\"`]+\s*\(", re.I | re.M
)
_PROSE_STATEMENT_MAX = 16384


def _prose_statement(plain: str, start: int) -> str | None:
    """The ``CREATE TABLE`` statement of the README's prose beginning at ``start``: to
    the semicolon after its parentheses close; none where they never close (a sentence
    naming a table, not its statement)."""
    depth, at, end = 0, start, min(len(plain), start + _PROSE_STATEMENT_MAX)
    opened = False
    while at < end:
        char = plain[at]
        if char == "(":
            depth, opened = depth + 1, True
        elif char == ")":
            depth -= 1
        elif char == ";" and opened and depth == 0:
            return plain[start : at + 1].strip() + "\n"
        elif char == "\n" and opened and depth == 0 and not plain[at + 1 : at + 2].strip():
            return None  # closed, then a blank line before any semicolon: not SQL's
        at += 1
    return None


def _code_blocks(text: str) -> list[tuple[str, bool]]:
    """A README's code blocks, fenced and indented, its prose's code spans that create
    a table, and the ``CREATE TABLE`` statements pasted into its prose with no fence, in
    its order: (its text, whether it is indented)."""
    found = [(m.start(), m.group(2), False) for m in _FENCE.finditer(text)]
    plain = _FENCE.sub(lambda m: "\n" * m.group(0).count("\n"), text)
    spans = [(m.start(), m.group(1).strip() + "\n") for m in _SPAN.finditer(plain)]
    found += [
        (at, span, False) for at, span in spans if _CREATE_TABLE_STATEMENT.match(span.encode())
    ]
    pasted = [
        (m.start(), _prose_statement(plain, m.start())) for m in _PROSE_CREATE.finditer(plain)
    ]
    found += [(at, statement, False) for at, statement in pasted if statement]
    lines = plain.split("\n")
    at, offset, blank = 0, 0, True
    while at < len(lines):
        if blank and _INDENTED.match(lines[at]) and lines[at].strip():
            start, body = offset, []
            while at < len(lines) and (_INDENTED.match(lines[at]) or not lines[at].strip()):
                body.append(_INDENTED.sub("", lines[at]))
                offset += len(lines[at]) + 1
                at += 1
            found.append((start, "\n".join(body).strip("\n") + "\n", True))
            blank = False
            continue
        blank = not lines[at].strip()
        offset += len(lines[at]) + 1
        at += 1
    return [(block, indented) for _, block, indented in sorted(found, key=lambda f: f[0])]


def _statements(block: str) -> str:
    """A terminal session's (or an indented block's) SQL statements (arnav-roy08's
    nodejs-express-postgres-API: its README's one block installs PostgreSQL with brew,
    logs in with psql, and types ``CREATE TABLE userss (…);`` at the ``api=>`` prompt),
    without its prompts, its psql commands and the shell's, and a list's numbers (shubhamns's
    node-express-mysql-crud-app indents its steps, ``5. CREATE TABLE users(``); those
    making a database or a login left out (the preview gives its own)."""
    statements: list[list[str]] = []
    inside = False
    for raw in block.splitlines():
        line = _PROMPT.sub("", raw, count=1)
        line = line if inside else _LIST_ITEM.sub("", line, count=1)
        if line.lstrip().startswith("\\"):
            continue
        if not inside and not _STATEMENT_START.match(line.strip()):
            continue
        if not inside:
            statements.append([])
        statements[-1].append(line)
        inside = not line.rstrip().endswith(";")
    kept = ["\n".join(s).strip() for s in statements if not _NOT_SCHEMA.match(s[0].strip())]
    return "".join(f"{statement}\n" for statement in kept)


_USE = re.compile(r"^\s*USE\s+`?([\w$-]{1,64})`?\s*;", re.I | re.M)


def used_database(scripts: InitScripts) -> str | None:
    """The database the first of ``scripts`` that switches to one names (``CREATE DATABASE
    IF NOT EXISTS `note-app`; USE `note-app`;``): where its tables are, the one to give an
    app that names none itself. Else the one the first that makes one makes, where its
    tables are made in it by name (babakjahangiri's movie-project-fastapi: ``CREATE
    DATABASE `movie_db` …; CREATE TABLE `movie_db`.`tbl_movies` …``, no USE)."""
    for _, text in scripts:
        if found := _USE.search(text):
            return found.group(1)
    for _, text in scripts:
        made = _CREATED_DATABASE.search(text)
        if made is not None and re.search(
            rf"\bCREATE\s+TABLE\s+(?:IF\s+NOT\s+EXISTS\s+)?`?{re.escape(made.group(1))}`?\.",
            text,
            re.I,
        ):
            return made.group(1)
    return None


_CREATED_DATABASE = re.compile(
    r"^\s*CREATE\s+(?:DATABASE|SCHEMA)\s+(?:IF\s+NOT\s+EXISTS\s+)?`?([\w$-]{1,64})`?", re.I | re.M
)
# What MySQL 8 writes that MariaDB does not read (mysqldump and Workbench of MySQL 8): its
# own collations (utf8mb4_0900_ai_ci: "Unknown collation"), and the comments only MySQL 8.x
# runs (``/*!80016 DEFAULT ENCRYPTION='N' */``), which MariaDB, its version above 8.0's
# number, runs too.
_MYSQL8_BINARY_COLLATION = re.compile(r"\butf8mb4_0900_bin\b", re.I)
_MYSQL8_COLLATION = re.compile(r"\butf8mb4_0900_\w+", re.I)
_MYSQL8_ONLY = re.compile(r"/\*!8\d{4}\b.*?\*/", re.S)


def for_mariadb(text: str) -> str:
    """A MySQL 8 script as MariaDB reads it (see above): babakjahangiri's
    movie-project-fastapi's sql-build.sql met "Unknown collation: 'utf8mb4_0900_ai_ci'"."""
    text = _MYSQL8_ONLY.sub("", text)
    text = _MYSQL8_BINARY_COLLATION.sub("utf8mb4_bin", text)
    return _MYSQL8_COLLATION.sub("utf8mb4_unicode_ci", text)


# ``DEFINER=`b5de033d9bb9f7`@`%```, as mysqldump writes it before a view, a trigger or a
# routine (quoted with backquotes, quotes or not at all).
_DEFINER = re.compile(r"\bDEFINER\s*=\s*[`'\"]?([^`'\"@\s]{1,80})[`'\"]?\s*@", re.I)
# An account a script creates with its password: ``CREATE USER [IF NOT EXISTS] 'u'@'h'
# IDENTIFIED BY 'p'`` or ``GRANT … TO 'u'@'h' IDENTIFIED BY 'p'`` (MySQL 5's way).
_IDENTIFIED = re.compile(
    r"\b(?:CREATE\s+USER(?:\s+IF\s+NOT\s+EXISTS)?|TO)\s+[`'\"]?([^`'\"@\s]{1,80})[`'\"]?"
    r"(?:\s*@\s*[`'\"]?[^`'\"\s]{0,80}[`'\"]?)?\s+IDENTIFIED\s+BY\s+'([^'\\\n]{0,200})'",
    re.I,
)


def script_accounts(scripts: InitScripts) -> dict[str, str]:
    """The accounts ``scripts`` name, each with its password: those they create
    (``CREATE USER 'shop'@'%' IDENTIFIED BY 'secret'``, or an old ``GRANT … IDENTIFIED BY``)
    and their views', triggers' and routines' definers (no password: the app logs in as
    none of them). A dump taken on a hosted server names its account there as definer
    (imanuelfebie's flask-mysql-e-commerce: ``DEFINER=`b5de033d9bb9f7`@`%``` on ClearDB).
    The server accepts every login (``mysql``'s module doc) until something reloads its
    accounts (a script's ``FLUSH PRIVILEGES``), from then on these exist as the script
    meant them, and a view of a definer the server lacks would fail every query that
    reads it ("The user specified as a definer does not exist")."""
    found: dict[str, str] = {}
    for _, text in scripts:
        for match in _IDENTIFIED.finditer(text):
            found.setdefault(match.group(1), match.group(2))
        for match in _DEFINER.finditer(text):
            if match.group(1).upper() != "CURRENT_USER":
                found.setdefault(match.group(1), "")
    return found


# -- Running them into the preview's MariaDB --------------------------------------------

_ERROR = re.compile(r"^ERROR\s+\d+[^\n]*", re.M)
_GRANTS_OFF = "--skip-grant-tables"
Run = Callable[[list[str], dict[str, str]], Awaitable[tuple[int, str]]]


def mysql_client_argv(client: str, socket: str, user: str, database: str, script: str) -> list[str]:
    """The MariaDB client reading ``script`` as a human's ``mysql -u … db < file.sql``:
    every statement run (``--force``: one that fails is said, the next still run), none of
    the client's own commands that reach files (``--sandbox``: ``source``, ``\\!``, ``tee``),
    no ``LOAD DATA LOCAL``, no option file read; its password in ``MYSQL_PWD``."""
    return [
        "/bin/sh",
        "-c",
        'exec "$@" < "$0"',
        script,
        client,
        "--no-defaults",
        "--sandbox",
        "--force",
        "--batch",
        "--local-infile=0",
        f"--socket={socket}",
        f"--user={user}",
        database,
    ]


async def run_mysql_scripts(
    scripts: InitScripts, names: list[str], run: Callable[[str], Awaitable[tuple[int, str]]]
) -> list[str]:
    """Each of ``scripts`` (written beside the server as ``names``) run by ``run`` (the
    client's exit status and output); a line each to tell."""
    told = []
    for (path, _), name in zip(scripts, names, strict=True):
        status, output = await run(name)
        found = _ERROR.findall(output)
        # CREATE USER, GRANT …: refused while every login is let in (``mysql``'s module
        # doc); what they would give the app, it has.
        errors = [e for e in found if _GRANTS_OFF not in e]
        if not errors and (status == 0 or found):
            told.append(f"INFO MariaDB: ran the upload's {path}")
        elif errors:
            more = f" (and {len(errors) - 1} more)" if len(errors) > 1 else ""
            told.append(f"WARN MariaDB: the upload's {path} ran with errors: {errors[0]}{more}")
        else:
            last = next((ln for ln in reversed(output.splitlines()) if ln.strip()), "")
            told.append(f"WARN MariaDB: the upload's {path} could not run ({status}): {last}")
    return told
