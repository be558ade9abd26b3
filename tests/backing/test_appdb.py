"""Each preview's own PostgreSQL database (PREVIEW_APP_POSTGRES_URL), on the machine's real
server: created under a random name (sandboxed: on the app's first connection through its
relay, whatever names it used; unsandboxed: at launch), given as DATABASE_URL and
POSTGRES_*, closed to other roles, its catalogs listing no other database, dropped at stop
and after a restart."""

from __future__ import annotations

import os
from dataclasses import replace
from pathlib import Path

import psycopg
import pytest
import sqlalchemy as sa
import trio

from preview import Settings
from preview.backing.appdb import (
    DATABASE_NAME,
    SharedLogins,
    create_app_database,
    drop_app_database,
    new_database_name,
)
from preview.backing.wants import postgres_wants

from ..conftest import SERVER_COMMAND, running_service, server_app

PG_URL = os.environ.get("PREVIEW_TEST_POSTGRES_URL", "")
pytestmark = pytest.mark.skipif(not PG_URL, reason="PREVIEW_TEST_POSTGRES_URL is not set")

# The app writes to its database at start and reads it back on each GET.
DB_APP = server_app(
    before_serving="""
    import json, psycopg
    with psycopg.connect(os.environ["DATABASE_URL"], autocommit=True) as db:
        db.execute("CREATE TABLE visits (who text)")
        db.execute("INSERT INTO visits VALUES (%s)", (os.environ["POSTGRES_USER"],))

    class Rows(Handler):
        def do_GET(self):
            with psycopg.connect(os.environ["DATABASE_URL"]) as db:
                rows = db.execute("SELECT who FROM visits").fetchall()
                name = db.execute("SELECT current_database()").fetchone()[0]
            try:  # the server's other databases, by name
                with psycopg.connect(os.environ["DATABASE_URL"]) as db:
                    listed = db.execute("SELECT datname FROM pg_database").fetchall()
                    listing = sorted(r[0] for r in listed)
            except psycopg.Error as error:
                listing = type(error).__name__
            try:  # another role (the server may trust the service's host)
                url = os.environ["DATABASE_URL"].rsplit("@", 1)[1].rsplit("/", 1)[0]
                with psycopg.connect(
                    f"postgresql://postgres@{url}/postgres", connect_timeout=5
                ) as db:
                    other = list(db.execute("SELECT current_user, current_database()").fetchone())
            except psycopg.Error as error:
                other = type(error).__name__
            body = json.dumps(
                {"rows": [r[0] for r in rows], "database": name, "other": other,
                 "listing": listing}
            )
            body = body.encode()
            self.send_response(200); self.send_header("Content-Length", str(len(body)))
            self.end_headers(); self.wfile.write(body)
    Handler = Rows
    """
)


def _admin_url() -> str:
    return PG_URL.replace("postgresql+psycopg://", "postgresql://")


def _exists(name: str) -> tuple[bool, bool]:
    with psycopg.connect(_admin_url(), autocommit=True) as admin:
        database = admin.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,))
        has_db = database.fetchone() is not None
        has_role = admin.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", (name,))
        return has_db, has_role.fetchone() is not None


def _can_connect(env: dict[str, str], database: str) -> bool:
    url = env["DATABASE_URL"].rsplit("/", 1)[0] + "/" + database
    try:
        with psycopg.connect(url, connect_timeout=5):
            return True
    except psycopg.OperationalError:
        return False


@pytest.mark.parametrize("sandbox", ["auto", "off"])
async def test_each_preview_gets_its_own_database(settings: Settings, sandbox: str) -> None:
    # Sandboxed, the app reaches the server through its sandbox's relay (127.0.0.1:5432
    # inside), the one way out its network has.
    configured = replace(settings, app_postgres_url=PG_URL, sandbox=sandbox)
    with trio.fail_after(120):
        async with running_service(configured) as service:
            first = await service.upload(DB_APP)
            second = await service.upload(DB_APP)
            bodies = []
            for gid in (first, second):
                response = await service.launch(gid, tier="pro", command=SERVER_COMMAND)
                assert response.json()["status"] == "running", response.text
                bodies.append(response.json())
            ids = [b["previewInstanceId"] for b in bodies]
            runtimes = [service.supervisor.get(i) for i in ids]
            envs = [runtime.backing.env for runtime in runtimes]
            names = [runtime.spec.database_name for runtime in runtimes]
            for body, preview_id, name, env in zip(bodies, ids, names, envs, strict=True):
                # Named at random: nothing of the preview, its generation or its user.
                assert DATABASE_NAME.match(name), name
                assert preview_id.split("_")[1] not in name
                seen = (await service.app_get(body, "/")).json()
                assert {k: seen[k] for k in ("rows", "database")} == {
                    "rows": [env["POSTGRES_USER"]],
                    "database": name,
                }
                # Its own database lists no other (nor itself) by name.
                assert seen["listing"] == "InsufficientPrivilege", seen
                if sandbox == "auto":  # any login through the relay is its own role's
                    assert seen["other"] == [name, f"{name}_1"], seen
            assert await trio.to_thread.run_sync(_exists, names[0]) == (True, True)
            if sandbox == "off":  # one preview's role cannot open the other's database
                assert await trio.to_thread.run_sync(_can_connect, envs[0], names[0])
                assert not await trio.to_thread.run_sync(_can_connect, envs[0], names[1])
            else:  # the app has no role's password: the relay logs in for it
                assert envs[0]["POSTGRES_HOST"] == "127.0.0.1"
                assert envs[0]["POSTGRES_PASSWORD"] != names[0]
            assert (await service.stop(first)).status_code == 200
            assert await trio.to_thread.run_sync(_exists, names[0]) == (False, False)
            assert await trio.to_thread.run_sync(_exists, names[1]) == (True, True)
        # The service's shutdown stopped the second: its database went with it.
        assert await trio.to_thread.run_sync(_exists, names[1]) == (False, False)


async def test_own_database_url_is_not_overridden(settings: Settings) -> None:
    configured = replace(settings, app_postgres_url=PG_URL)
    app = server_app(
        before_serving="""
        class Env(Handler):
            def do_GET(self):
                body = os.environ["DATABASE_URL"].encode()
                self.send_response(200); self.send_header("Content-Length", str(len(body)))
                self.end_headers(); self.wfile.write(body)
        Handler = Env
        """
    )
    with trio.fail_after(60):
        async with running_service(configured) as service:
            gid = await service.upload(app)
            response = await service.launch(
                gid, command=SERVER_COMMAND, env={"DATABASE_URL": "sqlite:///mine.db"}
            )
            body = response.json()
            assert (await service.app_get(body, "/")).text == "sqlite:///mine.db"
            assert (await service.stop(gid)).status_code == 200


def _create_unmarked(name: str) -> None:
    """A database and role as earlier versions made them: no node's mark."""
    with psycopg.connect(_admin_url(), autocommit=True) as admin:
        admin.execute(f'CREATE ROLE "{name}" LOGIN')
        admin.execute(f'CREATE DATABASE "{name}" OWNER "{name}"')


async def test_a_services_start_drops_its_own_leftovers_and_no_other_services(
    settings: Settings, tmp_path: Path
) -> None:
    """Two services (two data dirs) share the server: each one's start drops the
    databases its own crash left, never the other's live ones (they were all dropped),
    nor unmarked ones."""
    mine, theirs = replace(settings, app_postgres_url=PG_URL), Settings(data_dir=tmp_path / "b")
    assert mine.node != theirs.node  # each data dir's own name, made once
    leftover, live, unmarked = new_database_name(), new_database_name(), new_database_name()
    try:
        await trio.to_thread.run_sync(create_app_database, PG_URL, leftover, mine.node)
        await trio.to_thread.run_sync(create_app_database, PG_URL, live, theirs.node)
        await trio.to_thread.run_sync(_create_unmarked, unmarked)
        with trio.fail_after(30):
            async with running_service(mine):
                assert await trio.to_thread.run_sync(_exists, leftover) == (False, False)
                assert await trio.to_thread.run_sync(_exists, live) == (True, True)
                assert await trio.to_thread.run_sync(_exists, unmarked) == (True, True)
        # Its name is kept in its data dir: after a restart it is the same node.
        assert Settings(data_dir=mine.data_dir).node == mine.node
    finally:
        for name in (leftover, live, unmarked):
            await trio.to_thread.run_sync(drop_app_database, PG_URL, name)


async def test_a_configured_node_id_is_the_mark(settings: Settings) -> None:
    named = replace(settings, app_postgres_url=PG_URL, node_id="node-a")
    assert named.node == "node-a"
    leftover, other = new_database_name(), new_database_name()
    try:
        await trio.to_thread.run_sync(create_app_database, PG_URL, leftover, "node-a")
        await trio.to_thread.run_sync(create_app_database, PG_URL, other, "node-b")
        with trio.fail_after(30):
            async with running_service(named):
                assert await trio.to_thread.run_sync(_exists, leftover) == (False, False)
                assert await trio.to_thread.run_sync(_exists, other) == (True, True)
    finally:
        for name in (leftover, other):
            await trio.to_thread.run_sync(drop_app_database, PG_URL, name)


# What a role may read in its own database that names the server's databases.
_NAMING = (
    "pg_database",
    "pg_stat_activity",
    "pg_stat_database",
    "pg_stat_database_conflicts",
    "pg_stat_progress_vacuum",
    "pg_prepared_xacts",
    "pg_replication_slots",
)


def _as_role(env: dict[str, str]) -> dict[str, str]:
    """What the preview's role gets for each catalog: the names, or the error."""
    seen = {}
    with psycopg.connect(env["DATABASE_URL"], autocommit=True) as db:
        for catalog in _NAMING:
            column = (
                "database"
                if catalog in ("pg_prepared_xacts", "pg_replication_slots")
                else "datname"
            )
            try:
                rows = db.execute(f"SELECT {column} FROM pg_catalog.{catalog}").fetchall()
                seen[catalog] = ",".join(sorted(str(r[0]) for r in rows))
            except psycopg.Error as error:
                seen[catalog] = type(error).__name__
    return seen


def _works_with_an_orm(env: dict[str, str]) -> list[str]:
    """SQLAlchemy's usual first steps in the preview's database: create, introspect."""
    url = env["DATABASE_URL"].replace("postgresql://", "postgresql+psycopg://", 1)
    engine = sa.create_engine(url)
    try:
        metadata = sa.MetaData()
        sa.Table("items", metadata, sa.Column("id", sa.Integer, primary_key=True))
        metadata.create_all(engine)
        with engine.begin() as connection:
            connection.execute(metadata.tables["items"].insert(), [{"id": 1}])
        return sa.inspect(engine).get_table_names()
    finally:
        engine.dispose()


def _common_extensions(env: dict[str, str]) -> list[int]:
    """uuid-ossp's and pgcrypto's functions, as the preview's role, never having created
    either extension (an app's README leaves that to a manual step)."""
    with psycopg.connect(env["DATABASE_URL"], autocommit=True) as db:
        made = db.execute("SELECT uuid_generate_v4()::text, gen_random_bytes(4)").fetchone()
    return [len(made[0]), len(made[1])]


def _server_unchanged() -> tuple[bool, list[str]]:
    """What any other role sees elsewhere on the server: pg_database readable by all."""
    with psycopg.connect(_admin_url(), autocommit=True) as admin:
        readable = admin.execute(
            "SELECT has_table_privilege('public', 'pg_catalog.pg_database', 'SELECT')"
        ).fetchone()[0]
        names = [r[0] for r in admin.execute("SELECT datname FROM pg_database").fetchall()]
    return readable, names


async def test_a_previews_role_lists_no_database_of_the_server() -> None:
    names = [new_database_name(), new_database_name()]
    envs = []
    try:
        for name in names:
            envs.append(await trio.to_thread.run_sync(create_app_database, PG_URL, name, "tests"))
        for env in envs:
            seen = await trio.to_thread.run_sync(_as_role, env)
            assert seen == dict.fromkeys(_NAMING, "InsufficientPrivilege"), seen
            assert await trio.to_thread.run_sync(_works_with_an_orm, env) == ["items"]
            assert await trio.to_thread.run_sync(_common_extensions, env) == [36, 4]
        # The server's other databases and their clients are as they were.
        readable, listed = await trio.to_thread.run_sync(_server_unchanged)
        assert readable and set(names) <= set(listed)
    finally:
        for name in names:
            await trio.to_thread.run_sync(drop_app_database, PG_URL, name)


async def test_an_uploads_init_scripts_run_in_each_new_database_as_its_role() -> None:
    """Its compose file's /docker-entrypoint-initdb.d SQL, on the operator's server: run
    in each database the app opens, before it does, as the preview's own role (the SQL is
    the upload's: never the admin's); one that fails is told and the next still runs."""
    told: list[str] = []

    async def tell(text: str) -> None:
        told.append(text)

    # psql's own \c (torikatsupg's hono-todo: "\c todo" before its CREATE TABLE) is left
    # out: the scripts run in each database the app opens; so is its CREATE DATABASE,
    # which the server refuses among other statements.
    scripts = (
        (
            "db/01.sql",
            "CREATE DATABASE shop;\n\\c shop\nCREATE TABLE fruit (name text);\n"
            "  \\connect shop\n"
            "INSERT INTO fruit VALUES ('apple');",
        ),
        ("db/02.sql", "CREATE ROLE intruder SUPERUSER;"),
        ("db/03.sql", "INSERT INTO fruit VALUES ('50% pear');"),
        # pg_dump's rows (seanism4113's Express-reservations' data.sql): COPY from psql's
        # stdin, ended by "\.", a null first column ("\N") no psql command.
        (
            "db/04.sql",
            "COPY public.fruit (name) FROM stdin;\nfig\n\\N\n\\.\n\n"
            "INSERT INTO fruit VALUES ('kiwi');\n",
        ),
        # farhanhasindipro25's music-library: its rows beside the queries its code runs,
        # which fail on their parameter: run one by one, as psql runs a file.
        (
            "db/05.sql",
            "-- the rows\nINSERT INTO fruit VALUES ('plum; ripe');\n"
            "-- the query its code runs\nSELECT * FROM fruit WHERE name = $1;\n",
        ),
        # pgAdmin's table script (DarKaizoku's BLOGexpressAPI): a default from a sequence
        # it never makes, in a transaction: the sequence is made first.
        (
            "db/06.sql",
            "BEGIN;\nDROP TABLE IF EXISTS public.tree;\nCREATE TABLE IF NOT EXISTS public.tree"
            "\n(id integer NOT NULL DEFAULT nextval('tree_id_seq'::regclass), name text);\n"
            "INSERT INTO tree (name) VALUES ('oak');\nEND;\n",
        ),
        # One failing statement of a transaction, run one by one: the rest still run,
        # not "current transaction is aborted".
        (
            "db/07.sql",
            "BEGIN;\nSELECT * FROM fruit WHERE name = $1;\nINSERT INTO tree (name) VALUES ('elm');"
            "\nCOMMIT;\n",
        ),
    )
    logins = SharedLogins(
        PG_URL, new_database_name(), "tests", init_scripts=scripts, init_told=tell
    )
    try:
        with trio.fail_after(60):
            login = await logins.login("postgres", "shop")
            again = await logins.login("postgres", "shop")  # the same database: not again
            assert again == login
            found = await trio.to_thread.run_sync(
                _fruit, login.role, login.password, login.database
            )
        assert found == (["50% pear", "apple", "fig", "kiwi", "plum; ripe", None], logins.role)
        assert [t.split(":")[1].strip()[:40] for t in told] == [
            "the init script db/01.sql was run",
            "the init script db/02.sql failed",
            "the init script db/03.sql was run",
            "the init script db/04.sql was run",
            "the init script db/05.sql was run statem",
            "the init script db/06.sql was run",
            "the init script db/07.sql was run statem",
        ]
        assert told[4].endswith("1 of its 2 failed (the first: there is no parameter $1)")
        assert told[6].endswith("1 of its 2 failed (the first: there is no parameter $1)")
        trees = await trio.to_thread.run_sync(_trees, login.role, login.password, login.database)
        assert trees == [(1, "oak"), (2, "elm")]
        assert "db/02.sql failed: " in told[1], told  # the role may not: never the admin
        assert await trio.to_thread.run_sync(_exists, "intruder") == (False, False)
    finally:
        await trio.to_thread.run_sync(logins.drop)


async def test_an_init_script_that_never_ends_is_cut_when_its_preview_ends() -> None:
    """The SQL is the upload's, run by the service in a thread: ``SELECT pg_sleep(…)``
    held the preview's end (its relay's login waits for it, and a thread is not
    cancelled) for as long as the upload said, its session open on the operator's
    server. Its end cancels the query."""
    told: list[str] = []

    async def tell(text: str) -> None:
        told.append(text)

    scripts = (("schema.sql", "SELECT pg_sleep(40);"),)
    logins = SharedLogins(
        PG_URL, new_database_name(), "tests", init_scripts=scripts, init_told=tell
    )
    try:
        with trio.fail_after(20):
            async with trio.open_nursery() as nursery:
                nursery.start_soon(logins.login, "postgres", "shop")
                await _until_sleeping(logins.role, True)
                nursery.cancel_scope.cancel()
            await _until_sleeping(logins.role, False)  # (its cancel request)
    finally:
        await trio.to_thread.run_sync(logins.drop)
    assert await trio.to_thread.run_sync(_exists, logins.role) == (False, False)


async def _until_sleeping(role: str, sleeping: bool) -> None:
    """Until ``role``'s session runs ``pg_sleep`` (or no longer does): the caller's
    fail_after bounds the wait."""
    while True:
        if await trio.to_thread.run_sync(_sleeping, role) is sleeping:
            return
        await trio.sleep(0.02)


def _sleeping(role: str) -> bool:
    with psycopg.connect(_admin_url(), autocommit=True) as admin:
        found = admin.execute(
            "SELECT 1 FROM pg_stat_activity WHERE usename = %s AND query LIKE %s",
            (role, "%pg_sleep%"),
        )
        return found.fetchone() is not None


def _fruit(user: str, password: str, database: str) -> tuple[list[str], str]:
    server = _admin_url().rsplit("@", 1)[1].rsplit("/", 1)[0]
    url = f"postgresql://{user}:{password}@{server}/{database}"
    with psycopg.connect(url, connect_timeout=10) as db:
        rows = [r[0] for r in db.execute("SELECT name FROM fruit ORDER BY name")]
        owner = db.execute("SELECT tableowner FROM pg_tables WHERE tablename = 'fruit'")
        return rows, owner.fetchone()[0]


def _trees(user: str, password: str, database: str) -> list[tuple[int, str]]:
    server = _admin_url().rsplit("@", 1)[1].rsplit("/", 1)[0]
    url = f"postgresql://{user}:{password}@{server}/{database}"
    with psycopg.connect(url, connect_timeout=10) as db:
        return [tuple(r) for r in db.execute("SELECT id, name FROM tree ORDER BY id")]


async def test_a_common_extension_the_upload_creates_itself_is_not_made_first() -> None:
    """Ch1n3du's realworld-express-drizzle: its first migration says ``CREATE EXTENSION
    pgcrypto;`` (no IF NOT EXISTS), which failed on the one made with each new database
    ("extension pgcrypto already exists"). Read from the upload, it is left to the app;
    the other common one is still made."""
    files = {"drizzle/0000_init.sql": b"CREATE EXTENSION pgcrypto;\nCREATE TABLE a (id int);"}
    own = postgres_wants(files, {}).own_extensions
    assert own == ("pgcrypto",)
    safe = {"m.sql": b'CREATE EXTENSION IF NOT EXISTS "pgcrypto";'}
    assert postgres_wants(safe, {}).own_extensions == ()
    logins = SharedLogins(PG_URL, new_database_name(), "tests", own_extensions=own)
    try:
        with trio.fail_after(60):
            login = await logins.login("postgres", "shop")
            made = await trio.to_thread.run_sync(
                _extensions, login.role, login.password, login.database
            )
        assert "pgcrypto" not in made and "uuid-ossp" in made, made
    finally:
        await trio.to_thread.run_sync(logins.drop)


def _extensions(user: str, password: str, database: str) -> list[str]:
    server = _admin_url().rsplit("@", 1)[1].rsplit("/", 1)[0]
    url = f"postgresql://{user}:{password}@{server}/{database}"
    with psycopg.connect(url, connect_timeout=10) as db:
        return [r[0] for r in db.execute("SELECT extname FROM pg_extension")]
