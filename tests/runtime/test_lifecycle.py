"""A preview's life through a real service: launch, readiness, stop, crash, kill paths."""

from __future__ import annotations

import socket
import ssl
from dataclasses import replace

import psutil
import pytest
import trio

from preview import Settings
from preview.runtime import shared_tls_context, supervision

from ..conftest import (
    SERVER_COMMAND,
    Service,
    auth,
    eventually,
    example_files,
    read_sse,
    running_service,
    server_app,
)


async def test_example_app_launch_running_logs_stop(service: Service) -> None:
    with trio.fail_after(60):
        gid = await service.upload(example_files())
        launched = await service.launch(gid)
        assert launched.status_code == 200, launched.text
        body = launched.json()
        assert body["status"] == "running"
        assert body["previewToken"].startswith("pvt_")
        label = body["previewInstanceId"].replace("_", "-")
        assert body["baseUrl"] == f"http://{label}.localhost:{service.url.rsplit(':', 1)[1]}"
        pid = body["processId"]
        assert psutil.pid_exists(pid)

        app_answer = await service.app_get(body, "/api/items")
        assert app_answer.json() == [{"id": 1, "name": "first item"}]

        status = await service.status(gid)
        assert status["status"] == "running"
        assert status["healthStatus"] == "healthy"
        assert status["processId"] == pid
        assert status["memoryMb"] > 1

        stopped = await service.stop(gid)
        assert stopped.status_code == 200
        assert stopped.json()["status"] == "stopped"
        assert stopped.json()["stoppedAt"].endswith("Z")
        assert not psutil.pid_exists(pid)

        events = await service.history(gid)
        messages = [e["message"] for e in events]
        assert [e["id"] for e in events] == list(range(1, len(events) + 1))
        assert any("hello app loaded with 1 item(s)" in m for m in messages)
        assert any(
            m.startswith("INFO:hello:handled GET /") and m.endswith("/api/items -> 200")
            for m in messages
        )
        assert any(m.startswith("ready in ") for m in messages)
        assert any(m.startswith("process started (pid ") for m in messages)
        startup = next(e for e in events if "Uvicorn running on" in e["message"])
        assert startup["level"] == "INFO" and startup["source"] == "app"
        assert events[-1]["status"] == "stopped"
        final = await service.status(gid)
        assert final["status"] == "stopped" and final["stopReason"] == "stopped by the user"
        assert not (service.settings.previews_dir / body["previewInstanceId"]).exists()


async def test_crash_during_start_fails_with_cause_and_frees_port(service: Service) -> None:
    with trio.fail_after(30):
        files = server_app(before_serving="import sqlmodel_missing_module")
        files["requirements.txt"] = "fastapi\n"
        gid = await service.upload(files)
        body = (await service.launch(gid, command=SERVER_COMMAND)).json()
        assert body["status"] == "failed"
        assert body["exitCode"] == 1
        assert body["errorMessage"].startswith(
            "ModuleNotFoundError: No module named 'sqlmodel_missing_module'"
        )
        assert "add 'sqlmodel_missing_module' to requirements.txt" in body["errorMessage"]
        assert any("Traceback" in line for line in body["errorLines"])
        stored = await service.status(gid)  # from the row, once the runtime is gone
        assert stored["errorLines"] == body["errorLines"]
        assert stored["errorMessage"] == body["errorMessage"]
        port = body["port"]
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", port))  # the port is free again
        assert port not in service.supervisor.ports.in_use

        good = await service.upload(server_app())
        relaunched = (await service.launch(good, command=SERVER_COMMAND)).json()
        assert relaunched["status"] == "running"  # on the port released longest ago
        assert (await service.stop(good)).json()["status"] == "stopped"


async def test_the_cause_of_a_failed_start_is_read_to_the_end_of_the_childs_output(
    unsandboxed: Settings, service: Service
) -> None:
    """The child is seen dead before its last lines are read (here a grandchild that
    shares its stderr prints the traceback's end after the child exited): the cause is
    looked for once the pipes have ended, not in what had been read at the exit.
    (Unsandboxed: in a sandbox, the pid namespace ends with the child, grandchild too.)"""
    files = server_app(
        before_serving="""
        import subprocess
        subprocess.Popen([sys.executable, "late.py"])
        sys.exit(1)
        """,
        **{
            "late.py": "import sys, time\n"
            "time.sleep(0.3)\n"
            "sys.stderr.write('Traceback (most recent call last):\\n')\n"
            "sys.stderr.write(\"ModuleNotFoundError: No module named 'late_missing'\\n\")\n"
        },
    )
    with trio.fail_after(30):
        gid = await service.upload(files)
        body = (await service.launch(gid, command=SERVER_COMMAND)).json()
        assert body["status"] == "failed" and body["exitCode"] == 1
        assert body["errorMessage"].startswith(
            "ModuleNotFoundError: No module named 'late_missing'"
        ), body["errorMessage"]


async def test_an_app_ending_at_its_stdins_end_runs_on_as_in_a_terminal(
    service: Service,
) -> None:
    """A watcher that ends at its stdin's end (Tailwind's and esbuild's ``--watch``:
    "stopped because stdin was closed") ended jakswa's bun-hono-ssr dev script, which
    stops when any of its commands does: its stdin was /dev/null. The app's stdin is
    held open, as its author's terminal held it, and never written."""
    files = server_app(
        after_bind="""
        import threading
        threading.Thread(target=server.serve_forever, daemon=True).start()
        say("serving until stdin ends")
        sys.stdin.read()
        say("stdin ended", sys.stderr)
        sys.exit(0)
        """
    )
    with trio.fail_after(30):
        gid = await service.upload(files)
        body = (await service.launch(gid, command=SERVER_COMMAND)).json()
        assert body["status"] == "running", body
        runtime = service.supervisor.get(body["previewInstanceId"])
        assert runtime is not None and runtime.process is not None
        assert runtime.process.poll() is None
        assert (await service.stop(gid)).status_code == 200


async def test_crash_while_running_is_failed_with_exit_code(service: Service) -> None:
    files = server_app(
        after_bind="""
        import threading
        def crash():
            while not os.path.exists("crash"):  # once it runs (the test says when)
                time.sleep(0.01)
            say("about to crash", sys.stderr)
            os._exit(3)
        threading.Thread(target=crash).start()
        """
    )
    with trio.fail_after(30):
        gid = await service.upload(files)
        body = (await service.launch(gid, command=SERVER_COMMAND)).json()
        assert body["status"] == "running"
        runtime = service.supervisor.get(body["previewInstanceId"])
        assert runtime is not None
        await trio.Path(runtime.temp_dir / "crash").write_text("")
        async with service.client.stream(
            "GET", f"/api/generations/{gid}/preview/logs/stream", headers=auth()
        ) as response:
            events = await read_sse(response)
        assert events[-1][0] == "end"
        assert events[-1][1]["status"] == "failed"
        status = await service.status(gid)
        assert status["status"] == "failed" and status["exitCode"] == 3
        assert status["errorMessage"].startswith("exited with code 3")


async def test_child_ignoring_sigterm_is_killed_after_grace(service: Service) -> None:
    files = server_app(before_serving="signal.signal(signal.SIGTERM, signal.SIG_IGN)")
    with trio.fail_after(30):
        gid = await service.upload(files)
        body = (await service.launch(gid, command=SERVER_COMMAND)).json()
        began = trio.current_time()
        stopped = (await service.stop(gid)).json()
        took = trio.current_time() - began
        assert stopped["status"] == "stopped"
        assert stopped["exitCode"] == -9
        assert took >= service.settings.stop_grace
        assert not psutil.pid_exists(body["processId"])
        messages = [e["message"] for e in await service.history(gid)]
        assert "stopped (SIGKILL)" in messages  # a stop, not a crash, even when forced


async def test_grandchildren_are_killed_too(service: Service) -> None:
    files = server_app(
        before_serving="""
        import subprocess
        same_group = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(600)"])
        stubborn = "import signal as s, time; s.signal(s.SIGTERM, s.SIG_IGN); time.sleep(600)"
        own_session = subprocess.Popen([sys.executable, "-c", stubborn], start_new_session=True)
        """
    )
    with trio.fail_after(30):
        gid = await service.upload(files)
        body = (await service.launch(gid, command=SERVER_COMMAND)).json()
        assert body["status"] == "running"
        # Host pids (a sandbox's own pid namespace numbers them differently).
        grandchildren = _pids_running(body["processId"], "time.sleep(600)")
        assert len(grandchildren) == 2
        await service.stop(gid)
        for pid in grandchildren:
            assert not psutil.pid_exists(pid) or psutil.Process(pid).status() == "zombie"


async def test_startup_timeout_fails_and_tears_down(service: Service, settings) -> None:
    object.__setattr__(settings, "startup_timeout", 1.0)
    files = server_app(before_serving="time.sleep(600)")
    with trio.fail_after(30):
        gid = await service.upload(files)
        body = (await service.launch(gid, command=SERVER_COMMAND)).json()
        assert body["status"] == "failed"
        assert "did not answer HTTP" in body["errorMessage"]
        assert not psutil.pid_exists(body["processId"])


async def test_foreign_listener_on_pool_port_is_skipped(service: Service, settings) -> None:
    with socket.socket() as foreign, trio.fail_after(30):
        foreign.bind(("127.0.0.1", settings.port_min))
        foreign.listen()
        gid = await service.upload(server_app())
        body = (await service.launch(gid, command=SERVER_COMMAND)).json()
        assert body["status"] == "running"
        assert body["port"] == settings.port_min + 1
        await service.stop(gid)


async def test_closing_the_service_tears_down_every_child(service: Service) -> None:
    with trio.fail_after(60):
        pids = []
        for user in ("u1", "u2"):
            gid = await service.upload(server_app(), user=user)
            body = (await service.launch(gid, user=user, command=SERVER_COMMAND)).json()
            assert body["status"] == "running"
            pids.append(body["processId"])
        await service.supervisor.aclose()
        assert not any(psutil.pid_exists(pid) for pid in pids)
        assert service.supervisor.runtimes == ()
        rows = await service.store.unfinished_previews()
        assert rows == []


async def test_memory_limit_applies_to_the_child(service: Service, settings) -> None:
    object.__setattr__(settings, "memory_limit_mb", 200)
    files = server_app(before_serving="hog = bytearray(400 * 1024 * 1024)")
    with trio.fail_after(30):
        gid = await service.upload(files)
        body = (await service.launch(gid, command=SERVER_COMMAND)).json()
        assert body["status"] == "failed"
        if service.supervisor.isolation.complete:  # a memory cgroup
            assert body["errorMessage"] == "memory limit of 200 MiB exceeded"
        else:  # an address-space limit
            assert body["errorMessage"] == "MemoryError"


async def test_a_cooperative_child_is_stopped_without_waiting_for_any_deadline(
    service: Service, settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Nothing in the teardown may sit out a timer when the child exits on SIGTERM:
    # neither the grace period, nor the pipe drain, nor the heartbeat. Both made 10 s,
    # so that the bound below leaves a loaded machine room and still tells.
    object.__setattr__(settings, "stop_grace", 10.0)
    monkeypatch.setattr(supervision, "READERS_DRAIN", 10.0)
    with trio.fail_after(30):
        gid = await service.upload(server_app())
        await service.launch(gid, command=SERVER_COMMAND)
        began = trio.current_time()
        stopped = (await service.stop(gid)).json()
        assert stopped["exitCode"] == -15  # the raw code stays in the details
        assert trio.current_time() - began < 8
        messages = [e["message"] for e in await service.history(gid)]
        assert "stopped (SIGTERM)" in messages
        assert not any("killed by" in m for m in messages)


async def test_a_command_naming_a_missing_script_fails_with_that_reason(
    service: Service,
) -> None:
    with trio.fail_after(30):
        gid = await service.upload(server_app())
        body = (await service.launch(gid, command=["{python}", "server_missing.py"])).json()
        assert body["status"] == "failed" and body["exitCode"] == 2
        # The reason, with the path as the user wrote it (no host path), not "exit code 2".
        assert body["errorMessage"] == (
            "can't open file 'server_missing.py': No such file or directory"
        )


async def test_readiness_and_health_checks_build_no_tls_context(
    settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    """httpx builds a TLS context per client (CA bundle loaded: 15-60 ms of the event
    loop here); the clients that call the child share the service's one."""
    built: list[int] = []
    build = ssl.create_default_context

    def counted(*args, **kwargs) -> ssl.SSLContext:
        built.append(1)
        return build(*args, **kwargs)

    async with running_service(replace(settings, health_interval=0.05)) as service:
        with trio.fail_after(30):
            monkeypatch.setattr(ssl, "create_default_context", counted)
            gid = await service.upload(server_app())
            launched = await service.launch(gid, command=SERVER_COMMAND)
            runtime = service.supervisor.get(launched.json()["previewInstanceId"])
            assert runtime is not None
            first = runtime.state.last_health_check
            await eventually(lambda: runtime.state.last_health_check not in (None, first))
            assert built == []
            assert (await service.stop(gid)).status_code == 200


def test_the_clients_tls_context_verifies_and_trusts_no_authority() -> None:
    """The service's clients speak plain HTTP to its children; their one TLS context
    loads no CA bundle (1.3 MiB of idle RSS), so a TLS call would fail, not pass."""
    context = shared_tls_context()
    assert context is shared_tls_context()
    assert context.verify_mode == ssl.CERT_REQUIRED and context.check_hostname
    assert context.cert_store_stats()["x509_ca"] == 0


_HEALTH_APP = """
import os
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

class Handler(BaseHTTPRequestHandler):
    def do_GET(self):
        code = 200 if self.path == "/healthz" and os.path.exists("healthy") else 404
        self.send_response(code); self.send_header("Content-Length", "0"); self.end_headers()
        print("GET", self.path, code, flush=True)
    def log_message(self, *args):
        pass

# A Flask-style declaration the source discovery reads: @app.get("/healthz")
ThreadingHTTPServer(("127.0.0.1", int(os.environ["PORT"])), Handler).serve_forever()
"""


async def test_health_uses_the_apps_own_path_and_counts_4xx_as_unhealthy(
    settings,
) -> None:
    from preview.runtime import default_health_path

    routes = "from fastapi import FastAPI\napp = FastAPI()\n@app.get('/healthz')\ndef h(): ...\n"
    assert default_health_path({"app.py": routes.encode()}) == "/healthz"
    assert default_health_path({"app.py": b"print('no routes')"}) is None

    fast = replace(settings, health_interval=0.05)
    async with running_service(fast) as service:
        with trio.fail_after(30):
            flask_like = {
                "server.py": _HEALTH_APP,
                "routes.py": routes,
            }
            gid = await service.upload(flask_like)
            body = (await service.launch(gid, command=SERVER_COMMAND)).json()
            assert body["status"] == "running", body
            assert body["healthPath"] == "/healthz"
            assert body["healthCheckUrl"] == f"{body['baseUrl']}/healthz"
            runtime = service.supervisor.get(body["previewInstanceId"])
            # No 'healthy' file yet: /healthz answers 404, which is not health.
            await eventually(lambda: runtime.state.health_status == "unhealthy")
            (runtime.temp_dir / "healthy").write_text("")
            await eventually(lambda: runtime.state.health_status == "healthy")
            await service.stop(gid)

            # No health route declared: a TCP check, and no probe line in the app's log.
            gid = await service.upload(server_app(after_bind="say('up')"))
            body = (await service.launch(gid, command=SERVER_COMMAND)).json()
            assert body["healthPath"] is None and body["healthCheckUrl"] is None
            runtime = service.supervisor.get(body["previewInstanceId"])
            checked = runtime.state.last_health_check
            await eventually(lambda: runtime.state.last_health_check != checked)
            assert runtime.state.health_status == "healthy"
            await service.stop(gid)


# /healthz fails as the file "failing" says: "<n> <name>" the first n checks after it
# reads that name, "on" every check.
_FAILING_HEALTH_APP = """
import os
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

seen = {}

class Handler(BaseHTTPRequestHandler):
    def do_GET(self):
        said = open("failing").read().split() if os.path.exists("failing") else ["0", "-"]
        if said == ["on"]:
            code = 503
        else:
            count, name = int(said[0]), said[1]
            code = 503 if seen.get(name, 0) < count else 200
            seen[name] = seen.get(name, 0) + 1
        self.send_response(code); self.send_header("Content-Length", "0"); self.end_headers()
        print("GET", self.path, code, flush=True)
    def log_message(self, *args):
        pass

ThreadingHTTPServer(("127.0.0.1", int(os.environ["PORT"])), Handler).serve_forever()
"""


async def _lines_once(service: Service, gid: str, done) -> list[str]:
    """The log's messages once ``done(messages)`` holds (asked again every 50 ms)."""
    while True:
        lines = [e["message"] for e in await service.history(gid)]
        if done(lines):
            return lines
        await trio.sleep(0.05)


async def test_one_or_two_failed_checks_are_no_unhealth_three_in_a_row_are(settings) -> None:
    # Under load a check can miss its 5 s; one such is not an app that stopped answering.
    async with running_service(replace(settings, health_interval=0.05)) as service:
        with trio.fail_after(30):
            gid = await service.upload({"server.py": _FAILING_HEALTH_APP})
            launched = await service.launch(gid, command=SERVER_COMMAND, healthPath="/healthz")
            body = launched.json()
            assert body["status"] == "running", body
            runtime = service.supervisor.get(body["previewInstanceId"])
            (runtime.temp_dir / "failing").write_text("2 twice")
            bad, good = "GET /healthz 503", "GET /healthz 200"

            def recovered(lines: list[str]) -> bool:
                return bad in lines and good in lines[lines.index(bad) :]

            lines = await _lines_once(service, gid, recovered)
            assert lines.count(bad) == 2 and "health check: unhealthy" not in lines, lines
            assert runtime.state.health_status == "healthy"
            (runtime.temp_dir / "failing").write_text("on")
            await eventually(lambda: runtime.state.health_status == "unhealthy")
            lines = await _lines_once(service, gid, lambda s: "health check: unhealthy" in s)
            said = lines.index("health check: unhealthy")
            # Three in a row after the two: the third's own line may follow the word.
            assert lines[:said].count(bad) >= 2 + 2, lines
            (runtime.temp_dir / "failing").write_text("0 -")
            await eventually(lambda: runtime.state.health_status == "healthy")
            assert (await service.stop(gid)).status_code == 200


def _pids_running(root_pid: int, text: str) -> list[int]:
    """Host pids of `root_pid`'s descendants whose command line holds `text`.

    The tree also holds short-lived helpers (the sandbox's forwarder forks one per
    connection), which may be zombies or gone by the time they are read.
    """
    found = []
    for process in psutil.Process(root_pid).children(recursive=True):
        try:
            if text in " ".join(process.cmdline()):
                found.append(process.pid)
        except (psutil.ZombieProcess, psutil.NoSuchProcess):
            continue
    return found


async def test_starts_beyond_max_starting_wait_their_turn(service: Service, settings) -> None:
    """Starting apps are CPU-bound: past PREVIEW_MAX_STARTING at once, a launch waits,
    starts when a slot frees (the wait does not count against its start-up timeout),
    and can be stopped while it waits."""
    # Wide margins on both sides, for a loaded machine: the first holds the slot for 0.6
    # of the timeout (well within its own), the second then starts in half of it, so its
    # launch takes longer than the timeout in all and succeeds only if the wait is free.
    timeout = 10.0
    object.__setattr__(settings, "startup_timeout", timeout)
    service.supervisor._start_slots.total_tokens = 1
    gated = server_app(before_serving="while not os.path.exists('go'): time.sleep(0.01)")
    slow = server_app(before_serving=f"time.sleep({timeout / 2})")
    with trio.fail_after(90):
        first = await service.upload(gated)
        second = await service.upload(slow)
        third = await service.upload(server_app())
        a = (await service.launch(first, command=SERVER_COMMAND, tier="pro", wait=False)).json()
        await _until_status(service, first, lambda s: s.get("processId") is not None)
        second_launched = trio.current_time()
        await service.launch(second, command=SERVER_COMMAND, tier="pro", wait=False)
        await service.launch(third, command=SERVER_COMMAND, tier="pro", wait=False)
        await _until_status(service, second, lambda s: s["phase"] == "waiting to start")
        assert (await service.stop(third)).json()["status"] == "stopped"  # while waiting
        await trio.sleep(timeout * 0.6)  # the second waits this long in the queue...
        runtime = service.supervisor.get(a["previewInstanceId"])
        assert runtime is not None
        await trio.Path(runtime.temp_dir / "go").write_text("")
        # ... then takes half its timeout to start: more than all of it since its launch.
        await _until_status(service, second, lambda s: s["status"] != "starting")
        assert trio.current_time() - second_launched > timeout
        assert (await service.status(second))["status"] == "running"
        assert (await service.status(first))["status"] == "running"
        messages = [e["message"] for e in await service.history(second)]
        assert any(m.startswith("waiting to start: 1 other previews") for m in messages)


async def _until_status(service: Service, gid: str, check) -> None:
    while not check(await service.status(gid)):  # noqa: ASYNC110 (state across a socket)
        await trio.sleep(0.02)
