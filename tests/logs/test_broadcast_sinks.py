"""LogBroadcast with sinks: paced wake-ups write a waiting subscriber's events for it."""

from __future__ import annotations

from typing import Any

import pytest
import trio
import trio.testing

from preview.logs import OFFER_GROUP, SSE_KEEPALIVE, Gap, LogBroadcast, Subscription

from .test_broadcast import T0, _PassCounter, make, publish_n


class _Sink:
    """A sink that takes what it is told to (all, nothing, or all but a remainder)."""

    def __init__(self, mode: str = "all") -> None:
        self.mode = mode
        self.payloads: list[bytes] = []
        self.pending = False
        self.on_wake = None  # its task waits (parking: tests/transport/test_parked_streams.py)

    def offer(self, payload: bytes) -> bool:
        if self.mode == "refuse" or self.pending:
            return False
        self.payloads.append(payload)
        self.pending = self.mode == "partial"
        return True


def _sse(broadcast: LogBroadcast, first: int, last: int) -> bytes:
    return b"".join(event.sse for event in broadcast._ring if first <= event.id <= last)


async def _start_pacing(nursery: trio.Nursery, broadcast: LogBroadcast) -> None:
    """Paced wake-ups at 10 ms, running before any subscriber waits (one that parks
    before pacing starts waits in the parking lot, not for its sink)."""
    nursery.start_soon(broadcast.serve_paced_wakeups, 0.010)
    await trio.testing.wait_all_tasks_blocked()


async def _close_and_stop(nursery: trio.Nursery, broadcast: LogBroadcast) -> None:
    """Close the log, let every subscriber see its end, then stop the pacer."""
    broadcast.close("stopped")
    await trio.testing.wait_all_tasks_blocked()
    nursery.cancel_scope.cancel()


async def _receiver(sub: Subscription, sink: _Sink, into: list[Any]) -> None:
    """Receives until the end, recording event ids, Gaps, heartbeats and empty batches;
    an empty batch is the sink's remainder, which it then "writes" as a stream would."""
    with sub:
        while True:
            try:
                item = await sub.receive()
            except trio.EndOfChannel:
                into.append("end")
                return
            if isinstance(item, list):
                into.append([event.id for event in item])
                if not item:
                    sink.pending = False
            else:
                into.append(item)


async def _start_receiver(
    nursery: trio.Nursery, broadcast: LogBroadcast, sink: _Sink, into: list[Any]
) -> None:
    """A ``_receiver`` of all events with ``sink``, waiting once it returns."""
    nursery.start_soon(_receiver, broadcast.subscribe(0, sink), sink, into)
    await trio.testing.wait_all_tasks_blocked()


async def test_the_pacer_writes_a_waiting_subscribers_batches_and_its_task_sleeps_on(
    autojump_clock: Any,
) -> None:
    broadcast = make()
    sinks = [_Sink() for _ in range(3)]
    received: list[Any] = []
    with trio.fail_after(60):
        async with trio.open_nursery() as nursery:
            await _start_pacing(nursery, broadcast)
            for sink in sinks:
                await _start_receiver(nursery, broadcast, sink, received)
            await publish_n(broadcast, 3)
            await trio.testing.wait_all_tasks_blocked()
            await trio.sleep(0.05)
            await publish_n(broadcast, 2)
            await trio.sleep(0.05)
            assert received == []  # no task woke for those batches
            await _close_and_stop(nursery, broadcast)
    assert received == ["end"] * 3
    for sink in sinks:
        assert sink.payloads == [_sse(broadcast, 1, 3), _sse(broadcast, 4, 5)]
    # Encoded once for all: the three subscribers at one cursor got one bytes object.
    assert sinks[0].payloads[0] is sinks[1].payloads[0] is sinks[2].payloads[0]


async def test_a_refusing_sink_leaves_the_events_to_the_task(autojump_clock: Any) -> None:
    broadcast = make()
    sink = _Sink("refuse")
    received: list[Any] = []
    with trio.fail_after(60):
        async with trio.open_nursery() as nursery:
            await _start_pacing(nursery, broadcast)
            await _start_receiver(nursery, broadcast, sink, received)
            await publish_n(broadcast, 3)
            await trio.sleep(0.05)
            await publish_n(broadcast, 2)
            await trio.sleep(0.05)
            await _close_and_stop(nursery, broadcast)
    assert sink.payloads == []
    assert received == [[1, 2, 3], [4, 5], "end"]


async def test_a_sink_with_a_remainder_wakes_its_task_with_an_empty_batch(
    autojump_clock: Any,
) -> None:
    broadcast = make()
    sink = _Sink("partial")
    with trio.fail_after(60):
        async with trio.open_nursery() as nursery:
            await _start_pacing(nursery, broadcast)
            with broadcast.subscribe(0, sink) as sub:
                await publish_n(broadcast, 3)
                await trio.testing.wait_all_tasks_blocked()
                # Not yet offered: the first batch goes to the task that asks first.
                assert [event.id for event in await sub.receive()] == [1, 2, 3]
                await publish_n(broadcast, 2)
                assert await sub.receive() == []  # the sink took 4-5 and keeps a part
                assert sink.payloads == [_sse(broadcast, 4, 5)]
                sink.pending, sink.mode = False, "all"  # the task wrote the rest
                await publish_n(broadcast, 1)
                await _no_return_within(sub, 0.05)
                assert sink.payloads[-1] == _sse(broadcast, 6, 6)
            nursery.cancel_scope.cancel()


async def _no_return_within(sub: Subscription, seconds: float) -> None:
    with trio.move_on_after(seconds) as scope:
        item = await sub.receive()
        raise AssertionError(f"receive returned {item!r}; the sink should have taken it")
    assert scope.cancelled_caught


async def test_a_waiting_subscriber_behind_the_ring_is_woken_for_the_gap(
    autojump_clock: Any,
) -> None:
    broadcast = make(ring_size=10, subscriber_buffer=1000)
    sink = _Sink()
    received: list[Any] = []
    with trio.fail_after(60):
        async with trio.open_nursery() as nursery:
            await _start_pacing(nursery, broadcast)
            await _start_receiver(nursery, broadcast, sink, received)
            lines = [("INFO", f"line {n}") for n in range(30)]
            await broadcast.publish_lines(lines, "app", "stdout", T0)
            await trio.sleep(0.05)
            assert received == [Gap(0, 21), list(range(21, 31))]
            await publish_n(broadcast, 1)
            await trio.sleep(0.05)
            await _close_and_stop(nursery, broadcast)
    assert received[2:] == ["end"]
    assert sink.payloads == [_sse(broadcast, 31, 31)]


async def test_heartbeats_go_to_sinks_and_the_end_of_pacing_and_drops_wake_subscribers(
    autojump_clock: Any,
) -> None:
    broadcast = make(subscriber_buffer=5)
    received: list[Any] = []
    with trio.fail_after(60):
        async with trio.open_nursery() as nursery:
            pacers: list[trio.CancelScope] = []

            async def pace() -> None:
                with trio.CancelScope() as pacer:
                    pacers.append(pacer)
                    await broadcast.serve_paced_wakeups(0.010)

            nursery.start_soon(pace)
            await trio.testing.wait_all_tasks_blocked()
            sink = _Sink()
            await _start_receiver(nursery, broadcast, sink, received)
            broadcast.heartbeat()
            await trio.sleep(0.05)
            assert received == [] and sink.payloads == [SSE_KEEPALIVE]  # the task slept on
            sink.mode = "refuse"
            broadcast.heartbeat()
            await trio.sleep(0.05)
            assert received == [None]  # refused: the task takes the heartbeat itself
            sink.mode = "all"
            await publish_n(broadcast, 2)
            await trio.sleep(0.05)
            assert received == [None] and len(sink.payloads) == 2
            pacers[-1].cancel()  # unpaced from now on: the task takes every event itself
            await trio.testing.wait_all_tasks_blocked()
            await publish_n(broadcast, 1)
            await trio.testing.wait_all_tasks_blocked()
            assert received == [None, [3]]
            nursery.start_soon(pace)  # paced again
            await trio.testing.wait_all_tasks_blocked()
            # Events the pacer has not offered yet, and two sweeps meanwhile: dropped.
            await publish_n(broadcast, 10)
            broadcast.drop_laggards()
            broadcast.drop_laggards()
            await trio.testing.wait_all_tasks_blocked()
            assert received == [None, [3], "end"] and broadcast.dropped_count == 1
            await _close_and_stop(nursery, broadcast)
    assert len(sink.payloads) == 2


async def test_offers_are_spread_over_scheduler_passes(autojump_clock: Any) -> None:
    broadcast = make()
    count = 3 * OFFER_GROUP + 5
    counter = _PassCounter()
    offered_at_pass: list[int] = []

    class CountingSink(_Sink):
        def offer(self, payload: bytes) -> bool:
            offered_at_pass.append(counter.passes)
            return super().offer(payload)

    with trio.fail_after(60):
        async with trio.open_nursery() as nursery:
            await _start_pacing(nursery, broadcast)
            for _ in range(count):
                sink = CountingSink()
                nursery.start_soon(_receiver, broadcast.subscribe(0, sink), sink, [])
            await trio.testing.wait_all_tasks_blocked()
            trio.lowlevel.add_instrument(counter)
            try:
                await publish_n(broadcast, 1)
                await trio.testing.wait_all_tasks_blocked()
            finally:
                trio.lowlevel.remove_instrument(counter)
            nursery.cancel_scope.cancel()
    per_pass = [offered_at_pass.count(n) for n in sorted(set(offered_at_pass))]
    assert sum(per_pass) == count
    assert max(per_pass) <= OFFER_GROUP and len(per_pass) >= 4


async def test_a_drop_after_an_offer_ends_the_feed_even_with_a_remainder(
    autojump_clock: Any,
) -> None:
    """The feed ends at once; the remainder is its caller's to write before the end
    (the SSE fast path does, before h11's last chunk)."""
    broadcast = make(subscriber_buffer=1)
    sink = _Sink("partial")
    with trio.fail_after(60):
        async with trio.open_nursery() as nursery:
            await _start_pacing(nursery, broadcast)
            with broadcast.subscribe(0, sink) as sub:
                await publish_n(broadcast, 1)
                assert [event.id for event in await sub.receive()] == [1]
                await publish_n(broadcast, 3)
                assert await sub.receive() == []  # offered 2-4, a remainder kept
                await publish_n(broadcast, 5)  # not offered: the sink is still pending
                broadcast.drop_laggards()
                broadcast.drop_laggards()
                with pytest.raises(trio.EndOfChannel):
                    await sub.receive()
                assert sub.dropped and sink.pending
            nursery.cancel_scope.cancel()


async def test_the_pacer_offers_a_gated_broadcasts_sinks_what_was_revealed_alone(
    autojump_clock: Any,
) -> None:
    broadcast = make()
    broadcast.gate()
    sink = _Sink()
    received: list[Any] = []
    with trio.fail_after(60):
        async with trio.open_nursery() as nursery:
            await _start_pacing(nursery, broadcast)
            await _start_receiver(nursery, broadcast, sink, received)
            await publish_n(broadcast, 5)
            await trio.sleep(0.05)
            assert sink.payloads == []  # nothing revealed yet
            broadcast.reveal(3)
            await trio.sleep(0.05)
            broadcast.reveal(5)
            await trio.sleep(0.05)
            await _close_and_stop(nursery, broadcast)
    assert sink.payloads == [_sse(broadcast, 1, 3), _sse(broadcast, 4, 5)]
    assert received == ["end"]
