"""A generation's revisions: POST/GET /api/generations/{gid}/revisions, their trees and
diffs, and launches of the latest or a named revision."""

from __future__ import annotations

import io
import tarfile

import httpx
import pytest
import trio

from preview.api import revisions
from preview.api.revisions import tree_of_revision

from ..conftest import SERVER_COMMAND, VERSIONED, Service, auth, server_app


def _url(gid: str, rest: str = "") -> str:
    return f"/api/generations/{gid}/revisions{rest}"


async def test_revisions_change_files_and_keep_every_version(service: Service) -> None:
    with trio.fail_after(30):
        gid = await service.upload(server_app(**{"notes.txt": "one\ntwo\n", "old.txt": "x"}))
        first = (await service.client.get(_url(gid), headers=auth())).json()
        assert [r["revision"] for r in first["revisions"]] == [1]
        assert first["revisions"][0]["changed"] == ["notes.txt", "old.txt", "server.py"]

        added = await service.client.post(
            _url(gid),
            json={"files": {"notes.txt": "one\nTWO\n", "old.txt": None, "new/a.py": "a = 1\n"}},
            headers=auth(),
        )
        assert added.status_code == 201, added.text
        body = added.json()
        assert body["revision"] == 2
        assert body["changed"] == ["new/a.py", "notes.txt", "old.txt"]
        assert body["dependenciesChanged"] is False and body["preview"] is None

        # The generation's files are the latest revision's …
        shown = (await service.client.get(f"/api/generations/{gid}", headers=auth())).json()
        assert sorted(f["path"] for f in shown["files"]) == ["new/a.py", "notes.txt", "server.py"]
        assert shown["fileCount"] == 3
        text = await service.client.get(f"/api/generations/{gid}/files/notes.txt", headers=auth())
        assert text.json()["text"] == "one\nTWO\n"
        # … and revision 1 is still there, whole.
        one = (await service.client.get(_url(gid, "/1"), headers=auth())).json()
        assert [f["path"] for f in one["files"]] == ["notes.txt", "old.txt", "server.py"]

        diff = (await service.client.get(_url(gid, "/2/diff"), headers=auth())).json()
        assert diff["from"] == 1 and diff["to"] == 2
        assert diff["changed"] == ["new/a.py", "notes.txt", "old.txt"]
        assert "-two\n+TWO\n" in diff["diff"]
        assert "--- a/old.txt" in diff["diff"] and "+++ /dev/null" in diff["diff"]
        assert "+++ b/new/a.py" in diff["diff"]

        # A dependency file changed is said so; the same content again is no revision.
        deps = await service.client.post(
            _url(gid), json={"files": {"requirements.txt": "httpx\n"}}, headers=auth()
        )
        assert deps.status_code == 201 and deps.json()["dependenciesChanged"] is True
        same = await service.client.post(
            _url(gid), json={"files": {"requirements.txt": "httpx\n"}}, headers=auth()
        )
        assert same.status_code == 200 and same.json()["unchanged"] is True
        assert same.json()["revision"] == 3
        listed = (await service.client.get(_url(gid), headers=auth())).json()["revisions"]
        assert [r["revision"] for r in listed] == [1, 2, 3]


async def test_an_archive_is_the_whole_tree(service: Service) -> None:
    with trio.fail_after(30):
        gid = await service.upload(server_app(**{"a.txt": "a", "b.txt": "b"}))
        buffer = io.BytesIO()
        with tarfile.open(fileobj=buffer, mode="w:gz") as archive:
            for name, text in server_app(**{"a.txt": "A"}).items():
                data = text.encode()
                info = tarfile.TarInfo(name)
                info.size = len(data)
                archive.addfile(info, io.BytesIO(data))
        posted = await service.client.post(
            _url(gid),
            content=buffer.getvalue(),
            headers={**auth(), "content-type": "application/gzip"},
        )
        assert posted.status_code == 201, posted.text
        assert posted.json()["changed"] == ["a.txt", "b.txt"]  # b.txt: deleted


async def test_bad_revisions_are_refused_and_change_nothing(service: Service) -> None:
    with trio.fail_after(30):
        gid = await service.upload(server_app())
        cases = [
            ({"files": {}}, 400, "invalid_files"),
            ({"files": {"../x": "y"}}, 400, "unsafe_path"),
            ({"files": {"server.py": None}}, 400, "empty_generation"),
            ({"files": {"server.py/x": "y"}}, 400, "file_and_folder"),
            ({"files": {"x": "y"}, "apply": "yes"}, 400, "invalid_apply"),
            ({"files": {"big": "x" * (service.settings.max_file_bytes + 1)}}, 413, None),
        ]
        for body, status, code in cases:
            response = await service.client.post(_url(gid), json=body, headers=auth())
            assert response.status_code == status, (body, response.text)
            if code:
                assert response.json()["error"] == code
        # An archive's ?apply= as the JSON's apply: "maybe" was taken as true.
        buffer = io.BytesIO()
        with tarfile.open(fileobj=buffer, mode="w:gz") as archive:
            info = tarfile.TarInfo("server.py")
            archive.addfile(info, io.BytesIO(b""))
        maybe = await service.client.post(
            _url(gid),
            params={"apply": "maybe"},
            content=buffer.getvalue(),
            headers={**auth(), "content-type": "application/gzip"},
        )
        assert maybe.status_code == 400 and maybe.json()["error"] == "invalid_apply", maybe.text
        listed = (await service.client.get(_url(gid), headers=auth())).json()["revisions"]
        assert [r["revision"] for r in listed] == [1]
        other = await service.client.post(
            _url(gid), json={"files": {"x": "y"}}, headers=auth("mallory")
        )
        assert other.status_code == 404
        missing = await service.client.get(_url(gid, "/7"), headers=auth())
        assert missing.status_code == 404 and missing.json()["error"] == "revision_not_found"
        bad_from = await service.client.get(_url(gid, "/1/diff?from=x"), headers=auth())
        assert bad_from.status_code == 400


async def test_launch_runs_the_latest_or_the_named_revision(service: Service) -> None:
    with trio.fail_after(60):
        gid = await service.upload(server_app(VERSIONED, **{"version.txt": "one"}))
        posted = await service.client.post(
            _url(gid), json={"files": {"version.txt": "two"}}, headers=auth()
        )
        assert posted.status_code == 201
        latest = (await service.launch(gid, command=SERVER_COMMAND)).json()
        assert latest["status"] == "running" and latest["revision"] == 2
        served = await service.app_get(latest, "/version.txt")
        assert served.text == "two"
        # A running preview is given the new one (tests/runtime/test_swaps.py), unless
        # the call says not to.
        third = await service.client.post(
            _url(gid), json={"files": {"version.txt": "three"}, "apply": False}, headers=auth()
        )
        assert third.json()["applied"] is False and third.json()["apply"] is None
        assert third.json()["preview"]["revision"] == 2
        fourth = await service.client.post(
            _url(gid), json={"files": {"version.txt": "four"}}, headers=auth()
        )
        assert fourth.json()["applied"] is True and fourth.json()["preview"]["revision"] == 4
        assert (await service.app_get(latest, "/version.txt")).text == "four"
        await service.stop(gid)

        older = (await service.launch(gid, command=SERVER_COMMAND, revision=1)).json()
        assert older["status"] == "running" and older["revision"] == 1
        assert (await service.app_get(older, "/version.txt")).text == "one"
        await service.stop(gid)
        status = await service.client.get(f"/api/generations/{gid}/preview/status", headers=auth())
        assert status.json()["revision"] == 1  # from the stored row
        refused = await service.launch(gid, command=SERVER_COMMAND, revision=9)
        assert refused.status_code == 404 and refused.json()["error"] == "revision_not_found"


# Fails to start while version.txt says "broken"; else answers with its text and the
# GREETING the launch gave.
_FAILS_WHEN_BROKEN = """
if open("version.txt").read() == "broken":
    raise SystemExit("version.txt is broken")

class Greeting(Handler):
    def do_GET(self):
        body = (open("version.txt").read() + " " + os.environ["GREETING"]).encode()
        self.send_response(200); self.send_header("Content-Length", str(len(body)))
        self.end_headers(); self.wfile.write(body)
Handler = Greeting
"""


async def _failed_preview(service: Service, greeting: str) -> str:
    """A generation whose preview failed at its start (launched with GREETING)."""
    gid = await service.upload(server_app(_FAILS_WHEN_BROKEN, **{"version.txt": "broken"}))
    failed = await service.launch(gid, command=SERVER_COMMAND, env={"GREETING": greeting})
    assert failed.json()["status"] == "failed", failed.text
    return gid


async def test_a_revision_relaunches_a_failed_preview_as_it_was_launched(
    service: Service,
) -> None:
    """Fixing what made a preview fail brings it back: the revision is launched with the
    failed launch's options (its command, its env), with a new preview token."""
    with trio.fail_after(90):
        gid = await _failed_preview(service, "hello")
        posted = await service.client.post(
            _url(gid), json={"files": {"version.txt": "fixed"}}, headers=auth()
        )
        assert posted.status_code == 201, posted.text
        body = posted.json()
        assert body["relaunched"] is True and body["applied"] is False, body
        assert body["preview"]["revision"] == 2 and body["previewToken"]
        runtime = service.supervisor.get(body["preview"]["previewInstanceId"])
        assert runtime is not None
        await runtime.wait_settled()
        status = await service.status(gid)
        assert status["status"] == "running", status.get("errorMessage")
        assert status["previewInstanceId"] == body["preview"]["previewInstanceId"]
        answer = await service.client.get(
            f"/api/generations/{gid}/preview/proxy/",
            headers=auth() | {"X-Preview-Token": body["previewToken"]},
        )
        assert answer.text == "fixed hello"  # the new revision, the launch's env
        # Running now: the next revision is applied to it live, not relaunched.
        again = await service.client.post(
            _url(gid), json={"files": {"version.txt": "again"}}, headers=auth()
        )
        assert again.json()["applied"] is True and "relaunched" not in again.json()
        await service.stop(gid)
        # Stopped by its user: a revision is kept, not launched.
        kept = await service.client.post(
            _url(gid), json={"files": {"version.txt": "later"}}, headers=auth()
        )
        assert kept.json()["preview"] is None and "relaunched" not in kept.json()


async def test_a_revision_not_to_apply_leaves_a_failed_preview_until_applied(
    service: Service,
) -> None:
    with trio.fail_after(60):
        gid = await _failed_preview(service, "hi")
        posted = await service.client.post(
            _url(gid), json={"files": {"version.txt": "fixed"}, "apply": False}, headers=auth()
        )
        assert posted.status_code == 201 and posted.json()["preview"] is None, posted.text
        assert service.supervisor.for_generation(gid) is None
        # Applied later (the revision list's Apply), it relaunches the failed preview.
        applied = await service.client.post(_url(gid, "/2/apply"), headers=auth())
        assert applied.status_code == 201 and applied.json()["relaunched"] is True, applied.text
        assert applied.json()["preview"]["revision"] == 2
        await service.stop(gid)
        # Stopped by its user: Apply says there is no preview running, as before.
        refused = await service.client.post(_url(gid, "/2/apply"), headers=auth())
        assert refused.status_code == 404 and refused.json()["error"] == "no_active_preview"


async def test_a_relaunch_past_the_tiers_limit_is_refused_and_the_revision_kept(
    service: Service,
) -> None:
    with trio.fail_after(60):
        gid = await _failed_preview(service, "hi")
        other = await service.upload(server_app())
        running = await service.launch(other, command=SERVER_COMMAND)  # the free tier's one
        assert running.json()["status"] == "running", running.text
        posted = await service.client.post(
            _url(gid), json={"files": {"version.txt": "fixed"}}, headers=auth()
        )
        assert posted.status_code == 201, posted.text
        body = posted.json()
        assert body["revision"] == 2 and body["preview"] is None and "relaunched" not in body
        assert body["relaunch"]["code"] == "preview_limit_reached", body
        await service.stop(other)
        # Room again: the next revision (or Apply) relaunches it, the launch still known.
        applied = await service.client.post(_url(gid, "/2/apply"), headers=auth())
        assert applied.json()["relaunched"] is True, applied.text
        await service.stop(gid)


async def test_a_deleted_generations_failed_launch_is_not_kept(service: Service) -> None:
    """Its options (the env a user gave) go with the generation."""
    with trio.fail_after(60):
        gid = await _failed_preview(service, "secret")
        kept = service.supervisor.failed_launch(gid)
        assert kept is not None and kept.extra == {"GREETING": "secret"}
        deleted = await service.client.delete(f"/api/generations/{gid}", headers=auth())
        assert deleted.status_code == 200, deleted.text
        assert service.supervisor.failed_launch(gid) is None


async def _apply_after(
    service: Service, gid: str, monkeypatch: pytest.MonkeyPatch, delete_url: str
) -> httpx.Response:
    """Revision 1 applied by a call that read it before ``delete_url``'s DELETE (the
    preview's stop, or the generation's delete) and goes on once that DELETE finished."""
    deleted = trio.Event()
    read = trio.Event()

    async def read_then_wait(gid: str, number: int) -> dict[str, bytes]:
        tree = await tree_of_revision(gid, number)
        read.set()
        await deleted.wait()
        return tree

    monkeypatch.setattr(revisions, "tree_of_revision", read_then_wait)
    answers: list[httpx.Response] = []

    async def apply() -> None:
        answers.append(await service.client.post(_url(gid, "/1/apply"), headers=auth()))

    async with trio.open_nursery() as nursery:
        nursery.start_soon(apply)
        await read.wait()
        done = await service.client.delete(delete_url, headers=auth())
        assert done.status_code == 200 and done.json()["status"] != "stopping", done.text
        deleted.set()
    return answers[0]


async def test_an_apply_racing_a_finished_delete_is_a_404(
    service: Service, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The preview's stop (or its generation's delete) finished while an apply was under
    way: 404, as the preview's other endpoints answer once it is gone, not a conflict
    that a retry would not resolve."""
    with trio.fail_after(90):
        gid = await service.upload(server_app())
        assert (await service.launch(gid, command=SERVER_COMMAND)).json()["status"] == "running"
        stopped = await _apply_after(service, gid, monkeypatch, f"/api/generations/{gid}/preview")
        assert stopped.status_code == 404, stopped.text
        body = stopped.json()
        assert body["status"] == "failed" and body["error"] == "no_active_preview", body
        assert body["details"] == {"generationId": gid} and body["message"]
        # Its siblings, once it is gone: the same 404.
        base = f"/api/generations/{gid}/preview"
        for method, path in (("DELETE", ""), ("POST", "/token"), ("POST", "/snapshots")):
            answer = await service.client.request(method, base + path, headers=auth())
            assert answer.status_code == 404, (path, answer.text)
            assert answer.json()["error"] == "no_active_preview", (path, answer.text)
        again = await service.client.post(_url(gid, "/1/apply"), headers=auth())
        assert again.status_code == 404 and again.json()["error"] == "no_active_preview"

        # The generation's delete: it is unknown now.
        assert (await service.launch(gid, command=SERVER_COMMAND)).json()["status"] == "running"
        gone = await _apply_after(service, gid, monkeypatch, f"/api/generations/{gid}")
        assert gone.status_code == 404, gone.text
        assert gone.json()["error"] == "generation_not_found", gone.text


async def test_a_diff_of_files_without_their_last_newline_ends_each_line(
    service: Service,
) -> None:
    """difflib leaves a last line without its newline, and the next line ran into it
    (``-one+two``): each ends as git ends it."""
    with trio.fail_after(30):
        gid = await service.upload({"a.txt": "one"})
        posted = await service.client.post(
            _url(gid), json={"files": {"a.txt": "two"}}, headers=auth()
        )
        assert posted.status_code == 201, posted.text
        diff = (await service.client.get(_url(gid, "/2/diff"), headers=auth())).json()["diff"]
        marker = "\\ No newline at end of file\n"
        assert f"-one\n{marker}+two\n{marker}" in diff, diff
