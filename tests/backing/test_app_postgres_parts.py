"""An app whose settings name PostgreSQL's parts rather than a URL
(``DATABASE_HOSTNAME``, ``DATABASE_USERNAME`` …) gets each of them for its preview's own
server. Real builds, real servers, real sandboxes."""

from __future__ import annotations

import pytest
import trio

from preview.apps.configvars import template_url
from preview.backing.pgprivate import server_binaries
from preview.backing.postgres import postgres_variables
from preview.backing.wants import postgres_wants

from ..conftest import Service
from ..launching import BUILD_WAIT, messages
from .test_app_postgres import _encoded, _proxied, _sandboxed, _settled

needs_server = pytest.mark.skipif(
    server_binaries() is None, reason="PostgreSQL's server binaries are not installed"
)


def test_each_prefix_gives_host_and_user_under_both_spellings() -> None:
    variables = postgres_variables({"DATABASE_USERNAME": "course"}, "127.0.0.1", 5432)
    for prefix in ("POSTGRES", "DB", "DATABASE"):
        assert variables[f"{prefix}_HOSTNAME"] == variables[f"{prefix}_HOST"] == "127.0.0.1"
        assert variables[f"{prefix}_USERNAME"] == variables[f"{prefix}_USER"] == "course"
    assert variables["DATABASE_NAME"] == variables["DB_NAME"] == "app"
    assert variables["DB_DATABASE"] == variables["POSTGRES_DATABASE"] == "app"
    assert postgres_variables({"DB_DATABASE": "todo"}, "h", 5432)["DB_NAME"] == "todo"
    assert variables["DATABASE_URL"] == "postgresql://course:postgres@127.0.0.1:5432/app"


def test_a_name_its_example_leaves_to_fill_in_names_no_role_nor_database() -> None:
    """zeeshanravian1's fastapi-ecommerce-postgresql: ``DB_NAME=<database_name>`` in its
    .env.example became the served database's name, and its env.py's ``CREATE SCHEMA IF NOT
    EXISTS <database_name>`` (its DB_SCHEMA, the database's name by meaning) a syntax error."""
    example = {"DB_NAME": "<database_name>", "DB_USER": "<database_user>", "POSTGRES_DB": "shop"}
    variables = postgres_variables(example, "127.0.0.1", 5432)
    assert (variables["DB_NAME"], variables["DB_USER"]) == ("shop", "postgres")


def test_a_node_apps_own_postgres_scheme_is_the_one_its_urls_are_given_under() -> None:
    """rafaelone's fastify-upload-server's shape: its zod schema checks
    ``DATABASE_URL.startsWith('postgres://')``, as its .env.test writes it; a Node driver
    reads either scheme, so the preview's URLs take its own. SQLAlchemy's keeps
    ``postgresql``, and a Python app's own ``postgres://`` (Heroku's) changes nothing."""
    files = {
        "package.json": b'{"dependencies": {"postgres": "^3.4.5", "zod": "^3"}}',
        ".env.test": b'DATABASE_URL="postgres://docker:docker@localhost:5432/upload_test"\n',
        "src/env.ts": b"DATABASE_URL: z.string().url().startsWith('postgres://'),\n",
    }
    wants = postgres_wants(files, {})
    assert wants.scheme == "postgres"
    variables = postgres_variables({}, "127.0.0.1", 5432, wants.named, wants.scheme)
    assert variables["DATABASE_URL"].startswith("postgres://docker:docker@127.0.0.1:5432/")
    assert variables["POSTGRES_URL"].startswith("postgres://")
    assert variables["SQLALCHEMY_DATABASE_URI"].startswith("postgresql://")
    written = {**files, ".env.test": files[".env.test"].replace(b"postgres:", b"postgresql:", 1)}
    assert postgres_wants(written, {}).scheme == "postgresql"
    python = {"requirements.txt": b"psycopg2-binary\n", ".env": files[".env.test"]}
    assert postgres_wants(python, {}).scheme == "postgresql"


def test_a_python_app_adding_ql_to_its_urls_scheme_is_given_heroku_s() -> None:
    """ArtemKuznetsovv's flask-message-system: ``os.environ.get('DATABASE_URL').replace(
    "://", "ql://", 1)``, written for Heroku's ``postgres://``, made the preview's
    ``postgresql://`` "postgresqlql" (SQLAlchemy: "Can't load plugin"). A replace of the
    whole ``postgres://`` is right under either scheme and changes nothing."""
    requirements = {"requirements.txt": b"Flask-SQLAlchemy\npsycopg2-binary\n"}
    for replace in (
        b'os.environ.get(\'DATABASE_URL\').replace("://", "ql://", 1)',
        b"uri = uri.replace('postgres', 'postgresql')",
    ):
        files = {**requirements, "app/__init__.py": b"import os\nuri = " + replace + b"\n"}
        wants = postgres_wants(files, {})
        assert wants.scheme == "postgres", replace
        url = postgres_variables({}, "127.0.0.1", 5432, wants.named, wants.scheme)["DATABASE_URL"]
        assert url.replace("://", "ql://", 1).startswith("postgresql://"), url
    whole = b"uri = uri.replace('postgres://', 'postgresql://', 1)\n"
    assert postgres_wants({**requirements, "app.py": whole}, {}).scheme == "postgresql"


@needs_server
@pytest.mark.parametrize(
    "fixture",
    [
        # The FastAPI course's Settings: its launch failed, "these 4 variables are needed:
        # DATABASE_HOSTNAME, DATABASE_PORT, DATABASE_NAME, DATABASE_USERNAME", and its
        # DATABASE_PASSWORD was a throwaway secret, not the server's.
        "fastapi_pg_settings_parts",
        # brithely's todo-python-litestar-api: DB_HOST, DB_USER … were given, DB_DATABASE
        # was not; its Alembic env.py handed None to configparser ("option values must be
        # strings") and the setup step failed.
        "fastapi_pg_db_database",
    ],
)
async def test_settings_naming_the_database_parts_connect(
    builder_service: Service, fixture: str
) -> None:
    service = builder_service
    _sandboxed(service)
    with trio.fail_after(BUILD_WAIT):
        body = await _settled(service, fixture)
        assert body["status"] == "running", (body["errorMessage"], body["errorLines"])
        who = (await _proxied(service, body, "/whoami"))["data"]
        assert who == {"user": "postgres", "database": "app"}
        assert (await service.stop(body["gid"])).status_code == 200


def test_a_url_whose_port_is_a_word_is_a_form_to_fill_in() -> None:
    for form in (
        "postgresql://user:password@host:port/dbname",
        "postgresql+asyncpg://u:p@HOST:PORT/db",
        "mysql://root@localhost:$DB_PORT/app",
        "redis://host:port",
        "postgresql://[USER]:[PASSWORD]@[HOST]:[PORT]/[DB]",
        "postgresql+asyncpg://localhost:PASSWORD:PORT/jobs",
        "postgresql://...",  # Meghansh-Maurya's notes_api's README
        "mysql+pymysql://user:pass@.../db",
        "postgres://…",
    ):
        assert template_url(form), form
    for address in (
        "postgresql://user:password@host:5432/dbname",
        "postgresql://h1:5432,h2:5433/db",
        "postgresql://u:p@[::1]:5432/d",
        "postgresql://user:pass@localhost/db",
        "http://example.com:8080/x?next=a:b",
        "sqlite:///../data/app.db",
        "https://example.com/search...",
    ):
        assert not template_url(address), address
    files = _encoded("fastapi_pg_dsn_template")
    wants = postgres_wants(files, {})
    assert wants.templates == {"MYAPP_DATABASE__DSN": "postgresql"}
    assert wants.url is None and "port" not in wants.aliases and wants.named == {}
    # An ellipsis where the address would be: a form too, no server of the app's own.
    dotted = files[".env"].replace(b"user:password@host:port/dbname", b"...")
    wants = postgres_wants({**files, ".env": dotted}, {})
    assert wants.templates == {"MYAPP_DATABASE__DSN": "postgresql"} and wants.url is None


@needs_server
async def test_a_committed_url_to_fill_in_is_given_the_previews_own(
    builder_service: Service,
) -> None:
    """viktorsapozhok's fastapi-services-oauth2 commits a .env with
    ``MYAPI_DATABASE__DSN="postgresql://user:password@host:port/dbname"``, its settings'
    nested DSN, and makes its engine at import: SQLAlchemy's "invalid literal for int()
    with base 10: 'port'". The variable is given the preview's own URL, its scheme kept."""
    service = builder_service
    _sandboxed(service)
    with trio.fail_after(BUILD_WAIT):
        body = await _settled(service, "fastapi_pg_dsn_template")
        assert body["status"] == "running", (body["errorMessage"], body["errorLines"])
        answer = (await _proxied(service, body, "/"))["data"]
        assert answer == {"one": 1, "scheme": "postgresql"}
        system = messages(await service.history(body["gid"]), "system")
        assert "PostgreSQL: MYAPP_DATABASE__DSN (a URL to fill in) given the preview's own" in (
            system
        ), system
        assert (await service.stop(body["gid"])).status_code == 200
