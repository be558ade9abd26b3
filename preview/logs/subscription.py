"""The subscriber side of a :class:`~preview.logs.broadcast.LogBroadcast`: a cursor into its ring.

:class:`Subscription` and ``LogBroadcast`` are one design in two files: a subscription
reads its broadcast's ring and pacing state when it takes events, and the broadcast's
paced wake-up moves the cursor of a waiting subscription whose :class:`Sink` took its
events (see the broadcast's module doc for the rules).
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from typing import Final, Protocol, final

import trio

from ..metrics import LogStats
from .event import Event

__all__ = ["HEARTBEAT", "PARKED", "Gap", "Parked", "RingState", "Sink", "Subscription"]

HEARTBEAT = None  # what Subscription.receive gives at a heartbeat when no event waits


@final  # so that `type(item) is Parked` narrows a feed's item for the type checker
class Parked:
    """The type of :data:`PARKED` (one instance)."""

    __slots__ = ()

    def __repr__(self) -> str:
        return "PARKED"


PARKED: Final = Parked()
"""What :meth:`Subscription.receive` gives, instead of waiting, when its sink has an
``on_wake``: the subscription now waits without a task (see :class:`Sink`)."""


class RingState(Protocol):
    """The broadcast state a subscription reads and moves (``LogBroadcast`` has it).

    A protocol rather than an import: the broadcast creates subscriptions, so this module
    must not import it back. The underscored names are the two modules' shared internals.
    """

    last_id: int
    visible_id: int
    closed: bool
    stats: LogStats
    _ring: deque[Event]
    _subscribers: set[Subscription]
    _live_lot: trio.lowlevel.ParkingLot
    _follower_lot: trio.lowlevel.ParkingLot
    _delegates: dict[Subscription, None]
    _pacers: int
    _wakeup: int
    _beat: int

    def _want_wakeup(self) -> None: ...

    def _newest(self, count: int) -> list[Event]: ...

    def _between(self, after: int, upto: int) -> list[Event]: ...


class Sink(Protocol):
    """Writes a subscriber's SSE frames for it while its task waits (``preview.logs.broadcast``).

    Called from the paced wake-up, so it must never wait nor raise.
    """

    @property
    def pending(self) -> bool:
        """Part of an offered payload waits for the subscriber's task to write it."""
        ...

    def offer(self, payload: bytes) -> bool:
        """Write ``payload`` now or keep what is left of it (``pending``); False, with
        nothing written, if it cannot take it (the subscriber's task then will)."""
        ...

    #: None: the subscriber's task waits in ``receive`` while the sink takes its events.
    #: A callable: ``receive`` returns :data:`PARKED` instead of waiting, the caller may
    #: let its task end, and the broadcast calls ``on_wake()`` (never waiting nor
    #: raising) where it would have woken that task; the caller then goes on calling
    #: ``receive`` from any task.
    on_wake: Callable[[], None] | None


@final  # so that `type(item) is Gap` narrows a feed's item for the type checker
@dataclass(frozen=True, slots=True)
class Gap:
    """Events with ``after < id < before`` left the ring before a subscriber took them:
    read them from the database (after ``wait_persisted(before - 1)``), then go on."""

    after: int
    before: int


class Subscription:
    """One subscriber's cursor into the broadcast's ring (see :meth:`receive`).

    A subscriber holds no events of its own: it remembers the last id it took and, when
    it wakes, takes every newer event from the shared ring in one list. Nothing is done
    per subscriber when an event is published, and a subscriber that stops reading
    costs its cursor only. ``dropped`` tells, once :meth:`receive` has ended, whether it
    was dropped for being stuck far behind (reconnect and resume by id) rather than
    saw the end of the log.
    """

    __slots__ = (
        "_beat",
        "_broadcast",
        "_closed",
        "_floor",
        "_follower",
        "_last",
        "_sink",
        "_swept",
        "_task",
        "_wakeup",
        "dropped",
    )

    def __init__(
        self, broadcast: RingState, after: int, sink: Sink | None = None, *, follower: bool = False
    ) -> None:
        self._broadcast = broadcast
        self._sink = sink
        self._follower = follower  # takes every event, past a gate (broadcast.gate)
        # While it waits for its sink's news: its task, or PARKED if it waits without one.
        self._task: trio.lowlevel.Task | Parked | None = None
        self._last = after  # the id of the last event handed out
        self._floor = broadcast.last_id  # lag counts from here: replay is not lag
        self._beat = broadcast._beat
        self._wakeup = -1  # the paced wake-up at which it last took events
        self._swept = -1  # _last when drop_laggards last looked
        self._closed = False
        self.dropped = False

    def lag(self) -> int:
        """Live events published since this subscriber last took any."""
        return self._broadcast.last_id - max(self._last, self._floor)

    async def receive(self) -> list[Event] | Gap | Parked | None:
        """The next events after the last ones taken, all that wait, in one list.

        Events older than the ring holds come first as a :class:`Gap`; ``HEARTBEAT``
        comes at a heartbeat when nothing waits. Raises ``trio.EndOfChannel`` once the
        log is closed and everything was taken, or once this subscriber was dropped or
        closed. Waits only when there is nothing to take; when there is, it returns
        without yielding to the scheduler (the caller's write is the next checkpoint).
        With a sink, it returns an empty list when the sink has a remainder to write,
        and :data:`PARKED` instead of waiting if the sink has an ``on_wake``.
        """
        await trio.lowlevel.checkpoint_if_cancelled()
        broadcast = self._broadcast
        while True:
            try:
                return self.receive_nowait()
            except trio.WouldBlock:
                pass
            # Parked outside the except block: a waiting subscriber (most of them,
            # most of the time) does not keep the exception and its traceback alive.
            if self._follower:  # takes every event as published: no pacing, no gate
                await broadcast._follower_lot.park()
                continue
            if broadcast._pacers and broadcast.visible_id > self._last:
                broadcast._want_wakeup()  # events wait for the next paced wake-up
            if self._sink is None or not broadcast._pacers:
                await broadcast._live_lot.park()
            elif self._sink.pending:
                return []
            elif self._sink.on_wake is not None:
                self._task = PARKED
                broadcast._delegates[self] = None
                return PARKED
            else:
                await self._wait_with_sink()

    async def _wait_with_sink(self) -> None:
        """Wait while the paced wake-ups hand this subscriber's events to its sink."""
        delegates = self._broadcast._delegates

        def abort(_: object) -> trio.lowlevel.Abort:
            delegates.pop(self, None)
            self._task = None
            return trio.lowlevel.Abort.SUCCEEDED

        self._task = trio.lowlevel.current_task()
        delegates[self] = None
        await trio.lowlevel.wait_task_rescheduled(abort)

    def receive_nowait(self) -> list[Event] | Gap | None:
        """What :meth:`receive` would return now; ``trio.WouldBlock`` if it would wait."""
        if self._closed or self.dropped:
            raise trio.EndOfChannel
        broadcast = self._broadcast
        newest = broadcast.last_id if self._follower else broadcast.visible_id
        waiting = newest - self._last
        if waiting > 0:
            if (
                broadcast._pacers
                and self._wakeup == broadcast._wakeup
                and not broadcast.closed
                and not self._follower  # unpaced: what came while it was busy is its batch
            ):
                raise trio.WouldBlock  # took events at this wake-up already
            ring = broadcast._ring
            if broadcast.last_id - self._last > len(ring):  # the ring's part follows the gap
                first = broadcast.last_id - len(ring) + 1
                gap = Gap(self._last, first)
                self._last = first - 1
                return gap
            self._wakeup = broadcast._wakeup
            self._last = newest
            broadcast.stats.delivered += waiting
            return broadcast._between(newest - waiting, newest)
        if broadcast.closed:
            raise trio.EndOfChannel
        if self._beat != broadcast._beat:
            self._beat = broadcast._beat
            return HEARTBEAT
        raise trio.WouldBlock

    def close(self) -> None:
        """Leave the broadcast; idempotent."""
        self._closed = True
        self._broadcast._subscribers.discard(self)
        if self._task is PARKED:  # nobody else would take it out of the delegates
            self._task = None
            del self._broadcast._delegates[self]

    def __enter__(self) -> Subscription:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()
