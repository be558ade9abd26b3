"""Renaming and deleting a generation: PATCH / DELETE /api/generations/{gid}."""

from __future__ import annotations

import io
import zipfile

import psutil
import pytest
import trio

from preview.api import generations

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
