"""The paced wake-up's offers to waiting subscribers' sinks: :func:`serve_sinks`.

Part of :class:`~preview.logs.broadcast.LogBroadcast`'s design (see its module doc), in a
file of its own: while a subscriber with a :class:`~preview.logs.subscription.Sink`
waits, each paced wake-up joins the SSE frames of the events it has not taken once for
every subscriber at the same cursor (``event.sse_frames``: each event encoded once, for
all) and offers them to its sink. Like ``subscription.RingState``, :class:`SinkState` is
the broadcast state read and moved here, a protocol rather than an import back.
"""

from __future__ import annotations

from collections import deque
from typing import Protocol

import trio

from ..metrics import LogStats
from .event import SSE_KEEPALIVE, Event, sse_frames
from .subscription import Subscription

__all__ = ["OFFER_GROUP", "SinkState", "serve_sinks"]

OFFER_GROUP = 64  # sinks a paced wake-up writes to per scheduler pass


class SinkState(Protocol):
    """What :func:`serve_sinks` reads and moves of a broadcast (``LogBroadcast`` has it)."""

    last_id: int
    visible_id: int
    stats: LogStats
    _ring: deque[Event]
    _delegates: dict[Subscription, None]
    _wakeup: int
    _beat: int

    def _newest(self, count: int) -> list[Event]: ...

    def _between(self, after: int, upto: int) -> list[Event]: ...

    def _wake(self, subscriber: Subscription) -> None: ...


async def serve_sinks(broadcast: SinkState) -> None:
    """Offer every waiting subscriber with a sink its events; wake its task if the
    sink cannot take them all (see the module doc). ``OFFER_GROUP`` per pass."""
    payloads: dict[int, bytes] = {}  # by cursor, for one visible_id
    payloads_upto = broadcast.visible_id
    for offered, subscriber in enumerate(list(broadcast._delegates)):
        if offered % OFFER_GROUP == OFFER_GROUP - 1:
            await trio.lowlevel.checkpoint()
        if subscriber._task is None:  # woken meanwhile
            continue
        visible = broadcast.visible_id
        waiting = visible - subscriber._last
        sink = subscriber._sink
        assert sink is not None
        if waiting <= 0:
            if subscriber._beat == broadcast._beat:
                continue
            payload = SSE_KEEPALIVE  # a heartbeat, and no events since
        elif (
            broadcast.last_id - subscriber._last > len(broadcast._ring)
            or subscriber.dropped
            or subscriber._closed
        ):
            broadcast._wake(subscriber)  # a gap to read from the database, or the end
            continue
        else:
            if payloads_upto != visible:
                payloads, payloads_upto = {}, visible
            payload = payloads.get(subscriber._last)
            if payload is None:
                batch = broadcast._between(subscriber._last, visible)
                payload = payloads[subscriber._last] = sse_frames(batch)
        if not sink.offer(payload):
            broadcast._wake(subscriber)  # its task takes the events or the heartbeat
            continue
        if waiting > 0:
            subscriber._last = visible
            subscriber._wakeup = broadcast._wakeup
            broadcast.stats.delivered += waiting
        subscriber._beat = broadcast._beat  # events keep the connection alive as well
        if sink.pending:
            broadcast._wake(subscriber)
