"""The writer's queue is bounded in bytes as well as in events: long lines waiting for a
slow or unreachable database hold the producer back, not the service's memory."""

from __future__ import annotations

import trio
import trio.testing

from preview.logs import LogBroadcast

LINE = "x" * 1000
# What one such event counts against the byte bounds (``broadcast._cost``: its message,
# kept also as JSON and SSE, and a fixed overhead).
COST = 3 * len(LINE) + 256


async def test_long_lines_waiting_for_the_writer_block_publish_at_the_byte_bound() -> None:
    broadcast = LogBroadcast(
        ring_size=100, subscriber_buffer=100, writer_buffer=1000, writer_bytes=10 * COST
    )
    returned: list[int] = []

    async def producer() -> None:
        for _ in range(30):
            returned.append((await broadcast.publish("INFO", LINE, "app")).id)

    with trio.fail_after(10):
        async with trio.open_nursery() as nursery:
            nursery.start_soon(producer)
            await trio.testing.wait_all_tasks_blocked()
            # 10 events of 1,000 characters fill the queue: the tenth publish waits.
            assert broadcast.last_id == 10 and returned == list(range(1, 10))

            # The writer takes a batch within the same bound; the producer goes on.
            batch = broadcast.take_pending_nowait(5000, 10 * COST)
            assert [event.id for event in batch] == list(range(1, 11))
            await trio.testing.wait_all_tasks_blocked()
            assert broadcast.last_id == 20  # the batch in the writer's hands does not count

            # A batch never holds more than the bound (unless one line alone is longer).
            broadcast.mark_persisted(10)
            while len(returned) < 30:
                batch = broadcast.take_pending_nowait(5000, 10 * COST)
                assert 1 <= len(batch) <= 10
                broadcast.mark_persisted(batch[-1].id)
                await trio.testing.wait_all_tasks_blocked()
    assert returned == list(range(1, 31))


async def test_a_line_longer_than_the_byte_bound_still_passes_alone() -> None:
    broadcast = LogBroadcast(
        ring_size=100, subscriber_buffer=100, writer_buffer=1000, writer_bytes=500
    )
    with trio.fail_after(10):
        async with trio.open_nursery() as nursery:
            nursery.start_soon(broadcast.publish, "INFO", LINE, "app")
            await trio.testing.wait_all_tasks_blocked()
            assert [event.id for event in broadcast.take_pending_nowait(10)] == [1]
