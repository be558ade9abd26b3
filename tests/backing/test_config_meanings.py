"""Configuration under the names the app reads (issue 66): what a variable is, decided
from its name, its use and the compose file (``configvars.meanings``), and given the
value that matches what the service provides. Each rule with a fixture app of its shape;
two real launches (a Django app on its private MariaDB by DB_ENGINE and DB_*, a Node app
whose start is ``node --env-file=.env``)."""

from __future__ import annotations

import pytest
import trio

from preview.apps.configvars import (
    DATABASE,
    HOSTS,
    OWN_PORT,
    SWITCH,
    Meaning,
    compose_database_names,
    database_option_variables,
    dotenv_text,
    engine_value,
    example_env_file,
    example_rank,
    meaning,
    read_variables,
    served_database,
)
from preview.apps.detect import detect
from preview.backing import wanted_servers
from preview.backing.pgprivate import server_binaries
from preview.backing.postgres import postgres_variables
from preview.backing.servers.mysql import mariadb_binary, mysql_environment
from preview.backing.wanted import MysqlWanted
from preview.backing.wants import postgres_wants
from preview.builds.appenv import (
    _own_port_names,
    compose_database_values,
    database_urls_by_meaning,
    option_database_values,
)
from preview.builds.configdefaults import config_defaults, env_file_text, start_env_files

from ..conftest import Service
from ..launching import BUILD_WAIT, app_files, called, launched, messages
from ..sandbox.test_sandbox import require_sandbox

needs_server = pytest.mark.skipif(
    server_binaries() is None, reason="PostgreSQL's server binaries are not installed"
)


def _bytes(name: str) -> dict[str, bytes]:
    return _encoded(app_files(name))


def _encoded(files: dict[str, str]) -> dict[str, bytes]:
    return {path: text.encode() for path, text in files.items()}


async def _running(service: Service, files: dict[str, str]) -> dict:
    """``files`` launched, its status asserted running (with what its log says if not)."""
    body = await launched(service, files)
    events = await service.history(body["gid"])
    assert body["status"] == "running", (
        body["errorMessage"],
        body["errorLines"],
        messages(events, "system"),
        messages(events, "app")[-20:],
    )
    return body


# The private MariaDB's variables as the service gives them (backing.Backing.env: the
# generic names its own, the app having no PostgreSQL driver), and its PostgreSQL's.
MARIADB_ENV = mysql_environment(
    MysqlWanted(accounts={"shop": "shop-secret"}, databases=["shop"], hosts={"mysql", "db"})
)
POSTGRES_ENV = postgres_variables({}, "127.0.0.1", 5432)


# a. An example env file of any common spelling is read by one rule.


@pytest.mark.parametrize(
    "name",
    [
        ".env.example",
        ".env-example",
        ".env.sample",
        ".env_example",
        "example.env",
        ".env.template",
        "env.example",
        ".env.dist",
        ".env.local.example",
        "dot-env-template",
        "env_example.txt",
        "env.txt",
        ".env.example.txt",
    ],
)
def test_an_example_env_file_of_any_spelling_is_one(name: str) -> None:
    files = {"app.py": b"", name: b"A=1\n"}
    assert example_rank(name) is not None
    assert example_env_file(files, "app.py") == name


def test_what_is_no_example_env_file_and_which_example_wins() -> None:
    for name in (
        "env.py",
        ".env",
        ".envrc.example",
        "environment.example.ts",
        "env.template.yaml",
        "config.example.json",
        "requirements.txt",
        "env-notes.txt",
    ):
        assert example_rank(name) is None, name
    names = ["app.py", ".env.local.example", ".env-example", ".env.prod.example"]
    files = dict.fromkeys(names, b"")
    assert example_env_file(files, "app.py") == ".env-example"  # no other word first
    files = {"app.py": b"", ".env.dist": b"", ".env.sample": b""}
    assert example_env_file(files, "app.py") == ".env.sample"
    files = {"app.py": b"", "env_example.txt": b"", ".env.example": b""}
    assert example_env_file(files, "app.py") == ".env.example"  # a .txt's after


def test_an_env_example_named_as_plain_text_stands_in_with_its_forms_the_services() -> None:
    """solnsumei's flask-rest-api-setup: env_example.txt sets FLASK_ENV=development, under
    which alone its config reads DATABASE_URI, given as ``<your development database
    here>``: unread, create_all() died on "Either 'SQLALCHEMY_DATABASE_URI' … must be set"."""
    files = _bytes("flask_env_example_txt")
    assert example_rank("env_example.txt") is not None and example_rank("notes.txt") is None
    found = config_defaults(files, "main.py", {}, {"PORT", "DATABASE_URL"})
    assert found.example == "env_example.txt" and found.values["FLASK_ENV"] == "development"
    served = "postgresql://postgres:postgres@127.0.0.1:5432/app"
    env = {"DATABASE_URL": served, **found.values}
    urls = database_urls_by_meaning(files, env, found.values, "python")
    assert urls == {"DATABASE_URI": served}
    # A URL of its own is left to it.
    own = {**found.values, "DATABASE_URI": "sqlite:///own.db"}
    assert database_urls_by_meaning(files, {**env, **own}, own, "python") == {}


def test_an_env_file_kept_as_plain_text_is_read_after_the_examples() -> None:
    """tnsc's secure-node-express-api-boilerplate keeps its variables in ``env.txt``
    ("Environmental variables needed to start the project"): unread, its
    ``app.use(process.env.API_BASE_URL, …)`` failed the start ("Cannot read properties of
    undefined (reading 'replace')")."""
    files = _bytes("node_env_txt")
    found = config_defaults(files, "app.js", {}, {"PORT"})
    assert found.example == "env.txt"
    assert found.values["API_BASE_URL"] == "/api"
    files[".env.example"] = b"API_BASE_URL=/v1\n"  # an example of a .env's name first
    assert config_defaults(files, "app.js", {}, {"PORT"}).example == ".env.example"


def test_a_dash_spelt_example_gives_the_variables_it_requires() -> None:
    """A held-out app's .env-example went unread: six required variables "needed"."""
    files = _bytes("env_dash_example")
    found = config_defaults(files, "app.py", {}, {"PORT"})
    assert found.example == ".env-example" and not found.missing
    assert found.values["CURRENCY"] == "EUR" and len(found.values) == 6


# b. The env file the start names is written when the upload lacks it.


def test_the_env_file_a_start_names_is_found() -> None:
    files = _bytes("node_env_file")
    assert start_env_files(files, "package.json", ("npm", "start", "--silent")) == [".env"]
    for start in (
        "node --env-file .env.local src/index.js",
        "dotenv -e .env.local -- node a.js",
        "env-cmd -f .env.local node a.js",
        "node --env-file=.env.local a.js",
    ):
        files = {"package.json": b'{"scripts": {"start": "%s"}}' % start.encode()}
        assert start_env_files(files, "package.json", ("npm", "start")) == [".env.local"], start
    present = {"package.json": b'{"scripts": {"start": "node --env-file=.env a.js"}}', ".env": b""}
    assert start_env_files(present, "package.json", ("npm", "start")) == []
    tests = {"package.json": b'{"scripts": {"test": "node --env-file=.env.test --test"}}'}
    assert start_env_files(tests, "package.json", ("npm", "start")) == []
    argv = ("node", "--env-file=config/.env", "server.js")  # a command, no package.json
    assert start_env_files({"server.js": b""}, "server.js", argv) == ["config/.env"]


def test_an_env_file_is_written_as_nodes_parser_and_dotenv_read_it() -> None:
    text = env_file_text({"A": "plain # not a comment", "B": "it's", "C": "two\nlines"})
    assert text == b'A=\'plain # not a comment\'\nB="it\'s"\nC="two\\nlines"\n'
    assert dotenv_text(text) == {"A": "plain # not a comment", "B": "it's", "C": "two\nlines"}


async def test_a_node_start_on_env_file_gets_one_written(builder_service: Service) -> None:
    """``node --env-file=.env`` where the upload has only .env.sample: node exited 9."""
    service = builder_service
    with trio.fail_after(BUILD_WAIT):
        body = await launched(service, app_files("node_env_file"))
        assert body["status"] == "running", (body["errorMessage"], body["errorLines"])
        answer = await service.app_get(body, "/")
        assert answer.json() == {"greeting": "hello from the sample", "secretSet": True}
        said = messages(await service.history(body["gid"]), "system")
        assert any(m.startswith("no .env, which its start reads") for m in said), said
        assert (await service.stop(body["gid"])).status_code == 200


# c. The generic database names are the database's whose driver the app has.


def test_meanings_of_names() -> None:
    assert meaning("DB_NAME") == meaning("DATABASE_NAME") == meaning("SQL_DATABASE")
    assert meaning("DB_NAME").kind == DATABASE and meaning("DB_NAME").part == "name"
    assert meaning("POSTGRES_DB").engine == "postgresql" and meaning("MYSQL_PWD").engine == "mysql"
    assert meaning("PGHOST").part == "host" and meaning("DB_PASS").part == "password"
    assert meaning("SQLALCHEMY_DATABASE_URI").part == "url"
    # Glued, as libpq's own are (luisnquin's fastapi-restapi-sqlalchemy-v2: getenv("dbhost"))
    assert meaning("dbhost") == meaning("DB_HOST") and meaning("dbname") == meaning("DB_NAME")
    assert meaning("MYSQLPASSWORD") == meaning("MYSQL_PASSWORD")
    for glued in ("DBS", "DBPATH", "HOSTNAME", "USERNAME"):
        assert meaning(glued) is None, glued
    for engine in ("DB_ENGINE", "SQL_ENGINE", "DB_TYPE", "DB_DIALECT", "DATABASE_CLIENT"):
        assert meaning(engine).part == "engine", engine
    for none in ("MONGO_DB_NAME", "REDIS_DB", "DB_POOL_SIZE", "SECRET_KEY", "PORT", "HOST"):
        assert meaning(none) is None, none
    assert meaning("DJANGO_ALLOWED_HOSTS").kind == HOSTS
    assert meaning("APP_PORT").kind == OWN_PORT
    # The part first (DanielArturoAlejoAlvarez's REST-API-NodeJS-Sequelize: NAME_DB,
    # USER_DB, PASSWORD_DB; its own database name, left unset, had none of its tables).
    assert meaning("NAME_DB") == meaning("DB_NAME") and meaning("USER_DB") == meaning("DB_USER")
    assert meaning("PASSWORD_DB") == meaning("DB_PASSWORD") == meaning("password_database")
    for none in ("REDIS_DB", "MONGO_DB", "NAME_MONGO"):
        assert meaning(none) is None, none
    # A second database's, its qualifier after the part (fastery-dev-sas's
    # api-wallet-nestjs: DB_HOST_DATA_MANAGEMENT …, required, given stand-ins).
    assert meaning("DB_HOST_DATA_MANAGEMENT") == meaning("DB_HOST")
    assert meaning("DB_PASS_DATA_MANAGEMENT") == meaning("DB_PASSWORD")
    for none in ("DB_PASSWORD_FILE", "DB_NAME_PREFIX", "DB_HOST_REDIS", "DB_POOL_SIZE_MAX"):
        assert meaning(none) is None, none
    # A hosted database's add-on's URL, as its platform names it (Heroku's JawsDB).
    assert meaning("JAWSDB_URL") == meaning("JAWSDB_MARIA_URL") == meaning("DATABASE_URL")
    assert meaning("ELEPHANTSQL_URL") == meaning("DATABASE_URL")
    # An ORM's own settings as a config module names them (deger4beger's clean-fastify:
    # TYPE_ORM_HOST, TYPE_ORM_PORT …, its TypeORM dialling its default localhost:3060).
    assert meaning("TYPE_ORM_HOST") == meaning("TYPEORM_HOST") == meaning("DB_HOST")
    assert meaning("TYPE_ORM_PORT") == meaning("DB_PORT")
    assert meaning("TYPE_ORM_CONNECTION") == meaning("DB_ENGINE")
    assert meaning("MIKRO_ORM_DB_NAME") == meaning("SEQUELIZE_DATABASE") == meaning("DB_NAME")
    assert meaning("KNEX_USER") == meaning("DB_USER")
    for none in ("TYPE_ORM_SYNCHRONIZE", "ORM_LOGGING", "SEQUELIZE_AUTO_LOAD_MODELS"):
        assert meaning(none) is None, none


def test_a_dsn_is_a_database_url_by_its_name_or_its_type() -> None:
    """nikhilgupta345's fastapi-postgres-docker: ``postgres_dsn: PostgresDsn``."""
    assert meaning("POSTGRES_DSN") == Meaning(DATABASE, "url", "postgresql")
    assert meaning("DATABASE_DSN") == meaning("DB_DSN") == Meaning(DATABASE, "url")
    assert meaning("SQLALCHEMY_DATABASE_DSN") == Meaning(DATABASE, "url")
    assert meaning("SENTRY_DSN") is None and meaning("REDIS_DSN") is None
    # A connection string too (s4imu's Flask-Jobs: os.environ['db_connection_string'],
    # "needed"), a database's alone.
    assert meaning("db_connection_string") == meaning("SQL_CONN_STRING") == Meaning(DATABASE, "url")
    assert meaning("REDIS_CONNECTION_STRING") is None and meaning("CONNECTION_STRING") is None
    # The declared type says more than the name: its engine, or that it is one at all.
    assert meaning("DATABASE_DSN", "PostgresDsn") == Meaning(DATABASE, "url", "postgresql")
    assert meaning("REPLICA", "Optional[PostgresDsn]") == Meaning(DATABASE, "url", "postgresql")
    assert (
        meaning("DB", "MySQLDsn")
        == meaning("DB", "MariaDBDsn")
        == Meaning(DATABASE, "url", "mysql")
    )
    assert meaning("DB_CONNECTION", "PostgresDsn").part == "url"  # not an engine's name
    assert meaning("SENTRY_DSN", "HttpUrl") is None and meaning("REDIS", "RedisDsn") is None


def test_the_database_url_is_given_under_the_names_the_app_reads_one_by() -> None:
    files = _bytes("fastapi_pg_dsn_unset")
    served = "postgresql://postgres:postgres@127.0.0.1:5432/app"
    env = {"DATABASE_URL": served, "POSTGRES_URL": served, "PORT": "8000"}
    found = database_urls_by_meaning(files, env, {}, "python")
    assert found == {"POSTGRES_DSN": served, "REPLICA": served}
    # Set by the app or the user: its own; an engine's name takes only that engine's URL.
    assert "POSTGRES_DSN" not in database_urls_by_meaning(
        files, env, {"POSTGRES_DSN": "postgresql://own/x"}, "python"
    )
    sqlite = {"DATABASE_URL": "sqlite:////tmp/app.db"}
    assert database_urls_by_meaning(files, sqlite, {}, "python") == {}
    generic = {"app.py": b"import os\nurl = os.environ['DATABASE_DSN']\n"}
    # One with a default of the app's own (miguelgrinberg's flasky's development SQLite
    # file) is left to it: given the PostgreSQL, its era's psycopg2 failed to load.
    fallback = b"import os\nURL = os.environ.get('DEV_DATABASE_URL') or 'sqlite:///dev.db'\n"
    assert database_urls_by_meaning({"config.py": fallback}, env, {}, "python") == {}
    assert database_urls_by_meaning(generic, sqlite, {}, "python") == {
        "DATABASE_DSN": "sqlite:////tmp/app.db"
    }
    node = {
        "package.json": b'{"dependencies": {"pg": "^8"}}',
        "src/db.js": b"const pool = new Pool({ connectionString: process.env.PG_DSN })\n",
    }
    assert database_urls_by_meaning(node, env, {}, "node") == {"PG_DSN": served}
    # A server given by its parts (a MariaDB's DB_HOST …, MYSQL_HOST …): the SQLite file
    # DATABASE_URL still names is no URL by meaning (Time-Tracker's express-sequelize-api,
    # CLEARDB_DATABASE_URL: "The dialect sqlite is not supported"); the URL its parts make
    # is (stealergood's vehicle-rental-express parses Heroku's JAWSDB_URL, unset: "Cannot
    # read properties of undefined (reading 'match')").
    heroku = {"server.js": b"const url = process.env.CLEARDB_DATABASE_URL\n"}
    parts = {"DB_HOST": "127.0.0.1", "DB_PORT": "3306", "MYSQL_HOST": "127.0.0.1"}
    parts |= {"DB_USER": "root", "DB_PASSWORD": "p@ss", "DB_NAME": "app"}
    mariadb = {**sqlite, **parts, "MYSQL_PORT": "3306"}
    assert database_urls_by_meaning(heroku, sqlite, {}, "node") == {
        "CLEARDB_DATABASE_URL": "sqlite:////tmp/app.db"
    }
    made = "mysql://root:p%40ss@127.0.0.1:3306/app"
    assert database_urls_by_meaning(heroku, mariadb, {}, "node") == {"CLEARDB_DATABASE_URL": made}
    jawsdb = {"src/db.js": b"const dbUrl = process.env.JAWSDB_URL;\n"}
    assert database_urls_by_meaning(jawsdb, mariadb, {}, "node") == {"JAWSDB_URL": made}


def test_a_services_switch_is_read_by_its_name() -> None:
    assert meaning("KAFKA_ENABLED") == Meaning(SWITCH, "on", "kafka")
    assert meaning("ENABLE_KAFKA") == meaning("APP_KAFKA_ENABLED") == meaning("KAFKA_ENABLED")
    assert meaning("USE_ELASTICSEARCH") == Meaning(SWITCH, "on", "elasticsearch")
    assert meaning("DISABLE_KAFKA") == meaning("KAFKA_DISABLED") == Meaning(SWITCH, "off", "kafka")
    # RabbitMQ's by its protocol's word, on by ACTIVE (ismaelalvesgit's
    # node-express-hexagonal: AMQP_ACTIVE=true in its .env.example, ECONNREFUSED on 5672).
    assert meaning("AMQP_ACTIVE") == meaning("USE_AMQP") == Meaning(SWITCH, "on", "rabbitmq")
    for none in ("KAFKA_SSL_ENABLED", "KAFKA_BOOTSTRAP_SERVERS", "DEBUG_ENABLED", "USE_TZ"):
        assert meaning(none) is None, none
    # RabbitMQ by its protocol's name, switched on by "active" (ismaelalvesgit's
    # node-express-hexagonal: AMQP_ACTIVE=true, its broker nowhere: AggregateError).
    assert meaning("AMQP_ACTIVE") == meaning("USE_RABBIT") == Meaning(SWITCH, "on", "rabbitmq")
    assert meaning("ELASTIC_ENABLED") == Meaning(SWITCH, "on", "elasticsearch")
    assert meaning("USER_ACTIVE") is None and meaning("AMQP_HOSTNAME") is None
    assert meaning("ACCOUNT_ACTIVE") is None and meaning("AMQP_HOSTNAME") is None


def test_the_switches_of_services_none_is_here_are_turned_off() -> None:
    files = _bytes("fastapi_kafka_switch")
    found = config_defaults(files, "main.py", {}, {"PORT": "8000"})
    assert found.values["KAFKA_ENABLED"] == "false"
    assert found.values["USE_ELASTICSEARCH"] == "false"
    assert any("turned off" in note for note in found.notes), found.notes
    # The user's (or its .env's) own stays; an example's true is its author's broker's.
    given = config_defaults(files, "main.py", {"KAFKA_ENABLED": "true"}, {"PORT": "8000"})
    assert "KAFKA_ENABLED" not in given.values
    example = {**files, ".env.example": b"KAFKA_ENABLED=true\nDISABLE_KAFKA=false\n"}
    found = config_defaults(example, "main.py", {}, {"PORT": "8000"})
    assert (found.values["KAFKA_ENABLED"], found.values["DISABLE_KAFKA"]) == ("false", "true")
    amqp = {**files, ".env.example": b"AMQP_ACTIVE=true\nAMQP_HOSTNAME=localhost\n"}
    assert config_defaults(amqp, "main.py", {}, {"PORT": "8000"}).values["AMQP_ACTIVE"] == "false"
    # A Node app's, read from its code, its example's true (AMQP_ACTIVE: RabbitMQ's).
    node = {
        "package.json": b'{"dependencies": {"amqplib": "^0.10"}, "scripts": {"start": "x"}}',
        ".env.example": b"AMQP_ACTIVE=true\nAMQP_HOSTNAME=localhost\n",
        "src/env.ts": b'export const on = process.env.AMQP_ACTIVE === "true";\n',
    }
    found = config_defaults(node, "package.json", {}, {"PORT": "8000"})
    assert found.values["AMQP_ACTIVE"] == "false"


async def test_an_app_whose_kafka_has_a_switch_starts_with_it_off(
    builder_service: Service,
) -> None:
    service = builder_service
    with trio.fail_after(BUILD_WAIT):
        body = await launched(service, app_files("fastapi_kafka_switch"))
        assert body["status"] == "running", (body["errorMessage"], body["errorLines"])
        answer = await called(service, body)
        assert answer["data"] == {"kafka": False, "elasticsearch": False}
        assert (await service.stop(body["gid"])).status_code == 200


@needs_server
async def test_an_app_reading_its_database_url_as_a_dsn_runs_on_its_postgres(
    builder_service: Service,
) -> None:
    """nikhilgupta345's fastapi-postgres-docker: its compose file (outside the upload)
    gives POSTGRES_DSN; without it, "POSTGRES_DSN field required" beside the preview's
    own PostgreSQL. The names that mean its URL get the preview's."""
    service = builder_service
    with trio.fail_after(BUILD_WAIT):
        body = await launched(service, app_files("fastapi_pg_dsn_unset"))
        assert body["status"] == "running", (body["errorMessage"], body["errorLines"])
        answer = await called(service, body)
        assert answer["data"] == {"one": 1, "same": True}
        assert (await service.stop(body["gid"])).status_code == 200


def test_the_mariadb_gives_the_generic_names_too() -> None:
    assert MARIADB_ENV["DB_NAME"] == MARIADB_ENV["DATABASE_NAME"] == "shop"
    assert MARIADB_ENV["DB_USER"] == "shop" and MARIADB_ENV["DB_PASSWORD"] == "shop-secret"
    assert MARIADB_ENV["DB_HOST"] == "mysql" and MARIADB_ENV["DB_PORT"] == "3306"
    served = served_database(MARIADB_ENV)
    assert served is not None and served.engine == "mysql"
    served = served_database(POSTGRES_ENV)
    assert served is not None and served.engine == "postgresql" and served.name == "app"
    assert served_database({"PORT": "3000"}) is None


# d. The engine a settings file reads is the provided database's, in its framework's words.


def test_sqlalchemys_drivername_is_the_engines_name() -> None:
    """jcpagsinohin's flask-fitness-app: ``URL.create(os.getenv('DB_DRIVERNAME'),
    username=os.getenv('DB_USERNAME'), …)``, no example env: DB_DRIVERNAME unset was
    "drivername must be a string"; it is SQLAlchemy's name of the served engine."""
    assert meaning("DB_DRIVERNAME") == meaning("DB_ENGINE")
    config = (
        b"import os\nfrom sqlalchemy import URL\n\nclass Config:\n"
        b"    SQLALCHEMY_DATABASE_URI = URL.create(os.getenv('DB_DRIVERNAME'), "
        b"username=os.getenv('DB_USERNAME'), host=os.getenv('DB_HOST'), "
        b"database=os.getenv('DB_NAME'))\n"
    )
    files = {"config.py": config, "app.py": b"from flask import Flask\napp = Flask(__name__)\n"}
    found = config_defaults(files, "app.py", {}, dict(POSTGRES_ENV))
    assert found.values["DB_DRIVERNAME"] == "postgresql"


def test_engines_read_by_mode_in_a_conditional_are_each_given_their_dialect() -> None:
    """mitidevus's fastapi-practice: ``engine = os.environ.get("DB_ENGINE") if not
    asyncMode else os.environ.get("ASYNC_DB_ENGINE")`` in a function building both URLs;
    neither was read (a conditional's branches counted as fallbacks), and
    create_engine("None://…") failed. Both are read; the async one names SQLAlchemy's
    async dialect of the served database."""
    settings = (
        b"import os\n\ndef url(asyncMode=False):\n"
        b'    engine = os.environ.get("DB_ENGINE") if not asyncMode else '
        b'os.environ.get("ASYNC_DB_ENGINE")\n'
        b'    host = os.environ.get("DB_HOST")\n'
        b'    return f"{engine}://{host}/x"\n'
        b"URL = url()\nASYNC_URL = url(asyncMode=True)\n"
    )
    database = b"from sqlalchemy.ext.asyncio import create_async_engine\n"
    files = {"app/settings.py": settings, "app/database.py": database, "app/main.py": b""}
    found = config_defaults(files, "app/main.py", {}, dict(POSTGRES_ENV))
    assert found.values["DB_ENGINE"] == "postgresql"
    assert found.values["ASYNC_DB_ENGINE"] == "postgresql+asyncpg"
    assert engine_value("mysql", "DB_ASYNC_ENGINE", False, sqlalchemy=True) == "mysql+aiomysql"
    # A variable naming the driver alone, after the dialect's "+" (xeavveed's fastapi-
    # seminar-assignment6: f"{DB_DIALECT}+{DB_ASYNC_DRIVER}://…", given "sqlite+aiosqlite"
    # as its driver: "too many values to unpack"): the driver's name.
    assert engine_value("sqlite", "DB_ASYNC_DRIVER", False, sqlalchemy=True) == "aiosqlite"
    assert engine_value("postgresql", "DB_DRIVER", False, sqlalchemy=True) == "psycopg2"
    assert engine_value("postgresql", "DB_DRIVERNAME", False, sqlalchemy=True) == "postgresql"
    # A constant on one side is the other's fallback, as before.
    fallback = settings.replace(b'os.environ.get("ASYNC_DB_ENGINE")', b'"sqlite"')
    found = config_defaults({**files, "app/settings.py": fallback}, "app/main.py", {}, {})
    assert "DB_ENGINE" not in found.reads


def test_the_engine_string_matches_the_database_and_the_framework() -> None:
    assert engine_value("mysql", "DB_ENGINE", django=True) == "django.db.backends.mysql"
    assert engine_value("postgresql", "DB_ENGINE", True) == "django.db.backends.postgresql"
    assert engine_value("postgresql", "DB_TYPE", django=False) == "postgres"
    assert engine_value("mysql", "DB_CLIENT", django=False) == "mysql2"
    files = _bytes("django_mysql_db_env")
    found = config_defaults(files, "manage.py", {}, dict(MARIADB_ENV))
    assert found.values["DB_ENGINE"] == "django.db.backends.mysql"
    assert "DB_NAME" not in found.values  # the service's own, not a default
    found = config_defaults(files, "manage.py", {}, dict(POSTGRES_ENV))
    assert found.values["DB_ENGINE"] == "django.db.backends.postgresql"
    found = config_defaults(files, "manage.py", {}, {"PORT": "8000"})  # no server given
    assert found.values["DB_ENGINE"] == "django.db.backends.sqlite3"
    assert found.values["DB_NAME"] == "db.sqlite3"
    given = config_defaults(files, "manage.py", {"DB_ENGINE": "x"}, dict(MARIADB_ENV))
    assert "DB_ENGINE" not in given.values  # the app's own stays
    # JoaoPedro8807's drf-hotel-api: its DATABASES in settings/databases.py, which never
    # says "django"; "'postgres' isn't an available database backend" for DB_ENGINE.
    split = {
        "api/manage.py": b"import os\nos.environ.setdefault('DJANGO_SETTINGS_MODULE', 'p.s')\n",
        "api/p/settings/databases.py": (
            b"import os\nDATABASES = {'default': {'ENGINE': os.environ.get('DB_ENGINE', ''),"
            b" 'NAME': os.environ.get('POSTGRES_DB', '')}}\n"
        ),
    }
    found = config_defaults(split, "api/manage.py", {}, dict(POSTGRES_ENV))
    assert found.values["DB_ENGINE"] == "django.db.backends.postgresql"
    # phan-tang's fastapi-ecommerce: f"{DB_ENGINE}://…" for SQLAlchemy's create_engine,
    # which refuses postgres:// ("Can't load plugin: sqlalchemy.dialects:postgres").
    assert engine_value("postgresql", "DB_ENGINE", False, sqlalchemy=True) == "postgresql"
    settings = b"import os\nengine = os.environ.get('DB_ENGINE')\nURL = f'{engine}://'\n"
    orm = {"config/settings.py": settings, "database.py": b"from sqlalchemy import create_engine\n"}
    found = config_defaults(orm, "main.py", {}, dict(POSTGRES_ENV))
    assert found.values["DB_ENGINE"] == "postgresql"
    plain = {**orm, "database.py": b"import psycopg2\n"}
    assert (
        config_defaults(plain, "main.py", {}, dict(POSTGRES_ENV)).values["DB_ENGINE"] == "postgres"
    )


def test_an_engine_its_configuration_names_mysql_asks_for_its_mariadb() -> None:
    example = (
        b"DB_ENGINE=django.db.backends.mysql\nDB_NAME=shop\nDB_USER=shop\nDB_PASSWORD=x\n"
        b"DB_HOST=localhost\nDB_PORT=3306\n"
    )
    files = {"requirements.txt": b"Django\nmysqlclient\n", "manage.py": b""}
    files[".env.example"] = example
    found = wanted_servers(files, "manage.py", {})
    assert found.mysql is not None and found.mysql.accounts == {"shop": "x"}
    assert "its DB_ENGINE (django.db.backends.mysql)" in found.mysql.why
    files[".env.example"] = b"DB_ENGINE=django.db.backends.postgresql\n"
    assert wanted_servers(files, "manage.py", {}).mysql is None


def test_a_database_part_under_a_name_of_its_own_is_the_served_ones() -> None:
    """django-on-docker's SQL_ENGINE, SQL_DATABASE, SQL_USER …, read without defaults."""
    settings = (
        "import os\nDATABASES = {'default': {'ENGINE': os.environ.get('SQL_ENGINE'),\n"
        "  'NAME': os.environ.get('SQL_DATABASE'), 'USER': os.environ.get('SQL_USER'),\n"
        "  'PASSWORD': os.environ.get('SQL_PASSWORD'), 'HOST': os.environ.get('SQL_HOST'),\n"
        "  'PORT': os.environ.get('SQL_PORT')}}\nimport django\n"
    )
    files = {"manage.py": b"", "app/settings.py": settings.encode(), ".env.sample": b"SQL_HOST=\n"}
    found = config_defaults(files, "manage.py", {}, dict(POSTGRES_ENV))
    assert found.values == {
        "SQL_ENGINE": "django.db.backends.postgresql",
        "SQL_DATABASE": "app",
        "SQL_USER": "postgres",
        "SQL_PASSWORD": "postgres",
        "SQL_HOST": "127.0.0.1",
        "SQL_PORT": "5432",
    }
    assert any("by what their names say" in note for note in found.notes)


def test_an_engines_own_names_are_its_server_where_the_generic_ones_are_the_others() -> None:
    """soerjo's nestjs-crud-auth, on both engines: ``SERVER_DB_MYSQL_USERNAME`` … beside
    ``SERVER_DB_POSTGRES_USERNAME`` …, read in its code only. The generic names went to its
    PostgreSQL, its MySQL's parts were never given: "Access denied for user ''@'localhost'"."""
    code = "".join(
        f"{part}: process.env.SERVER_DB_{engine}_{name},\n"
        for engine in ("MYSQL", "POSTGRES")
        for part, name in (
            ("host", "HOST"),
            ("port", "PORT"),
            ("username", "USERNAME"),
            ("password", "PASSWORD"),
            ("database", "DATABASE"),
        )
    )
    files = {
        "package.json": b'{"dependencies": {"mysql2": "^3", "pg": "^8", "typeorm": "^0.3"}}',
        "src/db.ts": f"export const options = {{\n{code}}};\n".encode(),
    }
    both = {**MARIADB_ENV, **POSTGRES_ENV}  # the generic names PostgreSQL's (Backing.env)
    found = config_defaults(files, "package.json", {}, both)
    assert {k: v for k, v in found.values.items() if "_MYSQL_" in k} == {
        "SERVER_DB_MYSQL_HOST": MARIADB_ENV["MYSQL_HOST"],
        "SERVER_DB_MYSQL_PORT": MARIADB_ENV["MYSQL_PORT"],
        "SERVER_DB_MYSQL_USERNAME": MARIADB_ENV["MYSQL_USER"],
        "SERVER_DB_MYSQL_PASSWORD": MARIADB_ENV["MYSQL_PASSWORD"],
        "SERVER_DB_MYSQL_DATABASE": MARIADB_ENV["MYSQL_DATABASE"],
    }
    assert found.values["SERVER_DB_POSTGRES_USERNAME"] == POSTGRES_ENV["PGUSER"]
    assert found.values["SERVER_DB_POSTGRES_PORT"] == POSTGRES_ENV["PGPORT"]


async def test_a_django_app_on_db_engine_and_db_names_runs_on_its_mariadb(
    builder_service: Service,
) -> None:
    """A held-out Django app read DB_NAME … for its MySQL, given only MYSQL_*; another
    read its ENGINE from DB_ENGINE, given every DB_* but it."""
    service = builder_service
    require_sandbox(service)
    if mariadb_binary() is None:
        pytest.skip("mariadbd is not installed")
    with trio.fail_after(BUILD_WAIT):
        body = await _running(service, app_files("django_mysql_db_env"))
        added = await service.app_request(body, "POST", "/", content=b"apple")
        assert added.status_code == 200, added.text
        found = added.json()
        assert found["vendor"] == "mysql" and "MariaDB" in found["version"]
        assert found["database"] == "shop" and found["user"].split("@")[0] == "shop"
        assert found["items"] == ["apple"]
        assert (await service.stop(body["gid"])).status_code == 200


# e. Generic names a compose file maps onto a database service mean that database.


def test_a_compose_files_generic_names_mean_its_database() -> None:
    environment = {
        "HOST": "db",
        "PORT": "3306",
        "USER": "shop",
        "PASSWORD": "x",
        "DATABASE": "shop",
        "NAME": "my-api",
        "APP_PORT": "4000",
    }
    assert compose_database_names(environment, {"db": "mysql"}) == {
        "HOST": "host",
        "PORT": "port",
        "USER": "user",
        "PASSWORD": "password",
        "DATABASE": "name",
    }
    assert compose_database_names(environment, {"cache": "mysql"}) == {}
    prefixed = {"APP_DB_HOST": "mysql", "APP_DB_PORT": "3306", "APP_PORT": "4000"}
    assert compose_database_names(prefixed, {"mysql": "mysql"}) == {
        "APP_DB_HOST": "host",
        "APP_DB_PORT": "port",
    }
    files = _bytes("express_mysql_compose_env")
    wanted = wanted_servers(files, "package.json", {})
    assert wanted.mysql is not None and wanted.mysql.accounts["shop"] == "shop-secret"
    # The account and database its own service names, where the server's names none.
    own = dict(files)
    server = b"    environment:\n      MYSQL"  # the db service's environment, and after it
    own["docker-compose.yml"] = files["docker-compose.yml"].split(server)[0]
    wanted = wanted_servers(own, "package.json", {})
    assert wanted.mysql is not None and wanted.mysql.accounts == {"shop": "shop-secret"}
    assert wanted.mysql.databases == ["shop"]
    values = compose_database_values(files, {}, MARIADB_ENV)
    assert values == {
        "HOST": "mysql",
        "PORT": "3306",
        "USER": "shop",
        "PASSWORD": "shop-secret",
        "DATABASE": "shop",
    }
    # Its own server reads APP_PORT: the service's port goes there.
    assert _own_port_names(files) == ["APP_PORT"]
    # An app listening on $PORT keeps it: its database's port cannot be given there.
    on_port = dict(files)
    listen = files["index.js"].replace(b"process.env.APP_PORT || 4000", b"process.env.PORT")
    on_port["index.js"] = listen
    assert "PORT" not in compose_database_values(on_port, {}, MARIADB_ENV)
    # Nothing of it without the database served.
    assert compose_database_values(files, {}, {}) == {}


# f. A host list read with a default (Csv(), env.list) is every host.


def test_a_host_list_read_with_a_default_is_every_host() -> None:
    files = _bytes("django_csv_hosts")
    assert {"ALLOWED_HOSTS", "DJANGO_ALLOWED_HOSTS"} <= read_variables(files)
    found = config_defaults(files, "manage.py", {}, set())
    assert found.values["ALLOWED_HOSTS"] == "*" and found.values["DJANGO_ALLOWED_HOSTS"] == "*"
    assert "ALLOWED_HOSTS" in found.generated
    mine = config_defaults(files, "manage.py", {"ALLOWED_HOSTS": "shop.test"}, set())
    assert "ALLOWED_HOSTS" not in mine.values  # the user's own .env stays


async def test_an_express_app_reads_its_mysql_from_the_names_its_compose_file_gives(
    builder_service: Service,
) -> None:
    """A held-out Express app read HOST/PORT/USER/PASSWORD for its MySQL, as its compose
    file's app service sets them: it was given the service's own PORT as its database's."""
    service = builder_service
    require_sandbox(service)
    if mariadb_binary() is None:
        pytest.skip("mariadbd is not installed")
    with trio.fail_after(BUILD_WAIT):
        body = await launched(service, app_files("express_mysql_compose_env"))
        events = await service.history(body["gid"])
        assert body["status"] == "running", (
            body["errorMessage"],
            body["errorLines"],
            messages(events, "system"),
        )
        answer = await service.app_get(body, "/")
        if answer.status_code != 200:  # its log since: the app's error, and its MariaDB's
            events = await service.history(body["gid"])
        # Its MariaDB's lines too: a CI run's "Connection lost" told nothing of whether
        # that server had answered, exited or not answered in its time.
        assert answer.status_code == 200, (
            answer.text,
            messages(events, "app")[-20:],
            [m for m in messages(events, "system") if "MariaDB" in m],
        )
        assert "MariaDB" in answer.json()["version"] and answer.json()["db"] == "shop"
        assert (await service.stop(body["gid"])).status_code == 200


# g. Generic names the code gives a database client's settings mean that database.


def test_names_given_to_a_database_connections_settings_mean_its_parts() -> None:
    files = _bytes("django_pg_host_port")
    assert database_option_variables(files) == {
        "POSTGRES_DB": "DB_NAME",
        "LOGIN": "DB_USER",
        "POSTGRES_PASSWORD": "DB_PASSWORD",
        "HOST": "DB_HOST",
        "PORT": "DB_PORT",
    }
    # A connection's keywords alike; a mail server's or a cache's settings are none.
    code = b"""import os, pymysql, smtplib
db = pymysql.connect(host=os.getenv("HOST"), user=os.getenv("ACCOUNT"), db="shop")
MAIL = {"host": os.getenv("MAIL_HOST"), "port": os.getenv("MPORT"), "user": os.getenv("U")}
cache = Redis(host=os.getenv("RHOST"), port=os.getenv("RPORT"), password=os.getenv("RPW"))
"""
    assert database_option_variables({"app.py": code}) == {"HOST": "DB_HOST", "ACCOUNT": "DB_USER"}
    # Redis's db is a number, its client and its variables named for it: no SQL database's.
    code = b"""import os, redis
cache = redis.Redis(host=os.getenv("CHOST"), port=os.getenv("CPORT", 6379), db=0)
queue = Redis(host=os.getenv("QHOST"), port=os.getenv("QPORT"), db=int(os.getenv("QDB", 0)))
store = StrictRedis(host=os.getenv("SHOST"), port=os.getenv("SPORT"), db=os.getenv("SDB"))
QUEUE = {"host": os.getenv("REDIS_HOST"), "port": os.getenv("REDIS_PORT"), "db": os.getenv("N")}
mysql = MySQLdb.connect(host=os.getenv("MHOST"), user=os.getenv("MUSER"), db=os.getenv("MDB"))
"""
    assert database_option_variables({"app.py": code}) == {
        "MHOST": "DB_HOST",
        "MUSER": "DB_USER",
        "MDB": "DB_NAME",
    }
    provided = {**POSTGRES_ENV, "PORT": "8000", "HOST": "127.0.0.1"}
    found = config_defaults({"app.py": code}, "app.py", {}, provided)
    assert not {"CHOST", "CPORT", "QHOST", "QPORT", "SHOST", "SPORT", "SDB"} & found.values.keys()
    # deaxparadox's task-flask-user-api: an f-string URL's parts, each by its place.
    code = b"""import os
USERNAME = os.environ.get("USERNAME")
HOST = os.environ.get("HOST")
PORT = os.environ.get("PORT")
URL = f"mysql+pymysql://{USERNAME}:{os.environ['PW']}@{HOST}:{PORT}/{os.getenv('NAME')}"
CACHE = f"redis://{HOST}:{PORT}/0"
"""
    assert database_option_variables({"settings.py": code}) == {
        "USERNAME": "DB_USER",
        "PW": "DB_PASSWORD",
        "HOST": "DB_HOST",
        "PORT": "DB_PORT",
        "NAME": "DB_NAME",
    }


def test_names_a_module_binds_its_reads_to_mean_their_parts() -> None:
    """delvin-pf's restapi-fastapi: ``DATABASE_HOST = os.environ.get('HOST')`` and its
    like (DATABASE, PORT, USER, PASSWORD), names that say nothing alone bound to names
    that say what they are; rajerez's restapi-fastapi: ``conn_str = config("CONNSTR")``
    given to ``create_engine``. Each ran on stand-ins."""
    code = b"""import os
from decouple import config
from sqlalchemy import create_engine
DATABASE_NAME = os.environ.get('DATABASE')
DATABASE_HOST = os.environ.get('HOST')
DATABASE_PORT = os.environ.get('PORT')
DATABASE_USER = os.environ.get('USER')
DATABASE_PASS = os.environ.get('PASSWORD')
REDIS_HOST = os.environ.get('CACHE')
DB_HOST = os.environ.get('POSTGRES_HOST')
conn_str = config("CONNSTR")
engine = create_engine(conn_str)
"""
    assert database_option_variables({"app/db.py": code}) == {
        "DATABASE": "DB_NAME",
        "HOST": "DB_HOST",
        "PORT": "DB_PORT",
        "USER": "DB_USER",
        "PASSWORD": "DB_PASSWORD",
        "CONNSTR": "DATABASE_URL",
    }


def test_an_f_string_urls_parts_imported_from_a_settings_module_mean_those_parts() -> None:
    """afshario's fastapi-feedback-system: its db.py builds ``f"mysql+pymysql://{USER}:
    {PASS}@{SERVER}:{PORT}/{DB}"`` of names ``from config import …`` brings, which
    config.py reads from the environment (both run from ``src/``): given nothing, it
    connected to MySQL "on 'None'"."""
    config = b"""import os
USER = os.getenv("USER")
PASS = os.getenv("PASS")
SERVER = os.getenv("SERVER")
PORT = os.getenv("PORT")
DB = os.getenv("DB")
"""
    db = b"""from sqlalchemy import create_engine
from config import USER, PASS as PASSWORD, SERVER, PORT, DB
engine = create_engine(f"mysql+pymysql://{USER}:{PASSWORD}@{SERVER}:{PORT}/{DB}")
"""
    files = {"src/config.py": config, "src/db.py": db, "src/app.py": b"import db\n"}
    assert database_option_variables(files) == {
        "USER": "DB_USER",
        "PASS": "DB_PASSWORD",
        "SERVER": "DB_HOST",
        "PORT": "DB_PORT",
        "DB": "DB_NAME",
    }
    found = config_defaults(files, "src/app.py", {}, MARIADB_ENV)
    assert (found.values["SERVER"], found.values["DB"]) == (
        MARIADB_ENV["DB_HOST"],
        MARIADB_ENV["DB_NAME"],
    )
    # A name imported from elsewhere than the upload (or not read there) means nothing.
    outside = {**files, "src/config.py": b"USER = 'app'\n"}
    assert database_option_variables(outside) == {}


def test_sqlite_named_where_the_code_writes_a_servers_url_gives_way_to_the_served_one() -> None:
    """luantien's fastapi-tour: ``.env.sample`` gives ``DB_ENGINE=sqlite``,
    ``DB_NAME=sample.db`` and leaves host, user and password empty; settings.py writes
    ``f"{engine}://{username}:{password}@{dbhost}/{dbname}"`` (psycopg2 listed): no
    PostgreSQL was given, and SQLAlchemy refused ``sqlite://:@/sample.db``. No SQLite URL
    has an account and a host: the served PostgreSQL's engine and name stand instead."""
    settings = b"""import os
def get_connection_string():
    engine = os.environ.get("DB_ENGINE")
    dbhost = os.environ.get("DB_HOST")
    username = os.environ.get("DB_USERNAME")
    password = os.environ.get("DB_PASSWORD")
    dbname = os.environ.get("DB_NAME")
    return f"{engine}://{username}:{password}@{dbhost}/{dbname}"
SQLALCHEMY_DATABASE_URL = get_connection_string()
"""
    files = {
        "requirements.txt": b"fastapi\nSQLAlchemy==2.0.9\npsycopg2-binary==2.9.6\n",
        "app/.env.sample": b"DB_ENGINE=sqlite\nDB_HOST=\nDB_USERNAME=\nDB_PASSWORD=\n"
        b"DB_NAME=sample.db\n",
        "app/settings.py": settings,
        "app/database.py": b"from sqlalchemy import create_engine\n"
        b"from settings import SQLALCHEMY_DATABASE_URL\n"
        b"engine = create_engine(SQLALCHEMY_DATABASE_URL)\n",
        "app/main.py": b"from fastapi import FastAPI\nimport database\napp = FastAPI()\n",
    }
    assert postgres_wants(files, {}).driver == "psycopg2-binary (requirements.txt)"
    found = config_defaults(files, "app/main.py", {}, POSTGRES_ENV)
    assert found.values["DB_ENGINE"] == "postgresql"
    assert "DB_NAME" not in found.values  # the served database's, as the service sets it
    # MySQL's driver alone listed: its MariaDB likewise.
    on_mysql = {**files, "requirements.txt": b"fastapi\nSQLAlchemy==2.0.9\nPyMySQL==1.1.0\n"}
    mysql = wanted_servers(on_mysql, "app/main.py", {}).mysql
    assert mysql is not None and any("DB_ENGINE (SQLite's" in why for why in mysql.why)
    found = config_defaults(on_mysql, "app/main.py", {}, MARIADB_ENV)
    assert found.values["DB_ENGINE"] == "mysql"
    # A URL with no account nor host (SQLite's own form) keeps its example's SQLite.
    own = settings.replace(b"{username}:{password}@{dbhost}/", b"/")
    files = {**files, "app/settings.py": own}
    assert postgres_wants(files, {}).driver is None
    assert config_defaults(files, "app/main.py", {}, POSTGRES_ENV).values["DB_ENGINE"] == "sqlite"
    assert wanted_servers({**on_mysql, "app/settings.py": own}, "app/main.py", {}).mysql is None


def test_a_database_setting_read_with_a_default_gets_the_served_databases_part() -> None:
    """Frengocode's DRF-Post-App reads ``"PORT": os.getenv("PG_PORT", "5432")`` and loads
    ``.envs/.env`` first, whose ``PG_PORT = "port"`` won where the preview gave nothing
    (psycopg2: invalid integer value "port")."""
    code = b"""import os
from dotenv import load_dotenv
load_dotenv(dotenv_path=".envs/.env")
DATABASES = {"default": {"ENGINE": "django.db.backends.postgresql", "NAME": "posts",
    "HOST": os.getenv("PG_HOST", "localhost"), "PORT": os.getenv("PG_PORT", "5432")}}
"""
    files = {"settings.py": code, ".envs/.env": b'PG_HOST = "host"\nPG_PORT = "port"\n'}
    found = config_defaults(files, "settings.py", {}, POSTGRES_ENV)
    assert (found.values["PG_HOST"], found.values["PG_PORT"]) == ("127.0.0.1", "5432")


def test_host_and_port_given_to_the_database_are_its_where_the_start_binds_the_port() -> None:
    files = _bytes("django_pg_host_port")
    detection = detect(files)
    assert detection is not None and "{port}" in " ".join(detection.argv)
    values = option_database_values(files, POSTGRES_ENV, detection)
    assert values == {"PORT": POSTGRES_ENV["PGPORT"], "HOST": POSTGRES_ENV["PGHOST"]}
    # Its other names are filled by their meaning, its author's defaults not kept.
    found = config_defaults(files, "manage.py", {}, POSTGRES_ENV)
    assert found.values["LOGIN"] == POSTGRES_ENV["PGUSER"]
    # A start that listens on $PORT keeps it (its database cannot be given there).
    procfile = {**files, "Procfile": b"web: gunicorn shop.wsgi --bind 0.0.0.0:$PORT\n"}
    assert option_database_values(procfile, POSTGRES_ENV, detect(procfile)) == {}
    # Nothing without a served database.
    assert option_database_values(files, {}, detection) == {}


def test_a_port_written_in_a_module_that_starts_no_server_is_not_the_apps_own() -> None:
    """alchemistphantom's RestFull-API-Job-Posting: its config module gives ``port:
    process.env.PORT`` beside its MySQL's options, and its server listens on
    ``config.port``; its Redis helper's ``const port = 6000`` was taken for a port its
    server listens on, so PORT was given its MySQL's 3306 (listen EADDRINUSE). A port
    written in code counts where that module starts a server."""
    config = b"""module.exports = {
  database: { mysql: { host: process.env.DB_HOST, user: process.env.DB_USER,
    password: process.env.DB_PASSWORD, database: process.env.DB_NAME } },
  port: process.env.PORT,
};
"""
    files = {
        "package.json": b'{"scripts": {"start": "node app.js"}, "dependencies": {"mysql": "^2"}}',
        "app.js": b"const config = require('./src/configs');\n"
        b"require('express')().listen(config.port);\n",
        "src/configs.js": config,
        "src/helper/redis.js": b"const port = 6000;\nmodule.exports = require('redis')(port);\n",
    }
    detection = detect(files)
    assert option_database_values(files, MARIADB_ENV, detection) == {}
    files["app.js"] = b"const port = 3000;\nrequire('express')().listen(port);\n"
    assert option_database_values(files, MARIADB_ENV, detect(files))["PORT"] == "3306"


@needs_server
async def test_a_django_app_reading_its_postgres_port_from_port_runs_on_it(
    builder_service: Service,
) -> None:
    """Taz742's django-rest-api reads its PostgreSQL's host and port from HOST and PORT:
    given the preview's own port there, it connected to its gunicorn."""
    service = builder_service
    with trio.fail_after(BUILD_WAIT):
        body = await _running(service, app_files("django_pg_host_port"))
        added = await service.app_request(body, "POST", "/", content=b"apple")
        assert added.status_code == 200, added.text
        assert added.json()["vendor"] == "postgresql" and added.json()["items"] == ["apple"]
        assert (await service.stop(body["gid"])).status_code == 200


@needs_server
async def test_a_django_app_naming_postgresql_without_its_driver_runs_on_its_postgres(
    builder_service: Service,
) -> None:
    """Taz742's django-rest-api lists no PostgreSQL driver (its image installs one):
    its settings' ENGINE says PostgreSQL's, which the preview gives it, the driver added
    once Django asks for it."""
    files = {**app_files("django_pg_host_port"), "requirements.txt": "Django>=4.2,<6\n"}
    assert postgres_wants(_encoded(files), {}).driver == (
        "Django's PostgreSQL ENGINE (shop/settings.py)"
    )
    service = builder_service
    with trio.fail_after(BUILD_WAIT * 2):
        body = await _running(service, files)
        added = await service.app_request(body, "POST", "/", content=b"pear")
        assert added.status_code == 200 and added.json()["items"] == ["pear"], added.text
        assert (await service.stop(body["gid"])).status_code == 200


_ENVIRON_SETTINGS = """import environ

env = environ.Env()
environ.Env.read_env(".env")
SECRET_KEY = "fixture-secret"
ALLOWED_HOSTS = ["*"]
INSTALLED_APPS = ["django.contrib.contenttypes", "items"]
MIDDLEWARE = ["django.middleware.common.CommonMiddleware"]
ROOT_URLCONF = "shop.urls"
WSGI_APPLICATION = "shop.wsgi.application"
DATABASES = {"default": env.db()}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
"""


@needs_server
async def test_a_postgres_url_its_settings_read_by_scheme_without_a_driver_gets_postgres(
    builder_service: Service,
) -> None:
    """andriitk's DRF-Link-Shortener: ``DATABASES = {'default': env.db()}`` (django-environ),
    its committed .env's ``DATABASE_URL=postgres://admin:password1@db:5432/URLs``, no
    PostgreSQL driver listed: given no server, its migrate could not resolve ``db``. The
    preview's PostgreSQL, the driver added once Django asks for it. A URL of SQLite there
    wants none."""
    files = {
        **app_files("django_pg_host_port"),
        "shop/settings.py": _ENVIRON_SETTINGS,
        "requirements.txt": "Django>=4.2,<6\ndjango-environ>=0.11\n",
        ".env": "DATABASE_URL=postgres://admin:password1@db:5432/links\n",
    }
    assert postgres_wants(_encoded(files), {}).driver == (
        "a PostgreSQL URL in its configuration, read by env.db(…) in shop/settings.py"
    )
    sqlite = {**files, ".env": "DATABASE_URL=sqlite:///db.sqlite3\n"}
    assert postgres_wants(_encoded(sqlite), {}).driver is None
    service = builder_service
    with trio.fail_after(BUILD_WAIT * 2):
        body = await _running(service, files)
        added = await service.app_request(body, "POST", "/", content=b"plum")
        assert added.status_code == 200, added.text
        assert added.json()["vendor"] == "postgresql" and added.json()["items"] == ["plum"]
        assert (await service.stop(body["gid"])).status_code == 200


def test_django_herokus_settings_want_postgres() -> None:
    """artrey's drf-comments ends its settings with ``django_heroku.settings(locals())``,
    which takes the database from DATABASE_URL as Heroku's PostgreSQL, SSL required: given
    the preview's SQLite file there, its migrate died on "'sslmode' is an invalid keyword
    argument". It wants PostgreSQL; not where it is told ``databases=False``."""
    settings = (
        "DATABASES = {'default': {'ENGINE': 'django.db.backends.sqlite3', 'NAME': 'db'}}\n"
        "import django_heroku\ndjango_heroku.settings(locals())\n"
    )
    files = {
        "drf_crud/settings.py": settings,
        "manage.py": "import os\n",
        "requirements.txt": "django\ndjangorestframework\ndjango_heroku\ngunicorn\n",
    }
    assert postgres_wants(_encoded(files), {}).driver == (
        "django-heroku's settings() in drf_crud/settings.py (Heroku's PostgreSQL)"
    )
    off = settings.replace("locals())", "locals(), databases=False)")
    assert postgres_wants(_encoded({**files, "drf_crud/settings.py": off}), {}).driver is None
    commented = settings.replace("django_heroku.settings", "# django_heroku.settings")
    assert postgres_wants(_encoded({**files, "drf_crud/settings.py": commented}), {}).driver is None


def test_dj_database_url_requiring_ssl_wants_postgres() -> None:
    """harryface's ico-drf-token (heroku.yml) updates its SQLite default with
    ``dj_database_url.config(default=DATABASE_URL, conn_max_age=500, ssl_require=True)``:
    given the preview's SQLite file, its migrate died on "'sslmode' is an invalid keyword
    argument for Connection()". Without ssl_require it is left to its SQLite."""
    settings = (
        "import os, dj_database_url\n"
        "DATABASES = {'default': {'ENGINE': 'django.db.backends.sqlite3', 'NAME': 'db'}}\n"
        "DATABASE_URL = os.environ.get('DATABASE_URL')\n"
        "db_from_env = dj_database_url.config(\n"
        "    default=DATABASE_URL, conn_max_age=int(os.environ.get('AGE', 500)),\n"
        "    ssl_require=True)\n"
        "DATABASES['default'].update(db_from_env)\n"
    )
    files = {
        "ico/settings.py": settings,
        "manage.py": "import os\n",
        "requirements.txt": "django\ndjangorestframework\ndj-database-url\ngunicorn\n",
    }
    assert postgres_wants(_encoded(files), {}).driver == (
        "dj-database-url's ssl_require=True in ico/settings.py (a PostgreSQL with SSL)"
    )
    plain = settings.replace(",\n    ssl_require=True", "")
    assert postgres_wants(_encoded({**files, "ico/settings.py": plain}), {}).driver is None


def test_a_postgres_url_its_code_gives_sqlalchemy_without_a_driver_wants_postgres() -> None:
    """alanarvelo's flask-marketplace-backend lists Flask-Migrate and no driver, its
    config.py writes ``SQLALCHEMY_DATABASE_URI = 'postgresql://alan:1234@localhost:5432/
    fyyur'``: given no server, its migrations were refused at 127.0.0.1:5432 and three
    routes answered 500. It wants PostgreSQL; not for a URL in a comment or a test."""
    config = "import os\nSQLALCHEMY_DATABASE_URI = 'postgresql://alan:1234@localhost:5432/fyyur'\n"
    files = {
        "config.py": config,
        "app.py": "from flask import Flask\napp = Flask(__name__)\n",
        "requirements.txt": "babel\nflask-moment\nflask-wtf\nflask-migrate\n",
    }
    assert postgres_wants(_encoded(files), {}).driver == (
        "a PostgreSQL URL given to SQLAlchemy in config.py"
    )
    engine = "from sqlalchemy import create_engine\nengine = create_engine('postgresql+psycopg2://u@db/x')\n"
    assert postgres_wants(_encoded({**files, "config.py": engine}), {}).driver
    commented = {**files, "config.py": "# SQLALCHEMY_DATABASE_URI = 'postgresql://a@b/c'\n"}
    assert postgres_wants(_encoded(commented), {}).driver is None
    tested = {**files, "config.py": "", "tests/test_db.py": config}
    assert postgres_wants(_encoded(tested), {}).driver is None


def test_a_postgres_url_its_env_gives_the_engine_its_code_makes_wants_postgres() -> None:
    """HarshPanchigar's Blog-API-FastAPI lists no driver (its requirements in UTF-16), its
    .env gives ``DB_URL=postgresql://postgres:123@localhost:5432/blogdb`` and database.py
    makes ``create_engine(os.getenv("DB_URL"))``: given no server, once psycopg2 was
    added its engine was refused at 127.0.0.1:5432. It wants PostgreSQL; not where no
    engine is made of it, nor for a variable of another name."""
    database = (
        "import os\nfrom sqlalchemy import create_engine\n"
        'DATABASE_URL = os.getenv("DB_URL")\nengine = create_engine(DATABASE_URL)\n'
    )
    files = {
        ".env": "DB_URL=postgresql://postgres:123@localhost:5432/blogdb\nSECRET_KEY=x\n",
        "database.py": database,
        "main.py": "from fastapi import FastAPI\napp = FastAPI()\n",
        "requirements.txt": "fastapi\nsqlalchemy\nuvicorn\n",
    }
    assert postgres_wants(_encoded(files), {}).driver == (
        "a PostgreSQL URL in its configuration, given to SQLAlchemy in database.py"
    )
    settings = "engine = create_engine(settings.db_url)\n"
    assert postgres_wants(_encoded({**files, "database.py": settings}), {}).driver
    no_engine = {**files, "database.py": 'URL = os.getenv("DB_URL")\n'}
    assert postgres_wants(_encoded(no_engine), {}).driver is None
    other = {**files, "database.py": database.replace("DB_URL", "OTHER_URL")}
    assert postgres_wants(_encoded(other), {}).driver is None
    # An example's URL names a server its reader fills in: the preview's own SQLite then.
    example = {k if k != ".env" else ".env.example": v for k, v in files.items()}
    assert postgres_wants(_encoded(example), {}).driver is None
    # Its compose file's app service giving it (potier97's fastApiCelery).
    composed = {
        **{k: v for k, v in files.items() if k != ".env"},
        "docker-compose.yml": "services:\n  web:\n    build: .\n    environment:\n"
        "      - DB_URL=postgresql://u:p@postgres:5432/app\n",
    }
    assert postgres_wants(_encoded(composed), {}).driver
    # An example's URL beside it under another name (its README's DATABASE_URL): its own.
    example_too = {**composed, ".env.example": "DATABASE_URL=postgresql://u:p@localhost:8050/x\n"}
    assert postgres_wants(_encoded(example_too), {}).driver


def test_a_postgres_url_its_code_builds_from_parts_wants_postgres() -> None:
    """Darawshi's FastAPI-CMS lists SQLModel and no driver, and its settings build
    ``f"postgresql+asyncpg://{self.DB_USER}:{self.DB_PASSWORD}@{self.DB_HOST}…"`` (its
    .env's localhost:5432): given no server, its lifespan's connection was refused. It
    wants PostgreSQL, by an f-string or a %s template; not for one in a test."""
    config = (
        "class Settings(BaseSettings):\n    DB_HOST: str | None = None\n"
        "    @property\n    def database_url(self) -> str:\n"
        '        return (\n            f"postgresql+asyncpg://{self.DB_USER}:{self.DB_PASSWORD}"\n'
        '            f"@{self.DB_HOST}:{self.DB_PORT}/{self.DB_NAME}"\n        )\n'
    )
    files = {"app/core/config.py": config, "requirements.txt": "sqlmodel\nalembic\n"}
    assert postgres_wants(_encoded(files), {}).driver == (
        "a PostgreSQL URL built from its settings in app/core/config.py"
    )
    template = 'URL = "postgresql://%s:%s@%s/%s" % (USER, PASSWORD, HOST, NAME)\n'
    assert postgres_wants(_encoded({**files, "app/core/config.py": template}), {}).driver
    tested = {**files, "app/core/config.py": "", "tests/conftest.py": config}
    assert postgres_wants(_encoded(tested), {}).driver is None


def test_postgresqls_own_column_types_in_its_models_want_postgres() -> None:
    """Irishery's chat-manager-flask imports ``ARRAY`` from
    ``sqlalchemy.dialects.postgresql`` for its models, lists no driver, and reads its URL
    from a variable nothing sets: on SQLite its migration died on "can't render element
    of type ARRAY". It wants PostgreSQL; not where the import is in a test or a comment,
    nor where its own engine is SQLite's."""
    models = (
        "from flask_sqlalchemy import SQLAlchemy\n"
        "from sqlalchemy.dialects.postgresql import ARRAY\n\ndb = SQLAlchemy()\n"
    )
    files = {
        "app/models.py": models,
        "pyproject.toml": '[tool.poetry.dependencies]\nFlask = "^2"\n',
    }
    assert postgres_wants(_encoded(files), {}).driver == (
        "PostgreSQL's own column types imported in app/models.py"
    )
    whole = {**files, "app/models.py": "import sqlalchemy.dialects.postgresql as pg\n"}
    assert postgres_wants(_encoded(whole), {}).driver
    commented = {**files, "app/models.py": "# from sqlalchemy.dialects.postgresql import ARRAY\n"}
    assert postgres_wants(_encoded(commented), {}).driver is None
    tested = {**files, "app/models.py": "", "tests/test_models.py": models}
    assert postgres_wants(_encoded(tested), {}).driver is None
    sqlite = (
        'URL = "sqlite:///app.db"\n'
        'engine = create_engine(URL, connect_args={"check_same_thread": False})\n'
    )
    own = {**files, "app/db.py": sqlite}
    assert postgres_wants(_encoded(own), {}).driver is None


def test_a_postgresql_drivers_connect_in_its_code_wants_postgres() -> None:
    """nigel-hall-codes' StarterFastAPIUserLogin calls ``psycopg2.connect(…)`` with its
    settings file's host, and its requirements.txt lists no driver: it was given no
    server, and its connect went to a Unix socket nothing served. It wants PostgreSQL;
    not where the call is in a test or a comment, nor beside MySQL's driver listed."""
    rds = (
        "import psycopg2\n\nconn = psycopg2.connect(\n"
        '    user=config["Postgres"]["user"], host=config["Postgres"]["host"], port=5432\n)\n'
    )
    files = {"rds/rds.py": rds, "requirements.txt": "fastapi==0.111.0\n"}
    assert postgres_wants(_encoded(files), {}).driver == (
        "a PostgreSQL driver's connect in rds/rds.py"
    )
    commented = {**files, "rds/rds.py": "# conn = psycopg2.connect(dsn)\n"}
    assert postgres_wants(_encoded(commented), {}).driver is None
    tested = {**files, "rds/rds.py": "", "tests/test_rds.py": rds}
    assert postgres_wants(_encoded(tested), {}).driver is None
    mysql = {**files, "requirements.txt": "fastapi==0.111.0\nPyMySQL==1.1.0\n"}
    assert postgres_wants(_encoded(mysql), {}).driver is None


def test_a_libsql_clients_app_wants_no_postgresql_whatever_it_lists() -> None:
    """williamk19's learn-hono opens Turso's libSQL (``createClient({ url:
    process.env.TURSO_CONNECTION_URL })``, Drizzle's libsql driver) and lists pg, never
    imported: given PostgreSQL, its SQLite migrations met "syntax error at or near `"
    and its client "got postgresql:". No PostgreSQL then; its URL's name is a database
    URL's (the preview's SQLite, as a file: URL). An app importing pg beside it keeps it."""
    connection = (
        'import { drizzle } from "drizzle-orm/libsql";\n'
        "import { createClient } from '@libsql/client';\n"
        "export const client = createClient({ url: process.env.TURSO_CONNECTION_URL! });\n"
    )
    package = '{"dependencies": {"@libsql/client": "^0.6.0", "drizzle-orm": "^0.30", "pg": "^8"}}'
    files = {"package.json": package, "src/database/connection.ts": connection}
    assert postgres_wants(_encoded(files), {}).driver is None
    both = {**files, "src/pg.ts": "import { Pool } from 'pg';\nexport const pool = new Pool();\n"}
    assert postgres_wants(_encoded(both), {}).driver is not None
    for name in ("TURSO_CONNECTION_URL", "TURSO_DATABASE_URL", "LIBSQL_URL", "DB_CONNECTION_URI"):
        found = meaning(name)
        assert found is not None and (found.kind, found.part) == ("database", "url"), name
