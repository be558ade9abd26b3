"""The PostgreSQL an app expects, under the names it expects (backing): without
PREVIEW_APP_POSTGRES_URL, a sandboxed app with a PostgreSQL driver gets a private
throwaway server of its own (Debian's binaries), reached as its compose file's `db`, the
host of its own URL, or through the PG* variables; where none can be given, the launch
fails saying how to give one. Real builds, real servers, real sandboxes."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
import trio

from preview import Settings
from preview.backing.pgprivate import PrivateLogins, PrivateServer, server_binaries
from preview.backing.pgrelay import LoginRefused
from preview.backing.postgres import postgres_variables
from preview.backing.wants import postgres_wants
from preview.builds.appenv import _asks_tls
from preview.builds.configdefaults import config_defaults
from preview.sandbox.outbound import hosts_text

from ..conftest import Service, auth, running_service
from ..launching import BUILD_WAIT, app_files, launched, messages

needs_server = pytest.mark.skipif(
    server_binaries() is None, reason="PostgreSQL's server binaries are not installed"
)


def _encoded(name: str) -> dict[str, bytes]:
    return {path: text.encode() for path, text in app_files(name).items()}


def test_a_compose_overlay_configures_the_service_the_base_file_builds() -> None:
    """docker-compose.local.yml gives the app built by docker-compose.yml its DATABASE
    (leosussan's fastapi-gino-arq-uvicorn); a production overlay does not count."""
    wants = postgres_wants(_encoded("compose_overlay_env"), {})
    assert wants.compose_env == {
        "DATABASE": "postgres",
        "DB_HOST": "database",
        "DB_USER": "postgres",
        "DB_PASSWORD": "postgres",
    }
    assert wants.compose == ("database",) and 54320 in wants.ports


def test_what_an_upload_says_of_its_postgres() -> None:
    wants = postgres_wants(_encoded("compose_postgres"), {})
    assert wants.driver == "psycopg (requirements.txt)"
    assert wants.aliases[:5] == ("db", "postgres", "postgresql", "database", "pg")
    assert wants.compose == ("db",)
    assert wants.ports == (5432,)
    assert wants.url == "postgresql://postgres:postgres@db:5432/app"
    # Hosts and ports of URLs in its source and variables; a Node driver.
    files = {
        "package.json": json.dumps({"dependencies": {"pg": "^8"}}).encode(),
        "src/db.ts": b'const url = "postgres://u:p@pghost.internal:6543/x";',
        ".env.example": b"PGHOST=warehouse\nDB_PORT=5433\n",
    }
    wants = postgres_wants(files, {"DATABASE_URL": "postgresql+asyncpg://a:b@primary/db"})
    assert wants.driver == "pg (package.json)"
    assert {"primary", "warehouse"} <= set(wants.aliases)
    # A dotted name too (a hosted server's, which no sandboxed preview reaches): ours.
    assert "pghost.internal" in wants.aliases
    assert set(wants.ports) == {5432, 6543, 5433}
    assert wants.url == "postgresql+asyncpg://a:b@primary/db"
    # A URL of placeholders but for its port (yeisonipia48's ApiFastApi, its PgBouncer's
    # 6432: "Connect call failed ('127.0.0.1', 6432)"); a placeholder port says none.
    files["src/db.ts"] = b""
    files["dbconexion.py"] = (
        b"url = f'postgresql+asyncpg://{user}:{password}@{host}:6432/{db}'\n"
        b"other = f'postgresql://{user}@{host}:{port}/x'\n"
    )
    assert set(postgres_wants(files, {}).ports) == {5432, 6432, 5433}
    assert postgres_wants({"requirements.txt": b"flask\n"}, {}).driver is None
    # A driver an ORM installs as its extra (fastapi-tdd-docker's shape, asyncpg not
    # listed apart): the app wants a PostgreSQL all the same.
    for name, listed, driver in (
        ("requirements.txt", b"tortoise-orm[asyncpg]==0.20.0\n", "tortoise-orm[asyncpg]"),
        ("requirements.txt", b"databases[postgresql]>=0.6\n", "databases[postgresql]"),
        (
            "pyproject.toml",
            b"[tool.poetry.dependencies]\n"
            b'tortoise-orm = { version = "^0.20", extras = ["asyncpg"] }',
            "tortoise-orm[asyncpg]",
        ),
    ):
        assert postgres_wants({name: listed}, {}).driver == f"{driver} ({name})"
    assert (
        postgres_wants({"requirements.txt": b"celery[redis]\nuvicorn[standard]\n"}, {}).driver
        is None
    )
    # A requirements file named as its Dockerfile installs it (tunuk1109's StoreFastApi:
    # ``RUN pip install -r req.txt``, psycopg2-binary in it): its driver, and MySQL's not.
    docker = {"Dockerfile": b"FROM python:3.12\nRUN pip install -r req.txt\n"}
    listed = {**docker, "req.txt": "fastapi\r\npsycopg2-binary==2.9.10\r\n".encode("utf-16")}
    assert postgres_wants(listed, {}).driver == "psycopg2-binary (req.txt)"
    assert postgres_wants({"req.txt": listed["req.txt"]}, {}).driver is None  # (not installed)
    # No dependency file, a URL in its source (corcasta's FastAPI-Demo: Tortoise loads
    # asyncpg by the URL's scheme, and nothing lists it); a test's URL is not the app's.
    url = b"TORTOISE_ORM = {'connections': {'default': 'postgres://postgres:admin@localhost/t'}}"
    assert postgres_wants({"app/settings.py": url}, {}).driver == (
        "a PostgreSQL URL in app/settings.py (no dependency file)"
    )
    assert postgres_wants({"tests/test_db.py": url}, {}).driver is None
    assert postgres_wants({"app/settings.py": url, "requirements.txt": b"x\n"}, {}).driver is None
    # The names its own URL gives (an alembic.ini's first; tests' never; placeholders not).
    files = {
        "requirements.txt": b"asyncpg\n",
        "tests/conftest.py": b'URL = "postgresql://t:t@db/test_shop"',
        "app/config.py": b'URL = "postgresql://${USER}:x@db/${DB}"',
        "alembic.ini": b"sqlalchemy.url = postgresql+asyncpg://shop:secret@db:5432/shop\n",
    }
    named = postgres_wants(files, {}).named
    assert named == {"user": "shop", "password": "secret", "database": "shop"}
    variables = postgres_variables({"POSTGRES_USER": "me"}, "127.0.0.1", 5432, named)
    assert variables["DATABASE_URL"] == "postgresql://me:secret@127.0.0.1:5432/shop"
    assert postgres_wants({**files, "alembic.ini": b""}, {}).named == {}
    assert "127.0.0.1\tlocalhost preview db pg\n" in hosts_text(("db", "localhost", "pg"))


def test_the_variables_follow_the_names_the_app_gives() -> None:
    given = {"POSTGRES_USER": "shop", "POSTGRES_DB": "orders"}
    variables = postgres_variables(given, "127.0.0.1", 5432)
    assert variables["DATABASE_URL"] == "postgresql://shop:postgres@127.0.0.1:5432/orders"
    assert variables["POSTGRES_SERVER"] == variables["PGHOST"] == "127.0.0.1"
    assert variables["DB_NAME"] == variables["PGDATABASE"] == "orders"
    assert variables["SQLALCHEMY_DATABASE_URI"] == variables["DATABASE_URL"]
    # realworld-fastify-drizzle's envalid requires POSTGRES_URL
    assert variables["POSTGRES_URL"] == variables["DB_URL"] == variables["DATABASE_URL"]


async def _proxied(
    service: Service, body: dict[str, Any], path: str, method: str = "GET"
) -> dict[str, Any]:
    answer = await service.client.post(
        f"/api/generations/{body['gid']}/preview/request",
        json={"method": method, "path": path},
        headers={**auth(), "X-Preview-Token": body["previewToken"]},
    )
    assert answer.status_code == 200, answer.text
    return answer.json()


async def _settled(service: Service, name: str) -> dict[str, Any]:
    """Launched without waiting (a cold build outlasts a request), polled until settled."""
    body = await launched(service, app_files(name), wait=False)
    while True:
        status = await service.status(body["gid"])
        if status["status"] in ("running", "failed", "stopped"):
            return {**body, **status}
        await trio.sleep(0.2)


def _sandboxed(service: Service) -> None:
    isolation = service.supervisor.isolation
    if isolation is None or not isolation.sandboxed:
        pytest.skip("the sandbox is not available here")


def test_a_compose_port_published_by_a_variable() -> None:
    # rafsaf's template: "${DATABASE__PORT}:5432", 5455 in its .env; the app reached
    # localhost:5455, where nothing answered (the port was read as no number).
    wants = postgres_wants(_encoded("compose_postgres_port_var"), {})
    assert 5455 in wants.ports and "postgres_db" in wants.compose
    assert (
        6000
        in postgres_wants(_encoded("compose_postgres_port_var"), {"DATABASE__PORT": "6000"}).ports
    )
    files = {
        "docker-compose.yml": b"services:\n  db:\n    image: postgres\n    ports:\n"
        b'      - "${PG_PORT:-5439}:5432"\n',
        "requirements.txt": b"psycopg\n",
    }
    assert 5439 in postgres_wants(files, {}).ports  # compose's default


def test_a_compose_service_building_the_database_image_is_the_database() -> None:
    """knands42's NestJs-Auth-Typeorm: its db service builds .docker/postgres (``FROM
    postgres:14.0`` and a user's id), its app's SQL_HOST that service's container_name
    (getaddrinfo EAI_AGAIN auth-service-db): a database's server, not the app's own."""
    compose = b"""services:
  app:
    build: .
    environment:
      - SQL_HOST=auth-service-db
  db:
    build: .docker/postgres
    container_name: auth-service-db
    environment:
      - POSTGRES_PASSWORD=root
      - POSTGRES_DB=user_db
"""
    files = {
        "docker-compose.yaml": compose,
        ".docker/postgres/Dockerfile": b"FROM postgres:14.0\n\nRUN usermod -u 1000 postgres\n",
        "package.json": b'{"dependencies": {"pg": "^8"}}',
    }
    wants = postgres_wants(files, {})
    assert wants.compose == ("db", "auth-service-db") and "auth-service-db" in wants.aliases
    assert "POSTGRES_PASSWORD" not in wants.compose_env  # the server's, not the app's
    # One built from another image is the app's own service.
    files[".docker/postgres/Dockerfile"] = b"FROM node:20\n"
    assert postgres_wants(files, {}).compose == ()


def test_the_apps_compose_environment_is_given_as_compose_would() -> None:
    # compose fills ${…} from the .env beside it before the container sees the value;
    # these were left out, so the URL the app's own service is given went missing.
    compose = (
        b"services:\n  db:\n    image: postgres:16\n  web:\n    build: .\n    environment:\n"
        b"      DATABASE_URL: postgresql://${DB_USER:-shop}:${DB_PASSWORD}@db:5432/${DB_NAME}\n"
        b"      GREETING: cost $$5\n      UNSET: ${NOT_GIVEN}\n"
    )
    files = {
        "docker-compose.yml": compose,
        ".env": b"DB_PASSWORD=pw\nDB_NAME=orders\n",
        "requirements.txt": b"psycopg\n",
    }
    wants = postgres_wants(files, {})
    assert wants.compose_env == {
        "DATABASE_URL": "postgresql://shop:pw@db:5432/orders",
        "GREETING": "cost $5",
    }
    assert wants.url == "postgresql://shop:pw@db:5432/orders"
    assert wants.named == {"user": "shop", "password": "pw", "database": "orders"}
    # The launch's own variables are compose's shell: they come first.
    given = postgres_wants(files, {"DB_USER": "me"})
    assert given.compose_env["DATABASE_URL"] == "postgresql://me:pw@db:5432/orders"


@needs_server
async def test_a_compose_port_by_variable_is_served(builder_service: Service) -> None:
    service = builder_service
    _sandboxed(service)
    with trio.fail_after(BUILD_WAIT):
        body = await _settled(service, "compose_postgres_port_var")
        assert body["status"] == "running", (body["errorMessage"], body["errorLines"])
        assert (await _proxied(service, body, "/items"))["data"] == ["first"]


@needs_server
async def test_an_app_with_a_mongodb_variant_of_its_compose_file_runs_on_postgres(
    builder_service: Service,
) -> None:
    """brocoders' NestJS boilerplate's shape: docker-compose.document.yml, beside the
    PostgreSQL project, is its MongoDB variant, run instead of it: not an overlay of it,
    so the app runs on the private PostgreSQL its compose file asks for (the launch
    failed, "expects MongoDB", once the variant was merged in)."""
    service = builder_service
    _sandboxed(service)
    with trio.fail_after(BUILD_WAIT):
        body = await _settled(service, "compose_variant_document")
        assert body["status"] == "running", (body["errorMessage"], body["errorLines"])
        answer = (await _proxied(service, body, "/items"))["data"]
        assert answer == {"answer": "from postgres", "type": "relational"}
        assert (await service.stop(body["gid"])).status_code == 200


@needs_server
async def test_compose_db_is_a_private_server(builder_service: Service) -> None:
    service = builder_service
    _sandboxed(service)
    with trio.fail_after(BUILD_WAIT):
        body = await _settled(service, "compose_postgres")
        assert body["status"] == "running", (body["errorMessage"], body["errorLines"])
        runtime = service.supervisor.get(body["previewInstanceId"])
        root = service.settings.previews_dir / f"{body['previewInstanceId']}-pg"
        assert (await _proxied(service, body, "/items"))["data"] == ["first"]
        who = (await _proxied(service, body, "/whoami"))["data"]
        # Its own URL, as it wrote it: `db` is its sandbox's loopback, the relay there.
        assert who == {"user": "postgres", "database": "app", "url": "db:5432/app"}
        # uuid-ossp and pgcrypto are there from the start, as hosted servers give them.
        assert (await _proxied(service, body, "/uuid"))["data"] == {"uuid": 36, "bytes": 4}
        said = messages(await service.history(body["gid"]), "system")
        assert any("a private server of this preview's own" in m for m in said), said
        assert any("the app's own postgresql://postgres:***@db:5432/app" in m for m in said)
        assert runtime.backing.env["POSTGRES_SERVER"] == "127.0.0.1"
        assert await trio.to_thread.run_sync(root.exists)
        assert (await service.stop(body["gid"])).status_code == 200
        assert not await trio.to_thread.run_sync(root.exists)


@needs_server
async def test_a_database_at_the_authors_home_network_address_is_the_private_server(
    builder_service: Service,
) -> None:
    """lpmatiutis's crud-app-nestjs connects to ``host: '192.168.30.80'``, its author's
    network, which no preview reaches: the launch waited on it to its timeout. The
    address is the sandbox's loopback, where its private PostgreSQL is relayed."""
    service = builder_service
    _sandboxed(service)
    with trio.fail_after(BUILD_WAIT):
        body = await _settled(service, "postgres_lan_host")
        assert body["status"] == "running", (body["errorMessage"], body["errorLines"])
        who = (await _proxied(service, body, "/whoami"))["data"]
        # (its server's: any user the app names is taken, as its owner)
        assert (who["database"], who["host"]) == ("shop", "127.0.0.1"), who
        said = messages(await service.history(body["gid"]), "system")
        assert any(
            m.startswith("main.py: the hosts named by an address of its author's private")
            for m in said
        ), said
        assert (await service.stop(body["gid"])).status_code == 200


def test_the_init_scripts_its_compose_file_mounts_are_read_in_order() -> None:
    wants = postgres_wants(_encoded("compose_postgres_initdb"), {})
    assert [path for path, _ in wants.init_scripts] == [
        "db/init/01-schema.sql",
        "db/init/02-seed.sql",
        "db/late.sql",  # 99-late.sql's place
    ]
    assert "CREATE TABLE IF NOT EXISTS fruit" in wants.init_scripts[0][1]
    # A named volume, another folder, another service's mount: not init scripts.
    compose = (
        "services:\n  db:\n    image: postgres\n    volumes:\n"
        "      - data:/docker-entrypoint-initdb.d\n      - ./x.sql:/srv/x.sql\n"
        "  web:\n    build: .\n    volumes:\n      - ./x.sql:/docker-entrypoint-initdb.d/x.sql\n"
    )
    files = {"docker-compose.yml": compose.encode(), "x.sql": b"SELECT 1;"}
    assert postgres_wants(files, {}).init_scripts == ()


def test_a_postgres_service_built_from_its_own_dockerfile_has_its_init_scripts_read() -> None:
    """torikatsupg's hono-todo: its ``db`` service is built from docker/db/Dockerfile
    (``FROM postgres:16.0``), its ./db mounted into the init folder (long syntax): relation
    "todo" does not exist, its scripts never run. The image its Dockerfile names counts;
    another image's Dockerfile (the app's own) does not."""
    compose = (
        "services:\n  app:\n    build:\n      dockerfile: ./docker/app/Dockerfile\n"
        "  db:\n    build:\n      dockerfile: ./docker/db/Dockerfile\n    volumes:\n"
        "      - type: bind\n        source: ./db\n        target: /docker-entrypoint-initdb.d\n"
    )
    files = {
        "docker-compose.yml": compose.encode(),
        "docker/db/Dockerfile": b"FROM postgres:16.0\nEXPOSE 5432\n",
        "docker/app/Dockerfile": b"FROM oven/bun:1\n",
        "db/01_create_table.sql": b"CREATE TABLE todo (id int);",
        "db/02_more.sql": b"CREATE TABLE tag (id int);",
        "package.json": b'{"dependencies": {"postgres": "^3"}}',
    }
    wants = postgres_wants(files, {})
    assert [path for path, _ in wants.init_scripts] == ["db/01_create_table.sql", "db/02_more.sql"]
    files["docker/db/Dockerfile"] = b"FROM node:20\n"
    assert postgres_wants(files, {}).init_scripts == ()


def test_the_schema_its_settings_name_is_made_after_its_init_scripts() -> None:
    """A NestJS books API (nathan-oliveira's) gives TypeORM ``schema:
    DATABASE_NAME_SCHEMA`` (app in its .env); its compose file's Postgres made that schema
    with a shell init script, which is not run: TypeORM's migrations table then failed,
    'schema "app" does not exist'. A flag, a path, ``public``: no schema to make."""
    env = (
        "DATABASE_NAME=postgres\nDATABASE_NAME_SCHEMA=app\nDB_SCHEMA=app\n"
        "GRAPHQL_SCHEMA=schema.gql\nTYPEORM_SCHEMA_SYNC=true\nPG_SCHEMA=public\n"
    )
    compose = (
        "services:\n  db:\n    image: postgres\n    volumes:\n"
        "      - ./init.sql:/docker-entrypoint-initdb.d/0_init.sql\n"
        "      - ./schema.sh:/docker-entrypoint-initdb.d/1_schema.sh\n"
    )
    files = {
        "package.json": b'{"dependencies": {"pg": "^8", "typeorm": "^0.3"}}',
        ".env": env.encode(),
        "docker-compose.yml": compose.encode(),
        "init.sql": b'CREATE EXTENSION IF NOT EXISTS "uuid-ossp";',
        "schema.sh": b'psql -c "CREATE SCHEMA $POSTGRES_DB_SCHEMA"',
    }
    wants = postgres_wants(files, {})
    assert wants.schemas == {"DATABASE_NAME_SCHEMA": "app"}
    assert wants.init_scripts == (
        ("init.sql", 'CREATE EXTENSION IF NOT EXISTS "uuid-ossp";'),
        ("DATABASE_NAME_SCHEMA=app", 'CREATE SCHEMA IF NOT EXISTS "app";'),
    )
    assert postgres_wants({**files, ".env": b"PG_SCHEMA=public\n"}, {}).schemas == {}


def test_the_schema_its_code_puts_tables_in_is_made() -> None:
    """DavidHorvitz's collegeWithExpressTS defines its Sequelize models with ``schema:
    "college1"``, which nothing makes: its sync() failed on 'schema "college1" does not
    exist'. SQLAlchemy's ``__table_args__`` alike; each schema once, after one its settings
    name; ``public``, a test's, a name of no schema's shape: nothing."""
    room = b'sequelize.define("Room", { Id: DataTypes.UUID }, { schema: "college1" });\n'
    model = b'class Item(Base):\n    __table_args__ = {"schema": "shop", "comment": "x"}\n'
    files = {
        "package.json": b'{"dependencies": {"pg": "^8", "sequelize": "^6"}}',
        ".env": b"DB_SCHEMA=app\n",
        "src/db/tables/Room.ts": room,
        "src/db/tables/Test.ts": room.replace(b"Room", b"Test"),
        "src/db/tables/Public.ts": room.replace(b"college1", b"public"),
        "src/db/tables/App.ts": room.replace(b"college1", b"app"),
        "src/db/tables/Path.ts": room.replace(b'"college1"', b'"./schema.gql"'),
        "src/models.py": model,
        "tests/room.test.ts": room.replace(b"college1", b"testing"),
    }
    wants = postgres_wants(files, {})
    assert wants.code_schemas == {"college1": "src/db/tables/Room.ts", "shop": "src/models.py"}
    assert [sql for _, sql in wants.init_scripts] == [
        'CREATE SCHEMA IF NOT EXISTS "app";',
        'CREATE SCHEMA IF NOT EXISTS "college1";',
        'CREATE SCHEMA IF NOT EXISTS "shop";',
    ]


@needs_server
async def test_compose_init_scripts_run_before_the_app_opens_its_database(
    builder_service: Service,
) -> None:
    """Its compose file mounts db/init/ and db/late.sql into the image's
    /docker-entrypoint-initdb.d: they run, in the image's order, in the database the app
    opens, before its first query there (its start-up reads the table they make)."""
    service = builder_service
    _sandboxed(service)
    with trio.fail_after(BUILD_WAIT):
        body = await _settled(service, "compose_postgres_initdb")
        assert body["status"] == "running", (body["errorMessage"], body["errorLines"])
        fruit = (await _proxied(service, body, "/fruit"))["data"]
        assert fruit == {"100% juice": 2, "apple": 2, "pear": 3}
        said = messages(await service.history(body["gid"]), "system")
        assert any("init script db/init/02-seed.sql was run" in m for m in said), said
        assert (await service.stop(body["gid"])).status_code == 200


@needs_server
async def test_node_pg_reads_the_pg_variables(builder_service: Service) -> None:
    service = builder_service
    _sandboxed(service)
    with trio.fail_after(BUILD_WAIT):
        body = await _settled(service, "node_pg")
        assert body["status"] == "running", (body["errorMessage"], body["errorLines"])
        first = (await _proxied(service, body, "/"))["data"]
        second = (await _proxied(service, body, "/"))["data"]
        assert first["database"] == "app"  # PGDATABASE's, made on first use
        assert first["messages"] == "en_US.UTF-8"  # (the image's locale, compiled here)
        assert second["visits"] == first["visits"] + 1  # (the smoke check called it too)
        assert (await service.stop(body["gid"])).status_code == 200


@needs_server
async def test_an_app_asking_for_ssl_gets_tls_from_the_relay(builder_service: Service) -> None:
    """ErikBahena's knexfile (a Heroku-era template): ``pg.defaults.ssl = {
    rejectUnauthorized: false }`` once DATABASE_URL is set, which the service gives: "The
    server does not support SSL connections" while the relay declined SSL."""
    service = builder_service
    _sandboxed(service)
    with trio.fail_after(BUILD_WAIT):
        body = await launched(service, app_files("node_pg_ssl"))
        assert body["status"] == "running", (body["errorMessage"], body["errorLines"])
        assert (await _proxied(service, body, "/"))["data"] == {"one": 1, "tls": True}
        assert (await service.stop(body["gid"])).status_code == 200


@needs_server
async def test_an_app_verifying_a_hosted_databases_certificate_takes_the_relays(
    builder_service: Service,
) -> None:
    """Kei-K23's RBAC-Fastify-API: ``new Pool({ connectionString, ssl: true })`` (a
    hosted database's way) refused the relay's certificate, which no public authority
    signs ("Error: self-signed certificate"), and the app exited before it served."""
    service = builder_service
    _sandboxed(service)
    with trio.fail_after(BUILD_WAIT):
        body = await launched(service, app_files("node_pg_verified_ssl"))
        assert body["status"] == "running", (body["errorMessage"], body["errorLines"])
        assert (await _proxied(service, body, "/"))["data"] == {"notes": 0, "tls": True}
        system = messages(await service.history(body["gid"]), "system")
        said = "PostgreSQL: src/db/index.js asks node-postgres for TLS with a certificate"
        assert any(m.startswith(said) for m in system), system
        assert (await service.stop(body["gid"])).status_code == 200


@needs_server
async def test_an_app_verifying_its_databases_certificate_against_its_own_ca_trusts_the_relays(
    builder_service: Service,
) -> None:
    """jsdev4web's inventory-express-app: a pg Pool by parts with ``ssl: {
    rejectUnauthorized: true, ca: process.env.DB_CA }`` for its hosted database, which
    nothing can switch off ("Error: self-signed certificate"). The relay's certificate,
    made for localhost and 127.0.0.1, is one Node is told to trust."""
    service = builder_service
    _sandboxed(service)
    with trio.fail_after(BUILD_WAIT):
        body = await launched(service, app_files("node_pg_verified_ca"))
        assert body["status"] == "running", (body["errorMessage"], body["errorLines"])
        assert (await _proxied(service, body, "/"))["data"] == {"games": 0, "tls": True}
        assert (await service.stop(body["gid"])).status_code == 200


@needs_server
async def test_an_app_verifying_its_databases_certificate_by_a_flag_takes_the_relays(
    builder_service: Service,
) -> None:
    """luisrodge's nestjs-api-demo: TypeORM's ``ssl: this.isProduction()`` (true unless
    ``MODE=DEV``) and the server given by host and port, no URL to say sslmode in: its
    migration failed on "Error: self-signed certificate" (the relay's). With no way out of
    the sandbox the preview's own servers are the only TLS peers a Node app reaches."""
    service = builder_service
    _sandboxed(service)
    with trio.fail_after(BUILD_WAIT):
        body = await launched(service, app_files("node_pg_ssl_by_flag"))
        assert body["status"] == "running", (body["errorMessage"], body["errorLines"])
        assert (await _proxied(service, body, "/"))["data"] == {"one": 1, "tls": True}
        assert (await service.stop(body["gid"])).status_code == 200


@needs_server
async def test_an_examples_fill_in_for_the_database_is_the_services(
    builder_service: Service,
) -> None:
    """bonkx's express-jwt-postgres: its .env.example's ``DATABASE_URL="your_postgres_db_url"``
    (and ``POSTGRES_HOST=your_postgres_host``), copied as its .env, named no server:
    Sequelize's "Error parsing url". A value left for the reader to fill in gives way to
    the preview's own server, as a URL with placeholders does."""
    service = builder_service
    _sandboxed(service)
    with trio.fail_after(BUILD_WAIT):
        body = await launched(service, app_files("node_pg_fill_in_url"))
        assert body["status"] == "running", (body["errorMessage"], body["errorLines"])
        answer = (await _proxied(service, body, "/"))["data"]
        assert answer["one"] == 1 and answer["host"] != "your_postgres_host", answer
        assert (await service.stop(body["gid"])).status_code == 200


def test_only_an_app_asking_for_tls_is_told_to_take_a_self_signed_certificate() -> None:
    # (Node warns at every start where NODE_TLS_REJECT_UNAUTHORIZED=0: not for an app
    # that never asks its database for TLS)
    assert _asks_tls({"src/config.service.ts": b"  ssl: this.isProduction(),\n"})
    assert _asks_tls({"config/config.json": b'{"dialectOptions": {"ssl": {"require": true}}}'})
    assert _asks_tls({".env.example": b"DATABASE_URL=postgres://u@h/db?sslmode=require\n"})
    assert not _asks_tls({"src/db.js": b"new Pool({ connectionString: url })\n"})
    assert not _asks_tls({"node_modules/pg/lib/client.js": b"ssl: this.ssl,\n"})


def test_only_node_postgres_told_ssl_true_outside_its_tests_verifies() -> None:
    package = b'{"dependencies": {"pg": "^8"}}'
    pool = b"new Pool({ connectionString: url, ssl: true })"
    verified = postgres_wants({"package.json": package, "src/db.ts": pool}, {})
    assert verified.verified_tls == "src/db.ts"
    plain = b"new Pool({ connectionString: url, ssl: false })"
    assert postgres_wants({"package.json": package, "src/db.ts": plain}, {}).verified_tls is None
    tested = {"package.json": package, "test/db.test.ts": pool}
    assert postgres_wants(tested, {}).verified_tls is None
    other = {"package.json": b'{"dependencies": {"postgres": "^3"}}', "src/db.ts": pool}
    assert postgres_wants(other, {}).verified_tls is None


async def test_no_postgres_to_give_fails_saying_how(settings: Settings) -> None:
    configured = replace(settings, app_postgres="off")
    with trio.fail_after(60):
        async with running_service(configured) as service:
            body = await launched(service, app_files("compose_postgres"))
            assert body["status"] == "failed", body
            assert "PREVIEW_APP_POSTGRES_URL" in body["errorMessage"], body


def test_an_example_postgres_url_is_kept_where_postgres_is_given() -> None:
    files = {
        "main.py": b"import os\nURL = os.environ['DATABASE_URL']\n",
        ".env.example": b"DATABASE_URL=postgresql://u:p@db:5432/shop\n",
    }
    url = "postgresql://u:p@db:5432/shop"
    given = config_defaults(files, "main.py", {}, {"DATABASE_URL", "PGHOST", "PORT"})
    assert given.values["DATABASE_URL"] == url  # the relay answers it as written
    plain = config_defaults(files, "main.py", {}, {"DATABASE_URL", "PORT"})
    assert "DATABASE_URL" not in plain.values  # else its own SQLite file stands in


async def test_a_private_server_that_did_not_start_is_told_to_the_app(tmp_path: Path) -> None:
    server = PrivateServer(tmp_path)
    server.failure = "it did not start: could not bind"
    server.ready.set()
    with trio.fail_after(5), pytest.raises(LoginRefused, match="could not bind"):
        await PrivateLogins(server).login("postgres", "app")


@needs_server
async def test_psycopg2_is_installed_as_its_wheels(builder_service: Service) -> None:
    """psycopg2 listed: psycopg2-binary's wheels are installed (the same module), said in
    the build's output, instead of a build from source."""
    service = builder_service
    _sandboxed(service)
    with trio.fail_after(BUILD_WAIT):
        body = await _settled(service, "flask_psycopg2")
        assert body["status"] == "running", (body["errorMessage"], body["errorLines"])
        assert (await _proxied(service, body, "/"))["data"] == {"answer": 42}
        build = messages(await service.history(body["gid"]), "build")
        assert any("→ psycopg2-binary>=2.8" in m for m in build), build[-10:]
        assert not any("Building psycopg2" in m for m in build)
        assert (await service.stop(body["gid"])).status_code == 200


@needs_server
async def test_a_private_server_that_cannot_start_is_named_in_the_status(
    builder_service: Service,
) -> None:
    """The service's own part failing (here its data dir's postgres folder is a file)
    reaches the user by name and cause, not as "the service's log says why"."""
    service = builder_service
    _sandboxed(service)
    bin_dir = server_binaries()
    assert bin_dir is not None
    blocker = service.settings.data_dir / "postgres" / f"template-{bin_dir.parent.name}"
    await trio.to_thread.run_sync(lambda: blocker.parent.mkdir(exist_ok=True))
    await trio.to_thread.run_sync(blocker.write_text, "not a folder")
    with trio.fail_after(BUILD_WAIT):
        body = await _settled(service, "compose_postgres")
    assert body["status"] == "failed"
    # The cause first, by name; the app's own failure to connect only after it.
    cause = "the private PostgreSQL could not start: Not a directory"
    assert body["errorMessage"].startswith(f"{cause} (then: "), body["errorMessage"]
    said = messages(await service.history(body["gid"]), "system")
    assert f"PostgreSQL: {cause}" in said, said


def test_where_no_url_names_the_database_the_compose_servers_own_names_do() -> None:
    """ILugaro's fastapi-postgresql-alembic-docker's shape: no URL anywhere names its
    database (its settings.yaml does, by parts), its compose file's PostgreSQL service
    makes it (``POSTGRES_DB``); its Alembic env.py reads ``DATABASE_URL`` first. Given
    under that name, the migrations and the app open the same database."""
    files = {p: t.encode() for p, t in app_files("fastapi_compose_declared_app").items()}
    wants = postgres_wants(files, {})
    assert wants.named == {"user": "postgres", "password": "postgres", "database": "shop_products"}
    url = postgres_variables({}, "127.0.0.1", 5432, wants.named)["DATABASE_URL"]
    assert url == "postgresql://postgres:postgres@127.0.0.1:5432/shop_products"
    assert postgres_wants(files, {"SHOP_DB": "other"}).named["database"] == "other"
    # The app's own URL names it first; an image told no database makes the user's.
    own = {**files, "src/.env": b"DATABASE_URL=postgresql://app:pw@db:5432/orders\n"}
    assert postgres_wants(own, {}).named == {"user": "app", "password": "pw", "database": "orders"}
    unnamed = files["docker-compose.yml"].replace(b"POSTGRES_DB=", b"UNUSED=")
    without = postgres_wants({**files, "docker-compose.yml": unnamed}, {})
    assert without.named["database"] == "postgres"


def test_the_one_database_its_codes_url_names_is_its_variables_database() -> None:
    """AntonioPiattiFadda's BackEnd-ExpressPostgres1 opens Sequelize on a hosted URL its
    code writes in (``…railway.app:7253/railway``), its sequelize-cli migrations on
    ``DB_NAME``: given the preview's own database name, the migrations made their tables
    where the app never looked ("relation "users" does not exist"). Where the code's URLs
    name one database, the variables name it; where they name two, neither."""
    code = (
        b"const { Sequelize } = require('sequelize');\n"
        b"const sequelize = new Sequelize(`postgresql://postgres:s3cret@containers-us-west-118"
        b".railway.app:7253/railway\n`, {});\n"
    )
    compose = b"services:\n  postgres:\n    image: postgres:13\n    environment:\n"
    compose += b"      - POSTGRES_DB=my_store\n      - POSTGRES_USER=nico\n"
    files = {
        "package.json": b'{"dependencies": {"pg": "^8", "sequelize": "^6"}}',
        "api/libs/sequelize.js": code,
        "docker-compose.yml": compose,
        ".github/workflows/ci.yml": b"env:\n  URL: postgres://ci:ci@localhost:5432/ci_db\n",
    }
    wants = postgres_wants(files, {})
    assert wants.named == {"user": "postgres", "password": "s3cret", "database": "railway"}
    variables = postgres_variables({}, "127.0.0.1", 5432, wants.named)
    assert variables["DB_NAME"] == variables["PGDATABASE"] == "railway"
    other = code.replace(b"/railway", b"/other") + b"const b = 'postgres://a:b@h/second';\n"
    two = postgres_wants({**files, "api/libs/sequelize.js": other}, {})
    assert two.named["database"] == "my_store"  # the compose file's server's, as before
