"""Servers under test, started as subprocesses, and the measuring helpers around them.

* :class:`ServiceServer`: ``python -m preview serve --bind 127.0.0.1:<port>`` with its data
  dir in a temp dir, a fixed JWT secret and a token from ``preview token bench --tier
  pro``. Runs from the temp dir, so the repository's ``hypercorn.toml`` (access log to
  stdout) is not picked up; a small TOML raises the listen backlog instead.
* :class:`BaselineServer`: ``uvicorn benchmarks.baseline.app:app`` (no access log).

Both offer the same :class:`Target` interface to the scenarios: launch the emitter,
the stream's path and headers, start emitting, status, stop. Everything they start is
stopped in ``close()`` (the service's children by process group too, should the service
itself not stop them).
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
from pathlib import Path
from typing import Any

import httpx
import psutil

from preview import Settings
from preview.runtime import ports
from preview.sandbox.bubblewrap import SOCKET_NAME

from .loadclient import raise_nofile

ROOT = Path(__file__).resolve().parent.parent
BENCH_DIR = Path(__file__).resolve().parent
EMITTER = BENCH_DIR / "emitter.py"
EXAMPLE_APP = ROOT / "examples" / "hello-fastapi"
PYTHON = sys.executable
JWT_SECRET = "benchmark-secret-" + "b" * 40
STREAMS_PER_USER = "100000"  # PREVIEW_MAX_STREAMS_PER_USER of the service under test


def log(message: str) -> None:
    print(f"[bench {time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def free_port_block(size: int) -> int:
    """A block of free ports for one service's previews (below the tests' blocks)."""
    return ports.free_port_block(size, lowest=10000)


def wait_for_port(port: int, timeout: float, process: subprocess.Popen | None = None) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process is not None and process.poll() is not None:
            raise RuntimeError(f"server exited with {process.returncode} before listening")
        with socket.socket() as probe:
            if probe.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.02)
    raise TimeoutError(f"nothing listening on 127.0.0.1:{port} after {timeout:g} s")


def kill_group(pid: int | None) -> None:
    if not pid:
        return
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pid, signal.SIGKILL)


class CpuMeter:
    """CPU seconds (user + system, all threads) and RSS of one process."""

    def __init__(self, pid: int) -> None:
        self.process = psutil.Process(pid)

    def cpu(self) -> float:
        times = self.process.cpu_times()
        return times.user + times.system

    def rss(self) -> int:
        return self.process.memory_info().rss


class RssSampler:
    """Peak RSS of a process, sampled every ``interval`` s in a thread."""

    def __init__(self, pid: int, interval: float = 0.1) -> None:
        self.process = psutil.Process(pid)
        self.interval = interval
        self.peak = 0
        self.first = self.process.memory_info().rss
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def __enter__(self) -> RssSampler:
        self._thread.start()
        return self

    def _run(self) -> None:
        while not self._stop.is_set():
            with contextlib.suppress(psutil.Error):
                self.peak = max(self.peak, self.process.memory_info().rss)
            self._stop.wait(self.interval)

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()


class Target:
    """What a scenario needs of a server that fans a child's lines out over SSE."""

    name = ""
    port = 0
    pid = 0
    child_port = 0
    child_pid = 0

    def stream_path(self) -> str:
        raise NotImplementedError

    def stream_headers(self) -> dict[str, str]:
        return {}

    def status_path(self) -> str:
        raise NotImplementedError

    def launch_emitter(self) -> None:
        raise NotImplementedError

    def stop_preview(self) -> None:
        raise NotImplementedError

    def status(self) -> dict[str, Any]:
        raise NotImplementedError

    def close(self) -> None:
        raise NotImplementedError

    def start_emitting(self, n: int, rate: float, pad: int = 0) -> int:
        """Ask the child to print ``n`` lines at ``rate``/s; returns time_ns just before."""
        began = time.time_ns()
        with self.child_connection() as sock:
            sock.sendall(
                f"GET /start?n={n}&rate={rate}&pad={pad} HTTP/1.1\r\n"
                f"Host: 127.0.0.1\r\nConnection: close\r\n\r\n".encode()
            )
            answer = sock.recv(1024)
        if not answer.startswith(b"HTTP/1.1 200") and not answer.startswith(b"HTTP/1.0 200"):
            raise RuntimeError(f"emitter refused /start: {answer[:100]!r}")
        return began

    def child_connection(self) -> socket.socket:
        """A connection to the child's HTTP server."""
        return socket.create_connection(("127.0.0.1", self.child_port), timeout=10)

    def __enter__(self) -> Target:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class ServiceServer(Target):
    """The preview service under test (one per scenario, fresh data dir)."""

    name = "service"

    def __init__(self, *, db_url: str = "", extra_env: dict[str, str] | None = None) -> None:
        raise_nofile()  # inherited by the server: it can hold as many sockets as we can
        self.tmp = Path(tempfile.mkdtemp(prefix="preview-bench-"))
        self.port = free_port()
        first = free_port_block(8)
        self.env = {k: v for k, v in os.environ.items() if not k.startswith("PREVIEW_")}
        self.env.update(
            {
                "PREVIEW_DATA_DIR": str(self.tmp / "data"),
                "PREVIEW_JWT_SECRET": JWT_SECRET,
                "PREVIEW_PORT_MIN": str(first),
                "PREVIEW_PORT_MAX": str(first + 7),
                "PREVIEW_MAX_INSTANCES_PRO": "8",
                # The fan-out scenarios hold up to 10,000 streams, all of one user
                # (the default bound is 100): said in the log of every run, below.
                "PREVIEW_MAX_STREAMS_PER_USER": STREAMS_PER_USER,
                "PREVIEW_STOP_GRACE": "2",
                "PREVIEW_PYTHON": PYTHON,
                # The other scenarios measure the service around an app started with
                # PYTHON (the build scenario turns builds on).
                "PREVIEW_BUILD": "off",
                # Unsandboxed unless asked (BENCH_SANDBOX=auto: the emitter is then
                # reached through its socket); launch, proxy and many set their own.
                "PREVIEW_SANDBOX": os.environ.get("BENCH_SANDBOX", "off"),
                "PREVIEW_DB_URL": db_url,
                # This checkout's service, whichever the interpreter's editable install
                # names (a worktree's runner with the main checkout's venv ran main's).
                "PYTHONPATH": os.pathsep.join(
                    p for p in (str(ROOT), os.environ.get("PYTHONPATH", "")) if p
                ),
                **(extra_env or {}),
            }
        )
        log(f"service: PREVIEW_MAX_STREAMS_PER_USER={STREAMS_PER_USER} (streams of one user)")
        config = self.tmp / "hypercorn.toml"
        config.write_text("backlog = 2048\ngraceful_timeout = 3\nkeep_alive_timeout = 75\n")
        self._log = open(self.tmp / "service.log", "wb")  # noqa: SIM115
        self.process = subprocess.Popen(
            [
                PYTHON,
                "-m",
                "preview",
                "serve",
                "--bind",
                f"127.0.0.1:{self.port}",
                "--config",
                str(config),
            ],
            cwd=self.tmp,
            env=self.env,
            stdout=self._log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        self.pid = self.process.pid
        self.started_at = time.monotonic()
        self.child_pids: list[int] = []
        self.gid = ""
        self.preview: dict[str, Any] = {}
        try:
            wait_for_port(self.port, 60, self.process)
            self.token = subprocess.run(
                [PYTHON, "-m", "preview", "token", "bench", "--tier", "pro", "--hours", "4"],
                cwd=self.tmp,
                env=self.env,
                capture_output=True,
                text=True,
                check=True,
            ).stdout.strip()
            self.http = httpx.Client(
                base_url=f"http://127.0.0.1:{self.port}",
                headers={"Authorization": f"Bearer {self.token}"},
                timeout=120,
                trust_env=False,
            )
            self._wait_ready()
        except BaseException:
            self.close()
            raise

    def _wait_ready(self) -> None:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            with contextlib.suppress(httpx.HTTPError):
                if self.http.get("/api/generations").status_code == 200:
                    return
            time.sleep(0.05)
        raise TimeoutError(
            f"the service did not answer /api/generations; its log ends: {self.log_tail(8)}"
        )

    def wait_ready_for(self, seconds: float) -> None:
        """Until the service has run ``seconds`` (a cluster node's lease: renewed for a
        whole one before it may reap)."""
        time.sleep(max(0.0, self.started_at + seconds - time.monotonic()))

    @property
    def auth(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}

    @property
    def previews_path(self) -> Path:
        """Where this service keeps its previews' directories and sockets (outside its
        data dir, named after it), as it names it; its cgroups are named after it too."""
        return Settings(data_dir=self.tmp / "data").previews_dir

    @property
    def previews_dir(self) -> Path:
        """That folder seen from here: while the service runs as root, its previews' tmpfs
        are mounted in a mount namespace of its own (``sandbox.appdir``), which its
        ``/proc/<pid>/root`` leads into; once it has exited, the host's folder."""
        path = self.previews_path
        return Path(f"/proc/{self.pid}/root") / path.relative_to("/") if self._apart() else path

    def previews_mounts(self) -> list[str]:
        """The mount points below the previews' folder where the service mounts them (its
        own namespace while it runs; the host's, where none should be left, after)."""
        table = Path(f"/proc/{self.pid if self._apart() else 'self'}/mounts")
        prefix = f"{self.previews_path}/"
        points = [line.split()[1] for line in table.read_text().splitlines()]
        return [point for point in points if point.startswith(prefix)]

    def _apart(self) -> bool:
        try:
            own = Path(f"/proc/{self.pid}/ns/mnt").stat().st_ino
        except OSError:  # it has exited
            return False
        return self.process.poll() is None and own != Path("/proc/self/ns/mnt").stat().st_ino

    @property
    def sockets_dir(self) -> Path:
        """A sandboxed preview's forwarder socket is ``<this>/<preview id>/http.sock``."""
        return self.previews_dir / ".sockets"

    def upload(self, files: dict[str, str]) -> str:
        response = self.http.post("/api/generations", json={"projectId": "bench", "files": files})
        response.raise_for_status()
        return response.json()["generationId"]

    def launch(self, gid: str, **body: Any) -> dict[str, Any]:
        response = self.http.post(
            f"/api/generations/{gid}/preview/launch", json={"wait": True, **body}
        )
        response.raise_for_status()
        data = response.json()
        if data.get("processId"):
            self.child_pids.append(data["processId"])
        if data.get("status") != "running":
            raise RuntimeError(f"launch did not reach running: {data}")
        return data

    def stop(self, gid: str) -> dict[str, Any]:
        response = self.http.delete(f"/api/generations/{gid}/preview")
        return response.json()

    # -- Target -------------------------------------------------------------------

    def launch_emitter(self) -> None:
        self.gid = self.upload({"emitter.py": EMITTER.read_text()})
        self.preview = self.launch(self.gid, command=["{python}", "emitter.py"])
        self.child_port = self.preview["port"]
        self.child_pid = self.preview["processId"]

    def child_connection(self) -> socket.socket:
        """Sandboxed (``BENCH_SANDBOX=auto``), the child's port is in its own network
        namespace: it is reached through its forwarder's socket, as the service does."""
        path = self.sockets_dir / self.preview["previewInstanceId"] / SOCKET_NAME
        if not path.exists():
            return super().child_connection()
        sock = socket.socket(socket.AF_UNIX)
        try:
            sock.settimeout(10)
            sock.connect(str(path))
        except OSError:
            sock.close()
            raise
        return sock

    def stream_path(self) -> str:
        return f"/api/generations/{self.gid}/preview/logs/stream"

    def stream_headers(self) -> dict[str, str]:
        return self.auth

    def status_path(self) -> str:
        return f"/api/generations/{self.gid}/preview/status"

    def status(self) -> dict[str, Any]:
        return self.http.get(self.status_path()).json()

    def stop_preview(self) -> None:
        if self.gid:
            with contextlib.suppress(httpx.HTTPError):
                self.stop(self.gid)

    def close(self) -> None:
        if getattr(self, "http", None) is not None:
            self.http.close()
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGINT)  # graceful: stops the previews first
            try:
                self.process.wait(20)
            except subprocess.TimeoutExpired:
                kill_group(self.process.pid)
                self.process.wait(5)
        for pid in self.child_pids:
            kill_group(pid)
        self._log.close()
        shutil.rmtree(self.tmp, ignore_errors=True)

    def log_tail(self, lines: int = 30) -> str:
        try:
            return "\n".join((self.tmp / "service.log").read_text().splitlines()[-lines:])
        except OSError:
            return ""


class BaselineServer(Target):
    """FastAPI + sse-starlette on uvicorn (benchmarks/baseline/app.py)."""

    name = "baseline"

    def __init__(self) -> None:
        raise_nofile()
        self.tmp = Path(tempfile.mkdtemp(prefix="baseline-bench-"))
        self.port = free_port()
        env = {k: v for k, v in os.environ.items() if not k.startswith("PREVIEW_")}
        env["PYTHONPATH"] = str(ROOT)
        self._log = open(self.tmp / "baseline.log", "wb")  # noqa: SIM115
        self.process = subprocess.Popen(
            [
                PYTHON,
                "-m",
                "uvicorn",
                "benchmarks.baseline.app:app",
                "--host",
                "127.0.0.1",
                "--port",
                str(self.port),
                "--no-access-log",
                "--log-level",
                "warning",
                "--backlog",
                "2048",
                "--timeout-graceful-shutdown",
                "3",
            ],
            cwd=ROOT,
            env=env,
            stdout=self._log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        self.pid = self.process.pid
        self.http = httpx.Client(
            base_url=f"http://127.0.0.1:{self.port}", timeout=60, trust_env=False
        )
        try:
            wait_for_port(self.port, 30, self.process)
        except BaseException:
            self.close()
            raise

    def launch_emitter(self) -> None:
        workdir = self.tmp / "child"
        workdir.mkdir(exist_ok=True)
        shutil.copy(EMITTER, workdir / "emitter.py")
        response = self.http.post(
            "/launch", json={"command": [PYTHON, "emitter.py"], "cwd": str(workdir)}
        )
        response.raise_for_status()
        data = response.json()
        if data["status"] != "running":
            raise RuntimeError(f"baseline launch failed: {data}")
        self.child_port, self.child_pid = data["port"], data["pid"]

    def stream_path(self) -> str:
        return "/logs/stream"

    def status_path(self) -> str:
        return "/status"

    def status(self) -> dict[str, Any]:
        return self.http.get("/status").json()

    def stop_preview(self) -> None:
        with contextlib.suppress(httpx.HTTPError):
            self.http.delete("/launch")

    def close(self) -> None:
        self.http.close()
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGINT)
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                kill_group(self.process.pid)
                self.process.wait(5)
        kill_group(self.child_pid)
        self._log.close()
        shutil.rmtree(self.tmp, ignore_errors=True)


def make_target(kind: str, **kwargs: Any) -> Target:
    return ServiceServer(**kwargs) if kind == "service" else BaselineServer()


class Profiler:
    """``py-spy record`` of a process for ``duration`` s (raw collapsed stacks)."""

    def __init__(self, pid: int, output: Path, duration: float, rate: int = 250) -> None:
        self.output = output
        exe = shutil.which("py-spy") or str(Path(PYTHON).parent / "py-spy")
        self.available = Path(exe).exists()
        self.process: subprocess.Popen | None = None
        if not self.available:
            log("py-spy not found: no profile (pip install py-spy)")
            return
        output.parent.mkdir(parents=True, exist_ok=True)
        self.process = subprocess.Popen(
            [
                exe,
                "record",
                "--pid",
                str(pid),
                "--rate",
                str(rate),
                "--duration",
                str(max(1, round(duration))),
                "--format",
                "raw",
                "--nonblocking",
                "--output",
                str(output),
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.kill()
            self.process.wait()

    def finish(self) -> dict[str, Any] | None:
        """Stop recording now (py-spy writes its output on SIGINT) and summarise."""
        if self.process is None:
            return None
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGINT)
        try:
            self.process.wait(30)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        if not self.output.exists():
            return None
        return summarise_profile(self.output)


def _frame_name(frame: str) -> str:
    """``publish (preview/logs/broadcast.py:171)`` → ``preview/logs/broadcast.py:publish``."""
    name, _, where = frame.partition(" (")
    path = where.rstrip(")").rsplit(":", 1)[0]
    for marker in ("site-packages/", "/work/main/", "lib/python3.11/"):
        if marker in path:
            path = path.split(marker, 1)[1]
    return f"{path}:{name}"


def _package(name: str) -> str:
    path = name.split(":", 1)[0]
    if path.startswith("preview/"):
        return path.removesuffix(".py")
    if "/" not in path:
        return "stdlib:" + path.removesuffix(".py").strip("<>")
    return path.split("/", 1)[0]


# Leaves where a thread waits rather than works (py-spy cannot always tell in this VM).
IDLE_LEAVES = (
    "trio/_core/_thread_cache.py:WorkerThread._work",
    "trio/_core/_io_epoll.py:EpollIOManager.get_events",
    "threading.py:Condition.wait",
    "threading.py:Event.wait",
)


# Frames every sample of a thread goes through: left out of the inclusive ranking.
ROOT_FRAMES = (
    "<frozen runpy>:",
    "preview/__main__.py:",
    "preview/cli.py:main",
    "preview/cli.py:_cmd_serve",
    "trio/_core/_run.py:run",
    "trio/_core/_run.py:unrolled_run",
    "threading.py:Thread.",
    "trio/_core/_thread_cache.py:WorkerThread.",
    "outcome/_impl.py:capture",
    "trio/_threads.py:to_thread_run_sync.<locals>.worker_fn",
)


def summarise_profile(path: Path, top: int = 25) -> dict[str, Any]:
    """Self and inclusive shares of the busy samples, per function (lines merged), and
    self time per package (``preview/<module>`` for the service's own code). Samples of
    threads waiting (epoll, idle worker threads) are counted apart as ``idle``."""
    self_counts: dict[str, int] = {}
    incl_counts: dict[str, int] = {}
    package_counts: dict[str, int] = {}
    total = idle = 0
    for line in path.read_text().splitlines():
        stack, _, count_text = line.rpartition(" ")
        if not stack or not count_text.isdigit():
            continue
        count = int(count_text)
        frames = [f for f in stack.split(";") if not f.startswith(("process ", "thread "))]
        if not frames:
            continue
        names = [_frame_name(f) for f in frames]
        if names[-1] in IDLE_LEAVES:
            idle += count
            continue
        total += count
        self_counts[names[-1]] = self_counts.get(names[-1], 0) + count
        package = _package(names[-1])
        package_counts[package] = package_counts.get(package, 0) + count
        for name in set(names):
            if not name.startswith(ROOT_FRAMES):
                incl_counts[name] = incl_counts.get(name, 0) + count

    def ranked(counts: dict[str, int]) -> list[list[Any]]:
        items = sorted(counts.items(), key=lambda item: -item[1])[:top]
        return [[name, round(100 * n / total, 1)] for name, n in items]

    return {
        "samples": total,
        "idle_samples": idle,
        "self": ranked(self_counts),
        "inclusive": ranked(incl_counts),
        "packages": ranked(package_counts),
    }


def dumps(data: Any) -> str:
    return json.dumps(data, separators=(",", ":"), default=str)


def origin_cookie(service: ServiceServer, gid: str, token: str) -> tuple[str, str]:
    """The preview's origin (host) and its session cookie, as a browser gets them."""
    ticket = service.http.post(
        f"/api/generations/{gid}/preview/ticket", headers={"X-Preview-Token": token}
    )
    ticket.raise_for_status()
    url = urllib.parse.urlsplit(ticket.json()["url"])
    entered = service.http.get(f"{url.path}?{url.query}", headers={"Host": url.netloc})
    assert entered.status_code == 303, entered.text
    return url.netloc, entered.headers["set-cookie"].split(";", 1)[0]
