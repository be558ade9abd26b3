"""ENOSPC in the data dir: an upload is 507 ``insufficient_storage``, nothing of it is
kept, and the service takes uploads again once there is space (a real tmpfs). ENOSPC
where a preview's files go (the previews' directory, or the app's own tmpfs quota): the
preview fails saying that no space is left, not with an exit code alone."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
import sqlalchemy as sa
import trio

from preview import Settings

from .conftest import SERVER_COMMAND, VERSIONED, auth, eventually, running_service, server_app
from .outages import DiskFull, assert_unavailable, service_on, tmpfs
from .sandbox.test_sandbox import require_sandbox


async def test_an_upload_to_a_full_disk_is_507_keeps_nothing_and_recovers(
    settings: Settings,
) -> None:
    with tmpfs(settings.data_dir, "16m"):
        full = DiskFull(settings.database_url, settings.data_dir)
        async with service_on(settings, full) as service:
            with trio.fail_after(60):
                first = await service.upload({"a.txt": "small"})
                files = {f"part{n}.txt": f"{n}" * 500_000 for n in range(4)}
                await full.begin()
                for attempt in range(2):  # the first failure leaves nothing in the way
                    refused = await service.client.post(
                        "/api/generations", json={"files": files}, headers=auth()
                    )
                    assert_unavailable(refused, 507, "insufficient_storage")
                    assert "/" not in refused.json()["message"], attempt
                listing = await service.client.get("/api/generations", headers=auth())
                assert [g["generationId"] for g in listing.json()["generations"]] == [first]
                stored = await trio.to_thread.run_sync(_count_rows, service.store.engine)
                assert stored == {"generations": 1, "generation_files": 1}

                await full.end()
                again = await service.upload(files)
                shown = await service.client.get(f"/api/generations/{again}", headers=auth())
                assert [f["size"] for f in shown.json()["files"]] == [500_000] * 4
                stored = await trio.to_thread.run_sync(_count_rows, service.store.engine)
                assert stored == {"generations": 2, "generation_files": 5}


def _count_rows(engine: sa.Engine) -> dict[str, int]:
    with engine.connect() as connection:
        return {
            table: connection.exec_driver_sql(f"SELECT count(*) FROM {table}").scalar_one()
            for table in ("generations", "generation_files")
        }


async def test_a_full_previews_directory_fails_the_launch_saying_no_space_is_left(
    settings: Settings, tmp_path: Path
) -> None:
    # Unsandboxed, an app's files are written where the previews' directory is.
    object.__setattr__(settings, "sandbox", "off")
    disk = tmp_path / "disk"
    object.__setattr__(settings, "run_dir", str(disk / "previews"))
    with tmpfs(disk, "2m"):
        async with running_service(settings) as service:
            with trio.fail_after(60):
                gid = await service.upload(server_app(**{"data.bin": "x" * 100_000}))
                await DiskFull(settings.database_url, disk).begin()
                body = (await service.launch(gid, command=SERVER_COMMAND)).json()
                assert body["status"] == "failed", body
                status = await service.status(gid)
                assert status["errorMessage"].startswith(
                    "no space left for the app's files (No space left on device ("
                ), status["errorMessage"]
                assert str(disk) not in status["errorMessage"]
                events = await service.history(gid)
                assert events[-1]["message"] == f"failed: {status['errorMessage']}"
                metrics = service.app.extensions["preview"].metrics
                assert metrics.failures.labels(cause="no_space")._value.get() == 1


async def test_a_build_on_a_full_disk_fails_saying_no_space_is_left(
    settings: Settings, tmp_path: Path
) -> None:
    """uv could not make its cache to look for an interpreter, and the launch failed with
    "no Python interpreter here fits None (asked by None); present: none"."""
    disk = tmp_path / "envs"
    object.__setattr__(settings, "build", "on")
    object.__setattr__(settings, "env_dir", str(disk))
    with tmpfs(disk, "1m"):
        async with running_service(settings) as service:
            with trio.fail_after(120):
                gid = await service.upload(server_app())
                await DiskFull(settings.database_url, disk).begin()
                body = (await service.launch(gid, command=SERVER_COMMAND)).json()
                assert body["status"] == "failed", body
                status = await service.status(gid)
                message = status["errorMessage"]
                assert message.startswith("no space left for the environments ("), message
                assert "No space left on device" in message and str(disk) not in message


# Fills the app's own directory (its tmpfs quota, PREVIEW_DISK_LIMIT_MB).
_FILL = """
import sys
def fill():
    with open("big.bin", "wb") as out:
        for _ in range(64):
            out.write(b"x" * 1024 * 1024)
if sys.argv[1:] == ["now"]:
    fill()
"""
# Serves, then fills its directory and dies of it when asked (GET /fill).
_FILLS_WHEN_ASKED = """
import threading, traceback
from fill import fill
class Filler(Handler):
    def do_GET(self):
        super().do_GET()
        if self.path == "/fill":
            threading.Thread(target=self.fill_and_die).start()
    def fill_and_die(self):
        try:
            fill()
        except OSError:
            traceback.print_exc()
            os._exit(1)
Handler = Filler
"""


@pytest.mark.parametrize("when", ["start-up", "set-up step", "while running"])
async def test_an_app_that_fills_its_quota_fails_saying_no_space_is_left(
    settings: Settings, when: str
) -> None:
    if os.geteuid() != 0:
        pytest.skip("the directory's quota is a tmpfs, which needs root")
    object.__setattr__(settings, "disk_limit_mb", 4)
    files = server_app(
        before_serving="import fill; fill.fill()" if when == "start-up" else _FILLS_WHEN_ASKED,
        **{"fill.py": _FILL},
    )
    setup = {"setup": ["{python}", "fill.py", "now"]} if when == "set-up step" else {}
    async with running_service(settings) as service:
        require_sandbox(service)
        with trio.fail_after(60):
            gid = await service.upload(files)
            body = (await service.launch(gid, command=SERVER_COMMAND, **setup)).json()
            if when == "while running":
                assert body["status"] == "running", body
                assert (await service.app_get(body, "/fill")).status_code == 200
                url = f"/api/generations/{gid}/preview/logs/stream"
                async with service.client.stream("GET", url, headers=auth()) as response:
                    async for _ in response.aiter_lines():
                        pass  # to its end
            status = await service.status(gid)
            assert status["status"] == "failed", status
            assert status["errorMessage"] == (
                "no space left for the app's files (OSError: [Errno 28] No space left on device)"
            ), status["errorMessage"]


async def test_a_sandboxed_previews_files_take_none_of_the_previews_directory(
    settings: Settings, open_parent: Path
) -> None:
    """Issue 64 (3), sandboxed: the app's directory is a tmpfs of its own, so a full
    previews' directory (the issue's small tmpfs, filled) takes nothing from a launch."""
    if os.geteuid() != 0:
        pytest.skip("a sandboxed preview needs root")
    disk = open_parent / "disk"
    object.__setattr__(settings, "run_dir", str(disk / "previews"))
    with tmpfs(disk, "2m"):
        os.chmod(disk, 0o711)
        async with running_service(settings) as service:
            require_sandbox(service)
            with trio.fail_after(60):
                gid = await service.upload(server_app(**{"data.txt": "x" * 400_000}))
                await DiskFull(settings.database_url, disk).begin()
                body = (await service.launch(gid, command=SERVER_COMMAND)).json()
                assert body["status"] == "running", body
                assert (await service.app_get(body, "/data.txt")).status_code == 200


async def test_a_revision_on_a_full_previews_directory_says_no_space_and_keeps_serving(
    settings: Settings, tmp_path: Path
) -> None:
    """Issue 64 (3), every write into a preview's directory: a revision's files on a full
    disk fail its apply by name ("no space left for the app's files"), leave no part of
    the revision behind, and the revision that serves goes on serving."""
    object.__setattr__(settings, "sandbox", "off")
    disk = tmp_path / "disk"
    object.__setattr__(settings, "run_dir", str(disk / "previews"))
    with tmpfs(disk, "2m"):
        async with running_service(settings) as service:
            with trio.fail_after(60):
                gid = await service.upload(server_app(VERSIONED, **{"version.txt": "one"}))
                body = (await service.launch(gid, command=SERVER_COMMAND)).json()
                assert body["status"] == "running", body
                await DiskFull(settings.database_url, disk).begin()
                posted = await service.client.post(
                    f"/api/generations/{gid}/revisions",
                    json={"files": {"version.txt": "two", "big.txt": "y" * 300_000}},
                    headers=auth(),
                )
                assert posted.status_code == 201, posted.text
                apply = posted.json()["apply"]
                assert apply["state"] == "failed", apply
                assert apply["errorMessage"].startswith("no space left for the app's files ("), (
                    apply
                )
                assert str(disk) not in apply["errorMessage"]
                assert apply["message"].endswith("; still serving revision 1")
                app = await service.app_get(body, "/version.txt")
                assert app.status_code == 200 and app.text == "one"
                preview_dir = disk / "previews" / body["previewInstanceId"]
                revisions = preview_dir / ".revisions"
                # The failed candidate's directory is removed as it is let go (after the
                # answer): nothing of it is left.
                await eventually(lambda: not revisions.exists() or not any(revisions.iterdir()))
