"""Shapes of the twenty-fourth batch of real FastAPI apps (issue 66's training side: the
first held-out set's, once its round ended): each rule reads what the app itself
declares, tested on a fixture app of its shape."""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

from preview.apps.configvars import compose_files, required_types
from preview.apps.configvars.readmeenv import with_readme_example
from preview.apps.datainit import OWN_INIT, data_steps
from preview.apps.depspec import python_dependencies
from preview.apps.detect import detect
from preview.apps.plans import optional_steps
from preview.apps.served import find_app
from preview.apps.spec import LaunchSpec
from preview.backing import wanted_servers
from preview.backing.wants import postgres_wants
from preview.builds.appenv import app_environment
from preview.builds.configdefaults import config_defaults, settings_misfits
from preview.builds.remedies.stacks import companions

from ..launching import app_files

_NOW = datetime(2026, 11, 28, tzinfo=UTC)


def _utf16(text: str) -> bytes:
    """``text`` as PowerShell's ``pip freeze > requirements.txt`` writes it: UTF-16 with
    its byte-order mark, CRLF line ends."""
    return text.replace("\n", "\r\n").encode("utf-16")


def test_a_utf16_requirements_file_says_its_database_and_redis_clients() -> None:
    """Arif-M-Patel's ToDO-fastapi-alembic-postgresql (and ILugaro's
    fastapi-postgresql-alembic-docker): a Windows ``pip freeze`` wrote requirements.txt in
    UTF-16, which uv reads by its byte-order mark, but the service's readers took as UTF-8
    (a NUL between letters): psycopg2-binary was not seen, no PostgreSQL was given, and
    its hard-coded ``postgresql://postgres:Arif@localhost/todo_db`` was refused."""
    files = {
        "requirements.txt": _utf16("fastapi==0.109.2\npsycopg2-binary==2.9.9\nredis==5.0.1\n"),
        "database.py": b'URL = "postgresql://postgres:Arif@localhost/todo_db"\n',
        "main.py": b"from fastapi import FastAPI\napp = FastAPI()\n",
    }
    assert (postgres_wants(files, {}).driver or "").startswith("psycopg2-binary")
    assert wanted_servers(files, "main.py", {}).redis is not None


def _bytes(name: str) -> dict[str, bytes]:
    return {path: text.encode() for path, text in app_files(name).items()}


_SERVED = {  # what the service gives beside its PostgreSQL (backing.postgres)
    "DATABASE_URL": "postgresql://u:p@127.0.0.1:5432/d",
    "PGHOST": "127.0.0.1",
    "PGPORT": "5432",
    "PGDATABASE": "d",
    "DB_HOST": "127.0.0.1",
    "DB_PORT": "5432",
    "DB_NAME": "d",
    "PORT": "8000",
}


def test_a_value_its_settings_class_refuses_for_the_fields_type_is_a_form_to_fill_in() -> None:
    """eladgunders' fastapi-todos: its compose service's env_file leaves ``SMTP_PORT=``
    and ``EMAILS_FROM_EMAIL=`` empty for ``Optional[int]`` / ``Optional[EmailStr]``
    fields, which pydantic refuses ("value is not a valid integer"): the app never
    started. Cohetero's FastAPI-JWT-SQLAlchemy: its README's ``ACCESS_TOKEN_EXPIRE_MINUTES
    = tiempo_en_que_expira_el_token`` is the default of an ``int`` field, and its
    ``DB_PORT = port`` no port. A defaulted field's value is unset (its default stands),
    a required one's a throwaway by its name; the upload's own .env is never changed."""
    files = with_readme_example(_bytes("fastapi_settings_forms_to_fill"))
    compose = postgres_wants(files, {}).compose_env
    assert compose["SMTP_PORT"] == "" and compose["EMAILS_FROM_EMAIL"] == ""
    found = config_defaults(files, "app/main.py", {}, {**_SERVED, **compose})
    assert found.values["ACCESS_TOKEN_EXPIRE_MINUTES"] == "60"
    assert "DB_PORT" not in found.values  # the served database's stands
    assert any("SMTP_PORT" in note and "unset" in note for note in found.notes)
    spec = LaunchSpec(
        "p1", "g1", None, "alice", files, [], 3001, None, _NOW, _NOW, detection=detect(files),
    )  # fmt: skip
    env = app_environment(
        spec, "python3", app_dir=Path("/previews/p1"), database_env={**_SERVED, **compose},
        egress_open=False, memory_limit_mb=512, defaults=found.values,
    )  # fmt: skip
    assert "SMTP_PORT" not in env and "EMAILS_FROM_EMAIL" not in env
    assert env["SMTP_HOST"] == "" and env["JWT_SECRET_KEY"] == "SECRET"  # any text is a str
    assert env["ACCESS_TOKEN_EXPIRE_MINUTES"] == "60" and env["DB_PORT"] == "5432"
    # What the user gives is the app's own: never changed.
    spec.extra = {"SMTP_PORT": ""}
    env = app_environment(
        spec, "python3", app_dir=Path("/previews/p1"), database_env={**_SERVED, **compose},
        egress_open=False, memory_limit_mb=512, defaults=found.values,
    )  # fmt: skip
    assert env["SMTP_PORT"] == ""


def test_which_settings_values_the_fields_types_refuse() -> None:
    source = b"""
import os
from typing import Optional
from pydantic import BaseSettings, EmailStr, Field

class Settings(BaseSettings):
    workers: int
    ratio: Optional[float] = None
    debug: bool = False
    admin: EmailStr
    name: str = "x"
    either: "int | str" = 0
    limit: int = Field(10, env="RATE_LIMIT")
    expire: int = os.getenv("TOKEN_MINUTES")
"""
    files = {"config.py": source}
    env = {
        "WORKERS": "many",
        "RATIO": "",
        "DEBUG": "maybe",
        "ADMIN": "your_email",
        "NAME": "",
        "EITHER": "x",
        "RATE_LIMIT": "10",
        "TOKEN_MINUTES": "minutes",
    }
    assert settings_misfits(files, env, {}) == {
        "WORKERS": "1",
        "RATIO": None,
        "DEBUG": None,
        "ADMIN": "preview@example.com",
        "TOKEN_MINUTES": "60",
    }
    assert settings_misfits(files, env, {"WORKERS": "many"}).get("WORKERS", "kept") == "kept"


def test_a_requirement_in_a_shells_quotes_is_read_without_them() -> None:
    """genagurbanguliyev's FastAPI-CRUD-auth lists ``"passlib[bcrypt]"`` and
    ``"python-jose[cryptography]"`` as ``pip install`` was given them in a shell, quotes
    and all: uv refused the file ("Unexpected '\\"', expected '-c', '-e', '-r' or the start
    of a requirement at requirements.txt:4:1") and nothing was installed."""
    files = {
        "requirements.txt": b"""fastapi\n\n"passlib[bcrypt]"\n'python-jose[cryptography]'\n"""
        b"""uvicorn  # "quoted" in a comment\n""",
        "main.py": b"from fastapi import FastAPI\napp = FastAPI()\n",
    }
    assert python_dependencies(files, "main.py").requirements == (
        "fastapi",
        "passlib[bcrypt]",
        "python-jose[cryptography]",
        "uvicorn",
    )


def test_variables_read_through_the_apps_own_helper_are_required() -> None:
    """0ff1ane's fastapi-sqlalchemy2-alembic reads its database with ``get_env_var("PG_HOST")``,
    its own function over ``os.environ[key]`` that raises without a default: unseen, they
    were given nothing, and its migration died ("Environment variable PG_HOST is missing").
    Now required, they are given the served PostgreSQL's parts by what their names say."""
    files = _bytes("fastapi_env_helper")
    assert required_types(files) == {"PG_HOST": "", "PG_PORT": "", "PG_DB": ""}
    found = config_defaults(files, "apps/main.py", {}, _SERVED)
    assert found.values["PG_HOST"] == "127.0.0.1" and found.values["PG_PORT"] == "5432"
    assert found.values["PG_DB"] == "d" and not found.missing


def test_a_compose_file_of_an_environments_name_alone_in_its_folder_is_read() -> None:
    """BlueSphereAI's FastAPI-PostgreSQL-Alembic-Docker has docker-compose.dev.yml and
    docker-compose.local.yml and no docker-compose.yml (its Makefile runs ``docker compose
    -f docker-compose.dev.yml up``): its backend's ``PG_DATABASE_URL`` and its PostgreSQL
    service went unread, and its migration died wanting PG_DATABASE_URL. A production
    one is never read so."""
    files = _bytes("fastapi_compose_dev_only")
    assert compose_files(files) == ["docker-compose.dev.yml"]
    wants = postgres_wants(files, {})
    assert wants.compose_env["PG_DATABASE_URL"].endswith("@db:5432/postgres")
    assert "db" in wants.aliases
    # Beside a base file, it is an overlay of it, as before.
    base = {**files, "docker-compose.yml": b"services:\n  db:\n    image: postgres:16\n"}
    assert compose_files(base) == ["docker-compose.yml"]


def test_the_projects_own_init_function_that_nothing_calls_makes_its_tables(
    tmp_path: Path,
) -> None:
    """Cohetero's FastAPI-JWT-SQLAlchemy defines ``create_tables()`` (its models'
    ``create_all``) in ``app/v1/scripts/create_tables.py`` and nothing calls it, nor is
    there a migration: every route on its data answered 500 ("relation usuarios does not
    exist"), the service only hinting at the call. It is now a set-up step, and makes
    them; an optional one (Cohetero's own fails on a fresh database: its models are on two
    declarative bases, and it creates one's alone)."""
    files = _bytes("fastapi_init_function")
    (step,) = data_steps(files, "main.py", find_app(files))
    assert step.argv == (
        "{python}",
        "-c",
        f"{OWN_INIT}\nfrom app.scripts.create_tables import create_tables; create_tables()",
    )
    # A guess of the service's: the app starts after its failure, as after a seed's.
    assert optional_steps(files, ("uvicorn", "main:app"), (step.argv,)) == (step.argv,)
    for path, data in files.items():
        (tmp_path / path).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / path).write_bytes(data)
    argv = [sys.executable if part == "{python}" else part for part in step.argv]
    subprocess.run(argv, cwd=tmp_path / step.where, check=True, timeout=120)
    with sqlite3.connect(tmp_path / "tasks.db") as db:
        assert db.execute("SELECT name FROM sqlite_master WHERE type='table'").fetchall() == [
            ("tasks",)
        ]
    # One that takes an argument is no init of its own: not called.
    script = "app/scripts/create_tables.py"
    taking = files[script].replace(b"def create_tables()", b"def create_tables(url)")
    assert data_steps({**files, script: taking}, "main.py", find_app(files)) == []


def test_an_examples_database_url_with_no_async_driver_gives_way_on_an_async_app() -> None:
    """iceyisaak's fastapi-crud-db-auth: its README's .env gives ``sqlite:///./app.db``
    to an ``AsyncEngine`` (and lists asyncpg): "The asyncio extension requires an async
    driver to be used. The loaded 'pysqlite' is not async." The preview's own database
    is given instead, its URL naming the async driver; a sync app keeps the example's."""
    files = with_readme_example(_bytes("fastapi_async_readme_sqlite"))
    found = config_defaults(files, "src/__init__.py", {}, _SERVED)
    assert "DATABASE_URL" not in found.values
    assert any("no async driver" in note for note in found.notes)
    engine = (
        b"from sqlmodel import create_engine\nengine = create_engine(Settings().DATABASE_URL)\n"
    )
    sync = {**files, "src/db.py": engine}
    kept = config_defaults(sync, "src/__init__.py", {}, _SERVED)
    assert kept.values["DATABASE_URL"] == "sqlite:///./app.db"


_RENAMED_LOCK = """version = 1
requires-python = ">=3.12"

[[package]]
name = "fastapi"
version = "0.115.12"
source = { registry = "https://pypi.org/simple" }

[[package]]
name = "june-project"
version = "0.1.0"
source = { virtual = "." }
dependencies = [
    { name = "fastapi" },
]
"""


def test_a_uv_lock_of_the_project_before_its_rename_is_not_synced() -> None:
    """cybergenii's fastapi-sqlalchemy-starter: pyproject.toml names the project
    ``fastapi-sqlalchemy-starter``, its uv.lock still ``june-project``, which ``uv sync
    --frozen`` refuses ("Missing workspace member"): nothing was installed. The project's
    dependencies are installed from pyproject.toml instead, held to the lock's versions."""
    pyproject = (
        b'[project]\nname = "fastapi-sqlalchemy-starter"\nversion = "0.1.0"\n'
        b'dependencies = ["fastapi>=0.115", "uvicorn>=0.30"]\n'
    )
    files = {
        "pyproject.toml": pyproject,
        "uv.lock": _RENAMED_LOCK.encode(),
        "main.py": b"from fastapi import FastAPI\napp = FastAPI()\n",
    }
    deps = python_dependencies(files, "main.py")
    assert deps.lock is None and deps.requirements == ("fastapi>=0.115", "uvicorn>=0.30")
    assert deps.constraints == ("fastapi==0.115.12",)
    assert any("uv.lock is older than pyproject.toml" in note for note in deps.notes)
    # The lock of the project itself is synced, as before.
    same = _RENAMED_LOCK.replace('"june-project"', '"fastapi-sqlalchemy-starter"').replace(
        '{ name = "fastapi" },', '{ name = "fastapi" },\n    { name = "uvicorn" },'
    )
    assert python_dependencies({**files, "uv.lock": same.encode()}, "main.py").lock is not None


def test_an_apps_sql_schema_is_run_where_nothing_else_makes_it() -> None:
    """cgund98's fastapi-postgres-template keeps its schema as golang-migrate's SQL
    migrations (resources/db/migrations/000001_initial_schema.up.sql), run by a migrate
    image; johschmidt42's fastapi-postgresql as db/schema.sql (its README: "Create the
    (empty) tables by executing the SQL statements in db/schema.sql") beside db/data.sql's
    rows. Neither was run: "relation users does not exist" on every route. Now the
    ``.up.sql`` files, in their versions' order, or the one file that creates tables, are
    the preview's PostgreSQL's init scripts."""
    files = _bytes("fastapi_sql_migrations")
    wants = postgres_wants(files, {})
    assert [path for path, _ in wants.init_scripts] == [
        "resources/db/migrations/000001_initial_schema.up.sql",
        "resources/db/migrations/000002_invoices.up.sql",
    ]
    assert wants.lone_schema
    schema = b"CREATE TABLE companies (id UUID PRIMARY KEY);\n"
    rows = b"INSERT INTO companies (id) VALUES (gen_random_uuid());\n"
    plain = {"pyproject.toml": files["pyproject.toml"], "app/main.py": files["app/main.py"]}
    two = {**plain, "db/schema.sql": schema, "db/data.sql": rows}
    assert [path for path, _ in postgres_wants(two, {}).init_scripts] == ["db/schema.sql"]
    # Another tool's migrations make the schema: none is run.
    alembic = {**files, "alembic.ini": b"[alembic]\nscript_location = alembic\n"}
    assert postgres_wants(alembic, {}).init_scripts == ()


def test_an_old_fastapi_pinned_alone_is_held_to_the_pydantic_of_its_time() -> None:
    """melos-simeneh's Blog-with-Authentication pins fastapi==0.103.1 and not pydantic:
    pydantic 2.12 broke its ``OAuth2PasswordRequestForm = Depends()`` at import ("'FieldInfo'
    object has no attribute 'in_'"; FastAPI 0.105 and later run on it). A pin of the app's
    own is never held over."""
    lines = ["bcrypt==4.0.1", "fastapi==0.103.1", "SQLAlchemy==2.0.20"]
    assert companions(lines, lines) == [("pydantic<2.12", "fastapi==0.103.1")]
    assert companions(["fastapi==0.110.0"], ["fastapi==0.110.0"]) == []
    pinned = [*lines, "pydantic==2.12.0"]
    assert companions(pinned, pinned) == []


def test_an_alembic_ini_written_to_be_run_from_its_own_folder_runs_there(tmp_path: Path) -> None:
    """Vasyalisk's fastapi-sqlalchemy-docker-template keeps backend/migrations/alembic.ini
    with ``script_location = .``: its ``python manage.py upgrade`` changes into that folder
    first, its env.py importing the project's modules (``from config import settings``,
    ``from migrations.utils import …``). Run from backend/ it failed ("Can't find Python
    file ./env.py"); now it runs in its folder, the project's on the path."""
    files = _bytes("fastapi_alembic_ini_own_folder")
    (step,) = data_steps(files, "backend/main.py", find_app(files))
    assert step.where == "backend/migrations"
    for path, data in files.items():
        (tmp_path / path).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / path).write_bytes(data)
    database = tmp_path / "notes.db"
    argv = [part.format(python=sys.executable) for part in step.argv]
    env = {"PATH": os.environ["PATH"], "DATABASE_URL": f"sqlite:///{database}"}
    subprocess.run(argv, cwd=tmp_path / step.where, env=env, check=True, timeout=120)
    with sqlite3.connect(database) as db:
        tables = {row[0] for row in db.execute("SELECT name FROM sqlite_master")}
    assert "notes" in tables and "alembic_version" in tables


def test_the_sql_files_a_shell_init_script_runs_are_init_scripts() -> None:
    """gbatagian's fastapi-crud: its compose PostgreSQL mounts db/init.sh into
    /docker-entrypoint-initdb.d, which runs ``psql -f`` on the SQL files it mounts from
    db/schema_queries/ (its tables, then its rows); the service runs no shell script, so
    its Alembic revision (ALTER TABLE portfolios …) met no table. Those SQL files, in the
    script's order, are now the init scripts."""
    files = _bytes("fastapi_compose_shell_initdb")
    wants = postgres_wants(files, {})
    assert [path for path, _ in wants.init_scripts] == [
        "db/schema_queries/create_schema.sql",
        "db/schema_queries/insert.sql",
    ]
