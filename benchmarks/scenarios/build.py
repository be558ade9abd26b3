"""Scenario build: a typical FastAPI app's dependencies built by the service, against uv alone.

* cold: a fresh service (empty environment cache, empty uv cache) launches the app
  (upload → ``running``), against ``uv venv`` + ``uv pip install -r requirements.txt``
  with an empty uv cache of its own and the interpreter the service picks, plus the
  app's bare start in that venv (target ≤ 1.2×). Downloads dominate both, so the runs alternate.
* cached: the same set launched again (a new generation, environment reused), against
  the app's bare start (spawn to first 200) in the ready venv (target ≤ 1.1×).
* shared: ten simultaneous launches of one new dependency set on a fresh service: how
  many builds ran (target: exactly one; the others wait for it).
* npm: an Express app's install phase against ``npm ci --prefer-offline`` alone, with an
  empty and with a warm npm cache (target ≤ 1.1×; :mod:`.npmbuild`).
"""

from __future__ import annotations

import os
import shutil
import statistics
import subprocess
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

import uv

from preview.builds.installers import interpreter_path

from ..harness import ServiceServer, free_port, free_port_block, log
from .launch import bare_start
from .npmbuild import run_npm

REQUIREMENTS = "fastapi\nuvicorn\nsqlmodel\npydantic-settings\npython-multipart\npyjwt\n"
APP = """
from fastapi import FastAPI

app = FastAPI(title="bench")


@app.get("/health")
def health() -> dict:
    return {"ok": True}
"""
FILES = {"app/__init__.py": "", "app/main.py": APP, "requirements.txt": REQUIREMENTS}
SHARED_LAUNCHES = 10
CACHED_RUNS = 21  # each a bare start then a launch: this VM drifts by ±10 % over minutes


def _service(port_min: int, size: int) -> ServiceServer:
    return ServiceServer(
        extra_env={
            "PREVIEW_BUILD": "on",
            "PREVIEW_PORT_MIN": str(port_min),
            "PREVIEW_PORT_MAX": str(port_min + size - 1),
            "PREVIEW_MAX_INSTANCES_PRO": str(size),
            "PREVIEW_STARTUP_TIMEOUT": "60",
        }
    )


def _service_interpreter() -> str:
    """The interpreter the service builds an app without a Python request on, found as
    it finds it: uv alone must use the same one, or the comparison is of interpreters
    (here pyenv's 3.11.7 starts this app ~35 ms slower than Debian's 3.11.2)."""
    found = subprocess.run(
        [uv.find_uv_bin(), "python", "find", "--python-preference", "only-system"],
        env={"PATH": interpreter_path(), "UV_PYTHON_DOWNLOADS": "never", "UV_NO_CONFIG": "1"},
        capture_output=True,
        text=True,
        check=True,
    )
    return found.stdout.strip()


def _uv_alone(workdir: Path, port: int) -> dict[str, float]:
    """uv venv + uv pip install (empty cache), then the app's first 200 in that venv."""
    cache = workdir / "uv-cache"
    venv = workdir / "venv"
    (workdir / "requirements.txt").write_text(REQUIREMENTS + "uvicorn\n")
    env = {
        "UV_CACHE_DIR": str(cache),
        "UV_SYSTEM_CERTS": "1",
        "UV_COMPILE_BYTECODE": "1",  # as the service's builds do
        "PATH": "/usr/bin:/bin",
    }
    env.update({k: os.environ[k] for k in ("SSL_CERT_FILE", "SSL_CERT_DIR") if k in os.environ})
    python = _service_interpreter()
    began = time.perf_counter()
    subprocess.run(
        [uv.find_uv_bin(), "venv", "-q", "--python", python, str(venv)], check=True, env=env
    )
    subprocess.run(
        [
            uv.find_uv_bin(),
            "pip",
            "install",
            "-q",
            "--python",
            str(venv / "bin" / "python"),
            "-r",
            str(workdir / "requirements.txt"),
        ],
        check=True,
        env=env,
    )
    installed = time.perf_counter()
    app_dir = workdir / "app-root"
    (app_dir / "app").mkdir(parents=True, exist_ok=True)
    for path, text in FILES.items():
        (app_dir / path).write_text(text)
    start_ms = bare_start(app_dir, port, str(venv / "bin" / "python"), root_path=False)
    return {
        "install_ms": (installed - began) * 1000,
        "total_ms": (installed - began) * 1000 + start_ms,
        "start_ms": start_ms,
    }


def _launch(service: ServiceServer) -> tuple[str, float]:
    began = time.perf_counter()
    gid = service.upload(FILES)
    service.launch(gid)
    return gid, (time.perf_counter() - began) * 1000


def _median(values: list[float]) -> float:
    return round(statistics.median(values), 1)


def _shared(quick: bool) -> dict[str, Any]:
    count = 4 if quick else SHARED_LAUNCHES
    files = {**FILES, "requirements.txt": REQUIREMENTS + "idna\n"}
    with _service(free_port_block(count), count) as service:
        gids = [service.upload(files) for _ in range(count)]
        results: list[dict[str, Any]] = []
        began = time.perf_counter()

        def launch(gid: str) -> None:
            results.append(service.launch(gid))

        threads = [threading.Thread(target=launch, args=(gid,)) for gid in gids]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(600)
        elapsed = (time.perf_counter() - began) * 1000
        builds = waits = 0
        for gid in gids:
            events = service.http.get(
                f"/api/generations/{gid}/preview/logs", params={"source": "system", "limit": 200}
            ).json()["events"]
            builds += sum(e["message"].startswith("installing dependencies") for e in events)
            waits += sum(e["message"].startswith("waiting for the same") for e in events)
        for gid in gids:
            service.stop(gid)
    return {
        "launches": count,
        "running": sum(r.get("status") == "running" for r in results),
        "builds": builds,
        "waited": waits,
        "all_running_ms": round(elapsed, 1),
    }


def run(*, quick: bool = False, **_: Any) -> dict[str, Any]:
    runs = 1 if quick else 3
    cold_service: list[float] = []
    cold_uv: list[dict[str, float]] = []
    cached_service: list[float] = []
    cached_bare: list[float] = []
    workdir = Path(tempfile.mkdtemp(prefix="bench-build-"))
    try:
        for i in range(runs):
            log(f"build: cold run {i + 1}/{runs}")
            run_dir = workdir / f"uv-{i}"
            run_dir.mkdir()
            cold_uv.append(_uv_alone(run_dir, free_port()))
            with _service(free_port_block(2), 2) as service:
                gid, ms = _launch(service)
                cold_service.append(ms)
                service.stop(gid)
                if i == runs - 1:
                    venv_python = str(run_dir / "venv" / "bin" / "python")
                    app_dir = run_dir / "app-root"
                    for j in range(5 if quick else CACHED_RUNS):
                        log(f"build: cached run {j + 1}")
                        cached_bare.append(
                            bare_start(app_dir, free_port(), venv_python, root_path=False)
                        )
                        gid, ms = _launch(service)
                        cached_service.append(ms)
                        service.stop(gid)
        log("build: shared")
        shared = _shared(quick)
        npm = run_npm(quick)
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    uv_total = _median([r["total_ms"] for r in cold_uv])
    return {
        "scenario": "build",
        "requirements": REQUIREMENTS.split(),
        "cold": {
            "service_ms": _median(cold_service),
            "uv_alone_install_ms": _median([r["install_ms"] for r in cold_uv]),
            "uv_alone_plus_start_ms": uv_total,
            "ratio": round(_median(cold_service) / uv_total, 2),
            "target": 1.2,
        },
        "interpreter": _service_interpreter(),
        "cached": {
            "service_ms": _median(cached_service),
            "bare_start_ms": _median(cached_bare),
            "ratio": round(_median(cached_service) / _median(cached_bare), 2),
            # Each launch ran right after a bare start: the ratio of each pair, at the
            # machine's speed of that moment (this VM's varies by ±15 % over minutes).
            "ratio_paired_median": round(
                statistics.median(s / b for s, b in zip(cached_service, cached_bare, strict=True)),
                2,
            ),
            "service_ms_all": [round(x, 1) for x in cached_service],
            "bare_start_ms_all": [round(x, 1) for x in cached_bare],
            "target": 1.1,
        },
        "shared": shared,
        "npm": npm,
    }
