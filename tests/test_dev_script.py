"""The README's commands as a newcomer pastes them (issue 26, items 1 and 6): ``dev``'s
client commands work from any folder with the paths as the user gives them, and a
client command imports none of the service (each used to take ~2 s to start)."""

from __future__ import annotations

import os
import shutil
import sys
from pathlib import Path

import pytest
import trio

from preview.auth import JWTAuthenticator, User

from .conftest import EXAMPLE_APP, SECRET, Service, auth, server_app, token

DEV = Path(__file__).resolve().parent.parent / "dev"
# What only the service needs: a client command that imports one of these is slow.
_SERVICE_ONLY = (
    "quart",
    "quart_trio",
    "hypercorn",
    "sqlalchemy",
    "alembic",
    "preview.app",
    "preview.runtime",
    "preview.store",
    "preview.sandbox",
)


def _env() -> dict[str, str]:
    return {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "PREVIEW_JWT_SECRET": SECRET,
        "HOME": os.environ.get("HOME", "/root"),
    }


async def test_dev_push_from_any_folder_takes_the_path_as_given(
    service: Service, tmp_path: Path
) -> None:
    if not os.access(DEV.parent / ".venv" / "bin" / "preview", os.X_OK):
        pytest.skip("the clone's .venv is not installed (./dev serve or ./dev test installs it)")
    elsewhere = tmp_path / "projects"
    shutil.copytree(EXAMPLE_APP, elsewhere / "todo-app")
    with trio.fail_after(120):
        pushed = await trio.run_process(
            [str(DEV), "push", "./todo-app", "--url", service.url, "--token", token()],
            cwd=elsewhere,
            env=_env(),
            capture_stdout=True,
            capture_stderr=True,
            check=False,
        )
        assert pushed.returncode == 0, pushed.stderr.decode()
        gid = pushed.stdout.decode().strip()
        assert gid.startswith("gen_"), pushed.stdout  # not empty: GID=$(…) works
        shown = (await service.client.get(f"/api/generations/{gid}", headers=auth())).json()
        assert shown["name"] == "todo-app"  # named after the folder given
        assert "app/main.py" in [file["path"] for file in shown["files"]]
        stopped = await trio.run_process(
            [str(DEV), "stop", gid, "--url", service.url, "--token", token()],
            cwd=elsewhere,
            env=_env(),
            capture_stdout=True,
            check=False,
        )
        assert stopped.stdout.decode() == f"{gid}: no preview is running; nothing to stop\n"


def _installed() -> None:
    if not os.access(DEV.parent / ".venv" / "bin" / "preview", os.X_OK):
        pytest.skip("the clone's .venv is not installed (./dev serve or ./dev test installs it)")


async def test_dev_token_from_any_folder_signs_with_the_served_clones_secret(
    tmp_path: Path,
) -> None:
    """``./dev serve`` keeps its secret in the clone's .preview-data; ``dev token`` run
    elsewhere made a secret of its own there (and printed a token the service refused)."""
    _installed()
    env = {name: value for name, value in _env().items() if name != "PREVIEW_JWT_SECRET"}
    with trio.fail_after(60):
        printed = await trio.run_process(
            [str(DEV), "token", "alice"], cwd=tmp_path, env=env, capture_stdout=True
        )
    assert not (tmp_path / ".preview-data").exists()
    secret = (DEV.parent / ".preview-data" / "jwt-secret").read_text().strip()
    bearer = printed.stdout.decode().strip()
    assert JWTAuthenticator(secret, session_timeout=60).decode(bearer) == User("alice")


async def test_dev_launch_suggests_its_logs_command_as_dev(
    service: Service, tmp_path: Path
) -> None:
    """What a launch suggests (``logs GID``) pastes as it is: ``preview`` is the clone's
    .venv/bin/preview, on no PATH, for who calls ``dev``."""
    _installed()
    files = server_app("raise SystemExit(3)", Procfile="web: python server.py\n")
    with trio.fail_after(120):
        gid = await service.upload(files)
        launched = await trio.run_process(
            [str(DEV), "launch", gid, "--wait", "--url", service.url, "--token", token()],
            cwd=tmp_path,
            env=_env(),
            capture_stdout=True,
            check=False,
        )
    printed = launched.stdout.decode()
    assert ": failed" in printed, printed
    assert f"  logs:   {DEV} logs {gid}\n" in printed, printed


async def test_a_client_command_imports_none_of_the_service() -> None:
    probe = (
        "import sys, preview.cli; "
        f"print(','.join(m for m in {_SERVICE_ONLY!r} if m in sys.modules))"
    )
    with trio.fail_after(60):
        done = await trio.run_process(
            [sys.executable, "-c", probe], env=_env(), capture_stdout=True, check=True
        )
    assert done.stdout.decode().strip() == ""


async def test_dev_serve_installs_again_only_when_pyproject_changed(tmp_path: Path) -> None:
    """``./dev serve`` ran ``pip install -e .`` at every start (80 s on a loaded machine,
    quietly): with the editable install done, only a changed pyproject.toml needs it."""
    clone = tmp_path / "clone"
    bin_dir = clone / ".venv" / "bin"
    bin_dir.mkdir(parents=True)
    shutil.copy(DEV, clone / "dev")
    (clone / "pyproject.toml").write_text("[project]\nname = 'x'\n")
    calls = tmp_path / "calls"
    for name, does in (("pip", "pip $*"), ("preview", "preview $*")):
        (bin_dir / name).write_text(f'#!/bin/sh\necho "{does}" >> {calls}\n')
        (bin_dir / name).chmod(0o755)
    (bin_dir / "python").symlink_to(sys.executable)
    (bin_dir / "python3").symlink_to(sys.executable)

    async def serve() -> str:
        with trio.fail_after(120):
            done = await trio.run_process(
                [str(clone / "dev"), "serve", "--bind", "127.0.0.1:1"],
                cwd=tmp_path,
                env=_env(),
                capture_stderr=True,
            )
        return done.stderr.decode()

    said = await serve()
    assert "installing into" in said
    assert calls.read_text().splitlines() == [
        "pip install -q -e .",
        "preview serve --bind 127.0.0.1:1",
    ]
    assert await serve() == ""  # nothing to install, nothing said
    assert calls.read_text().splitlines()[2:] == ["preview serve --bind 127.0.0.1:1"]
    (clone / "pyproject.toml").write_text("[project]\nname = 'x'\ndependencies = ['y']\n")
    await serve()
    assert calls.read_text().splitlines()[3:] == [
        "pip install -q -e .",
        "preview serve --bind 127.0.0.1:1",
    ]
