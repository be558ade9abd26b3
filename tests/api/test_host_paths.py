"""No host path reaches a user: errors, errorLines and the log's events name the app's
files relative to its directory, a built environment ``<environment>``, the service's
interpreter ``python`` and its installation ``<python>``."""

from __future__ import annotations

import os
import sys
from dataclasses import replace
from pathlib import Path
from typing import Any

import trio

from preview import Settings

from ..conftest import SERVER_COMMAND, Service, auth, running_service, server_app

_BUILD_WAIT = 240  # a cold build from the package index


def _host_paths(settings: Settings) -> list[str]:
    paths = [str(settings.data_dir), str(settings.data_dir.resolve()), str(settings.previews_dir)]
    paths += [str(settings.env_cache_dir), settings.python, sys.prefix, sys.base_prefix]
    return [*paths, os.path.realpath(sys.executable)]


async def _shown(service: Service, gid: str, body: dict[str, Any]) -> list[str]:
    """Everything users are shown of a launch: its answer, its status, its log."""
    status = await service.status(gid)
    shown = [body["errorMessage"] or "", *body["errorLines"], status["errorMessage"] or ""]
    shown += [*status["errorLines"], body["runtime"]["command"], status["runtime"]["command"]]
    return shown + [event["message"] for event in await service.history(gid)]


def _leaks(settings: Settings, shown: list[str]) -> list[str]:
    return [text for text in shown if any(path in text for path in _host_paths(settings))]


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
        events = await service.history(gid)
        shown = await _shown(service, gid, body)
    assert not _leaks(service.settings, shown), shown
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


async def test_a_failed_setup_step_names_no_host_path(service: Service) -> None:
    """The step's own line (``setup: <its command>``), its output and the failure."""
    say = "import os, sys; print(sys.executable, sys.prefix, os.getcwd(), flush=True)"
    setup = ["{python}", "-c", f"{say}; sys.exit('failed in ' + os.getcwd())"]
    with trio.fail_after(60):
        gid = await service.upload(server_app())
        body = (await service.launch(gid, command=SERVER_COMMAND, setup=setup)).json()
        assert body["status"] == "failed", body
        shown = await _shown(service, gid, body)
    assert not _leaks(service.settings, shown), shown
    assert body["errorMessage"].endswith(": failed in ."), body["errorMessage"]
    assert f"setup: python -c {say}; sys.exit('failed in ' + os.getcwd())" in shown
    assert "python <python> ." in shown  # what it printed


async def test_a_traceback_through_a_library_names_no_host_path(service: Service) -> None:
    """The library's frames are in the service's environment (builds off)."""
    files = server_app(before_serving="import jwt\njwt.decode('not-a-token', 'k', ['HS256'])\n")
    with trio.fail_after(60):
        gid = await service.upload(files)
        body = (await service.launch(gid, command=SERVER_COMMAND)).json()
        assert body["status"] == "failed", body
        shown = await _shown(service, gid, body)
    assert not _leaks(service.settings, shown), shown
    assert "DecodeError" in body["errorMessage"], body
    assert any(
        line.startswith('  File "<python>/lib/') and "/site-packages/jwt/" in line
        for line in body["errorLines"]
    ), body["errorLines"]


async def test_builds_and_built_environments_name_no_host_path(
    settings: Settings, tmp_path: Path
) -> None:
    """A failed build (uv names the interpreter it uses), and a traceback through a
    library of the app's own environment."""
    built = replace(settings, build="on", env_dir=str(tmp_path / "envs"), startup_timeout=60.0)
    failing = {
        "main.py": "import no_such_package_ab12cd\nprint('never')\n",
        "requirements.txt": "no-such-package-ab12cd\n",
    }
    through = server_app(
        before_serving="import six\nsix.reraise(RuntimeError, RuntimeError('boom'))\n",
        **{"requirements.txt": "six\n"},
    )
    async with running_service(built) as service:
        with trio.fail_after(_BUILD_WAIT):
            gid = await service.upload(failing)
            body = (await service.launch(gid, command=SERVER_COMMAND, tier="pro")).json()
            assert body["status"] == "failed", body
            assert "no-such-package-ab12cd" in body["errorMessage"], body
            shown = await _shown(service, gid, body)
            assert any(text.startswith("Using CPython") for text in shown), shown
            assert not _leaks(built, shown), shown

            gid = await service.upload(through)
            body = (await service.launch(gid, command=SERVER_COMMAND, tier="pro")).json()
            assert body["status"] == "failed", body
            shown = await _shown(service, gid, body)
            assert not _leaks(built, shown), shown
            assert body["errorMessage"] == "RuntimeError: boom", body
            assert any(
                line.startswith('  File "<environment>/lib/') and line.endswith("in reraise")
                for line in body["errorLines"]
            ), body["errorLines"]
