"""Snapshots of a preview's data (issue 27 §2): saved, listed, restored into the running
app, compared, refused past PREVIEW_SNAPSHOT_MB, used to seed a new launch. Real
service, real apps changing their data through the service's proxy, a real SQLite file
and this machine's PostgreSQL."""

from __future__ import annotations

import re
from dataclasses import replace
from datetime import timedelta
from typing import Any

import psycopg
import pytest
import trio

from preview import Settings
from preview.backing.pgprivate import server_binaries
from preview.clock import utcnow

from ..conftest import SERVER_COMMAND, Service, auth, running_service, server_app

_PG_URL = "postgresql://postgres@127.0.0.1:5432/test"

# An item store over HTTP: GET /items, POST /items {name}, POST /items/<id> {name}
# (renames), DELETE /items/<id>; POST /note writes a file of its own. {connect},
# {mark} and {key} make it SQLite's or PostgreSQL's.
_ITEMS = """
import json, re
{connect}

def db():
    connection = connect()
    connection.execute(
        "CREATE TABLE IF NOT EXISTS items (id {key} PRIMARY KEY, name TEXT NOT NULL)"
    )
    return connection

db().close()

class Items(Handler):
    def answer(self, status, value):
        body = json.dumps(value).encode()
        self.send_response(status); self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body))); self.end_headers()
        self.wfile.write(body)
    def body(self):
        return json.loads(self.rfile.read(int(self.headers["Content-Length"])) or b"{{}}")
    def do_GET(self):
        if self.path == "/items":
            with db() as c:
                rows = c.execute("SELECT id, name FROM items ORDER BY id").fetchall()
            return self.answer(200, [list(r) for r in rows])
        if self.path == "/note":
            try:
                return self.answer(200, open("notes/note.txt").read())
            except FileNotFoundError:
                return self.answer(200, None)
        super().do_GET()
    def do_POST(self):
        data = self.body()
        if self.path == "/items":
            with db() as c:
                c.execute("INSERT INTO items (name) VALUES ({mark})", (data["name"],))
            return self.answer(201, True)
        if self.path == "/note":
            os.makedirs("notes", exist_ok=True)
            open("notes/note.txt", "w").write(data["text"])
            return self.answer(201, True)
        found = re.fullmatch(r"/items/(\\d+)", self.path)
        with db() as c:
            c.execute("UPDATE items SET name = {mark} WHERE id = {mark}",
                      (data["name"], int(found[1])))
        self.answer(200, True)
    def do_DELETE(self):
        found = re.fullmatch(r"/items/(\\d+)", self.path)
        with db() as c:
            c.execute("DELETE FROM items WHERE id = {mark}", (int(found[1]),))
        self.answer(200, True)
Handler = Items
"""
_SQLITE = """
import sqlite3
os.makedirs("data", exist_ok=True)
def connect():
    connection = sqlite3.connect("data/app.db", timeout=10)
    connection.execute("PRAGMA journal_mode=WAL")
    return connection
"""
_POSTGRES = """
import psycopg
def connect():
    return psycopg.connect(os.environ["DATABASE_URL"], autocommit=True)
"""


def items_app(kind: str) -> dict[str, str]:
    sqlite = kind == "sqlite"
    connect, mark = (_SQLITE, "?") if sqlite else (_POSTGRES, "%s")
    key = "INTEGER" if sqlite else "SERIAL"
    code = _ITEMS.format(connect=connect, mark=mark, key=key)
    # Its driver declared: a sandboxed app without PREVIEW_APP_POSTGRES_URL gets a server.
    extra = {} if sqlite else {"requirements.txt": "psycopg\n"}
    return server_app(before_serving=code, **extra)


def _url(gid: str, rest: str = "") -> str:
    return f"/api/generations/{gid}/preview/snapshots{rest}"


class App:
    """The launched app, called through the service's request envelope."""

    def __init__(self, service: Service, gid: str, launched: dict[str, Any]) -> None:
        self.service, self.gid, self.token = service, gid, launched["previewToken"]

    async def call(self, method: str, path: str, body: Any = None) -> Any:
        envelope: dict[str, Any] = {"method": method, "path": path}
        if body is not None:
            envelope["body"] = body
        answer = await self.service.client.post(
            f"/api/generations/{self.gid}/preview/request",
            json=envelope,
            headers={**auth(), "X-Preview-Token": self.token},
        )
        if answer.status_code != 200:
            lines = [e["message"] for e in await self.service.history(self.gid)]
            raise AssertionError((answer.text, lines[-30:]))
        assert answer.json()["statusCode"] < 300, answer.json()
        return answer.json()["data"]

    async def names(self) -> list[str]:
        return [name for _, name in await self.call("GET", "/items")]


async def _launch(service: Service, gid: str, **options: Any) -> App:
    launched = await service.launch(gid, command=SERVER_COMMAND, **options)
    assert launched.status_code == 200, launched.text
    body = launched.json()
    assert body["status"] == "running", (body["errorMessage"], body["errorLines"])
    return App(service, gid, body)


async def _snapshot(service: Service, gid: str, name: str | None = None) -> dict[str, Any]:
    taken = await service.client.post(
        _url(gid), json={"name": name} if name else None, headers=auth()
    )
    assert taken.status_code == 201, taken.text
    return taken.json()


async def _round_trip(service: Service, kind: str) -> dict[str, Any]:
    """snapshot → change rows (through the proxy) → restore gives the old rows back;
    a diff lists exactly what changed; a new launch seeded from it starts with them."""
    gid = await service.upload(items_app(kind))
    app = await _launch(service, gid)
    for name in ("apple", "pear", "plum"):
        await app.call("POST", "/items", {"name": name})
    await app.call("POST", "/note", {"text": "first"})
    first = await _snapshot(service, gid, "three fruits")
    assert first["name"] == "three fruits" and first["sizeBytes"] > 0
    items = [t for t in first["tables"] if t["table"] == "items"]
    assert [t["rows"] for t in items] == [3], first["tables"]
    assert "notes/note.txt" in first["files"]

    await app.call("POST", "/items/2", {"name": "PEAR"})  # changed
    await app.call("DELETE", "/items/1")  # removed
    await app.call("POST", "/items", {"name": "fig"})  # added
    await app.call("POST", "/note", {"text": "second"})
    assert await app.names() == ["PEAR", "plum", "fig"]
    second = await _snapshot(service, gid)

    listed = (await service.client.get(_url(gid), headers=auth())).json()["snapshots"]
    assert [s["snapshotId"] for s in listed] == [first["snapshotId"], second["snapshotId"]]

    diff = await service.client.get(
        _url(gid, f"/{first['snapshotId']}/diff"),
        params={"with": second["snapshotId"]},
        headers=auth(),
    )
    assert diff.status_code == 200, diff.text
    (table,) = [t for t in diff.json()["tables"] if t["table"] == "items"]
    assert table["primaryKey"] == ["id"] and table["state"] == "changed"
    assert (table["addedCount"], table["removedCount"], table["changedCount"]) == (1, 1, 1)
    assert [row["name"] for row in table["added"]] == ["fig"]
    assert [row["name"] for row in table["removed"]] == ["apple"]
    (change,) = table["changed"]
    assert change["before"]["name"] == "pear" and change["after"]["name"] == "PEAR"

    restored = await service.client.post(
        _url(gid, f"/{first['snapshotId']}/restore"), headers=auth()
    )
    assert restored.status_code == 200, restored.text
    # The same app process, its data as it was.
    assert await app.names() == ["apple", "pear", "plum"]
    assert await app.call("GET", "/note") == "first"
    await app.call("POST", "/items", {"name": "kiwi"})  # and it still writes
    assert await app.names() == ["apple", "pear", "plum", "kiwi"]

    # A new launch seeded from the second snapshot starts with its rows.
    assert (await service.stop(gid)).status_code == 200
    seeded = await _launch(service, gid, snapshot=second["snapshotId"])
    assert await seeded.names() == ["PEAR", "plum", "fig"]
    assert await seeded.call("GET", "/note") == "second"
    # The snapshots outlived the preview they were taken of.
    listed = (await service.client.get(_url(gid), headers=auth())).json()["snapshots"]
    assert len(listed) == 2
    return first


async def test_sqlite_snapshot_restore_diff_and_seed(service: Service) -> None:
    with trio.fail_after(120):
        await _round_trip(service, "sqlite")


@pytest.fixture
def postgres_settings(settings: Settings) -> Settings:
    try:
        psycopg.connect(_PG_URL, connect_timeout=5).close()
    except psycopg.Error:
        pytest.skip("no PostgreSQL at 127.0.0.1:5432")
    return replace(settings, app_postgres_url=_PG_URL)


@pytest.mark.parametrize("sandbox", ["auto", "off"])
async def test_postgres_snapshot_restore_diff_and_seed(
    postgres_settings: Settings, sandbox: str
) -> None:
    """On the operator's server: sandboxed, its databases are made on the app's first
    connection (through the relay); unsandboxed, at launch."""
    async with running_service(replace(postgres_settings, sandbox=sandbox)) as service:
        if sandbox == "auto" and not service.supervisor.isolation.sandboxed:
            pytest.skip("the sandbox is not available here")
        with trio.fail_after(180):
            first = await _round_trip(service, "postgres")
        # Sandboxed, by the name the app gave it (app); unsandboxed, its one database.
        (database,) = {t["database"] for t in first["tables"]}
        assert re.fullmatch(
            "postgres:app" if sandbox == "auto" else r"postgres:pv_\w{24}", database
        )


# A table whose CHECK calls the app's own function: run by whoever writes a row, the
# restore too. From a superuser's session under SET ROLE, its RESET ROLE is the superuser.
_CLIMBER = """
import psycopg
def connect():
    return psycopg.connect(os.environ["DATABASE_URL"], autocommit=True)

with connect() as c:
    c.execute(\"\"\"CREATE OR REPLACE FUNCTION public.climb() RETURNS boolean
        LANGUAGE plpgsql AS $$ DECLARE me text := current_user; BEGIN
          BEGIN RESET ROLE; EXECUTE format('ALTER ROLE %I SUPERUSER', me);
          EXCEPTION WHEN others THEN NULL; END;
          RETURN true;
        END $$\"\"\")
    c.execute("CREATE TABLE IF NOT EXISTS guarded (x int CHECK (public.climb()))")
    c.execute("INSERT INTO guarded VALUES (1)")

class Climber(Handler):
    def do_GET(self):
        if self.path != "/superuser":
            return super().do_GET()
        with connect() as c:
            body = c.execute("SELECT current_setting('is_superuser')").fetchone()[0].encode()
        self.send_response(200); self.send_header("Content-Length", str(len(body)))
        self.end_headers(); self.wfile.write(body)
Handler = Climber
"""


@pytest.mark.parametrize("sandbox", ["auto", "off"])
async def test_a_restore_on_the_operators_server_gives_the_app_no_more_than_its_role(
    postgres_settings: Settings, sandbox: str
) -> None:
    """A restore runs the app's code (here a CHECK's function, as the rows go back in).
    As the operator's superuser under ``SET ROLE``, that code's ``RESET ROLE`` was the
    superuser, which made the app's role one: every database of the server, and its
    host through ``COPY … TO PROGRAM``."""
    async with running_service(replace(postgres_settings, sandbox=sandbox)) as service:
        if sandbox == "auto" and not service.supervisor.isolation.sandboxed:
            pytest.skip("the sandbox is not available here")
        with trio.fail_after(120):
            gid = await service.upload(
                server_app(before_serving=_CLIMBER, **{"requirements.txt": "psycopg\n"})
            )
            app = await _launch(service, gid)
            assert await app.call("GET", "/superuser") == "off"
            taken = await _snapshot(service, gid)
            assert [t["rows"] for t in taken["tables"] if t["table"] == "guarded"] == [1]
            restored = await service.client.post(
                _url(gid, f"/{taken['snapshotId']}/restore"), headers=auth()
            )
            assert restored.status_code == 200, restored.text
            assert await app.call("GET", "/superuser") == "off"
            await service.stop(gid)


@pytest.mark.skipif(server_binaries() is None, reason="no PostgreSQL server binaries")
async def test_postgres_on_a_private_server(service: Service) -> None:
    """Without PREVIEW_APP_POSTGRES_URL, a sandboxed app with a driver has a private
    server: its snapshots are dumped and restored through that server's socket."""
    if not service.supervisor.isolation.sandboxed:
        pytest.skip("the sandbox is not available here")
    with trio.fail_after(240):
        first = await _round_trip(service, "postgres")
    # The database the app named (postgresql://…/app): the private server's own.
    assert {t["database"] for t in first["tables"]} == {"postgres:app"}


# Runs the SQL it is sent (POST /sql {"sql": …}) on a table of typed columns.
_TYPED = """
import json
import psycopg
def connect():
    return psycopg.connect(os.environ["DATABASE_URL"], autocommit=True)

with connect() as c:
    c.execute(
        "CREATE TABLE IF NOT EXISTS todos (id serial PRIMARY KEY, title text, done boolean,"
        " price numeric(6,2), weight double precision, big bigint, tags int[])"
    )

class Sql(Handler):
    def do_POST(self):
        sent = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        with connect() as c:
            c.execute(sent["sql"])
        self.send_response(200); self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", "4"); self.end_headers(); self.wfile.write(b"true")
Handler = Sql
"""


async def test_a_postgres_diff_has_typed_values(service: Service) -> None:
    """Issue 63 (8): numbers as numbers, booleans as true/false, NULL as null (not the
    text of COPY, "3" and "f"); what JSON has no type for stays text."""
    if not service.supervisor.isolation.sandboxed:
        pytest.skip("the sandbox is not available here")
    with trio.fail_after(240):
        gid = await service.upload(
            server_app(before_serving=_TYPED, **{"requirements.txt": "psycopg\n"})
        )
        app = await _launch(service, gid)
        insert = (
            "INSERT INTO todos (title, done, price, weight, big, tags) VALUES"
            " ('milk', false, 2.50, 1.5, 9007199254740993, '{1,2}'),"
            " ('eggs', true, NULL, NULL, 7, NULL)"
        )
        await app.call("POST", "/sql", {"sql": insert})
        first = await _snapshot(service, gid)
        await app.call(
            "POST", "/sql", {"sql": "UPDATE todos SET done = true, price = 3 WHERE id = 1"}
        )
        await app.call(
            "POST", "/sql", {"sql": "INSERT INTO todos (title, done) VALUES ('tea', NULL)"}
        )
        second = await _snapshot(service, gid)
        diff = await service.client.get(
            _url(gid, f"/{first['snapshotId']}/diff"),
            params={"with": second["snapshotId"]},
            headers=auth(),
        )
    assert diff.status_code == 200, diff.text
    (table,) = [t for t in diff.json()["tables"] if t["table"] == "todos"]
    assert table["database"] == "postgres:app" and table["primaryKey"] == ["id"]
    (change,) = table["changed"]
    assert change["key"] == {"id": 1}
    assert change["before"] == {
        "id": 1,
        "title": "milk",
        "done": False,
        "price": 2.5,
        "weight": 1.5,
        # Past JavaScript's exact integers, and an array: text, as PostgreSQL writes them.
        "big": "9007199254740993",
        "tags": "{1,2}",
    }
    assert change["after"]["done"] is True and change["after"]["price"] == 3
    assert table["added"] == [
        {
            "id": 3,
            "title": "tea",
            "done": None,
            "price": None,
            "weight": None,
            "big": None,
            "tags": None,
        }
    ]


async def test_snapshots_go_with_their_logs_and_their_generation(service: Service) -> None:
    with trio.fail_after(120):
        gid = await service.upload(items_app("sqlite"))
        app = await _launch(service, gid)
        await app.call("POST", "/items", {"name": "a"})
        kept = await _snapshot(service, gid)
        await _snapshot(service, gid)
        root = service.settings.data_dir / "snapshots" / gid
        assert len(await trio.to_thread.run_sync(lambda: list(root.iterdir()))) == 2
        # While its preview runs, a snapshot is kept whatever its age.
        later = utcnow() + timedelta(days=service.settings.log_retention_days + 1)
        await service.supervisor.retention.run_once(later)
        assert len((await service.client.get(_url(gid), headers=auth())).json()["snapshots"]) == 2
        # Its preview ended longer ago than the logs are kept: gone, files and rows.
        assert (await service.stop(gid)).status_code == 200
        await service.supervisor.retention.run_once(later)
        assert (await service.client.get(_url(gid), headers=auth())).json()["snapshots"] == []
        assert await trio.to_thread.run_sync(lambda: list(root.iterdir())) == []
        gone = await service.launch(gid, command=SERVER_COMMAND, snapshot=kept["snapshotId"])
        assert gone.status_code == 404 and gone.json()["error"] == "snapshot_not_found"
        # A generation deleted takes its snapshots along.
        gid = await service.upload(items_app("sqlite"))
        app = await _launch(service, gid)
        await app.call("POST", "/items", {"name": "b"})
        await _snapshot(service, gid)
        assert (await service.stop(gid)).status_code == 200
        deleted = await service.client.delete(f"/api/generations/{gid}", headers=auth())
        assert deleted.status_code == 200
        removed = service.settings.data_dir / "snapshots" / gid
        assert not await trio.to_thread.run_sync(removed.exists)


@pytest.mark.parametrize("kind", ["sqlite", "postgres"])
async def test_a_snapshot_past_the_limit_is_refused_and_leaves_nothing(
    request: pytest.FixtureRequest, kind: str
) -> None:
    settings = request.getfixturevalue("postgres_settings" if kind == "postgres" else "settings")
    async with running_service(replace(settings, snapshot_mb=1)) as service:
        with trio.fail_after(120):
            gid = await service.upload(items_app(kind))
            app = await _launch(service, gid)
            await app.call("POST", "/items", {"name": "x" * 600_000})
            await app.call("POST", "/items", {"name": "y" * 600_000})
            refused = await service.client.post(_url(gid), headers=auth())
            assert refused.status_code == 413, refused.text
            assert refused.json()["error"] == "snapshot_too_large"
            assert "/" not in refused.json()["message"]  # no host path
            listed = (await service.client.get(_url(gid), headers=auth())).json()
            assert listed["snapshots"] == []
            root = service.settings.data_dir / "snapshots" / gid
            assert not await trio.to_thread.run_sync(lambda: root.exists() and any(root.iterdir()))


_FIFO_JOURNAL = """
import sqlite3
connection = sqlite3.connect("app.db")
connection.execute("CREATE TABLE IF NOT EXISTS t (x)")
connection.execute("INSERT INTO t VALUES (1)")
connection.commit()
connection.close()
os.mkfifo("app.db-journal")
"""


async def test_a_fifo_beside_a_database_fails_its_snapshot_and_holds_nothing(
    service: Service,
) -> None:
    """SQLite opens a database's ``-journal`` to see whether it is hot, and an app's FIFO
    there had that open wait for ever, in one of the two threads every preview's
    snapshots share: fed and closed while the copy runs, the snapshot fails at once, and
    the next ones are answered too."""
    with trio.fail_after(90):
        gid = await service.upload(server_app(before_serving=_FIFO_JOURNAL))
        launched = await service.launch(gid, command=SERVER_COMMAND)
        assert launched.json()["status"] == "running", launched.text
        for _ in range(3):  # more than the keeper's threads
            failed = await service.client.post(_url(gid), headers=auth())
            assert failed.status_code == 503, failed.text
            assert failed.json()["error"] == "snapshot_failed"
            assert str(service.settings.data_dir) not in failed.json()["message"]
        listed = (await service.client.get(_url(gid), headers=auth())).json()
        assert listed["snapshots"] == []
        assert (await service.stop(gid)).status_code == 200


async def test_bad_ids_and_states_have_the_error_shape(service: Service) -> None:
    with trio.fail_after(120):
        gid = await service.upload(items_app("sqlite"))
        # No preview yet: nothing to save.
        none = await service.client.post(_url(gid), headers=auth())
        assert none.status_code == 404 and none.json()["error"] == "no_active_preview"
        app = await _launch(service, gid)
        await app.call("POST", "/items", {"name": "a"})
        taken = await _snapshot(service, gid)
        for method, path, params in (
            ("POST", _url(gid, "/snap_nope/restore"), None),
            ("GET", _url(gid, "/snap_nope/diff"), {"with": taken["snapshotId"]}),
            ("GET", _url(gid, f"/{taken['snapshotId']}/diff"), {"with": "snap_nope"}),
            ("DELETE", _url(gid, "/snap_nope"), None),
        ):
            answer = await service.client.request(method, path, params=params, headers=auth())
            assert answer.status_code == 404, (path, answer.text)
            assert answer.json()["error"] == "snapshot_not_found"
            assert answer.json()["status"] == "failed"
        # Another user's snapshot is not found either (whose it is is not told).
        other = await service.client.post(
            _url(gid, f"/{taken['snapshotId']}/restore"), headers=auth("bob")
        )
        assert other.status_code == 404
        launch = await service.launch(gid, command=SERVER_COMMAND, snapshot="snap_nope")
        assert launch.status_code in (404, 409), launch.text
        bad_name = await service.client.post(_url(gid), json={"name": 7}, headers=auth())
        assert bad_name.status_code == 400
        assert bad_name.json()["error"] == "invalid_snapshot_name"
        missing_with = await service.client.get(
            _url(gid, f"/{taken['snapshotId']}/diff"), headers=auth()
        )
        assert missing_with.status_code == 400 and missing_with.json()["error"] == "invalid_with"
        deleted = await service.client.delete(_url(gid, f"/{taken['snapshotId']}"), headers=auth())
        assert deleted.status_code == 200
        listed = (await service.client.get(_url(gid), headers=auth())).json()
        assert listed["snapshots"] == []
