"""The processes beside an app's web process (``runtime.processes``): a check, once
superseded, is stopped alone; the workers run on."""

from __future__ import annotations

import os
from pathlib import Path

import trio

from preview.apps.processes import WorkerProcess
from preview.logs import LogBroadcast
from preview.runtime.processes import AppWorkers, WorkerSetting
from preview.sandbox.process import ChildLimits


def _gone(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    return False


async def test_ending_the_checks_stops_them_and_leaves_the_workers_running(
    tmp_path: Path,
) -> None:
    """A revision applied live ends the type check of the code it replaces (it takes a
    core from the revision's build); the worker beside it runs on."""
    said: list[str] = []
    check_started, check_ended, worker_started = trio.Event(), trio.Event(), trio.Event()

    async def system(level: str, message: str) -> None:
        said.append(f"{level} {message}")
        if message.startswith("check typecheck started"):
            check_started.set()
        if message.startswith("check typecheck stopped"):
            check_ended.set()
        if message.startswith("worker queue started"):
            worker_started.set()

    env = {"PATH": os.environ["PATH"]}
    setting = WorkerSetting(tmp_path, env, ChildLimits(memory_bytes=1 << 30), None, 2.0, 4096)
    workers = AppWorkers(
        [
            WorkerProcess("typecheck", ("sleep", "60"), "its build", check=True),
            WorkerProcess("queue", ("sleep", "60"), "Procfile"),
        ],
        values={},
        broadcast=LogBroadcast(ring_size=100, subscriber_buffer=100),
        system=system,
        setting=setting,
    )
    check, worker = workers.runs
    with trio.fail_after(20):
        async with trio.open_nursery() as nursery:
            nursery.start_soon(workers.run, None)
            await check_started.wait()
            await worker_started.wait()
            check_pid = check.pid
            assert check_pid is not None
            workers.end_checks()
            await check_ended.wait()
            assert check.status == "stopped"
            assert _gone(check_pid)
            assert worker.status == "running" and worker.pid is not None
            assert not _gone(worker.pid)
            nursery.cancel_scope.cancel()
    assert worker.status == "stopped"
    assert any(m.startswith("INFO check typecheck stopped (SIGTERM)") for m in said), said
