"""Scenario 3, launch: upload → launch → ``running`` for examples/hello-fastapi, against the
same app's bare spawn-to-first-200 outside the service.

* bare: ``python -m uvicorn app.main:app --host 127.0.0.1 --port P --root-path <prefix>``
  (the service's own default command) in a copy of the app; time from ``Popen`` to the
  first 200 of ``GET /health``, polled every millisecond.
* service: the preview pool is the single port P, so a probe thread can poll the child's
  ``/health`` every millisecond from before the upload: the child's first answer is
  known within a millisecond. Upload (JSON files) then ``launch`` with ``wait: true``
  (returns once ``running``); total = upload + launch. The service's readiness gap is
  the ``running`` status event's timestamp minus the child's first answer (the event's
  timestamp has millisecond resolution); the launch response's arrival minus the first
  answer is given too.

Runs alternate bare / service, after one unmeasured warm-up of each; medians of RUNS.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import statistics
import subprocess
import tempfile
import threading
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from ..harness import EXAMPLE_APP, PYTHON, ServiceServer, free_port, kill_group, log

RUNS = 15  # single runs on this 2-vCPU VM vary by ±20 %


class FirstAnswer(threading.Thread):
    """Polls ``GET /health`` on a port every ``interval`` s; ``at_ns``: first 200."""

    def __init__(self, port: int, interval: float = 0.001) -> None:
        super().__init__(daemon=True)
        self.port = port
        self.interval = interval
        self.at_ns: int | None = None
        self.stop = threading.Event()
        self.request = (
            f"GET /health HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nConnection: close\r\n\r\n"
        ).encode()

    def run(self) -> None:
        while not self.stop.is_set():
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=1) as sock:
                    sock.sendall(self.request)
                    answer = sock.recv(64)
                    if answer.startswith(b"HTTP/1.1 200"):
                        self.at_ns = time.time_ns()
                        return
            except OSError:
                pass
            time.sleep(self.interval)

    def wait(self, timeout: float) -> int | None:
        self.join(timeout)
        self.stop.set()
        return self.at_ns


def _example_files() -> dict[str, str]:
    return {
        str(path.relative_to(EXAMPLE_APP)): path.read_text()
        for path in EXAMPLE_APP.rglob("*")
        if path.is_file() and "__pycache__" not in path.parts
    }


def bare_start(workdir: Path, port: int, python: str = PYTHON, root_path: bool = True) -> float:
    """Spawn the example app like the service does and time its first 200 (ms)."""
    env = {
        "PATH": f"{Path(python).parent}:/usr/local/bin:/usr/bin:/bin",
        "HOME": str(workdir),
        "LANG": "C.UTF-8",
        "PYTHONUNBUFFERED": "1",
        "PYTHONDONTWRITEBYTECODE": "1",
        "PORT": str(port),
    }
    probe = FirstAnswer(port)
    began = time.time_ns()
    process = subprocess.Popen(
        [
            python,
            "-m",
            "uvicorn",
            "app.main:app",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            *(["--root-path", "/api/generations/bare/preview/proxy"] if root_path else []),
        ],
        cwd=workdir,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        start_new_session=True,
    )
    drain = [
        threading.Thread(target=pipe.read, daemon=True) for pipe in (process.stdout, process.stderr)
    ]
    for thread in drain:
        thread.start()
    try:
        probe.start()
        first = probe.wait(30)
        if first is None:
            raise RuntimeError("the bare app did not answer within 30 s")
        return (first - began) / 1e6
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(5)
        except subprocess.TimeoutExpired:
            kill_group(process.pid)
            process.wait()


def _parse_ts(text: str) -> int:
    moment = datetime.strptime(text, "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=UTC)
    return int(moment.timestamp() * 1e9)


def service_start(service: ServiceServer, port: int, files: dict[str, str]) -> dict[str, float]:
    probe = FirstAnswer(port)
    probe.start()
    began = time.time_ns()
    gid = service.upload(files)
    uploaded = time.time_ns()
    data = service.launch(gid)
    answered = time.time_ns()
    first = probe.wait(5)
    try:
        if data["port"] != port or first is None:
            raise RuntimeError(f"unexpected launch: port {data['port']}, first answer {first}")
        events = service.http.get(
            f"/api/generations/{gid}/preview/logs", params={"source": "system", "limit": 100}
        ).json()["events"]
        running = next(e for e in events if e.get("status") == "running")
        spawned = next(e for e in events if e["message"].startswith("process started"))
        spawned_ns = _parse_ts(spawned["timestamp"])
        return {
            "to_spawn_ms": (spawned_ns - uploaded) / 1e6,
            "spawn_to_first_answer_ms": (first - spawned_ns) / 1e6,
            "upload_ms": (uploaded - began) / 1e6,
            "launch_ms": (answered - uploaded) / 1e6,
            "total_ms": (answered - began) / 1e6,
            "first_answer_ms": (first - uploaded) / 1e6,
            "gap_event_ms": (_parse_ts(running["timestamp"]) - first) / 1e6,
            "gap_response_ms": (answered - first) / 1e6,
            "ready_message": running["message"],
        }
    finally:
        service.stop(gid)


def _median(runs: list[dict[str, float]], key: str) -> float:
    return round(statistics.median(run[key] for run in runs), 1)


def run(*, quick: bool = False, **_: Any) -> dict[str, Any]:
    runs = 5 if quick else RUNS
    port = free_port()
    files = _example_files()
    workdir = Path(tempfile.mkdtemp(prefix="bare-launch-"))
    shutil.copytree(EXAMPLE_APP, workdir / "app-root")
    bare_dir = workdir / "app-root"
    bare: list[float] = []
    served: list[dict[str, float]] = []
    try:
        with ServiceServer(
            extra_env={"PREVIEW_PORT_MIN": str(port), "PREVIEW_PORT_MAX": str(port)}
        ) as service:
            log("launch: warm-up")
            bare_start(bare_dir, port)
            service_start(service, port, files)
            for i in range(runs):
                log(f"launch: run {i + 1}/{runs}")
                bare.append(bare_start(bare_dir, port))
                served.append(service_start(service, port, files))
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    bare_median = round(statistics.median(bare), 1)
    total = _median(served, "total_ms")
    launch_only = _median(served, "launch_ms")
    return {
        "scenario": "launch",
        "runs": runs,
        "bare_first_200_ms": {"median": bare_median, "all": [round(x, 1) for x in bare]},
        "service": {
            "upload_ms": _median(served, "upload_ms"),
            "launch_to_running_ms": launch_only,
            "total_ms": total,
            "child_first_answer_after_upload_ms": _median(served, "first_answer_ms"),
            "launch_call_to_process_started_ms": _median(served, "to_spawn_ms"),
            "process_started_to_first_answer_ms": _median(served, "spawn_to_first_answer_ms"),
            "gap_first_answer_to_running_event_ms": _median(served, "gap_event_ms"),
            "gap_first_answer_to_launch_response_ms": _median(served, "gap_response_ms"),
            "gap_event_ms_all": [round(r["gap_event_ms"], 1) for r in served],
            "total_ms_all": [round(r["total_ms"], 1) for r in served],
            "ready_messages": [r["ready_message"] for r in served],
        },
        "ratio_total_to_bare": round(total / bare_median, 2),
        "ratio_launch_to_bare": round(launch_only / bare_median, 2),
    }
