"""An app on SQLAlchemy's asyncio extension is given database URLs naming the async
driver it installs (asyncpg, psycopg 3, aiosqlite), its Alembic env.py too; one that
lists none gets asyncpg or aiosqlite added to its build, said in the log; a sync app keeps
the plain URL. Real builds, a real PostgreSQL (the preview's private server)."""

from __future__ import annotations

import pytest
import trio

from preview.apps.alembicheads import INI_URL_VARIABLE, alembic_upgrade
from preview.apps.asyncdb import (
    async_database,
    async_migration_urls,
    sync_driver_url,
    sync_migration_urls,
    sync_url,
    tortoise_url,
)
from preview.apps.datainit import data_steps
from preview.apps.depspec import PythonDeps, python_dependencies
from preview.apps.served import find_app
from preview.builds.appenv import database_urls_by_meaning

from ..backing.test_app_postgres import needs_server
from ..conftest import Service
from ..launching import BUILD_WAIT, app_files, launched, messages


def _files(name: str) -> dict[str, bytes]:
    return {path: text.encode() for path, text in app_files(name).items()}


def _deps(*lines: str) -> PythonDeps:
    return PythonDeps(lines, "requirements.txt", None, None)


def test_the_driver_follows_what_the_app_installs() -> None:
    files = _files("fastapi_async_pg")
    deps = python_dependencies(files, "main.py")
    found = async_database(files, deps)
    assert found is not None and found.where == "main.py"
    assert found.url("postgresql://u:p@127.0.0.1:5432/app") == (
        "postgresql+asyncpg://u:p@127.0.0.1:5432/app"
    )
    assert found.url("postgres://u@h/app") == "postgresql+asyncpg://u@h/app"
    assert found.url("sqlite:////tmp/app.db") == "sqlite+aiosqlite:////tmp/app.db"
    assert found.url("postgresql+psycopg://u@h/app") == "postgresql+psycopg://u@h/app"  # named
    # It lists asyncpg; greenlet (SQLAlchemy 2.1 installs it only with its asyncio extra).
    assert found.to_install(["postgresql+asyncpg://u@h/app"]) == ["greenlet"]
    assert found.to_install(["sqlite+aiosqlite:///app.db"]) == ["greenlet", "aiosqlite"]
    # psycopg 3 and SQLAlchemy's asyncio extra listed: psycopg's async mode, nothing to add.
    psycopg = async_database(files, _deps("sqlalchemy[asyncio]>=2", "psycopg[binary]"))
    assert psycopg is not None
    assert psycopg.url("postgresql://u@h/app") == "postgresql+psycopg://u@h/app"
    assert psycopg.to_install(["postgresql+psycopg://u@h/app"]) == []
    # Only its Alembic env.py is async: that counts too (it runs with the same URL).
    only_env = {
        "main.py": b"from fastapi import FastAPI\napp = FastAPI()\n",
        "migrations/env.py": b"from alembic import context\n"
        b"from sqlalchemy.ext.asyncio import async_engine_from_config\n",
    }
    assert async_database(only_env, _deps()).where == "migrations/env.py"  # type: ignore[union-attr]
    # A sync app, or async code only in its tests: the plain URL.
    sync = {
        "main.py": b"from sqlalchemy import create_engine\n",
        "tests/test_db.py": b"from sqlalchemy.ext.asyncio import create_async_engine\n",
    }
    assert async_database(sync, _deps("sqlalchemy", "asyncpg")) is None
    assert async_database(_files("compose_postgres"), _deps("psycopg")) is None
    # sajidreshmi's fastapi-crm: ``db: AsyncSession`` annotated in a route, its engine
    # create_engine's; an async engine made beside a sync one is async still.
    annotated = {
        "app/database.py": b"from sqlalchemy import create_engine\nengine = create_engine(URL)\n",
        "app/routes.py": b"from sqlalchemy.ext.asyncio import AsyncSession\n",
    }
    assert async_database(annotated, _deps("sqlalchemy", "aiosqlite")) is None
    made = {**annotated, "app/aio.py": b"from sqlalchemy.ext.asyncio import create_async_engine\n"}
    made["app/aio.py"] += b"engine = create_async_engine(URL)\n"
    assert async_database(made, _deps("sqlalchemy", "aiosqlite")) is not None


async def test_an_async_app_listing_no_driver_gets_aiosqlite(builder_service: Service) -> None:
    service = builder_service
    with trio.fail_after(BUILD_WAIT):
        body = await launched(service, app_files("fastapi_async_sqlite"))
        assert body["status"] == "running", (body["errorMessage"], body["errorLines"])
        answer = (await service.app_get(body, "/notes")).json()
        assert answer == {"notes": ["kept"], "driver": "aiosqlite"}
        said = messages(await service.history(body["gid"]), "system")
        assert any(
            "SQLAlchemy's asyncio extension (main.py)" in line
            and "adding greenlet, aiosqlite to its build" in line
            for line in said
        ), said
        await service.stop(body["gid"])


@needs_server
async def test_an_async_app_and_its_async_alembic_env_get_asyncpg(
    builder_service: Service,
) -> None:
    service = builder_service
    isolation = service.supervisor.isolation
    if isolation is None or not isolation.sandboxed:
        pytest.skip("the sandbox is not available here (the private server runs in it)")
    with trio.fail_after(BUILD_WAIT):
        body = await launched(service, app_files("fastapi_async_pg"), wait=False)
        while body["status"] not in ("running", "failed", "stopped"):
            await trio.sleep(0.2)
            body = {**body, **await service.status(body["gid"])}
        assert body["status"] == "running", (body["errorMessage"], body["errorLines"])
        answer = (await service.app_get(body, "/items")).json()
        assert answer == {"items": ["from the migration"], "driver": "asyncpg"}
        said = messages(await service.history(body["gid"]))
        assert any("sqlite" not in line and "adding greenlet to" in line for line in said), said
        runtime = service.supervisor.get(body["previewInstanceId"])
        # The plain URL (the app's is asyncpg's), naming what its alembic.ini names.
        url = runtime.backing.env["DATABASE_URL"]
        assert url.startswith("postgresql://shop:secret@") and url.endswith("/shop"), url
        await service.stop(body["gid"])


@needs_server
async def test_a_tortoise_app_gets_postgres_as_tortoise_names_it(builder_service: Service) -> None:
    """fastapi-tdd-docker: Tortoise 0.20 refused the service's ``postgresql://`` ("Unknown
    DB scheme: postgresql"); its URL is given as ``postgres://``, and its Aerich migrations
    (``[tool.aerich]`` in pyproject.toml) are upgraded before it serves."""
    assert tortoise_url("postgresql://u:p@h:5432/app") == "postgres://u:p@h:5432/app"
    assert tortoise_url("sqlite:///app.db") == "sqlite:///app.db"
    assert tortoise_url("postgresql+asyncpg://u:p@h/app") == "postgres://u:p@h/app"
    service = builder_service
    with trio.fail_after(BUILD_WAIT):
        body = await launched(service, app_files("fastapi_tortoise_pg"))
        assert body["status"] == "running", (body["errorMessage"], body["errorLines"])
        answer = (await service.app_get(body, "/notes")).json()
        assert answer["scheme"] == "postgres" and answer["count"] >= 1
        system = messages(await service.history(body["gid"]), "system")
        assert any("aerich.cli upgrade" in m for m in system), system
        assert (await service.stop(body["gid"])).status_code == 200
    # Its compose file's URL, SQLAlchemy's (e-gulakhmet's FastAPIChat: a leftover
    # ``postgresql+asyncpg://``, "Unknown DB scheme"): given as Tortoise names it too.
    composed = {
        **app_files("fastapi_tortoise_pg"),
        "docker-compose.yml": "services:\n  db:\n    image: postgres:16\n  web:\n    build: .\n"
        "    environment:\n      - DATABASE_URL=postgresql+asyncpg://app:app@db:5432/app\n",
    }
    with trio.fail_after(BUILD_WAIT):
        body = await launched(service, composed)
        assert body["status"] == "running", (body["errorMessage"], body["errorLines"])
        answer = (await service.app_get(body, "/notes")).json()
        assert answer["scheme"] == "postgres" and answer["count"] >= 1
        assert (await service.stop(body["gid"])).status_code == 200


@needs_server
async def test_a_tortoise_app_whose_aerich_project_has_no_migrations_gets_its_tables(
    builder_service: Service,
) -> None:
    """SilentLeaf89's fastapi-tortoise-pg: ``[tool.aerich]`` in its pyproject.toml, its
    migrations never committed (its entrypoint runs ``aerich init-db``), and every route
    answered 500, relation does not exist. Aerich's init-db makes the models' tables."""
    service = builder_service
    with trio.fail_after(BUILD_WAIT):
        body = await launched(service, app_files("fastapi_tortoise_pg_unmigrated"))
        assert body["status"] == "running", (body["errorMessage"], body["errorLines"])
        answer = (await service.app_get(body, "/notes")).json()
        assert answer["count"] >= 1
        system = messages(await service.history(body["gid"]), "system")
        assert any("aerich.cli init-db" in m for m in system), system
        assert (await service.stop(body["gid"])).status_code == 200


@needs_server
async def test_a_tortoise_app_whose_tables_nothing_makes_gets_them(
    builder_service: Service,
) -> None:
    """rafa1off's fastapi-games: ``register_tortoise(app, config=TORTOISE_ORM)`` (its config
    in configs/tortoise.py, naming ``aerich.models``), no ``generate_schemas``, no Aerich
    project nor migrations: every route of its data answered 500, relation does not exist.
    Its tables are made by Tortoise's ``generate_schemas`` on the options the app gives
    register_tortoise; an app that generates them itself gets no such step."""
    files = app_files("fastapi_tortoise_unmigrated")
    encoded = {path: text.encode() for path, text in files.items()}
    found = data_steps(encoded, "main.py", find_app(encoded))
    assert [step.what for step in found] == [
        "its Tortoise models' tables (main.py), which nothing makes"
    ]
    generating = files["main.py"].replace("ORM)", "ORM, generate_schemas=True)").encode()
    own = {**encoded, "main.py": generating}
    assert data_steps(own, "main.py", find_app(own)) == []
    service = builder_service
    with trio.fail_after(BUILD_WAIT):
        body = await launched(service, files)
        assert body["status"] == "running", (body["errorMessage"], body["errorLines"])
        answer = (await service.app_get(body, "/notes")).json()
        assert answer["count"] >= 1
        said = messages(await service.history(body["gid"]))
        assert any("generate_schemas" in m for m in said), said
        assert (await service.stop(body["gid"])).status_code == 200


@needs_server
async def test_a_sqlalchemy_app_on_psycopg3_gets_its_driver_named(
    builder_service: Service,
) -> None:
    """docker-flask-example lists psycopg 3 and no psycopg2: the service's plain
    ``postgresql://`` is psycopg2's to SQLAlchemy; it is given ``postgresql+psycopg://``.
    An app with psycopg2, or without SQLAlchemy (dj-database-url, libpq), keeps it."""
    plain = "postgresql://u:p@h:5432/app"
    assert (
        sync_driver_url(plain, {"sqlalchemy", "psycopg"}) == "postgresql+psycopg://u:p@h:5432/app"
    )
    assert sync_driver_url(plain, {"sqlmodel", "pg8000"}) == "postgresql+pg8000://u:p@h:5432/app"
    assert sync_driver_url(plain, {"sqlalchemy", "psycopg", "psycopg2-binary"}) == plain
    assert sync_driver_url(plain, {"django", "psycopg", "dj-database-url"}) == plain
    assert sync_driver_url("sqlite:///app.db", {"sqlalchemy", "psycopg"}) == "sqlite:///app.db"
    service = builder_service
    with trio.fail_after(BUILD_WAIT):
        body = await launched(service, app_files("flask_sqlalchemy_psycopg3"))
        assert body["status"] == "running", (body["errorMessage"], body["errorLines"])
        answer = (await service.app_get(body, "/")).json()
        assert answer == {"answer": 42, "driver": "postgresql+psycopg"}, answer
        assert (await service.stop(body["gid"])).status_code == 200


async def test_a_sync_app_whose_alembic_env_is_async_gets_each_its_own_url(
    builder_service: Service,
) -> None:
    """leonsk27's fastapi-transaction: SQLModel's create_engine in its app, an async
    Alembic env.py beside it. The app keeps the plain URL (an async driver's failed it on
    "MissingGreenlet"), its migration is given aiosqlite's, which its build adds."""
    upload = _sync_app_beside_an_async_alembic_env()
    files = {path: text.encode() for path, text in upload.items()}
    found = async_database(files, python_dependencies(files, "main.py"))
    assert found is not None and found.migrations_only, found
    assert found.where == "migrations/env.py"
    plain = {"DATABASE_URL": "postgresql://u:p@h/app", "PORT": "8000"}
    assert async_migration_urls(files, "", plain, {"asyncpg", "sqlalchemy"}) == {
        "DATABASE_URL": "postgresql+asyncpg://u:p@h/app"
    }
    named = {"DATABASE_URL": "postgresql+psycopg://u:p@h/app"}  # its own driver: as it is
    assert async_migration_urls(files, "", named, {"asyncpg"}) == {}
    sync_env = files["migrations/env.py"].replace(b"async_engine_from_config(", b"engine(")
    assert async_migration_urls({**files, "migrations/env.py": sync_env}, "", plain, ()) == {}
    service = builder_service
    with trio.fail_after(BUILD_WAIT):
        body = await launched(service, upload)
        assert body["status"] == "running", (body["errorMessage"], body["errorLines"])
        answer = (await service.app_get(body, "/items")).json()
        assert answer == {"items": ["from the migration"], "driver": "pysqlite"}
        said = messages(await service.history(body["gid"]), "system")
        assert any(
            line.startswith("its Alembic env.py uses SQLAlchemy's asyncio extension")
            and "adding greenlet, aiosqlite to its build" in line
            for line in said
        ), said
        assert any(
            line.startswith("its Alembic env.py is async, given a sync driver's URL")
            and "as sqlite+aiosqlite://" in line
            for line in said
        ), said
        await service.stop(body["gid"])


def _sync_app_beside_an_async_alembic_env() -> dict[str, str]:
    """fastapi_async_pg's async Alembic env.py and migration, its alembic.ini on a SQLite
    file, under a sync app (fastapi_sync_app_async_alembic's main.py and requirements)."""
    upload = {**app_files("fastapi_async_pg"), **app_files("fastapi_sync_app_async_alembic")}
    ini = upload["alembic.ini"]
    upload["alembic.ini"] = ini.replace(
        "postgresql+asyncpg://shop:secret@db:5432/shop", "sqlite:///./app.db"
    )
    assert upload["alembic.ini"] != ini
    return upload


def test_a_sync_alembic_env_is_given_its_databases_sync_driver() -> None:
    """gkarumba's fastapi-async-auth-docker-redis: its app's engine is async, its compose
    gives ``mysql+aiomysql://``, and its Alembic env.py is sync (``engine_from_config``):
    "MissingGreenlet". Its step is given the URL naming pymysql, which it has."""
    sync_env = (
        b"import os\nfrom alembic import context\nfrom sqlalchemy import engine_from_config, pool\n"
        b"context.config.set_main_option('sqlalchemy.url', os.environ['DATABASE_URL'])\n"
        b"connectable = engine_from_config(context.config.get_section('alembic'))\n"
    )
    app = b"from sqlalchemy.ext.asyncio import create_async_engine\n"
    files = {"alembic/env.py": sync_env, "app/core/database.py": app}
    url = "mysql+aiomysql://app_user:secret@localhost:3306/app_db"
    env = {"DATABASE_URL": url, "PORT": "8000"}
    assert sync_migration_urls(files, "", env, {"pymysql", "aiomysql"}) == {
        "DATABASE_URL": "mysql+pymysql://app_user:secret@localhost:3306/app_db"
    }
    assert sync_migration_urls(files, "", env, {"aiomysql"}) == {}  # no sync driver: as it is
    sqlite = {"DATABASE_URL": "sqlite+aiosqlite:///./app.db"}
    assert sync_migration_urls(files, "", sqlite, ()) == {"DATABASE_URL": "sqlite:///./app.db"}
    # An async env.py (async_engine_from_config) takes the async URL: nothing changes.
    async_env = sync_env.replace(b"engine_from_config", b"async_engine_from_config")
    assert sync_migration_urls({**files, "alembic/env.py": async_env}, "", env, {"pymysql"}) == {}
    plain = {"DATABASE_URL": "mysql+pymysql://a/b"}  # a sync driver's already
    assert sync_migration_urls(files, "", plain, {"pymysql"}) == {}
    # An env.py that makes the URL sync itself (incRED1bl's FastApi-PetProject, whose
    # env.py imports the app's async engine, made from the same URL): as it is.
    rewrites = sync_env + b'url = os.getenv("DATABASE_URL").replace("aiomysql", "pymysql")\n'
    assert sync_migration_urls({**files, "alembic/env.py": rewrites}, "", env, {"pymysql"}) == {}
    # One that runs the async driver sync (arsendada's shopFastAPI: the URL's
    # ``async_fallback``, which psycopg2's would refuse): as it is.
    fallback = sync_env + b'config.set_main_option("sqlalchemy.url", URL + "?async_fallback=1")\n'
    assert sync_migration_urls({**files, "alembic/env.py": fallback}, "", env, {"pymysql"}) == {}


def test_a_sync_alembic_env_of_its_inis_url_alone_leaves_the_apps_url_async() -> None:
    """DmitryDubovikov's FastAPI-Weather: its sync env.py makes its engine of its ini's URL
    (``engine_from_config``, setting none) and imports its models, whose module makes
    ``create_async_engine(DATABASE_URL)`` as it loads. Given psycopg2's URL as
    DATABASE_URL, that import failed ("The loaded 'psycopg2' is not async") and no table
    was made; only its ini is given the sync URL now, DATABASE_URL stays asyncpg's."""
    env_py = (
        b"from alembic import context\nfrom sqlalchemy import engine_from_config, pool\n"
        b"from src.models import metadata\nconfig = context.config\n"
        b"connectable = engine_from_config(config.get_section(config.config_ini_section))\n"
    )
    database = (
        b"import os\nfrom sqlalchemy.ext.asyncio import create_async_engine\n"
        b"engine = create_async_engine(os.environ.get('DATABASE_URL'))\n"
    )
    files = {"migrations/env.py": env_py, "src/database.py": database}
    env = {"DATABASE_URL": "postgresql+asyncpg://u:p@h:5432/app", "PORT": "8000"}
    assert sync_migration_urls(files, "", env, {"asyncpg", "psycopg2"}) == {
        INI_URL_VARIABLE: "postgresql+psycopg2://u:p@h:5432/app"
    }
    assert sync_migration_urls(files, "", env, {"asyncpg"}) == {}  # no sync driver
    # The step's program gives the ini that URL before DATABASE_URL.
    step = alembic_upgrade({**files, "alembic.ini": _SERVER_INI}, "", "alembic.ini")
    assert step[3:] == ("alembic.ini", "--the-preview-database")
    assert f'os.environ.get("{INI_URL_VARIABLE}") or os.environ.get("DATABASE_URL")' in step[2]


_SERVER_INI = (
    b"[alembic]\nscript_location = migrations\nprepend_sys_path = .\n"
    b"sqlalchemy.url = postgresql://postgres:password@db:5432/app_db\n"
)


def test_a_url_named_for_its_sync_clients_names_the_sync_driver() -> None:
    """Mohammed0saber101's social-api: its .env.example leaves DATABASE_URL_ASYNC (its
    app's engine) and DATABASE_URL_SYNC (its Alembic env.py's) empty; the sync one given
    asyncpg's URL failed its migration on "MissingGreenlet". Given psycopg2's, which it
    lists; the async one keeps asyncpg's."""
    settings = (
        b"from pydantic_settings import BaseSettings\n\n"
        b"class Settings(BaseSettings):\n"
        b"    DATABASE_URL_ASYNC: str\n    DATABASE_URL_SYNC: str\n"
    )
    files = {"app/core/config.py": settings, ".env.example": b"DATABASE_URL_ASYNC=\n"}
    env = {"DATABASE_URL": "postgresql+asyncpg://app:pw@127.0.0.1:5432/app"}
    found = database_urls_by_meaning(files, env, {}, "python", {"asyncpg", "psycopg2-binary"})
    assert found == {
        "DATABASE_URL_ASYNC": "postgresql+asyncpg://app:pw@127.0.0.1:5432/app",
        "DATABASE_URL_SYNC": "postgresql+psycopg2://app:pw@127.0.0.1:5432/app",
    }
    assert sync_url("sqlite+aiosqlite:///./app.db", set()) == "sqlite:///./app.db"
    assert sync_url("mysql+aiomysql://a/b", {"mysqlclient"}) == "mysql+mysqldb://a/b"


def test_the_plain_url_of_a_pair_named_for_async_clients_names_the_sync_driver() -> None:
    """Serious-Projects' fastapi-user-events-api: ``SQLITE_DB_URL: str = ""`` given to
    ``create_engine`` and ``SQLITE_DB_URL_ASYNC`` to ``create_async_engine``; both given
    aiosqlite's URL, its sync engine failed at its first query ("MissingGreenlet")."""
    settings = (
        b"from pydantic import BaseSettings\n\n"
        b"class Settings(BaseSettings):\n"
        b"    SQLITE_DB_URL_ASYNC: str = ''\n    SQLITE_DB_URL: str = ''\n"
    )
    env = {"DATABASE_URL": "sqlite+aiosqlite:///./app.db"}
    found = database_urls_by_meaning({"app/config.py": settings}, env, {}, "python", set())
    assert found == {
        "SQLITE_DB_URL_ASYNC": "sqlite+aiosqlite:///./app.db",
        "SQLITE_DB_URL": "sqlite:///./app.db",
    }


@needs_server
async def test_an_env_py_migrating_through_the_apps_pooled_engine_runs_once_a_process(
    builder_service: Service,
) -> None:
    """zeeshanravian1's fastapi-ecommerce-postgresql: its env.py seeds through the app's own
    async engine (a module's, pooled), each run in an event loop of its own. Its first
    revision autogenerated, then upgraded in the same process, env.py's second run got the
    first loop's connection: "attached to a different loop". Each run has a process."""
    service = builder_service
    isolation = service.supervisor.isolation
    if isolation is None or not isolation.sandboxed:
        pytest.skip("the sandbox is not available here (the private server runs in it)")
    with trio.fail_after(BUILD_WAIT):
        body = await launched(service, app_files("fastapi_async_pg_app_engine"))
        assert body["status"] == "running", (body["errorMessage"], body["errorLines"])
        assert (await service.app_get(body, "/items")).json() == {"items": []}
        said = messages(await service.history(body["gid"]))
        assert any("a first one autogenerated from its models" in m for m in said), said[-5:]
        await service.stop(body["gid"])
