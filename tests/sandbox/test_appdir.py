"""What the sandbox writes into an app's folder (sandbox.appdir): the files a launch
adds keep what the app needs of them."""

from __future__ import annotations

import contextlib
import os
import stat
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from preview.sandbox.appdir import (
    link_beneath,
    mounts_die_with_this_process,
    remove_tree,
    unlink_beneath,
    write_into,
)

from ..launching import app_files
from ..mounts import mounted_under, namespace_of, pinned_namespace, processes_in_namespace


def test_a_script_the_app_runs_as_a_program_is_written_executable(tmp_path: Path) -> None:
    """An upload holds no file modes: Kuatsu's Dockerfile runs ``./docker_run_env.sh``
    (no ``#!`` line), zombiQWERTY's compile script ``./bin/start/compile.sh``, both
    committed executable and refused ("Permission denied", exit 126)."""
    files = {
        "docker_run_env.sh": b'if [ "$NODE_ENV" = "development" ]\nthen yarn dev\nfi\n',
        "bin/start/compile": b"#!/usr/bin/env node\nconsole.log(1)\n",
        "src/server.js": b"require('http').createServer().listen(process.env.PORT)\n",
    }
    (tmp_path / "app").mkdir()
    write_into(tmp_path / "app", files)
    modes = {p: stat.S_IMODE((tmp_path / "app" / p).stat().st_mode) for p in files}
    assert modes == {"docker_run_env.sh": 0o755, "bin/start/compile": 0o755, "src/server.js": 0o644}
    ran = subprocess.run(
        ["sh", "-c", "./docker_run_env.sh"], cwd=tmp_path / "app", check=False, timeout=60
    )
    assert ran.returncode == 0


# A service in a process of its own: it mounts a bounded folder (as for a preview) and
# waits to be killed. ``own`` says whether it first takes a mount namespace of its own.
_SERVICE = """
import sys, time
from pathlib import Path
from preview.sandbox.appdir import make_bounded_dir, mounts_die_with_this_process
own = sys.argv[2] == "own"
moved = mounts_die_with_this_process() if own else False
assert make_bounded_dir(Path(sys.argv[1]), 1 << 20, 100)
print("moved" if moved else "host", flush=True)
time.sleep(600)
"""


@contextlib.contextmanager
def _killed_service(folder: Path, how: str) -> Iterator[tuple[str, bool, int]]:
    """The service's first line, whether the host saw its mount while it ran, and its
    namespace's inode, pinned for the block (:func:`pinned_namespace`); it is killed
    (SIGKILL) and reaped before the block."""
    process = subprocess.Popen(
        [sys.executable, "-c", _SERVICE, str(folder), how], stdout=subprocess.PIPE, text=True
    )
    with contextlib.ExitStack() as pinned:
        try:
            assert process.stdout is not None
            said = process.stdout.readline().strip()
            assert mounted_under(process.pid, folder) == [str(folder)], said
            seen_by_host = bool(mounted_under("self", folder))
            inode = pinned.enter_context(pinned_namespace(process.pid))
        finally:
            process.kill()
            process.wait(timeout=60)
        yield said, seen_by_host, inode


@pytest.mark.skipif(os.geteuid() != 0, reason="mounting a tmpfs needs root")
def test_a_killed_services_tmpfs_folders_end_with_it(tmp_path: Path) -> None:
    """Its previews' folders are tmpfs it mounted; killed at once (a node lost, the OOM
    killer), it leaves none mounted and no memory of theirs held: they were in a mount
    namespace of its own, which ended with its last process. The control: a service
    that stayed in the host's namespace leaves its tmpfs mounted there."""
    own = tmp_path / "own"
    with _killed_service(own, "own") as (said, seen_by_host, namespace):
        assert said == "moved"
        assert not seen_by_host  # its mounts never reached the host
        # None of its processes is left: the kernel ends it, and its tmpfs, when no one
        # holds it (this test's pin, until the block's end).
        assert not processes_in_namespace(namespace)
    assert not mounted_under("self", own)

    host = tmp_path / "host"
    with _killed_service(host, "host") as (said, seen_by_host, namespace):
        is_the_hosts = namespace == namespace_of("self")
    try:
        assert said == "host" and seen_by_host
        assert is_the_hosts
        assert mounted_under("self", host) == [str(host)]  # left behind
    finally:
        remove_tree(host)
    assert not mounted_under("self", host)


def test_a_process_with_threads_keeps_its_mount_namespace() -> None:
    """A thread's mount namespace is its own: moving one of several would leave the
    others (and the threads they start) mounting in the host's. Such a process stays."""
    before = namespace_of("self")
    release = threading.Event()
    worker = threading.Thread(target=release.wait, daemon=True)
    worker.start()
    try:
        assert not mounts_die_with_this_process()
    finally:
        release.set()
        worker.join(timeout=10)
    assert namespace_of("self") == before


def test_a_commonjs_file_a_tool_writes_to_tmpdir_stays_commonjs(tmp_path: Path) -> None:
    """lanzath's express-mysql-api (``"type": "module"``): ts-node-dev writes its hook to
    TMPDIR, the app's ``.tmp``, under the app's package.json, and Node loaded it as an ES
    module ("require is not defined in ES module scope"). ``.tmp`` says CommonJS, as a
    system's /tmp (under no package.json) does."""
    files = {p: t.encode() for p, t in app_files("node_esm_tmp_hook").items()}
    (tmp_path / "app").mkdir()
    write_into(tmp_path / "app", files)
    env = {"PATH": os.environ["PATH"], "TMPDIR": str(tmp_path / "app" / ".tmp")}
    ran = subprocess.run(
        ["node", "start.cjs"], cwd=tmp_path / "app", env=env, capture_output=True, timeout=60
    )
    assert ran.returncode == 0, ran.stderr.decode()
    assert ran.stdout.decode().strip() == "function"
    (tmp_path / "py").mkdir()
    write_into(tmp_path / "py", {"app.py": b""})  # no Node upload: .tmp left empty
    assert list((tmp_path / "py" / ".tmp").iterdir()) == []


def test_a_folder_the_app_made_where_a_link_was_is_removed_whole(tmp_path: Path) -> None:
    # A start script's `npm i` replaced node_modules' link with a folder of its own; the
    # next plan's link must replace it, and a link inside is removed, not followed.
    kept = tmp_path / "kept"
    kept.mkdir()
    (kept / "file").write_text("the environment's")
    app = tmp_path / "app"
    (app / "node_modules" / "express").mkdir(parents=True)
    (app / "node_modules" / "express" / "index.js").write_text("")
    (app / "node_modules" / "outside").symlink_to(kept)

    unlink_beneath(app, "node_modules", (tmp_path,))
    link_beneath(app, "node_modules", kept, (tmp_path,))

    assert (app / "node_modules").is_symlink()
    assert (kept / "file").read_text() == "the environment's"
