"""Cluster mode, slice 1, with real `preview serve` processes on one fresh PostgreSQL
database: one live preview per generation across nodes, a node's restart that fails
none of the others' previews, a killed node's previews failed "node lost" by the
others within 10 s, a fenced node, and the refusals at start."""

from __future__ import annotations

import os
import signal
import sys
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path

import psutil
import pytest
import trio

from preview.clock import utcnow

from ..conftest import SERVER_COMMAND, auth, server_app
from .nodes import PG_ENV, REDIS_URL, fresh_database, node_env, running_node

pytestmark = pytest.mark.skipif(not os.environ.get(PG_ENV), reason=f"{PG_ENV} is not set")


@pytest.fixture
def db_url() -> Iterator[str]:
    with fresh_database() as url:
        yield url


async def _launched(node, gid: str, user: str = "alice") -> dict:
    response = await node.launch(gid, user, command=SERVER_COMMAND)
    assert response.status_code == 200, response.text
    assert response.json()["status"] == "running", response.json()
    return response.json()


async def test_a_second_node_refuses_a_second_copy_of_a_generation(
    tmp_path: Path, db_url: str
) -> None:
    with trio.fail_after(120):
        async with (
            trio.open_nursery() as nursery,
            running_node(nursery, tmp_path, db_url, "node-a", 0) as a,
            running_node(nursery, tmp_path, db_url, "node-b", 1) as b,
        ):
            gid = await a.upload(server_app())
            launched = await _launched(a, gid)
            again = await b.launch(gid, command=SERVER_COMMAND)
            assert again.status_code == 409, again.text
            refusal = again.json()
            assert refusal["error"] == "preview_already_running"
            assert refusal["details"] == {
                "previewInstanceId": launched["previewInstanceId"],
                "status": "running",
            }
            # Either node names the owner; the preview is A's.
            for node in (a, b):
                status = await node.status(gid)
                assert (status["status"], status["node"]) == ("running", "node-a")
            # The user's tier limit (free: 1) holds across nodes too.
            other = await b.upload(server_app())
            limited = await b.launch(other, command=SERVER_COMMAND)
            assert limited.status_code == 409, limited.text
            assert limited.json()["error"] == "preview_limit_reached"
            assert [r["previewInstanceId"] for r in limited.json()["details"]["running"]] == [
                launched["previewInstanceId"]
            ]
            assert limited.headers["Retry-After"] == "30"


async def test_a_restart_of_a_node_fails_none_of_the_others_previews(
    tmp_path: Path, db_url: str
) -> None:
    with trio.fail_after(180):
        async with (
            trio.open_nursery() as nursery,
            running_node(nursery, tmp_path, db_url, "node-a", 0) as a,
        ):
            gid = await a.upload(server_app())
            launched = await _launched(a, gid)
            async with running_node(nursery, tmp_path, db_url, "node-b", 1) as b:
                pass  # B stopped (SIGINT) ...
            assert b.process.returncode == 0, b.said.decode()
            async with running_node(nursery, tmp_path, db_url, "node-b", 1) as b:
                # ... and started again: its reconciliation touched its own rows only.
                status = await b.status(gid)
                assert (status["status"], status["node"]) == ("running", "node-a"), status
                answer = await a.client.get(
                    f"/api/generations/{gid}/preview/proxy/",
                    headers={**auth(), "X-Preview-Token": launched["previewToken"]},
                )
                assert answer.status_code == 200, answer.text
                assert (await a.status(gid))["status"] == "running"


async def test_a_killed_nodes_previews_are_failed_node_lost_within_10_s(
    tmp_path: Path, db_url: str
) -> None:
    with trio.fail_after(180):
        async with (
            trio.open_nursery() as nursery,
            running_node(nursery, tmp_path, db_url, "node-b", 1) as b,
        ):
            async with running_node(nursery, tmp_path, db_url, "node-a", 0) as a:
                gid = await a.upload(server_app())
                launched = await _launched(a, gid)
                child = launched["processId"]
                # The whole process tree: the service and its preview's process.
                tree = [
                    a.process.pid,
                    *(p.pid for p in psutil.Process(a.process.pid).children(recursive=True)),
                ]
                assert child in tree
                killed_at = utcnow()  # naive UTC, as the database's (and stoppedAt's)
                for pid in tree:
                    os.kill(pid, signal.SIGKILL)
                await a.process.wait()
                with trio.fail_after(30):
                    while (status := await b.status(gid))["status"] != "failed":  # noqa: ASYNC110
                        await trio.sleep(0.1)  # another process's state: polled
            # When the row was failed (the database's clock), not when a poll saw it.
            stopped = datetime.fromisoformat(status["stoppedAt"].removesuffix("Z"))
            took = (stopped - killed_at).total_seconds()
            print(f"kill -9 of the owner -> failed on another node: {took:.2f} s")
            assert took < 10, b.said.decode()[-3000:]
            assert status["node"] == "node-a"
            assert status["errorMessage"].startswith("node lost: node-a"), status
            history = await b.client.get(f"/api/generations/{gid}/preview/logs", headers=auth())
            last = history.json()["events"][-1]
            assert (last["source"], last["status"]) == ("system", "failed"), last
            # The generation is free again: B launches it.
            relaunched = await _launched(b, gid)
            assert (await b.status(gid))["node"] == "node-b"
            assert relaunched["previewInstanceId"] != launched["previewInstanceId"]


async def test_a_node_paused_past_its_lease_fences_itself_and_changes_nothing_after(
    tmp_path: Path, db_url: str
) -> None:
    # SIGSTOP (a stalled machine, a partition): the others reap it; once it runs again it
    # finds its lease lost, stops its preview and ends, and writes nothing over the reap.
    with trio.fail_after(180):
        async with (
            trio.open_nursery() as nursery,
            running_node(nursery, tmp_path, db_url, "node-b", 1) as b,
            running_node(nursery, tmp_path, db_url, "node-a", 0) as a,
        ):
            gid = await a.upload(server_app())
            launched = await _launched(a, gid)
            a.process.send_signal(signal.SIGSTOP)
            while (status := await b.status(gid))["status"] != "failed":  # noqa: ASYNC110
                await trio.sleep(0.1)  # another process's state: polled
            assert status["errorMessage"].startswith("node lost: node-a"), status
            a.process.send_signal(signal.SIGCONT)
            await a.process.wait()
            said = a.said.decode()
            assert a.process.returncode == 1, said
            assert "error: node node-a lost its lease" in said, said
            assert not psutil.pid_exists(launched["processId"])
            assert "could not be stored" not in said, said  # refused, not retried
            final = await b.status(gid)
            assert (final["status"], final["errorMessage"]) == ("failed", status["errorMessage"])


async def _refusal(tmp_path: Path, **changed: str) -> str:
    env = node_env(tmp_path, "", "node-x", 9) | changed
    env = {k: v for k, v in env.items() if v != ""}
    with trio.fail_after(60):
        done = await trio.run_process(
            [sys.executable, "-m", "preview", "serve", "--bind", "127.0.0.1:0"],
            env=env,
            capture_stdout=True,
            capture_stderr=True,
            check=False,
        )
    said = done.stderr.decode()
    assert done.returncode == 2, said
    assert b"Preview service ready" not in done.stdout
    assert said.startswith("error: ") and said.count("\n") == 1, said
    return said


async def test_cluster_mode_on_sqlite_or_without_a_secret_is_refused_in_one_line(
    tmp_path: Path,
) -> None:
    assert "needs PREVIEW_DB_URL on PostgreSQL" in await _refusal(tmp_path, PREVIEW_DB_URL="")
    sqlite = f"sqlite:///{tmp_path}/p.db"
    assert "it is SQLite" in await _refusal(tmp_path, PREVIEW_DB_URL=sqlite)
    postgres = "postgresql+psycopg://postgres@127.0.0.1:5432/none"
    said = await _refusal(tmp_path, PREVIEW_DB_URL=postgres, PREVIEW_CLUSTER_SECRET="")
    assert "needs PREVIEW_CLUSTER_SECRET" in said
    said = await _refusal(tmp_path, PREVIEW_DB_URL=postgres, PREVIEW_INTERNAL_URL="")
    assert "needs PREVIEW_INTERNAL_URL" in said
    assert REDIS_URL  # (each refusal was with PREVIEW_REDIS_URL set)
