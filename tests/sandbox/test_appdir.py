"""What the sandbox writes into an app's folder (sandbox.appdir): the files a launch
adds keep what the app needs of them."""

from __future__ import annotations

import os
import stat
import subprocess
from pathlib import Path

from preview.sandbox.appdir import write_into

from ..launching import app_files


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
