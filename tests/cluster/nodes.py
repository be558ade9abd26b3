"""Real cluster nodes for the tests: `preview serve` processes on one fresh PostgreSQL
database (made per test, dropped after), each with its own data dir, node id and ports:
50 of 21000-21999 per test process (see _slot)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import AbstractContextManager, asynccontextmanager
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import httpx
import trio
from sqlalchemy.engine import make_url

from benchmarks.scenarios.cluster import scratch_database

from ..conftest import SECRET, auth

PG_ENV = "PREVIEW_TEST_POSTGRES_URL"
CLUSTER_SECRET = "cluster-secret-" + "s" * 32
REDIS_URL = "redis://127.0.0.1:6379/0"  # the machine's: the live tail (keys per test)
_FIRST_PORT = 21000


def fresh_database(server_url: str | None = None) -> AbstractContextManager[str]:
    """The URL of a new, empty PostgreSQL database on the tests' server (or on the
    server of ``server_url``), dropped afterwards."""
    return scratch_database(server_url or os.environ[PG_ENV], "preview_cluster")


def _slot() -> int:
    """The first of this test process's 50 ports of 21000-21999: a block of 125 per
    xdist worker (gw0-gw7), and in it one of 2 by the process id (another test run on
    the machine at once). One block per worker: an internal or preview port computed
    without the worker (``% 100``) was the same for two workers' nodes, and a node of
    one then found another's internal port taken (two failed tests in a CI run)."""
    worker = os.environ.get("PYTEST_XDIST_WORKER", "gw0").removeprefix("gw") or "0"
    return _FIRST_PORT + (int(worker) % 8) * 125 + (os.getpid() % 2) * 50


def free_port(index: int) -> int:
    """Node ``index``'s port (0-9; 9: a server of the test's own, its Redis)."""
    return _slot() + index


def internal_port(index: int) -> int:
    """Where node ``index`` listens for the other nodes."""
    return _slot() + 10 + index


def _preview_ports(index: int) -> int:
    """The first of node ``index``'s 8 preview ports (nodes 0-2)."""
    return _slot() + 20 + (index % 3) * 8


def first_preview_port(index: int) -> int:
    """The first port of node ``index``'s preview pool."""
    return _preview_ports(index)


def capacity(index: int, previews: int) -> dict[str, str]:
    """Settings that give node ``index`` room for ``previews`` (1-8) previews: its
    port pool, which is its capacity in placement's count."""
    return {"PREVIEW_PORT_MAX": str(_preview_ports(index) + previews - 1)}


def node_env(tmp: Path, db_url: str, name: str, index: int, **more: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PREVIEW_", "XDG_"))}
    previews = _preview_ports(index)
    return env | {
        "XDG_STATE_HOME": str(tmp / f"state-{name}"),
        "PREVIEW_DATA_DIR": str(tmp / f"data-{name}"),
        "PREVIEW_DB_URL": db_url,
        "PREVIEW_REDIS_URL": REDIS_URL,
        # A key prefix per test (its database's name): tests share the machine's Redis.
        "PREVIEW_REDIS_PREFIX": f"test-{make_url(db_url).database if db_url else 'none'}:",
        "PREVIEW_INTERNAL_URL": f"http://127.0.0.1:{internal_port(index)}",
        "PREVIEW_CLUSTER_SECRET": CLUSTER_SECRET,
        "PREVIEW_NODE_ID": name,
        "PREVIEW_JWT_SECRET": SECRET,
        "PREVIEW_BUILD": "off",
        "PREVIEW_SMOKE_CHECK": "off",
        "PREVIEW_SANDBOX": "off",
        "PREVIEW_STOP_GRACE": "1",
        "PREVIEW_PORT_MIN": str(previews),
        "PREVIEW_PORT_MAX": str(previews + 7),
        **more,
    }


@dataclass
class Node:
    name: str
    url: str
    process: trio.Process
    client: httpx.AsyncClient
    said: bytearray

    async def upload(self, files: dict[str, str], user: str = "alice") -> str:
        response = await self.client.post(
            "/api/generations", json={"projectId": "p", "files": files}, headers=auth(user)
        )
        assert response.status_code == 201, response.text
        return response.json()["generationId"]

    async def launch(self, gid: str, user: str = "alice", **body: Any) -> httpx.Response:
        return await self.client.post(
            f"/api/generations/{gid}/preview/launch",
            json={"wait": True, **body},
            headers=auth(user),
            timeout=None,
        )

    async def status(self, gid: str, user: str = "alice") -> dict[str, Any]:
        response = await self.client.get(
            f"/api/generations/{gid}/preview/status", headers=auth(user)
        )
        assert response.status_code == 200, response.text
        return response.json()


async def _read_into(stream: Any, said: bytearray, ready: trio.Event) -> None:
    while chunk := await stream.receive_some():
        said.extend(chunk)
        if b"Preview service ready: " in said:
            ready.set()


@asynccontextmanager
async def running_node(
    nursery: trio.Nursery, tmp: Path, db_url: str, name: str, index: int, **more: str
) -> AsyncIterator[Node]:
    """`preview serve` as node ``name`` (``more``: settings, ``PREVIEW_…`` names);
    SIGINT and waited for at the end (unless the test ended it itself)."""
    env = node_env(tmp, db_url, name, index, **more)
    port = free_port(index)
    argv = [sys.executable, "-m", "preview", "serve", "--bind", f"127.0.0.1:{port}"]
    run = partial(
        trio.run_process,
        argv,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        check=False,
    )
    process = await nursery.start(run)
    said = bytearray()
    ready = trio.Event()
    nursery.start_soon(_read_into, process.stdout, said, ready)
    with trio.fail_after(60):
        await ready.wait()
    url = f"http://127.0.0.1:{port}"
    async with httpx.AsyncClient(base_url=url, trust_env=False, timeout=30) as client:
        try:
            yield Node(name, url, process, client, said)
        finally:
            if process.returncode is None:
                process.send_signal(signal.SIGINT)
            with trio.CancelScope(shield=True), trio.fail_after(30):
                await process.wait()


class TcpRelay:
    """A TCP relay in front of one of the machine's servers (PostgreSQL, Redis) for one
    node: ``cut`` closes every connection through it and refuses new ones, so that node
    alone loses the server (a partition) while the others keep it; ``hold_next_reply``
    keeps back the server's next reply on each connection a while (a busy server, for
    that node alone, for one request).
    :meth:`serve` in a nursery; ``url`` is the server's through the relay once started."""

    def __init__(self, url: str) -> None:
        self._target = urlsplit(url)
        self._scope = trio.CancelScope()
        self._hold = 0.0
        self._holds_asked = 0  # each connection holds its next reply once per ask
        self.url = ""

    async def serve(self, *, task_status: trio.TaskStatus[None] = trio.TASK_STATUS_IGNORED) -> None:
        with self._scope:
            async with trio.open_nursery() as nursery:
                listeners = await nursery.start(
                    partial(trio.serve_tcp, self._pipe, 0, host="127.0.0.1")
                )
                port = listeners[0].socket.getsockname()[1]
                credentials = self._target.netloc.rpartition("@")[0]
                address = f"127.0.0.1:{port}"
                netloc = f"{credentials}@{address}" if credentials else address
                self.url = urlunsplit(self._target._replace(netloc=netloc))
                task_status.started()

    def cut(self) -> None:
        self._scope.cancel()

    def hold_next_reply(self, seconds: float) -> None:
        self._hold = seconds
        self._holds_asked += 1

    async def _pipe(self, client: trio.SocketStream) -> None:
        host, port = self._target.hostname or "127.0.0.1", self._target.port or 0
        async with (
            client,
            await trio.open_tcp_stream(host, port) as server,
            trio.open_nursery() as nursery,
        ):
            nursery.start_soon(self._copy, client, server, nursery.cancel_scope)
            nursery.start_soon(self._copy_replies, server, client, nursery.cancel_scope)

    async def _copy_replies(
        self, server: trio.SocketStream, client: trio.SocketStream, both: trio.CancelScope
    ) -> None:
        holds_done = self._holds_asked

        async def hold_when_asked() -> None:
            nonlocal holds_done
            if holds_done < self._holds_asked:
                holds_done = self._holds_asked
                await trio.sleep(self._hold)

        await self._copy(server, client, both, hold_when_asked)

    @staticmethod
    async def _copy(
        source: trio.SocketStream,
        sink: trio.SocketStream,
        both: trio.CancelScope,
        before_sending: Callable[[], Awaitable[None]] = trio.lowlevel.checkpoint,
    ) -> None:
        try:
            while data := await source.receive_some(65536):
                await before_sending()
                await sink.send_all(data)
        except (trio.BrokenResourceError, trio.ClosedResourceError):
            pass
        both.cancel()  # one side ended: so does the other
