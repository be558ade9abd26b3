"""Scenario reload: a revision applied to a running preview (issue 27 §1), against the
same app's bare start.

* bare: ``launch.bare_start``: examples/hello-fastapi spawned as the service spawns it
  (uvicorn, ``--root-path``) in a ready environment, ``Popen`` to its first 200.
* service, unsandboxed (``PREVIEW_SANDBOX=off``, as bare is) then sandboxed (``auto``):
  the same app, launched once; then QUIET_RUNS revisions, each changing ``app/main.py``
  (its ``GET /rev`` answers the revision's number), each right after a bare start.
  Time from the revision's ``POST`` to the first answer of the new code, seen by a probe
  polling ``GET /rev`` through the service's proxy every PROBE_INTERVAL s; the POST's
  own time (it answers once the swap is done) and the ``readyMs`` it reports (the new
  process's spawn to its first answer).
* under load (sandboxed): RUNS more revisions while LOAD_THREADS clients send
  ``GET /api/items`` through the proxy, LOAD_RATE a second in all, each on a kept-alive
  connection; every answer that is not a 200 (or no answer) is a failure.
"""

from __future__ import annotations

import shutil
import statistics
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

import httpx

from ..harness import EXAMPLE_APP, ServiceServer, free_port, log
from .launch import _example_files, bare_start

RUNS = 20  # swaps under load
QUIET_RUNS = 10  # swaps with nothing else running, each after a bare start, per mode
MODES = {"unsandboxed": "off", "sandboxed": "auto"}  # result key -> PREVIEW_SANDBOX
PROBE_INTERVAL = 0.002
LOAD_THREADS = 2
LOAD_RATE = 50  # requests a second, all threads together
ROUTE = '\n\n@app.get("/rev")\ndef rev() -> dict:\n    return {{"rev": {n}}}\n'


class _Load(threading.Thread):
    """Paced ``GET`` calls through the proxy until ``stop``; counts what failed."""

    def __init__(self, base: str, headers: dict[str, str], path: str, rate: float) -> None:
        super().__init__(daemon=True)
        self.client = httpx.Client(base_url=base, headers=headers, timeout=60, trust_env=False)
        self.path, self.interval = path, 1 / rate
        self.stop = threading.Event()
        self.sent = 0
        self.failures: list[str] = []

    def run(self) -> None:
        with self.client:
            while not self.stop.is_set():
                began = time.monotonic()
                self.sent += 1
                try:
                    response = self.client.get(self.path)
                    if response.status_code != 200:
                        self.failures.append(f"{response.status_code} {response.text[:200]}")
                except httpx.HTTPError as error:
                    self.failures.append(repr(error))
                time.sleep(max(0.0, self.interval - (time.monotonic() - began)))


def _first_answer(client: httpx.Client, path: str, want: int, timeout: float) -> int | None:
    """time_ns of the first ``GET path`` answering ``{"rev": want}``."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            response = client.get(path)
            if response.status_code == 200 and response.json().get("rev") == want:
                return time.time_ns()
        except (httpx.HTTPError, ValueError):
            pass
        time.sleep(PROBE_INTERVAL)
    return None


def _stats(values: list[float]) -> dict[str, float]:
    ordered = sorted(values)
    return {
        "median": round(statistics.median(ordered), 1),
        "p90": round(ordered[min(len(ordered) - 1, int(0.9 * len(ordered)))], 1),
        "max": round(ordered[-1], 1),
    }


class _Swaps:
    """Revisions of ``app/main.py`` applied to the launched preview, one at a time."""

    def __init__(self, service: ServiceServer, gid: str, main: str, headers: dict[str, str]):
        self.service, self.gid, self.main = service, gid, main
        self.proxy = f"/api/generations/{gid}/preview/proxy"
        base = f"http://127.0.0.1:{service.port}"
        self.probe = httpx.Client(base_url=base, headers=headers, timeout=60, trust_env=False)
        self.number = 1

    def one(self) -> dict[str, float]:
        """Apply the next revision: (POST → new code's first answer, POST's time, readyMs)."""
        self.number += 1
        number = self.number
        changed = {"app/main.py": self.main + ROUTE.format(n=number)}
        answers: list[int | None] = []
        began = time.time_ns()
        watcher = threading.Thread(
            target=lambda: answers.append(
                _first_answer(self.probe, f"{self.proxy}/rev", number, 120)
            )
        )
        watcher.start()
        posted = self.service.http.post(
            f"/api/generations/{self.gid}/revisions", json={"files": changed}
        )
        posted_at = time.time_ns()
        watcher.join()
        body = posted.json()
        if not body.get("applied") or answers[0] is None:
            raise RuntimeError(f"revision {number} was not applied: {body}")
        return {
            "new_code_ms": (answers[0] - began) / 1e6,
            "post_ms": (posted_at - began) / 1e6,
            "ready_ms": body["apply"]["readyMs"],
        }


def _launched(service: ServiceServer, files: dict[str, str], main: str) -> _Swaps:
    gid = service.upload({**files, "app/main.py": main + ROUTE.format(n=1)})
    launched = service.launch(gid)
    headers = {**service.auth, "X-Preview-Token": launched["previewToken"]}
    return _Swaps(service, gid, main, headers)


def _figures(swaps: list[dict[str, float]]) -> dict[str, Any]:
    keys = ("new_code_ms", "post_ms", "ready_ms")
    return {key: _stats([s[key] for s in swaps]) for key in keys}


def run(*, quick: bool = False, **_: Any) -> dict[str, Any]:
    runs = 5 if quick else RUNS
    quiet_runs = 3 if quick else QUIET_RUNS
    port, bare_port = free_port(), free_port()  # (an unsandboxed swap takes port + 1)
    files = _example_files()
    main = files["app/main.py"]
    workdir = Path(tempfile.mkdtemp(prefix="bare-reload-"))
    shutil.copytree(EXAMPLE_APP, workdir / "app-root")
    bare_dir = workdir / "app-root"
    bare: dict[str, list[float]] = {mode: [] for mode in MODES}
    quiet: dict[str, list[dict[str, float]]] = {mode: [] for mode in MODES}
    loaded: list[dict[str, float]] = []
    loads: list[_Load] = []
    isolation = {}
    env = {"PREVIEW_PORT_MIN": str(port), "PREVIEW_PORT_MAX": str(port + 1)}
    try:
        for mode, sandbox in MODES.items():
            with ServiceServer(extra_env={**env, "PREVIEW_SANDBOX": sandbox}) as service:
                swaps = _launched(service, files, main)
                log(f"reload ({mode}): warm-up")
                bare_start(bare_dir, bare_port)
                swaps.one()
                for i in range(quiet_runs):  # bare, then a swap, nothing else running
                    log(f"reload ({mode}): run {i + 1}/{quiet_runs}")
                    bare[mode].append(bare_start(bare_dir, bare_port))
                    quiet[mode].append(swaps.one())
                status = service.http.get(f"/api/generations/{swaps.gid}/preview/status").json()
                isolation[mode] = status.get("isolation")
                if mode == "sandboxed":  # the default deployment: the swaps under load
                    base = f"http://127.0.0.1:{service.port}"
                    items = f"{swaps.proxy}/api/items"
                    headers = dict(swaps.probe.headers)
                    loads = [
                        _Load(base, headers, items, LOAD_RATE / LOAD_THREADS)
                        for _ in range(LOAD_THREADS)
                    ]
                    for load in loads:
                        load.start()
                    for i in range(runs):
                        log(f"reload ({mode}): run {i + 1}/{runs} under load")
                        loaded.append(swaps.one())
                    for load in loads:
                        load.stop.set()
                    for load in loads:
                        load.join(60)
                swaps.probe.close()
                service.stop(swaps.gid)
    finally:
        for load in loads:
            load.stop.set()
        shutil.rmtree(workdir, ignore_errors=True)
    failures = [f for load in loads for f in load.failures]

    def ratio(mode: str) -> float:
        new_code = statistics.median(s["new_code_ms"] for s in quiet[mode])
        return round(new_code / statistics.median(bare[mode]), 2)

    return {
        "scenario": "reload",
        "runs": runs,
        "quiet_runs": quiet_runs,
        "isolation": isolation,
        **{
            mode: {"bare_first_200_ms": _stats(bare[mode]), **_figures(quiet[mode])}
            for mode in MODES
        },
        "ratio_to_bare": ratio("unsandboxed"),
        "ratio_sandboxed_to_bare": ratio("sandboxed"),
        "under_load": _figures(loaded),
        "load_rate": LOAD_RATE,
        "load_requests": sum(load.sent for load in loads),
        "load_failures": len(failures),
        "failure_examples": failures[:5],
    }
