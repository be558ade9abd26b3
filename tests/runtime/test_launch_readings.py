"""A launch reads its revision's files once (``Supervisor._decide``): a relaunch of the same
revision with the same options does not read them again (2-4 s of a large app's modules),
while another revision, or another command, is read anew."""

from __future__ import annotations

import importlib
from typing import Any

import pytest
import trio

from ..conftest import SERVER_COMMAND, Service, auth, server_app

UNBUFFERED = ["{python}", "-u", "server.py"]
# (the package exports the function under the module's name)
detect_module = importlib.import_module("preview.apps.detect")


async def test_a_revision_is_read_once_for_all_its_launches(
    service: Service, monkeypatch: pytest.MonkeyPatch
) -> None:
    reads: list[tuple[list[str], Any]] = []
    real = detect_module.detect

    def reading(files: dict[str, bytes], command: Any, setup: Any) -> Any:
        reads.append((sorted(files), command))
        return real(files, command, setup)

    monkeypatch.setattr(detect_module, "detect", reading)

    async def launched(gid: str, command: list[str]) -> None:
        body = (await service.launch(gid, command=command)).json()
        assert body["status"] == "running", body
        assert (await service.stop(gid)).status_code == 200

    with trio.fail_after(60):
        gid = await service.upload(server_app())
        await launched(gid, SERVER_COMMAND)
        await launched(gid, SERVER_COMMAND)  # the same revision, the same options
        assert reads == [(["server.py"], SERVER_COMMAND)]

        await launched(gid, UNBUFFERED)  # another command: read with it
        assert reads[-1] == (["server.py"], UNBUFFERED) and len(reads) == 2

        added = await service.client.post(
            f"/api/generations/{gid}/revisions",
            json={"files": {"notes.txt": "two\n"}},
            headers=auth(),
        )
        assert added.status_code == 201, added.text
        await launched(gid, SERVER_COMMAND)  # revision 2: its own files read
        assert reads[-1] == (["notes.txt", "server.py"], SERVER_COMMAND) and len(reads) == 3
