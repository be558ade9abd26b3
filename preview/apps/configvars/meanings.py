"""What a variable the app reads *is*, decided once for every reader of it:
:func:`meaning`, one table of meanings, instead of lists of names per server.

A name is read as words (``DB_NAME``: ``DB``, ``NAME``). It is a SQL database's part
when a database's word (``DB``, ``DATABASE``, ``SQL``, an engine's: ``POSTGRES``,
``PG``, ``MYSQL``, ``MARIADB`` …) comes before the part's word, which ends it: its
engine (``DB_ENGINE``, ``DB_TYPE``, ``DB_DIALECT``, ``DB_CLIENT`` …), host, port, name
(``DB_NAME``, ``POSTGRES_DB``, ``MYSQL_DATABASE``), user, password or URL
(``DATABASE_URL``, ``SQLALCHEMY_DATABASE_URI``, ``POSTGRES_DSN``, ``DATABASE_DSN``); or
``PGHOST``-like, libpq's own. The type a settings class declares a field with says more
than its name: pydantic's ``PostgresDsn``, ``MySQLDsn`` … make it that engine's URL,
whatever the name (``postgres_dsn: PostgresDsn``, ``db: PostgresDsn``). The
engine the name says (``POSTGRES_USER``: PostgreSQL's) is kept: a name that says none
is generic, and is the database's the app's driver uses (``backing.provided``). A name
of another store's (``MONGO_DB_NAME``, ``REDIS_DB``) is none of a SQL database's. A
host list (``ALLOWED_HOSTS``, ``DJANGO_ALLOWED_HOSTS``) is one too, whatever reads it
(decouple's ``Csv()``, django-environ's ``env.list``).

A service's switch is one too (:data:`SWITCH`): ``KAFKA_ENABLED``, ``ENABLE_KAFKA``,
``USE_ELASTICSEARCH`` turn it on (part ``on``), ``KAFKA_DISABLED``, ``DISABLE_KAFKA`` off
(part ``off``); its ``engine`` the service's name (``kafka``).

Names alone cannot say what ``HOST``, ``PORT``, ``USER`` or ``PASSWORD`` mean: a compose
file can (:func:`compose_database_names`), when the app's own service is given
``HOST: db`` where ``db`` is a database's service, and its other generic names beside it.

The values a database gives under its generic names (:func:`database_variables`) and the
engine string an app's framework names it by (:func:`engine_value`: Django's
``django.db.backends.mysql``, TypeORM's and Sequelize's ``mysql``, knex's ``mysql2``)
are here too, so that the service's PostgreSQL and MariaDB fill the same names.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from urllib.parse import quote

__all__ = [
    "DATABASE",
    "DATABASE_URL_READ",
    "HOSTS",
    "OWN_PORT",
    "SWITCH",
    "Meaning",
    "ServedDatabase",
    "compose_database_names",
    "database_variables",
    "engine_value",
    "meaning",
    "names_another_store",
    "names_no_engine",
    "served_database",
]

HOSTS = "hosts"  # the kind of a host list (ALLOWED_HOSTS)
OWN_PORT = "own port"  # the kind of the port the app's own server listens on (APP_PORT)
DATABASE = "database"  # the kind of a SQL database's part
SWITCH = "switch"  # the kind of a service's switch (KAFKA_ENABLED)
# The kind of a read whose reader parses a database's URL (django-environ's env.db("X")).
DATABASE_URL_READ = "database URL"

# A database's word, with the engine it names ("" where it names none).
_DATABASE_WORDS = {
    "DB": "",
    "DATABASE": "",
    "SQL": "",
    "RDS": "",
    "SQLALCHEMY": "",
    "POSTGRES": "postgresql",
    "POSTGRESQL": "postgresql",
    "PG": "postgresql",
    "PSQL": "postgresql",
    "MYSQL": "mysql",
    "MARIADB": "mysql",
    # TypeORM 0.2's own settings read from the environment (TYPEORM_CONNECTION=mysql,
    # TYPEORM_HOST …: clicker645's typeorm-express, its .env's, was given no MariaDB).
    "TYPEORM": "",
    # An ORM's own, as a config module names its settings: TYPE_ORM_HOST (deger4beger's
    # clean-fastify: its TypeORM dialled its default localhost:3060, none given it),
    # MIKRO_ORM_PORT, SEQUELIZE_DATABASE, KNEX_USER.
    "ORM": "",
    "SEQUELIZE": "",
    "KNEX": "",
    # A hosted database's add-on, named as its platform gives it (stealergood's
    # vehicle-rental-express parses Heroku's JAWSDB_URL: "Cannot read properties of
    # undefined (reading 'match')" where it was unset).
    # (no engine said: the one its driver uses, as a generic name's)
    "JAWSDB": "",
    "PLANETSCALE": "",
    "ELEPHANTSQL": "",
    "NEON": "",
    # libSQL's, Turso's hosted SQLite (williamk19's learn-hono: TURSO_CONNECTION_URL for
    # its @libsql/client): the preview's SQLite, as a file: URL.
    "TURSO": "",
    "LIBSQL": "",
}
# Another store's word: a name with one is none of a SQL database's.
_OTHER_STORES = {
    "MONGO",
    "MONGODB",
    "REDIS",
    "CACHE",
    "ELASTIC",
    "ELASTICSEARCH",
    "CELERY",
    "BROKER",
    "RABBITMQ",
    "AMQP",
    "NEO4J",
    "INFLUX",
    "CASSANDRA",
    "DYNAMO",
    "DYNAMODB",
    "FIREBASE",
    "SUPABASE",
    "TEST",
}
# A part's word (the last of the name) -> the part.
_PARTS = {
    "ENGINE": "engine",
    "TYPE": "engine",
    "DIALECT": "engine",
    "DRIVER": "engine",
    # SQLAlchemy's URL.create(drivername, …) argument's name (jcpagsinohin's
    # flask-fitness-app: ``URL.create(os.getenv('DB_DRIVERNAME'), username=…)``)
    "DRIVERNAME": "engine",
    "CLIENT": "engine",
    "BACKEND": "engine",
    "VENDOR": "engine",
    "CONNECTION": "engine",
    "HOST": "host",
    "HOSTNAME": "host",
    "SERVER": "host",
    "ADDR": "host",
    "ADDRESS": "host",
    "PORT": "port",
    "NAME": "name",
    "DB": "name",
    "DATABASE": "name",
    "DBNAME": "name",
    "SCHEMA": "name",
    # "data base": RashminDungrani's fastapi-invoice-app's db_base, beside db_host and db_user
    "BASE": "name",
    "USER": "user",
    "USERNAME": "user",
    "LOGIN": "user",
    "UID": "user",
    "PASSWORD": "password",
    "PASS": "password",
    "PASSWD": "password",
    "PWD": "password",
    "URL": "url",
    "URI": "url",
    "DSN": "url",
}
# The word after a part that says which environment's it is, where that is the one a
# preview runs as (mohamilin's blog reads DB_DIALECT_DEV … under NODE_ENV=development),
# or which of its clients' (Mohammed0saber101's social-api reads DATABASE_URL_SYNC in
# Alembic's env.py, DATABASE_URL_ASYNC in its app: both its example's, both empty).
_DEVELOPMENT = {"DEV", "DEVELOPMENT", "LOCAL", "SYNC", "ASYNC"}
# Words after a part that make the variable something else of it (DB_PASSWORD_FILE: a
# file holding it; DB_HOST_TIMEOUT, DB_NAME_PREFIX), not a second database's qualifier;
# and another environment's database (DB_HOST_PROD, DB_NAME_TEST), not the preview's.
_ABOUT_A_PART = frozenset(
    {
        "FILE",
        "PATH",
        "DIR",
        "PREFIX",
        "SUFFIX",
        "TIMEOUT",
        "SIZE",
        "MIN",
        "MAX",
        "LIMIT",
        "COUNT",
        "RETRIES",
        "RETRY",
        "ENABLED",
        "ENABLE",
        "DISABLED",
        "MODE",
        "KEY",
        "SECRET",
        "ENV",
        "VAR",
        "VARIABLE",
        "FORMAT",
        "TEMPLATE",
        "REGEX",
        "PATTERN",
        "LIST",
        "HEADER",
        "PROD",
        "PRODUCTION",
        "STAGING",
        "STAGE",
        "TEST",
        "TESTING",
        "LIVE",
    }
)
# libpq's own (PGHOST …) and MySQL's client's (MYSQL_PWD).
_GLUED = re.compile(r"^PG(HOST|PORT|USER|PASSWORD|DATABASE)$")
_HOST_LIST = re.compile(r"(?:^|_)ALLOWED_HOSTS$")
# The app's own server's port, by a name other than PORT (which a compose file may give
# its database: compose_database_names).
_OWN_PORT = re.compile(
    r"^(?:APP|SERVER|HTTP|API|WEB|NODE|EXPRESS|BACKEND|SERVICE|LISTEN|APPLICATION)_PORT$"
)


@dataclass(frozen=True, slots=True)
class Meaning:
    """What a variable is: its ``kind`` (:data:`DATABASE`, :data:`HOSTS`), a database's
    ``part`` (engine, host, port, name, user, password, url) and the ``engine`` its
    name says ("" for a generic one)."""

    kind: str
    part: str = ""
    engine: str = ""


# The services whose switch a name may be (KAFKA_ENABLED), by their word.
_SERVICES = {
    "KAFKA",
    "ELASTICSEARCH",
    "OPENSEARCH",
    "CASSANDRA",
    "NEO4J",
    "RABBITMQ",
    "NATS",
    "PULSAR",
    "CLICKHOUSE",
    "INFLUXDB",
    "SOLR",
    "MEILISEARCH",
    "TYPESENSE",
    "ZOOKEEPER",
}
# Another word for a service, and the service it names: AMQP is RabbitMQ's protocol
# (ismaelalvesgit's node-express-hexagonal: ``AMQP_ACTIVE=true`` in its example, which
# connected to no broker, "AggregateError", before it served).
_SERVICE_WORDS = {"AMQP": "RABBITMQ", "RABBIT": "RABBITMQ", "ELASTIC": "ELASTICSEARCH"}
_SWITCH_ON = {"ENABLED", "ENABLE", "USE", "ACTIVE"}
_SWITCH_OFF = {"DISABLED", "DISABLE"}


def _switch(words: list[str]) -> Meaning | None:
    """A service's switch (module doc): its switch's word first or last, its service's
    word beside it (a prefix before them: ``APP_KAFKA_ENABLED``)."""
    if len(words) < 2:
        return None
    services = _SERVICES | set(_SERVICE_WORDS)
    if words[0] in _SWITCH_ON | _SWITCH_OFF and words[1] in services and len(words) == 2:
        word, service = words[0], words[1]
    elif words[-1] in _SWITCH_ON | _SWITCH_OFF and words[-2] in services and len(words) <= 3:
        word, service = words[-1], words[-2]
    else:
        return None
    service = _SERVICE_WORDS.get(service, service)
    return Meaning(SWITCH, "off" if word in _SWITCH_OFF else "on", service.lower())


# pydantic's URL types of a database (Optional[PostgresDsn], AsyncPostgresDsn …), with the
# engine each names.
_DSN_TYPE = re.compile(r"\b(?:\w*?)(Postgres|Cockroach|MySQL|MariaDB)Dsn\b", re.IGNORECASE)
_DSN_ENGINES = {"postgres": "postgresql", "cockroach": "postgresql", "mysql": "mysql"}


def names_another_store(name: str) -> bool:
    """Whether ``name`` says a store other than a SQL database's (``REDIS_DB``,
    ``MONGO_PASSWORD``): none of its parts is the SQL database's, whatever option it is
    given to."""
    return bool(_OTHER_STORES & {w for w in name.upper().split("_") if w})


_CONNECTION = ("CONNECTION", "CONN")


def meaning(name: str, kind: str = "") -> Meaning | None:
    """What the variable ``name`` is, from its name (module doc), and from ``kind``, the
    type a settings class declares it with where one does (``PostgresDsn``: that
    engine's URL); None where neither says."""
    if kind == DATABASE_URL_READ:
        return Meaning(DATABASE, "url", "")
    typed = _DSN_TYPE.search(kind) if kind else None
    if typed is not None:
        engine = _DSN_ENGINES.get(typed.group(1).lower(), "mysql")
        return Meaning(DATABASE, "url", engine)
    upper = name.upper()
    if _HOST_LIST.search(upper):
        return Meaning(HOSTS)
    if _OWN_PORT.match(upper):
        return Meaning(OWN_PORT)
    if (switch := _switch([w for w in upper.split("_") if w])) is not None:
        return switch
    if (glued := _GLUED.match(upper)) is not None:
        part = {"DATABASE": "name"}.get(glued.group(1), glued.group(1).lower())
        return Meaning(DATABASE, part, "postgresql")
    words = [w for w in upper.split("_") if w]
    if len(words) == 1:  # glued, as libpq's own are: dbhost, DBNAME, MYSQLPASSWORD
        words = _unglued(words[0])
    if len(words) > 2 and words[-1] in _DEVELOPMENT:
        words = words[:-1]  # DB_DIALECT_DEV: the development database's, which a preview is
    if len(words) > 2 and words[-1] in ("STRING", "URL", "URI") and words[-2] in _CONNECTION:
        # A connection string is its URL (s4imu's Flask-Jobs: db_connection_string, needed),
        # and so is a connection's URL (TURSO_CONNECTION_URL).
        words = [*words[:-2], "URL"]
    if (
        len(words) > 2
        and words[0] in _DATABASE_WORDS
        and words[1] in _PARTS
        and not (_PARTS.keys() | _OTHER_STORES | _ABOUT_A_PART) & set(words[2:])
    ):
        # A second database's, its qualifier after the part (fastery-dev-sas's
        # api-wallet-nestjs: DB_HOST_DATA_MANAGEMENT … beside DB_HOST, each required:
        # given stand-ins, TypeORM's second connection resolved none).
        words = words[:2]
    if len(words) == 2 and words[0] in _PARTS.keys() - {"DB"} and words[1] in ("DB", "DATABASE"):
        # The part first (DanielArturoAlejoAlvarez's REST-API-NodeJS-Sequelize: NAME_DB,
        # USER_DB, PASSWORD_DB): left unset, its own database name met none of its tables.
        words = words[::-1]
    if len(words) < 2 or _OTHER_STORES & set(words) or words[-1] not in _PARTS:
        return None
    # DATABASE_URL's URL, MYSQL_DATABASE's DATABASE: the part is the last word; a
    # database's word must come before it.
    before = [w for w in words[:-1] if w in _DATABASE_WORDS]
    if not before:
        return None
    engine = next((_DATABASE_WORDS[w] for w in before if _DATABASE_WORDS[w]), "")
    return Meaning(DATABASE, _PARTS[words[-1]], engine)


def _unglued(word: str) -> list[str]:
    """One word as a database's word and a part's glued together (``DBHOST``: ``DB``,
    ``HOST``; luisnquin's fastapi-restapi-sqlalchemy-v2 reads ``getenv("dbhost")``), the
    longest database's word first; else the word alone."""
    for length in range(len(word) - 2, 1, -1):
        head, tail = word[:length], word[length:]
        if head in _DATABASE_WORDS and tail in _PARTS:
            return [head, tail]
    return [word]


@dataclass(frozen=True, slots=True)
class ServedDatabase:
    """The database the service gives an app, as its generic names give it."""

    engine: str  # postgresql, mysql
    host: str
    port: str
    name: str
    user: str
    password: str

    def part(self, part: str) -> str | None:
        return {
            "host": self.host,
            "port": self.port,
            "name": self.name,
            "user": self.user,
            "password": self.password,
        }.get(part)

    def url(self) -> str:
        """Its URL, of its engine's scheme, from its parts."""
        auth = f"{quote(self.user, safe='')}:{quote(self.password, safe='')}@"
        return f"{self.engine}://{auth}{self.host}:{self.port}/{quote(self.name, safe='')}"


def database_variables(host: str, port: int | str, user: str, password: str, name: str) -> dict:
    """The generic names (no engine in them) a served database is given as: each
    prefix's host, port, user and password in both spellings (``DATABASE_HOSTNAME``,
    ``DATABASE_USERNAME`` … of the FastAPI course's pydantic Settings), and its name."""
    variables: dict[str, str] = {}
    for prefix in ("DB", "DATABASE"):
        variables.update({f"{prefix}_HOST": host, f"{prefix}_PORT": str(port)})
        variables.update({f"{prefix}_USER": user, f"{prefix}_PASSWORD": password})
        # the other spelling of each: a host name, a user name
        variables.update({f"{prefix}_HOSTNAME": host, f"{prefix}_USERNAME": user})
        variables[f"{prefix}_NAME"] = name
    # the database's name as Laravel's .env and brithely's Litestar todo API spell it
    variables["DB_DATABASE"] = name
    return variables


def served_database(env: Mapping[str, str]) -> ServedDatabase | None:
    """The database whose values the service gives under the generic names in ``env``
    (the app's environment where it sets nothing: ``backing.Backing.env``); its engine
    the one whose own names (``PGHOST``/``PGPORT``, ``MYSQL_HOST``/``MYSQL_PORT``) give
    the same server. None where it gives none."""
    host, port = env.get("DB_HOST"), env.get("DB_PORT")
    if not host or not port:
        return None
    engine = next(
        (
            e
            for e, own in (("mysql", "MYSQL_"), ("postgresql", "PG"))
            if (env.get(f"{own}HOST"), env.get(f"{own}PORT")) == (host, port)
        ),
        None,
    )
    if engine is None:
        return None
    return ServedDatabase(
        engine,
        host,
        port,
        env.get("DB_NAME", ""),
        env.get("DB_USER", ""),
        env.get("DB_PASSWORD", ""),
    )


# Each engine's own names for its server's parts (host, port, name, user, password).
_OWN_NAMES = {
    "mysql": ("MYSQL_HOST", "MYSQL_PORT", "MYSQL_DATABASE", "MYSQL_USER", "MYSQL_PASSWORD"),
    "postgresql": ("PGHOST", "PGPORT", "PGDATABASE", "PGUSER", "PGPASSWORD"),
}


def engine_database(env: Mapping[str, str], engine: str) -> ServedDatabase | None:
    """The server of ``engine`` the service gives, as that engine's own names in ``env``
    say it (``MYSQL_HOST`` …, ``PGHOST`` …), whether or not the generic names are its:
    an app on both (soerjo's nestjs-crud-auth: ``SERVER_DB_MYSQL_USERNAME`` beside
    ``SERVER_DB_POSTGRES_USERNAME``) reads each by its engine's name. None without one."""
    names = _OWN_NAMES.get(engine)
    if names is None:
        return None
    host, port, name, user, password = (env.get(n, "") for n in names)
    if not host or not port:
        return None
    return ServedDatabase(engine, host, port, name, user, password)


# The engine's string by how the app names it: Django's ENGINE, an ORM's type/dialect
# (TypeORM, Sequelize, MikroORM), knex's client.
_ENGINE_STRINGS = {
    "django": {
        "postgresql": "django.db.backends.postgresql",
        "mysql": "django.db.backends.mysql",
        "sqlite": "django.db.backends.sqlite3",
    },
    "client": {"postgresql": "pg", "mysql": "mysql2", "sqlite": "sqlite3"},
    "plain": {"postgresql": "postgres", "mysql": "mysql", "sqlite": "sqlite"},
    # SQLAlchemy's dialects: it refuses postgres:// since 1.4 (phan-tang's fastapi-ecommerce
    # builds f"{DB_ENGINE}://…": "Can't load plugin: sqlalchemy.dialects:postgres").
    "sqlalchemy": {"postgresql": "postgresql", "mysql": "mysql", "sqlite": "sqlite"},
    # An async engine's (``ASYNC_DB_ENGINE``, beside its sync one: mitidevus's
    # fastapi-practice builds both URLs, create_async_engine refusing a sync driver).
    "sqlalchemy-async": {
        "postgresql": "postgresql+asyncpg",
        "mysql": "mysql+aiomysql",
        "sqlite": "sqlite+aiosqlite",
    },
}


# An engine's value that says only "a database", naming none: oleg-freeman's
# nestjs-social-app commits ``DB_TYPE=sql`` in its .env for TypeORM's ``type:``, which
# refused it ("Wrong driver: "sql" given") though its POSTGRES_* and pg say PostgreSQL.
_NO_ENGINE = frozenset({"sql", "db", "database", "dbms", "rdbms", "relational", "engine"})


def names_no_engine(what: Meaning | None, value: str) -> bool:
    """Whether ``value``, given for a variable meaning ``what``, is a database's engine
    that says only "a database" and names none (``sql``): a form to fill in with the
    served database's engine."""
    engine = what is not None and what.kind == DATABASE and what.part == "engine"
    return engine and value.strip().lower() in _NO_ENGINE


def engine_value(engine: str, name: str, django: bool, *, sqlalchemy: bool = False) -> str:
    """The string the app's variable ``name`` (an engine's) names ``engine`` by:
    ``postgresql``, ``mysql`` or ``sqlite``, for a Django app (its settings' ENGINE), a
    SQLAlchemy one (its dialect's name), or another (knex's ``DB_CLIENT``, else the name
    TypeORM and Sequelize share)."""
    style = "django" if django else "client" if name.upper().endswith("CLIENT") else "plain"
    if style == "plain" and sqlalchemy:
        words = re.split(r"[^A-Z0-9]+", name.upper())
        style = "sqlalchemy-async" if "ASYNC" in words else "sqlalchemy"
        if "DRIVER" in words:  # the driver alone, after the dialect's ``+``
            return _SQLALCHEMY_DRIVERS[style][engine]
    return _ENGINE_STRINGS[style][engine]


# SQLAlchemy's driver of each engine, where a variable names the driver alone
# (``f"{DB_DIALECT}+{DB_ASYNC_DRIVER}://…"``: xeavveed's fastapi-seminar-assignment6,
# given "sqlite+aiosqlite" as its driver, "too many values to unpack").
_SQLALCHEMY_DRIVERS = {
    "sqlalchemy": {"postgresql": "psycopg2", "mysql": "pymysql", "sqlite": "pysqlite"},
    "sqlalchemy-async": {"postgresql": "asyncpg", "mysql": "aiomysql", "sqlite": "aiosqlite"},
}


def compose_database_names(
    environment: Mapping[str, str], databases: Mapping[str, str]
) -> dict[str, str]:
    """{a name of a compose service's ``environment``: the database part it means}, for
    the names it maps onto one of ``databases`` (its services, by name, that run a
    database): a variable whose value is such a service's name is its host, and the
    names beside it that say only a part (``HOST: db``, ``PORT: 3306``, ``USER: root``,
    ``PASSWORD: …``, ``DATABASE: shop``; ``APP_DB_HOST``'s own prefix alike) its other
    parts. An Express app read MySQL's port from ``PORT`` so."""
    found: dict[str, str] = {}
    for name, value in environment.items():
        host = _HOST_SUFFIX.search(name.upper())
        if host is None or value.strip().lower() not in databases:
            continue
        prefix = name.upper()[: host.start()]
        for other in environment:
            upper = other.upper()
            rest = upper[len(prefix) :].lstrip("_") if upper.startswith(prefix) else ""
            part = _PARTS.get(rest) if prefix or rest in _BARE_PARTS else None
            if part is not None and part not in ("engine", "url"):
                found[other] = part
    return found


_HOST_SUFFIX = re.compile(r"(?:HOSTNAME|HOST|SERVER)$")
# The words that say a part alone, without a prefix (NAME alone may be the app's).
_BARE_PARTS = {"HOST", "HOSTNAME", "PORT", "USER", "USERNAME", "PASSWORD", "PASS", "DATABASE", "DB"}
