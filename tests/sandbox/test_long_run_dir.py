"""A long PREVIEW_RUN_DIR (issue 64, item 2): a Unix socket's path holds at most 107
bytes, and every socket the service made was under the run dir (``.sockets``): from 53
characters on, every launch that built failed at the egress proxy's bind ("AF_UNIX path
too long"). The sockets now go to a short directory of the service's own where the run
dir is too long for them, and a service whose sockets fit nowhere is refused at start.
Real processes, real sockets, real sandboxes."""

from __future__ import annotations

import os
import tempfile
from collections.abc import AsyncIterator
from dataclasses import replace
from pathlib import Path

import pytest
import trio

from preview import Settings
from preview.backing.pgprivate import server_binaries
from preview.backing.servers.redis import redis_binary
from preview.runtime import previews_dir_problem
from preview.sandbox.appdir import remove_tree
from preview.settings import SOCKET_NAMES_MAX, UNIX_SOCKET_PATH_MAX

from ..conftest import Service, running_service
from ..launching import BUILD_WAIT, app_files, launched, messages
from ..runtime.test_data_dir import refused_at_start
from .test_sandbox import require_sandbox

_LONG = 90  # characters of the run dir: the 53 and 64 both broke every build


def _long_path(parent: Path, length: int) -> Path:
    """A path of ``length`` characters below ``parent``, named after it (the previews'
    cgroups are named after the run dir's last part: one of each test's own)."""
    name = f"run-{parent.name}"
    padding = "x" * max(1, length - len(str(parent / name)) - 1)
    parts = [padding[i : i + 100].strip("/") for i in range(0, len(padding), 101)]
    return parent.joinpath(*(part for part in parts if part), name)


@pytest.fixture
async def long_service(build_settings: Settings, open_parent: Path) -> AsyncIterator[Service]:
    settings = replace(
        build_settings, run_dir=str(_long_path(open_parent, _LONG)), egress="pypi.org"
    )
    assert len(settings.run_dir) == _LONG
    try:
        async with running_service(settings) as running:
            yield running
        assert not settings.sockets_dir.exists()  # removed with the previews' directory
    finally:
        await trio.to_thread.run_sync(remove_tree, settings.sockets_dir)


def test_the_sockets_go_where_their_paths_fit(open_parent: Path) -> None:
    short = Settings(run_dir=str(open_parent / "run"))
    assert short.sockets_dir == short.previews_dir / ".sockets"  # as before
    for length in (53, 64, _LONG, 400):
        settings = Settings(run_dir=str(_long_path(open_parent, length)))
        room = len(os.fsencode(settings.sockets_dir)) + SOCKET_NAMES_MAX
        assert room <= UNIX_SOCKET_PATH_MAX, (length, settings.sockets_dir)
        assert previews_dir_problem(settings) is None
    moved = Settings(run_dir=str(_long_path(open_parent, _LONG)))
    assert moved.sockets_dir.parent == Path(tempfile.gettempdir())
    # One of its own for each run dir.
    other = Settings(run_dir=str(_long_path(open_parent, _LONG + 1)))
    assert other.sockets_dir != moved.sockets_dir
    # Never one another user made first in the shared temp dir (or a link to one).
    moved.sockets_dir.symlink_to(open_parent)
    try:
        problem = previews_dir_problem(moved)
    finally:
        moved.sockets_dir.unlink()
    assert problem is not None and problem.startswith(f"PREVIEW_RUN_DIR {moved.run_dir} is too")
    mine = f"{moved.sockets_dir}, where they go instead, is not a directory of the service's own"
    assert mine in problem, problem


async def test_a_build_with_egress_postgres_and_redis_runs_under_a_long_run_dir(
    long_service: Service,
) -> None:
    """The build's way out (the egress proxy's socket), the app's own proxy
    (PREVIEW_EGRESS), its private PostgreSQL (its server's socket) and its Redis (its
    services directory) all under a 90-character run dir: the app answers through each."""
    service = long_service
    require_sandbox(service)
    if redis_binary() is None or server_binaries() is None:
        pytest.skip("redis-server or PostgreSQL's server binaries are not installed")
    with trio.fail_after(BUILD_WAIT):
        body = await launched(service, app_files("compose_postgres_redis"))
        assert body["status"] == "running", (body["errorMessage"], body["errorLines"])
    with trio.fail_after(60):
        for name, stored in (("ada", 1), ("bob", 2)):
            answer = await service.app_request(body, "POST", f"/visits/{name}")
            assert answer.status_code == 200, answer.text
            assert answer.json() == {"stored": stored, "counted": stored}
        said = messages(await service.history(body["gid"]), "system")
        assert any("a private server of this preview's own" in m for m in said), said
        runtime = service.supervisor.get(body["previewInstanceId"])
        assert runtime is not None and runtime.containment.confinement is not None
        sockets = service.settings.sockets_dir
        confinement = runtime.containment.confinement
        made = [confinement.socket_path, runtime.backing.servers.directory]
        assert confinement.outbound_dir is not None  # its proxy (PREVIEW_EGRESS)
        made.append(confinement.outbound_dir / "proxy.sock")
        assert (confinement.outbound_dir / "proxy.sock").is_socket()
        for path in made:
            assert sockets in path.parents, path
        told = runtime.host_paths(f"could not bind {confinement.socket_path}")
        assert str(sockets) not in told, told  # what users see names no host path
        found = [p for p in sockets.rglob("*") if p.is_socket()]
        assert len(found) >= 4, found  # the app's forwarder, its proxy, PostgreSQL, Redis
        assert all(len(os.fsencode(p)) <= UNIX_SOCKET_PATH_MAX for p in found), found
        assert (await service.stop(body["gid"])).status_code == 200
    assert [p for p in sockets.rglob("*") if p.is_socket()] == []


async def test_a_run_dir_no_socket_fits_is_refused_at_start(
    settings: Settings, open_parent: Path
) -> None:
    """Where neither the run dir nor the temp dir leaves room for a socket's path,
    `preview serve` says so in one line naming both, and exits before it serves (it
    failed each launch that built, as "the service failed to run it")."""
    run_dir = _long_path(open_parent, _LONG)
    temp = _long_path(open_parent / "t", 80)
    await trio.to_thread.run_sync(lambda: temp.mkdir(parents=True))
    error = await refused_at_start(settings, PREVIEW_RUN_DIR=str(run_dir), TMPDIR=str(temp))
    assert error.startswith(f"error: PREVIEW_RUN_DIR {run_dir} is too long"), error
    assert f"TMPDIR {temp}" in error and error.count("\n") == 1, error
    assert not run_dir.exists()  # refused before anything was made
