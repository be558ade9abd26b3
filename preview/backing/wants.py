"""What an upload says of the PostgreSQL it expects: :func:`postgres_wants`.

Read from its files only (nothing runs): a driver among its dependencies (psycopg,
asyncpg, … in ``requirements*.txt``, ``requirements/``, ``pyproject.toml``/``Pipfile``;
``pg``, ``postgres``, … or a Prisma schema on ``postgresql`` for Node; an ORM it lists
whose PostgreSQL options its code writes, ``type: 'postgres'``), unless its settings
name another engine (``DB_TYPE=mysql``, ``DB_DIALECT=sqlite``); the names and
ports it calls the server by: the PostgreSQL services of its ``docker-compose.yml`` (by
image; and what that file, and its overlays beside it (``docker-compose.local.yml``), give
its own services: their ``environment`` and ``env_file``),
the hosts and ports of the ``postgres://`` URLs in its ``.env`` files and source, of an
ORM's PostgreSQL options written in its code (``type: 'postgres', port: 5433``), and its
``PGHOST``, ``DB_HOST``, ``POSTGRES_HOST``/``POSTGRES_SERVER`` values; and the user,
password and database its own URL names (its ``.env``'s, else its ``alembic.ini``'s),
which the variables it is given then name too: its Alembic migrates the database its app
reads. And the SQL scripts its compose file mounts into the PostgreSQL service's
``/docker-entrypoint-initdb.d`` (a file, or a folder's ``*.sql``), which the image runs on
its new cluster before the app connects: its schema, when nothing else makes it.
"""

from __future__ import annotations

import posixpath
import re
from dataclasses import dataclass, field
from typing import TYPE_CHECKING
from urllib.parse import unquote, urlsplit

from ..apps.configvars import (
    DATABASE,
    compose_environment,
    compose_projects,
    dotenv_text,
    example_rank,
    interpolated,
    meaning,
    server_url_engines,
    template_url,
)
from ..apps.depspec import dependency_text, dockerfile_requirements
from ..apps.node.envreads import node_sources
from ..discovery.pyast import uncommented
from ..generations import loads_bounded
from .wanted import TEST_FILES as _TESTS
from .wanted import (
    json_database_settings,
    lists_mysql_driver,
    mysql_alone_in_node,
    mysql_alone_in_python,
)

if TYPE_CHECKING:  # (schemasql reads compose files by this module)
    from .schemasql import DeclaredSql

__all__ = [
    "ALIASES",
    "COMMON_EXTENSIONS",
    "PORT",
    "InitScripts",
    "PostgresWants",
    "compose_init_scripts",
    "postgres_url",
    "postgres_wants",
]

ALIASES = ("db", "postgres", "postgresql", "database", "pg")  # always theirs
PORT = 5432
_PY_DRIVER = re.compile(
    r"""(?imx)^[\s"']*(psycopg2-binary|psycopg2|psycopg(?:-binary|-c)?|asyncpg|pg8000|aiopg)
    (?![\w.-])"""
)
# A driver an ORM installs as its extra: tortoise-orm[asyncpg], databases[postgresql],
# sqlalchemy[postgresql-asyncpg], ormar[postgresql].
_PY_EXTRA_DRIVER = re.compile(
    r"""(?imx)^[\s"']*([A-Za-z0-9][\w.-]*)\s*\[([^\]\n]*?\b(?:asyncpg|psycopg2?(?:[-_]binary)?
    |postgres(?:ql)?(?:[-_]\w+)?|pg8000|aiopg)\b[^\]\n]*)\]"""
)
# Poetry's way: tortoise-orm = { version = "^0.20", extras = ["asyncpg"] }
_POETRY_EXTRA_DRIVER = re.compile(
    r"""(?im)^\s*([A-Za-z0-9][\w.-]*)\s*=\s*\{[^}\n]*\bextras\s*=\s*\[[^\]\n]*["']
    (asyncpg|psycopg2?(?:[-_]binary)?|postgres(?:ql)?(?:[-_]\w+)?|pg8000|aiopg)["']""",
    re.X,
)
_NEON = "@neondatabase/serverless"  # over HTTPS (backing.neon), or pg's protocol
_NODE_DRIVERS = (
    "pg",
    "postgres",
    "pg-promise",
    "slonik",
    "@vercel/postgres",
    "@sequelize/postgres",
    "@fastify/postgres",  # Fastify's plugin, pg beneath (and its older name)
    "fastify-postgres",
    _NEON,
)
# requirements*.txt, or any file of a requirements/ folder (base.txt, prod.txt …)
_PY_FILES = re.compile(
    r"(^|/)(requirements(?:[^/]*|/[^/]+)\.(txt|in)|pyproject\.toml|Pipfile|setup\.py)$"
)
_PRISMA_PG = re.compile(rb"""provider\s*=\s*["']postgres(ql)?["']""")
_URL = re.compile(rb"""postgres(?:ql)?(?:\+\w+)?://[^\s'"`<>]+""")
_SOURCE = (".py", ".js", ".ts", ".mjs", ".cjs", ".json", ".toml", ".yml", ".yaml", ".ini")
_LITERAL_PORT = re.compile(r"[}\]>]:(\d{4,5})/")  # after a placeholder host: ``{host}:6432/``
# Files naming a URL that are no code's own way to its database: a compose file's (its
# other services'), alembic.ini (read apart), a CI workflow's (its test server).
_NOT_CODE = re.compile(r"(?:^|/)(?:[\w.-]*compose\.ya?ml|alembic\.ini)$|(?:^|/)\.github/")


# Where a configuration says which database engine it uses (TypeORM's ``type``, Sequelize's
# ``dialect``, Knex's ``client``, Django's ``ENGINE``): one not PostgreSQL's.
def _names_engine(name: str) -> bool:
    """Whether the variable ``name`` is a SQL database's engine (``DB_TYPE``,
    ``DB_VENDOR``, ``TYPEORM_CONNECTION``: ``configvars.meaning``)."""
    found = meaning(name)
    return found is not None and found.kind == DATABASE and found.part == "engine"


_OTHER_ENGINE = re.compile(r"mysql|mariadb|sqlite|mssql|sqlserver|oracle|mongo", re.I)
_NAME = re.compile(r"^[A-Za-z0-9](?:[A-Za-z0-9_-]{0,61}[A-Za-z0-9])?$")
# A host name of a hosted server (db.example-host.com): its labels, the last a word.
_DOTTED = re.compile(
    r"^(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.){1,8}[A-Za-z](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?$"
)
_MAX_SOURCE = 512 * 1024
_PLAIN = re.compile(r"^[\w.-]{1,63}$")
_INITDB = "/docker-entrypoint-initdb.d"  # what the official image runs on a new cluster
# A variable naming the schema the app's tables live in (DB_SCHEMA, DATABASE_NAME_SCHEMA,
# TYPEORM_SCHEMA, POSTGRES_SCHEMA): TypeORM and Sequelize use it, neither creates it.
_SCHEMA_VAR = re.compile(
    r"^(?:\w*(?:DB|DATABASE|PG|POSTGRES|POSTGRESQL|TYPEORM|SEQUELIZE|SQL)_)?(?:\w+_)?SCHEMA(?:_NAME)?$"
)
_SCHEMA_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,62}$")
_NOT_SCHEMAS = {"public", "true", "false", "yes", "no", "on", "off", "none", "null"}
_MAX_INIT_SCRIPT = 4 * 1024 * 1024
InitScripts = tuple[tuple[str, str], ...]  # (its path in the upload, its SQL), in order


@dataclass(frozen=True)
class PostgresWants:
    driver: str | None  # "asyncpg (requirements.txt)"; None: no PostgreSQL client
    aliases: tuple[str, ...]  # host names to resolve to its loopback, ALIASES first
    ports: tuple[int, ...]  # PORT first
    url: str | None  # a PostgreSQL URL its own configuration gives (.env, the env option)
    compose: tuple[str, ...] = ()  # its compose file's PostgreSQL services
    compose_env: dict[str, str] = field(default_factory=dict)  # its own services' there
    given: dict[str, str] = field(default_factory=dict)  # its .env files' and env option's
    # user, password, database its own URL names (where it names them)
    named: dict[str, str] = field(default_factory=dict)
    init_scripts: InitScripts = ()  # its compose file's /docker-entrypoint-initdb.d SQL
    lone_schema: bool = False  # init_scripts is instead its one schema file (_lone_schema)
    # Where init_scripts come from, when neither its compose file nor its one schema file
    # (a Dockerfile's COPY into the init folder, its README: schemasql), for the log.
    init_origin: str = ""
    # The schemas its settings name (DB_SCHEMA=app), made before the app opens its database
    # (their CREATE SCHEMA at init_scripts' end): {variable: schema}.
    schemas: dict[str, str] = field(default_factory=dict)
    # The schemas its code puts tables in (``schema: "college1"``), made alike: {schema: path}.
    code_schemas: dict[str, str] = field(default_factory=dict)
    # Its variables whose URL is a form to fill in (``template_url``), each with its
    # scheme: the preview's own URL is given as them, the app's driver kept.
    templates: dict[str, str] = field(default_factory=dict)
    # The source that hands node-postgres ``ssl: true`` (a server certificate signed by a
    # public authority, as a hosted database has): None where none does (_verified_tls).
    verified_tls: str | None = None
    # The common extensions (appdb.COMMON_EXTENSIONS) its own SQL creates without ``IF NOT
    # EXISTS``: not made before it (_own_extensions).
    own_extensions: tuple[str, ...] = ()
    # The scheme the preview's URLs are given under: its own URL's ``postgres://`` where
    # a Node driver reads it (:func:`_url_scheme`), else ``postgresql``.
    scheme: str = "postgresql"
    # Neon's serverless driver, where a package.json lists it ("@neondatabase/serverless
    # (package.json)"): its neon() posts each query over HTTPS (backing.neon).
    neon: str | None = None


def postgres_url(value: str) -> bool:
    return re.match(r"^postgres(?:ql)?(?:\+\w+)?://", value) is not None


def _env_files(files: dict[str, bytes], *, examples: bool = True) -> dict[str, str]:
    """Every ``.env``-like file's variables (``.env.example`` … included, unless not
    ``examples``: then its ``.env`` files' alone)."""
    found: dict[str, str] = {}
    for path in sorted(files, key=lambda p: (p.count("/"), p)):
        name = posixpath.basename(path)
        if not examples and name != ".env":
            continue
        if name == ".env" or name.startswith(".env.") or example_rank(path) is not None:
            for key, value in dotenv_text(files[path]).items():
                found.setdefault(key, value)
    return found


def _listed(files: dict[str, bytes], package_name: str) -> str | None:
    """ "<package_name> (<its package.json>)" where a package.json of the app lists it."""
    for path in sorted(files):
        if _is_package_json(path) and _first_listed(files[path], (package_name,)):
            return f"{package_name} ({path})"
    return None


def _is_package_json(path: str) -> bool:
    return posixpath.basename(path) == "package.json" and "node_modules" not in path


def _first_listed(package_json: bytes, names: tuple[str, ...]) -> str | None:
    """The first of ``names`` its dependencies list, else its devDependencies."""
    try:
        package = loads_bounded(package_json)
    except ValueError:
        return None
    if not isinstance(package, dict):
        return None
    for section in ("dependencies", "devDependencies"):
        listed = package.get(section)
        for name in names:
            if isinstance(listed, dict) and name in listed:
                return name
    return None


def _driver(files: dict[str, bytes]) -> str | None:
    installed = dockerfile_requirements(files)  # (req.txt, its Dockerfile's pip install -r)
    for path in sorted(files):
        if _PY_FILES.search(path) or path in installed:
            text = dependency_text(files[path])
            if found := _PY_DRIVER.search(text):
                return f"{found.group(1)} ({path})"
            if found := _PY_EXTRA_DRIVER.search(text) or _POETRY_EXTRA_DRIVER.search(text):
                return f"{found.group(1)}[{found.group(2).strip()}] ({path})"
        elif _is_package_json(path):
            if (driver := _first_listed(files[path], _NODE_DRIVERS)) is not None:
                return f"{driver} ({path})"
        elif path.endswith(".prisma") and _PRISMA_PG.search(files[path]):
            return f"Prisma's PostgreSQL provider ({path})"
    return None


def _environment(
    service: dict, directory: str, files: dict[str, bytes], env: dict[str, str]
) -> dict[str, str]:
    """A compose service's ``env_file`` and ``environment``, the latter's ``${…}`` given
    from ``env`` as compose does (``configvars.compose_environment``)."""
    found: dict[str, str] = {}
    env_files = service.get("env_file") or []
    for entry in [env_files] if isinstance(env_files, (str, dict)) else env_files:
        path = entry.get("path") if isinstance(entry, dict) else entry
        data = files.get(posixpath.normpath(posixpath.join(directory, str(path))))
        if data is not None:
            found.update(dotenv_text(data))
    found = {k: v for k, v in found.items() if "$" not in v}
    found.update(compose_environment(service, env))
    return {k: v for k, v in found.items() if "\0" not in k + v}


def _init_scripts(service: dict, directory: str, files: dict[str, bytes]) -> dict[str, str]:
    """The SQL files a compose service mounts into :data:`_INITDB` (``./sql/x.sql:…/x.sql``,
    or a folder there), by the name the image runs them in order of: their paths."""
    found: dict[str, str] = {}
    for volume in service.get("volumes") or ():
        if isinstance(volume, dict):
            source, target = str(volume.get("source", "")), str(volume.get("target", ""))
        else:
            source, _, rest = str(volume).partition(":")
            target = rest.split(":")[0]
        if not (target.rstrip("/") + "/").startswith(_INITDB + "/") or not source.startswith("."):
            continue  # not its init folder, or a named volume
        path = posixpath.normpath(posixpath.join(directory, source))
        if path in files:
            name = posixpath.basename(path if target.rstrip("/") == _INITDB else target)
            found[name] = path
        else:
            inside = (p for p in files if posixpath.dirname(p) == path)
            found.update((posixpath.basename(p), p) for p in inside)
    for name, path in [(n, p) for n, p in found.items() if n.endswith(".sh")]:
        for i, sql in enumerate(_run_by_shell(files[path], service, directory, files)):
            found[f"{name}.{i:03d}.sql"] = sql  # in its order, where the script runs
    return {n: p for n, p in found.items() if n.endswith(".sql")}


compose_init_scripts = _init_scripts  # (schemasql reads a MySQL service's the same way)

_PSQL_FILE = re.compile(rb"\bpsql\b[^\n]*?\s-f\s*([^\s;&|]+)")


def _run_by_shell(
    script: bytes, service: dict, directory: str, files: dict[str, bytes]
) -> list[str]:
    """The upload's SQL files a shell init script runs with ``psql -f`` (gbatagian's
    fastapi-crud: db/init.sh runs ``opt/schema_queries/create_schema.sql``, which the
    service mounts from ./db/schema_queries/; the shell script itself is not run), found
    through the service's volumes, in the script's order. The image runs its init
    scripts from ``/``: a relative path is read from there."""
    mounts = []
    for volume in service.get("volumes") or ():
        if isinstance(volume, dict):
            source, target = str(volume.get("source", "")), str(volume.get("target", ""))
        else:
            source, _, rest = str(volume).partition(":")
            target = rest.split(":")[0]
        if source.startswith(".") and target.startswith("/"):
            mounts.append(
                (target.rstrip("/"), posixpath.normpath(posixpath.join(directory, source)))
            )
    found = []
    for match in _PSQL_FILE.finditer(script):
        named = match.group(1).decode("utf-8", "replace").strip("'\"").lstrip("/")
        wanted = posixpath.normpath("/" + named)
        for target, source in mounts:
            if wanted == target or wanted.startswith(target + "/"):
                path = posixpath.normpath(source + wanted[len(target) :])
                if path in files and path.endswith(".sql") and path not in found:
                    found.append(path)
    return found


_CREATE_TABLE = re.compile(rb"\bcreate\s++table\b", re.I)
# golang-migrate's (and its kind's) SQL migration: its version, then its name.
_UP_MIGRATION = re.compile(r"(?:^|/)(\d+)_[\w.-]*\.up\.sql$")
# What a folder of SQL migrations holds beside them, which makes no schema.
_DOCUMENT = re.compile(r"\.(?:sql|md|txt|rst)$|(?:^|/)(?:README|\.gitkeep)$", re.IGNORECASE)
# What makes a schema otherwise: migrations (of any tool), Django, an ORM's config.
_SCHEMA_MADE = re.compile(
    r"(?:^|/)(?:migrations?|alembic|prisma|drizzle|versions)/"
    r"|(?:^|/)(?:alembic\.ini|knexfile\.\w+|\.sequelizerc|manage\.py|ormconfig\.\w+)$"
)


# A package the app's own code runs a folder of SQL migrations with, at its start
# (valar-videos' koa-pg: postgres-migrations' ``migrate(config, "migrations")`` over
# migrations/00001_create-list-table.sql, which, run first as its schema, it then met:
# relation "todo_list" already exists, the migration rolled back, the start ended).
_SQL_MIGRATOR = re.compile(rb'"(?:postgres-migrations|postgrator|@databases/pg-migrations)"\s*:')


_DBMATE_UP = re.compile(rb"^--\s*migrate:up\b", re.MULTILINE)
_DBMATE_DOWN = re.compile(rb"^--\s*migrate:down\b", re.MULTILINE)


def _dbmate_up(data: bytes) -> str:
    """A dbmate migration's up part (between ``-- migrate:up`` and ``-- migrate:down``)."""
    start = _DBMATE_UP.search(data)
    body = data[start.end() :] if start is not None else data
    down = _DBMATE_DOWN.search(body)
    return (body[: down.start()] if down is not None else body).decode("utf-8", "replace")


def _lone_schema(files: dict[str, bytes]) -> InitScripts:
    """The upload's SQL schema, where nothing else makes it (no other tool's migrations,
    no compose init folder), run as init scripts: its SQL migrations of golang-migrate's
    form (``000001_initial_schema.up.sql``, in their versions' order: cgund98's
    fastapi-postgres-template runs them with the migrate image), else its one SQL file
    that creates tables (tsabunkar's NestJS keeps its tables in src/database/scripts.sql,
    its Sequelize sync() commented out; johschmidt42's fastapi-postgresql has
    db/schema.sql, which its README says to run, beside db/data.sql's rows)."""
    if any(_SCHEMA_MADE.search(p) and not _DOCUMENT.search(p) for p in files):
        return ()
    if _SQL_MIGRATOR.search(files.get("package.json", b"")):
        return ()  # its SQL files are migrations its own code runs
    sql = [p for p in files if p.endswith(".sql") and "node_modules/" not in p]
    sql = [p for p in sql if not _TESTS.search(p) and len(files[p]) < _MAX_INIT_SCRIPT]
    # dbmate's (``-- migrate:up`` … ``-- migrate:down``, one file a version, named by its
    # timestamp): each file's up part, in order. marcoturi's fastify-boilerplate's one
    # migration ran whole, its DROP TABLE after its CREATE ("relation users does not exist").
    # (Its seeds, in a folder of their own in the same form, make no table: left out.)
    dbmate = sorted(p for p in sql if _DBMATE_UP.search(files[p]))
    folders = {posixpath.dirname(p) for p in dbmate if _CREATE_TABLE.search(files[p])}
    if len(folders) == 1:
        return tuple((p, _dbmate_up(files[p])) for p in dbmate if posixpath.dirname(p) in folders)
    ups = sorted(
        ((int(m.group(1)), p) for p in sql if (m := _UP_MIGRATION.search(p)) is not None),
    )
    if ups and len({posixpath.dirname(p) for _, p in ups}) == 1:
        return tuple((p, files[p].decode("utf-8", "replace")) for _, p in ups)
    schemas = [p for p in sql if not p.endswith(".down.sql") and _CREATE_TABLE.search(files[p])]
    # Not a MySQL dump (backquoted names, ENGINE=InnoDB), which PostgreSQL cannot run: a
    # repository keeping both dialects' schemas has its PostgreSQL one run.
    schemas = [p for p in schemas if dialect(files[p]) != "mysql"]
    if len(schemas) != 1:
        return ()
    return ((schemas[0], files[schemas[0]].decode("utf-8", "replace")),)


def _compose(
    files: dict[str, bytes], env: dict[str, str]
) -> tuple[list[str], list[int], dict[str, str], InitScripts, dict[str, str]]:
    """The PostgreSQL services of its compose files: their names, ports (a published one
    from ``env``: ``"${DATABASE__PORT}:5432"``, 5455 in rafsaf's template's .env), init
    scripts and the user, password and database the first one's image is told to make
    (:func:`_server_names`); and the variables its own services (those it builds) are
    given there."""
    names: list[str] = []
    ports: list[int] = []
    app_env: dict[str, str] = {}
    scripts: dict[str, str] = {}
    made: dict[str, str] = {}
    # An overlay (docker-compose.local.yml) configures the services the base file builds:
    # leosussan's fastapi-gino-arq-uvicorn gives its app DATABASE=postgres only there.
    services = [(project.path, project.services) for project in compose_projects(files)]
    images = {
        (path, name): service_image(service, posixpath.dirname(path), files)
        for path, found in services
        for name, service in found.items()
    }
    postgres = {key for key, image in images.items() if _POSTGRES_IMAGE.search(image)}
    built = {
        name
        for path, found in services
        for name, service in found.items()
        if "build" in service and (path, name) not in postgres
    }
    for path, found in services:
        for name, service in found.items():
            if name in built:
                app_env.update(_environment(service, posixpath.dirname(path), files, env))
            if (path, name) not in postgres:
                continue
            scripts.update(_init_scripts(service, posixpath.dirname(path), files))
            if not made:
                made = _server_names(_environment(service, posixpath.dirname(path), files, env))
            aka = (str(service[k]) for k in ("container_name", "hostname") if k in service)
            found = [name, *aka]
            names += [n for n in found if _NAME.match(n)]  # not "app-${ENV}-db"
            for mapping in service.get("ports") or ():
                first = interpolated(str(mapping), env).split(":")[0]
                if first.isdigit():
                    ports.append(int(first))
    ordered = [scripts[name] for name in sorted(scripts)]
    sql = tuple((p, files[p].decode("utf-8", "replace")) for p in ordered)
    sql = tuple((p, text) for p, text in sql if len(text) < _MAX_INIT_SCRIPT)
    return names, ports, app_env, sql, made


_POSTGRES_IMAGE = re.compile(r"postgres|postgis|timescale", re.I)
_FROM = re.compile(r"^\s*FROM\s+(?:--\S+\s+)*(\S+)", re.I | re.M)


def service_image(service: dict, directory: str, files: dict[str, bytes]) -> str:
    """A compose service's image: its ``image``, else the first ``FROM`` of the Dockerfile
    its ``build`` names (torikatsupg's hono-todo: ``db`` built from docker/db/Dockerfile,
    ``FROM postgres:16.0``, its ./db mounted into the init folder: relation "todo" does
    not exist, its init scripts never run); "" for none."""
    if service.get("image"):
        return str(service["image"])
    build = service.get("build")
    context, dockerfile = (build, "Dockerfile") if isinstance(build, str) else (".", "Dockerfile")
    if isinstance(build, dict):
        context = str(build.get("context") or ".")
        dockerfile = str(build.get("dockerfile") or "Dockerfile")
    if not build:
        return ""
    path = posixpath.normpath(posixpath.join(directory, context, dockerfile))
    found = _FROM.search(files.get(path, b"")[:65536].decode("utf-8", "replace"))
    return found.group(1) if found else ""


def _declared_sql(files: dict[str, bytes]) -> DeclaredSql | None:
    """The SQL the upload declares for its PostgreSQL by ``schemasql``'s rules (read once
    a launch: :func:`_declared_elsewhere` and :func:`_schema_outside_sql_files` judge it)."""
    from .schemasql import POSTGRES, declared_sql  # (it reads compose files by this module)

    return declared_sql(files, POSTGRES, _init_scripts)


def _queried_tables(files: dict[str, bytes]) -> DeclaredSql | None:
    """The tables its Node code's queries name, where nothing of the upload makes one
    (``schemasql.queried_tables``), in PostgreSQL's dialect."""
    from .schemasql import POSTGRES, queried_tables  # (it reads compose files by this module)

    return queried_tables(files, POSTGRES)


def _declared_elsewhere(found: DeclaredSql | None) -> tuple[InitScripts, str]:
    """Its PostgreSQL's SQL where its compose file mounts none: a Dockerfile built on the
    postgres image copying it into :data:`_INITDB`, else the files its README says to run
    (``psql -f db/schema.sql``)."""
    if found is None or found.by not in ("compose-mount", "dockerfile-copy", "readme-command"):
        return (), ""
    return found.scripts, found.origin


def _schema_outside_sql_files(found: DeclaredSql | None) -> tuple[InitScripts, str]:
    """The CREATE TABLE blocks of its README, where it has no SQL file, or the statements
    of a script of its own that nothing runs, or its one file of SQL under another name
    than ``.sql`` (``initdb.pgsql``, a ``CREATE TABLE .txt``), or its SQL files that each
    connect to a database of their own (``\\c biztime``), or its SQL files of a table
    each, where :func:`_lone_schema` found no one ``.sql`` file."""
    if found is None:
        return (), ""
    other = len(found.scripts) == 1 and not found.scripts[0][0].endswith(".sql")
    if found.by in ("readme-blocks", "unrun-script", "own-databases", "table-each") or (
        found.by == "one-file" and other
    ):
        return found.scripts, found.origin
    return (), ""


def dialect(data: bytes) -> str | None:
    from .schemasql import dialect as of

    return of(data)


def _database_parts(env: dict[str, str], part: str) -> list[str]:
    """The values of ``env``'s variables that mean a PostgreSQL's ``part`` ("host",
    "port"), or any engine's by a generic name (``configvars.meaning``: ``PGHOST``,
    ``DB_HOST``, ``PG_PORT``…), and TypeORM's own ``TYPEORM_HOST``/``TYPEORM_PORT``.
    veressgergo88's kenn-crud backend reads ``PG_PORT = "5000"`` from its .env: no relay
    listened there (ECONNREFUSED 127.0.0.1:5000)."""
    found = []
    for name, value in env.items():
        what = meaning(name)
        if name.upper() == f"TYPEORM_{part.upper()}" or (
            what is not None
            and what.kind == DATABASE
            and what.part == part
            and what.engine in ("", "postgresql")
        ):
            found.append(value.strip())
    return [value for value in found if value]


def _server_names(environment: dict[str, str]) -> dict[str, str]:
    """The user, password and database a PostgreSQL image's ``environment`` makes
    (``POSTGRES_USER``, ``POSTGRES_PASSWORD``, ``POSTGRES_DB``, which defaults to the
    user's name, as the image does), those that are plain; empty without a database."""
    found = {
        "user": environment.get("POSTGRES_USER", ""),
        "password": environment.get("POSTGRES_PASSWORD", ""),
        "database": environment.get("POSTGRES_DB") or environment.get("POSTGRES_USER", ""),
    }
    plain = {k: v for k, v in found.items() if v and _PLAIN.match(v)}
    return plain if "database" in plain else {}


def postgres_wants(files: dict[str, bytes], extra: dict[str, str]) -> PostgresWants:
    """See the module doc; ``extra``: the launch's ``env`` option."""
    compose, compose_ports, compose_env, init_scripts, made = _compose(
        files, {**_env_files(files), **extra}
    )
    found = None if init_scripts else _declared_sql(files)
    declared, origin = _declared_elsewhere(found)
    init_scripts = init_scripts or declared
    lone = () if init_scripts else _lone_schema(files)
    if not init_scripts and not lone:
        lone, origin = _schema_outside_sql_files(found)
    if not init_scripts and not lone and (queried := _queried_tables(files)) is not None:
        lone, origin = queried.scripts, queried.origin
    env = {**compose_env, **_env_files(files), **extra}
    aliases: list[str] = list(ALIASES)
    ports: list[int] = [PORT]
    aliases += compose
    ports += compose_ports
    # A URL to fill in names no server (``host:port``): the preview's fills it instead.
    templates = {k: v.strip().split("://", 1)[0] for k, v in env.items() if _template(v)}
    urls = [v for v in env.values() if postgres_url(v) and not _template(v)]
    source: list[str] = []  # its alembic.ini's (outside tests)
    coded: list[str] = []  # its code's own, written in (outside tests)
    for path in sorted(files):
        data = files[path]
        if path.endswith(_SOURCE) and len(data) < _MAX_SOURCE and "node_modules" not in path:
            found = [m.decode("utf-8", "replace") for m in _URL.findall(data)]
            # A URL of placeholders but for its port (yeisonipia48's ApiFastApi:
            # ``…@{host}:6432/{db}``, its PgBouncer's): that port is its server's too.
            ports += [int(p) for u in found if template_url(u) for p in _LITERAL_PORT.findall(u)]
            found = [u for u in found if not template_url(u)]
            urls += found
            own = not _TESTS.search(path)
            source += found if path.endswith("alembic.ini") and own else []
            coded += found if own and not _NOT_CODE.search(path) else []
    for url in urls:
        try:
            parts = urlsplit(url)
            host, port = parts.hostname, parts.port
        except ValueError:
            continue
        aliases += [host] if host else []
        ports += [port] if port else []
    aliases += _database_parts(env, "host")
    json_hosts, json_ports = _json_servers(files)
    aliases += json_hosts
    ports += json_ports
    code_hosts, code_ports = _code_servers(files)
    aliases += code_hosts
    ports += code_ports
    # A hosted server its settings name (isilo.db.elephantsql.com in the env file of
    # 256Taras' fastify-typeorm-starter-kit's compose service) is out of reach from a
    # preview: the preview's own answers for that name, as for its compose service's.
    hosted = [a for a in aliases if _DOTTED.match(a) and len(a) <= 253]
    ports += [int(port) for port in _database_parts(env, "port") if port.isdigit()]
    own = next((v for k, v in env.items() if "DATABASE" in k.upper() and v in urls), None)
    url = own or next((v for v in env.values() if v in urls), None)
    named = next((n for u in [*([url] if url else []), *source] if (n := _names(u))), {})
    # Else the database its compose file's server makes, which the app's every way to it
    # names (ILugaro's fastapi-postgresql-alembic-docker: POSTGRES_DB=db_product there
    # and in its settings.yaml; its alembic env.py reads DATABASE_URL first, which named
    # another: the migrations made their tables where the app never looked).
    # Else the one database its code's URLs name, where they name one: the app opens it
    # whatever its variables say, so its set-up steps that read them must open it too
    # (AntonioPiattiFadda's BackEnd-ExpressPostgres1: Sequelize on a hosted URL's
    # "railway" in its code, its migrations on DB_NAME's database: "relation "users" does
    # not exist" on every route).
    in_code = [n for u in coded if (n := _names(u))]
    if not named and in_code and len({n["database"] for n in in_code}) == 1:
        named = in_code[0]
    named = named or made
    # An app able to use either (pg and mysql2 installed) on the one its settings name:
    # tienpbss's conduit (DB_TYPE=mysql, DB_PORT=3306) had the relay take MySQL's port.
    # (SQLite's named where its code writes the URL as a server's, with an account and a
    # host, says no other engine: no SQLite URL is so; luantien's fastapi-tour)
    servers = server_url_engines(files)
    # (an engine's variable by its meaning: DB_VENDOR=mysql too, wendeehsu's docker-fastapi,
    # whose aiomysql met PostgreSQL's relay on 3306: "Lost connection to MySQL server")
    other = any(
        _names_engine(k)
        and _OTHER_ENGINE.search(v)
        and not (k in servers and v.strip().lower().startswith("sqlite"))
        for k, v in env.items()
    )
    # Its own configuration (its compose file's services' environment, a committed .env,
    # the env option), not an example's: an example's URL names a server its reader fills
    # in, its own the one it runs on (potier97's fastApiCelery: ``DB_URL=postgresql://…``
    # in its compose service's environment alone, read by create_engine).
    configured = {**compose_env, **_env_files(files, examples=False), **extra}
    # (each of its own PostgreSQL URLs, whichever URL of them all names the server: an
    # example's beside it, potier97's README's DATABASE_URL, names another variable)
    its_url = [k for k, v in configured.items() if postgres_url(v) and not _template(v)]
    driver = (
        _driver(files)
        or _url_in_source_alone(files)
        or _django_engine(files)
        or _orm_options_in_code(files)
        or (_url_reader(files) if url is not None else None)
        or _engine_of_its_url(files, its_url)
        or _heroku_settings(files)
        or _sqlalchemy_url_in_code(files)
        or _url_built_in_code(files)
        or _postgres_column_types(files)
        or _driver_opened_in_code(files)
    )
    if driver and url is None and _libsql_alone(files):
        # libSQL's client alone opens its database (a Turso's: SQLite), pg listed and
        # never imported (williamk19's learn-hono: given PostgreSQL, its SQLite migrations
        # met "syntax error at or near `", its client "got postgresql:").
        driver = None
    if (
        driver
        and url is None
        and not compose
        and (
            _sqlite_engine(files)
            or mysql_alone_in_python(files) is not None
            or mysql_alone_in_node(files) is not None
        )
    ):
        # Its own SQLite (a PostgreSQL URL given would break its engine), or the MySQL its
        # code opens, its PostgreSQL driver listed and never used (JiratikarnDo's
        # Kanban-fastapi: given both, its DB_* were PostgreSQL's, and its mysql+pymysql://
        # met "Lost connection to MySQL server during query").
        driver = None
    schemas = named_schemas(env)
    in_code = {k: v for k, v in code_schemas(files).items() if k not in schemas.values()}
    made = tuple(
        (f"{name}={schema}", f'CREATE SCHEMA IF NOT EXISTS "{schema}";')
        for name, schema in schemas.items()
    ) + tuple(
        (f"{path}: {schema}", f'CREATE SCHEMA IF NOT EXISTS "{schema}";')
        for schema, path in in_code.items()
    )
    return PostgresWants(
        driver=None if other else driver,
        aliases=tuple(
            dict.fromkeys(
                a.lower()
                for a in aliases
                if (_NAME.match(a) or a in hosted) and not a.replace("-", "").isdigit()
            )
        ),
        ports=tuple(dict.fromkeys(p for p in ports if 0 < p < 65536)),
        url=url,
        compose=tuple(dict.fromkeys(compose)),  # a service and its container_name, once
        compose_env=compose_env,
        given=env,
        named=named,
        init_scripts=(*(init_scripts or lone), *made),
        lone_schema=bool(lone) and not origin,
        init_origin=origin,
        schemas=schemas,
        code_schemas=in_code,
        templates=templates,
        verified_tls=_verified_tls(files) if _node_postgres(driver) else None,
        own_extensions=_own_extensions(files),
        scheme=_url_scheme(url, driver, files),
        neon=_listed(files, _NEON),
    )


def _url_scheme(url: str | None, driver: str | None, files: dict[str, bytes]) -> str:
    """``postgres`` where the app's own URL is written so and a Node driver (or Prisma)
    reads it, else ``postgresql``: every Node driver takes either, and an app may check
    the one it writes (rafaelone's fastify-upload-server: zod's
    ``DATABASE_URL: z.string().url().startsWith('postgres://')``, its .env.test's
    ``postgres://docker:docker@localhost:5432/upload_test``; given ``postgresql://``, its
    drizzle-kit migrate and its start died on the ZodError). SQLAlchemy takes only
    ``postgresql``: a Python app keeps it, unless its own code adds the "ql" itself
    (:func:`_adds_ql`)."""
    node = driver is not None and (
        driver.split(" ", 1)[0] in _NODE_DRIVERS or driver.startswith("Prisma's")
    )
    own = node and url is not None and url.startswith("postgres://")
    return "postgres" if own or _adds_ql(files) else "postgresql"


# Heroku's ``postgres://`` made SQLAlchemy's by a replace that also matches inside
# ``postgresql://``: ``.replace("://", "ql://", 1)``, ``.replace("postgres", "postgresql")``
# (``.replace("postgres://", "postgresql://")`` does not, and needs nothing).
_ADDS_QL = re.compile(
    rb"""\.replace\(\s*(['"])(?:://|postgres)\1\s*,\s*(['"])(?:ql://|postgresql)\2"""
)


def _adds_ql(files: dict[str, bytes]) -> bool:
    """Whether the app's Python code (its tests left out, as its other readers here leave
    them) turns the URL it is given into SQLAlchemy's by adding "ql" to its scheme, as for
    Heroku's ``postgres://`` (ArtemKuznetsovv's flask-message-system: given
    ``postgresql://``, "Can't load plugin: sqlalchemy.dialects:postgresqlql")."""
    return any(
        _ADDS_QL.search(data) is not None
        for path, data in files.items()
        if path.endswith(".py") and len(data) <= _MAX_SOURCE and not _TESTS.search(path)
    )


# An extension created with no IF NOT EXISTS (``CREATE EXTENSION pgcrypto;``, ``CREATE
# EXTENSION "uuid-ossp"``): group 1 its name.
_CREATES_EXTENSION = re.compile(
    rb"""\bCREATE\s+EXTENSION\s+(?!IF\s+NOT\s+EXISTS\b)["'`]?([\w-]+)""", re.I
)
_OWN_SQL = (".sql", ".js", ".ts", ".cjs", ".mjs", ".py")
# What a database made for an app has from its start, as hosted PostgreSQL services give
# it (Supabase creates both): migrations that call uuid_generate_v4() or crypt() without
# creating their extension (their README's manual step) run (``appdb.add_common_extensions``).
COMMON_EXTENSIONS = ("uuid-ossp", "pgcrypto")


def _own_extensions(files: dict[str, bytes]) -> tuple[str, ...]:
    """The common extensions (:data:`COMMON_EXTENSIONS`) the upload's own SQL (its
    migrations, in SQL or in code) creates with no ``IF NOT EXISTS``: made before it, its
    migration fails (Ch1n3du's realworld-express-drizzle: its first Drizzle migration's
    ``CREATE EXTENSION pgcrypto;``, "extension pgcrypto already exists")."""
    found = {
        name.decode().lower()
        for path, data in files.items()
        if path.endswith(_OWN_SQL) and "node_modules/" not in path and b"EXTENSION" in data.upper()
        for name in _CREATES_EXTENSION.findall(data)
    }
    return tuple(n for n in COMMON_EXTENSIONS if n in found)


_PG_ENGINE = re.compile(r"postgres|(?:^|\W)pg(?:$|\W)")


def _json_servers(files: dict[str, bytes]) -> tuple[list[str], list[int]]:
    """The hosts and ports of the PostgreSQL settings written as JSON (sequelize-cli's
    ``config/config.json``: ``"dialect": "postgres"``, its development object's, which a
    preview runs as). Atitzz's Blog-Express-pg-sequelize names a hosted server there
    (floppy.db.elephantsql.com), which its models/index.js connects to: out of reach, every
    query of its pages waited on it and the preview never answered."""
    hosts: list[str] = []
    ports: list[int] = []
    for _path, settings, engine in json_database_settings(files):
        if not _PG_ENGINE.search(engine):
            continue
        hosts.append(settings["host"].strip())
        port = settings.get("port")
        if isinstance(port, int) or (isinstance(port, str) and port.strip().isdigit()):
            ports.append(int(port))
    return hosts, ports


# An ORM's options naming PostgreSQL in the app's code (TypeORM's ``type: 'postgres'``,
# Sequelize's ``dialect: "postgres"``), and the host and port given beside it as literals.
_CODE_ENGINE = re.compile(rb"""\b(?:type|dialect)["']?\s*:\s*["'](?:postgres|postgresql)["']""")
_CODE_PORT = re.compile(rb"""\bport["']?\s*:\s*(\d{2,5})\b""")
_CODE_HOST = re.compile(rb"""\bhost["']?\s*:\s*["']([\w.-]{1,253})["']""")
_OPTIONS_SPAN = 2000  # characters of an options object, at most
# node-postgres's own client given its options (``new Client({ host, port: 55000 })``,
# ``new pg.Pool({…})``), in a module that imports it (_IMPORTS_PG): their ``{`` (group 1).
_PG_CLIENT = re.compile(rb"""\bnew\s+(?:\w+\.)?(?:Client|Pool)\s*\(\s*(\{)""")
# A Python module opening PostgreSQL with its driver; or that, or building its URL from
# parts.
_DRIVER_CONNECTS = re.compile(
    rb"\b(?:psycopg2?|asyncpg|pg8000|aiopg)\s*\.\s*(?:connect|create_pool)\s*\("
)
_PY_CONNECTS = re.compile(
    _DRIVER_CONNECTS.pattern + rb"""|\bpostgres(?:ql)?(?:\+\w+)?://[^\s"'`]*(?:\{|%s|%\()"""
)
# Its host and port as literals: a dict's ("host": "db"), a keyword's (host="db"), a
# constant's (DB_HOST = "db").
_PY_HOST = re.compile(
    rb"""(?:["'](?:db_|pg_|postgres_)?host(?:name)?["']\s*:|\bhost\s*=(?!=)"""
    rb"""|^\s*(?:DB|PG|POSTGRES|DATABASE|POSTGRESQL)_?HOST(?:NAME)?\s*=(?!=))"""
    rb"""\s*["']([A-Za-z0-9][\w.-]{0,252})["']""",
    re.MULTILINE | re.IGNORECASE,
)
# (Not a keyword's port=: uvicorn.run(port=8000) beside it is the app's own server's.)
_PY_PORT = re.compile(
    rb"""(?:["'](?:db_|pg_|postgres_)?port["']\s*:"""
    rb"""|^\s*(?:DB|PG|POSTGRES|DATABASE|POSTGRESQL)_?PORT\s*=(?!=))"""
    rb"""\s*["']?(\d{2,5})\b""",
    re.MULTILINE | re.IGNORECASE,
)
# A module it takes its settings from (``from config import db_params``).
_PY_FROM = re.compile(rb"^\s*from\s+([A-Za-z_][\w.]*)\s+import\b", re.MULTILINE)


def _code_servers(files: dict[str, bytes]) -> tuple[list[str], list[int]]:
    """The hosts and ports an ORM's PostgreSQL options in the app's own JavaScript or
    TypeScript give as literals (MeGaOne47's nest-crud-app: ``TypeOrmModule.forRoot({
    type: 'postgres', host: 'localhost', port: 5433, …})``, its compose file's server on
    5432; every retry met ECONNREFUSED); and those of a Python module that opens it with
    its driver or builds its URL from parts, or of a module it imports from."""
    hosts: list[str] = []
    ports: list[int] = []
    for path, data in sorted(files.items()):
        if "node_modules/" in path or _TESTS.search(path) or len(data) > _MAX_SOURCE:
            continue
        if path.endswith(".py") and _PY_CONNECTS.search(data):
            # Python's: the module that opens it or builds its URL from its parts gives
            # them as literals (kameshrathore's fastapi-student-api: config.py's
            # ``'host': 'enter'``, a form left to fill in, was out of reach).
            hosts += [m.group(1).decode() for m in _PY_HOST.finditer(data)]
            ports += [int(m.group(1)) for m in _PY_PORT.finditer(data)]
            for imported in _PY_FROM.findall(data):
                name = imported.decode().lstrip(".").replace(".", "/") + ".py"
                here = posixpath.join(posixpath.dirname(path), name)
                module = files.get(name) or files.get(here) or b""
                hosts += [m.group(1).decode() for m in _PY_HOST.finditer(module)]
                ports += [int(m.group(1)) for m in _PY_PORT.finditer(module)]
        if not path.endswith(_JS_SOURCE):
            continue
        # (tudor0's fastify-learning: ``new Client({ host: "localhost", port: 55000 })``,
        # its docker run's published port; ECONNREFUSED at each query)
        imports = _IMPORTS_PG.search(data.decode("utf-8", "replace"))
        clients = _PG_CLIENT.finditer(data) if imports else ()
        opened = [m.end(1) for m in clients]
        for at in [e.start() for e in _CODE_ENGINE.finditer(data)] + opened:
            span = _options_object(data, at)
            ports += [int(m.group(1)) for m in _CODE_PORT.finditer(span)]
            hosts += [m.group(1).decode() for m in _CODE_HOST.finditer(span)]
    return hosts, ports


_CODE_ORMS = ("typeorm", "sequelize", "sequelize-typescript", "@mikro-orm/core")
# SQLAlchemy's engine made with SQLite's own connection option (sqlite3's), which
# PostgreSQL's drivers refuse ("invalid connection option"); a SQLite URL in code.
_SQLITE_ENGINE = re.compile(
    rb"\bcreate(?:_async)?_engine\s*\((?:[^()]|\([^()]*\))*?check_same_thread"
)
_SQLITE_URL = re.compile(rb"""["']sqlite(?:\+\w+)?://""")
_SQLITE_HEADER = b"SQLite format 3\x00"  # a SQLite database file's first bytes
_GUARD_SPAN = 300  # bytes before the engine where a test of its URL's dialect would be
_DIALECT_TEST = re.compile(rb"\b(?:el)?if\b[^\n]*sqlite", re.IGNORECASE)


def _sqlite_engine(files: dict[str, bytes]) -> str | None:
    """The module of a Python app whose code runs on SQLite alone by default, whatever
    driver of PostgreSQL it lists: its SQLAlchemy engine passes SQLite's own
    ``check_same_thread`` with no test of its URL's dialect, and its code writes a SQLite
    URL (its variable's default). konerds' fastapi-shop-api lists psycopg2-binary for its
    production (ENV=prod) but runs ``create_engine(settings.DB_URL, connect_args=
    {"check_same_thread": False})`` from ``getenv("DB_URL", "sqlite:///")`` otherwise: given
    the preview's PostgreSQL URL, psycopg2 refused it (invalid connection option
    "check_same_thread"). Its own SQLite file in the upload says so as its code's URL
    does. None where no module does so."""
    sources = [
        (path, uncommented(data))
        for path, data in sorted(files.items())
        if path.endswith(".py") and not _TESTS.search(path) and len(data) <= _MAX_SOURCE
    ]
    # Its code's SQLite URL, or a SQLite database of its own in the upload (sajidreshmi's
    # fastapi-crm ships sql_app.db, its DATABASE_URL required with no default).
    shipped = any(data.startswith(_SQLITE_HEADER) for data in files.values())
    if not shipped and not any(_SQLITE_URL.search(data) for _, data in sources):
        return None
    for path, data in sources:
        if _BUILT_URL.search(data) or _SQLALCHEMY_URL.search(data):
            # Its PostgreSQL's engine made beside it, from a URL it writes or builds: the
            # SQLite one is a branch (cyprianfusi's todo-backend-fastapi: SQLite where
            # ENVIRONMENT=development, else postgresql://{user}:…; unset, it took the
            # latter and was given no server).
            continue
        for engine in _SQLITE_ENGINE.finditer(data):
            before = data[max(0, engine.start() - _GUARD_SPAN) : engine.start()]
            if b"sqlite" not in engine.group().lower() and not _DIALECT_TEST.search(before):
                return path
    return None


def _libsql_alone(files: dict[str, bytes]) -> bool:
    """Whether the app's own Node modules import libSQL's client (or Drizzle's libsql
    driver) and none a PostgreSQL driver."""
    sources = [text for _, text in node_sources(files)]
    return any(_IMPORTS_LIBSQL.search(t) for t in sources) and not any(
        _IMPORTS_PG.search(t) for t in sources
    )


_IMPORTS_LIBSQL = re.compile(
    r"""(?:from\s+|require\(\s*)["'](?:@libsql/client|drizzle-orm/libsql)"""
)
_IMPORTS_PG = re.compile(
    r"""(?:from\s+|require\(\s*)["'](?:pg|postgres|pg-promise|@neondatabase/serverless"""
    r"""|drizzle-orm/(?:node-postgres|postgres-js|neon-http|neon-serverless))["']"""
)


def _orm_options_in_code(files: dict[str, bytes]) -> str | None:
    """An ORM the package lists whose PostgreSQL options the app's own code writes
    (Ziel-Global's express-typescript-postgresql-boilerplate: ``new DataSource({ type:
    'postgres', host: 'localhost', port: 5432, … })``, typeorm listed and pg only in its
    lockfile, which the install brings as its optional peer: no server was given, and the
    app exited on ECONNREFUSED 127.0.0.1:5432); None for none."""
    try:
        package = loads_bounded(files.get("package.json", b"{}"))
    except ValueError:
        return None
    sections = (
        [package.get(k) for k in ("dependencies", "devDependencies")]
        if isinstance(package, dict)
        else []
    )
    listed = {name for s in sections if isinstance(s, dict) for name in s}
    orm = next((o for o in _CODE_ORMS if o in listed), None)
    for path, data in sorted(files.items()):
        if not path.endswith(_JS_SOURCE) or "node_modules/" in path or _TESTS.search(path):
            continue
        if len(data) > _MAX_SOURCE or not _CODE_ENGINE.search(data):
            continue
        # An ORM its code imports though the package lists none (dkshi's nestjsHotel
        # imports @nestjs/typeorm and typeorm, neither listed, the build adding them):
        # its options are as much the app's.
        if orm is not None or (orm := _imported_orm(files)) is not None:
            return f"{orm}'s PostgreSQL options ({path})"
        return None
    return None


_IMPORTED_ORM = re.compile(
    rb"""(?:\bfrom\s+|\brequire\(\s*)["'](typeorm|@nestjs/typeorm|sequelize"""
    rb"""|sequelize-typescript|@nestjs/sequelize|@mikro-orm/core)["']"""
)


def _imported_orm(files: dict[str, bytes]) -> str | None:
    """The ORM the app's own code imports (its name), else None."""
    for path, data in sorted(files.items()):
        own = path.endswith(_JS_SOURCE) and "node_modules/" not in path
        if own and len(data) <= _MAX_SOURCE and (found := _IMPORTED_ORM.search(data)):
            return found.group(1).decode()
    return None


def _options_object(data: bytes, at: int) -> bytes:
    """The object literal around ``at`` (from its ``{`` to the ``}`` closing it, braces
    counted), its nested objects' text with it; b"" where there is none."""
    start = data.rfind(b"{", max(0, at - _OPTIONS_SPAN), at)
    if start < 0:
        return b""
    depth = 0
    for end in range(start, min(len(data), start + _OPTIONS_SPAN)):
        depth += {123: 1, 125: -1}.get(data[end], 0)  # { and }
        if depth == 0:
            return data[start : end + 1]
    return b""


def _node_postgres(driver: str | None) -> bool:
    """Whether ``driver`` (as :func:`_driver` says it) is node-postgres or built on it."""
    return driver is not None and driver.split(" ", 1)[0] in ("pg", "pg-promise")


# node-postgres told to verify the server's certificate (``new Pool({ connectionString,
# ssl: true })``), as a hosted database (Neon, Supabase) asks.
_SSL_TRUE = re.compile(rb"\bssl\s*:\s*true\b")
_JS_SOURCE = (".js", ".ts", ".mjs", ".cjs", ".mts", ".cts")


def _verified_tls(files: dict[str, bytes]) -> str | None:
    """The first of the app's own sources (not its tests) handing node-postgres ``ssl:
    true``: Kei-K23's RBAC-Fastify-API's src/db/index.ts does, and its migrate failed on
    'Error: self-signed certificate' (the relay's) before it served; None for none."""
    for path in sorted(files):
        data = files[path]
        if not path.endswith(_JS_SOURCE) or "node_modules/" in path or _TESTS.search(path):
            continue
        if len(data) < _MAX_SOURCE and _SSL_TRUE.search(data):
            return path
    return None


def named_schemas(env: dict[str, str]) -> dict[str, str]:
    """The schemas the app's variables name (:data:`_SCHEMA_VAR`), each once, ``public``
    (there already) and values that are no schema's name (a flag, a path) left out. A
    NestJS books API (nathan-oliveira's) sets ``schema: DATABASE_NAME_SCHEMA`` (app) for
    TypeORM, whose migrations table then failed: its compose file's Postgres made it with a
    shell init script, which the service does not run."""
    found: dict[str, str] = {}
    for name, value in env.items():
        value = value.strip()
        if not _SCHEMA_VAR.match(name.upper()) or not _SCHEMA_NAME.match(value):
            continue
        if value.lower() not in _NOT_SCHEMAS and value not in found.values():
            found[name] = value
    return found


# A table's schema written in the app's code: Sequelize's and TypeORM's ``schema: "x"``
# options, SQLAlchemy's ``__table_args__ = {"schema": "x"}`` and ``schema="x"``.
_CODE_SCHEMA = re.compile(
    rb"""(?:\bschema\s*[:=]|["']schema["']\s*:)\s*["'`]([A-Za-z_][A-Za-z0-9_]{0,62})["'`]"""
)


def code_schemas(files: dict[str, bytes]) -> dict[str, str]:
    """The schemas the app's own code (not its tests, nor node_modules) puts its tables in,
    each once with the first source naming it, ``public`` left out: DavidHorvitz's
    collegeWithExpressTS defines its Sequelize models with ``schema: "college1"``, which
    nothing makes; its sync() failed on 'schema "college1" does not exist'. (A name that
    is no table's schema costs an empty schema.)"""
    found: dict[str, str] = {}
    for path in sorted(files):
        data = files[path]
        if not path.endswith((*_JS_SOURCE, ".py")) or "node_modules/" in path:
            continue
        if _TESTS.search(path) or len(data) >= _MAX_SOURCE or b"schema" not in data:
            continue
        for match in _CODE_SCHEMA.finditer(data):
            schema = match.group(1).decode()
            if schema.lower() not in _NOT_SCHEMAS:
                found.setdefault(schema, path)
    return found


def _template(value: str) -> bool:
    return postgres_url(value) and template_url(value)


def _url_in_source_alone(files: dict[str, bytes]) -> str | None:
    """Where an upload with no dependency file (its needs inferred from its imports, which
    name no driver: an ORM loads it by the URL's scheme) writes a PostgreSQL URL in its
    Python source, outside its tests: it wants that server (corcasta's FastAPI-Demo,
    Tortoise on ``postgres://postgres:admin@localhost:5432/test2`` in settings.py)."""
    if any(_PY_FILES.search(p) or posixpath.basename(p) == "package.json" for p in files):
        return None
    for path in sorted(files):
        data = files[path]
        python = path.endswith(".py") and len(data) < _MAX_SOURCE and not _TESTS.search(path)
        if python and _URL.search(data):
            return f"a PostgreSQL URL in {path} (no dependency file)"
    return None


def _django_engine(files: dict[str, bytes]) -> str | None:
    """Where a Django app's settings name PostgreSQL's backend as its ``ENGINE``
    (``'ENGINE': 'django.db.backends.postgresql'``) and its dependencies list no driver
    (its image's apt installs one, or its author's machine had it): it wants that server,
    and the remedies add psycopg's wheel once Django asks for it (Taz742's
    django-rest-api: given none, its migrate had no database)."""
    for path in sorted(files):
        data = files[path]
        if not path.endswith(".py") or len(data) > _MAX_SOURCE or _TESTS.search(path):
            continue
        if b"DATABASES" in data and _DJANGO_POSTGRES.search(data):
            return f"Django's PostgreSQL ENGINE ({path})"
    return None


def _url_reader(files: dict[str, bytes]) -> str | None:
    """Where a Python app's settings take its database from a URL variable by a library
    that picks the backend by the URL's scheme (django-environ's ``env.db()``,
    dj-database-url), its dependencies listing no driver: with a PostgreSQL URL in its
    own configuration (the caller's condition), it wants that server, and the remedies
    add psycopg's wheel once Django asks for it. andriitk's DRF-Link-Shortener commits a
    ``.env`` of ``DATABASE_URL=postgres://admin:password1@db:5432/URLs`` beside a compose
    service running ``postgres``: given none, its migrate could not resolve ``db``."""
    for path in sorted(files):
        data = files[path]
        if not path.endswith(".py") or len(data) > _MAX_SOURCE or _TESTS.search(path):
            continue
        if found := _URL_READER.search(data):
            return f"a PostgreSQL URL in its configuration, read by {found[0].decode()}…) in {path}"
    return None


def _heroku_settings(files: dict[str, bytes]) -> str | None:
    """Where a Django app's settings end with django-heroku's ``settings(locals())``,
    which takes its database from ``DATABASE_URL`` as Heroku's PostgreSQL, SSL required
    (``sslmode``), unless told ``databases=False``, or require SSL of dj-database-url
    themselves (``ssl_require=True``): it wants that server (SQLite takes no SSL). artrey's
    drf-comments: given the preview's SQLite file as DATABASE_URL, its migrate died on
    "'sslmode' is an invalid keyword argument" (SQLite's connect)."""
    for path in sorted(files):
        data = files[path]
        if not path.endswith(".py") or len(data) > _MAX_SOURCE or _TESTS.search(path):
            continue
        code = uncommented(data)
        for found in _HEROKU_SETTINGS.finditer(code):
            if not _NO_DATABASES.match(found.group(1)):
                return f"django-heroku's settings() in {path} (Heroku's PostgreSQL)"
        # dj-database-url told ``ssl_require=True`` sets ``sslmode`` whatever the URL:
        # harryface's ico-drf-token, on Heroku (heroku.yml), died on SQLite's connect alike.
        if _SSL_REQUIRED_URL.search(code):
            return f"dj-database-url's ssl_require=True in {path} (a PostgreSQL with SSL)"
    return None


def _sqlalchemy_url_in_code(files: dict[str, bytes]) -> str | None:
    """Where a Python app's own code (not its tests) gives SQLAlchemy a PostgreSQL URL it
    writes (``SQLALCHEMY_DATABASE_URI = 'postgresql://alan:1234@localhost:5432/fyyur'``,
    ``create_engine("postgresql://…")``), its dependencies listing no driver (its author's
    machine had one): it wants that server, and the remedies add the driver SQLAlchemy
    then asks for. alanarvelo's flask-marketplace-backend lists Flask-Migrate alone: given
    no server, its migrations were refused at 127.0.0.1:5432 and three routes answered 500."""
    found = _own_python_matching(files, _SQLALCHEMY_URL)
    return f"a PostgreSQL URL given to SQLAlchemy in {found}" if found else None


_ENGINE_CALL = re.compile(rb"\bcreate(?:_async)?_engine\s*\(")


def _engine_of_its_url(files: dict[str, bytes], variables: list[str]) -> str | None:
    """Where a Python module of the app's own makes SQLAlchemy's engine and reads a
    variable its configuration gives a PostgreSQL URL (``DB_URL=postgresql://…`` in its
    .env, ``create_engine(os.getenv("DB_URL"))``), its dependencies listing no driver: it
    wants that server, and the remedies add the driver SQLAlchemy asks for. HarshPanchigar's
    Blog-API-FastAPI: given none, its engine met "Connection refused" at 127.0.0.1:5432
    once psycopg2 was added."""
    if not variables:
        return None
    named = re.compile(
        rb"""["'](?:%s)["']|\.(?:%s)\b"""
        % (
            b"|".join(re.escape(v.encode()) for v in variables),
            b"|".join(re.escape(v.encode()) for v in variables),
        ),
        re.IGNORECASE,
    )
    for path in sorted(files):
        data = files[path]
        if not path.endswith(".py") or len(data) > _MAX_SOURCE or _TESTS.search(path):
            continue
        code = uncommented(data)
        if _ENGINE_CALL.search(code) and named.search(code):
            return f"a PostgreSQL URL in its configuration, given to SQLAlchemy in {path}"
    return None


def _url_built_in_code(files: dict[str, bytes]) -> str | None:
    """Where a Python app's own code (not its tests) builds a PostgreSQL URL from parts
    (``f"postgresql+asyncpg://{self.DB_USER}:{self.DB_PASSWORD}@{self.DB_HOST}…"``, a
    ``%s`` or ``{}`` template), its dependencies listing no driver: it wants that server,
    reached by the parts it reads. Darawshi's FastAPI-CMS builds it in a settings property
    from DB_HOST … (its .env's ``localhost:5432``): given none, its lifespan's connection
    was refused."""
    found = _own_python_matching(files, _BUILT_URL)
    return f"a PostgreSQL URL built from its settings in {found}" if found else None


def _postgres_column_types(files: dict[str, bytes]) -> str | None:
    """Where a Python app's own code imports PostgreSQL's own column types from
    SQLAlchemy (``from sqlalchemy.dialects.postgresql import ARRAY``, JSONB …), its
    dependencies listing no driver: its models are PostgreSQL's, which SQLite cannot make
    (Irishery's chat-manager-flask, its driver in no file, its URL read from a variable
    nothing sets: its migration on SQLite died on "can't render element of type ARRAY",
    and every table's route answered 500)."""
    found = _own_python_matching(files, _POSTGRES_TYPES)
    return f"PostgreSQL's own column types imported in {found}" if found else None


def _driver_opened_in_code(files: dict[str, bytes]) -> str | None:
    """Where a Python app's own code opens PostgreSQL with a driver's ``connect``
    (``psycopg2.connect(user=…, host=config["Postgres"]["host"], …)``), its dependencies
    listing no driver: nigel-hall-codes' StarterFastAPIUserLogin pins 47 packages in a
    UTF-16 requirements.txt, psycopg2 not among them (its remedy added it), and was given
    no server: its connect went to a Unix socket that nothing served. Not where they
    list MySQL's driver: the server the app is given is that one's."""
    if lists_mysql_driver(files):
        return None
    found = _own_python_matching(files, _DRIVER_CONNECTS)
    return f"a PostgreSQL driver's connect in {found}" if found else None


_POSTGRES_TYPES = re.compile(
    rb"^\s*(?:from\s+sqlalchemy\.dialects\.postgresql\s+import\b"
    rb"|import\s+sqlalchemy\.dialects\.postgresql\b)",
    re.MULTILINE,
)


def _own_python_matching(files: dict[str, bytes], pattern: re.Pattern[bytes]) -> str | None:
    """The first module of the app's own Python code (not its tests) whose code outside
    its comments ``pattern`` finds; None for none."""
    for path in sorted(files):
        data = files[path]
        if not path.endswith(".py") or len(data) > _MAX_SOURCE or _TESTS.search(path):
            continue
        if pattern.search(uncommented(data)):
            return path
    return None


# A PostgreSQL URL an f-string or a template fills in: its account or host a placeholder.
_BUILT_URL = re.compile(
    rb"""(?:\bf|[(=,]\s*)["']postgres(?:ql)?(?:\+\w+)?://[^"'\n]*(?:\{|%s|%\()"""
)


# A PostgreSQL URL written as SQLAlchemy's (Flask-SQLAlchemy's setting, a database URL's
# name) or given to its engine, on one line.
_SQLALCHEMY_URL = re.compile(
    rb"""\b(?:SQLALCHEMY_DATABASE_UR[IL]|DATABASE_UR[IL]|create(?:_async)?_engine)\b"""
    rb"""[^\n]{0,80}?["']postgres(?:ql)?(?:\+\w+)?://"""
)


# django-heroku's ``django_heroku.settings(locals(), …)``: group 1 what follows locals().
_HEROKU_SETTINGS = re.compile(rb"\bdjango_heroku\.settings\(\s*locals\(\)([^)]*)\)")
_NO_DATABASES = re.compile(rb".*\bdatabases\s*=\s*False\b", re.DOTALL)
# dj-database-url's ``config(…, ssl_require=True)`` or ``parse(…)``, its arguments on any
# lines (calls nested in them: read as the next 400 bytes; the keyword is its own).
_SSL_REQUIRED_URL = re.compile(
    rb"\bdj_database_url\.(?:config|parse)\([\s\S]{0,400}?\bssl_require\s*=\s*True\b"
)


# A settings library's read of a database URL: django-environ's ``env.db()`` and
# ``env.db_url()``, dj-database-url's ``config()`` and ``parse()``.
_URL_READER = re.compile(rb"\benv\.(?:db|db_url)\(|\bdj_database_url\.(?:config|parse)\(")


_DJANGO_POSTGRES = re.compile(
    rb"""["']ENGINE["']\s*:\s*["']django(?:\.contrib\.gis)?\.db\.backends\."""
    rb"""(?:postgresql(?:_psycopg2)?|postgis)["']"""
)


def _names(url: str) -> dict[str, str]:
    """The user, password and database ``url`` names, those that are plain (not
    ``${…}`` or ``{…}`` placeholders); empty when it names no database."""
    try:
        parts = urlsplit(url)
        found = {
            "user": unquote(parts.username or ""),
            "password": unquote(parts.password or ""),
            "database": unquote(parts.path.lstrip("/").split("?")[0]),
        }
    except ValueError:
        return {}
    plain = {k: v for k, v in found.items() if v and _PLAIN.match(v)}
    return plain if "database" in plain else {}
