"""One huge line costs the service a bounded amount of memory, and every piece of it is
published and stored."""

from __future__ import annotations

import gc
import os
import re
from dataclasses import replace
from pathlib import Path

import psutil
import trio
import trio.testing

from preview.api.feed import PAGE_BYTES
from preview.logs import SPLIT_MARK, Gap, LogBroadcast

from ..conftest import SERVER_COMMAND, auth, running_service, server_app

_MIB = 1024 * 1024
_LINE_MIB = 50
_BOUND_MIB = 64


def _reset_peak_rss() -> bool:
    """Reset VmHWM (Linux >= 4.0: write 5 to clear_refs); False where that is refused."""
    try:
        Path("/proc/self/clear_refs").write_text("5")
    except OSError:
        return False
    return True


def _peak_rss() -> int:
    status = Path("/proc/self/status").read_text()
    return int(re.search(r"VmHWM:\s+(\d+) kB", status).group(1)) * 1024


async def test_a_huge_line_costs_bounded_memory_and_is_stored_whole(settings) -> None:
    # The child writes one 50 MiB line with no newline, in 1 MiB writes, then serves.
    files = server_app(
        before_serving=f"""
        block = "x" * {_MIB}
        for _ in range({_LINE_MIB}):
            sys.stdout.write(block)
        sys.stdout.flush()
        """
    )
    # 50 MiB through the pipe before it serves: on a loaded machine (CI at load 10 and
    # more) that took past the default 20 s to answer.
    settings = replace(settings, startup_timeout=90.0)
    process = psutil.Process(os.getpid())
    with trio.fail_after(120):
        async with running_service(settings) as service:
            gid = await service.upload(files)
            gc.collect()
            baseline = process.memory_info().rss
            peak = baseline
            assert _reset_peak_rss()

            async def sample() -> None:
                nonlocal peak
                while True:
                    peak = max(peak, process.memory_info().rss)
                    await trio.sleep(0.005)

            async with trio.open_nursery() as nursery:
                nursery.start_soon(sample)
                body = (await service.launch(gid, command=SERVER_COMMAND)).json()
                assert body["status"] == "running", (body["errorMessage"], body["errorLines"])
                runtime = service.supervisor.get(body["previewInstanceId"])
                expected = -(-_LINE_MIB * _MIB // settings.max_line_bytes)  # pieces
                while runtime.broadcast.persisted_id < expected + 4:  # noqa: ASYNC110
                    await trio.sleep(0.01)
                assert (await service.stop(gid)).status_code == 200
                nursery.cancel_scope.cancel()
            peak = max(peak, _peak_rss())
            gc.collect()
            after = process.memory_info().rss
            growth, kept = (peak - baseline) / _MIB, (after - baseline) / _MIB
            print(f"RSS baseline {baseline / _MIB:.0f} MiB, peak +{growth:.0f}, after +{kept:.0f}")
            stored = await service.store.count_log_events(body["previewInstanceId"])
            pieces = [
                e
                for e in (
                    await service.client.get(
                        f"/api/generations/{gid}/preview/logs",
                        params={"source": "app", "limit": 3},
                        headers=auth(),
                    )
                ).json()["events"]
                if e["message"].endswith(SPLIT_MARK)
            ]
            assert pieces and len(pieces[0]["message"]) == settings.max_line_bytes + len(SPLIT_MARK)
            assert stored >= expected
            page = (
                await service.client.get(
                    f"/api/generations/{gid}/preview/logs",
                    params={"source": "app", "limit": 5000},
                    headers=auth(),
                )
            ).json()  # cut at about PAGE_BYTES, not 5,000 pieces (80 MiB)
            assert page["hasMore"] and 0 < len(page["events"]) <= PAGE_BYTES // 16_384
            assert page["nextAfter"] == page["events"][-1]["id"]
            assert growth < _BOUND_MIB, growth
            assert kept < _BOUND_MIB / 2, kept


async def test_the_ring_and_the_writer_queue_are_bounded_in_bytes() -> None:
    broadcast = LogBroadcast(
        ring_size=1000, subscriber_buffer=1000, ring_bytes=200_000, writer_bytes=100_000
    )
    piece = "x" * 10_000  # costs about 30 KB (message and its two encodings)
    with trio.fail_after(5):
        for _ in range(3):
            await broadcast.publish("INFO", piece, "app", "stdout")
        blocked = trio.Event()

        async def publish_more() -> None:
            await broadcast.publish("INFO", piece, "app", "stdout")
            await broadcast.publish("INFO", piece, "app", "stdout")
            blocked.set()

        async with trio.open_nursery() as nursery:
            nursery.start_soon(publish_more)
            await trio.testing.wait_all_tasks_blocked()
            assert not blocked.is_set()  # the writer queue is full: producers wait
            batch = broadcast.take_pending_nowait(1000, max_bytes=40_000)
            assert [event.id for event in batch] == [1, 2]
            await blocked.wait()
        for _ in range(10):
            broadcast.take_pending_nowait(1000)
            await broadcast.publish("INFO", piece, "app", "stdout")
        assert 5 <= len(broadcast._ring) <= 6  # 200 KB of 30 KB events, not 15
        with broadcast.subscribe(after=0) as late:
            gap = late.receive_nowait()
            assert (
                isinstance(gap, Gap) and gap.before == broadcast.last_id - len(broadcast._ring) + 1
            )
