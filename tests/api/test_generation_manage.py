"""Renaming and deleting a generation: PATCH / DELETE /api/generations/{gid}."""

from __future__ import annotations

import io
import zipfile
from functools import partial

import psutil
import pytest
import trio

from preview.api import generations
from preview.api import revisions as revisions_api

from ..conftest import SERVER_COMMAND, Service, auth, server_app


async def test_the_list_shows_name_status_and_last_launch(service: Service) -> None:
    with trio.fail_after(30):
        never = await service.upload(server_app())
        launched_gid = await service.upload(server_app())
        body = (await service.launch(launched_gid, command=SERVER_COMMAND)).json()
        assert body["status"] == "running"
        listed = (await service.client.get("/api/generations", headers=auth())).json()
        rows = {g["generationId"]: g for g in listed["generations"]}
        assert rows[never]["status"] is None and rows[never]["lastLaunchAt"] is None
        assert rows[never]["name"] == "proj_1"
        assert rows[launched_gid]["status"] == "running"
        assert rows[launched_gid]["lastLaunchAt"] == body["createdAt"]
        await service.stop(launched_gid)
        listed = (await service.client.get("/api/generations", headers=auth())).json()
        rows = {g["generationId"]: g for g in listed["generations"]}
        assert rows[launched_gid]["status"] == "stopped"


async def test_rename(service: Service) -> None:
    with trio.fail_after(30):
        gid = await service.upload(server_app())
        url = f"/api/generations/{gid}"
        renamed = await service.client.patch(url, json={"name": "  My shop  "}, headers=auth())
        assert renamed.status_code == 200, renamed.text
        assert renamed.json()["name"] == renamed.json()["projectId"] == "My shop"
        shown = (await service.client.get(url, headers=auth())).json()
        assert shown["name"] == "My shop"  # not the cached old one
        cleared = await service.client.patch(url, json={"name": ""}, headers=auth())
        assert cleared.json()["name"] == gid and cleared.json()["projectId"] is None

        for bad, code in (({}, "missing_name"), ({"name": 3}, "invalid_project_id")):
            response = await service.client.patch(url, json=bad, headers=auth())
            assert response.status_code == 400 and response.json()["error"] == code
        other = await service.client.patch(url, json={"name": "x"}, headers=auth("mallory"))
        assert other.status_code == 404


async def test_delete_stops_the_preview_and_removes_everything(service: Service) -> None:
    with trio.fail_after(30):
        gid = await service.upload(server_app(after_bind="say('hello from the app')"))
        body = (await service.launch(gid, command=SERVER_COMMAND)).json()
        assert body["status"] == "running"
        url = f"/api/generations/{gid}"
        assert (await service.client.delete(url, headers=auth("mallory"))).status_code == 404
        assert psutil.pid_exists(body["processId"])

        deleted = await service.client.delete(url, headers=auth())
        assert deleted.status_code == 200, deleted.text
        assert deleted.json() == {"status": "deleted", "generationId": gid}
        assert not psutil.pid_exists(body["processId"])
        assert service.supervisor.for_generation(gid) is None
        for path in (url, f"{url}/preview/status", f"{url}/preview/logs"):
            gone = await service.client.get(path, headers=auth())
            assert gone.status_code == 404, path
            assert gone.json()["error"] == "generation_not_found"
        assert await service.supervisor.store.get_preview(body["previewInstanceId"]) is None
        assert await service.supervisor.store.count_log_events(body["previewInstanceId"]) == 0
        assert (await service.client.delete(url, headers=auth())).status_code == 404


async def test_one_file_for_the_viewer(service: Service) -> None:
    with trio.fail_after(30):
        gid = await service.upload({"app/main.py": "print('hé')\n", "data.bin": "\x00\x01"})
        url = f"/api/generations/{gid}/files"
        shown = await service.client.get(f"{url}/app/main.py", headers=auth())
        assert shown.json() == {
            "path": "app/main.py",
            "size": len("print('hé')\n".encode()),
            "binary": False,
            "text": "print('hé')\n",
        }
        missing = await service.client.get(f"{url}/nope.py", headers=auth())
        assert missing.status_code == 404 and missing.json()["error"] == "file_not_found"
        # "//" is matched as written: no such route, in the error shape (it was
        # Werkzeug's 308 to the path with one slash, an HTML page).
        doubled = await service.client.get(f"{url}//etc/passwd", headers=auth())
        assert doubled.status_code == 404 and doubled.json()["error"] == "not_found"
        other = await service.client.get(f"{url}/app/main.py", headers=auth("mallory"))
        assert other.status_code == 404


async def test_a_delete_that_outlasts_the_stop_says_when_to_try_again(
    service: Service, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The preview ignores SIGTERM: its stop takes the whole grace, longer than the
    delete waits here (no margin): 409 with Retry-After, and a later delete works."""
    monkeypatch.setattr(generations, "_DELETE_STOP_MARGIN", 0.0)
    stubborn = server_app(before_serving="signal.signal(signal.SIGTERM, signal.SIG_IGN)")
    with trio.fail_after(60):
        gid = await service.upload(stubborn)
        body = (await service.launch(gid, command=SERVER_COMMAND)).json()
        assert body["status"] == "running", body
        url = f"/api/generations/{gid}"
        refused = await service.client.delete(url, headers=auth())
        assert refused.status_code == 409, refused.text
        assert refused.json()["error"] == "preview_still_stopping"
        assert int(refused.headers["Retry-After"]) >= 1
        runtime = service.supervisor.get(body["previewInstanceId"])
        await runtime.finished.wait()
        deleted = await service.client.delete(url, headers=auth())
        assert deleted.status_code == 200, deleted.text


async def test_a_generation_is_named_after_its_archive_unless_named(service: Service) -> None:
    archive = io.BytesIO()
    with zipfile.ZipFile(archive, "w") as zipped:
        zipped.writestr("main.py", "print('hi')\n")
    with trio.fail_after(20):
        for field, expected in (({}, "todo-app"), ({"projectId": "mine"}, "mine")):
            created = await service.client.post(
                "/api/generations",
                files={"file": ("todo-app.zip", archive.getvalue())},
                data=field,
                headers=auth(),
            )
            assert created.status_code == 201, created.text
            shown = await service.client.get(
                f"/api/generations/{created.json()['generationId']}", headers=auth()
            )
            assert shown.json()["name"] == expected


class _Gate:
    """Holds the first call of an async method until released: the calls of a race put
    in the order that lost it, with events (no sleeps)."""

    def __init__(self, original) -> None:
        self.original, self.entered, self.release = original, trio.Event(), trio.Event()

    async def __call__(self, *args, **kwargs):
        if not self.entered.is_set():
            self.entered.set()
            await self.release.wait()
        return await self.original(*args, **kwargs)


def _gone(response, gid: str) -> None:
    assert response.status_code == 404, response.text
    assert response.json()["error"] == "generation_not_found", response.json()
    assert response.json()["details"] == {"generationId": gid}


async def test_calls_that_lose_the_race_with_the_generations_delete_are_404(
    service: Service, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A launch, a revision and a rename that found the generation, then came back to
    the store after its delete: the launch's row broke the foreign key and the revision
    found no generation (500 internal_error each), the rename answered 200."""
    supervisor, store = service.supervisor, service.store
    await supervisor.env_builder()  # what a launch imports, before the race is set up
    with trio.fail_after(60):
        for call in ("launch", "revision", "rename"):
            gid = await service.upload(server_app())
            url = f"/api/generations/{gid}"
            if call == "launch":
                gate = _Gate(supervisor.env_builder)  # after the route found the generation
                monkeypatch.setattr(supervisor, "env_builder", gate)
                send = partial(service.launch, gid, command=SERVER_COMMAND, wait=False)
            elif call == "revision":
                gate = _Gate(revisions_api.check_storage)  # just before the revision's write
                monkeypatch.setattr(revisions_api, "check_storage", gate)
                body = {"files": {"new.py": "print('new')\n"}}
                send = partial(service.client.post, f"{url}/revisions", json=body, headers=auth())
            else:
                gate = _Gate(store.rename_generation)
                monkeypatch.setattr(store, "rename_generation", gate)
                send = partial(service.client.patch, url, json={"name": "late"}, headers=auth())
            answers = []

            async def racing(send=send, answers=answers) -> None:
                answers.append(await send())

            async with trio.open_nursery() as nursery:
                nursery.start_soon(racing)
                await gate.entered.wait()
                assert (await service.client.delete(url, headers=auth())).status_code == 200
                gate.release.set()
            _gone(answers[0], gid)
            monkeypatch.undo()
            assert supervisor.for_generation(gid) is None
            assert not supervisor.ports.in_use, call  # the launch's port given back
            assert (await service.client.get(url, headers=auth())).status_code == 404


async def test_a_launch_while_the_generations_rows_are_deleted_is_404_not_orphaned(
    service: Service, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The delete found no preview to stop; a launch admitted before its rows were gone
    wrote its own row, which their delete took with them, and kept running without it."""
    store, supervisor = service.store, service.supervisor
    gate = _Gate(store.delete_generation)
    monkeypatch.setattr(store, "delete_generation", gate)
    with trio.fail_after(60):
        gid = await service.upload(server_app())
        url = f"/api/generations/{gid}"
        deleted = []

        async def delete() -> None:
            deleted.append(await service.client.delete(url, headers=auth()))

        async with trio.open_nursery() as nursery:
            nursery.start_soon(delete)
            await gate.entered.wait()
            launched = await service.launch(gid, command=SERVER_COMMAND, wait=False)
            gate.release.set()
        assert deleted[0].status_code == 200, deleted[0].text
        _gone(launched, gid)
        assert supervisor.for_generation(gid) is None
        assert not supervisor.deleting


@pytest.mark.parametrize("write", ["delete", "rename"])
async def test_a_read_that_raced_a_write_leaves_nothing_outdated_in_memory(
    service: Service, monkeypatch: pytest.MonkeyPatch, write: str
) -> None:
    """A request that read the generation from the store just before its delete (or a
    rename) cached what it read after the write had cleared the cache: the deleted
    generation answered 200 with no files, and its DELETE 200 again; the old name stayed."""
    store = service.store
    with trio.fail_after(30):
        gid = await service.upload(server_app())
        url = f"/api/generations/{gid}"
        service.app.extensions["preview"].generations.discard(gid)  # read from the store
        entered, release = trio.Event(), trio.Event()
        original = store.get_generation

        async def read_then_hold(wanted: str):
            found = await original(wanted)
            if not entered.is_set():
                entered.set()
                await release.wait()
            return found

        monkeypatch.setattr(store, "get_generation", read_then_hold)
        async with trio.open_nursery() as nursery:
            nursery.start_soon(partial(service.client.get, url, headers=auth()))
            await entered.wait()  # read, not yet cached
            if write == "delete":
                written = await service.client.delete(url, headers=auth())
            else:
                written = await service.client.patch(url, json={"name": "new"}, headers=auth())
            assert written.status_code == 200, written.text
            release.set()
        monkeypatch.undo()
        if write == "delete":
            _gone(await service.client.get(url, headers=auth()), gid)
            _gone(await service.client.delete(url, headers=auth()), gid)
        else:
            shown = await service.client.get(url, headers=auth())
            assert shown.json()["name"] == "new", shown.json()
