"""One service per data dir, and the drafts a killed one left there.

A second service started on a data dir another one serves from used to reconcile as if
the first were dead: it marked its previews failed, killed their process groups and
removed their directories. A service killed while it wrote a snapshot or a database
server's template left the draft in the data dir for ever. Real processes."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import tempfile
from dataclasses import replace
from pathlib import Path

import pytest
import trio

from preview import Settings
from preview.store.datadir import DataDirInUse, hold_data_dir, release_data_dir

from ..conftest import SECRET, SERVER_COMMAND, running_service, server_app
from ..outages import tmpfs


def serve_env(settings: Settings, **more: str) -> dict[str, str]:
    """The environment of `preview serve` on ``settings``' data dir, with ``more``."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("PREVIEW_")}
    return env | {
        "PREVIEW_DATA_DIR": str(settings.data_dir),
        "PREVIEW_JWT_SECRET": SECRET,
        "PREVIEW_BUILD": "off",
        "PREVIEW_PORT_MIN": str(settings.port_min),
        "PREVIEW_PORT_MAX": str(settings.port_max),
        **more,
    }


async def refused_at_start(settings: Settings, *, checked: bool = True, **more: str) -> str:
    """What `preview serve` with ``more`` said on stderr, once it exited 1 (``checked``:
    refused by the checks before it serves, so without saying it was ready)."""
    with trio.fail_after(60):
        done = await trio.run_process(
            [sys.executable, "-m", "preview", "serve", "--bind", "127.0.0.1:0"],
            env=serve_env(settings, **more),
            capture_stdout=True,
            capture_stderr=True,
            check=False,
        )
    error = done.stderr.decode()
    assert done.returncode == 1, error
    assert not checked or b"Preview service ready" not in done.stdout, error
    return error


async def test_a_second_service_on_the_data_dir_exits_and_ends_nothing(
    settings: Settings,
) -> None:
    async with running_service(settings) as service:
        with trio.fail_after(60):
            gid = await service.upload(server_app())
            launched = await service.launch(gid, command=SERVER_COMMAND)
            assert launched.status_code == 200, launched.text
            assert launched.json()["status"] == "running"
            second = await trio.run_process(
                [sys.executable, "-m", "preview", "serve", "--bind", "127.0.0.1:0"],
                env=serve_env(settings),
                capture_stdout=True,
                capture_stderr=True,
                check=False,
            )
            assert second.returncode == 1, second.stderr
            error = second.stderr.decode()
            assert error.startswith("error: another preview service (pid ")
            assert error.count("\n") == 1 and "Traceback" not in error
            assert b"Preview service ready" not in second.stdout
            # The first service's preview was not touched: still running, still answering.
            status = await service.status(gid)
            assert status["status"] == "running", status
            answer = await service.app_get(launched.json(), "/")
            assert answer.status_code == 200


async def test_the_hold_dies_with_its_process_however_it_dies(tmp_path) -> None:
    holder = (
        "import sys, time; from pathlib import Path;"
        " from preview.store.datadir import hold_data_dir;"
        " hold_data_dir(Path(sys.argv[1])); print('held', flush=True); time.sleep(600)"
    )
    with trio.fail_after(30):
        process = await trio.lowlevel.open_process(
            [sys.executable, "-c", holder, str(tmp_path)], stdout=subprocess.PIPE
        )
        try:
            assert process.stdout is not None
            said = b""
            while not said.endswith(b"\n"):  # one line, in as many reads as it takes
                chunk = await process.stdout.receive_some()
                assert chunk, said
                said += chunk
            assert said == b"held\n"
            with pytest.raises(DataDirInUse, match=f"pid {process.pid}"):
                hold_data_dir(tmp_path)
        finally:
            process.send_signal(signal.SIGKILL)
            await process.wait()
            await process.stdout.aclose()
        hold_data_dir(tmp_path)  # a killed service's restart is not refused
        hold_data_dir(tmp_path)  # and one process's apps share its hold
        release_data_dir(tmp_path)
        release_data_dir(tmp_path)


async def test_drafts_a_killed_service_left_are_removed_at_start(settings: Settings) -> None:
    data = settings.data_dir
    # Named as the snapshot keeper and the template makers name them (store.datadir).
    drafts = [
        data / "snapshots" / "gen_1" / ".snap_0123456789abcdef.partial",
        data / "snapshots" / ".fetched" / "snap_0123456789abcdef-0a1b2c3d",  # another node's
        data / ".mariadb-template-x6l9p9bt",
        data / "postgres" / "making-0a1b2c3d",
        data / "data-init" / "gen_1" / ".staging-0123abcd-0a1b2c3d",  # (snapshots.datainit)
    ]
    kept = [
        data / "snapshots" / "gen_1" / "snap_fedcba9876543210",
        data / "mariadb-template-18de970-6aacf168",
        data / "postgres" / "template-16",
        data / "data-init" / "gen_1" / "0123abcd",
    ]
    for path in drafts + kept:
        path.mkdir(parents=True)
        (path / "contents").write_bytes(b"x" * 1000)
    async with running_service(settings):
        pass
    assert [path for path in drafts if path.exists()] == []
    assert [path for path in kept if not (path / "contents").exists()] == []


@pytest.mark.skipif(os.geteuid() != 0, reason="previews get uids of their own only as root")
async def test_a_run_dir_the_previews_cannot_reach_is_refused_at_start(
    settings: Settings,
) -> None:
    """Under a parent only root may traverse, every revision's files were refused to the
    previews' own uids: found at the first revision, and its clean-up then ended the
    preview. Now `preview serve` says so and exits before it serves."""
    with tempfile.TemporaryDirectory(prefix="closed-", dir="/tmp") as made:  # 0700, root's
        closed = Path(made)
        error = await refused_at_start(settings, PREVIEW_RUN_DIR=str(closed / "run"))
        assert error.startswith(f"error: PREVIEW_RUN_DIR {closed / 'run'} is under {closed} ")
        assert f"(chmod o+x {closed})" in error and error.count("\n") == 1, error
        await trio.to_thread.run_sync(closed.chmod, 0o711)  # allowed: it serves
        async with running_service(replace(settings, run_dir=str(closed / "run"))) as service:
            with trio.fail_after(60):
                gid = await service.upload(server_app())
                launched = await service.launch(gid, command=SERVER_COMMAND)
                assert launched.json()["status"] == "running", launched.text
                assert (await service.stop(gid)).status_code == 200


@pytest.mark.skipif(os.geteuid() != 0, reason="mounting a tmpfs needs root")
async def test_a_run_dir_with_no_space_is_one_line_at_start(settings: Settings) -> None:
    """The previews' directory could not be made (the copy of /etc each sandbox binds
    did not fit): the service ended with Hypercorn's lifespan failure and a copytree's
    list of errors; now its last line names the directory and the cause."""
    with tempfile.TemporaryDirectory(prefix="run-", dir="/tmp") as made, tmpfs(Path(made), "64k"):
        run_dir = Path(made) / "previews"
        # (found as the app starts, after the checks: the service said it was ready first)
        error = await refused_at_start(settings, checked=False, PREVIEW_RUN_DIR=str(run_dir))
    assert error.splitlines()[-1] == (
        f"error: the previews' directory {run_dir} could not be made: no space left on its"
        " disk (PREVIEW_RUN_DIR sets where it is)"
    ), error
