"""Each preview's own PostgreSQL database (PREVIEW_APP_POSTGRES_URL), on the machine's real
server: created at launch, given as DATABASE_URL and POSTGRES_*, closed to other roles,
dropped at stop and after a restart."""

from __future__ import annotations

import os
from dataclasses import replace

import psycopg
import pytest
import trio

from preview import Settings
from preview.sandbox.appdb import create_app_database

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
            try:  # another role (the server may trust the service's host)
                url = os.environ["DATABASE_URL"].rsplit("@", 1)[1].rsplit("/", 1)[0]
                with psycopg.connect(f"postgresql://postgres@{url}/postgres", connect_timeout=5):
                    other = "connected"
            except psycopg.Error as error:
                other = type(error).__name__
            body = json.dumps({"rows": [r[0] for r in rows], "database": name, "other": other})
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
    with trio.fail_after(60):
        async with running_service(configured) as service:
            first = await service.upload(DB_APP)
            second = await service.upload(DB_APP)
            bodies = []
            for gid in (first, second):
                response = await service.launch(gid, tier="pro", command=SERVER_COMMAND)
                assert response.json()["status"] == "running", response.text
                bodies.append(response.json())
            ids = [b["previewInstanceId"] for b in bodies]
            for body, preview_id in zip(bodies, ids, strict=True):
                seen = (await service.app_get(body, "/")).json()
                assert {k: seen[k] for k in ("rows", "database")} == {
                    "rows": [preview_id],
                    "database": preview_id,
                }
                if sandbox == "auto":  # the relay lets only its own role log in
                    assert seen["other"] != "connected", seen
            assert await trio.to_thread.run_sync(_exists, ids[0]) == (True, True)
            # One preview's role cannot open the other's database.
            envs = [service.supervisor.get(i).preparation.database_env for i in ids]
            assert await trio.to_thread.run_sync(_can_connect, envs[0], ids[0])
            assert not await trio.to_thread.run_sync(_can_connect, envs[0], ids[1])
            assert (await service.stop(first)).status_code == 200
            assert await trio.to_thread.run_sync(_exists, ids[0]) == (False, False)
            assert await trio.to_thread.run_sync(_exists, ids[1]) == (True, True)
        # The service's shutdown stopped the second: its database went with it.
        assert await trio.to_thread.run_sync(_exists, ids[1]) == (False, False)


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


async def test_leftover_databases_are_dropped_at_start(settings: Settings) -> None:
    leftover = "preview_" + "ab" * 8
    await trio.to_thread.run_sync(create_app_database, PG_URL, leftover)
    assert await trio.to_thread.run_sync(_exists, leftover) == (True, True)
    with trio.fail_after(30):
        async with running_service(replace(settings, app_postgres_url=PG_URL)):
            assert await trio.to_thread.run_sync(_exists, leftover) == (False, False)
