"""Which servers an upload expects beside it, and under which names: :func:`wanted_servers`.

Read from the upload alone, before anything runs: its dependency files (a Redis client,
a MySQL driver), its configuration (the ``.env`` files, an ``.env.example`` standing in
for a missing one, the ``env`` launch option) and its ``docker-compose.yml`` (a service
whose image is ``redis``/``valkey``/``mysql``/``mariadb``, and the ``environment`` the
app's own service is given there). Each server is wanted with every name the app may
reach it by: the hosts and ports of its URLs (``redis://cache:6380/0``,
``mysql://app:secret@db:3306/app``), of ``REDIS_HOST``/``DB_HOST``-like variables, the
compose service's name, and the usual ones (``localhost``, ``redis``, ``mysql``, ``db``);
for MySQL also the accounts and databases it logs in with, which the private server
creates.

Redis is wanted for a Redis client in the dependencies, a ``redis://`` URL or a
``REDIS_*`` variable in the configuration, or a compose service running Redis. MySQL is
wanted for a MySQL driver *and* a ``mysql://`` URL, ``MYSQL_*`` variables, an engine's
variable naming it (``DB_ENGINE=django.db.backends.mysql``: ``configvars.meaning``) or a
compose service running MySQL/MariaDB: a driver alone (SQLAlchemy lists several) is no
sign, and a driver is needed, but for Django's MySQL ENGINE and a MySQL URL written whole in
the app's Python code, whose driver the build adds once it is asked for. The generic names
the app's own compose service gives beside a host naming that service (``HOST: db``,
``USER``, ``PASSWORD``, ``DATABASE``) are its account and database.
MongoDB is wanted for a MongoDB client in the dependencies, beside a SQL client too
(where the generic URL names stay the SQL server's unless its code opens MongoDB alone),
unless the ``env`` option gives a URL of a server elsewhere (:func:`_mongo_wanted`): with
the hosts, ports, accounts and databases of its URLs and compose service, and the names
it reads a URL by.
"""

from __future__ import annotations

import ast
import posixpath
import re
import secrets
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import NamedTuple
from urllib.parse import unquote, urlsplit

from ..apps.asyncdb import URL_VARIABLES
from ..apps.configvars import (
    DATABASE,
    compose_database_names,
    compose_environment,
    compose_projects,
    dotenv_text,
    example_env_file,
    fill_in,
    interpolated,
    meaning,
    read_variables,
    required_types,
    server_url_engines,
    template_url,
    volume_mount,
)
from ..apps.depspec import dependency_text, dockerfile_requirements
from ..apps.node.envreads import node_env_reads, typeorm_unconfigured
from ..discovery.pyast import parse_module, parse_source, uncommented
from ..generations import loads_bounded
from .schemasql import for_mariadb
from .timezones import named_time_zones

__all__ = [
    "TEST_FILES",
    "MongoWanted",
    "MysqlWanted",
    "RedisWanted",
    "ServerCharacterSet",
    "Wanted",
    "json_database_settings",
    "lists_mysql_driver",
    "mysql_alone_in_node",
    "mysql_alone_in_python",
    "table_name_cases",
    "wanted_servers",
]

REDIS_PORT, MYSQL_PORT, MONGO_PORT = 6379, 3306, 27017
_REDIS_CLIENTS = {
    "redis",
    "ioredis",
    "bullmq",
    "bull",
    "bee-queue",
    "celery",
    "rq",
    "aioredis",
    "coredis",
    "django-redis",
    "redis-om",
    "arq",
    "huey",
    "dramatiq",
    "connect-redis",
    "@redis/client",
    "fastapi-cache2",
    "flask-caching",
    "channels-redis",
    "taskiq-redis",
    "rate-limit-redis",
    # cache-manager's Redis stores (tjhillard's nestjs-todos-api: CacheModule on
    # cache-manager-redis-store, given no Redis: ECONNREFUSED 127.0.0.1:6379 at start)
    "cache-manager-redis-store",
    "cache-manager-ioredis",
    "cache-manager-redis-yet",
    "@keyv/redis",
    # Fastify's plugin, ioredis beneath, connecting as it registers (blss-tico's
    # fastify-webserver lists it alone: given no Redis, its boot failed and it exited 1),
    # and its older name.
    "@fastify/redis",
    "fastify-redis",
}
_MYSQL_DRIVERS = {
    "pymysql",
    "mysqlclient",
    "aiomysql",
    "asyncmy",
    "mysql2",
    "mysql",
    "mysql-connector-python",
    "mariadb",
    "mysql-connector",
    "@mikro-orm/mysql",
    "@mikro-orm/mariadb",  # MikroORM's drivers, mysql2 beneath
    "promise-mysql",  # mysql beneath, giving promises
    # Fastify's plugin, mysql2 beneath, connecting as it registers (a1vinho's
    # Crud-FastifyAPI lists it alone: given no MariaDB, ECONNREFUSED 127.0.0.1:3306), and
    # its older name.
    "@fastify/mysql",
    "fastify-mysql",
}
# Node's MySQL drivers, and a wrapper giving one promises (promise-mysql, mysql beneath:
# UskoKruM's restapi-nodejs-express-mysql opened its database with it and was given none).
_NODE_MYSQL = {"mysql2", "mysql", "promise-mysql", "@fastify/mysql", "fastify-mysql"}
# The other SQL drivers a Node app may list: with one, an unset engine is not MySQL's.
_OTHER_NODE_DRIVERS = {
    "pg",
    "postgres",
    "pg-promise",
    "sqlite3",
    "better-sqlite3",
    "@libsql/client",
    "tedious",
    "mssql",
    "oracledb",
    "@neondatabase/serverless",
}
# A test's file, of either language: never the app's own settings.
TEST_FILES = re.compile(
    r"(?:^|/)(?:tests?|__tests__|spec)/|(?:^|/)(?:test_[^/]*|conftest)\.py$|\.(?:spec|test)\."
)
# MongoDB's clients.
_MONGO_CLIENTS = {
    "mongoose",
    "mongodb",
    # Clients wrapping the driver (melisovm's express-customer: mongojs, whose "failed to
    # connect to server [localhost:27017]" read as the service's failure, not MongoDB's).
    "mongojs",
    "monk",
    # (pikoscielniak's KoaSampleVoteApp: co-monk, monk its peer, "Cannot find module 'monk'")
    "co-monk",
    "mongoist",
    # (gengpengfei's node-express-old: mongolass, its sessions in connect-mongo)
    "mongolass",
    "connect-mongo",
    "@mikro-orm/mongodb",
    "sails-mongo",
    "@nestjs/mongoose",
    "@typegoose/typegoose",
    # Fastify's plugin, which opens the driver's client itself at registration
    # (shekharkr1's fastify-login-backend: "`url` parameter is mandatory if no client is
    # provided", read as the service's failure, not MongoDB's), and its older name.
    "@fastify/mongodb",
    "fastify-mongodb",
    "pymongo",
    "motor",
    "mongoengine",
    "beanie",
    "odmantic",
    "flask-pymongo",
    "flask-mongoengine",
    "djongo",
}
# A SQL database's clients and ORMs: an app listing one beside a MongoDB client (a
# boilerplate offering both, brocoders' NestJS one) runs on it where no compose file
# gives it MongoDB.
_SQL_CLIENTS = {
    "pg",
    "mysql2",
    "sqlite3",
    "better-sqlite3",
    "typeorm",
    "prisma",
    "@prisma/client",
    "sequelize",
    "knex",
    "drizzle-orm",
    "@mikro-orm/core",
    "sqlalchemy",
    "psycopg2",
    "psycopg2-binary",
    "psycopg",
    "asyncpg",
    "django",
}
_MONGO_IMAGES = re.compile(r"^(?:[\w.-]+/)*mongo(?:db)?(?:[:@-]|$)")
_MONGO_URL = re.compile(r"^mongodb(?:\+srv)?://", re.IGNORECASE)
_REDIS_IMAGES = re.compile(r"^(?:[\w.-]+/)*(?:redis|valkey|keydb|redis-stack[\w-]*)(?::|@|$)")
_MYSQL_IMAGES = re.compile(r"^(?:[\w.-]+/)*(?:mysql|mariadb|percona[\w-]*)(?::|@|$)")
_REDIS_SCHEMES = ("redis", "rediss", "redis+socket")
_MYSQL_SCHEME = re.compile(r"^(?:mysql|mariadb)(?:\+\w+)?$")
_URL = re.compile(r"^[a-z][a-z0-9+.-]*://", re.IGNORECASE)
# (a requirements/ folder's files too: PaskarRules' drf-orders-platform lists celery in
# requirements/base.txt, and its RabbitMQ broker was not given the preview's Redis)
_DEPENDENCY_FILES = re.compile(
    r"(?:^|/)(?:requirements[\w.-]*\.(?:txt|in)|requirements/[\w.-]+\.(?:txt|in)|"
    r"pyproject\.toml|"
    r"Pipfile|setup\.py|setup\.cfg|package\.json)$"
)
# (an INI file's too: fdjrr's belajar-fastapi reads its engine's URL from alembic.ini by
# configparser, ``mysql+pymysql://…@localhost:3306/deltamas``; no MariaDB was given)
_SOURCE = re.compile(r"\.(?:py|js|mjs|cjs|ts|mts|cts|ini)$")
_CODE_URL = re.compile(r"\b(?:rediss?|mysql|mariadb|mongodb)(?:\+\w+)?://[^\s\"'`<>]+")
# An example of one too (``ormconfig.json.example``): the build copies it to its name
# when the upload lacks that (builds.configdefaults.example_copies).
_SETTINGS_FILE = re.compile(
    r"(?:\.(?:py|js|mjs|cjs|ts|mts|cts)|ormconfig\.json)(?:\.(?:example|sample|dist|template))?$"
)
_ORM_MYSQL = re.compile(
    r"""["']?(?:type|dialect|client|engine|driver)["']?\s*[:=]\s*["'][\w.]*(?:mysql2?|mariadb)["']""",
    re.IGNORECASE,
)
# Or the settings a MySQL driver's own connect call is given, in a source importing one
# (lanzath's express-mysql-api: ``mysql.createConnection({ host: 'localhost', user:
# 'root', password: '', database: 'nodejs' })``, no engine named: "Unknown database").
_DRIVER_CONNECT = re.compile(r"\bcreate(?:Connection|Pool)\s*\(\s*\{")
_IMPORTS_MYSQL = re.compile(r"""(?:\brequire\s*\(\s*|\bfrom\s+)["']mysql2?(?:/promise)?["']""")
_ORM_FIELD = re.compile(
    r"""["']?\b(host|port|user|username|password|passwd|database|db|name)["']?\s*[:=]\s*"""
    # A conditional's other branch read (skyoun97's nestjs-url-shrortener's ormconfig.js:
    # ``database: process.env.NODE_ENV === 'test' ? 'nestjs_test_db' : 'nestjs_url_shortener'``,
    # read as none: "Unknown database"): a preview runs under no test's NODE_ENV.
    r"""(?:[^,\n?:{}]{1,80}\?\s*["'][^"'\n]*["']\s*:\s*)?"""
    r"""(?:["']([^"'\n]*)["']|(\d+)\b|`?(?:\$\{\s*)?process\.env\.([A-Z_][A-Z0-9_]*)\b)""",
    re.IGNORECASE,
)
# A settings field given a name of the module's (``database: database_name``).
_NAMED_FIELD = re.compile(
    r"""["']?\b(host|user|username|password|database|db)["']?\s*:\s*([A-Za-z_$][\w$]*)\s*(?=[,}\n])""",
    re.IGNORECASE,
)
_NOT_CONSTANTS = {"true", "false", "null", "undefined", "process"}
_ORM_NAMES = {
    "host": "MYSQL_HOST",
    "port": "MYSQL_PORT",
    "user": "MYSQL_USER",
    "username": "MYSQL_USER",
    "password": "MYSQL_PASSWORD",
    "passwd": "MYSQL_PASSWORD",
    "database": "MYSQL_DATABASE",
    "db": "MYSQL_DATABASE",
    "name": "MYSQL_DATABASE",
}
# An engine's value that names MySQL (configvars.meaning: DB_ENGINE, DB_TYPE, DB_CLIENT).
_NAMES_MYSQL = re.compile(r"(?:^|[.:_-])(?:mysql2?|mariadb)\b", re.IGNORECASE)
# A database's part (configvars.meaning) as the MYSQL_* names say it.
_PART_NAMES = {
    "host": "MYSQL_HOST",
    "port": "MYSQL_PORT",
    "user": "MYSQL_USER",
    "password": "MYSQL_PASSWORD",
    "name": "MYSQL_DATABASE",
}
_NAME_IN_TEXT = re.compile(r"""(?:^|["'\s,\[(])(@?[A-Za-z0-9][\w.@/-]*)""", re.MULTILINE)
# The variables that name a MySQL account, database, host, port (the first set wins).
_MYSQL_VARS = {
    "user": (
        "MYSQL_USER",
        "MARIADB_USER",
        "DB_USER",
        "DB_USERNAME",
        "DATABASE_USER",
        "MYSQL_USERNAME",
        "DATABASE_USERNAME",
        "TYPEORM_USERNAME",  # (TypeORM 0.2's environment settings: TYPEORM_CONNECTION …)
    ),
    "password": (
        "MYSQL_PASSWORD",
        "MARIADB_PASSWORD",
        "DB_PASSWORD",
        "DB_PASS",
        "DATABASE_PASSWORD",
        "MYSQL_PASS",
        "TYPEORM_PASSWORD",
    ),
    "database": (
        "MYSQL_DATABASE",
        "MARIADB_DATABASE",
        "DB_NAME",
        "DB_DATABASE",
        "DATABASE_NAME",
        "MYSQL_DB",
        "DATABASE_DATABASE",  # (8696's koa-app: DATABASE_HOST, DATABASE_DATABASE …)
        "TYPEORM_DATABASE",
    ),
    "host": ("MYSQL_HOST", "DB_HOST", "DATABASE_HOST", "MARIADB_HOST", "TYPEORM_HOST"),
    "port": ("MYSQL_PORT", "DB_PORT", "DATABASE_PORT", "MARIADB_PORT", "TYPEORM_PORT"),
    "root": ("MYSQL_ROOT_PASSWORD", "MARIADB_ROOT_PASSWORD"),
}


@dataclass
class RedisWanted:
    why: list[str] = field(default_factory=list)  # what says so, for the log
    hosts: set[str] = field(default_factory=lambda: {"redis", "cache"})
    ports: set[int] = field(default_factory=lambda: {REDIS_PORT})
    accounts: dict[str, str] = field(default_factory=dict)  # user ("default") -> password
    templates: dict[str, str] = field(default_factory=dict)  # name -> scheme (_take_url)
    # Variables its code gives a Redis client as its password that nothing sets: the
    # server's password, made for it, not a throwaway secret the server would refuse.
    password_variables: list[str] = field(default_factory=list)


@dataclass
class MongoWanted:
    why: list[str] = field(default_factory=list)
    alone: bool = True  # the app's one database (not beside a SQL one its code opens)
    hosts: set[str] = field(default_factory=lambda: {"mongo", "mongodb"})
    ports: set[int] = field(default_factory=lambda: {MONGO_PORT})
    accounts: dict[str, str] = field(default_factory=dict)  # user -> password
    databases: list[str] = field(default_factory=list)
    # Names the app reads its server's URL by, which the service gives: its code's reads
    # of a MongoDB URL's name nothing sets, an example's template or remote cluster.
    templates: list[str] = field(default_factory=list)
    # Names its code reads its database, user and password by, nothing sets (MONGO_DB_NAME,
    # MONGO_USER, MONGO_PASSWORD): its first database and account.
    database_variables: list[str] = field(default_factory=list)
    user_variables: list[str] = field(default_factory=list)
    password_variables: list[str] = field(default_factory=list)


@dataclass
class MysqlWanted:
    why: list[str] = field(default_factory=list)
    hosts: set[str] = field(default_factory=lambda: {"mysql", "mariadb", "db"})
    ports: set[int] = field(default_factory=lambda: {MYSQL_PORT})
    accounts: dict[str, str] = field(default_factory=dict)  # user -> password
    databases: list[str] = field(default_factory=list)
    url_variables: dict[str, str] = field(default_factory=dict)  # name -> its mysql URL
    templates: dict[str, str] = field(default_factory=dict)  # name -> scheme (_take_url)
    # Accounts its own SQL creates or names as definers (``schemasql.script_accounts``):
    # made, never given.
    script_accounts: dict[str, str] = field(default_factory=dict)  # user -> password
    # Why its table names are compared without their case (None: they are, as on Linux).
    fold_case: str | None = None
    # The time zones it names, loaded into its server (``timezones.named_time_zones``).
    time_zones: tuple[str, ...] = ()
    # The character set and collation its compose file's server runs with, if it says.
    character_set: ServerCharacterSet | None = None


class ServerCharacterSet(NamedTuple):
    """A MySQL server's ``--character-set-server`` and ``--collation-server`` (None: the
    character set's own default), as MariaDB names them, and where the app said so."""

    charset: str
    collation: str | None
    origin: str


@dataclass
class Wanted:
    redis: RedisWanted | None = None
    mysql: MysqlWanted | None = None
    mongo: MongoWanted | None = None
    hosts_taken: set[str] = field(default_factory=set)  # names of the app's own services
    configured: set[str] = field(default_factory=set)  # the variables the app is given


def _dependency_names(files: dict[str, bytes]) -> set[str]:
    names: set[str] = set()
    installed = dockerfile_requirements(files)  # (req.txt, its Dockerfile's pip install -r)
    for path, data in files.items():
        if not (_DEPENDENCY_FILES.search(path) or path in installed) or len(data) > 512_000:
            continue
        text = dependency_text(data)
        if path.endswith("package.json"):
            try:
                package = loads_bounded(text)
            except ValueError:
                continue
            for key in ("dependencies", "devDependencies", "optionalDependencies"):
                section = package.get(key) if isinstance(package, dict) else None
                if isinstance(section, dict):
                    names.update(str(name).lower() for name in section)
            continue
        names.update(m.group(1).lower().replace("_", "-") for m in _NAME_IN_TEXT.finditer(text))
    return names


def _client_carriers(files: dict[str, bytes], deps: set[str], clients: set[str]) -> dict[str, str]:
    """{a package the app lists: the client of ``clients`` it depends on}, as the app's npm
    lockfile (v1's ``requires``, v2's and v3's ``dependencies``) locks them: a wrapper of a
    client connects as the client does (Andrew-Nedelenko's koarestapi lists async-redis,
    node-redis beneath; given no Redis, its client's "error" handler threw at start)."""
    found: dict[str, str] = {}
    for path, data in files.items():
        if posixpath.basename(path) != "package-lock.json" or "node_modules/" in path:
            continue
        try:
            lock = loads_bounded(dependency_text(data))
        except ValueError:
            continue
        if not isinstance(lock, dict):
            continue
        packages, older = lock.get("packages"), lock.get("dependencies")
        for name in sorted(deps):
            if isinstance(packages, dict):  # lockfile v2, v3
                entry = packages.get(f"node_modules/{name}")
                needs = entry.get("dependencies") if isinstance(entry, dict) else None
            else:  # v1: its packages by name, what each requires
                entry = older.get(name) if isinstance(older, dict) else None
                needs = entry.get("requires") if isinstance(entry, dict) else None
            if isinstance(needs, dict) and (beneath := sorted(clients & set(needs))):
                found.setdefault(name, beneath[0])
    return found


def _compose(files: dict[str, bytes]) -> tuple[str, dict[str, dict]]:
    """The upload's compose file nearest the root, and its services with its overlays
    merged in ("" and {} without one)."""
    projects = compose_projects(files)
    return (projects[0].path, projects[0].services) if projects else ("", {})


# A server option of MySQL's character set, on its command line (``--collation-server=
# utf8mb4_unicode_ci``) or in an option file (``collation_server = utf8mb4_unicode_ci``).
_CHARSET_OPTION = re.compile(
    r"(?:^|[\s-])(character[-_]set[-_]server|collation[-_]server)\s*=\s*['\"]?(\w{1,64})",
    re.I | re.M,
)
_CHARSETS = {"utf8mb4", "utf8mb3", "utf8", "latin1", "ascii"}
# The collations of those character sets every MariaDB has: another (a MySQL 8 one left
# as it is, a typo) would keep the server from starting, and is not taken.
_COLLATION_NAME = re.compile(
    r"^(?:utf8mb4|utf8mb3|utf8|latin1|ascii)_(?:general_ci|bin|unicode_ci|unicode_520_ci|"
    r"general_nopad_ci|nopad_bin|unicode_nopad_ci|unicode_520_nopad_ci|swedish_ci)$"
)


def _server_character_set(
    name: str, service: dict, compose_path: str, files: dict[str, bytes]
) -> ServerCharacterSet | None:
    """The character set and collation the compose file's MySQL service ``name`` runs
    with, by its ``command:`` or an option file it mounts: SourceKim's
    backend-express-skeleton runs MySQL with ``--collation-server=utf8mb4_unicode_ci``,
    and one migration's tables say that collation while the next's take the server's, a
    foreign key between them refused on another (errno 150). A MySQL 8 collation is
    MariaDB's nearest (``utf8mb4_0900_ai_ci``: ``utf8mb4_unicode_ci``)."""
    command = service.get("command")
    texts = [" ".join(map(str, command)) if isinstance(command, list) else str(command or "")]
    folder = posixpath.dirname(compose_path)
    for volume in service.get("volumes") or []:
        mount = volume_mount(volume)
        if mount is None or mount[0] is None:
            continue  # (an anonymous volume: none of the upload's files)
        path = posixpath.normpath(posixpath.join(folder, mount[0]))
        mounted = [p for p in files if p == path or p.startswith(path + "/")]
        texts.extend(dependency_text(files[p]) for p in mounted if p.endswith(".cnf"))
    options: dict[str, str] = {}
    for text in texts:
        for match in _CHARSET_OPTION.finditer(text):
            options[match.group(1).lower().replace("_", "-")] = match.group(2).lower()
    collation = options.get("collation-server")
    if collation is not None:
        collation = for_mariadb(collation)  # (a MySQL 8 one: MariaDB's nearest)
        if not _COLLATION_NAME.match(collation):
            collation = None
    charset = collation.split("_")[0] if collation else options.get("character-set-server")
    if charset not in _CHARSETS or (collation is None and charset == "utf8mb4"):
        return None  # nothing said, or what the server runs with anyway
    return ServerCharacterSet(charset, collation, f"the {name} service of {compose_path}")


def _container_ports(service: dict, env: dict[str, str]) -> set[int]:
    """A compose service's ports: the container's (``mysql:3306``, from another service)
    and the one published on the host (``3307:3306``), which an app run beside the
    compose file, not in it, reaches on localhost (MikroORM's example: ``port: 3307``)."""
    ports: set[int] = set()
    for entry in service.get("ports") or []:
        if isinstance(entry, dict):
            sides = [str(entry.get("target", "")), str(entry.get("published", ""))]
        else:
            entry = interpolated(str(entry), env)  # "${REDIS_PORT:-6380}:6379"
            sides = entry.split("/")[0].split(":")[-2:]  # [host ip:]published:target
        ports.update(int(side) for side in sides if side.isdigit())
    return ports


# A development environment's own env file at the root (``.env.development``), which
# its code loads in development, as a preview runs: 8696's koa-app reads ``.env.${FEATURE_ENV}``
# (development, its start script says), its database named there alone ("Unknown database
# 'test-db'").
_DEVELOPMENT_ENV = re.compile(r"^\.?env[._-](?:development|dev|local)$|^(?:development|dev)\.env$")


def _configuration(files: dict[str, bytes], anchor: str, given: dict[str, str]) -> dict[str, str]:
    """The app's variables: an example file's below its development environment's own
    file's (:data:`_DEVELOPMENT_ENV`), below those given (.env, env option)."""
    values: dict[str, str] = {}
    example = example_env_file(files, anchor)
    if example is not None:
        values.update({k: v for k, v in dotenv_text(files[example]).items() if v})
    for path in sorted(p for p in files if _DEVELOPMENT_ENV.match(p)):
        values.update({k: v for k, v in dotenv_text(files[path]).items() if v})
    values.update({k: v for k, v in given.items() if v})
    return values


# A Redis server's URL under another name than the REDIS_URL the service sets (REDIS_URI,
# REDIS_DSN, CACHE_REDIS_URL), a hosted Redis's add-on's among them (Heroku's
# REDIS_TLS_URL, REDISCLOUD_URL, REDISTOGO_URL).
_REDIS_URL_NAME = re.compile(
    r"(?:^|_)REDIS(?:_TLS|CLOUD|TOGO|GREEN)?_(?:URL|URI|DSN)$", re.IGNORECASE
)


def _redis_url_reads(files: dict[str, bytes], config: dict[str, str]) -> list[str]:
    """The variables the app's code reads that name a Redis server's URL
    (:data:`_REDIS_URL_NAME`), other than REDIS_URL, nothing configures: each is given
    the preview's Redis. Anasothman55's FastAPI-Gym-api requires ``REDIS_URI: str`` in
    its settings, which the REDIS_URL given beside it left unset ("needed")."""
    read = set(required_types(files)) | read_variables(files)
    return sorted(
        name
        for name in read
        if _REDIS_URL_NAME.search(name) and name.upper() != "REDIS_URL" and name not in config
    )


def _host_port(host: str | None, port: str | int | None) -> tuple[str | None, int | None]:
    try:
        number = int(port) if port not in (None, "") else None
    except ValueError:
        number = None
    return (host.lower() if host else None), number


def wanted_servers(
    files: dict[str, bytes],
    anchor: str,
    given: dict[str, str],
    chosen: dict[str, str] | None = None,
) -> Wanted:
    """What the app detected from ``anchor`` expects (module doc); ``given``: the
    variables its ``.env`` files and the ``env`` option set; ``chosen``: the ``env``
    option's alone (None: all of ``given``), where a MongoDB elsewhere is the user's
    choice, while its committed ``.env``'s cluster on the internet, which no preview
    reaches, is given way to its own."""
    wanted = Wanted()
    deps = _dependency_names(files)
    compose_path, compose = _compose(files)
    config = _configuration(files, anchor, given)
    wanted.configured = set(config)
    images = {name: str(service.get("image", "")) for name, service in compose.items()}
    redis_images = {n: compose[n] for n, image in images.items() if _REDIS_IMAGES.match(image)}
    mysql_images = {n: compose[n] for n, image in images.items() if _MYSQL_IMAGES.match(image)}
    wanted.hosts_taken = set(compose) - set(redis_images) - set(mysql_images)
    for service in compose.values():  # the app's own service's environment, below the rest
        if service not in (*redis_images.values(), *mysql_images.values()):
            environment = compose_environment(service, config)
            # HOST: db, USER: root beside it: MySQL's, as the MYSQL_* names say them
            mapped = compose_database_names(environment, dict.fromkeys(mysql_images, "mysql"))
            parts = {_PART_NAMES[part]: environment[n] for n, part in mapped.items()}
            config = {**environment, **parts, **config}
    config = {k: v for k, v in config.items() if "${" not in v}  # compose interpolation
    mongo = sorted(deps & _MONGO_CLIENTS)
    if mongo and not _own_mongo(given if chosen is None else chosen, set(compose)):
        # Given beside a SQL server too (a boilerplate offering both runs on one of them,
        # and a server unused costs little); the generic URL names are MongoDB's only
        # where it is the app's one database (its sources read only then).
        alone = not deps & _SQL_CLIENTS or _opens_mongo_alone(files)
        wanted.mongo = _mongo_wanted(files, mongo[0], compose, config, given, alone=alone)
        wanted.hosts_taken -= {n for n, image in images.items() if _MONGO_IMAGES.match(image)}
    redis, mysql = RedisWanted(), MysqlWanted()
    if clients := sorted(deps & _REDIS_CLIENTS):
        redis.why.append(f"{clients[0]} in its dependencies")
    elif carriers := _client_carriers(files, deps, _REDIS_CLIENTS):
        carrier, client = next(iter(carriers.items()))
        redis.why.append(f"{carrier} in its dependencies ({client} beneath, its lockfile says)")
    for name, service in redis_images.items():
        redis.why.append(f"the {name} service of its compose file")
        redis.hosts.add(name.lower())
        redis.ports |= _container_ports(service, config)
    if drivers := sorted(deps & _MYSQL_DRIVERS):
        mysql.why.append(f"{drivers[0]} in its dependencies")
    for name, service in mysql_images.items():
        mysql.why.append(f"the {name} service of its compose file")
        mysql.hosts.add(name.lower())
        mysql.ports |= _container_ports(service, config)
        _mysql_variables(mysql, compose_environment(service, config), own=False)
        said = _server_character_set(name, service, compose_path, files)
        mysql.character_set = mysql.character_set or said
    for path, value, variable in _source_urls(files):  # code's defaults, below the configuration
        _take_url(redis, mysql, f"a URL in {path}", value, variable=None)
        if variable is not None and _MYSQL_SCHEME.match(value.split("://", 1)[0].lower()):
            # The default of a database URL the app reads by that name (a settings field,
            # DATABASE_URL: str = "mysql+aiomysql://…"): its MariaDB's, never the SQLite
            # file the service gives a DATABASE_URL otherwise.
            mysql.url_variables.setdefault(variable, value)
    if drivers and (built := _templated_mysql_url(files)) is not None:
        mysql.why.append(f"the MySQL URL {built} builds")
    if (typed := _mysql_typed(files)) is not None and "DATABASE_URL" not in config:
        # Its models use MySQL's own column types, which SQLite's compiler refuses
        # (TINYINT, a CHAR's collation): its URL is its MariaDB's, not a SQLite file's,
        # named for the driver it lists (jugeeem's fastapi-sqlalchemy-alembic-mysql: its
        # required DATABASE_URL is empty in its .env.sample, its alembic.ini's MySQL).
        mysql.why.append(f"MySQL's column types in {typed}")
        scheme = next((s for names, s in _SQLALCHEMY_MYSQL if deps & names), "mysql+pymysql")
        mysql.templates.setdefault("DATABASE_URL", scheme)
    elif (read := _unset_python_url(files, deps, config)) is not None:
        mysql.why.append(f"its {read}, unset, where its one SQL driver is MySQL's")
        scheme = next((s for names, s in _SQLALCHEMY_MYSQL if deps & names), "mysql+pymysql")
        mysql.templates.setdefault(read, scheme)
    if "celery" in deps:
        for name, where in _amqp_brokers(files, config).items():
            # Its Celery's broker is RabbitMQ (amqp://), which nothing runs here: the
            # preview's Redis, which Celery takes as a broker too, in its place
            # (wlsouza's fastapi-todolist: its / route queues a task, and answered 500 on
            # "Connection refused" from its broker's localhost:5672).
            redis.why.append(f"its Celery broker {name} (RabbitMQ's, in {where}), given Redis")
            redis.templates.setdefault(name, "redis")
    for name, value in config.items():
        if _URL.match(value):
            _take_url(redis, mysql, name, value, variable=name)
    for path, fields in _orm_settings(files, config):
        mysql.why.append(f"the MySQL settings of {path}")
        _mysql_variables(mysql, fields)
    for path, fields, engine in _json_settings(files):
        if engine == "mysql":
            mysql.why.append(f"the MySQL settings of {path}")
        _mysql_variables(mysql, fields, own=engine == "mysql")
    if any(name.startswith("REDIS_") and not _URL.match(v) for name, v in config.items()):
        redis.why.append("REDIS_* variables")
        host, port = _host_port(config.get("REDIS_HOST"), config.get("REDIS_PORT"))
        redis.hosts.add(host or "redis")
        redis.ports.add(port or REDIS_PORT)
        if config.get("REDIS_PASSWORD") and not _password_of_another(files, config):
            redis.accounts[config.get("REDIS_USERNAME") or "default"] = config["REDIS_PASSWORD"]
    if any(name.startswith(("MYSQL_", "MARIADB_")) for name in config):
        mysql.why.append("MYSQL_* variables")
    for name, value in config.items():  # DB_ENGINE=django.db.backends.mysql, DB_TYPE=mysql
        what = meaning(name)
        if what is not None and what.part == "engine" and _NAMES_MYSQL.search(value):
            mysql.why.append(f"its {name} ({value})")
    if (engine := _unset_engine(files, deps, config)) is not None:
        mysql.why.append(f"its {engine}, unset, where its one SQL driver is MySQL's")
    if (engine := _sqlite_for_a_server(files, deps, config)) is not None:
        mysql.why.append(
            f"its {engine} (SQLite's, where its code writes a server's URL with it), where its "
            "one SQL driver is MySQL's"
        )
    if not {"TYPEORM_CONNECTION", "TYPEORM_URL"} & config.keys():
        # TypeORM's createConnection() with no options, its ormconfig git-ignored: the
        # variables it then reads name the driver it lists (xeusteerapat's
        # node-typeorm-crud: mysql2, its README's ormconfig.json "type": "mysql"; no
        # MariaDB was given, and no variables: "No connection options were found").
        typeorm = typeorm_unconfigured(files, anchor) if "package.json" in files else None
        if typeorm is not None and typeorm["TYPEORM_CONNECTION"] == "mysql":
            mysql.why.append("its TypeORM's createConnection() with no options, on MySQL's driver")
    opener = _opens_mysql(files, deps) or _opens_mysql_in_python(files, deps)
    if opener is not None:
        mysql.why.append(f"{opener} connects with its MySQL driver")
        if opener.endswith(".py"):
            _mysql_variables(mysql, _python_settings(files[opener]), alone=not deps & _OTHER_SQL)
        # The database its options name in its code (``database: 'penjualan'`` beside its
        # variables' host and user: yat-to's myFastify, "Unknown database 'penjualan'"):
        # made, and the one the variables name, where nothing else names one.
        for named in _NODE_DATABASE.findall(files[opener]):
            if (database := named.decode()) not in mysql.databases:
                mysql.databases.append(database)
    _mysql_variables(mysql, config, alone=not deps & _OTHER_SQL)
    if redis.why:
        wanted.redis = redis
        for name in _redis_url_reads(files, config):
            redis.templates.setdefault(name, "redis")
        for name in _redis_password_reads(files):
            if config.get(name) and "default" not in redis.accounts:
                redis.accounts["default"] = config[name]  # its own: the server's
            elif not config.get(name):
                redis.password_variables.append(name)
        if redis.password_variables and "default" not in redis.accounts:
            # A password made for the server, which the variables then say: an empty one
            # is still sent (node-redis 3 sends AUTH "" to a server with none, refused).
            redis.accounts["default"] = secrets.token_hex(16)
    # Django's MySQL engine written in its settings brings its driver: where the app lists
    # none, Django's own "Error loading MySQLdb module" has the build add one (remedies).
    # garrettpyke's drf-blog lists only django; its migrate found no server (errno 111).
    # So does a SQLAlchemy URL of MySQL written in its Python code (``create_engine(
    # "mysql+pymysql://root@localhost:3306/cartdb")``), whose dialect names the driver the
    # build then adds: sanapalasaipraveen's fastapi-cart lists only fastapi and uvicorn.
    has_driver = (
        bool(deps & (_MYSQL_DRIVERS | _PY_MYSQL_EXTENSIONS))
        or _django_mysql(files)
        or _python_mysql_url(files)
        or _imports_mysql_driver(_python_code(files))  # unlisted: the build installs it
    )
    configured = [w for w in mysql.why if "dependencies" not in w]
    if configured and (has_driver or mysql_images):
        wanted.mysql = mysql
        mysql.fold_case = table_name_cases(files)
        mysql.time_zones = named_time_zones(files)
        for database in [*_config_databases(files), *_python_databases(files)]:
            if database not in mysql.databases:
                mysql.databases.append(database)
    for server in (wanted.redis, wanted.mysql, wanted.mongo):
        if server is not None:
            server.hosts -= {"localhost", "127.0.0.1", "::1", "0.0.0.0"}
            server.hosts -= wanted.hosts_taken
    return wanted


# A database's name as a config module of the app's writes it, beside no engine (its
# connection made elsewhere from it): ``database: { dbName: 'island', … }``.
_CONFIG_MODULE = re.compile(r"(?:^|/)(?:config|configs|settings)(?:/[^/]+|\.[cm]?[jt]s)$")
_DATABASE_KEY = re.compile(
    r"""["']?\b(?:database|db_?name|database_?name|DB_NAME|DATABASE_NAME|MYSQL_DATABASE)"""
    r"""["']?\s*:\s*["']([A-Za-z0-9_$-]{1,64})["']""",
    re.IGNORECASE,
)


def _config_databases(files: dict[str, bytes]) -> list[str]:
    """The database names the app's config modules (``config.js``, ``config/*.ts``) give
    as literals: made in its MariaDB, where its connection reads them from there
    (jackgaoyuan's node-koa2-mysql: app/config/config.js's ``dbName: 'island'``, read by
    app/core/db.js's ``new Sequelize(dbName, user, password, {dialect: 'mysql'})``:
    "Unknown database 'island'"). A few at most."""
    found: list[str] = []
    for path, data in sorted(files.items()):
        if not _CONFIG_MODULE.search(path) or not path.endswith((".js", ".cjs", ".mjs", ".ts")):
            continue
        if "node_modules/" in path or TEST_FILES.search(path) or len(data) > 256_000:
            continue
        for name in _DATABASE_KEY.findall(data.decode("utf-8", "replace")):
            if name not in found:
                found.append(name)
    return found[:4]


# A MySQL driver's connect call of the app's Python code, and the keywords naming its
# database (PyMySQL's ``db=``, mysql-connector's ``database=``).
_CONNECTS = frozenset({"connect", "Connect", "connection", "Connection"})
_DATABASE_KEYWORDS = frozenset({"db", "database", "schema"})
_DRIVER_MODULES = ("pymysql", "MySQLdb", "mysql.connector", "connector", "mariadb", "aiomysql")


def _python_databases(files: dict[str, bytes]) -> list[str]:
    """The database names the app's Python code gives its MySQL connection, where no URL
    says one: a driver's ``connect(db=…)`` given a literal, a module's string constant, or
    the parameter of the function or class wrapping it, then the literals its callers
    pass (the Coding Dojo's ``connectToMySQL('users_schema')``, whose ``MySQLConnection``
    hands ``db`` to ``pymysql.connect``: "Unknown database 'users_schema'"); and a
    SQLAlchemy URL the code joins of its own constants (harlequelrah's user-fastapi:
    ``"mysql+mysqlconnector://"+username+":"+password+"@localhost:3306/"+database``); and
    a Flask MySQL extension's ``app.config['MYSQL_DB']`` (:func:`_flask_mysql_database`). A
    few at most."""
    trees = {
        path: tree
        for path, data in sorted(files.items())
        if path.endswith(".py")
        and not TEST_FILES.search(path)
        and len(data) <= 512_000
        and (tree := parse_module(data)) is not None
    }
    constants = {
        target.id: node.value.value
        for tree in trees.values()
        for node in tree.body
        if isinstance(node, ast.Assign)
        and isinstance(node.value, ast.Constant)
        and isinstance(node.value.value, str)
        for target in node.targets
        if isinstance(target, ast.Name)
    }
    settings = _class_settings(trees.values())
    found: list[str] = []
    wrappers: dict[str, int] = {}  # a function or class handing a parameter on as the name
    for tree in trees.values():
        for scope in ast.walk(tree):
            if not isinstance(scope, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Module)):
                continue
            for value in _connect_databases(scope):
                if isinstance(value, ast.Constant) and isinstance(value.value, str):
                    found.append(value.value)
                elif isinstance(value, ast.Name) and value.id in constants:
                    found.append(constants[value.id])
                elif (key := _config_key(value)) is not None:
                    found += settings.get(key, [])
                elif isinstance(value, ast.Name) and not isinstance(scope, ast.Module):
                    names = [a.arg for a in scope.args.args]
                    if value.id in names:
                        wrappers[scope.name] = names.index(value.id)
        for node in ast.walk(tree):
            if (database := _flask_mysql_database(node, constants)) is not None:
                found.append(database)
            if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add):
                joined = _concatenated(node, constants)
                if joined is not None and _MYSQL_SCHEME.match(joined.split("://", 1)[0]):
                    database = urlsplit(joined).path.lstrip("/").split("?")[0]
                    found += [database] if database else []
    for key in sorted(_FLASK_MYSQL_KEYS):  # a config class's, for app.config.from_object
        found += settings.get(key, [])
    classes = {
        node.name: wrappers["__init__"]
        for tree in trees.values()
        for node in ast.walk(tree)
        if isinstance(node, ast.ClassDef)
        and "__init__" in wrappers
        and any(
            isinstance(f, ast.FunctionDef) and f.name == "__init__" and _connect_databases(f)
            for f in node.body
        )
    }
    callees = {**{n: i for n, i in wrappers.items() if n != "__init__"}, **classes}
    for _ in range(3):  # a function handing its parameter on to one (``connectToMySQL(db)``)
        for function in (
            f for tree in trees.values() for f in ast.walk(tree) if isinstance(f, ast.FunctionDef)
        ):
            names = [a.arg for a in function.args.args]
            for call in (n for n in ast.walk(function) if isinstance(n, ast.Call)):
                called = call.func.id if isinstance(call.func, ast.Name) else None
                at = _argument_at(called, callees, classes)
                given = call.args[at] if at is not None and at < len(call.args) else None
                if isinstance(given, ast.Name) and given.id in names and function.name != called:
                    callees.setdefault(function.name, names.index(given.id))
    for tree in trees.values():
        for call in (n for n in ast.walk(tree) if isinstance(n, ast.Call)):
            called = call.func.id if isinstance(call.func, ast.Name) else None
            at = _argument_at(called, callees, classes)
            if at is not None and at < len(call.args):
                given = call.args[at]
                if isinstance(given, ast.Constant) and isinstance(given.value, str):
                    found.append(given.value)
    names = [n for n in dict.fromkeys(found) if re.fullmatch(r"[A-Za-z0-9_$-]{1,64}", n)]
    return names[:4]


# The Flask extensions' keys naming a MySQL database: Flask-MySQLdb's, Flask-MySQL's.
_FLASK_MYSQL_KEYS = frozenset({"MYSQL_DB", "MYSQL_DATABASE_DB"})


def _class_settings(trees: Iterable[ast.Module]) -> dict[str, list[str]]:
    """The string literals classes of the app's modules give their upper-case attributes
    (a Flask config class's ``MYSQL_DB = 'gestorstock'``, loaded by
    ``app.config.from_object``), by name, in the order the modules have them."""
    found: dict[str, list[str]] = {}
    for tree in trees:
        for node in ast.walk(tree):
            if not isinstance(node, ast.ClassDef):
                continue
            for item in node.body:
                if (
                    isinstance(item, ast.Assign)
                    and isinstance(item.value, ast.Constant)
                    and isinstance(item.value.value, str)
                ):
                    for target in item.targets:
                        if isinstance(target, ast.Name) and target.id.isupper():
                            found.setdefault(target.id, []).append(item.value.value)
    return found


def _config_key(value: ast.expr) -> str | None:
    """The key of a Flask config read (``app.config['MYSQL_DB']``,
    ``app.config.get('MYSQL_DB')``) that ``value`` is; else None."""
    if isinstance(value, ast.Subscript) and isinstance(value.slice, ast.Constant):
        holder, key = value.value, value.slice.value
    elif (
        isinstance(value, ast.Call)
        and isinstance(value.func, ast.Attribute)
        and value.func.attr == "get"
        and value.args
        and isinstance(value.args[0], ast.Constant)
    ):
        holder, key = value.func.value, value.args[0].value
    else:
        return None
    return key if isinstance(key, str) and ast.unparse(holder).endswith("config") else None


def _flask_mysql_database(node: ast.AST, constants: dict[str, str]) -> str | None:
    """The database a Flask MySQL extension's key is given in the code, a literal or a
    module's constant (darmawguna's movie-flask: ``app.config['MYSQL_DB'] =
    'trpl_movies'`` for Flask-MySQLdb, "Unknown database 'trpl_movies'"); else None."""
    if not isinstance(node, ast.Assign) or len(node.targets) != 1:
        return None
    if _config_key(node.targets[0]) not in _FLASK_MYSQL_KEYS:
        return None
    if isinstance(node.value, ast.Constant) and isinstance(node.value.value, str):
        return node.value.value
    if isinstance(node.value, ast.Name):
        return constants.get(node.value.id)
    return None


def _argument_at(
    called: str | None, callees: dict[str, int], classes: dict[str, int]
) -> int | None:
    """Which positional argument of a call to ``called`` names the database (a class's
    ``__init__`` counts ``self``); None where it is no wrapper's call."""
    if called is None or called not in callees:
        return None
    at = callees[called] - (1 if called in classes else 0)
    return at if at >= 0 else None


def _connect_databases(scope: ast.AST) -> list[ast.expr]:
    """The values a MySQL driver's connect calls directly in ``scope`` (not in the
    functions it defines) give their database keyword."""
    found: list[ast.expr] = []
    for node in _own_nodes(scope):
        if not isinstance(node, ast.Call) or not isinstance(node.func, ast.Attribute):
            continue
        if node.func.attr not in _CONNECTS or not ast.unparse(node.func.value).endswith(
            _DRIVER_MODULES
        ):
            continue
        found += [k.value for k in node.keywords if k.arg in _DATABASE_KEYWORDS]
    return found


def _own_nodes(scope: ast.AST) -> Iterator[ast.AST]:
    """The nodes of ``scope``, not those of the functions and classes it defines."""
    for child in ast.iter_child_nodes(scope):
        if isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            continue
        yield child
        yield from _own_nodes(child)


def _concatenated(node: ast.expr, constants: dict[str, str]) -> str | None:
    """A ``+`` of string literals and module constants, joined; None for any other."""
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add):
        left = _concatenated(node.left, constants)
        right = _concatenated(node.right, constants)
        return left + right if left is not None and right is not None else None
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return node.value
    if isinstance(node, ast.Name):
        return constants.get(node.id)
    return None


# A table its migrations, seeders or SQL make, and the tables they name after: Sequelize's
# queryInterface calls and references, SQL's statements.
_MADE_TABLE = re.compile(
    r"""createTable\(\s*["'`](\w+)["'`]|CREATE\s+TABLE\s+(?:IF\s+NOT\s+EXISTS\s+)?[`"]?(\w+)""",
    re.IGNORECASE,
)
_NAMED_TABLE = re.compile(
    r"""(?:addColumn|removeColumn|changeColumn|renameColumn|addIndex|addConstraint|bulkInsert"""
    r"""|bulkUpdate|bulkDelete)\(\s*["'`](\w+)["'`]"""
    r"""|references\s*:\s*\{\s*model\s*:\s*["'`](\w+)["'`]"""
    r"""|(?:ALTER\s+TABLE|REFERENCES|INSERT\s+INTO)\s+[`"]?(\w+)""",
    re.IGNORECASE,
)
_MADE_BY_NAME = re.compile(r"""createTable\(\s*([A-Za-z_$][\w$]*)\s*,""")
_STRING_CONSTANT = re.compile(r"""\b(?:const|let|var)\s+([A-Za-z_$][\w$]*)\s*=\s*["'`](\w+)["'`]""")
_DATA_SOURCES = re.compile(r"(?:^|/)(?:migrations?|seeders?|seeds?)/|\.sql$", re.IGNORECASE)


# A Sequelize model: ``Model.init({…}, {sequelize, modelName: 'Province'})`` or
# ``sequelize.define('Province', {…})``; its own ``tableName``, and whether it (or the
# instance's ``define`` options) keeps the name as it is.
_MODEL_NAME = re.compile(r"""\bmodelName\s*:\s*["'`](\w+)["'`]|\.define\(\s*["'`](\w+)["'`]\s*,""")
_TABLE_NAME = re.compile(r"""\btableName\s*:\s*["'`](\w+)["'`]""")
_FROZEN = re.compile(r"\bfreezeTableName\s*:\s*true\b")


def _plural(name: str) -> str:
    """``name`` made plural as Sequelize's inflection does for a model's table (Province →
    Provinces, City → Cities, Address → Addresses); one that ends in ``s`` already is."""
    lower = name.lower()
    if lower.endswith("s") and not lower.endswith(("ss", "us")):
        return name
    if lower.endswith("y") and lower[-2:-1] not in ("a", "e", "i", "o", "u"):
        return f"{name[:-1]}ies"
    if lower.endswith(("s", "x", "z", "ch", "sh")):
        return f"{name}es"
    return f"{name}s"


def _model_tables(files: dict[str, bytes]) -> set[str]:
    """The tables the app's Sequelize models query: each model's ``tableName``, else its
    name made plural (as it is where anything freezes it). clevermacaw's
    express-marketplace-api: its migration ``createTable('provinces', …)``, its model
    ``modelName: 'Province'``: "Table 'marketplace_express.Provinces' doesn't exist" on
    Linux's MariaDB, written where MySQL compares table names without their case."""
    tables: set[str] = set()
    sources = {
        path: data
        for path, data in files.items()
        if path.endswith((".js", ".cjs", ".mjs", ".ts"))
        and "node_modules/" not in path
        and len(data) <= 512_000
        and b"sequelize" in data.lower()
    }
    frozen = any(_FROZEN.search(data.decode("utf-8", "replace")) for data in sources.values())
    for data in sources.values():
        text = data.decode("utf-8", "replace")
        if (table := _TABLE_NAME.search(text)) is not None:
            tables.add(table.group(1))
            continue
        for match in _MODEL_NAME.finditer(text):
            model = match.group(1) or match.group(2)
            tables.add(model if frozen else _plural(model))
    return tables


def table_name_cases(files: dict[str, bytes]) -> str | None:
    """Why the app's MariaDB compares table names without their case, as MySQL does on
    Windows and macOS where its migrations were written; None where they name each table
    one way. techieph's sequelize-express-node-rest-API-mysql-example: ``createTable(
    'Companies', …)``, then ``addColumn('companies', …)``: "Table … 'companies' doesn't
    exist" on Linux's MariaDB, its last migration never ran, and its routes met "Unknown
    column 'address'"."""
    made: dict[str, str] = {}
    named: set[str] = set()
    for path, data in files.items():
        if not _DATA_SOURCES.search(path) or "node_modules/" in path or len(data) > 512_000:
            continue
        text = data.decode("utf-8", "replace")
        for match in _MADE_TABLE.finditer(text):
            table = match.group(1) or match.group(2)
            made.setdefault(table.lower(), table)
        # A table named by a constant of the migration (kinothUI's calendar-api-fastify:
        # ``const tableName = "account"``, ``createTable(tableName, …)``, then
        # ``references: { model: "Account" }``: errno 150 on Linux's MariaDB).
        constants = dict(_STRING_CONSTANT.findall(text))
        for name in _MADE_BY_NAME.findall(text):
            if (table := constants.get(name)) is not None:
                made.setdefault(table.lower(), table)
        named.update(next(g for g in m.groups() if g) for m in _NAMED_TABLE.finditer(text))
    for table in sorted(named):
        first = made.get(table.lower())
        if first is not None and first != table:
            return f"its migrations name the table {first} as {table} too"
    for table in sorted(_model_tables(files)):
        first = made.get(table.lower())
        if first is not None and first != table:
            return f"its migrations make the table {first}, its models query it as {table}"
    return None


_DJANGO_MYSQL = re.compile(rb"""["']ENGINE["']\s*:\s*["']django\.db\.backends\.mysql["']""")


def _python_mysql_url(files: dict[str, bytes]) -> bool:
    """Whether the app's own Python code (not its tests, nor a line commented out) writes
    a MySQL URL whole (no template): SQLAlchemy loads its driver by the URL's dialect."""
    for path, data in files.items():
        if not path.endswith(".py") or TEST_FILES.search(path) or len(data) > 512_000:
            continue
        if b"mysql" not in data and b"mariadb" not in data:
            continue
        text = uncommented(data).decode("utf-8", "replace")
        for match in _CODE_URL.finditer(text):
            url = match.group(0)
            if _MYSQL_SCHEME.match(url.split("://", 1)[0].lower()) and "{" not in url:
                return True
    return False


def _django_mysql(files: dict[str, bytes]) -> bool:
    """Whether a Python module of the app's own (not a test's) names Django's MySQL engine
    as a literal ``'ENGINE'`` of its settings."""
    return any(
        path.endswith(".py") and not TEST_FILES.search(path) and _DJANGO_MYSQL.search(data)
        for path, data in files.items()
        if "site-packages/" not in path
    )


def _unset_engine(files: dict[str, bytes], deps: set[str], config: dict[str, str]) -> str | None:
    """An engine's variable a Node app reads (``type: process.env.DATABASE_TYPE``) that
    nothing sets, where the only SQL driver it lists is MySQL's (mysql2): that engine is
    MySQL (zubaer-developer's NestJS CRUD: given SQLite's, whose driver it has not,
    TypeORM retried "SQLite package has not been found installed" past the start's
    time); its example's fill-in for it names none (adyfp24's express-file-handling:
    ``DB_DIALECT="your_db_dialect"`` in its .env.example, given SQLite's: "Please install
    sqlite3 package manually"). None where there is no such variable."""
    if not deps & _MYSQL_DRIVERS or deps & _OTHER_NODE_DRIVERS or "package.json" not in files:
        return None
    required, read = node_env_reads(files)
    # (or its example's, read through names the code does not spell: jeiDev's
    # vehicle-entity-crud-nestjs reads ``config.get(Configuration.DB_TYPE)``, an enum's
    # member, from its .env.default's empty ``DB_TYPE=``)
    example = example_env_file(files, "package.json")
    declared = dotenv_text(files[example]) if example is not None else {}
    for name in dict.fromkeys((*required, *read, *declared)):
        what = meaning(name)
        if what is not None and what.part == "engine" and not _given(config.get(name)):
            return name
    return None


def _given(value: str | None) -> bool:
    """Whether ``value`` names something: not unset, empty nor an example's fill-in."""
    return bool(value and value.strip()) and not fill_in(value or "")


def _sqlite_for_a_server(
    files: dict[str, bytes], deps: set[str], config: dict[str, str]
) -> str | None:
    """An engine's variable its configuration gives SQLite's name (``DB_ENGINE=sqlite``)
    where the Python code writes its URL as a server's, with an account and a host
    (``configvars.server_url_engines``), which no SQLite URL has, and the only SQL driver
    it lists is MySQL's: that engine is MySQL, as :mod:`.wants` takes it for PostgreSQL's
    driver (luantien's fastapi-tour). None where there is none."""
    if not deps & (_MYSQL_DRIVERS - _NODE_MYSQL) or deps & _OTHER_PYTHON_DRIVERS:
        return None
    for name in sorted(server_url_engines(files)):
        if config.get(name, "").strip().lower().startswith("sqlite"):
            return name
    return None


def _unset_python_url(
    files: dict[str, bytes], deps: set[str], config: dict[str, str]
) -> str | None:
    """A database URL variable a Python app on SQLAlchemy reads that nothing sets, where
    the only SQL driver it lists is MySQL's (harshitsaraswat's react-fastapi-inventory-
    management: mysql-connector-python beside SQLAlchemy, ``create_engine(os.getenv(
    "DATABASE_URL"), connect_args={"ssl_disabled": …})``, no example file: given SQLite's
    URL, "'ssl_disabled' is an invalid keyword argument"); an example's fill-in is none
    (geramolinest's pospointsalesFastAPI: ``DATABASE_URI='<YOUR_DATABASE_URL_CONNECTION>'``
    beside asyncmy, no MariaDB, "Could not parse SQLAlchemy URL"). None where there is none."""
    if not deps & {"sqlalchemy", "sqlmodel", "flask-sqlalchemy"}:
        return None
    if not deps & (_MYSQL_DRIVERS - _NODE_MYSQL) or deps & _OTHER_PYTHON_DRIVERS:
        return None
    code = [d for p, d in files.items() if p.endswith(".py")]
    if not any(
        m in d for d in code for m in (b"create_engine", b"create_async_engine", b"SQLAlchemy(")
    ):
        return None
    for name in URL_VARIABLES:
        quoted = (f'"{name}"'.encode(), f"'{name}'".encode())
        if not _given(config.get(name)) and any(q in d for d in code for q in quoted):
            return name
    return None


# The app's own code opening a connection with a MySQL driver for Node:
# require("mysql2/promise") … mysql.createPool({ … }).
_MYSQL_IMPORT = re.compile(
    rb"""(?:require\(\s*|from\s+|import\s+)["']"""
    rb"""(?:mysql2?|promise-mysql|@fastify/mysql|fastify-mysql)(?:/promise)?["']"""
)
# Its pool opened: by the driver, or by Fastify's plugin as it is registered.
# (or as a name imported, LouisHyt's Express-session-Typescript: ``import { createPool }
# from 'mysql2/promise'``, ``createPool({ … })``: no MariaDB was given it)
_MYSQL_OPEN = re.compile(rb"\bcreate(?:Pool|Connection|PoolCluster)\s*\(|\.register\s*\(")
_NODE_SOURCE = re.compile(r"\.(?:js|mjs|cjs|ts|mts|cts)$")
_NOT_ITS_CODE = re.compile(
    r"(?:^|/)(?:node_modules|dist|build|tests?|__tests__)/|\.(?:spec|test)\."
)


# A MySQL driver's module imported.
_PY_MYSQL_IMPORT = re.compile(
    rb"^\s*(?:import|from)\s+(?:pymysql|MySQLdb|mysql\.connector|aiomysql|asyncmy|mariadb)\b",
    re.MULTILINE,
)
# The app's own Python code opening a connection with a MySQL driver:
# ``import pymysql`` … ``pymysql.connect(**config)`` (MySQLdb, mysql.connector, aiomysql).
_PY_MYSQL_OPEN = re.compile(
    rb"\b(?:pymysql|MySQLdb|mysql\.connector|aiomysql|asyncmy|mariadb|pooling)\s*\.\s*"
    rb"(?:pooling\s*\.\s*)?"
    rb"(?:connect|create_pool|Connect|(?:connection\.)?MySQLConnection(?:Pool)?|ConnectionPool)\s*\("
    # A Flask extension opening it from app.config's MYSQL_* (flask-mysqldb, Flask-MySQL).
    rb"|^\s*from\s+(?:flask_mysqldb|flaskext\.mysql|flask_mysql_connector)\s+import\b",
    re.MULTILINE,
)
# Those extensions, which bring a MySQL driver of their own (mysqlclient, PyMySQL).
_PY_MYSQL_EXTENSIONS = {"flask-mysqldb", "flask-mysql", "flask-mysql-connector"}
# A MySQL URL the code builds from its settings, its host among them (f"mysql://{username}:
# {password}@{host}…", "mysql+pymysql://%s:%s@%s/%s" % …, `mysql://${user}:…@${host}`): it
# connects there itself. (A template of a written host is a URL's: _source_urls.)
# Its placeholders may quote (``{DB_CONFIG['user']}``), and any part may follow in the next
# literal of an implicit concatenation: its host (jeanpi02's FastAPi-API-REST-mysqldb:
# ``f"mysql+pymysql://{DB_CONFIG['user']}:{…}@"`` then ``f"{DB_CONFIG['host']}:…"``), its
# password and "@" (Sunknown2's fastapi-appointment-api: a literal a part, a line each).
_LITERALS_JOINED = rb"""["']\s*[rRbBfF]{0,2}["']"""
_MYSQL_URL_TEMPLATE = re.compile(
    rb"""\b(?:mysql|mariadb)(?:\+\w+)?://(?:\$?\{[^{}\n]*\}|[^\s"'`<>@{$]|"""
    + _LITERALS_JOINED
    + rb""")*@(?:"""
    + _LITERALS_JOINED
    + rb""")?(?:\{|\$\{|%s|%\()"""
)
_PY_OTHER_DRIVERS = {"psycopg2", "psycopg2-binary", "psycopg", "asyncpg", "pg8000", "aiopg"}
# Another SQL server's drivers, Python's and Node's: with one, generic names (DB_PORT) may be its.
_OTHER_SQL = _PY_OTHER_DRIVERS | {"pg", "postgres", "pg-promise", "mssql", "tedious", "pyodbc"}
_PY_POSTGRES_USED = re.compile(
    rb"^\s*(?:import|from)\s+(?:psycopg2?|psycopg_pool|asyncpg|pg8000|aiopg)\b"
    rb"|\bpostgres(?:ql)?(?:\+\w+)?://",
    re.MULTILINE,
)
# Those and every other SQL driver of a Python app's (SQLite's, ODBC's, Oracle's): with one,
# an unset URL is not MySQL's (_unset_python_url).
_OTHER_PYTHON_DRIVERS = _PY_OTHER_DRIVERS | {
    "psycopg-binary",
    "aiosqlite",
    "pysqlite3",
    "pyodbc",
    "oracledb",
    "cx-oracle",
}


def lists_mysql_driver(files: dict[str, bytes]) -> bool:
    """Whether the app's dependency files list a MySQL driver (:data:`_MYSQL_DRIVERS`)."""
    return bool(_dependency_names(files) & _MYSQL_DRIVERS)


def mysql_alone_in_python(files: dict[str, bytes]) -> str | None:
    """The module of a Python app whose code opens MySQL (:func:`_opens_mysql_in_python`)
    and uses no PostgreSQL, where it lists a PostgreSQL driver too: that driver is no
    sign of a PostgreSQL of its own (``backing.wants``); None otherwise."""
    deps = _dependency_names(files)
    if not deps & _PY_OTHER_DRIVERS:
        return None
    return _opens_mysql_in_python(files, deps)


# A Node app's PostgreSQL drivers, and its code's words using PostgreSQL: Sequelize's,
# knex's and TypeORM's engine options, the driver's import, a URL.
_NODE_POSTGRES_DRIVERS = {"pg", "pg-promise", "postgres", "pg-pool"}
_NODE_MYSQL_DRIVERS = {"mysql", "mysql2"}
_NODE_POSTGRES_USED = re.compile(
    rb"""\b(?:dialect|client|type)\s*:\s*['"`](?:postgres(?:ql)?|pg)['"`]"""
    rb"""|\brequire\(\s*['"`](?:pg|pg-promise|postgres)['"`]\s*\)"""
    rb"""|\bfrom\s+['"`](?:pg|pg-promise|postgres)['"`]|\bpostgres(?:ql)?://"""
)
# sequelize-cli's own settings (``sequelize init``'s config/config.json, or .js): its
# migrations' connection, which the app's runs need not be.
_SEQUELIZE_CLI_CONFIG = re.compile(r"(?:^|/)config/config\.(?:json|js)$")


def mysql_alone_in_node(files: dict[str, bytes]) -> str | None:
    """The module of a Node app whose code opens MySQL (its ORM's or driver's MySQL
    settings: :func:`_orm_settings`) and uses no PostgreSQL, where its package.json lists
    a PostgreSQL driver beside its MySQL one: that driver is no sign of a PostgreSQL of
    its own, as :func:`mysql_alone_in_python`'s (bibekjoshi01's ExpressJs-Authentication:
    ``new Sequelize(process.env.DB_NAME, …, {dialect: "mysql"})``, pg listed too; given
    both, its DB_NAME was PostgreSQL's, "Unknown database 'app'" on its MariaDB). A
    sequelize-cli configuration's PostgreSQL is its migrations', not the app's."""
    deps = _dependency_names(files)
    if not deps & _NODE_POSTGRES_DRIVERS or not deps & _NODE_MYSQL_DRIVERS:
        return None
    code = {
        path: data
        for path, data in sorted(files.items())
        if _NODE_SOURCE.search(path) and not _NOT_ITS_CODE.search(path) and len(data) <= 256_000
    }
    if any(
        _NODE_POSTGRES_USED.search(data)
        for path, data in code.items()
        if not _SEQUELIZE_CLI_CONFIG.search(path)
    ):
        return None
    opened = (path for path, _ in _orm_settings(code, {}) if path in code)
    return next(opened, None)


def _python_code(files: dict[str, bytes]) -> dict[str, bytes]:
    """The app's own Python modules (not its tests, tools or environment's), in path order,
    none over 256 kB."""
    return {
        path: data
        for path, data in sorted(files.items())
        if path.endswith(".py") and not _NOT_ITS_CODE.search(path) and len(data) <= 256_000
    }


def _imports_mysql_driver(code: dict[str, bytes]) -> bool:
    """Whether the app's Python ``code`` (:func:`_python_code`) imports a MySQL driver."""
    return any(_PY_MYSQL_IMPORT.search(data) for data in code.values())


def _opens_mysql_in_python(files: dict[str, bytes], deps: set[str]) -> str | None:
    """The module of a Python app that opens its MySQL itself with its driver
    (``pymysql.connect(host=getenv("MYSQL_HOST"), …)``, a pool of mysql.connector's, a
    Flask extension's ``MySQL(app)``), where that is the only SQL driver it lists: its
    settings are read in code alone (k3forx's fastapi-example, whose compose
    file gives MYSQL_* to its service: uploaded without it, no MariaDB was given and its
    /health answered 500, connection refused), or that builds a MySQL URL from them
    (jin-wk's fastapi-api: ``f"mysql://{username}:…"`` from decouple's DB_*, which went
    unset). A driver its code imports and no dependency file lists counts, where no other
    SQL driver is listed (Ulises-glitch's sistema-tickets-flask lists Flask alone and opens
    ``mysql.connector.connect(host="localhost", …)``: the driver installed for its import,
    no MariaDB given, "Can't connect to MySQL server on 'localhost:3306'"). None where
    none does."""
    code = _python_code(files)
    unlisted = not deps & _PY_OTHER_DRIVERS and _imports_mysql_driver(code)
    if not deps & (_MYSQL_DRIVERS | _PY_MYSQL_EXTENSIONS) and not unlisted:
        return None
    # PostgreSQL's driver listed and never used (JiratikarnDo's Kanban-fastapi freezes
    # psycopg2-binary beside PyMySQL and builds ``mysql+pymysql://…`` alone, its compose
    # file's database mysql:8.0): the code's own MySQL says which. One its code imports,
    # or names by a URL's scheme, leaves the choice to the rest of the evidence.
    if deps & _PY_OTHER_DRIVERS and any(_PY_POSTGRES_USED.search(d) for d in code.values()):
        return None
    for path, data in code.items():
        if _PY_MYSQL_OPEN.search(data) or _MYSQL_URL_TEMPLATE.search(data):
            return path
    return None


def _python_settings(data: bytes) -> dict[str, str]:
    """The database's parts a Python module writes as its own constants (``DB_HOST =
    "…clever-cloud.com"``, ``DB_PORT = 3306``: by what their names say,
    ``configvars.meaning``), as the ``MYSQL_*`` names say them: jeanpi02's
    FastAPi-API-REST-mysqldb connects to its hosted MySQL so, which the preview's MariaDB
    then answers for ("Temporary failure in name resolution")."""
    try:
        tree = parse_source(data)
    except (SyntaxError, ValueError, RecursionError):
        return {}
    found: dict[str, str] = {}
    # And a configuration class's, the first first (btbrad's flask-shop: ``class Config:
    # MYSQL_DATABASE = 'flask_shop'``, its URL an f-string of them; its MariaDB had no
    # flask_shop: "Unknown database").
    classes = [n for n in tree.body if isinstance(n, ast.ClassDef)]
    for node in [*tree.body, *(s for c in classes for s in c.body)]:
        if not (isinstance(node, ast.Assign) and len(node.targets) == 1):
            continue
        target, value = node.targets[0], node.value
        if not (isinstance(target, ast.Name) and isinstance(value, ast.Constant)):
            continue
        if isinstance(value.value, bool) or not isinstance(value.value, str | int):
            continue
        what = meaning(target.id)
        if what is not None and what.kind == DATABASE and what.part in _PART_NAMES:
            found.setdefault(_PART_NAMES[what.part], str(value.value))
    return found


# A Node MySQL client's options naming its database as a literal (not a variable's).
_NODE_DATABASE = re.compile(rb"""\bdatabase\s*:\s*['"]([\w$-]{1,64})['"]""")


def _opens_mysql(files: dict[str, bytes], deps: set[str]) -> str | None:
    """The module of a Node app that opens its database with its MySQL driver itself
    (``mysql2``'s ``createPool``), where that is the only SQL driver it lists: its
    settings then are plain variables (``host: ENV.DB_HOST``) that may say nothing
    (shazzad-hosen's express-mysql-auth-api leaves every DB_* of its example empty: no
    MariaDB was given it, ECONNREFUSED 127.0.0.1:3306). None where none does."""
    if not deps & _NODE_MYSQL or deps & _OTHER_NODE_DRIVERS or "package.json" not in files:
        return None
    for path, data in sorted(files.items()):
        if not _NODE_SOURCE.search(path) or _NOT_ITS_CODE.search(path) or len(data) > 256_000:
            continue
        if _MYSQL_IMPORT.search(data) and _MYSQL_OPEN.search(data):
            return path
        if _MYSQL_URL_TEMPLATE.search(data):
            return path
    return None


# The app's code opening MongoDB (Nest's module, mongoose's, the driver's client, a URL),
# and opening a SQL database (an ORM's module or connection, a driver's pool, an engine).
_OPENS_MONGO = re.compile(
    rb"MongooseModule\.forRoot|TypegooseModule\.forRoot|\bmongoose\.connect\("
    rb"|\bMongoClient\(|MongoClient\.connect\(|\bconnect\(\s*['\"`]mongodb|['\"`]mongodb(?:\+srv)?://"
)
_OPENS_SQL = re.compile(
    rb"(?:TypeOrm|Sequelize|MikroOrm|Prisma|Knex|Drizzle)Module\.forRoot|\bnew\s+DataSource\("
    rb"|\bnew\s+Sequelize\(|\bnew\s+PrismaClient\(|\bknex\(\s*\{|\bdrizzle\("
    rb"|\bnew\s+(?:pg\.)?(?:Pool|Client)\(|\bcreate(?:Pool|Connection)\(\s*\{|\bcreate_(?:async_)?engine\("
    rb"|\bDATABASES\s*=|\bSQLAlchemy\(|['\"`](?:postgres(?:ql)?|mysql|mariadb|sqlite)(?:\+\w+)?://"
    rb"|\b(?:psycopg2?|asyncpg|pymysql|MySQLdb|aiomysql|sqlite3|aiosqlite|connector)"
    rb"\.(?:connect|create_pool)\("
)


# TypeORM's connection made to MongoDB: its type in code or in its configuration files
# (``"type": "mongodb"`` in ormconfig.json, ``TYPEORM_CONNECTION=mongodb``); and its other
# types, for a SQL database.
_TYPEORM_TYPE = re.compile(
    rb"""["']?\btype["']?\s*:\s*["'`](mongodb|postgres|mysql|mariadb|sqlite|better-sqlite3"""
    rb"""|mssql|oracle|cockroachdb)["'`]|\bTYPEORM_CONNECTION\s*=\s*["']?(mongodb|\w+)"""
)
_TYPEORM_CONFIGS = ("ormconfig.json", "ormconfig.js", "ormconfig.ts", "ormconfig.yml", ".env")
# TypeORM's own openers, of the SQL ones (:data:`_OPENS_SQL`).
_TYPEORM_OPENS = re.compile(rb"TypeOrmModule\.forRoot|\bnew\s+DataSource\(")


def _opens_mongo_alone(files: dict[str, bytes]) -> bool:
    """Whether the app's own code opens MongoDB and no SQL database: then a SQL client
    it lists beside its MongoDB one is unused (ermal-abiti's nest-inventory-api lists
    typeorm and opens ``MongooseModule.forRoot('mongodb://localhost:27017/…')`` alone:
    taken for a SQL app, it was started thrice and never answered, its MongoDB unsaid).
    TypeORM opens MongoDB where its connection's types are ``mongodb`` alone
    (shahqaan's nestjs-prototype: ``TypeOrmModule.forRoot()`` and ormconfig.json's
    ``"type": "mongodb"``; retried for 135 s against a MongoDB never there)."""
    code = [data for _, data in _own_code(files)]
    configured = [files.get(name, b"") for name in _TYPEORM_CONFIGS]
    types = {t for d in (*code, *configured) for m in _TYPEORM_TYPE.finditer(d) for t in m.groups()}
    if types - {None} == {b"mongodb"}:  # TypeORM's openers open MongoDB
        code = [_TYPEORM_OPENS.sub(b"", d) for d in code]
        return not any(_OPENS_SQL.search(d) for d in code)
    return any(_OPENS_MONGO.search(d) for d in code) and not any(_OPENS_SQL.search(d) for d in code)


def _own_code(files: dict[str, bytes]) -> Iterator[tuple[str, bytes]]:
    """The app's own Node and Python modules (not its tests, dependencies or builds), in
    order, each of a size worth reading."""
    for path, data in sorted(files.items()):
        code = _NODE_SOURCE.search(path) or path.endswith(".py")
        if code and not _NOT_ITS_CODE.search(path) and len(data) <= 256_000:
            yield path, data


def _own_mongo(given: dict[str, str], services: set[str]) -> bool:
    """A MongoDB URL given (the ``env`` option, a ``.env``) naming a server elsewhere
    than beside the app (not localhost, not a service of its compose file)."""
    for value in given.values():
        if _MONGO_URL.match(value):
            try:  # a template's "[HOST]" is no IPv6 address: urlsplit refuses it
                host = (urlsplit(value.split(",")[0]).hostname or "").lower()
            except ValueError:
                continue
            if host and host not in {"localhost", "127.0.0.1", "::1", "0.0.0.0", *services}:
                return True
    return False


# A variable naming a MongoDB server's URL (MONGO_URI, MONGODB_CONNECTION_STRING, DB_URL);
# the generic ones only where the app has no SQL client. And its database's name.
_MONGO_URL_NAME = re.compile(
    r"MONGO\w*(?:URI|URL|DSN|CONN\w*|STRING|SERVER)$|^MONGO(?:DB)?$", re.IGNORECASE
)
_GENERIC_URL_NAME = re.compile(
    r"(?:^|_)(?:DB|DATABASE)_?(?:URI|URL|CONN\w*|STRING)$|^(?:CONNECTION_STRING|MONGO_?DB_?URI)$",
    re.IGNORECASE,
)
_MONGO_DATABASE_NAME = re.compile(r"^MONGO(?:DB)?_(?:DB|DATABASE|DB_?NAME|DATABASE_NAME)$", re.I)
_MONGO_USER_NAME = re.compile(r"^MONGO(?:DB)?_(?:INITDB_ROOT_)?USER(?:NAME)?$", re.I)
_MONGO_PASSWORD_NAME = re.compile(r"^MONGO(?:DB)?_(?:INITDB_ROOT_)?PASS(?:WORD)?$", re.I)
_LOCAL_HOSTS = frozenset({None, "localhost", "127.0.0.1", "::1", "0.0.0.0"})
_MONGO_HOST_NAME = re.compile(r"^MONGO(?:DB)?_(?:\w+_)?HOST(?:NAME)?$", re.IGNORECASE)
_HOST_NAME_VALUE = re.compile(r"^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$")  # one label
_MONGO_ACCOUNTS = (
    ("MONGO_INITDB_ROOT_USERNAME", "MONGO_INITDB_ROOT_PASSWORD"),
    ("MONGO_USERNAME", "MONGO_PASSWORD"),
    ("MONGO_USER", "MONGO_PASSWORD"),
    ("MONGODB_USERNAME", "MONGODB_PASSWORD"),
    ("MONGODB_USER", "MONGODB_PASSWORD"),
    ("ME_CONFIG_MONGODB_ADMINUSERNAME", "ME_CONFIG_MONGODB_ADMINPASSWORD"),
)


def _mongo_wanted(
    files: dict[str, bytes],
    client: str,
    compose: dict[str, dict],
    config: dict[str, str],
    given: dict[str, str],
    *,
    alone: bool,
) -> MongoWanted:
    """A MongoDB server's names, accounts and databases, as its compose service, its
    configuration's URLs (an example's too) and its code's URLs and reads say them;
    ``alone``: it is the app's one database (``DATABASE_URL`` names it)."""
    mongo = MongoWanted(why=[f"{client} in its dependencies"], alone=alone)
    for name, service in compose.items():
        if not _MONGO_IMAGES.match(str(service.get("image", ""))):
            continue
        mongo.why.append(f"the {name} service of its compose file")
        mongo.hosts.add(name.lower())
        mongo.ports |= _container_ports(service, config)
        environment = compose_environment(service, config)
        if database := environment.get("MONGO_INITDB_DATABASE"):
            mongo.databases.append(database)
        _mongo_account(mongo, environment)
    _mongo_account(mongo, config)
    for written in _written_mongo_accounts(files):  # (a nodemon env in a gulpfile …)
        _mongo_account(mongo, written)
    for name, value in config.items():  # MONGO_HOST=database (DB_HOST, its one database's)
        if _MONGO_HOST_NAME.match(name) or (alone and name.upper() == "DB_HOST"):
            host, _ = _host_port(value.strip(), None)
            if host and _HOST_NAME_VALUE.match(host):
                mongo.hosts.add(host)
    urls = [(name, value) for name, value in config.items()]
    urls += [(variable, value) for _, value, variable in _source_urls(files)]
    for name, value in urls:
        value = value.strip()
        if not _MONGO_URL.match(value):
            continue
        try:
            parts = urlsplit(value.split(",")[0])
            host, port = _host_port(parts.hostname, parts.port)
        except ValueError:
            parts, host, port = None, None, None
        # Its author's cluster (mongodb+srv://…mongodb.net, an address of theirs) or a
        # form to fill in, where the app's own .env does not give it: its server instead.
        elsewhere = parts is None or parts.scheme.endswith("+srv") or "." in (host or "")
        if template_url(value) or (elsewhere and host not in _LOCAL_HOSTS):
            if name and name not in mongo.templates:
                mongo.templates.append(name)
        elif parts is not None:
            mongo.hosts.add(host or "localhost")
            mongo.ports.add(port or MONGO_PORT)
            if parts.username and parts.password:
                mongo.accounts.setdefault(unquote(parts.username), unquote(parts.password))
        database = unquote(parts.path.lstrip("/").split("/")[0]) if parts is not None else ""
        if database and database not in mongo.databases and not fill_in(database):
            mongo.databases.append(database)
    read = set(required_types(files)) | read_variables(files) | _node_reads(files)
    connected = _mongo_connect_reads(files)
    # (a name its .env leaves empty is a form to fill in: ``DB_URL=``)
    for name in sorted((read | connected) - {n for n, value in given.items() if value.strip()}):
        if (
            _MONGO_URL_NAME.search(name)
            or (alone and _GENERIC_URL_NAME.search(name))
            or (name in connected and (alone or not _GENERIC_URL_NAME.search(name)))
        ):
            if name not in mongo.templates and not _MONGO_URL.match(config.get(name, "")):
                mongo.templates.append(name)
        elif _MONGO_DATABASE_NAME.match(name):
            mongo.database_variables.append(name)
        elif _MONGO_USER_NAME.match(name):
            mongo.user_variables.append(name)
        elif _MONGO_PASSWORD_NAME.match(name):
            mongo.password_variables.append(name)
    if (mongo.user_variables or mongo.password_variables) and not mongo.accounts:
        # Its code logs in with variables nothing sets: an account made for it, which
        # they then say (a stand-in user would be one the server does not know).
        mongo.accounts["preview"] = secrets.token_hex(12)
    return mongo


# A call that opens MongoDB, or its URL's option (a helper's ``connectDB(…)`` among them),
# and what it is given up to its closing parenthesis or its line's end.
_MONGO_CONNECT = re.compile(
    rb"(?:\b\w*[Cc]onnect\w*|\bMongoClient|\bAsyncIOMotorClient|\bAsyncMongoClient"
    rb"|\bforRoot|\bmongoUrl\s*:|\buri\s*:)\s*\(?([^)\n]{1,300})"
)
_ENV_READ = re.compile(
    rb"""process\.env\.([A-Za-z_]\w*)|process\.env\[\s*["'`](\w+)["'`]"""
    rb"""|os\.environ(?:\.get\(|\[)\s*["'](\w+)["']|os\.getenv\(\s*["'](\w+)["']"""
)
_IDENTIFIER = re.compile(rb"(?<![\w$.])([A-Za-z_$][\w$]*)(?![\w$(])")
# A name for another server's URL, given to a connect call of its own, or for no URL (a
# condition's NODE_ENV, a password its URL is completed with).
_ANOTHER_SERVERS = re.compile(
    r"REDIS|CACHE|AMQP|RABBIT|KAFKA|BROKER|ELASTIC|POSTGRES|\bPG|MYSQL|MARIA|SQL|SMTP|MAIL"
    r"|S3|REDIRECT|CALLBACK|CLIENT|FRONTEND|ORIGIN|SOCKET|WS_"
    r"|ENV$|PASS|USER|PORT$|HOST$|NAME$|SECRET|KEY$|TOKEN",
    re.IGNORECASE,
)
_NAMES_MONGO = re.compile(rb"mongo", re.IGNORECASE)


def _mongo_connect_reads(files: dict[str, bytes]) -> set[str]:
    """The variables the app's code hands MongoDB's connect calls, read there or into a
    name given there: ``connectDB(process.env.MOGO_URL)`` and ``MongoStore.create({
    mongoUrl: process.env.MOGO_URL })`` (pingwin29's TestExpress), ``const DB =
    process.env.DATABASE.replace('<PASSWORD>', …)`` then ``mongoose.connect(DB)``
    (cristianromano's MongoExpressNodeProject), ``const uri = dev ? process.env.DEV_URI :
    process.env.PROD_URI`` (Archit404Error's TsoaExpressStarter): by their use, whatever
    their names, but another server's."""
    found: set[str] = set()
    own = [data for _, data in _own_code(files)]
    for data in own:
        if not _NAMES_MONGO.search(data):
            continue
        for call in _MONGO_CONNECT.finditer(data):
            given = call.group(1)
            reads = [next(g for g in m.groups() if g) for m in _ENV_READ.finditer(given)]
            for name in {m.group(1) for m in _IDENTIFIER.finditer(given)}:
                # Its module's binding of that name, else another's it imports it from
                # (ZIHAD22's mongooseExpressTswEsLint: config/index.ts's ``const
                # database_url = process.env.SERVER_URL``, server.ts's
                # ``mongoose.connect(database_url as string)``), or a config object's.
                value = next(
                    (v for module in (data, *own) if (v := _bound_to(name, module)) is not None),
                    b"",
                )
                reads += [next(g for g in m.groups() if g) for m in _ENV_READ.finditer(value)]
            found |= {n.decode() for n in reads if not _ANOTHER_SERVERS.search(n.decode())}
    return found


def _bound_to(name: bytes, module: bytes) -> bytes | None:
    """What ``module`` binds ``name`` to (``const name = …``, ``name = …``), else the value
    of a property of that name (``{ name: process.env.X }``); None where it binds none."""
    assigned = re.search(
        rb"(?:\b(?:const|let|var)\s+|^[ \t]*)" + re.escape(name) + rb"\s*=(?!=)([^;]{1,400})",
        module,
        re.MULTILINE,
    )
    if assigned is None:
        assigned = re.search(
            rb"(?:^|[{,\s])" + re.escape(name) + rb"\s*:\s*([^,\n}]{1,400})", module
        )
    return assigned.group(1) if assigned is not None else None


# A MongoDB account's variable given a literal in the app's own code (a gulpfile's nodemon
# ``env: { MONGO_USER: 'user', MONGO_PASSWORD: 'password' }``, a config object).
_WRITTEN_MONGO_VARIABLE = re.compile(
    rb"""\b(MONGO(?:DB)?_(?:INITDB_ROOT_)?(?:USER(?:NAME)?|PASS(?:WORD)?))["']?\s*[:=]\s*"""
    rb"""["'`]([^"'`$\s]{1,128})["'`]"""
)


def _written_mongo_accounts(files: dict[str, bytes]) -> list[dict[str, str]]:
    """The MongoDB account variables each of the app's own modules writes as literals,
    a module's as one mapping (craigmiller160's ExpressGraphQL: its gulpfile runs nodemon
    with ``MONGO_USER: 'user'``, ``MONGO_PASSWORD: 'password'``, which its server then
    logs in with: "auth_fn exception", an account its MongoDB did not know)."""
    found = []
    for _, data in _own_code(files):
        written = {
            name.decode().upper(): value.decode("utf-8", "replace")
            for name, value in _WRITTEN_MONGO_VARIABLE.findall(data)
        }
        if written:
            found.append({_ACCOUNT_SPELLING.get(k, k): v for k, v in written.items()})
    return found


# (each spelling of a user's and a password's variable as _MONGO_ACCOUNTS pairs them)
_ACCOUNT_SPELLING = {"MONGO_PASS": "MONGO_PASSWORD", "MONGODB_PASS": "MONGODB_PASSWORD"}


def _node_reads(files: dict[str, bytes]) -> set[str]:
    if not any(posixpath.basename(path) == "package.json" for path in files):
        return set()
    required, read = node_env_reads(files)
    return {*required, *read}


def _mongo_account(mongo: MongoWanted, values: dict[str, str]) -> None:
    for user_name, password_name in _MONGO_ACCOUNTS:
        # (a compose file's ``example`` is its password, not a form: the server takes it)
        if (user := values.get(user_name)) and (password := values.get(password_name)):
            mongo.accounts.setdefault(user, password)


def _source_urls(files: dict[str, bytes]) -> list[tuple[str, str, str | None]]:
    """Redis and MySQL URLs written in the app's code (a settings class's defaults,
    ``createClient({url: "redis://localhost:6379"})``), but templates (``${host}``); each
    with the database URL variable (``DATABASE_URL``, :data:`URL_VARIABLES`) its line
    gives it the default of, if any (:func:`_url_variable`)."""
    found = []
    for path, data in sorted(files.items()):
        if not _SOURCE.search(path) or "node_modules/" in path or len(data) > 512_000:
            continue
        text = data.decode("utf-8", "replace")
        if path.endswith(".py") and "://" in text:
            text = _CONCATENATED.sub(_joined, text)
        for match in _CODE_URL.finditer(text):
            url = match.group(0)
            if "{" in url and path.endswith(".py"):
                url = _with_constants(url, text)
            url = _ACCOUNT_PLACES.sub("://", url.rstrip(".,;:)]}"))
            if "{" not in url and "%s" not in url:
                # (its statement may begin a few lines above: a call's arguments, one a line)
                start = match.start()
                for _ in range(3):
                    start = max(text.rfind("\n", 0, start - 1), 0)
                found.append((path, url, _url_variable(text[start : match.start()])))
    return found[:50]


def _templated_mysql_url(files: dict[str, bytes]) -> str | None:
    """The first of the app's sources (not its tests) that builds a MySQL URL from parts
    it fills in (``f"mysql+asyncmy://{self.tmp_db}"``, ``${user}``, ``%s``), which
    :func:`_source_urls` leaves out: miffi-oxo's movie-review API builds its URL from
    DB_USER, DB_HOST … in a settings property; no MariaDB was given, and asyncmy found
    none at localhost:3306."""
    for path, data in sorted(files.items()):
        if not _SOURCE.search(path) or "node_modules/" in path or TEST_FILES.search(path):
            continue
        if len(data) > 512_000 or (b"mysql" not in data and b"mariadb" not in data):
            continue
        text = data.decode("utf-8", "replace")
        if path.endswith(".py"):
            text = _CONCATENATED.sub(_joined, uncommented(data).decode("utf-8", "replace"))
        for match in _CODE_URL.finditer(text):
            url = match.group(0)
            scheme = url.split("://", 1)[0].lower()
            # (a server's: an account before a host, or one placeholder for them all)
            server = "@" in url or re.fullmatch(r"[\w+.-]+://\{[^{}]+\}/?", url)
            if _MYSQL_SCHEME.match(scheme) and ("{" in url or "%s" in url) and server:
                return path
    return None


# A URL's literal pieces joined around what the code puts between them, on one line
# (RamiroPintos' Flask-EventPage: ``'mysql+pymysql://' + os.getenv('DB_CONNECTION') +
# '@localhost/mydb'``): a template of it, ``mysql+pymysql://{…}@localhost/mydb``.
_CONCATENATED = re.compile(r"""(["'])\s*\+\s*([^\n]+?)\s*\+\s*\1""")
# An account the code fills in, before a host and database it writes: the URL without it
# says which server and database (MariaDB's "Unknown database 'mydb'" where none was made).
_ACCOUNT_PLACES = re.compile(r"://[^@/\s{}]*\{[^@/\s]*@(?=[^{}]*$)")


def _joined(match: re.Match[str]) -> str:
    """The place of what a concatenation puts between two literals of a URL's line."""
    return "{}" if "://" in match.string[: match.start()].rsplit("\n", 1)[-1] else match[0]


# ``DATABASE_URL: str = …`` (a settings field, which its class reads from the variable of
# its name), ``DATABASE_URL = os.getenv("DATABASE_URL", …``, ``getenv("DB_URL", …``.
_ASSIGNED = re.compile(r"^\s*(?:self\.)?(\w+)\s*(?::[^=\n]+)?=(?!=)", re.MULTILINE)
_READ = re.compile(r"""(?:getenv|environ\.get|config|env)\(\s*["'](\w+)["']\s*,""")


# Models importing MySQL's own types (``from sqlalchemy.dialects.mysql import TINYINT``).
_MYSQL_TYPES = re.compile(rb"^\s*from\s+sqlalchemy\.dialects\.mysql\s+import\b", re.MULTILINE)
# SQLAlchemy's scheme for each MySQL driver, the async ones first (an app listing both
# uses the async one: its engine refuses a sync driver), then PyMySQL, which the build
# also offers for mysqlclient where mysqlclient cannot be built.
_SQLALCHEMY_MYSQL = (
    ({"aiomysql"}, "mysql+aiomysql"),
    ({"asyncmy"}, "mysql+asyncmy"),
    ({"pymysql"}, "mysql+pymysql"),
    ({"mysql-connector-python"}, "mysql+mysqlconnector"),
)


def _mysql_typed(files: dict[str, bytes]) -> str | None:
    """The first module of the app whose models use MySQL's own column types."""
    for path, data in sorted(files.items()):
        if path.endswith(".py") and len(data) <= 512_000 and _MYSQL_TYPES.search(data):
            return path
    return None


_AMQP_URL = re.compile(r"""\bamqps?://[^\s"'`<>]*""")
# The variable a line of code gives an AMQP URL's default to (BROKER_URI: str = "amqp://…",
# os.getenv("CELERY_BROKER_URL", "amqp://…")).
_BROKER_NAME = re.compile(r"(BROKER\w*|\w*BROKER(?:_URL|_URI)?)", re.IGNORECASE)


def _amqp_brokers(files: dict[str, bytes], config: dict[str, str]) -> dict[str, str]:
    """``{variable: where}`` of the RabbitMQ broker URLs the app's Celery reads: an
    ``amqp://`` value of its configuration, or the default in code of a variable named
    for a broker; a value of its own configuration that is no AMQP URL leaves it be."""
    found = {name: "its configuration" for name, v in config.items() if _AMQP_URL.match(v)}
    for path, data in sorted(files.items()):
        if not path.endswith(".py") or len(data) > 512_000 or b"amqp" not in data:
            continue
        text = data.decode("utf-8", "replace")
        for match in _AMQP_URL.finditer(text):
            line = text[text.rfind("\n", 0, match.start()) + 1 : match.start()]
            named = [m.group(1) for m in _BROKER_NAME.finditer(line)]
            if named and named[-1] not in config:
                found.setdefault(named[-1], path)
    return found


def _url_variable(before: str) -> str | None:
    """The database URL variable a code line's URL is the default of (its text up to
    the URL, ``before``): the settings field or name it is assigned to, else the variable
    read; only a name the service would fill (:data:`URL_VARIABLES`)."""
    for pattern in (_ASSIGNED, _READ):
        named = [m.group(1) for m in pattern.finditer(before)]
        if named and named[-1] in URL_VARIABLES:  # the nearest above the URL
            return named[-1]
    return None


_PLACE = re.compile(r"\{(\w+)\}")


def _with_constants(url: str, text: str) -> str:
    """A Python f-string's URL with each ``{NAME}`` the module's own string constant
    (``DB_NAME: str = "book_db"`` beside ``f"mysql://root:data@localhost:3306/{DB_NAME}"``,
    WannaCry081's Bookstore-Flask-API: no MariaDB was given it); as it was where one is
    not a constant of the module."""

    def constant(match: re.Match[str]) -> str:
        assigned = re.search(
            rf"^{re.escape(match.group(1))}\s*(?::\s*\w+\s*)?=\s*[\"']([\w.-]+)[\"']\s*$",
            text,
            re.MULTILINE,
        )
        return assigned.group(1) if assigned else match.group(0)

    return _PLACE.sub(constant, url)


def _orm_settings(
    files: dict[str, bytes], config: dict[str, str]
) -> list[tuple[str, dict[str, str]]]:
    """MySQL settings written in code or JSON: TypeORM's ``ormconfig.json`` (``"type":
    "mysql"``), Sequelize's ``dialect: "mysql"``, knex's ``client: "mysql2"``, Django's
    ``ENGINE``, a MySQL driver's ``createConnection({…})``: the host, port, user, password
    and database beside them, as ``MYSQL_*`` variables would say them. Each a literal, or
    the variable of ``config`` it reads (``password: `${process.env.MYSQL_PASSWORD}```);
    one naming a variable not given is left out, so that it says nothing (an account's
    password read as empty was set so)."""
    found = []
    for path, data in sorted(files.items()):
        if not _SETTINGS_FILE.search(path) or "node_modules/" in path or len(data) > 256_000:
            continue
        text = data.decode("utf-8", "replace")
        matches = list(_ORM_MYSQL.finditer(text))[:8]
        connect = _DRIVER_CONNECT.search(text) if _IMPORTS_MYSQL.search(text) else None
        if matches:
            windows = [_enclosing_object(text, m.start(), m.end()) for m in matches]
        elif connect is not None:  # from within its object: the brace the call opens
            windows = [_enclosing_object(text, connect.end(), connect.end())]
        else:
            continue
        settings = [_window_fields(text, w, config, bool(matches)) for w in windows]
        first = next((fields for fields in settings if fields), {})
        if not first and path.endswith(".py"):  # its settings as constants of its own
            first = _python_settings(data)
        if matches or first:  # (a driver's call of values read otherwise: none)
            found.append((path, first))
        # The others' databases too, their accounts not (a branch's of another NODE_ENV:
        # cotcac's sequelize-express-boilerplate opens ``new Sequelize('company1', 'root',
        # …)`` below a production branch of variables not given, which alone was read;
        # its MariaDB had no company1: "Unknown database").
        for fields in settings:
            database = fields.get("MYSQL_DATABASE")
            if fields is not first and database and database != first.get("MYSQL_DATABASE"):
                found.append((path, {"MYSQL_DATABASE": database}))
    return found[:5]


def _window_fields(text: str, window: str, config: dict[str, str], engine: bool) -> dict[str, str]:
    """The ``MYSQL_*`` fields one settings object (``window``) of ``text`` gives; with
    the positional database, user and password of a Sequelize call it is the options of
    (``engine``: the object names the engine)."""
    fields: dict[str, str] = {}
    for key, quoted, number, variable in _ORM_FIELD.findall(window):
        value = config.get(variable) if variable else quoted or number
        if value is not None and (key.lower() != "name" or key == "NAME"):  # Django's
            fields.setdefault(_ORM_NAMES[key.lower()], value)
    # A constant of the module's own (ilhammrg's simple-expressjs-mysql: ``const
    # database_name = "data_test"`` then ``database: database_name``; its MariaDB had no
    # such database, "ER_BAD_DB_ERROR").
    for key, name in _NAMED_FIELD.findall(window):
        bound = re.search(
            rf"""\b(?:const|let|var)\s+{re.escape(name)}\s*=\s*(["'])([^"'\n]*)\1""", text
        )
        if bound is not None and name not in _NOT_CONSTANTS:
            fields.setdefault(_ORM_NAMES[key.lower()], bound.group(2))
    if engine:
        fields = {**_sequelize_positional(text, window, config), **fields}
    return fields


# ``new Sequelize('test_seq', 'root', null, {`` : the database, user and password given
# before the options object, each a literal, null or a variable read; a comment may follow
# each (``"orbil_orm" /* Nombre de la base de datos */,``).
_COMMENT = r"""(?:/\*(?:[^*]|\*(?!/))*\*/|//[^\n]*)"""
_GAP = rf"""(?:\s|{_COMMENT})*"""
_SEQUELIZE_ARGUMENTS = re.compile(
    rf"""\bnew\s+Sequelize\s*\(((?:{_GAP}(?:["'][^"'\n]*["']|null|undefined|"""
    rf"""process\.env\.[A-Za-z_]\w*){_GAP},){{1,3}}){_GAP}\{{"""
)
_ARGUMENT = re.compile(r"""["']([^"'\n]*)["']|(null|undefined)|process\.env\.([A-Za-z_]\w*)""")


def _sequelize_positional(text: str, window: str, config: dict[str, str]) -> dict[str, str]:
    """The database, user and password a ``new Sequelize(database, user, password, {…})``
    gives before its options, where those options are ``window`` (learn-koa-sequelize of
    bossbossk20: ``new Sequelize('test_seq', 'root', null, {dialect: 'mysql', …})``; its
    MariaDB had no ``test_seq``): as ``MYSQL_*`` variables would say them, a variable read
    that is not given left out."""
    for call in _SEQUELIZE_ARGUMENTS.finditer(text):
        if not window.startswith(text[call.end() - 1 : call.end() + 40]):
            continue
        names = ("MYSQL_DATABASE", "MYSQL_USER", "MYSQL_PASSWORD")
        found: dict[str, str] = {}
        for name, (quoted, empty, variable) in zip(
            names, _ARGUMENT.findall(re.sub(_COMMENT, " ", call.group(1))), strict=False
        ):
            value = config.get(variable) if variable else "" if empty else quoted
            if value is not None:
                found[name] = value
        return found
    return _sequelize_members(text) or _sequelize_constants(text)


# ``new Sequelize(db.NAME, db.USERNAME, db.PASSWORD, db.options)``: each a key of one
# object the module binds to a literal (``const db = { NAME: "schedule_app", … }``).
_SEQUELIZE_MEMBERS = re.compile(
    r"\bnew\s+Sequelize\s*\(\s*([A-Za-z_$][\w$]*)\.(\w+)\s*,\s*\1\.(\w+)\s*,\s*\1\.(\w+)\s*[,)]"
)


# ``new Sequelize(DB_NAME, DB_USER, DB_PASS, DB_CONFIG)``: each a constant of the module.
_SEQUELIZE_NAMES = re.compile(
    r"\bnew\s+Sequelize\s*\(\s*([A-Za-z_$][\w$]*)\s*,\s*([A-Za-z_$][\w$]*)\s*,"
    r"\s*([A-Za-z_$][\w$]*)\s*[,)]"
)


def _sequelize_constants(text: str) -> dict[str, str]:
    """The database, user and password a ``new Sequelize(DB_NAME, DB_USER, DB_PASS, …)``
    reads from the module's constants bound to string literals (jguigo's estudos-express:
    ``const DB_NAME = 'loja'``; its MariaDB had no ``loja``, "Unknown database 'loja'"
    at start), each where it is bound so once."""
    call = _SEQUELIZE_NAMES.search(text)
    if call is None:
        return {}
    found: dict[str, str] = {}
    names = ("MYSQL_DATABASE", "MYSQL_USER", "MYSQL_PASSWORD")
    for name, constant in zip(names, call.groups(), strict=True):
        bound = re.findall(
            rf"""\b(?:const|let|var)\s+{re.escape(constant)}\s*=\s*(["'])([^"'\n]*)\1""", text
        )
        if len(bound) == 1:
            found[name] = bound[0][1]
    return found


def _sequelize_members(text: str) -> dict[str, str]:
    """The database, user and password a ``new Sequelize(db.NAME, db.USERNAME,
    db.PASSWORD, …)`` reads from an object literal of the module (tundreanatanael's
    server-express-schedule-app: its MariaDB had no ``schedule_app``, "Unknown database"
    at every route), where each key is a string literal there."""
    call = _SEQUELIZE_MEMBERS.search(text)
    bound = (
        re.search(rf"\b(?:const|let|var)\s+{re.escape(call.group(1))}\s*=\s*\{{", text)
        if call is not None
        else None
    )
    if call is None or bound is None:
        return {}
    body = text[bound.end() : bound.end() + 4000]
    found: dict[str, str] = {}
    names = ("MYSQL_DATABASE", "MYSQL_USER", "MYSQL_PASSWORD")
    for name, key in zip(names, call.groups()[1:], strict=True):
        literal = re.search(rf"""\b{re.escape(key)}\s*:\s*(["'])([^"'\n]*)\1""", body)
        if literal is not None:
            found[name] = literal.group(2)
    return found


# A JSON file that may hold a database's settings: not a package's, a compiler's or a
# linter's own, nor one of its dependencies'.
_NOT_SETTINGS_JSON = re.compile(
    r"(?:^|/)(?:node_modules/|package(?:-lock)?\.json$|tsconfig[\w.-]*\.json$|\.eslintrc|"
    r"jsconfig\.json$|composer\.json$|\.vscode/)"
)
_JSON_KEYS = {
    "host": "MYSQL_HOST",
    "port": "MYSQL_PORT",
    "user": "MYSQL_USER",
    "username": "MYSQL_USER",
    "password": "MYSQL_PASSWORD",
    "passwd": "MYSQL_PASSWORD",
    "database": "MYSQL_DATABASE",
    "db": "MYSQL_DATABASE",
    "name": "MYSQL_DATABASE",
}
_ENGINE_KEYS = ("dialect", "type", "client", "engine", "driver")


def json_database_settings(files: dict[str, bytes]) -> list[tuple[str, dict, str]]:
    """A database's settings written as data (sequelize-cli's ``config/config.json``, a
    convict file's ``{"db": {"host", "username", "password", "name"}}``; in a Python
    module, a dict or a call's keywords of literal values: :func:`_python_settings_objects`):
    (its path, an object with a host, a user and a database, the engine its ``dialect``,
    ``type``, ``client`` … name, lower case, "" where none does), the first five such files.
    Of a file with an object per environment (``development``, ``test``, ``production``),
    the development one, which a preview runs as; else the first."""
    found = []
    for path, data in sorted(files.items()):
        if len(data) > 64_000:
            continue
        if path.endswith(".py") and not TEST_FILES.search(path) and "site-packages/" not in path:
            objects = list(_python_settings_objects(data.decode("utf-8-sig", "replace")))
        elif _NODE_SOURCE.search(path) and not _NOT_ITS_CODE.search(path):
            objects = list(_node_settings_objects(data.decode("utf-8-sig", "replace")))
        elif path.endswith(".json") and not _NOT_SETTINGS_JSON.search(path):
            try:
                document = loads_bounded(data.decode("utf-8-sig", "replace"))
            except ValueError:
                continue
            # (the document itself may be one: TypeORM's ormconfig.json)
            objects = list(_settings_objects({"": document}, -1))
        else:
            continue
        if not objects:
            continue
        chosen = next((o for key, o in objects if key == "development"), objects[0][1])
        named = " ".join(str(chosen.get(key, "")) for key in _ENGINE_KEYS).strip().lower()
        found.append((path, chosen, named))
    return found[:5]


def _python_settings_objects(text: str) -> Iterator[tuple[str, dict]]:
    """(its key in the dict holding it, or "", the object) for each dict literal and each
    call's keywords of a Python module that hold a host, a user and a database as literal
    values: ``dbconfig = {"host": "localhost", "username": "root", "database": "test"}``
    (techfryday's flask-mysql-rest-crud-v1: its MariaDB had no database ``test``),
    ``pymysql.connect(host="localhost", user="root", db="shop")``. A value read otherwise
    (``os.getenv(…)``) is left out: the variable's meaning gives that one."""
    try:
        tree = parse_source(text)
    except (SyntaxError, ValueError, RecursionError):
        return
    key_of: dict[int, str] = {}  # a dict literal's key in the dict literal holding it
    for node in ast.walk(tree):
        if isinstance(node, ast.Dict):
            pairs = [(_constant(k), v) for k, v in zip(node.keys, node.values, strict=True)]
            key_of.update({id(v): k for k, v in pairs if isinstance(k, str)})
        elif isinstance(node, ast.Call):
            pairs = [(k.arg, k.value) for k in node.keywords if k.arg is not None]
        else:
            continue
        settings = {
            k: value
            for k, v in pairs
            if isinstance(k, str)
            and isinstance(value := _constant(v), (str, int))
            and not isinstance(value, bool)
        }
        for _key, inner in _settings_objects({"": settings}, 0):
            yield key_of.get(id(node), ""), inner


def _node_settings_objects(text: str) -> Iterator[tuple[str, dict]]:
    """("", the object) for each object literal of a Node module (none nested in it) that
    holds a host, a user and a database as string or number literals: xmkabel's
    express-expenses opens ``mysql.createConnection({ host: "localhost", user: "root",
    password: "", database: "expenses_db" })``, and its MariaDB had no such database (its
    first query's fatal error, then "Cannot enqueue Query after fatal error" on each).
    A value read otherwise (``process.env.DB_HOST``) is left out, as of Python's. Its keys
    in any case (nfadhil13's expressjs-JWT-multer exports ``{HOST: "ec2-….amazonaws.com",
    USER, PASSWORD, DB, dialect: "postgres"}``: its hosted server, unnamed, was out of
    reach, "getaddrinfo EAI_AGAIN")."""
    for block in _OBJECT_LITERAL.finditer(text):
        settings: dict[str, str | int] = {}
        for key, quoted, number in _LITERAL_PAIR.findall(block.group(0)):
            settings.setdefault(key.lower(), int(number) if number else quoted[1:-1])
        yield from _settings_objects({"": settings}, 0)


# An object literal with no object inside it, at most a few thousand characters.
_OBJECT_LITERAL = re.compile(r"\{[^{}]{1,4000}\}")
# Its ``key: 'literal'`` or ``key: 3306`` pairs (a key quoted or not).
_LITERAL_PAIR = re.compile(
    r"""["']?([A-Za-z_]\w*)["']?\s*:\s*(?:("[^"\n]*"|'[^'\n]*')|(\d{1,5})\b)(?=\s*[,}\n])"""
)


def _constant(node: ast.expr | None) -> object:
    return node.value if isinstance(node, ast.Constant) else None


def _json_settings(files: dict[str, bytes]) -> list[tuple[str, dict[str, str], str]]:
    """The JSON settings (:func:`json_database_settings`) as ``MYSQL_*`` variables would say
    them, with the engine: "mysql", or "" where they name none (MySQL's where the app's other
    settings want MySQL); those of another engine left out. edgareldy's tutorial named its
    MariaDB only in ``config/config.json`` (no MariaDB was given it: ECONNREFUSED
    127.0.0.1:3306), samimzafar's boilerplate its database only in
    ``config/environments/development.json`` (given none of that name: "Unknown database
    'sequelize_DB'")."""
    found = []
    for path, chosen, named in json_database_settings(files):
        fields = {
            _JSON_KEYS[key]: str(value)
            for key, value in chosen.items()
            if key in _JSON_KEYS
            and isinstance(value, (str, int))
            and not isinstance(value, bool)
            # (TypeORM's ``"name"`` is its connection's beside its ``"database"``)
            and not (key == "name" and {"database", "db"} & chosen.keys())
        }
        engine = "mysql" if _NAMES_MYSQL.search(named) else "other" if named else ""
        if engine == "other":
            continue
        fields.setdefault("MYSQL_PASSWORD", "")  # null: none, as sequelize init writes it
        found.append((path, fields, engine))
    return found


def _settings_objects(value: object, depth: int) -> Iterator[tuple[str, dict]]:
    """(its key, the object) for each object below ``value`` holding a host, a user and
    a database, in the document's order."""
    if depth > 4:
        return
    items = (
        value.items()
        if isinstance(value, dict)
        else enumerate(value)
        if isinstance(value, list)
        else ()
    )
    for key, inner in items:
        if not isinstance(inner, (dict, list)):
            continue
        if (
            isinstance(inner, dict)
            and isinstance(inner.get("host"), str)
            and {"user", "username"} & inner.keys()
            and {"database", "db", "name"} & inner.keys()
        ):
            yield str(key), inner
        else:
            yield from _settings_objects(inner, depth + 1)


def _enclosing_object(text: str, start: int, end: int) -> str:
    """The object literal (``{…}``) around ``text[start:end]``, at most 400 characters
    before it and 600 after; without one, those characters. Its fields are the
    settings; a window alone read the app's own ``const port = 3000`` above a knex
    ``({ client: 'mysql', … })`` as the database's port, and a relay on the app's own
    port took it from the app (EADDRINUSE)."""
    depth, opened = 0, None
    for at in range(start - 1, max(-1, start - 401), -1):
        if text[at] == "}":
            depth += 1
        elif text[at] == "{":
            if depth == 0:
                opened = at
                break
            depth -= 1
    if opened is None:
        return text[max(0, start - 400) : end + 600]
    depth = 0
    for at in range(opened, min(len(text), end + 600)):
        if text[at] == "{":
            depth += 1
        elif text[at] == "}":
            depth -= 1
            if depth == 0:
                return text[opened : at + 1]
    return text[opened : end + 600]


# The files where an app reads its variables by name: its modules and settings files (not
# its env files, compose files or Dockerfile, which give the variable, not read it).
_READING_FILES = re.compile(r"\.(?:[cm]?[jt]sx?|py|json|ya?ml|toml|ini|cfg|conf)$")
_GIVING_FILES = re.compile(
    r"(?:^|/)(?:(?:docker-)?compose[\w.-]*\.ya?ml|package(?:-lock)?\.json)$", re.IGNORECASE
)


# A Redis client made with its password from a variable: node-redis's and ioredis's
# ``createClient({host, port, password: process.env.REDISPASS})`` / ``new Redis({…})``,
# redis-py's ``Redis(…, password=os.getenv("REDIS_PWD"))``.
_REDIS_CLIENT_PASSWORD = re.compile(
    rb"(?:createClient|new\s+(?:IO)?Redis)\s*\(\s*\{[^{}]*?\bpassword\s*:\s*process\.env\.(\w+)"
    rb"|\b(?:Strict)?Redis\s*\([^()]*?\bpassword\s*=\s*os\.(?:getenv|environ\.get)\(\s*[\"'](\w+)[\"']",
    re.S,
)


# A Redis or cache password's variable read with a default of the code's own, which its
# client then sends (``config("CACHE_DB_PASSWORD", cast=Secret, default="your_password")``,
# ``os.getenv("REDIS_PASS", "secret")``, ``process.env.REDIS_PASSWORD || "secret"``).
_PASSWORD_NAME = rb"\w*(?:REDIS|CACHE)\w*PASS\w*"
_REDIS_PASSWORD_DEFAULT = re.compile(
    rb"\(\s*[\"']("
    + _PASSWORD_NAME
    + rb")[\"'](?:\s*,\s*|[^()\n]*?\bdefault\s*=\s*)[\"'][^\"'\s]+[\"']"
    rb"|\bprocess\.env\.(" + _PASSWORD_NAME + rb")\s*(?:\|\||\?\?)\s*[\"'`][^\"'`\s]+[\"'`]",
    re.IGNORECASE,
)


def _redis_password_reads(files: dict[str, bytes]) -> list[str]:
    """The variables the app's code gives a Redis client as its password (shoelfikar's
    backend-cashier-food-expressjs: ``password: process.env.REDISPASS``, which nothing
    sets; given a throwaway secret, its Redis, which has none, answered "ERR AUTH
    <password> called without any password configured"), and a Redis or cache password's
    variables it reads with a default of its own (:data:`_REDIS_PASSWORD_DEFAULT`: its
    client sends that default, which a server with no password refuses likewise:
    Nohysiwe's FastAPIBlogBackend, ``CACHE_DB_PASSWORD`` defaulting to "your_password")."""
    found: list[str] = []
    for path, data in sorted(files.items()):
        if "node_modules/" in path or not path.endswith((".js", ".cjs", ".mjs", ".ts", ".py")):
            continue
        for pattern in (_REDIS_CLIENT_PASSWORD, _REDIS_PASSWORD_DEFAULT):
            for match in pattern.finditer(data):
                name = (match.group(1) or match.group(2)).decode()
                if name not in found:
                    found.append(name)
    return found


def _password_of_another(files: dict[str, bytes], config: dict[str, str]) -> bool:
    """Whether the configuration's ``REDIS_PASSWORD`` is another's than the app's client:
    its Redis URL names the server with no password, and nothing of the app's code or
    settings reads ``REDIS_PASSWORD`` (pydantic's ``redis_password`` field included), so
    that variable is its compose file's server's (``redis-server --requirepass``).
    Ultri-Izzup's fastify-docker: example.env's ``REDIS_URI=redis://localhost:6379``,
    which its @fastify/redis connects with, beside ``REDIS_PASSWORD=…``; given that
    password, the server refused every command ("NOAUTH Authentication required")."""
    bare = False
    for value in config.values():
        if value.strip().split("://", 1)[0].lower() not in _REDIS_SCHEMES:
            continue
        try:
            if urlsplit(value.strip()).password:
                return False  # a URL of the app's own with a password: the rule above's
        except ValueError:
            continue
        bare = True
    if not bare:
        return False
    for path, data in files.items():
        if "node_modules/" in path or _GIVING_FILES.search(path):
            continue
        if _READING_FILES.search(path) and b"redis_password" in data.lower():
            return False
    return True


def _take_url(
    redis: RedisWanted, mysql: MysqlWanted, why: str, value: str, variable: str | None
) -> None:
    """What one URL says: a server's host and port, an account, a database. A template
    of one (``mysql://[USER]:[PASSWORD]@[HOST]:[PORT]/[DATABASE]``, which urlsplit
    refuses) says which server, and that the variable is the service's to fill."""
    scheme = value.strip().split("://", 1)[0].lower()
    if template_url(value):
        if variable is not None and (scheme in _REDIS_SCHEMES or _MYSQL_SCHEME.match(scheme)):
            wanted = redis if scheme in _REDIS_SCHEMES else mysql
            wanted.why.append(why)
            wanted.templates[variable] = scheme
        return
    try:
        parts = urlsplit(value.strip())
        host, port = _host_port(parts.hostname, parts.port)
    except ValueError:
        return
    if scheme in _REDIS_SCHEMES:
        redis.why.append(why)
        redis.hosts.add(host or "localhost")
        redis.ports.add(port or REDIS_PORT)
        if parts.password and variable is not None:  # one in code alone may be a placeholder
            redis.accounts[unquote(parts.username or "") or "default"] = unquote(parts.password)
    elif _MYSQL_SCHEME.match(scheme):
        mysql.why.append(why)
        mysql.hosts.add(host or "localhost")
        mysql.ports.add(port or MYSQL_PORT)
        if variable is not None:
            mysql.url_variables[variable] = value
        if user := unquote(parts.username or ""):
            mysql.accounts[user] = unquote(parts.password or "")
        database = unquote(parts.path.lstrip("/").split("/")[0].split("?")[0])
        if database and database not in mysql.databases:
            mysql.databases.append(database)


def _mysql_variables(
    mysql: MysqlWanted, config: dict[str, str], *, own: bool = True, alone: bool = False
) -> None:
    """The account, database, host and port that ``MYSQL_USER``-like variables name. The
    account the app's ``own`` settings log in with wins over its compose service's
    (tienpbss's conduit: DB_USERNAME=root, DB_PASSWORD=your-password in its .env.example,
    MYSQL_ROOT_PASSWORD: 123456 for its container: "Access denied for user 'root'"). A
    port of generic names (``DB_PORT=3307``) is MySQL's where the app has no other SQL
    server's driver (``alone``): mahmoud0alabsi's Authentication-system-FastAPI met
    "Can't connect to MySQL server on 'localhost:3307'"."""

    # Under names of its own, a database's part by what the name says (moisesmarques's
    # node-express-mariadb-api: master_db_username=root, master_db_password=root in its
    # sample.env; its pool logged in as nobody the server knew, "retrieve connection from
    # pool timeout"): where none of the names above is set.
    parts = {"user": "user", "password": "password", "database": "name", "host": "host"}
    by_meaning: dict[str, str] = {}
    for name, value in config.items():
        what = meaning(name) if value else None
        if what is None or what.kind != DATABASE or what.engine not in ("", "mysql"):
            continue
        kind = next((k for k, part in parts.items() if part == what.part), None)
        if kind is not None and not any(config.get(n) for n in _MYSQL_VARS[kind]):
            by_meaning.setdefault(kind, value)

    def first(kind: str) -> str | None:
        named = next((config[n] for n in _MYSQL_VARS[kind] if config.get(n)), None)
        return named or by_meaning.get(kind)

    if not by_meaning and not any(config.get(n) for names in _MYSQL_VARS.values() for n in names):
        return
    user, password = first("user"), first("password")
    if user and own:
        mysql.accounts[user] = password or ""
    elif user:
        mysql.accounts.setdefault(user, password or "")
    if root := first("root"):
        mysql.accounts.setdefault("root", root)
    if (database := first("database")) and database not in mysql.databases:
        mysql.databases.append(database)
    host, port = _host_port(first("host"), first("port"))
    if host and (
        port is None
        or port == MYSQL_PORT
        or alone
        or any(config.get(n) for n in ("MYSQL_HOST", "MARIADB_HOST"))
    ):
        mysql.hosts.add(host)
        mysql.ports.add(port or MYSQL_PORT)
