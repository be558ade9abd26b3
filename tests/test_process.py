"""preview.process.GroupUsage against a real child process."""

from __future__ import annotations

import subprocess
import sys

import trio
import trio.testing

from preview.process import GroupUsage


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
