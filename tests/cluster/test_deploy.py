"""deploy/: HAProxy's configuration is valid, and deploy/cluster.py starts a local cluster
(nodes on a fresh PostgreSQL database, HAProxy in front) that answers through HAProxy,
keeps answering when a node dies, holds every user's launch limit when many users launch
past it at once through it, and stops every process it started."""

from __future__ import annotations

import contextlib
import functools
import importlib.util
import os
import re
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Iterable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx
import jwt
import psutil
import pytest
import sqlalchemy as sa
import trio

from ..conftest import SERVER_COMMAND, server_app
from .nodes import PG_ENV, fresh_database

DEPLOY = Path(__file__).resolve().parents[2] / "deploy"


def _cluster_module():
    spec = importlib.util.spec_from_file_location("deploy_cluster", DEPLOY / "cluster.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _haproxy() -> str:
    found = shutil.which("haproxy") or shutil.which("haproxy", path="/usr/sbin")
    if found is None:
        if os.environ.get("PREVIEW_TEST_REQUIRE_SANDBOX"):  # CI: ./dev test installs it
            pytest.fail("haproxy is not installed")
        pytest.skip("haproxy is not installed")
    return found


def _worker() -> int:
    return int(os.environ.get("PYTEST_XDIST_WORKER", "gw0").removeprefix("gw") or "0") % 8


def _port_base() -> int:
    """This test run's ports in 27000-27799 (100 per xdist worker, gw0-gw7)."""
    return 27000 + _worker() * 100 + (os.getpid() % 2) * 40


@dataclass
class LocalCluster:
    url: str  # HAProxy's
    pids: dict[str, int]  # each node's and HAProxy's
    token: str  # the bearer token it printed
    top: Path  # its data dir (its jwt-secret)
    db_url: str


def test_the_haproxy_configuration_is_valid(tmp_path: Path) -> None:
    config = tmp_path / "haproxy.cfg"
    config.write_text(_cluster_module().haproxy_config(_port_base(), [8001, 8002, 8003]))
    checked = subprocess.run(
        [_haproxy(), "-c", "-f", str(config)], capture_output=True, text=True, check=False
    )
    assert checked.returncode == 0, checked.stderr
    assert "server node-3 127.0.0.1:8003 check" in config.read_text()


@asynccontextmanager
async def _local_cluster(tmp_path: Path, nodes: int, *more: str) -> AsyncIterator[LocalCluster]:
    """deploy/cluster.py with ``nodes`` nodes on a fresh database (``more``: its options),
    once HAProxy has each node in its pool; stopped (SIGTERM) after, nothing left."""
    if not os.environ.get(PG_ENV):
        pytest.skip(f"{PG_ENV} is not set")
    haproxy = _haproxy()
    port = _port_base()
    env = {**os.environ, "PATH": f"{Path(haproxy).parent}:{os.environ.get('PATH', '')}"}
    top = tmp_path / "cluster"
    with fresh_database() as db_url:
        argv = [
            sys.executable,
            str(DEPLOY / "cluster.py"),
            "--nodes",
            str(nodes),
            "--port",
            str(port),
            "--db",
            db_url,
            "--dir",
            str(top),
            *more,
        ]
        process = await trio.lowlevel.open_process(argv, env=env, stdout=subprocess.PIPE)
        pids: dict[str, int] = {}
        started: list[psutil.Process] = []
        try:
            assert process.stdout is not None
            said = b""
            while b"Preview cluster ready: " not in said:
                chunk = await process.stdout.receive_some()
                assert chunk, said
                said += chunk
            lines = said.decode().splitlines()
            pids = {
                found[1]: int(found[2])
                for line in lines
                if (found := re.fullmatch(r"([\w-]+): pid (\d+)", line)) is not None
            }
            token = next(line for line in lines if "#token=" in line).rsplit("#token=", 1)[1]
            url = f"http://127.0.0.1:{port}"
            async with httpx.AsyncClient(base_url=url, timeout=10) as client:
                # Every node in HAProxy's pool: its checks (GET /readyz) pass on each.
                ready = 0
                while ready < 2 * nodes:
                    try:
                        answer = await client.get("/readyz")
                    except httpx.ConnectError:  # HAProxy not listening yet
                        ready = 0
                    else:
                        ready = ready + 1 if answer.status_code == 200 else 0
                    await trio.sleep(0.25)  # the pace of a check, not a synchronisation
            yield LocalCluster(url, pids, token, top, db_url)
            # Every process the nodes started (previews, their sandboxes, servers).
            started = _descendants(pids.values())
            process.send_signal(signal.SIGTERM)
            await process.wait()
            assert process.returncode == 0
            for pid in pids.values():
                assert not _alive(pid), pid
            survivors = [_described(one) for one in started if _running(one)]
            assert not survivors, survivors
        finally:
            if process.returncode is None:  # its nodes and HAProxy too, pids read or not
                started += _descendants([process.pid])
            for one in started:  # never left running, whatever failed
                with contextlib.suppress(psutil.Error):
                    one.kill()  # (psutil's: not a later process given its pid)
            if process.returncode is None:
                process.kill()
                with trio.CancelScope(shield=True):
                    await process.wait()
            for pid in pids.values():
                if _alive(pid):
                    os.kill(pid, signal.SIGKILL)


async def test_a_local_cluster_answers_through_haproxy_and_outlives_a_node(
    tmp_path: Path,
) -> None:
    with trio.fail_after(150):
        async with _local_cluster(tmp_path, 2) as cluster:
            pids = cluster.pids
            headers = {"Authorization": f"Bearer {cluster.token}"}
            async with httpx.AsyncClient(base_url=cluster.url, timeout=10) as client:
                for _ in range(4):  # leastconn spreads them: a token works on every node
                    listed = await client.get("/api/generations", headers=headers)
                    assert listed.status_code == 200, listed.text
                os.kill(pids["node-1"], signal.SIGKILL)
                # A SIGKILL is delivered, not done: until the node has exited it may take a
                # request and die holding it, which no proxy can answer for. The claim is
                # about a node that is gone.
                await _exited(pids["node-1"])
                for _ in range(8):  # refused by the dead node: redispatched to the other
                    listed = await client.get("/api/generations", headers=headers)
                    assert listed.status_code == 200, listed.text


async def test_every_request_reaches_a_node_on_a_connection_of_its_own(
    tmp_path: Path,
) -> None:
    """HAProxy never sends a request over a kept-alive connection to a node: one could
    close under it (the node just died, or its own idle timeout fired), and HAProxy then
    drops the client's connection with no answer ("Server disconnected"), which a client
    that does not retry (httpx, the CLI) reports as a failed call. The client's own
    connection to HAProxy stays kept alive."""
    with trio.fail_after(60):
        seen: list[tuple[int, str]] = []  # (the n-th request on its connection, path)
        checked = trio.Event()  # HAProxy's first check reached the node

        async def node(stream: trio.SocketStream) -> None:
            # HAProxy ends its checks' and its closed connections with a reset.
            with contextlib.suppress(trio.BrokenResourceError):
                await answer_each(stream)

        async def answer_each(stream: trio.SocketStream) -> None:
            count, pending = 0, b""
            async with stream:
                while True:
                    while b"\r\n\r\n" not in pending:
                        chunk = await stream.receive_some()
                        if not chunk:
                            return
                        pending += chunk
                    head, pending = pending.split(b"\r\n\r\n", 1)
                    count += 1
                    seen.append((count, path := head.split(b" ")[1].decode()))
                    if path == "/readyz":
                        checked.set()
                    await stream.send_all(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok")

        async with trio.open_nursery() as nursery:
            listeners = await nursery.start(
                functools.partial(trio.serve_tcp, node, 0, host="127.0.0.1")
            )
            node_port = listeners[0].socket.getsockname()[1]
            port = _port_base() + 30
            config = tmp_path / "haproxy.cfg"
            config.write_text(_cluster_module().haproxy_config(port, [node_port]))
            haproxy = await trio.lowlevel.open_process([_haproxy(), "-f", str(config)])
            try:
                async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}") as client:
                    await checked.wait()  # HAProxy binds its port before it checks
                    for _ in range(6):
                        answer = await client.get("/api/generations")
                        assert answer.status_code == 200, answer.text
                    calls = [count for count, path in seen if path.startswith("/api/")]
                    assert calls == [1] * 6, seen  # each the first on its connection
            finally:
                haproxy.kill()
                with trio.CancelScope(shield=True):
                    await haproxy.wait()
            nursery.cancel_scope.cancel()


# Issue 67's figure is 200 users (600 launches at once): they pass here in 135 s under
# load, too long for every CI run, and its burst of processes beside the other tests'
# (fork: EAGAIN in a sandbox test) made them fail; CI runs 20.
# PREVIEW_TEST_CLUSTER_USERS=200 runs the issue's.
USERS = int(os.environ.get("PREVIEW_TEST_CLUSTER_USERS", "20"))
# A free user's limit is one live preview: each fires it + 2 launches at once, two of
# them of one generation.
LAUNCHED = ("first", "first", "second")


async def test_users_launching_past_their_limit_at_once_through_haproxy_get_one_each(
    tmp_path: Path,
) -> None:
    """Every user's launches at once, spread by HAProxy over three nodes: one preview per
    user and per generation in all, whichever nodes the launches reached; every other
    launch refused with its reason. (The check's negative control, the same contention
    under REPEATABLE READ letting them all through, is test_admission's.)"""
    with trio.fail_after(240):
        # Its previews' ports: this worker's alone, below the tests' own blocks.
        preview_ports = str(12000 + _worker() * 1200)
        async with _local_cluster(tmp_path, 3, "--preview-ports", preview_ports) as cluster:
            secret = (cluster.top / "jwt-secret").read_text().strip()
            users = [f"user-{n:03d}" for n in range(USERS)]
            headers = {
                user: {
                    "Authorization": "Bearer "
                    + jwt.encode(
                        {"sub": user, "tier": "free", "exp": int(time.time()) + 3600},
                        secret,
                        algorithm="HS256",
                    )
                }
                for user in users
            }
            limits = httpx.Limits(max_connections=len(LAUNCHED) * USERS)
            async with httpx.AsyncClient(
                base_url=cluster.url, timeout=120, limits=limits
            ) as client:
                generations: dict[tuple[str, str], str] = {}
                uploads = trio.CapacityLimiter(16)

                async def upload(user: str, name: str) -> None:
                    async with uploads:
                        made = await client.post(
                            "/api/generations",
                            json={"projectId": name, "files": server_app()},
                            headers=headers[user],
                        )
                    assert made.status_code == 201, made.text
                    generations[(user, name)] = made.json()["generationId"]

                async with trio.open_nursery() as nursery:
                    for user in users:
                        for name in set(LAUNCHED):
                            nursery.start_soon(upload, user, name)
                answers: dict[str, list[tuple[int, str]]] = {user: [] for user in users}
                go = trio.Event()

                async def launch(user: str, name: str) -> None:
                    await go.wait()
                    gid = generations[(user, name)]
                    answer = await client.post(
                        f"/api/generations/{gid}/preview/launch",
                        json={"wait": False, "command": SERVER_COMMAND},
                        headers=headers[user],
                    )
                    code = "" if answer.is_success else answer.json()["error"]
                    answers[user].append((answer.status_code, code))

                async with trio.open_nursery() as nursery:
                    for user in users:
                        for name in LAUNCHED:
                            nursery.start_soon(launch, user, name)
                    go.set()
            for user, got in answers.items():
                admitted = [status for status, _ in got if 200 <= status < 300]
                refused = sorted(code for status, code in got if status == 409)
                assert len(admitted) == 1, (user, got)
                assert len(refused) == 2, (user, got)
                assert set(refused) <= {"preview_limit_reached", "preview_already_running"}
            # The database's word: one row a user and a generation, whatever the nodes.
            engine = sa.create_engine(cluster.db_url)
            try:
                with engine.connect() as connection:
                    rows = connection.execute(
                        sa.text("SELECT user_id, generation_id, node_id FROM preview_instances")
                    ).all()
            finally:
                engine.dispose()
            assert sorted(row[0] for row in rows) == users
            assert len({row[1] for row in rows}) == USERS


def _descendants(pids: Iterable[int]) -> list[psutil.Process]:
    found = []
    for pid in pids:
        with contextlib.suppress(psutil.NoSuchProcess):
            found += psutil.Process(pid).children(recursive=True)
    return found


def _running(process: psutil.Process) -> bool:
    """Still running: neither gone, nor a zombie, nor its pid another process's now."""
    try:
        return process.is_running() and process.status() != psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return False


def _described(process: psutil.Process) -> str:
    try:
        return f"{process.pid}: {' '.join(process.cmdline())[:200]}"
    except psutil.Error:
        return f"{process.pid}: gone"


async def _exited(pid: int) -> None:
    """Wait until a process that is not ours has exited: the kernel offers no event for
    it, so /proc is read at a short pace (bounded by the test's fail_after)."""
    while True:
        if not _alive(pid):
            return
        await trio.sleep(0.05)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # A zombie not yet reaped by its parent counts as gone; so does one reaped just now.
    try:
        with open(f"/proc/{pid}/stat") as stat:
            return stat.read().split(") ", 1)[1][:1] != "Z"
    except FileNotFoundError:
        return False
