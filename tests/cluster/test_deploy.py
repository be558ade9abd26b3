"""deploy/: HAProxy's configuration is valid, and deploy/cluster.py starts a local cluster
(nodes on a fresh PostgreSQL database, HAProxy in front) that answers through HAProxy,
keeps answering when a node dies, and stops every process it started."""

from __future__ import annotations

import importlib.util
import os
import shutil
import signal
import subprocess
import sys
from pathlib import Path

import httpx
import pytest
import trio

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


def _port_base() -> int:
    """This test run's ports in 27000-27999 (per xdist worker)."""
    worker = os.environ.get("PYTEST_XDIST_WORKER", "gw0").removeprefix("gw") or "0"
    return 27000 + int(worker) * 200 + (os.getpid() % 4) * 40


def test_the_haproxy_configuration_is_valid(tmp_path: Path) -> None:
    config = tmp_path / "haproxy.cfg"
    config.write_text(_cluster_module().haproxy_config(_port_base(), [8001, 8002, 8003]))
    checked = subprocess.run(
        [_haproxy(), "-c", "-f", str(config)], capture_output=True, text=True, check=False
    )
    assert checked.returncode == 0, checked.stderr
    assert "server node-3 127.0.0.1:8003 check" in config.read_text()


async def test_a_local_cluster_answers_through_haproxy_and_outlives_a_node(
    tmp_path: Path,
) -> None:
    if not os.environ.get(PG_ENV):
        pytest.skip(f"{PG_ENV} is not set")
    haproxy = _haproxy()
    port = _port_base()
    env = {**os.environ, "PATH": f"{Path(haproxy).parent}:{os.environ.get('PATH', '')}"}
    with fresh_database() as db_url, trio.fail_after(150):
        argv = [
            sys.executable,
            str(DEPLOY / "cluster.py"),
            "--nodes",
            "2",
            "--port",
            str(port),
            "--db",
            db_url,
            "--dir",
            str(tmp_path / "cluster"),
        ]
        process = await trio.lowlevel.open_process(argv, env=env, stdout=subprocess.PIPE)
        pids: dict[str, int] = {}
        try:
            assert process.stdout is not None
            said = b""
            while b"Preview cluster ready: " not in said:
                chunk = await process.stdout.receive_some()
                assert chunk, said
                said += chunk
            lines = said.decode().splitlines()
            pids = {
                line.split(":")[0]: int(line.rsplit(" ", 1)[1])
                for line in lines
                if ": pid " in line
            }
            token = next(line for line in lines if "#token=" in line).rsplit("#token=", 1)[1]
            headers = {"Authorization": f"Bearer {token}"}
            async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", timeout=10) as client:
                # Both nodes in HAProxy's pool: its checks (GET /readyz) pass on each.
                ready = 0
                while ready < 4:
                    try:
                        answer = await client.get("/readyz")
                    except httpx.ConnectError:  # HAProxy not listening yet
                        ready = 0
                    else:
                        ready = ready + 1 if answer.status_code == 200 else 0
                    await trio.sleep(0.25)  # the pace of a check, not a synchronisation
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
            process.send_signal(signal.SIGTERM)
            await process.wait()
            assert process.returncode == 0
            for pid in pids.values():
                assert not _alive(pid), pid
        finally:
            if process.returncode is None:
                process.kill()
                with trio.CancelScope(shield=True):
                    await process.wait()
            for pid in pids.values():
                if _alive(pid):
                    os.kill(pid, signal.SIGKILL)


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
