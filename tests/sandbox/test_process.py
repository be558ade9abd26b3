"""preview.sandbox.process against real child processes: GroupUsage, and the environment
a child is given (child_environment)."""

from __future__ import annotations

import os
import subprocess
import sys

import trio
import trio.testing

from preview.sandbox import GroupUsage
from preview.sandbox.process import ChildLimits, describe_exit, spawn_child, terminate_group

from ..conftest import SERVER_COMMAND, Service, server_app
from ..launching import BUILD_WAIT, launched, messages


async def test_group_usage_waits_only_for_the_first_measurement() -> None:
    usage = GroupUsage(max_age=0.0)  # every poll finds the last measurement stale
    with trio.fail_after(30):
        process = await trio.lowlevel.open_process(
            [sys.executable, "-c", "import time; print('up', flush=True); time.sleep(30)"],
            stdout=subprocess.PIPE,
        )
        try:
            # Measured before its exec, the child would be a sliver of the test's process.
            assert process.stdout is not None
            assert (await process.stdout.receive_some(16)).startswith(b"up")
            async with trio.open_nursery() as refresher:
                first = await usage.get(process.pid, refresher)
                assert first is not None and first[0] > 1  # resident MiB of a Python
                # A poll returns the last figures at once, and asks for new ones.
                with trio.testing.assert_no_checkpoints():
                    again = await usage.get(process.pid, refresher)
                assert again is first
            # The refresher has measured since: the next poll gets its figures.
            with trio.testing.assert_no_checkpoints():
                later = await usage.get(process.pid, None)
            assert later is not None and later is not first and later[0] > 1
        finally:
            process.kill()
            with trio.CancelScope(shield=True):
                await process.wait()


async def test_a_child_outlives_the_worker_threads_of_its_spawn(tmp_path) -> None:
    """A child dies with the service (parent-death signal), which the kernel ties to
    the thread that forked it: forked from one of trio's worker threads, it was killed
    once that thread retired (idle for ``IDLE_TIMEOUT``), a few seconds into its life."""
    from trio._core._thread_cache import IDLE_TIMEOUT

    assert IDLE_TIMEOUT == 10  # the wait below outlasts it
    env = {"PATH": "/usr/bin:/bin"}
    limits = ChildLimits(memory_bytes=1 << 30)
    with trio.fail_after(IDLE_TIMEOUT + 20):
        process = await spawn_child(["sleep", "60"], cwd=tmp_path, env=env, limits=limits)
        try:
            # Worker threads used meanwhile (as by any spawn) retire after IDLE_TIMEOUT.
            await trio.to_thread.run_sync(lambda: None)
            await trio.sleep(IDLE_TIMEOUT + 2)
            assert process.poll() is None, describe_exit(process.returncode)
        finally:
            await terminate_group(process, grace=1)
            process.close()


async def test_a_child_and_what_it_starts_run_at_batch_scheduling(tmp_path) -> None:
    """Woken by the service (a call sent to it), a preview's process does not preempt
    the service's loop (``sandbox.child._batch_scheduled``), nor does what it starts."""
    env = {"PATH": "/usr/bin:/bin"}
    limits = ChildLimits(memory_bytes=1 << 30)
    code = (
        "import os, subprocess, sys; print(os.sched_getscheduler(0), subprocess.run("
        "[sys.executable, '-c', 'import os; print(os.sched_getscheduler(0))'],"
        " capture_output=True, text=True).stdout.strip(), flush=True)"
    )
    with trio.fail_after(30):
        argv = [sys.executable, "-c", code]
        process = await spawn_child(argv, cwd=tmp_path, env=env, limits=limits)
        try:
            said = b""
            while not said.endswith(b"\n"):  # its one line, or what it said before it ended
                chunk = await process.stdout.receive_some(64)
                if not chunk:
                    break
                said += chunk
            assert said.split() == [str(os.SCHED_BATCH).encode()] * 2, said
        finally:
            await terminate_group(process, grace=1)


async def test_an_app_reading_its_version_from_its_git_history_runs_without_one(
    builder_service: Service,
) -> None:
    """bnbong's kakaotalk-channel-weathertoday calls setuptools-scm's ``get_version()`` as
    it starts; an upload has no ``.git``: "unable to detect version", every launch. Given
    a version as a tarball's build is, it runs."""
    files = server_app(
        before_serving="from setuptools_scm import get_version\nprint('version', get_version())",
        **{"requirements.txt": "setuptools-scm\n"},
    )
    with trio.fail_after(BUILD_WAIT):
        body = await launched(builder_service, files, command=SERVER_COMMAND)
        assert body["status"] == "running", (body["errorMessage"], body["errorLines"])
        said = messages(await builder_service.history(body["gid"]), "app")
        assert "version 0.0.0" in said, said[-5:]
        await builder_service.stop(body["gid"])
