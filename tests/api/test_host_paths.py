"""No host path reaches a user: errors, errorLines and the log's events name the app's
files relative to its directory."""

from __future__ import annotations

import trio

from ..conftest import SERVER_COMMAND, Service, auth, server_app


async def test_a_failed_start_names_the_apps_files_relatively(service: Service) -> None:
    files = server_app(
        before_serving="""
        import helper
        helper.boom()
        """,
        **{"helper.py": "import os\ndef boom():\n    raise RuntimeError('in ' + os.getcwd())\n"},
    )
    with trio.fail_after(60):
        gid = await service.upload(files)
        launched = await service.launch(gid, command=SERVER_COMMAND)
        body = launched.json()
        assert body["status"] == "failed", body
        status = await service.status(gid)
        events = await service.history(gid)
    settings = service.settings
    host_paths = [str(settings.data_dir), str(settings.previews_dir), settings.python]
    shown = [body["errorMessage"], *body["errorLines"], status["errorMessage"]]
    shown += [*status["errorLines"], *(event["message"] for event in events)]
    shown += [body["runtime"]["command"], status["runtime"]["command"]]
    assert not [text for text in shown if any(path in text for path in host_paths)], shown
    assert any('File "helper.py", line 3' in line for line in body["errorLines"]), body
    assert "RuntimeError: in ." in body["errorMessage"], body
    assert any(event["message"] == "wrote 2 files to the app's directory" for event in events)
    started = [event["message"] for event in events if "process started" in event["message"]]
    assert started and started[0].endswith(": python server.py"), started


async def test_a_file_and_a_folder_of_the_same_name_are_refused_at_upload(
    service: Service,
) -> None:
    with trio.fail_after(10):
        response = await service.client.post(
            "/api/generations",
            json={"files": {"a/b": "1", "a": "2"}},
            headers=auth(),
        )
    assert response.status_code == 400
    assert response.json()["error"] == "file_and_folder"
    assert response.json()["details"] == {"path": "a", "inside": "a/b"}
