"""The whole iterate loop of issue 27, end to end, as a user goes through it: a preview
with data and requests, a snapshot, a revision applied live, the requests replayed on it,
the snapshot restored under the new code, a snapshot taken after the swap restored under
a later one, the history and the log going on across the swaps, a launch seeded from a
snapshot. A real service, a real app with its SQLite file, every call through the proxy.
"""

from __future__ import annotations

import re
from typing import Any

import trio

from .conftest import SERVER_COMMAND, Service, auth, server_app

# GET /items, POST /items {name}, GET /hello: {"greeting": GREETING}. Each request is a
# line of its own on stdout: "served <method> <path> by <greeting>".
_ITEMS = """
import json, sqlite3
GREETING = "%(greeting)s"
os.makedirs("data", exist_ok=True)

def db():
    connection = sqlite3.connect("data/app.db", timeout=10)
    connection.execute("PRAGMA journal_mode=WAL")
    connection.execute(
        "CREATE TABLE IF NOT EXISTS items (id INTEGER PRIMARY KEY, name TEXT NOT NULL)")
    return connection

db().close()

class Items(Handler):
    def answer(self, status, value):
        say(f"served {self.command} {self.path} by {GREETING}")
        body = json.dumps(value).encode()
        self.send_response(status); self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body))); self.end_headers()
        self.wfile.write(body)
    def do_GET(self):
        if self.path == "/items":
            with db() as c:
                rows = c.execute("SELECT id, name FROM items ORDER BY id").fetchall()
            return self.answer(200, [{"id": i, "name": n} for i, n in rows])
        if self.path == "/hello":
            return self.answer(200, {"greeting": GREETING})
        if self.path == "/note":
            try:
                return self.answer(200, open("notes/note.txt").read())
            except FileNotFoundError:
                return self.answer(200, None)
        self.answer(404, {"detail": "not found"})
    def do_POST(self):
        data = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        if self.path == "/note":  # a file of its own, made when first asked
            os.makedirs("notes", exist_ok=True)
            open("notes/note.txt", "w").write(data["text"])
            return self.answer(201, True)
        with db() as c:
            key = c.execute("INSERT INTO items (name) VALUES (?)", (data["name"],)).lastrowid
        self.answer(201, {"id": key, "name": data["name"]})
Handler = Items
"""


def _app(greeting: str) -> str:
    return server_app(before_serving=_ITEMS % {"greeting": greeting})["server.py"]


class Preview:
    """The running preview of one generation, called the ways a user calls it."""

    def __init__(self, service: Service, gid: str, token: str) -> None:
        self.service, self.gid, self.token = service, gid, token
        self.headers = {**auth(), "X-Preview-Token": token}

    def url(self, rest: str) -> str:
        return f"/api/generations/{self.gid}/preview{rest}"

    async def envelope(self, method: str, path: str, body: Any = None) -> Any:
        call: dict[str, Any] = {"method": method, "path": path}
        if body is not None:
            call["body"] = body
        answer = await self.service.client.post(
            self.url("/request"), json=call, headers=self.headers
        )
        assert answer.status_code == 200, answer.text
        assert answer.json()["statusCode"] < 300, answer.json()
        return answer.json()["data"]

    async def proxied(self, path: str) -> Any:
        answer = await self.service.client.get(self.url("/proxy" + path), headers=self.headers)
        assert answer.status_code == 200, answer.text
        return answer.json()

    async def names(self) -> list[str]:
        return [item["name"] for item in await self.envelope("GET", "/items")]

    async def snapshot(self, name: str) -> dict[str, Any]:
        taken = await self.service.client.post(
            self.url("/snapshots"), json={"name": name}, headers=auth()
        )
        assert taken.status_code == 201, taken.text
        return taken.json()

    async def restore(self, snapshot: dict[str, Any]) -> None:
        restored = await self.service.client.post(
            self.url(f"/snapshots/{snapshot['snapshotId']}/restore"), headers=auth()
        )
        assert restored.status_code == 200, restored.text

    async def revise(self, greeting: str, **files: str | None) -> dict[str, Any]:
        posted = await self.service.client.post(
            f"/api/generations/{self.gid}/revisions",
            json={"files": {"server.py": _app(greeting), **files}},
            headers=auth(),
            timeout=120,
        )
        assert posted.status_code == 201, posted.text
        return posted.json()

    async def requests(self) -> list[dict[str, Any]]:
        listed = await self.service.client.get(
            self.url("/requests"), params={"limit": 1000}, headers=auth()
        )
        assert listed.status_code == 200, listed.text
        return listed.json()["requests"]


def _rows(snapshot: dict[str, Any]) -> int:
    (items,) = [t["rows"] for t in snapshot["tables"] if t["table"] == "items"]
    return items


async def test_the_iterate_loop_keeps_the_preview_its_data_and_its_requests(
    service: Service,
) -> None:
    with trio.fail_after(300):
        gid = await service.upload({"server.py": _app("hello"), "notes.md": "to do"})
        launched = (await service.launch(gid, command=SERVER_COMMAND)).json()
        assert launched["status"] == "running", (launched["errorMessage"], launched["errorLines"])
        assert launched["revision"] == 1
        preview = Preview(service, gid, launched["previewToken"])
        before = await service.status(gid)

        # Data and requests, through the envelope and the path proxy.
        for name in ("apple", "pear"):
            await preview.envelope("POST", "/items", {"name": name})
        assert await preview.names() == ["apple", "pear"]
        assert await preview.proxied("/hello") == {"greeting": "hello"}
        first_requests = await preview.requests()
        assert len(first_requests) == 4
        gets = sorted(r["id"] for r in first_requests if r["method"] == "GET")
        two_fruits = await preview.snapshot("two fruits")
        assert _rows(two_fruits) == 2

        # Revision 2 changes one answer, applied live: the same preview, its data kept.
        revised = await preview.revise("hi", **{"notes.md": None})
        assert revised["revision"] == 2 and revised["changed"] == ["notes.md", "server.py"]
        assert revised["applied"] is True, revised
        assert revised["preview"]["revision"] == 2
        after = await service.status(gid)
        for key in ("previewInstanceId", "baseUrl", "processId"):
            assert (after[key] == before[key]) is (key != "processId"), key
        assert after["status"] == "running" and after["revision"] == 2
        # (its preview token too: every call from here on carries the launch's)
        assert await preview.proxied("/hello") == {"greeting": "hi"}
        assert await preview.names() == ["apple", "pear"]

        # The requests made before the swap replayed on it: exactly /hello differs.
        replayed = await service.client.post(
            preview.url("/requests/replay"),
            json={"ids": gets},
            headers=preview.headers,
            timeout=60,
        )
        assert replayed.status_code == 200, replayed.text
        result = replayed.json()
        assert result["target"] == {
            "generationId": gid,
            "previewId": before["previewInstanceId"],
            "revision": 2,
        }
        assert (result["replayed"], result["same"], result["different"]) == (2, 1, 1)
        (changed,) = [item for item in result["results"] if item["same"] is False]
        assert changed["path"] == "/hello"
        assert changed["body"] == [{"path": "$.greeting", "before": "hello", "after": "hi"}]

        # Restored under revision 2: the old rows back, the new code serving, writing.
        await preview.envelope("POST", "/items", {"name": "plum"})
        assert await preview.names() == ["apple", "pear", "plum"]
        await preview.restore(two_fruits)
        assert await preview.names() == ["apple", "pear"]
        assert await preview.proxied("/hello") == {"greeting": "hi"}
        await preview.envelope("POST", "/items", {"name": "fig"})
        assert await preview.names() == ["apple", "pear", "fig"]

        # A snapshot taken after the swap holds the data of the running revision's
        # process — its SQLite file reached through .revisions/2.*/data, a file it
        # wrote first since the swap (in .revisions/2.*/notes alone) — and none of the
        # code (not revision 1's server.py and notes.md still in the preview's own
        # directory); it restores under revision 3 (another directory again).
        await preview.envelope("POST", "/note", {"text": "written under revision 2"})
        three_fruits = await preview.snapshot("three fruits")
        assert _rows(three_fruits) == 3
        assert three_fruits["files"] == ["notes/note.txt"]
        assert (await preview.revise("hey"))["preview"]["revision"] == 3
        await preview.envelope("POST", "/items", {"name": "kiwi"})
        await preview.envelope("POST", "/note", {"text": "written under revision 3"})
        assert await preview.names() == ["apple", "pear", "fig", "kiwi"]
        await preview.restore(two_fruits)  # from before the note: it goes
        assert await preview.envelope("GET", "/note") is None
        await preview.restore(three_fruits)
        assert await preview.names() == ["apple", "pear", "fig"]
        assert await preview.envelope("GET", "/note") == "written under revision 2"
        assert await preview.proxied("/hello") == {"greeting": "hey"}

        # The request history went on across both swaps, all of one preview.
        kept = await preview.requests()
        originals = [r for r in kept if r["way"] != "replay"]
        assert {r["previewId"] for r in kept} == {before["previewInstanceId"]}
        assert {r["id"] for r in first_requests} <= {r["id"] for r in originals}
        assert len([r for r in kept if r["way"] == "replay"]) == 2
        har = await service.client.get(preview.url("/requests.har"), headers=auth())
        assert har.status_code == 200, har.text
        assert len(har.json()["log"]["entries"]) == len(originals)  # not the replays

        # The log is one sequence: each revision's lines after the one before, narrated.
        events = await service.history(gid)
        ids = [event["id"] for event in events]
        assert ids == sorted(ids) and len(set(ids)) == len(ids)
        messages = [event["message"] for event in events]

        def first(text: str) -> int:
            return next(i for i, message in enumerate(messages) if text in message)

        assert first("by hello") < first("by hi") < first("by hey"), messages[-40:]
        switched = [m for m in messages if "switched" in m]
        told = r"revision (\d+): (\d+) files? changed( \(server\.py\))? — ready in \d+ ms, switched"
        shapes = [re.fullmatch(told, m) for m in switched]
        assert [m and (m[1], m[2]) for m in shapes] == [("2", "2"), ("3", "1")], switched

        # A new launch seeded from the snapshot taken after the swap: its rows, revision 3.
        assert (await service.stop(gid)).status_code == 200
        seeded = await service.launch(
            gid, command=SERVER_COMMAND, snapshot=three_fruits["snapshotId"]
        )
        assert seeded.status_code == 200, seeded.text
        body = seeded.json()
        assert body["status"] == "running", (body["errorMessage"], body["errorLines"])
        assert body["revision"] == 3
        again = Preview(service, gid, body["previewToken"])
        assert await again.names() == ["apple", "pear", "fig"]
        assert await again.envelope("GET", "/note") == "written under revision 2"
        assert await again.proxied("/hello") == {"greeting": "hey"}
        assert (await service.stop(gid)).status_code == 200
