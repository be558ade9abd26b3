"""Fixtures: a real service (Hypercorn on port 0, SQLite file) and small child apps."""

from __future__ import annotations

import json
import os
import shutil
import tempfile
import textwrap
import threading
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from contextlib import aclosing, asynccontextmanager
from dataclasses import dataclass, field, replace
from functools import partial
from pathlib import Path
from typing import Any

import httpx
import psutil
import pytest
import trio
from hypercorn.config import Config
from hypercorn.trio import serve

from preview import Settings, create_app
from preview.auth import JWTAuthenticator
from preview.builds import EnvBuilder
from preview.runtime import free_port_block
from preview.store import Store

EXAMPLE_APP = Path(__file__).resolve().parent.parent / "examples" / "hello-fastapi"
SECRET = "test-secret-" + "x" * 40
# The fixture apps are uploads, not this project's tests: a library's own tests among them
# (fastapi_library_readme_app/tests) import packages only its preview has.
collect_ignore = ["fixtures"]

# The PostgreSQL tests' server: PREVIEW_TEST_POSTGRES_URL, else the one answering on this
# machine's 127.0.0.1:5432 (as `postgres`, to its `test` database, then `postgres`): set
# here, before any test module reads it, so that `./dev test` runs them where one answers
# (45 were skipped on a machine that had one). The report's header says which.
_PG_ENV = "PREVIEW_TEST_POSTGRES_URL"
_PG_LOOKED = "127.0.0.1:5432"


def _local_postgres() -> tuple[str, str]:
    """(its URL or "", what was found), for the report's header."""
    import psycopg  # the store's own driver

    for database in ("test", "postgres"):
        try:
            with psycopg.connect(
                host="127.0.0.1", port=5432, user="postgres", dbname=database, connect_timeout=2
            ):
                pass
        except psycopg.Error as error:
            found = str(error).strip().splitlines()[0] if str(error).strip() else "no answer"
            continue
        return f"postgresql+psycopg://postgres@{_PG_LOOKED}/{database}", "found"
    return "", found


if os.environ.get(_PG_ENV):
    _PG_SAID = f"PostgreSQL tests: on {os.environ[_PG_ENV]} ({_PG_ENV})"
else:
    _url, _found = _local_postgres()
    if _url:
        os.environ[_PG_ENV] = _url
        _PG_SAID = f"PostgreSQL tests: on {_url} (found at {_PG_LOOKED}; {_PG_ENV} sets another)"
    else:
        _PG_SAID = f"PostgreSQL tests: skipped (none at {_PG_LOOKED}: {_found}; set {_PG_ENV})"


def pytest_report_header() -> str:
    return _PG_SAID


def _run_apart(main: Callable[[], Awaitable[None]]) -> None:
    """``trio.run(main)`` in a thread of its own: a session fixture is set up where a
    test first asks for it, which may be inside that test's trio run (an async test's
    ``request.getfixturevalue``), where another ``trio.run`` on the same thread fails."""
    failed: list[BaseException] = []

    def run() -> None:
        try:
            trio.run(main)
        except BaseException as error:  # raised again in the fixture's own thread
            failed.append(error)

    thread = threading.Thread(target=run, name="session-fixture")
    thread.start()
    thread.join()
    if failed:
        raise failed[0]


@pytest.fixture(scope="session")
def migrated_database(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A SQLite database the migrations made, once a session: each test's data directory
    starts with a copy (its service's migrations then find nothing to do). Migrating
    from nothing is tested on its own (tests/store/test_store.py), and here once."""
    path = tmp_path_factory.mktemp("migrated") / "preview.db"

    async def migrate() -> None:
        with trio.fail_after(120):
            store = await Store.open(f"sqlite:///{path}")
        await store.aclose()

    _run_apart(migrate)
    assert not path.with_name(path.name + "-wal").exists()  # checkpointed on its close
    return path


@pytest.fixture(scope="session")
def interpreter_cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """uv's cache after it was asked once a session which interpreters this machine has:
    each test's environment directory starts with a copy, where that question (asked
    after every failed start of a Python app, for the remedies) would otherwise spawn
    every interpreter on the PATH again (seconds, pyenv's shims)."""
    root = tmp_path_factory.mktemp("interpreters")
    builder = EnvBuilder(Settings(data_dir=root / "data", jwt_secret=SECRET))

    async def ask() -> None:
        with trio.fail_after(300):
            assert await builder.python_versions()

    _run_apart(ask)
    return builder.root / ".uv-cache"


@pytest.fixture
def settings(tmp_path: Path, migrated_database: Path, interpreter_cache: Path) -> Settings:
    first = free_port_block(8, lowest=20000)
    (tmp_path / "data").mkdir(mode=0o700)
    shutil.copyfile(migrated_database, tmp_path / "data" / "preview.db")
    uv_cache = tmp_path / "data" / "envs" / interpreter_cache.name
    shutil.copytree(interpreter_cache, uv_cache, ignore=shutil.ignore_patterns(".lock"))
    return Settings(
        data_dir=tmp_path / "data",
        jwt_secret=SECRET,
        port_min=first,
        port_max=first + 7,
        stop_grace=1.0,
        startup_timeout=20.0,
        keepalive_interval=0.5,
        max_instances_free=1,
        max_instances_pro=3,
        # Most tests run small apps with the service's own interpreter; the build tests
        # (tests/runtime/test_build*.py) turn builds on.
        build="off",
        # The smoke check calls the apps' routes once running: the tests of it turn it on
        # (tests/runtime/test_smoke.py); elsewhere its calls would be lines of their own.
        smoke_check="off",
    )


@pytest.fixture
def open_parent() -> Iterator[Path]:
    """A directory in /tmp that the previews' own uids may traverse (tmp_path's parents
    are root's 0700: a run dir there is refused at start, as issue 64's item 1 asks)."""
    with tempfile.TemporaryDirectory(prefix="open-parent-", dir="/tmp") as made:
        os.chmod(made, 0o711)
        yield Path(made)


@pytest.fixture
def unsandboxed(settings: Settings) -> Settings:
    """PREVIEW_SANDBOX=off; applied before the ``service`` fixture starts."""
    object.__setattr__(settings, "sandbox", "off")
    return settings


async def eventually(predicate: Callable[[], bool], interval: float = 0.005) -> None:
    """Wait for a condition that lives across a socket or process and has no event.

    Always inside the caller's ``trio.fail_after``; never used in place of an event
    the code under test offers.
    """
    while not predicate():  # noqa: ASYNC110
        await trio.sleep(interval)


def token(
    user: str = "alice", *, tier: str = "free", lifetime: float = 3600, admin: bool = False
) -> str:
    authenticator = JWTAuthenticator(SECRET, session_timeout=3600)
    return authenticator.issue(user, tier=tier, lifetime=lifetime, admin=admin)


def auth(user: str = "alice", *, tier: str = "free", admin: bool = False) -> dict[str, str]:
    return {"Authorization": f"Bearer {token(user, tier=tier, admin=admin)}"}


@dataclass
class Service:
    url: str
    app: Any
    client: httpx.AsyncClient
    settings: Settings
    children: list[int] = field(default_factory=list)

    @property
    def supervisor(self):
        return self.app.extensions["preview"].supervisor

    @property
    def store(self):
        return self.app.extensions["preview"].store

    async def upload(self, files: dict[str, str], *, user: str = "alice") -> str:
        response = await self.client.post(
            "/api/generations", json={"projectId": "proj_1", "files": files}, headers=auth(user)
        )
        assert response.status_code == 201, response.text
        return response.json()["generationId"]

    async def launch(
        self, gid: str, *, user: str = "alice", tier: str = "free", wait: bool = True, **body: Any
    ) -> httpx.Response:
        # A waited launch lasts as long as its build (minutes on a loaded machine): the
        # client's 30 s read timeout must not cut it; the test's own fail_after bounds it.
        response = await self.client.post(
            f"/api/generations/{gid}/preview/launch",
            json={"wait": wait, **body},
            headers=auth(user, tier=tier),
            timeout=None if wait else httpx.USE_CLIENT_DEFAULT,
        )
        if response.status_code == 200 and response.json().get("processId"):
            self.children.append(response.json()["processId"])
        return response

    async def app_request(
        self, launched: dict[str, Any], method: str, path: str, **kwargs: Any
    ) -> httpx.Response:
        """Call a launched app directly (not through the service's proxy), the way the
        service reaches it: its sandbox's socket, or its port."""
        runtime = self.supervisor.get(launched["previewInstanceId"])
        assert runtime is not None, "the preview is not live"
        async with runtime.upstream.client(timeout=30) as client:
            return await client.request(method, runtime.upstream.url(path), **kwargs)

    async def app_get(self, launched: dict[str, Any], path: str) -> httpx.Response:
        return await self.app_request(launched, "GET", path)

    def direct_app(
        self, launched: dict[str, Any], path: str
    ) -> tuple[str, httpx.HTTPTransport | None]:
        """For a sync client (a browser script's thread): the URL of ``path`` of a launched
        app and the transport that reaches it as the service does (its sandbox's socket;
        None: TCP to its port)."""
        runtime = self.supervisor.get(launched["previewInstanceId"])
        assert runtime is not None, "the preview is not live"
        uds = runtime.upstream.socket_path
        return str(runtime.upstream.url(path)), httpx.HTTPTransport(uds=uds) if uds else None

    async def open_app_stream(self, launched: dict[str, Any]) -> trio.abc.Stream:
        """A raw connection to a launched app, as :meth:`app_get` reaches it."""
        runtime = self.supervisor.get(launched["previewInstanceId"])
        assert runtime is not None, "the preview is not live"
        if runtime.upstream.socket_path is not None:
            return await trio.open_unix_socket(runtime.upstream.socket_path)
        return await trio.open_tcp_stream("127.0.0.1", runtime.spec.port)

    async def status(self, gid: str, *, user: str = "alice") -> dict[str, Any]:
        response = await self.client.get(
            f"/api/generations/{gid}/preview/status", headers=auth(user)
        )
        assert response.status_code == 200, response.text
        return response.json()

    async def stop(self, gid: str, *, user: str = "alice") -> httpx.Response:
        return await self.client.delete(f"/api/generations/{gid}/preview", headers=auth(user))

    async def first_system_line(self, gid: str, text: str) -> str:
        """The first ``system`` event saying ``text``, from the live stream (replayed
        first); the stream's end without one fails."""
        url = f"/api/generations/{gid}/preview/logs/stream"
        # No read timeout of its own: the caller's trio.fail_after bounds the wait (a
        # loaded machine's build may leave the stream quiet past the client's 30 s).
        async with self.client.stream("GET", url, headers=auth(), timeout=None) as response:
            async for line in response.aiter_lines():
                if line.startswith("data: "):
                    event = json.loads(line[6:])
                    if event.get("source") == "system" and text in event.get("message", ""):
                        return event["message"]
        raise AssertionError(f"the stream ended without a system line saying {text!r}")

    async def history(self, gid: str, **params: Any) -> list[dict[str, Any]]:
        events: list[dict[str, Any]] = []
        after = 0
        while True:
            response = await self.client.get(
                f"/api/generations/{gid}/preview/logs",
                params={"after": after, "limit": 5000, **params},
                headers=auth(),
            )
            assert response.status_code == 200, response.text
            page = response.json()
            events.extend(page["events"])
            after = page["nextAfter"]
            if not page["hasMore"]:
                return events


# The tests' clients let an idle connection go after 2 s, well before the server's own
# keep-alive timeout closes it: a call sent on a connection the server was closing at
# that moment failed "Server disconnected without sending a response" (a stop after a
# test's quiet spell, on a loaded machine). Hypercorn's default of 5 s was not margin
# enough at load 11, where the client read an answer seconds after the server sent it (a
# launch, CI beside two corpus runs): the tests' server keeps its connections 75 s, as
# the benchmarks' and the cluster's forwarding do.
CLIENT_LIMITS = httpx.Limits(keepalive_expiry=2.0)
SERVER_KEEP_ALIVE = 75.0


@asynccontextmanager
async def running_service(settings: Settings, app: Any = None) -> AsyncIterator[Service]:
    """A real Hypercorn server on port 0 serving ``app`` (``create_app(settings)``)."""
    async with _running_service(settings, app) as running:
        yield running


@asynccontextmanager
async def _running_service(settings: Settings, app: Any = None) -> AsyncIterator[Service]:
    app = app or create_app(settings, fast_paths=True)  # as preview serve runs it
    config = Config()
    config.bind = ["127.0.0.1:0"]
    config.graceful_timeout = 2
    config.keep_alive_timeout = SERVER_KEEP_ALIVE
    config.accesslog = None
    shutdown = trio.Event()
    async with trio.open_nursery() as nursery:
        binds = await nursery.start(partial(serve, app, config, shutdown_trigger=shutdown.wait))
        async with httpx.AsyncClient(
            base_url=binds[0], trust_env=False, timeout=30, limits=CLIENT_LIMITS
        ) as client:
            running = Service(binds[0], app, client, settings)
            yield running
        with trio.fail_after(30):
            await running.supervisor.aclose()
        shutdown.set()
    for pid in running.children:
        assert not psutil.pid_exists(pid) or psutil.Process(pid).status() == psutil.STATUS_ZOMBIE


@pytest.fixture
async def service(settings: Settings) -> AsyncIterator[Service]:
    async with running_service(settings) as running:
        yield running


SERVER_TEMPLATE = """
import os, sys, signal, time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

def say(text, stream=sys.stdout):
    stream.write(text + "\\n"); stream.flush()

class Handler(BaseHTTPRequestHandler):
    def do_GET(self):
        body = b"ok"
        self.send_response(200); self.send_header("Content-Length", str(len(body)))
        self.end_headers(); self.wfile.write(body)
    def log_message(self, *args):
        pass

{before_serving}
server = ThreadingHTTPServer(("127.0.0.1", int(os.environ["PORT"])), Handler)
{after_bind}
server.serve_forever()
"""


def server_app(before_serving: str = "", after_bind: str = "", **extra: str) -> dict[str, str]:
    """Files of a tiny stdlib HTTP app (fast to start) with hooks for misbehaviour."""
    source = SERVER_TEMPLATE.format(
        before_serving=textwrap.dedent(before_serving), after_bind=textwrap.dedent(after_bind)
    )
    return {"server.py": source, **extra}


SERVER_COMMAND = ["{python}", "server.py"]

# Answers GET /version.txt with that file's text: which revision's files it runs.
VERSIONED = """
class Versioned(Handler):
    def do_GET(self):
        body = open("version.txt", "rb").read()
        self.send_response(200); self.send_header("Content-Length", str(len(body)))
        self.end_headers(); self.wfile.write(body)
Handler = Versioned
"""


def emitter_app(label: str = "line") -> dict[str, str]:
    """A tiny app that prints ``<label> 0`` … ``<label> n-1`` on ``GET /emit?n=<n>``."""
    return server_app(
        before_serving=f"""
        class Emit(Handler):
            def do_GET(self):
                if self.path.startswith("/emit"):
                    count = int(self.path.split("=")[1])
                    for n in range(count):
                        sys.stdout.write(f"{label} {{n}}\\n")
                    sys.stdout.flush()
                super().do_GET()
        Handler = Emit
        """
    )


def example_files() -> dict[str, str]:
    return {
        str(path.relative_to(EXAMPLE_APP)): path.read_text()
        for path in EXAMPLE_APP.rglob("*")
        if path.is_file() and "__pycache__" not in path.parts
    }


async def sse_events(
    response: httpx.Response,
) -> AsyncIterator[tuple[str, dict[str, Any], int | None]]:
    """The SSE events of ``response`` as they come: (event type, data, id)."""
    kind, data, event_id = "message", [], None
    async for line in response.aiter_lines():
        if line.startswith("id: "):
            event_id = int(line[4:])
        elif line.startswith("event: "):
            kind = line[7:]
        elif line.startswith("data: "):
            data.append(line[6:])
        elif line == "" and data:
            yield kind, json.loads("\n".join(data)), event_id
            kind, data, event_id = "message", [], None


async def read_sse(
    response: httpx.Response, *, until_end: bool = True, limit: int | None = None
) -> list[tuple[str, dict[str, Any], int | None]]:
    """Parse an SSE response into (event type, data, id) until ``end`` or ``limit`` events."""
    received: list[tuple[str, dict[str, Any], int | None]] = []
    async with aclosing(sse_events(response)) as events:
        async for kind, payload, event_id in events:
            received.append((kind, payload, event_id))
            if (until_end and kind == "end") or (limit is not None and len(received) >= limit):
                break
    return received


async def follow_until_end(
    service: Service, gid: str, *, on_open: trio.Event | None = None
) -> tuple[list[tuple[str, dict[str, Any], int | None]], int]:
    """Read the stream as EventSource does: reconnect with Last-Event-ID until ``end``.

    Returns every event received and how many times the stream had to be reopened.
    """
    url = f"/api/generations/{gid}/preview/logs/stream"
    received: list[tuple[str, dict[str, Any], int | None]] = []
    last_id, reconnects = 0, -1
    while True:
        reconnects += 1
        headers = {**auth(), "Last-Event-ID": str(last_id)}
        async with service.client.stream("GET", url, headers=headers) as response:
            if on_open is not None:
                on_open.set()
            events = await read_sse(response)
        received.extend(events)
        ids = [event_id for _, _, event_id in events if event_id is not None]
        last_id = ids[-1] if ids else last_id
        if events and events[-1][0] == "end":
            return received, reconnects


# The build tests' service (tests/builds, tests/apps, tests/backing …): environments
# kept in one directory for the whole session, so each dependency set is built once
# however many tests (of any module) launch it.
@pytest.fixture(scope="session")
def env_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("envs")


@pytest.fixture
def build_settings(settings: Settings, env_dir: Path) -> Settings:
    return replace(settings, build="on", env_dir=str(env_dir), startup_timeout=60.0)


@pytest.fixture
async def builder_service(build_settings: Settings) -> AsyncIterator[Service]:
    async with running_service(build_settings) as running:
        yield running


@pytest.fixture
async def smoke_builder(build_settings: Settings) -> AsyncIterator[Service]:
    """A builder service whose smoke check is on (it judges a start by its routes)."""
    async with running_service(replace(build_settings, smoke_check="on")) as running:
        yield running
