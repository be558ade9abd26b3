"""Scenario reload: a revision applied to a running preview (issue 27 §1), against the
same app's bare start, measured alike and side by side.

Three ways the same app (examples/hello-fastapi) comes to answer, each timed from the
call that asks for it to its first answer, by a client that asks once the call has
answered (no probe polls the service meanwhile: a 2 ms probe through the proxy costs
the machine more CPU than the start it measures, and the bare start's probe is a
refused loopback connect):

* bare: ``launch.bare_start``, uvicorn spawned as the service spawns it (``--root-path``)
  in a ready environment, ``Popen`` to its first 200 (a connect every millisecond);
* launch: the service's own launch of it (``wait: true``), in the same sandbox mode as
  the swap, to its first answer through the proxy: a start in a ready environment as
  the service makes it (the fair basis of a sandboxed swap: bare runs unsandboxed);
* swap: a revision of ``app/main.py`` (its ``GET /rev`` answers the revision's number)
  ``POST``ed to the running preview, to the new code's first answer through the proxy
  (the POST answers once the new process took over). The answer's ``apply.timings``
  (each step's end since the API received it) are kept: their medians, step by step,
  say where the swap's time goes.

Each round runs the three in an order that rotates from round to round (after one
unmeasured warm-up of each); figures are medians of the rounds, ratios are medians'
ratios and the median of the per-round ratios. Unsandboxed (``PREVIEW_SANDBOX=off``, as
bare is) then sandboxed (``auto``), QUIET_RUNS rounds each; then, sandboxed, RUNS
rounds of a bare start and a swap while LOAD_THREADS clients send ``GET /api/items``
through the proxy, LOAD_RATE a second in all, each on a kept-alive connection: every
answer that is not a 200 (or no answer) is a failure. ``uptime``'s load is reported.
"""

from __future__ import annotations

import os
import shutil
import statistics
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx

from ..harness import EXAMPLE_APP, ServiceServer, free_port, free_port_block, log
from .launch import _example_files, bare_start

RUNS = 20  # swaps under load
QUIET_RUNS = 10  # rounds with nothing else running, per mode
MODES = {"unsandboxed": "off", "sandboxed": "auto"}  # result key -> PREVIEW_SANDBOX
ANSWER_INTERVAL = 0.001  # a new code not answering yet (never seen: the POST waits)
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


def _answered(client: httpx.Client, path: str, ok: Callable[[httpx.Response], bool]) -> int:
    """time_ns of the first ``GET path`` that is ``ok`` (within 30 s)."""
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            if ok(client.get(path)):
                return time.time_ns()
        except (httpx.HTTPError, ValueError):
            pass
        time.sleep(ANSWER_INTERVAL)
    raise RuntimeError(f"{path} did not answer as expected within 30 s")


def stats(values: list[float]) -> dict[str, float]:
    ordered = sorted(values)
    return {
        "median": round(statistics.median(ordered), 1),
        "p90": round(ordered[min(len(ordered) - 1, int(0.9 * len(ordered)))], 1),
        "min": round(ordered[0], 1),
        "max": round(ordered[-1], 1),
    }


def load_average() -> float:
    return round(os.getloadavg()[0], 2)


class Preview:
    """A launched preview of the app in ``service``, and its revisions, one at a time:
    ``revised(n)`` gives the files revision ``n`` changes, whose ``GET /rev`` answers
    ``{"rev": n}`` (the first, 1, is uploaded with ``files``)."""

    def __init__(
        self,
        service: ServiceServer,
        files: dict[str, str],
        revised: Callable[[int], dict[str, str]],
    ) -> None:
        self.service, self.revised = service, revised
        self.gid = service.upload({**files, **revised(1)})
        launched = service.launch(self.gid)
        self.headers = {**service.auth, "X-Preview-Token": launched["previewToken"]}
        self.proxy = f"/api/generations/{self.gid}/preview/proxy"
        base = f"http://127.0.0.1:{service.port}"
        self.client = httpx.Client(base_url=base, headers=self.headers, timeout=60, trust_env=False)
        self.number = 1

    def swap(self) -> dict[str, Any]:
        """The next revision applied: POST → the new code's first answer (and the rest)."""
        self.number += 1
        number = self.number
        changed = self.revised(number)
        began = time.time_ns()
        posted = self.service.http.post(
            f"/api/generations/{self.gid}/revisions", json={"files": changed}
        )
        posted_at = time.time_ns()
        body = posted.json()
        if not body.get("applied"):
            raise RuntimeError(f"revision {number} was not applied: {body}")
        answered = _answered(
            self.client,
            f"{self.proxy}/rev",
            lambda r: r.status_code == 200 and r.json().get("rev") == number,
        )
        return {
            "new_code_ms": (answered - began) / 1e6,
            "post_ms": (posted_at - began) / 1e6,
            "ready_ms": body["apply"]["readyMs"],
            "timings": body["apply"].get("timings") or {},
        }

    def close(self) -> None:
        self.client.close()
        self.service.stop(self.gid)


def _launch(service: ServiceServer, files: dict[str, str]) -> float:
    """The service's launch of the app (uploaded first, untimed) → its first answer
    through the proxy (ms); then stopped."""
    gid = service.upload(files)
    began = time.time_ns()
    launched = service.launch(gid)
    headers = {**service.auth, "X-Preview-Token": launched["previewToken"]}
    base = f"http://127.0.0.1:{service.port}"
    with httpx.Client(base_url=base, headers=headers, timeout=60, trust_env=False) as client:
        answered = _answered(
            client, f"/api/generations/{gid}/preview/proxy/health", lambda r: r.status_code == 200
        )
    service.stop(gid)
    return (answered - began) / 1e6


def _steps(swaps: list[dict[str, Any]]) -> dict[str, float]:
    """Each step's own time (its end minus the step's before), median over ``swaps``,
    in the order the steps end."""
    durations: dict[str, list[float]] = {}
    for swap in swaps:
        previous = 0.0
        for step, at in swap["timings"].items():
            durations.setdefault(step, []).append(at - previous)
            previous = at
    return {step: round(statistics.median(values), 1) for step, values in durations.items()}


def figures(swaps: list[dict[str, Any]]) -> dict[str, Any]:
    keys = ("new_code_ms", "post_ms", "ready_ms")
    return {key: stats([s[key] for s in swaps]) for key in keys} | {"steps_ms": _steps(swaps)}


def _ratios(swaps: list[float], basis: list[float]) -> dict[str, float]:
    return {
        "of_medians": round(statistics.median(swaps) / statistics.median(basis), 2),
        "median_of_rounds": round(
            statistics.median(s / b for s, b in zip(swaps, basis, strict=True)), 2
        ),
    }


def in_rounds(n: int, kinds: dict[str, Callable[[], Any]], label: str) -> dict[str, list[Any]]:
    """``n`` rounds of each of ``kinds``, their order rotated from round to round."""
    names = list(kinds)
    out: dict[str, list[Any]] = {name: [] for name in names}
    for i in range(n):
        log(f"reload ({label}): round {i + 1}/{n}, load {load_average()}")
        order = names[i % len(names) :] + names[: i % len(names)]
        for name in order:
            out[name].append(kinds[name]())
    return out


def _mode(
    mode: str,
    sandbox: str,
    files: dict[str, str],
    main: str,
    bare: Callable[[], float],
    rounds: int,
    loaded_rounds: int,
) -> dict[str, Any]:
    # A launch beside the preview, and an unsandboxed swap: 4 ports, below the ephemeral
    # range (where the load's and other programs' outgoing connections take theirs).
    port = free_port_block(4)
    env = {"PREVIEW_PORT_MIN": str(port), "PREVIEW_PORT_MAX": str(port + 3)}
    loads: list[_Load] = []
    with ServiceServer(extra_env={**env, "PREVIEW_SANDBOX": sandbox}) as service:
        preview = Preview(service, files, lambda n: {"app/main.py": main + ROUTE.format(n=n)})
        try:
            log(f"reload ({mode}): warm-up, load {load_average()}")
            bare(), _launch(service, files), preview.swap()
            loads_before = load_average()
            quiet = in_rounds(
                rounds,
                {"bare": bare, "launch": lambda: _launch(service, files), "swap": preview.swap},
                mode,
            )
            status = service.http.get(f"/api/generations/{preview.gid}/preview/status").json()
            swaps_ms = [s["new_code_ms"] for s in quiet["swap"]]
            result: dict[str, Any] = {
                "isolation": status.get("isolation"),
                "load_average": [loads_before, load_average()],
                "bare_first_200_ms": stats(quiet["bare"]),
                "launch_first_answer_ms": stats(quiet["launch"]),
                **figures(quiet["swap"]),
                "ratio_to_bare": _ratios(swaps_ms, quiet["bare"]),
                "ratio_to_launch": _ratios(swaps_ms, quiet["launch"]),
                "bare_all": [round(x) for x in quiet["bare"]],
                "swap_all": [round(x) for x in swaps_ms],
            }
            if not loaded_rounds:
                return result
            base = f"http://127.0.0.1:{service.port}"
            items = f"{preview.proxy}/api/items"
            loads = [
                _Load(base, preview.headers, items, LOAD_RATE / LOAD_THREADS)
                for _ in range(LOAD_THREADS)
            ]
            for load in loads:
                load.start()
            busy = in_rounds(loaded_rounds, {"bare": bare, "swap": preview.swap}, f"{mode}, load")
            for load in loads:
                load.stop.set()
            for load in loads:
                load.join(60)
            failures = [f for load in loads for f in load.failures]
            busy_ms = [s["new_code_ms"] for s in busy["swap"]]
            result["under_load"] = {
                "bare_first_200_ms": stats(busy["bare"]),
                **figures(busy["swap"]),
                "ratio_to_bare": _ratios(busy_ms, busy["bare"]),
                "load_rate": LOAD_RATE,
                "load_requests": sum(load.sent for load in loads),
                "load_failures": len(failures),
                "failure_examples": failures[:5],
            }
            return result
        finally:
            for load in loads:
                load.stop.set()
            preview.close()


def run(*, quick: bool = False, **_: Any) -> dict[str, Any]:
    runs = 5 if quick else RUNS
    quiet_runs = 3 if quick else QUIET_RUNS
    bare_port = free_port()
    files = _example_files()
    main = files["app/main.py"]
    workdir = Path(tempfile.mkdtemp(prefix="bare-reload-"))
    shutil.copytree(EXAMPLE_APP, workdir / "app-root", ignore=shutil.ignore_patterns("__pycache__"))
    bare_dir = workdir / "app-root"

    def bare() -> float:
        return bare_start(bare_dir, bare_port)

    try:
        modes = {
            mode: _mode(
                mode, sandbox, files, main, bare, quiet_runs, runs if mode == "sandboxed" else 0
            )
            for mode, sandbox in MODES.items()
        }
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    return {
        "scenario": "reload",
        "runs": runs,
        "quiet_runs": quiet_runs,
        **modes,
        "ratio_to_bare": modes["unsandboxed"]["ratio_to_bare"]["of_medians"],
        "ratio_sandboxed_to_bare": modes["sandboxed"]["ratio_to_bare"]["of_medians"],
        "ratio_sandboxed_to_launch": modes["sandboxed"]["ratio_to_launch"]["of_medians"],
        "under_load": modes["sandboxed"]["under_load"],
        "load_rate": LOAD_RATE,
        "load_requests": modes["sandboxed"]["under_load"]["load_requests"],
        "load_failures": modes["sandboxed"]["under_load"]["load_failures"],
    }
