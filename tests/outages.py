"""Outages of the service's database for the tests: PostgreSQL refusing and dropping
connections, SQLite held by another connection's lock, a data dir with no space left;
and a service on a store opened for them, with a preview that prints for ever.

The PostgreSQL outage is made with ``ALLOW_CONNECTIONS false`` and
``pg_terminate_backend`` from an admin connection, on a throwaway database of the
test's own (never the shared ``test`` database, never by stopping the server). A
*restart* of PostgreSQL is made on a server of the test's own
(:func:`own_postgres_server`: Debian's binaries, a data dir in a temporary folder).
"""

from __future__ import annotations

import contextlib
import os
import pwd
import shutil
import signal
import sqlite3
import subprocess
import tempfile
import uuid
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest
import sqlalchemy as sa
import trio
from sqlalchemy.engine import make_url
from sqlalchemy.exc import OperationalError

from preview import Settings, create_app
from preview.backing.pgprivate import server_binaries
from preview.store import Store

from .conftest import SERVER_COMMAND, Service, eventually, running_service, server_app

PG_ENV = "PREVIEW_TEST_POSTGRES_URL"
BUSY_TIMEOUT = 0.3  # s: the store's SQLite busy timeout in these tests

# An app that prints "tick <n>" every 10 ms for ever, from a thread of its own.
TICKER = server_app(
    before_serving="""
    import threading
    def tick():
        n = 0
        while True:
            say(f"tick {n}")
            n += 1
            time.sleep(0.01)
    threading.Thread(target=tick, daemon=True).start()
    """
)


# --------------------------------------------------------------------------- outages


@dataclass
class Outage:
    """Puts the service's database out of action (``begin``) and back (``end``)."""

    url: str
    reads_fail: bool  # PostgreSQL refuses everything; SQLite's WAL readers still read
    upload_status: int
    upload_code: str
    _undo: list = field(default_factory=list)

    async def begin(self) -> None:
        raise NotImplementedError

    async def end(self) -> None:
        raise NotImplementedError


class PostgresOutage(Outage):
    def __init__(self, url: str, admin: sa.Engine, name: str) -> None:
        super().__init__(url, True, 503, "store_unavailable")
        self._admin, self._name = admin, name

    def _allow(self, allowed: bool) -> None:
        with self._admin.connect() as connection:
            connection.exec_driver_sql(
                f'ALTER DATABASE "{self._name}" ALLOW_CONNECTIONS {str(allowed).lower()}'
            )
            if not allowed:
                connection.execute(
                    sa.text(
                        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
                        " WHERE datname = :name AND pid <> pg_backend_pid()"
                    ),
                    {"name": self._name},
                )

    async def begin(self) -> None:
        await trio.to_thread.run_sync(self._allow, False)

    async def end(self) -> None:
        await trio.to_thread.run_sync(self._allow, True)


class SqliteLock(Outage):
    """Another connection holds SQLite's write lock far beyond the busy timeout."""

    def __init__(self, url: str) -> None:
        super().__init__(url, False, 503, "store_unavailable")
        self._path = url.split("///", 1)[1]
        self._holder: sqlite3.Connection | None = None

    def _lock(self) -> None:
        self._holder = sqlite3.connect(
            self._path, timeout=10, isolation_level=None, check_same_thread=False
        )
        self._holder.execute("BEGIN EXCLUSIVE")

    def _unlock(self) -> None:
        assert self._holder is not None
        self._holder.execute("ROLLBACK")
        self._holder.close()
        self._holder = None

    async def begin(self) -> None:
        await trio.to_thread.run_sync(self._lock)

    async def end(self) -> None:
        if self._holder is not None:
            await trio.to_thread.run_sync(self._unlock)


class DiskFull(Outage):
    """The data dir (a tmpfs of its own) filled to the last byte by a file."""

    def __init__(self, url: str, data_dir: Path) -> None:
        super().__init__(url, False, 507, "insufficient_storage")
        self._filler = data_dir / "filler"

    def _fill(self) -> None:
        chunk = b"\0" * 65536
        with open(self._filler, "wb", buffering=0) as out:
            for size in (65536, 4096, 512, 1):
                with contextlib.suppress(OSError):
                    while True:
                        out.write(chunk[:size])

    async def begin(self) -> None:
        await trio.to_thread.run_sync(self._fill)

    async def end(self) -> None:
        self._filler.unlink(missing_ok=True)


def admin_url(base: str) -> str:
    return make_url(base).set(database="postgres").render_as_string(hide_password=False)


@contextlib.contextmanager
def throwaway_postgres() -> Iterator[tuple[str, sa.Engine, str]]:
    """A database of this test's own on the shared server, dropped after."""
    base = os.environ.get(PG_ENV)
    if not base:
        pytest.skip(f"{PG_ENV} is not set")
    name = f"outage_{uuid.uuid4().hex[:12]}"
    admin = sa.create_engine(admin_url(base), isolation_level="AUTOCOMMIT", poolclass=sa.NullPool)
    with admin.connect() as connection:
        connection.exec_driver_sql(f'CREATE DATABASE "{name}"')
    try:
        yield make_url(base).set(database=name).render_as_string(hide_password=False), admin, name
    finally:
        with admin.connect() as connection:
            connection.exec_driver_sql(f'ALTER DATABASE "{name}" ALLOW_CONNECTIONS true')
            connection.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.dispose()


@contextlib.contextmanager
def tmpfs(path: Path, size: str) -> Iterator[Path]:
    path.mkdir(parents=True, exist_ok=True)
    mounted = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(path)],
        capture_output=True,
        check=False,
    )
    if mounted.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs: {mounted.stderr.decode().strip()}")
    try:
        yield path
    finally:
        subprocess.run(["umount", "-l", str(path)], check=True)


@contextlib.asynccontextmanager
async def service_on(settings: Settings, outage: Outage) -> AsyncIterator[Service]:
    object.__setattr__(settings, "health_interval", 0.2)
    store = await Store.open(outage.url, busy_timeout=BUSY_TIMEOUT)
    try:
        async with running_service(
            settings, create_app(settings, store=store, fast_paths=True)
        ) as service:
            try:
                yield service
            finally:
                await outage.end()  # whatever failed: the teardown needs the database
    finally:
        await store.aclose()


# --------------------------------------------------------------------------- helpers


def ticks(events: list[dict[str, Any]]) -> list[int]:
    return [int(e["message"].split()[1]) for e in events if e["message"].startswith("tick ")]


def assert_unavailable(response: httpx.Response, status: int, code: str) -> None:
    assert response.status_code == status, response.text
    body = response.json()
    assert body["status"] == "failed" and body["error"] == code, body
    if status == 503:
        assert int(response.headers["Retry-After"]) >= 1


async def assert_all_stored(service: Service, gid: str, runtime: Any) -> list[dict[str, Any]]:
    """Every event the preview published is in the database, ids 1..n without a hole."""
    published = runtime.broadcast.last_id
    await runtime.broadcast.wait_persisted(published)
    history = await service.history(gid)
    ids = [event["id"] for event in history]
    assert ids == list(range(1, len(ids) + 1))
    assert ids[-1] >= published
    printed = ticks(history)
    assert printed == list(range(len(printed)))
    return history


async def launch_ticker(service: Service) -> tuple[str, Any, str]:
    gid = await service.upload(TICKER)
    body = (await service.launch(gid, command=SERVER_COMMAND)).json()
    assert body["status"] == "running", body
    runtime = service.supervisor.get(body["previewInstanceId"])
    # A few lines stored before the outage.
    await eventually(lambda: runtime.broadcast.persisted_id > 20)
    return gid, runtime, body["previewToken"]


# A throwaway server's: TCP on the loopback only, durability off.
_SERVER_SETTINGS = (
    "listen_addresses=127.0.0.1",
    "fsync=off",
    "synchronous_commit=off",
    "full_page_writes=off",
)


class PostgresServer:
    """A PostgreSQL server of the test's own on ``127.0.0.1:port`` (durability off),
    which :meth:`restart` stops (a fast shutdown: every session ended, connections
    refused until it is back) and starts again on the same data, as an operator does."""

    def __init__(self, nursery: trio.Nursery, bin_dir: Path, root: Path, port: int) -> None:
        self._nursery = nursery
        self._bin_dir = bin_dir
        self._root = root
        self.port = port
        self.url = f"postgresql+psycopg://postgres@127.0.0.1:{port}/postgres"
        self.restarts = 0
        self._process: trio.Process | None = None

    def _as_postgres(self, program: str, *args: str) -> list[str]:
        # PostgreSQL refuses to run as root: setpriv execs it as the postgres user, so
        # that the signals this test sends reach the server itself.
        return [
            "setpriv",
            "--reuid=postgres",
            "--regid=postgres",
            "--init-groups",
            str(self._bin_dir / program),
            *args,
        ]

    async def initialise(self) -> None:
        data = str(self._root / "data")
        initdb = self._as_postgres("initdb", "-D", data, "-U", "postgres", "-A", "trust")
        await trio.run_process([*initdb, "--no-sync"], capture_stdout=True, capture_stderr=True)

    async def start(self) -> None:
        """Start it and wait until it takes a query (60 s at most)."""
        settings = [*_SERVER_SETTINGS, f"unix_socket_directories={self._root}"]
        options = [word for setting in settings for word in ("-c", setting)]
        data = str(self._root / "data")
        argv = self._as_postgres("postgres", "-D", data, "-p", str(self.port), *options)
        self._process = await trio.lowlevel.open_process(
            argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
        )
        self._nursery.start_soon(reaped, self._process)
        with trio.fail_after(60):
            while True:
                if await trio.to_thread.run_sync(self._answers):
                    return
                await trio.sleep(0.05)

    def _answers(self) -> bool:
        engine = sa.create_engine(self.url, poolclass=sa.NullPool)
        try:
            with engine.connect() as connection:
                connection.exec_driver_sql("SELECT 1")
            return True
        except OperationalError:
            return False
        finally:
            engine.dispose()

    async def stop(self) -> None:
        process = self._process
        if process is not None and process.returncode is None:
            process.send_signal(signal.SIGINT)  # PostgreSQL's fast shutdown
            with trio.CancelScope(shield=True), trio.fail_after(30):
                await process.wait()

    async def restart(self, down_for: float = 0.0) -> None:
        """Stopped, left down ``down_for`` s more, started again."""
        await self.stop()
        self.restarts += 1
        await trio.sleep(down_for)
        await self.start()


async def reaped(process: trio.Process) -> None:
    """Waits for a server of the test's own; killed and waited for if cancelled first."""
    try:
        await process.wait()
    finally:
        if process.returncode is None:
            process.kill()
            with trio.CancelScope(shield=True):
                await process.wait()


@contextlib.asynccontextmanager
async def own_postgres_server(port: int) -> AsyncIterator[PostgresServer]:
    """A started :class:`PostgresServer` on ``port``, stopped and removed after; the
    test is skipped on a machine without Debian's server binaries or a postgres user."""
    bin_dir = server_binaries()
    try:
        owner = pwd.getpwnam("postgres")
    except KeyError:
        owner = None
    if bin_dir is None or owner is None or not shutil.which("setpriv"):
        pytest.skip("no PostgreSQL server binaries, postgres user or setpriv")
    root = Path(tempfile.mkdtemp(prefix="preview-test-pg-"))
    try:
        os.chown(root, owner.pw_uid, owner.pw_gid)
        async with trio.open_nursery() as nursery:
            server = PostgresServer(nursery, bin_dir, root, port)
            try:
                await server.initialise()
                await server.start()
                yield server
            finally:
                await server.stop()
    finally:
        shutil.rmtree(root, ignore_errors=True)
