"""Part of scenario build: an Express app's packages installed by the service, against
``npm ci --prefer-offline`` alone on the same lockfile (issue 68: the install phase ≤ 1.1×
npm alone on the same dependency set).

Two apps, A and B (B: A's packages less one), each with a lockfile made once per run of
the scenario (``npm install --package-lock-only``, not measured). Each round:

* npm alone: ``npm ci --prefer-offline --ignore-scripts`` of A with an empty cache
  (*cold*: every tarball downloaded), then of B on that cache (*warm*: every tarball in
  it, a new dependency set all the same);
* the service: a fresh service (its npm cache empty) launches A (*cold*) then B (*warm*:
  its environment is new, its packages in the service's cache); the figure is the
  launch's own ``installing dependencies`` phase (``status.phases``), not the launch.

The rounds alternate the two (downloads and the machine's load drift over minutes).
"""

from __future__ import annotations

import json
import os
import shutil
import statistics
import subprocess
import tempfile
import time
from pathlib import Path
from typing import Any

from ..harness import ServiceServer, free_port_block, log

__all__ = ["run_npm"]

_PACKAGES = {
    "bcryptjs": "^2.4.3",
    "cors": "^2.8.5",
    "dotenv": "^16.4.0",
    "express": "^4.21.0",
    "helmet": "^7.1.0",
    "joi": "^17.13.0",
    "jsonwebtoken": "^9.0.2",
    "morgan": "^1.10.0",
}
_LEFT_OUT_OF_B = "joi"
_SERVER = """const express = require("express");
const app = express();
app.get("/health", (req, res) => res.json({ ok: true }));
app.listen(Number(process.env.PORT) || 3000, () => console.log("listening"));
"""
_INSTALL_PHASE = "installing dependencies"
_NPM_QUIET = {
    "npm_config_audit": "false",
    "npm_config_fund": "false",
    "npm_config_update_notifier": "false",
}


def _package(name: str, packages: dict[str, str]) -> str:
    return json.dumps(
        {
            "name": name,
            "version": "1.0.0",
            "private": True,
            "scripts": {"start": "node server.js"},
            "dependencies": packages,
        },
        indent=2,
    )


def _app_files(workdir: Path, name: str, packages: dict[str, str]) -> dict[str, str]:
    """The app's files, its lockfile made by npm in ``workdir`` (a cache of its own)."""
    folder = workdir / f"lock-{name}"
    folder.mkdir()
    (folder / "package.json").write_text(_package(name, packages))
    subprocess.run(
        ["npm", "install", "--package-lock-only", "--ignore-scripts", "--no-progress"],
        cwd=folder,
        env=_npm_env(workdir / "lock-cache"),
        check=True,
        capture_output=True,
    )
    return {
        "package.json": (folder / "package.json").read_text(),
        "package-lock.json": (folder / "package-lock.json").read_text(),
        "server.js": _SERVER,
    }


def _npm_env(cache: Path) -> dict[str, str]:
    return {**os.environ, **_NPM_QUIET, "npm_config_cache": str(cache)}


def _npm_alone(folder: Path, files: dict[str, str], cache: Path) -> float:
    """Seconds of ``npm ci --prefer-offline --ignore-scripts`` of ``files`` on ``cache``."""
    folder.mkdir()
    for name, text in files.items():
        (folder / name).write_text(text)
    began = time.perf_counter()
    subprocess.run(
        ["npm", "ci", "--prefer-offline", "--ignore-scripts", "--no-progress"],
        cwd=folder,
        env=_npm_env(cache),
        check=True,
        capture_output=True,
    )
    return time.perf_counter() - began


def _install_seconds(service: ServiceServer, files: dict[str, str]) -> float:
    """The ``installing dependencies`` phase of a launch of ``files`` by ``service``."""
    gid = service.upload(files)
    try:
        launched = service.launch(gid)
        phases = launched.get("phases") or []
        seconds = [p["seconds"] for p in phases if p["phase"] == _INSTALL_PHASE]
        if not seconds:
            raise RuntimeError(f"no {_INSTALL_PHASE!r} phase in {phases}")
        return float(seconds[0])
    finally:
        service.stop(gid)


def _service() -> ServiceServer:
    port_min = free_port_block(2)
    return ServiceServer(
        extra_env={
            "PREVIEW_BUILD": "on",
            "PREVIEW_PORT_MIN": str(port_min),
            "PREVIEW_PORT_MAX": str(port_min + 1),
            "PREVIEW_STARTUP_TIMEOUT": "60",
        }
    )


def _ratio(service: list[float], alone: list[float]) -> float:
    return round(statistics.median(service) / statistics.median(alone), 2)


def run_npm(quick: bool) -> dict[str, Any]:
    """The figures (see the module doc); skipped without npm."""
    if shutil.which("npm") is None:
        return {"skipped": "npm is not installed"}
    rounds = 1 if quick else 3
    alone: dict[str, list[float]] = {"cold": [], "warm": []}
    service: dict[str, list[float]] = {"cold": [], "warm": []}
    workdir = Path(tempfile.mkdtemp(prefix="bench-npm-"))
    try:
        a = _app_files(workdir, "bench-a", _PACKAGES)
        fewer = {k: v for k, v in _PACKAGES.items() if k != _LEFT_OUT_OF_B}
        b = _app_files(workdir, "bench-b", fewer)
        for i in range(rounds):
            log(f"build: npm, round {i + 1}/{rounds}")
            cache = workdir / f"cache-{i}"
            alone["cold"].append(_npm_alone(workdir / f"a-{i}", a, cache))
            alone["warm"].append(_npm_alone(workdir / f"b-{i}", b, cache))
            with _service() as server:
                service["cold"].append(_install_seconds(server, a))
                service["warm"].append(_install_seconds(server, b))
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    return {
        "packages": sorted(_PACKAGES),
        **{
            kind: {
                "service_install_s": round(statistics.median(service[kind]), 2),
                "npm_alone_s": round(statistics.median(alone[kind]), 2),
                "ratio": _ratio(service[kind], alone[kind]),
                "service_all": [round(s, 2) for s in service[kind]],
                "npm_alone_all": [round(s, 2) for s in alone[kind]],
                "target": 1.1,
            }
            for kind in ("cold", "warm")
        },
    }
