"""Scenario 3, launch: upload → launch → ``running`` for examples/hello-fastapi, by a
service that runs it unsandboxed and by one that sandboxes it (``PREVIEW_SANDBOX=off``
and ``auto``, side by side in the same process), against the same app's bare
spawn-to-first-200 outside the service.

* bare: ``python -m uvicorn app.main:app --host 127.0.0.1 --port P --root-path <prefix>``
  (the service's own default command) in a copy of the app; time from ``Popen`` to the
  first 200 of ``GET /health``, polled every millisecond.
* service: each service's preview pool is a single port, so a probe thread can poll the
  child's ``/health`` from before the upload and the child's first answer is known
  within a poll. Unsandboxed, the probe connects to the port every millisecond (a
  refused loopback connect costs microseconds). Sandboxed, the app's port is inside
  its own network namespace: as root (this machine), the probe thread joins that
  namespace (``setns``, once the new preview's bwrap has made it) and polls the port
  there every millisecond exactly as unsandboxed. Otherwise it sends its request
  through the preview's forwarder socket (``<previews dir>/.sockets/<id>/http.sock``)
  every SOCKET_PROBE_INTERVAL s: each attempt there forks the forwarder inside the
  sandbox, on the CPU the starting app needs, so that probe slows what it measures
  (at 5 ms by 5-15 ms a launch). Upload (JSON files) then ``launch``
  with ``wait: true`` (returns once ``running``); total = upload + launch. The
  readiness gap is the ``running`` status event's timestamp minus the child's first
  answer (the event's timestamp has millisecond resolution); the launch response's
  arrival minus the first answer is given too. So is the app's own "Uvicorn running on"
  line to the ``running`` event, which needs no probe and reads alike in both modes.

Every run is bare, then the two services in an order that alternates from run to run,
after one unmeasured warm-up of each; medians of RUNS. The sandbox's cost is the
sandboxed total minus the unsandboxed one, as the difference of the medians and as the
median of the per-run differences (each pair ran back to back, at the machine's speed
of the moment).
"""

from __future__ import annotations

import contextlib
import ctypes
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

from preview.sandbox.bubblewrap import SOCKET_NAME

from ..harness import EXAMPLE_APP, PYTHON, ServiceServer, free_port, kill_group, log

RUNS = 41  # single runs on this 2-vCPU VM vary by ±20 %, and the sandbox pairs by more
SOCKET_PROBE_INTERVAL = 0.005  # the service's own readiness probe backs off to 5 ms
MODES = {"unsandboxed": "off", "sandboxed": "auto"}  # result key -> PREVIEW_SANDBOX


class FirstAnswer(threading.Thread):
    """Polls ``GET /health`` every ``interval`` s; ``at_ns``: the first 200.

    On the host's ``127.0.0.1:port``; or, given ``service_pid`` (a sandboxing
    service's), in the network namespace of that service's preview, joined as soon as
    its bwrap has made it (root only); or, given ``sockets`` (that service's sockets
    directory) instead, through the socket of the first preview that appears there
    after the probe was made.
    """

    def __init__(
        self,
        port: int,
        interval: float = 0.001,
        sockets: Path | None = None,
        service_pid: int | None = None,
    ) -> None:
        super().__init__(daemon=True)
        self.port = port
        self.interval = interval
        self.sockets = sockets
        self.service_pid = service_pid
        self.known = set(os.listdir(sockets)) if sockets is not None and sockets.exists() else set()
        self.path: Path | None = None
        self.at_ns: int | None = None
        self.stop = threading.Event()
        self.request = (
            f"GET /health HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nConnection: close\r\n\r\n"
        ).encode()

    def _connect(self) -> socket.socket:
        if self.sockets is None:
            return socket.create_connection(("127.0.0.1", self.port), timeout=1)
        if self.path is None:
            with contextlib.suppress(OSError):
                for name in os.listdir(self.sockets):
                    candidate = self.sockets / name / SOCKET_NAME
                    if name not in self.known and candidate.exists():
                        self.path = candidate
                        break
            if self.path is None:
                raise FileNotFoundError("no forwarder socket yet")
        sock = socket.socket(socket.AF_UNIX)
        try:
            sock.settimeout(1)
            sock.connect(str(self.path))
        except OSError:
            sock.close()
            raise
        return sock

    def _enter_preview_namespace(self) -> None:
        """Wait until the service's preview has a network namespace, and join it."""
        assert self.service_pid is not None
        own = os.stat("/proc/self/ns/net").st_ino
        while not self.stop.is_set():
            for outer in _children(self.service_pid):
                for inner in _children(outer):
                    with contextlib.suppress(OSError):
                        fd = os.open(f"/proc/{inner}/ns/net", os.O_RDONLY | os.O_CLOEXEC)
                        try:
                            if os.fstat(fd).st_ino != own:
                                if _LIBC.setns(fd, _CLONE_NEWNET) != 0:
                                    raise OSError(ctypes.get_errno(), "setns")
                                return
                        finally:
                            os.close(fd)
            time.sleep(self.interval)

    def run(self) -> None:
        if self.service_pid is not None:
            self._enter_preview_namespace()
        while not self.stop.is_set():
            try:
                with self._connect() as sock:
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


_LIBC = ctypes.CDLL(None, use_errno=True)
_CLONE_NEWNET = 0x40000000


def _children(pid: int) -> list[int]:
    """The children of every thread of ``pid`` (the service forks from its loop's)."""
    found: list[int] = []
    with contextlib.suppress(OSError):
        for task in os.listdir(f"/proc/{pid}/task"):
            with contextlib.suppress(OSError), open(f"/proc/{pid}/task/{task}/children") as f:
                found += [int(child) for child in f.read().split()]
    return found


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
    argv = [
        python,
        "-m",
        "uvicorn",
        "app.main:app",
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        *(["--root-path", "/api/generations/bare/preview/proxy"] if root_path else []),
    ]
    return first_answer_ms(argv, workdir, env, port)


def first_answer_ms(argv: list[str], workdir: Path, env: dict[str, str], port: int) -> float:
    """``argv`` spawned in ``workdir`` → its first 200 at ``/health`` on ``port`` (ms);
    then its group ended."""
    probe = FirstAnswer(port)
    began = time.time_ns()
    process = subprocess.Popen(
        argv,
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


def service_start(
    service: ServiceServer, port: int, files: dict[str, str], sandboxed: bool = False
) -> dict[str, Any]:
    if sandboxed and os.geteuid() == 0:
        probe = FirstAnswer(port, service_pid=service.pid)
    elif sandboxed:
        probe = FirstAnswer(port, SOCKET_PROBE_INTERVAL, sockets=service.sockets_dir)
    else:
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
            f"/api/generations/{gid}/preview/logs", params={"limit": 200}
        ).json()["events"]
        running = next(e for e in events if e.get("status") == "running")
        system = [e for e in events if e.get("source") == "system"]
        spawned = next(e for e in system if e["message"].startswith("process started"))
        spawned_ns = _parse_ts(spawned["timestamp"])
        listening = next(
            (
                e
                for e in events
                if e.get("source") == "app" and "Uvicorn running on" in e["message"]
            ),
            None,
        )
        return {
            "isolation": data.get("isolation"),
            "to_spawn_ms": (spawned_ns - uploaded) / 1e6,
            "spawn_to_first_answer_ms": (first - spawned_ns) / 1e6,
            "upload_ms": (uploaded - began) / 1e6,
            "launch_ms": (answered - uploaded) / 1e6,
            "total_ms": (answered - began) / 1e6,
            "first_answer_ms": (first - uploaded) / 1e6,
            "gap_event_ms": (_parse_ts(running["timestamp"]) - first) / 1e6,
            "gap_response_ms": (answered - first) / 1e6,
            "gap_listening_line_ms": (
                (_parse_ts(running["timestamp"]) - _parse_ts(listening["timestamp"])) / 1e6
                if listening is not None
                else None
            ),
            "ready_message": running["message"],
        }
    finally:
        service.stop(gid)


def _median(runs: list[dict[str, Any]], key: str) -> float | None:
    values = [run[key] for run in runs if run.get(key) is not None]
    return round(statistics.median(values), 1) if values else None


def _summary(served: list[dict[str, Any]]) -> dict[str, Any]:
    return {
        "isolation": sorted({str(r["isolation"]) for r in served}),
        "upload_ms": _median(served, "upload_ms"),
        "launch_to_running_ms": _median(served, "launch_ms"),
        "total_ms": _median(served, "total_ms"),
        "child_first_answer_after_upload_ms": _median(served, "first_answer_ms"),
        "launch_call_to_process_started_ms": _median(served, "to_spawn_ms"),
        "process_started_to_first_answer_ms": _median(served, "spawn_to_first_answer_ms"),
        "gap_first_answer_to_running_event_ms": _median(served, "gap_event_ms"),
        "gap_first_answer_to_launch_response_ms": _median(served, "gap_response_ms"),
        "gap_listening_line_to_running_event_ms": _median(served, "gap_listening_line_ms"),
        "gap_event_ms_all": [round(r["gap_event_ms"], 1) for r in served],
        "total_ms_all": [round(r["total_ms"], 1) for r in served],
        "ready_messages": [r["ready_message"] for r in served],
    }


def _added(plain: list[dict[str, Any]], boxed: list[dict[str, Any]]) -> dict[str, Any]:
    """What the sandbox adds: median(sandboxed) − median(unsandboxed) per figure, and the
    median of the per-run differences of the total (the two ran back to back)."""
    keys = {
        "total_ms": "total_ms",
        "launch_to_running_ms": "launch_ms",
        "launch_call_to_process_started_ms": "to_spawn_ms",
        "process_started_to_first_answer_ms": "spawn_to_first_answer_ms",
        "gap_first_answer_to_running_event_ms": "gap_event_ms",
        "gap_listening_line_to_running_event_ms": "gap_listening_line_ms",
    }
    out: dict[str, Any] = {}
    for name, key in keys.items():
        a, b = _median(boxed, key), _median(plain, key)
        out[name] = round(a - b, 1) if a is not None and b is not None else None
    paired = [s["total_ms"] - u["total_ms"] for s, u in zip(boxed, plain, strict=True)]
    out["total_ms_paired_median"] = round(statistics.median(paired), 1)
    out["total_ms_paired_all"] = [round(x, 1) for x in paired]
    return out


def run(*, quick: bool = False, **_: Any) -> dict[str, Any]:
    runs = 5 if quick else RUNS
    ports = {mode: free_port() for mode in MODES}
    bare_port = ports["unsandboxed"]  # free whenever the bare app runs (one at a time)
    files = _example_files()
    workdir = Path(tempfile.mkdtemp(prefix="bare-launch-"))
    shutil.copytree(EXAMPLE_APP, workdir / "app-root")
    bare_dir = workdir / "app-root"
    bare: list[float] = []
    served: dict[str, list[dict[str, Any]]] = {mode: [] for mode in MODES}
    try:
        with contextlib.ExitStack() as stack:
            services = {
                mode: stack.enter_context(
                    ServiceServer(
                        extra_env={
                            "PREVIEW_PORT_MIN": str(ports[mode]),
                            "PREVIEW_PORT_MAX": str(ports[mode]),
                            "PREVIEW_SANDBOX": sandbox,
                        }
                    )
                )
                for mode, sandbox in MODES.items()
            }

            def launch(mode: str) -> dict[str, Any]:
                return service_start(
                    services[mode], ports[mode], files, sandboxed=mode == "sandboxed"
                )

            log("launch: warm-up")
            bare_start(bare_dir, bare_port)
            for mode in MODES:
                launch(mode)
            for i in range(runs):
                log(f"launch: run {i + 1}/{runs}")
                bare.append(bare_start(bare_dir, bare_port))
                for mode in list(MODES)[:: 1 if i % 2 == 0 else -1]:
                    served[mode].append(launch(mode))
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    bare_median = round(statistics.median(bare), 1)
    plain, boxed = _summary(served["unsandboxed"]), _summary(served["sandboxed"])
    return {
        "scenario": "launch",
        "runs": runs,
        "sandboxed_probe": "in its namespace, every 1 ms"
        if os.geteuid() == 0
        else f"through its socket, every {SOCKET_PROBE_INTERVAL * 1000:.0f} ms",
        "bare_first_200_ms": {"median": bare_median, "all": [round(x, 1) for x in bare]},
        "service": plain,
        "sandboxed": boxed,
        "sandbox_added_ms": _added(served["unsandboxed"], served["sandboxed"]),
        "ratio_total_to_bare": round(plain["total_ms"] / bare_median, 2),
        "ratio_launch_to_bare": round(plain["launch_to_running_ms"] / bare_median, 2),
        "ratio_sandboxed_total_to_bare": round(boxed["total_ms"] / bare_median, 2),
    }
