"""A settings class holding a database's parts under their bare names, and an example
spelling its names in another case than the service's (builds.appenv,
builds.configdefaults, apps.configvars.required)."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

from preview.apps.configvars import database_option_variables
from preview.apps.detect import detect
from preview.apps.spec import LaunchSpec
from preview.backing.postgres import postgres_variables
from preview.builds.appenv import app_environment, dotenv_file
from preview.builds.configdefaults import config_defaults, settings_spellings

from ..launching import launch_environment

_NOW = datetime(2026, 12, 2, tzinfo=UTC)

# profatsky's fastapi-video-hosting, in short: pydantic v1's settings of bare names, a URL
# built of them, an example leaving them empty in lower case.
_CONFIG = b"""\
from pydantic import BaseSettings


class Settings(BaseSettings):
    host: str
    port: int
    user: str
    password: str
    database: str

    jwt_secret: str
    jwt_algorithm: str = "HS256"


settings = Settings(_env_file=".env", _env_file_encoding="utf-8")
"""
_DB_CONFIG = b"""\
from app.config import settings


def get_sqlalchemy_url(
    user=settings.user, password=settings.password, host=settings.host, database=settings.database
) -> str:
    return f"postgresql+asyncpg://{user}:{password}@{host}/{database}"
"""
_APP = b"""\
from fastapi import FastAPI
from sqlalchemy.ext.asyncio import create_async_engine

from app.database.db_config import get_sqlalchemy_url

engine = create_async_engine(get_sqlalchemy_url())
app = FastAPI()


@app.get("/videos")
async def videos():
    return []
"""
FILES = {
    "app/__init__.py": b"",
    "app/config.py": _CONFIG,
    "app/database/__init__.py": b"",
    "app/database/db_config.py": _DB_CONFIG,
    "app/app.py": _APP,
    ".env.example": b"host=\nport=\nuser=\npassword=\ndatabase=\n\njwt_secret=\n",
    "requirements.txt": b"fastapi==0.95.0\npydantic==1.10.7\nSQLAlchemy==2.0.9\nasyncpg==0.27.0\n",
}


def _environment(files: dict[str, bytes]) -> dict[str, str]:
    """The environment a launch gives the app of ``files`` beside the service's own
    PostgreSQL, its configuration filled in as a launch fills it."""
    detection = detect(files)
    assert detection is not None
    spec = LaunchSpec(
        "p1", "g1", None, "alice", files, [], 3001, None, _NOW, _NOW, detection=detection
    )
    served = postgres_variables({}, "10.0.0.5", 5432)

    def environment(defaults: dict[str, str] | None) -> dict[str, str]:
        return app_environment(
            spec,
            "python3",
            app_dir=Path("/previews/p1"),
            database_env=served,
            egress_open=False,
            memory_limit_mb=512,
            defaults=defaults,
        )

    given = dotenv_file(files, detection.detected_from)
    provided = {k: v for k, v in environment(None).items() if given.get(k) != v}
    found = config_defaults(files, detection.detected_from, given, provided)
    return environment(found.values)


def test_a_settings_class_of_a_databases_bare_parts_is_given_the_served_database() -> None:
    """Its ``host``, ``port``, ``user``, ``password`` and ``database`` are its
    PostgreSQL's (the URL it builds of them says so; so does a class holding a database's
    name and its server's parts together): given the service's own ``HOST`` and ``PORT``
    (its server's) and stand-ins for ``USER`` and ``DATABASE``, it connected nowhere."""
    assert database_option_variables(FILES) == {
        "HOST": "DB_HOST",
        "PORT": "DB_PORT",
        "USER": "DB_USER",
        "PASSWORD": "DB_PASSWORD",
        "DATABASE": "DB_NAME",
    }
    env = _environment(FILES)
    assert (env["HOST"], env["PORT"]) == ("10.0.0.5", "5432")
    assert (env["USER"], env["PASSWORD"], env["DATABASE"]) == ("postgres", "postgres", "app")
    # A class of another store's, or one whose prefix says the part, is none.
    redis = _CONFIG.replace(b"class Settings", b"class RedisSettings")
    assert database_option_variables({**FILES, "app/config.py": redis}) == {}
    prefixed = _CONFIG.replace(
        b"    jwt_secret: str\n",
        b"    jwt_secret: str\n\n    class Config:\n        env_prefix = 'APP_'\n",
    )
    assert database_option_variables({**FILES, "app/config.py": prefixed}) == {}
    # A class with no database's name among its fields (an SMTP server's) is none either.
    mail = _CONFIG.replace(b"    database: str\n", b"")
    assert database_option_variables({**FILES, "app/config.py": mail}) == {}


def test_an_examples_other_spelling_of_a_settings_field_takes_the_decided_value() -> None:
    """pydantic reads the environment whatever the case, and takes the last of two
    spellings: the example's empty ``port=`` came after ``PORT`` and was refused ("value
    is not a valid integer"), though ``PORT`` held one. Each spelling now holds the value
    decided for the field's name; the user's own stays."""
    env = _environment(FILES)
    for name in ("host", "port", "user", "password", "database", "jwt_secret"):
        assert env[name] == env[name.upper()], name
    assert env["port"] == "5432"
    given = {"PORT": "5432", "port": "", "jwt_secret": "mine", "JWT_SECRET": "x", "other": ""}
    assert settings_spellings(FILES, given, {"jwt_secret": "mine"}) == {"port": "5432"}
    assert settings_spellings({"app.py": b"x = 1\n"}, given, {}) == {}  # no settings class


def test_a_url_variable_its_code_defaults_to_a_host_is_given_the_host() -> None:
    """victorgmrqs's simple-fastapi-jwt-auth reads ``DB_URL = getenv('DB_URL',
    'localhost')`` and puts it between the ``@`` and the port of the URL it builds; given
    the service's URL there (one of the names it fills with one), its URL had two schemes,
    "invalid literal for int() with base 10: ''". A default that is a host's name makes
    it the host; a URL default, or none, keeps the URL."""
    config = b"""\
from os import getenv

DB_USER = getenv('DB_USER', 'postgres')
DB_URL = getenv('DB_URL', 'localhost')
DB_PORT = getenv('DB_PORT', '5431')
DB_URI = f'postgresql+asyncpg://{DB_USER}@{DB_URL}:{DB_PORT}/faculdade'
"""
    app = b"from fastapi import FastAPI\n\nfrom core.config import DB_URI\n\napp = FastAPI()\n"
    files = {
        "core/__init__.py": b"",
        "core/config.py": config,
        "main.py": app,
        "requirements.txt": b"fastapi\nsqlalchemy\nasyncpg\n",
    }
    env = _environment(files)
    assert env["DB_URL"] == "10.0.0.5"
    assert env["DATABASE_URL"].startswith("postgresql")
    url = config.replace(b"'localhost'", b"'postgresql://u:p@localhost/x'")
    assert _environment({**files, "core/config.py": url})["DB_URL"].startswith("postgresql")


def test_a_url_built_by_format_of_bare_names_gives_them_the_served_parts() -> None:
    """arthurfonsek's basic-fastapi-crud: ``"mysql://{}:{}@{}:3306/{}".format(user,
    password, host, database)`` of ``USER``, ``KEY``, ``HOST`` and ``DATABASE`` (its
    env/key.env ignored): nothing gave ``DATABASE``, "Unknown database 'None'". Each
    name is the part its place in the URL says, as in an f-string."""
    database = b"""\
import os

from sqlalchemy import create_engine

password = os.getenv("KEY")
user = os.getenv("USER")
database = os.getenv("DATABASE")
host = os.getenv("HOST")
URL = "postgresql://{}:{}@{}:5432/{}".format(user, password, host, database)
engine = create_engine(URL)
"""
    files = {
        "app/__init__.py": b"",
        "app/database.py": database,
        "app/main.py": b"from fastapi import FastAPI\n\nfrom . import database\napp = FastAPI()\n",
        "requirements.txt": b"fastapi\nsqlalchemy\npsycopg2-binary\n",
    }
    assert database_option_variables(files) == {
        "KEY": "DB_PASSWORD",
        "USER": "DB_USER",
        "HOST": "DB_HOST",
        "DATABASE": "DB_NAME",
    }
    env = _environment(files)
    assert (env["HOST"], env["DATABASE"], env["KEY"]) == ("10.0.0.5", "app", "postgres")
    named = database.replace(b'"postgresql://{}:{}@{}:5432/{}"', b'"postgresql://{u}@{h}/{d}"')
    assert database_option_variables({**files, "app/database.py": named}) == {}


def test_a_url_built_by_format_of_numbered_fields_and_its_scheme_gives_them_their_parts() -> None:
    """Markov500's pythonFlask-gestion-livre: ``"{0}://{1}:{2}@{3}/bibliotheque".format(
    dialecte, utilisateur, motdepasse, hote)`` of ``os.getenv("dialect")``, ``user``,
    ``password`` and ``host``: nothing gave them, "Can't load plugin:
    sqlalchemy.dialects:None". The scheme's variable is the engine's, the rest by place."""
    app = b"""\
import os

from flask import Flask
from flask_sqlalchemy import SQLAlchemy

motdepasse = os.getenv("password")
hote = os.getenv("host")
utilisateur = os.getenv("user")
dialecte = os.getenv("dialect")
app = Flask(__name__)
url = "{0}://{1}:{2}@{3}/bibliotheque".format(dialecte, utilisateur, motdepasse, hote)
app.config["SQLALCHEMY_DATABASE_URI"] = url
db = SQLAlchemy(app)
"""
    files = {"gestion_livre.py": app, "requirements.txt": b"flask\nflask-sqlalchemy\npsycopg2\n"}
    assert database_option_variables(files) == {
        "dialect": "DB_ENGINE",
        "user": "DB_USER",
        "password": "DB_PASSWORD",
        "host": "DB_HOST",
    }
    env = _environment(files)
    assert (env["dialect"], env["host"]) == ("postgresql", "10.0.0.5")


def test_an_env_files_sqlite_file_by_absolute_path_is_kept_in_the_apps_directory() -> None:
    """sgmagar's DrfBootcamp commits ``DATABASE_URL='sqlite:////tmp/my-tmp-sqlite.db'``:
    its migrate step wrote the file in its own sandbox's /tmp, and the app, started in
    another, had "no such table: auth_user". The file is the app directory's; one there
    already, and the launch option env's, are kept as they are."""
    django = {
        "manage.py": b"import os\nos.environ.setdefault('DJANGO_SETTINGS_MODULE', 's')\n",
        "s.py": b"import environ\nenv = environ.Env()\nDATABASES = {'default': env.db()}\n",
        "requirements.txt": b"Django==2.2\ndjango-environ==0.4.4\n",
    }

    def url(dotenv: bytes, extra: dict[str, str] | None = None, *, env: str = ".env") -> str:
        files = {**django, env: dotenv}
        detection = detect(files)
        assert detection is not None
        spec = LaunchSpec(
            "p1", "g1", None, "alice", files, [], 3001, None, _NOW, _NOW, detection=detection
        )
        return launch_environment(replace(spec, extra=extra or {}))["DATABASE_URL"]

    assert url(b"DATABASE_URL='sqlite:////tmp/my.db'\n") == "sqlite:////previews/p1/my.db"
    assert url(b"DATABASE_URL=sqlite:////home/me/x/db.sqlite3?mode=rw\n") == (
        "sqlite:////previews/p1/db.sqlite3?mode=rw"
    )
    assert url(b"DATABASE_URL=sqlite:////previews/p1/a.db\n") == "sqlite:////previews/p1/a.db"
    # An example's, which the service copies (configdefaults: said there): the same.
    example = b"DATABASE_URL=sqlite:////Users/ann/dev/app.db\n"
    assert url(example, env=".env.example") == "sqlite:////previews/p1/app.db"
    given = {"DATABASE_URL": "sqlite:////tmp/mine.db"}
    assert url(b"DATABASE_URL=sqlite:////tmp/my.db\n", given) == "sqlite:////tmp/mine.db"


def test_a_connections_settings_bound_to_bare_reads_at_module_level_get_the_database() -> None:
    """lucabattesini's super-market-system reads ``user``, ``password`` and ``database``
    into module-level names and gives them to ``mysql.connector.connect(…)``: names that
    say nothing alone, given nothing ("No database selected" on every route). The
    connection's keywords say what each is, through the name they are bound to."""
    connection = b"""\
import os

import mysql.connector

user_name = os.getenv("user")
password = os.getenv("password")
database = os.getenv("database")

connection = mysql.connector.connect(
    host="localhost", user=user_name, password=password, database=database
)
"""
    app = b"from fastapi import FastAPI\n\nfrom db.connection import connection\n"
    app += b"\napp = FastAPI()\n"
    files = {
        "db/connection.py": connection,
        "app.py": app,
        "requirements.txt": b"fastapi\nmysql-connector-python\n",
    }
    assert database_option_variables(files) == {
        "user": "DB_USER",
        "password": "DB_PASSWORD",
        "database": "DB_NAME",
    }
    env = _environment(files)
    assert (env["user"], env["password"], env["database"]) == ("postgres", "postgres", "app")
