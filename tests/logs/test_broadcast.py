"""Tests for preview.broadcast.LogBroadcast (in memory) and the batched log writer."""

from __future__ import annotations

import itertools
import json
from datetime import datetime
from typing import Any

import pytest
import trio
import trio.testing

from preview.logs import (
    HEARTBEAT,
    WAKE_GROUP,
    Event,
    Gap,
    LogBroadcast,
    Subscription,
    write_log_events,
)
from preview.store import Generation, PreviewInstance, Store

T0 = datetime(2026, 11, 21, 12, 0, 0, 123456)


def make(ring_size: int = 100, subscriber_buffer: int = 100, writer_buffer: int = 8192):
    return LogBroadcast(
        ring_size=ring_size, subscriber_buffer=subscriber_buffer, writer_buffer=writer_buffer
    )


async def publish_n(broadcast: LogBroadcast, n: int, **kw: Any) -> list[Event]:
    return [await broadcast.publish("INFO", f"line {i}", "app", "stdout", **kw) for i in range(n)]


def take_nowait(subscription: Subscription) -> tuple[list[Any], bool]:
    """What the subscription gives without waiting (event ids, Gaps and heartbeats, in
    order), and whether it has ended."""
    items: list[Any] = []
    while True:
        try:
            item = subscription.receive_nowait()
        except trio.WouldBlock:
            return items, False
        except trio.EndOfChannel:
            return items, True
        if isinstance(item, list):
            items.extend(event.id for event in item)
        else:
            items.append(item)


# --------------------------------------------------------------------------- events


async def test_ids_start_at_one_and_are_contiguous() -> None:
    broadcast = make()
    assert broadcast.last_id == 0
    events = await publish_n(broadcast, 50)
    events.append(await broadcast.publish("INFO", "s", "system", status="running"))
    assert [e.id for e in events] == list(range(1, 52))
    assert broadcast.last_id == 51


def test_event_json_and_sse_encoding() -> None:
    plain = Event(7, T0, "WARNING", "hello", "app", "stderr")
    assert json.loads(plain.json) == {
        "id": 7,
        "timestamp": "2026-11-21T12:00:00.123Z",
        "level": "WARNING",
        "message": "hello",
        "source": "app",
        "stream": "stderr",
    }
    assert plain.sse == f"id: 7\ndata: {plain.json}\n\n".encode()

    status = Event(8, T0, "INFO", "ready", "system", None, "running")
    assert json.loads(status.json) == {
        "id": 8,
        "timestamp": "2026-11-21T12:00:00.123Z",
        "level": "INFO",
        "message": "ready",
        "source": "system",
        "stream": None,
        "status": "running",
    }
    # A lifecycle event is a default message too: onmessage sees it (issue 18).
    assert status.sse == f"id: 8\ndata: {status.json}\n\n".encode()


async def test_published_event_timestamp_is_utc_with_z() -> None:
    broadcast = make()
    event = await broadcast.publish("INFO", "x", "app", "stdout")
    stamp = json.loads(event.json)["timestamp"]
    assert stamp.endswith("Z")
    parsed = datetime.strptime(stamp, "%Y-%m-%dT%H:%M:%S.%fZ")
    assert parsed == event.timestamp.replace(microsecond=event.timestamp.microsecond // 1000 * 1000)


@pytest.mark.parametrize("status", [None, "failed"])
def test_hostile_message_stays_in_one_data_line(status: str | None) -> None:
    message = (
        "a\rb\nc\r\nd\u2028e\u2029f\x85g</script>\ndata: x\n\nid: 99\nevent: end\n\x00\x1b[31m"
    )
    event = Event(3, T0, "ERROR", message, "app", "stdout", status)
    frame = event.sse
    assert frame.endswith(b"\n\n")
    assert b"\r" not in frame
    lines = frame[:-2].split(b"\n")
    expected_head = [b"id: 3"]
    assert lines[:-1] == expected_head
    assert len(lines) == len(expected_head) + 1
    data_lines = [line for line in lines if line.startswith(b"data:")]
    assert len(data_lines) == 1
    payload = data_lines[0].removeprefix(b"data: ").decode()
    assert "\r" not in event.json and "\n" not in event.json
    assert payload == event.json
    assert json.loads(payload)["message"] == message


# --------------------------------------------------------------------------- replay


async def test_subscribe_replays_exactly_ids_after() -> None:
    broadcast = make()
    await publish_n(broadcast, 5)
    for after, expected in [(2, [3, 4, 5]), (0, [1, 2, 3, 4, 5]), (-7, [1, 2, 3, 4, 5])]:
        with broadcast.subscribe(after) as sub:
            assert take_nowait(sub) == (expected, False)
    for after in (5, 6, 99):
        with broadcast.subscribe(after) as sub:
            assert take_nowait(sub) == ([], False)

    # Live events come after the replay, never twice.
    with broadcast.subscribe(3) as sub:
        await publish_n(broadcast, 2)
        assert take_nowait(sub) == ([4, 5, 6, 7], False)
        await publish_n(broadcast, 1)
        assert take_nowait(sub) == ([8], False)


async def test_ring_overflow_reports_the_gap() -> None:
    broadcast = make(ring_size=10)
    await publish_n(broadcast, 25)
    for after in (3, 0, 14):
        with broadcast.subscribe(after) as sub:
            assert take_nowait(sub) == ([Gap(after, 16), *range(16, 26)], False)
    with broadcast.subscribe(15) as sub:
        assert take_nowait(sub) == (list(range(16, 26)), False)
    with broadcast.subscribe(20) as sub:
        assert take_nowait(sub) == (list(range(21, 26)), False)


async def test_subscriber_overtaken_by_the_ring_gets_a_gap_not_a_drop() -> None:
    # Within its buffer but older than the ring: read the gap from the database.
    broadcast = make(ring_size=10, subscriber_buffer=100)
    with broadcast.subscribe(0) as sub:
        await publish_n(broadcast, 5)
        assert take_nowait(sub) == ([1, 2, 3, 4, 5], False)
        await publish_n(broadcast, 30)
        assert take_nowait(sub) == ([Gap(5, 26), *range(26, 36)], False)
        assert not sub.dropped


async def test_subscribe_to_empty_broadcast() -> None:
    broadcast = make()
    with broadcast.subscribe(0) as sub:
        assert take_nowait(sub) == ([], False)
        assert broadcast.subscriber_count == 1
        await broadcast.publish("INFO", "first", "app", "stdout")
        assert take_nowait(sub) == ([1], False)
    assert broadcast.subscriber_count == 0


async def test_subscribe_with_empty_ring_after_events() -> None:
    broadcast = make(ring_size=0)
    await publish_n(broadcast, 5)
    with broadcast.subscribe(2) as sub:
        assert take_nowait(sub) == ([Gap(2, 6)], False)
    with broadcast.subscribe(5) as sub:
        assert take_nowait(sub) == ([], False)


# --------------------------------------------------------------------------- fan-out


async def test_two_subscribers_receive_every_event_once_in_order() -> None:
    n = 2000
    broadcast = make(subscriber_buffer=16)
    got: dict[str, list[int]] = {"a": [], "b": []}
    batches: dict[str, int] = {"a": 0, "b": 0}

    async def reader(name: str, sub: Subscription) -> None:
        with sub:
            while True:
                try:
                    batch = await sub.receive()
                except trio.EndOfChannel:
                    break
                batches[name] += 1
                got[name].extend(event.id for event in batch)

    with trio.fail_after(10):
        async with trio.open_nursery() as nursery:
            for name in got:
                nursery.start_soon(reader, name, broadcast.subscribe(0))
            for i in range(n):
                await broadcast.publish("INFO", f"line {i}", "app", "stdout")
                if i % 8 == 7:
                    # Let the readers catch up (they would be dropped at 16 behind).
                    await trio.testing.wait_all_tasks_blocked()
            broadcast.close("stopped")
    assert got == {"a": list(range(1, n + 1)), "b": list(range(1, n + 1))}
    # A reader takes what waits in one batch: one per catch-up, not one per event.
    assert batches == {"a": n // 8, "b": n // 8}


async def test_publish_wakes_a_waiting_subscriber() -> None:
    broadcast = make()
    received: list[list[int]] = []

    async def reader(sub: Subscription) -> None:
        received.append([event.id for event in await sub.receive()])

    with trio.fail_after(5), broadcast.subscribe(0) as sub:
        async with trio.open_nursery() as nursery:
            nursery.start_soon(reader, sub)
            await trio.testing.wait_all_tasks_blocked()
            assert received == []
            await broadcast.publish_lines(
                [("INFO", "a"), ("ERROR", "b"), ("INFO", "c")], "app", "stderr", T0
            )
    assert received == [[1, 2, 3]]


async def test_slow_subscriber_is_dropped_fast_one_gets_everything() -> None:
    broadcast = make(subscriber_buffer=5, writer_buffer=1000)
    fast_ids: list[int] = []
    with trio.fail_after(10):
        slow = broadcast.subscribe(0)
        fast = broadcast.subscribe(0)
        assert broadcast.subscriber_count == 2

        async def read_fast() -> None:
            while True:
                try:
                    batch = await fast.receive()
                except trio.EndOfChannel:
                    return
                fast_ids.extend(event.id for event in batch)

        async with trio.open_nursery() as nursery:
            nursery.start_soon(read_fast)
            for i in range(100):
                await broadcast.publish("INFO", f"line {i}", "app", "stdout")
                await trio.testing.wait_all_tasks_blocked()
                broadcast.drop_laggards()  # the runtime's periodic check
                if i == 4:  # five behind: still within its buffer
                    assert not slow.dropped
                if i == 5:  # six behind, and it took nothing since the last check
                    assert slow.dropped
                    assert broadcast.subscriber_count == 1
                    assert broadcast.dropped_count == 1
            assert len(fast_ids) == 100
            broadcast.close("stopped")

    assert fast_ids == list(range(1, 101))
    assert not fast.dropped
    # The slow one's next receive ends: its client resumes by id.
    assert take_nowait(slow) == ([], True)
    assert slow.dropped
    assert broadcast.subscriber_count == 0


async def test_a_subscriber_far_behind_that_keeps_taking_is_never_dropped() -> None:
    broadcast = make(ring_size=10, subscriber_buffer=5, writer_buffer=1000)
    with broadcast.subscribe(0) as sub:
        broadcast.drop_laggards()
        await publish_n(broadcast, 8)
        assert take_nowait(sub) == ([1, 2, 3, 4, 5, 6, 7, 8], False)
        await publish_n(broadcast, 30)  # 30 behind, the ring holds 10
        broadcast.drop_laggards()  # it took events since the last check
        assert not sub.dropped
        assert take_nowait(sub) == ([Gap(8, 29), *range(29, 39)], False)
        await publish_n(broadcast, 6)
        broadcast.drop_laggards()
        assert not sub.dropped  # it took events since the last check
        broadcast.drop_laggards()
        assert sub.dropped  # and now it has not
        assert take_nowait(sub) == ([], True)
        assert broadcast.dropped_count == 1
        assert broadcast.subscriber_count == 0


async def test_producer_never_blocks_on_subscribers() -> None:
    broadcast = make(subscriber_buffer=5, writer_buffer=1000)
    stuck = [broadcast.subscribe(0) for _ in range(3)]
    with trio.fail_after(5):
        # No reader, no writer: 100 publishes still complete without waiting.
        await publish_n(broadcast, 100)
    assert broadcast.last_id == 100
    broadcast.drop_laggards()  # the first look only notes where each one is
    assert not any(sub.dropped for sub in stuck)
    broadcast.drop_laggards()
    assert all(sub.dropped for sub in stuck)
    assert broadcast.subscriber_count == 0
    assert broadcast.dropped_count == 3


async def test_subscriber_that_leaves_is_forgotten() -> None:
    broadcast = make()
    sub = broadcast.subscribe(0)
    other = broadcast.subscribe(0)
    assert broadcast.subscriber_count == 2
    sub.close()
    sub.close()  # idempotent
    assert broadcast.subscriber_count == 1
    await broadcast.publish("INFO", "x", "app")
    assert take_nowait(other) == ([1], False)
    assert take_nowait(sub) == ([], True)
    assert not sub.dropped


async def test_heartbeat_wakes_an_idle_subscriber_once() -> None:
    broadcast = make()
    with broadcast.subscribe(0) as sub:
        broadcast.heartbeat()
        assert take_nowait(sub) == ([HEARTBEAT], False)
        assert take_nowait(sub) == ([], False)
        with trio.fail_after(5):
            async with trio.open_nursery() as nursery:

                async def beat_later() -> None:
                    await trio.testing.wait_all_tasks_blocked()
                    broadcast.heartbeat()

                nursery.start_soon(beat_later)
                assert await sub.receive() is HEARTBEAT
        # Events waiting go first, then the heartbeat.
        broadcast.heartbeat()
        await publish_n(broadcast, 1)
        assert take_nowait(sub) == ([1, HEARTBEAT], False)


@pytest.mark.parametrize("write_time", [0, 0.003])
async def test_paced_wakeups_send_a_burst_together(autojump_clock: Any, write_time: float) -> None:
    broadcast = make()
    batches: list[tuple[float, list[int]]] = []

    async def reader(sub: Subscription) -> None:
        with sub:
            while True:
                try:
                    batch = await sub.receive()
                except trio.EndOfChannel:
                    return
                batches.append((trio.current_time(), [event.id for event in batch]))
                await trio.sleep(write_time)  # a busy subscriber comes back with events waiting

    with trio.fail_after(60):
        async with trio.open_nursery() as nursery:
            nursery.start_soon(broadcast.serve_paced_wakeups, 0.010)
            nursery.start_soon(reader, broadcast.subscribe(0))
            await trio.testing.wait_all_tasks_blocked()
            start = trio.current_time()
            # One event every 2 ms for 30 ms: the first goes out at once, the rest at
            # most once per 10 ms, together.
            for _ in range(15):
                await broadcast.publish("INFO", "x", "app", "stdout")
                await trio.sleep(0.002)
            await trio.sleep(1)  # quiet: the next event goes out at once again
            quiet_end = trio.current_time()
            await broadcast.publish("INFO", "y", "app", "stdout")
            await trio.testing.wait_all_tasks_blocked()
            nursery.cancel_scope.cancel()
    ids = [i for _, batch in batches for i in batch]
    assert ids == list(range(1, 17))
    times = [t - start for t, _ in batches]
    assert batches[0][1] == [1] and times[0] == 0
    assert len(batches) <= 6  # 15 events over 30 ms: about one write per 10 ms
    assert all(b - a >= 0.010 - 1e-9 for a, b in itertools.pairwise(times[:-1]))
    assert batches[-1] == (quiet_end, [16])


async def test_pacing_lasts_while_any_pacer_runs(autojump_clock: Any) -> None:
    """While a revision is applied live, the old and the new process each pace the
    log; the old one's end leaves the new one's pacing on."""
    broadcast = make()
    batches: list[list[int]] = []

    async def reader(sub: Subscription) -> None:
        with sub:
            while True:
                try:
                    batches.append([event.id for event in await sub.receive()])
                except trio.EndOfChannel:
                    return

    with trio.fail_after(60):
        async with trio.open_nursery() as nursery:
            old = trio.CancelScope()

            async def old_pacer() -> None:
                with old:
                    await broadcast.serve_paced_wakeups(0.010)

            nursery.start_soon(old_pacer)
            nursery.start_soon(broadcast.serve_paced_wakeups, 0.010)
            nursery.start_soon(reader, broadcast.subscribe(0))
            await trio.testing.wait_all_tasks_blocked()
            old.cancel()
            await trio.testing.wait_all_tasks_blocked()
            for _ in range(15):  # one event every 2 ms for 30 ms
                await broadcast.publish("INFO", "x", "app", "stdout")
                await trio.sleep(0.002)
            await trio.sleep(0.1)
            nursery.cancel_scope.cancel()
    assert [i for batch in batches for i in batch] == list(range(1, 16))
    assert len(batches) <= 6  # paced: about one write per 10 ms, not one per event


class _PassCounter(trio.abc.Instrument):
    """Counts the scheduler's passes (each starts with an I/O check)."""

    def __init__(self) -> None:
        self.passes = 0

    def before_io_wait(self, timeout: float) -> None:
        self.passes += 1


async def test_a_paced_wakeup_lets_a_few_subscribers_run_per_scheduler_pass(
    autojump_clock: Any,
) -> None:
    broadcast = make()
    count = 5 * WAKE_GROUP + 3
    counter = _PassCounter()
    took_at_pass: list[int] = []
    bystander_passes: list[int] = []

    async def reader(sub: Subscription) -> None:
        with sub:
            assert [event.id for event in await sub.receive()] == [1]
            took_at_pass.append(counter.passes)

    async def bystander() -> None:  # another task with work to do, e.g. an API request
        while len(took_at_pass) < count:
            bystander_passes.append(counter.passes)
            await trio.lowlevel.checkpoint()

    with trio.fail_after(60):
        async with trio.open_nursery() as nursery:
            nursery.start_soon(broadcast.serve_paced_wakeups, 0.010)
            for _ in range(count):
                nursery.start_soon(reader, broadcast.subscribe(0))
            await trio.testing.wait_all_tasks_blocked()
            trio.lowlevel.add_instrument(counter)
            try:
                await broadcast.publish("INFO", "x", "app", "stdout")
                await bystander()
            finally:
                trio.lowlevel.remove_instrument(counter)
            nursery.cancel_scope.cancel()
    per_pass = [sum(1 for p in took_at_pass if p == n) for n in sorted(set(took_at_pass))]
    assert sum(per_pass) == count
    assert max(per_pass) <= WAKE_GROUP
    # Every subscriber got the event at this one wake-up, and the bystander ran in
    # between: once per pass, not once the 43 writes were done.
    assert max(took_at_pass) - min(took_at_pass) < 2 * len(per_pass)
    assert sum(1 for p in bystander_passes if p <= max(took_at_pass)) >= len(per_pass)


async def test_paced_subscriber_gets_a_gap_and_the_ring_at_one_wakeup(
    autojump_clock: Any,
) -> None:
    broadcast = make(ring_size=10, subscriber_buffer=100)
    with trio.fail_after(60):
        async with trio.open_nursery() as nursery:
            nursery.start_soon(broadcast.serve_paced_wakeups, 0.010)
            await trio.testing.wait_all_tasks_blocked()
            with broadcast.subscribe(0) as sub:
                await publish_n(broadcast, 3)
                assert [event.id for event in await sub.receive()] == [1, 2, 3]
                await publish_n(broadcast, 30)
                assert take_nowait(sub) == ([], False)  # took at this wake-up already
                assert await sub.receive() == Gap(3, 24)
                assert take_nowait(sub) == (list(range(24, 34)), False)
            nursery.cancel_scope.cancel()


async def test_publish_lines_numbers_and_stamps_them_together() -> None:
    broadcast = make()
    await broadcast.publish_lines([], "app", "stdout", T0)  # nothing: no event
    await broadcast.publish_lines([("INFO", "a"), ("WARN", "b")], "app", "stdout", T0)
    await broadcast.publish("INFO", "c", "system")
    events = await broadcast.take_pending(10)
    assert [(e.id, e.level, e.message, e.stream) for e in events] == [
        (1, "INFO", "a", "stdout"),
        (2, "WARN", "b", "stdout"),
        (3, "INFO", "c", None),
    ]
    assert events[0].timestamp is events[1].timestamp is T0
    broadcast.close("stopped")
    with pytest.raises(trio.ClosedResourceError):
        await broadcast.publish_lines([("INFO", "late")], "app", "stdout", T0)


# --------------------------------------------------------------------------- close


async def test_close_ends_live_subscribers_after_what_was_published() -> None:
    broadcast = make()
    sub = broadcast.subscribe(0)
    await publish_n(broadcast, 3)
    await broadcast.publish("INFO", "stopped", "system", status="stopped")
    broadcast.close("stopped")
    assert broadcast.closed
    assert broadcast.final_status == "stopped"
    assert broadcast.subscriber_count == 0
    assert take_nowait(sub) == ([1, 2, 3, 4], True)
    assert not sub.dropped

    # Subscribing after close: the replay, then the end.
    late = broadcast.subscribe(1)
    assert take_nowait(late) == ([2, 3, 4], True)
    assert not late.dropped
    assert broadcast.subscriber_count == 0

    with pytest.raises(trio.ClosedResourceError):
        await broadcast.publish("INFO", "too late", "app")
    assert broadcast.last_id == 4

    broadcast.close("failed")  # idempotent: the first final status stays
    assert broadcast.final_status == "stopped"


async def test_close_wakes_a_waiting_subscriber() -> None:
    broadcast = make()
    with trio.fail_after(5), broadcast.subscribe(0) as sub:
        async with trio.open_nursery() as nursery:

            async def close_later() -> None:
                await trio.testing.wait_all_tasks_blocked()
                broadcast.close("stopped")

            nursery.start_soon(close_later)
            with pytest.raises(trio.EndOfChannel):
                await sub.receive()


# --------------------------------------------------------------------------- writer side


async def test_writer_backpressure_blocks_publish() -> None:
    broadcast = make(writer_buffer=10)
    returned: list[int] = []

    async def producer() -> None:
        for i in range(10):
            event = await broadcast.publish("INFO", f"line {i}", "app")
            returned.append(event.id)

    with trio.fail_after(10):
        async with trio.open_nursery() as nursery:
            nursery.start_soon(producer)
            await trio.testing.wait_all_tasks_blocked()
            # Nine publishes returned; the tenth filled the queue and waits for the writer.
            assert returned == list(range(1, 10))
            assert broadcast.last_id == 10
            await trio.testing.wait_all_tasks_blocked()
            assert returned == list(range(1, 10))

            # One writer cycle (take, store, mark) releases it.
            batch = await broadcast.take_pending(100)
            assert [e.id for e in batch] == list(range(1, 11))
            broadcast.mark_persisted(batch[-1].id)
        assert returned == list(range(1, 11))


async def test_writer_backpressure_with_a_real_writer_loop() -> None:
    broadcast = make(writer_buffer=10)
    written: list[int] = []

    async def writer() -> None:
        while batch := await broadcast.take_pending(4):
            written.extend(e.id for e in batch)
            await trio.lowlevel.checkpoint()  # stands in for the database round trip
            broadcast.mark_persisted(batch[-1].id)

    with trio.fail_after(10):
        async with trio.open_nursery() as nursery:
            nursery.start_soon(writer)
            for i in range(500):
                await broadcast.publish("INFO", f"line {i}", "app")
                # The producer is never more than writer_buffer events ahead of the writer.
                assert broadcast.last_id - broadcast.persisted_id <= 10 + 4
            broadcast.close("stopped")
    assert written == list(range(1, 501))
    assert broadcast.persisted_id == 500


async def test_take_pending_batches_in_order_then_empty_after_close() -> None:
    broadcast = make(writer_buffer=100)
    await publish_n(broadcast, 25)
    assert [e.id for e in await broadcast.take_pending(10)] == list(range(1, 11))
    assert [e.id for e in await broadcast.take_pending(10)] == list(range(11, 21))
    await publish_n(broadcast, 2)
    broadcast.close("stopped")
    # Closed but not drained: the rest first, then [].
    assert [e.id for e in await broadcast.take_pending(10)] == list(range(21, 28))
    with trio.fail_after(5):
        assert await broadcast.take_pending(10) == []
        assert await broadcast.take_pending(10) == []


async def test_take_pending_waits_for_events_and_for_close() -> None:
    broadcast = make()
    batches: list[list[int]] = []

    async def taker() -> None:
        while batch := await broadcast.take_pending(100):
            batches.append([e.id for e in batch])

    with trio.fail_after(5):
        async with trio.open_nursery() as nursery:
            nursery.start_soon(taker)
            await trio.testing.wait_all_tasks_blocked()
            assert batches == []
            await publish_n(broadcast, 3)
            await trio.testing.wait_all_tasks_blocked()
            assert batches == [[1, 2, 3]]
            broadcast.close("stopped")  # wakes the parked taker, which returns
    assert batches == [[1, 2, 3]]


async def test_wait_persisted_returns_after_mark_persisted() -> None:
    broadcast = make()
    await publish_n(broadcast, 10)
    done = trio.Event()

    async def waiter() -> None:
        await broadcast.wait_persisted(5)
        done.set()

    with trio.fail_after(5):
        await broadcast.wait_persisted(0)  # nothing to wait for
        async with trio.open_nursery() as nursery:
            nursery.start_soon(waiter)
            await trio.testing.wait_all_tasks_blocked()
            assert not done.is_set()
            broadcast.mark_persisted(3)
            await trio.testing.wait_all_tasks_blocked()
            assert not done.is_set()
            broadcast.mark_persisted(7)
            await done.wait()
        broadcast.mark_persisted(4)  # never goes backwards
        assert broadcast.persisted_id == 7
        await broadcast.wait_persisted(7)


async def test_wait_for_status_change() -> None:
    broadcast = make()
    changed = trio.Event()

    async def watcher() -> None:
        await broadcast.wait_for_status_change()
        changed.set()

    with trio.fail_after(5):
        async with trio.open_nursery() as nursery:
            nursery.start_soon(watcher)
            await trio.testing.wait_all_tasks_blocked()
            await broadcast.publish("INFO", "plain line", "app", "stdout")
            await trio.testing.wait_all_tasks_blocked()
            assert not changed.is_set()
            await broadcast.publish("INFO", "ready", "system", status="running")
            await changed.wait()

        # close wakes a waiter too
        changed = trio.Event()
        async with trio.open_nursery() as nursery:
            nursery.start_soon(watcher)
            await trio.testing.wait_all_tasks_blocked()
            assert not changed.is_set()
            broadcast.close("stopped")
            await changed.wait()

        # and once closed it returns at once
        with trio.move_on_after(1) as scope:
            await broadcast.wait_for_status_change()
        assert not scope.cancelled_caught


# --------------------------------------------------------------------------- integration


async def test_write_log_events_persists_everything(tmp_path: Any) -> None:
    n = 20_000
    broadcast = make(ring_size=1000, subscriber_buffer=10, writer_buffer=1024)
    with trio.fail_after(120):
        store = await Store.open(f"sqlite:///{tmp_path}/t.db")
        try:
            await store.add_generation(
                Generation(
                    id="g1",
                    user_id="u1",
                    project_id=None,
                    created_at=T0,
                    file_count=0,
                    total_bytes=0,
                ),
                {},
            )
            await store.add_preview(
                PreviewInstance(
                    id="p1",
                    generation_id="g1",
                    user_id="u1",
                    status="running",
                    created_at=T0,
                    expires_at=T0,
                    preview_token_hash="0" * 64,
                    token_expires_at=T0,
                )
            )
            published: list[Event] = []
            async with trio.open_nursery() as nursery:
                nursery.start_soon(write_log_events, store, "p1", broadcast)
                for i in range(n):
                    level = "ERROR" if i % 7 == 0 else "INFO"
                    stream = "stderr" if i % 2 else "stdout"
                    published.append(
                        await broadcast.publish(level, f"line {i} \u00e9\U0001f389", "app", stream)
                    )
                published.append(
                    await broadcast.publish("INFO", "stopped", "system", status="stopped")
                )
                broadcast.close("stopped")
                # the writer returns by itself once the queue is drained

            assert broadcast.persisted_id == n + 1
            rows = await store.log_events("p1", limit=None)
            assert [r.seq for r in rows] == list(range(1, n + 2))
            assert [r.message for r in rows] == [e.message for e in published]
            assert [(r.level, r.stream, r.status) for r in rows] == [
                (e.level, e.stream, e.status) for e in published
            ]
            # History rows encode exactly like the live events.
            for i in (0, 1, 4999, 5000, n - 1, n):
                assert Event.from_row(rows[i]).json == published[i].json
        finally:
            await store.aclose()


def test_hand_assembled_json_equals_json_dumps() -> None:
    messages = ['q"b\\c\r\n\x00\x1b[31m</script>\u2028é😀', "", "plain", "\ud7ff\ufffd"]
    for message in messages:
        for status in (None, "running"):
            for stream in (None, "stderr"):
                event = Event(
                    7,
                    datetime(2026, 11, 21, 12, 0, 0, 123456),
                    "WARN",
                    message,
                    "app",
                    stream,
                    status,
                )
                expected = json.dumps(event.to_dict(), ensure_ascii=False, separators=(",", ":"))
                assert event.json == expected


# --------------------------------------------------------------------------- the gate


async def test_a_gated_broadcast_shows_subscribers_what_was_revealed_and_followers_all() -> None:
    # A cluster owner's: its subscribers take a batch once its live tail has it.
    broadcast = make()
    broadcast.gate()
    with broadcast.subscribe(0) as sub, broadcast.follow() as follower:
        await publish_n(broadcast, 5)
        assert take_nowait(sub) == ([], False)
        assert take_nowait(follower) == ([1, 2, 3, 4, 5], False)
        broadcast.reveal(3)
        assert take_nowait(sub) == ([1, 2, 3], False)
        broadcast.reveal(2)  # never backwards
        await publish_n(broadcast, 2)
        broadcast.reveal(99)  # never past what was published
        assert broadcast.visible_id == 7
        assert take_nowait(sub) == ([4, 5, 6, 7], False)
        with broadcast.subscribe(0) as late:  # a resume: the ring up to the gate
            await publish_n(broadcast, 1)
            assert take_nowait(late) == ([1, 2, 3, 4, 5, 6, 7], False)
        broadcast.close("stopped")  # the end shows whatever the gate held
        assert take_nowait(sub) == ([8], True)


async def test_a_gated_subscriber_behind_the_ring_gets_its_gap_then_what_was_revealed() -> None:
    broadcast = make(ring_size=10)
    broadcast.gate()
    with broadcast.subscribe(0) as sub:
        await publish_n(broadcast, 25)
        broadcast.reveal(20)
        assert take_nowait(sub) == ([Gap(0, 16), 16, 17, 18, 19, 20], False)
        broadcast.ungate()
        assert take_nowait(sub) == ([21, 22, 23, 24, 25], False)
        await publish_n(broadcast, 1)
        assert take_nowait(sub) == ([26], False)


async def test_a_waiting_gated_subscriber_wakes_at_the_reveal() -> None:
    broadcast = make()
    broadcast.gate()
    got: list[int] = []

    async def receive(sub: Subscription) -> None:
        with sub:
            item = await sub.receive()
            assert isinstance(item, list)
            got.extend(event.id for event in item)

    with trio.fail_after(10):
        async with trio.open_nursery() as nursery:
            nursery.start_soon(receive, broadcast.subscribe(0))
            await trio.testing.wait_all_tasks_blocked()
            await publish_n(broadcast, 3)
            await trio.testing.wait_all_tasks_blocked()
            assert got == []
            broadcast.reveal(2)
    assert got == [1, 2]


class _TaskSteps(trio.abc.Instrument):
    """How many times each task ran (a step: from a wake-up to its next wait)."""

    def __init__(self) -> None:
        self.steps: dict[trio.lowlevel.Task, int] = {}

    def before_task_step(self, task: trio.lowlevel.Task) -> None:
        self.steps[task] = self.steps.get(task, 0) + 1


async def test_a_gated_publish_wakes_the_follower_and_no_subscriber() -> None:
    # Subscribers of a gated broadcast can take nothing until the reveal: waking them at
    # each publish would only park them again (a cluster owner's every batch, every one).
    broadcast = make()
    broadcast.gate()
    steps = _TaskSteps()
    tasks: dict[str, trio.lowlevel.Task] = {}
    followed: list[int] = []

    async def subscriber(sub: Subscription) -> None:
        tasks["subscriber"] = trio.lowlevel.current_task()
        with sub:
            while True:
                item = await sub.receive()
                assert isinstance(item, list)

    async def follower(sub: Subscription) -> None:
        tasks["follower"] = trio.lowlevel.current_task()
        with sub:
            while True:
                item = await sub.receive()
                assert isinstance(item, list)
                followed.extend(event.id for event in item)

    with trio.fail_after(10):
        async with trio.open_nursery() as nursery:
            nursery.start_soon(subscriber, broadcast.subscribe(0))
            nursery.start_soon(follower, broadcast.follow())
            await trio.testing.wait_all_tasks_blocked()
            trio.lowlevel.add_instrument(steps)
            try:
                for _ in range(5):
                    await publish_n(broadcast, 2)
                    await trio.testing.wait_all_tasks_blocked()
            finally:
                trio.lowlevel.remove_instrument(steps)
            nursery.cancel_scope.cancel()
    assert followed == list(range(1, 11))
    assert steps.steps.get(tasks["follower"], 0) == 5
    assert steps.steps.get(tasks["subscriber"], 0) == 0


async def test_a_follower_takes_each_publish_at_once_while_wakeups_are_paced() -> None:
    # The tail writer is not paced: what was published while it appended is its next
    # batch, so a subscriber's wait for the reveal is one append, not a pacing interval.
    broadcast = make()
    broadcast.gate()
    with trio.fail_after(10):
        async with trio.open_nursery() as nursery:
            nursery.start_soon(broadcast.serve_paced_wakeups, 3600.0)
            await trio.testing.wait_all_tasks_blocked()
            with broadcast.follow() as follower:
                for first in (1, 3, 5):
                    await publish_n(broadcast, 2)
                    item = await follower.receive()
                    assert isinstance(item, list)
                    assert [event.id for event in item] == [first, first + 1]
            nursery.cancel_scope.cancel()
