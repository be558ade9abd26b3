"""A revision applied to a running preview (runtime.swaps): the new code starts beside
the old and takes over once it answers, with no failed request under load; a revision
that fails leaves the old one serving; changed dependencies are built first; a
migration a revision adds runs once; ``apply: false`` leaves the preview as it is."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import psutil
import pytest
import trio

from preview import Settings

from ..backing.test_appdb import PG_URL
from ..conftest import (
    SERVER_COMMAND,
    VERSIONED,
    Service,
    auth,
    eventually,
    running_service,
    server_app,
)
from ..launching import BUILD_WAIT


def _revisions(gid: str, rest: str = "") -> str:
    return f"/api/generations/{gid}/revisions{rest}"


async def _launch(service: Service, files: dict[str, str], **options: Any) -> tuple[str, dict]:
    gid = await service.upload(files)
    launched = (await service.launch(gid, command=SERVER_COMMAND, **options)).json()
    assert launched["status"] == "running", (launched["errorMessage"], launched["errorLines"])
    return gid, launched


async def _proxied(service: Service, gid: str, token: str, path: str) -> str:
    response = await service.client.get(
        f"/api/generations/{gid}/preview/proxy/{path}",
        headers={**auth(), "X-Preview-Token": token},
    )
    assert response.status_code == 200, response.text
    return response.text


async def test_a_revision_takes_over_with_no_failed_request_under_load(service: Service) -> None:
    gid, _, _ = await _swap_under_load(service)
    assert (await service.stop(gid)).status_code == 200


async def test_unsandboxed_the_new_process_gets_a_port_of_its_own(
    unsandboxed: Settings, service: Service
) -> None:
    gid, old_port, new_port = await _swap_under_load(service)
    assert new_port != old_port  # both listened on the host's loopback meanwhile
    with trio.fail_after(30):
        await eventually(lambda: old_port not in service.supervisor.ports.in_use)
        assert (await service.stop(gid)).status_code == 200


async def _swap_under_load(service: Service) -> tuple[str, int, int]:
    """Revision 2 applied while ~50 requests a second go through the proxy: every one
    answered, by revision 1 then 2; its generation and the ports of the two processes."""
    with trio.fail_after(120):
        gid, launched = await _launch(service, server_app(VERSIONED, **{"version.txt": "one"}))
        token = launched["previewToken"]
        old_pid = launched["processId"]
        answers: dict[str, int] = {}
        failures: list[str] = []
        sending = True

        async def one() -> None:
            try:
                text = await _proxied(service, gid, token, "version.txt")
            except (AssertionError, OSError, Exception) as error:  # every way a call fails
                failures.append(repr(error))
                return
            answers[text] = answers.get(text, 0) + 1

        async def load(nursery: trio.Nursery) -> None:
            while sending:  # about 50 requests a second, each on its own
                nursery.start_soon(one)
                await trio.sleep(0.02)

        async with trio.open_nursery() as nursery:
            nursery.start_soon(load, nursery)
            await eventually(lambda: answers.get("one", 0) >= 25)
            posted = await service.client.post(
                _revisions(gid), json={"files": {"version.txt": "two"}}, headers=auth()
            )
            assert posted.status_code == 201, posted.text
            body = posted.json()
            assert body["applied"] is True, body
            assert body["apply"]["state"] == "switched"
            assert body["apply"]["message"].startswith(
                "revision 2: 1 file changed (version.txt) — ready in "
            )
            assert body["apply"]["message"].endswith(" ms, switched")
            assert body["preview"]["revision"] == 2
            assert body["preview"]["previewInstanceId"] == launched["previewInstanceId"]
            seen_before = answers.get("two", 0)
            await eventually(lambda: answers.get("two", 0) >= seen_before + 50)
            sending = False
        assert failures == []
        assert answers["one"] >= 25 and answers["two"] >= 50

        status = await service.status(gid)
        assert status["status"] == "running" and status["revision"] == 2
        assert status["previewInstanceId"] == launched["previewInstanceId"]
        assert status["lastApply"]["state"] == "switched"
        assert status["processId"] != old_pid
        # The replaced process is drained, then stopped.
        await eventually(lambda: not psutil.pid_exists(old_pid))
        events = await service.history(gid)
        ids = [e["id"] for e in events]
        assert ids == list(range(1, len(ids) + 1))  # one sequence throughout
        system = [e["message"] for e in events if e["source"] == "system"]
        assert any(
            m.startswith("revision 2: 1 file changed (version.txt); starting") for m in system
        )
        switched = [e for e in events if e.get("status") == "running"]
        assert switched[-1]["message"] == body["apply"]["message"]
        assert "revision 1: stopping (replaced by revision 2)" in system
    return gid, launched["port"], status["port"]


async def test_a_revision_that_fails_leaves_the_old_one_serving(service: Service) -> None:
    with trio.fail_after(120):
        gid, launched = await _launch(service, server_app(VERSIONED, **{"version.txt": "one"}))
        token = launched["previewToken"]
        broken = server_app(VERSIONED)["server.py"] + "\ndef oops(:\n"
        posted = await service.client.post(
            _revisions(gid), json={"files": {"server.py": broken}}, headers=auth()
        )
        assert posted.status_code == 201, posted.text
        body = posted.json()
        assert body["applied"] is False and body["apply"]["state"] == "failed"
        assert body["apply"]["message"].endswith("; still serving revision 1")
        assert "SyntaxError" in body["apply"]["errorMessage"]
        assert ".revisions" not in body["apply"]["errorMessage"]  # the app's own paths
        assert body["preview"]["revision"] == 1
        assert await _proxied(service, gid, token, "version.txt") == "one"
        status = await service.status(gid)
        assert status["status"] == "running" and status["revision"] == 1
        assert status["errorMessage"] is None  # the preview has not failed: its swap has
        assert status["lastApply"]["state"] == "failed"  # kept until the next swap
        assert status["processId"] == launched["processId"]
        errors = [e["message"] for e in await service.history(gid) if e["level"] == "ERROR"]
        assert body["apply"]["message"] in errors
        # A fixed revision then takes over.
        posted = await service.client.post(
            _revisions(gid),
            json={"files": {"server.py": server_app(VERSIONED)["server.py"], "version.txt": "3"}},
            headers=auth(),
        )
        assert posted.json()["applied"] is True, posted.text
        assert await _proxied(service, gid, token, "version.txt") == "3"
        assert (await service.stop(gid)).status_code == 200


async def test_a_revision_whose_clean_up_fails_leaves_the_old_one_serving(
    service: Service, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A failed revision's directory the service may not remove (the OS refuses it: a
    run dir under a parent the previews' user cannot traverse) used to end the whole
    preview, "an error of the service", the serving revision answering 503."""
    from preview.runtime.swaps import candidate

    def refused(path: object) -> None:
        raise PermissionError(13, "Permission denied", str(path))

    with trio.fail_after(120):
        gid, launched = await _launch(service, server_app(VERSIONED, **{"version.txt": "one"}))
        token = launched["previewToken"]
        monkeypatch.setattr(candidate, "remove_tree", refused)
        broken = server_app(VERSIONED)["server.py"] + "\ndef oops(:\n"
        posted = await service.client.post(
            _revisions(gid), json={"files": {"server.py": broken}}, headers=auth()
        )
        assert posted.status_code == 201, posted.text
        assert posted.json()["apply"]["state"] == "failed"
        warned = "revision 2: its clean-up failed: PermissionError: [Errno 13] Permission denied"

        runtime = service.supervisor.for_generation(gid)
        assert runtime is not None

        def said() -> list[str]:
            return [e.message for e in runtime.broadcast.recent() if e.message.startswith(warned)]

        await eventually(lambda: bool(said()))  # the clean-up comes after the answer
        told = said()[0]
        assert await _proxied(service, gid, token, "version.txt") == "one"
        status = await service.status(gid)
        assert status["status"] == "running" and status["revision"] == 1, status
        assert status["processId"] == launched["processId"]
        assert told.endswith("; still serving revision 1") and "incident" in told
        assert str(service.settings.previews_dir) not in told  # no host path
        monkeypatch.undo()
        posted = await service.client.post(
            _revisions(gid),
            json={"files": {"server.py": server_app(VERSIONED)["server.py"], "version.txt": "3"}},
            headers=auth(),
        )
        assert posted.json()["applied"] is True, posted.text
        assert await _proxied(service, gid, token, "version.txt") == "3"
        assert (await service.stop(gid)).status_code == 200


async def test_apply_false_keeps_the_running_revision_until_applied(service: Service) -> None:
    with trio.fail_after(120):
        gid, launched = await _launch(service, server_app(VERSIONED, **{"version.txt": "one"}))
        token = launched["previewToken"]
        posted = await service.client.post(
            _revisions(gid), json={"files": {"version.txt": "two"}, "apply": False}, headers=auth()
        )
        assert posted.status_code == 201
        assert posted.json()["applied"] is False and posted.json()["apply"] is None
        assert await _proxied(service, gid, token, "version.txt") == "one"
        assert (await service.status(gid))["revision"] == 1
        # Applied later by its number (the UI's Apply button).
        applied = await service.client.post(_revisions(gid, "/2/apply"), headers=auth())
        assert applied.status_code == 200, applied.text
        assert applied.json()["applied"] is True and applied.json()["changed"] == ["version.txt"]
        assert await _proxied(service, gid, token, "version.txt") == "two"
        back = await service.client.post(_revisions(gid, "/1/apply"), headers=auth())
        assert back.json()["applied"] is True, back.text  # an older one: a way back
        assert await _proxied(service, gid, token, "version.txt") == "one"
        assert (await service.status(gid))["revision"] == 1
        await service.stop(gid)
        refused = await service.client.post(_revisions(gid, "/1/apply"), headers=auth())
        assert refused.status_code == 404 and refused.json()["error"] == "no_active_preview"


ALEMBIC_INI = """
[alembic]
script_location = migrations

[loggers]
keys = root,alembic
[handlers]
keys = console
[formatters]
keys = generic
[logger_root]
level = WARN
handlers = console
[logger_alembic]
level = INFO
handlers =
qualname = alembic
[handler_console]
class = StreamHandler
args = (sys.stderr,)
formatter = generic
[formatter_generic]
format = %(levelname)s [%(name)s] %(message)s
"""
ALEMBIC_ENV = """
import os
from logging.config import fileConfig
from alembic import context
from sqlalchemy import create_engine
fileConfig(context.config.config_file_name)
with create_engine(os.environ["DATABASE_URL"]).connect() as connection:
    context.configure(connection=connection)
    with context.begin_transaction():
        context.run_migrations()
"""
MIGRATION = """
from alembic import op
revision, down_revision = {revision!r}, {down!r}
def upgrade():
    op.execute("CREATE TABLE {table} (id INTEGER PRIMARY KEY)")
"""
# GET /tables: its database's tables; GET /add: a row more in items, and their count.
TABLES = """
import sqlite3
class Tables(Handler):
    def do_GET(self):
        db = sqlite3.connect(os.environ["DATABASE_URL"].removeprefix("sqlite:///"))
        if self.path == "/add":
            db.execute("INSERT INTO items DEFAULT VALUES"); db.commit()
            rows = db.execute("SELECT count(*) FROM items").fetchall()
        else:
            rows = db.execute("SELECT name FROM sqlite_master WHERE type='table'").fetchall()
        body = " ".join(str(row[0]) for row in rows).encode()
        self.send_response(200); self.send_header("Content-Length", str(len(body)))
        self.end_headers(); self.wfile.write(body)
Handler = Tables
"""


def _migration(revision: str, down: str | None, table: str) -> str:
    return MIGRATION.format(revision=revision, down=down, table=table)


def alembic_app() -> dict[str, str]:
    """The tables app with Alembic and its first migration (``items``)."""
    return server_app(
        TABLES,
        **{
            "alembic.ini": ALEMBIC_INI,
            "migrations/env.py": ALEMBIC_ENV,
            "migrations/versions/0001_items.py": _migration("0001", None, "items"),
        },
    )


async def test_a_migration_added_in_a_revision_runs_once_and_the_data_stays(
    service: Service,
) -> None:
    with trio.fail_after(120):
        files = alembic_app()
        gid, launched = await _launch(service, files)
        token = launched["previewToken"]
        assert await _proxied(service, gid, token, "add") == "1"
        assert await _proxied(service, gid, token, "add") == "2"
        added = {"migrations/versions/0002_notes.py": _migration("0002", "0001", "notes")}
        posted = await service.client.post(_revisions(gid), json={"files": added}, headers=auth())
        assert posted.json()["applied"] is True, posted.text
        assert "notes" in (await _proxied(service, gid, token, "tables")).split()
        assert await _proxied(service, gid, token, "add") == "3"  # the same database
        # A later revision that changes no migration does not run them again.
        again = {"notes.txt": "x"}
        posted = await service.client.post(_revisions(gid), json={"files": again}, headers=auth())
        assert posted.json()["applied"] is True, posted.text
        said = [e["message"] for e in await service.history(gid) if e["source"] == "system"]
        assert any("revision 3: set-up steps run before, not again: " in m for m in said)
        assert await _proxied(service, gid, token, "add") == "4"
        setup = [e["message"] for e in await service.history(gid) if e["source"] == "setup"]
        assert sum("Running upgrade  -> 0001" in m for m in setup) == 1
        assert sum("Running upgrade 0001 -> 0002" in m for m in setup) == 1
        assert (await service.stop(gid)).status_code == 200


async def test_changed_requirements_are_built_before_the_swap(builder_service: Service) -> None:
    service = builder_service
    # Answers with the version of the distribution its requirements add (none at first).
    source = """
    class Versions(Handler):
        def do_GET(self):
            try:
                import idna; body = idna.__version__.encode()
            except ImportError:
                body = b"none"
            self.send_response(200); self.send_header("Content-Length", str(len(body)))
            self.end_headers(); self.wfile.write(body)
    Handler = Versions
    """
    with trio.fail_after(BUILD_WAIT * 2):
        files = server_app(source, **{"requirements.txt": "six\n"})
        gid = await service.upload(files)
        launched = (await service.launch(gid, command=SERVER_COMMAND, tier="pro")).json()
        assert launched["status"] == "running", (launched["errorMessage"], launched["errorLines"])
        token = launched["previewToken"]
        assert await _proxied(service, gid, token, "v") == "none"
        posted = await service.client.post(
            _revisions(gid), json={"files": {"requirements.txt": "six\nidna\n"}}, headers=auth()
        )
        assert posted.status_code in (201, 202), posted.text
        assert posted.json()["dependenciesChanged"] is True
        await eventually(
            lambda: service.supervisor.get(launched["previewInstanceId"]).spec.revision == 2, 0.1
        )
        assert (await _proxied(service, gid, token, "v")) != "none"
        events = await service.history(gid)
        began = next(i for i, e in enumerate(events) if e["message"].startswith("revision 2: "))
        built = [i for i, e in enumerate(events) if e["source"] == "build" and i > began]
        switched = [i for i, e in enumerate(events) if e.get("status") == "running"][-1]
        assert built and max(built) < switched  # its environment built, then swapped
        assert (await service.stop(gid)).status_code == 200


async def test_a_stop_during_a_swap_ends_both_processes(service: Service) -> None:
    with trio.fail_after(120):
        gid, launched = await _launch(service, server_app(VERSIONED, **{"version.txt": "one"}))
        # Revision 2 never answers: it never listens.
        waits = server_app(VERSIONED + "\nwhile True: time.sleep(0.05)\n")["server.py"]
        answers: list[dict] = []

        async def post() -> None:
            posted = await service.client.post(
                _revisions(gid), json={"files": {"server.py": waits}}, headers=auth()
            )
            answers.append(posted.json())

        async with trio.open_nursery() as nursery:
            nursery.start_soon(post)
            runtime = service.supervisor.get(launched["previewInstanceId"])
            assert runtime is not None

            def started() -> bool:
                return any(
                    e.message.startswith("revision 2: process started")
                    for e in runtime.broadcast.recent()
                )

            await eventually(started)
            candidate = next(
                int(e.message.split("pid ")[1].split(")")[0])
                for e in runtime.broadcast.recent()
                if e.message.startswith("revision 2: process started")
            )
            stopped = await service.stop(gid)
            assert stopped.status_code == 200 and stopped.json()["status"] == "stopped"
        assert answers[0]["applied"] is False and answers[0]["apply"]["state"] == "failed"
        assert not psutil.pid_exists(candidate) or psutil.Process(candidate).status() == "zombie"
        assert not psutil.pid_exists(launched["processId"])
        status = await service.status(gid)
        assert status["status"] == "stopped" and status["revision"] == 1


# GET /add: a row more in its PostgreSQL database, and their count.
PG_COUNTER = """
import psycopg
with psycopg.connect(os.environ["DATABASE_URL"], autocommit=True) as db:
    db.execute("CREATE TABLE IF NOT EXISTS items (id serial PRIMARY KEY)")
class Counter(Handler):
    def do_GET(self):
        with psycopg.connect(os.environ["DATABASE_URL"], autocommit=True) as db:
            if self.path == "/add":  # (not the health checks' GET /)
                db.execute("INSERT INTO items DEFAULT VALUES")
            body = str(db.execute("SELECT count(*) FROM items").fetchone()[0]).encode()
        self.send_response(200); self.send_header("Content-Length", str(len(body)))
        self.end_headers(); self.wfile.write(body)
Handler = Counter
"""


@pytest.mark.skipif(not PG_URL, reason="PREVIEW_TEST_POSTGRES_URL is not set")
@pytest.mark.parametrize("sandbox", ["auto", "off"])
async def test_the_preview_s_postgresql_database_stays(settings: Settings, sandbox: str) -> None:
    configured = replace(settings, app_postgres_url=PG_URL, sandbox=sandbox)
    with trio.fail_after(120):
        async with running_service(configured) as service:
            gid, launched = await _launch(service, server_app(PG_COUNTER, **{"v.txt": "1"}))
            token = launched["previewToken"]
            assert await _proxied(service, gid, token, "add") == "1"
            posted = await service.client.post(
                _revisions(gid), json={"files": {"v.txt": "2"}}, headers=auth()
            )
            assert posted.json()["applied"] is True, posted.text
            assert await _proxied(service, gid, token, "add") == "2"  # the same database
            assert (await service.stop(gid)).status_code == 200
