"""Log events of one preview: sequence numbers, the ring, fan-out and the writer queue.

:class:`LogBroadcast` is the single producer-side owner of a preview's events: each publish assigns
the next sequence numbers, keeps the events in a bounded ring, wakes the waiting subscribers and
queues the events for the writer. An event is encoded at most once, for all.

A subscriber with a :class:`Sink` (an SSE stream that can write to its socket without waiting) does
not even need its task woken for each batch: while it waits, the paced wake-up joins the batch's SSE
frames once for every subscriber at the same cursor and offers them to each sink (a task-switch per
subscriber per batch was half the cost of a delivery); heartbeats' keep-alive comments too, to sinks
that got no events since. The task wakes for anything else: a sink that refused or kept a remainder,
events older than the ring, the end, a drop. A sink with an ``on_wake`` has no task at all: the
broadcast calls ``on_wake`` where it would wake the task (``transport.parked_streams``).

Back-pressure rules:
* Subscribers never slow the producer, and cost nothing per event. A subscriber is a cursor into the
  shared ring: it takes every event newer than its cursor in one list when it wakes, so a subscriber
  that writes slowly gets bigger batches, not a queue; events that left the ring before it took them
  come as a ``Gap`` to read from the database. One that stops taking events while more than
  ``subscriber_buffer`` behind is *dropped* (see ``drop_laggards``): its ``receive`` ends with
  ``dropped`` set, so its stream ends and the client reconnects and resumes by ``Last-Event-ID``:
  never silently skipped.
* The database writer is never bypassed (past the log's quota it counts what it does not store:
  ``quota``). When ``writer_buffer`` events (or ``writer_bytes``) wait for it, ``publish`` blocks,
  stopping the pipe readers and then the child's writes: back-pressure, not loss.

A gated broadcast (:meth:`LogBroadcast.gate`, a cluster owner's) shows its subscribers only the
events :meth:`LogBroadcast.reveal` passed (``visible_id``); followers (:meth:`LogBroadcast.follow`,
the writer of its live tail, which reveals what it appended) take every event at once, unpaced, and
wait apart: a gated publish wakes the followers alone.

Memory is bounded in bytes as well as in events, whatever the lines' lengths: the ring keeps at most
``ring_size`` events and about ``ring_bytes``, the writer queue about ``writer_bytes``, its batches
``BATCH_BYTES``; an event counts its message thrice (JSON, SSE kept) + overhead.
"""

from __future__ import annotations

import itertools
from collections import deque
from collections.abc import Callable, Sequence
from datetime import datetime
from itertools import repeat

import trio

from ..clock import utcnow
from ..metrics import LogStats
from .event import Event
from .sinks import OFFER_GROUP, serve_sinks
from .subscription import HEARTBEAT, PARKED, Gap, Sink, Subscription

__all__ = [
    "BATCH_BYTES",
    "HEARTBEAT",
    "OFFER_GROUP",
    "PARKED",
    "WAKE_GROUP",
    "Event",
    "Gap",
    "LogBroadcast",
    "Sink",
    "Subscription",
]

WAKE_GROUP = 8  # subscribers a paced wake-up lets run per scheduler pass
BATCH_BYTES = 1024 * 1024  # the writer's batches: about this many bytes of events
_EVENT_OVERHEAD = 256  # the Event object, its timestamp, the encodings' framing


def _cost(event: Event) -> int:
    """Bytes an event may hold: message, JSON and SSE encodings, the rest (module doc)."""
    return 3 * len(event.message) + _EVENT_OVERHEAD


class LogBroadcast:
    """Sequence, ring, fan-out and writer queue of one preview (see module doc)."""

    def __init__(
        self,
        *,
        ring_size: int,
        subscriber_buffer: int,
        writer_buffer: int = 8192,
        ring_bytes: int = 8 * 1024 * 1024,
        writer_bytes: int = 8 * 1024 * 1024,
        stats: LogStats | None = None,
        scrub: Callable[[str], str] | None = None,
    ) -> None:
        self.stats = stats or LogStats()  # the app's counters (preview.metrics)
        # Every message, whoever publishes it, passes here: host paths out (HostPaths).
        self._scrub = scrub or str
        # A batch's at once where the scrub can (HostPaths.lines: one search of them all).
        self._scrub_lines: Callable[[list[str]], list[str]] = getattr(scrub, "lines", None) or (
            lambda texts: list(map(self._scrub, texts))
        )
        self._ring: deque[Event] = deque()
        self._ring_size = ring_size
        self._ring_bytes = ring_bytes
        self._ring_cost = 0
        self._subscriber_buffer = subscriber_buffer
        self._subscribers: set[Subscription] = set()
        self._live_lot = trio.lowlevel.ParkingLot()  # subscribers waiting for events
        # Followers waiting (a cluster owner's tail writer): apart, so that a gated
        # broadcast's publish wakes them alone, not subscribers with nothing revealed.
        self._follower_lot = trio.lowlevel.ParkingLot()
        self._delegates: dict[Subscription, None] = {}  # waiting ones with a sink, FIFO
        # serve_paced_wakeups running: two while a revision is applied live (the old and
        self._pacers = 0  # the new process's); pacing ends with the last
        self._wakeup = 0  # paced wake-ups so far: a subscriber takes events once per wake-up
        self._wakeup_wanted = False
        self._pacer_lot = trio.lowlevel.ParkingLot()
        self._beat = 0
        self.last_id = 0
        # The newest event subscribers may take (followers take up to last_id): last_id,
        # unless gated, where reveal() moves it (a cluster owner's: once its tail has it).
        self.visible_id = 0
        self._gated = False
        self.dropped_count = 0
        self.closed = False
        self.final_status: str | None = None
        self._pending: deque[Event] = deque()
        self._pending_cost = 0
        self._writer_buffer = writer_buffer
        self._writer_bytes = writer_bytes
        self._pending_lot = trio.lowlevel.ParkingLot()
        self._space_lot = trio.lowlevel.ParkingLot()
        self.persisted_id = 0
        self._persisted_lot, self.storing_wanted = trio.lowlevel.ParkingLot(), trio.Event()
        self.batch_wanted = False  # whether a reader waited for the batch last taken
        self._status_lot = trio.lowlevel.ParkingLot()
        # The generation's alert rules (logs.alerts.AlertWatch), given each batch of the
        # child's lines once added; None (no rule): nothing more per batch than this test.
        self.watch: Callable[[Sequence[Event]], None] | None = None

    @property
    def subscriber_count(self) -> int:
        return len(self._subscribers)

    @property
    def mean_message_bytes(self) -> int:
        """About how long the ring's messages are (0 when it is empty)."""
        ring = self._ring
        return (self._ring_cost // len(ring) - _EVENT_OVERHEAD) // 3 if ring else 0

    @property
    def writer_queue_depth(self) -> int:
        return len(self._pending)

    async def publish(
        self,
        level: str,
        message: str,
        source: str,
        stream: str | None = None,
        *,
        status: str | None = None,
        timestamp: datetime | None = None,
        process: str | None = None,
    ) -> Event:
        """Add one event (:meth:`add`). Blocks only while the database writer is behind
        by its buffer (``writer_buffer`` events or ``writer_bytes``)."""
        event = self.add(
            level, message, source, stream, status=status, timestamp=timestamp, process=process
        )
        await self.wait_for_writer()
        return event

    def add(
        self,
        level: str,
        message: str,
        source: str,
        stream: str | None = None,
        *,
        status: str | None = None,
        timestamp: datetime | None = None,
        process: str | None = None,
    ) -> Event:
        """:meth:`publish` without waiting for the writer's room: a caller that waits
        for it after (:meth:`wait_for_writer`), or that checked :meth:`writer_full`."""
        if self.closed:
            raise trio.ClosedResourceError("the preview's log is closed")
        event = Event(
            self.last_id + 1,
            timestamp or utcnow(),
            level,
            self._scrub(message),
            source,
            stream,
            status,
            process,
        )
        self._add((event,))
        if status is not None:
            self._status_lot.unpark_all()
        return event

    async def publish_lines(
        self, lines: Sequence[tuple[str, str]], source: str, stream: str, timestamp: datetime
    ) -> None:
        """Add ``(level, message)`` events that arrived together, as :meth:`publish` would
        one by one (the writer queue may pass ``writer_buffer`` by this one batch)."""
        levels, texts = [level for level, _ in lines], [text for _, text in lines]
        await self.publish_texts(levels, texts, source, stream, timestamp)

    async def publish_texts(
        self,
        levels: list[str],
        texts: list[str],
        source: str,
        stream: str,
        timestamp: datetime,
        process: str | None = None,
    ) -> None:
        """:meth:`publish_lines` with the levels and the messages in two lists."""
        if not texts:
            return
        self.add_texts(levels, texts, source, stream, timestamp, process)
        await self.wait_for_writer()

    def add_texts(
        self,
        levels: list[str],
        texts: list[str],
        source: str,
        stream: str,
        timestamp: datetime,
        process: str | None = None,
    ) -> None:
        """:meth:`publish_texts` without waiting for the writer's room (a caller that
        checked :meth:`writer_full` first)."""
        if self.closed:
            raise trio.ClosedResourceError("the preview's log is closed")
        first = self.last_id + 1  # _add makes the last of these last_id
        ids = range(first, first + len(texts))
        messages = self._scrub_lines(texts)
        at, by, of = repeat(timestamp), repeat(source), repeat(stream)
        if process is None:
            events = list(map(Event, ids, at, levels, messages, by, of))
        else:  # a worker's lines (runtime.processes)
            tags = repeat(None), repeat(process)
            events = list(map(Event, ids, at, levels, messages, by, of, *tags))
        self._add(events)
        if self.watch is not None:  # its alerts come after the lines they are about
            self.watch(events)

    def _add(self, events: Sequence[Event]) -> None:
        """Ring, writer queue and wake-ups for ``events`` (at least one)."""
        self.last_id = events[-1].id
        if not self._gated:
            self.visible_id = self.last_id
        self.stats.published += len(events)
        cost = 3 * sum([len(event.message) for event in events]) + _EVENT_OVERHEAD * len(events)
        ring = self._ring
        ring.extend(events)
        self._ring_cost += cost
        excess = len(ring) - self._ring_size
        if excess > 0:  # at full speed, a whole batch leaves: their costs summed at once
            popleft = ring.popleft
            self._ring_cost -= 3 * sum([len(popleft().message) for _ in range(excess)])
            self._ring_cost -= _EVENT_OVERHEAD * excess
        while self._ring_cost > self._ring_bytes and len(ring) > 1:
            self._ring_cost -= _cost(ring.popleft())
        self._pending.extend(events)
        self._pending_cost += cost
        if self._follower_lot:
            self._follower_lot.unpark_all()
        if self._gated:
            pass  # subscribers are woken when reveal() lets them take these
        elif self._pacers:
            if self._live_lot or self._delegates:
                self._want_wakeup()
        elif self._live_lot:
            self._live_lot.unpark_all()
        if self._pending_lot:  # skip the call when the writer is busy anyway
            self._pending_lot.unpark_all()

    def writer_full(self) -> bool:
        return len(self._pending) >= self._writer_buffer or self._pending_cost >= self._writer_bytes

    async def wait_for_writer(self) -> None:
        """Until the writer's queue has room (at once, without a checkpoint, if it has)."""
        while self.writer_full():
            await self._space_lot.park()

    def subscribe(self, after: int = 0, sink: Sink | None = None) -> Subscription:
        """Subscribe to events with ``id > after``; see :meth:`Subscription.receive`.
        With a ``sink``, paced wake-ups write its events while it waits (module doc)."""
        subscription = Subscription(self, max(after, 0), sink)
        if not self.closed:
            self._subscribers.add(subscription)
        return subscription

    def follow(self, after: int = 0) -> Subscription:
        """A subscription the broadcast neither counts nor drops: a reader of every
        event that is not a client (a cluster owner's writer of the live tail)."""
        subscription = Subscription(self, max(after, 0), follower=True)
        self._subscribers.discard(subscription)  # never added: subscribe() adds
        return subscription

    def _drop(self, subscriber: Subscription) -> None:
        subscriber.dropped = True
        self._subscribers.discard(subscriber)
        self.dropped_count += 1
        self.stats.dropped += 1
        self._live_lot.unpark_all()  # if it waits, it ends now (drops are rare)
        if subscriber._task is not None:
            self._wake(subscriber)

    def drop_laggards(self) -> None:
        """Drop the subscribers more than ``subscriber_buffer`` behind that took nothing
        since the previous call (the runtime calls it every second).

        A subscriber that keeps taking events is never dropped, however far behind:
        what left the ring comes from the database. One that stopped (a client that
        no longer reads keeps its request stuck in a socket write) is counted and
        forgotten; its stream ends if its write ever completes.
        """
        limit = self._subscriber_buffer
        for subscriber in list(self._subscribers):
            if subscriber._swept == subscriber._last and subscriber.lag() > limit:
                self._drop(subscriber)
            subscriber._swept = subscriber._last

    async def serve_paced_wakeups(self, interval: float) -> None:
        """While this runs, a subscriber takes events at most once per ``interval``.

        The first event after a quiet spell goes out at once; while events keep coming,
        waiting subscribers are woken together once per ``interval`` and each takes all
        that waits: one write per subscriber per interval, at a latency of at most
        ``interval`` (unpaced, writes follow events one by one until the loop saturates).
        Runs until cancelled (in the preview's nursery); then every publish wakes them.

        A wake-up lets ``WAKE_GROUP`` subscribers run per scheduler pass: Trio runs every
        runnable task in one pass, so waking 1,000 at once makes a pass as long as 1,000
        writes with nothing else getting a turn. The next interval starts after the last
        group: when writes are slow, wake-ups space out and each carries more events.
        """
        self._pacers += 1
        try:
            while True:
                while not self._wakeup_wanted:
                    await self._pacer_lot.park()
                self._wakeup_wanted = False
                self._wakeup += 1
                if self._delegates:
                    await serve_sinks(self)
                # FIFO: these are the ones that waited; one that took its events and
                # waits again is behind them and finds nothing new at this wake-up.
                waiting = len(self._live_lot)
                while waiting > WAKE_GROUP:
                    self._live_lot.unpark(count=WAKE_GROUP)
                    waiting -= WAKE_GROUP
                    await trio.lowlevel.checkpoint()
                self._live_lot.unpark(count=waiting)
                await trio.sleep(interval)
        finally:
            self._pacers -= 1
            if not self._pacers:
                self._live_lot.unpark_all()  # nobody is left waiting for a wake-up
                self._wake_delegates()

    def gate(self) -> None:
        """From now on subscribers take an event only once :meth:`reveal` passed its id;
        followers (:meth:`follow`) take every event at once. A cluster owner's: its
        subscribers see only what its live tail (or PostgreSQL) has, so that a line one
        of them saw outlives the owner's death."""
        self._gated = True

    def reveal(self, seq: int) -> None:
        """Subscribers of a gated broadcast may take the events up to ``seq``."""
        seq = min(seq, self.last_id)
        if seq <= self.visible_id:
            return
        self.visible_id = seq
        if self._pacers:
            if self._live_lot or self._delegates:
                self._want_wakeup()
        elif self._live_lot:
            self._live_lot.unpark_all()

    def ungate(self) -> None:
        """Every event visible again as it is published (the gate's keeper ended)."""
        self._gated = False
        self.reveal(self.last_id)

    def recent(self) -> list[Event]:
        """The ring's events (the newest published), oldest first."""
        return list(self._ring)

    def _newest(self, count: int) -> list[Event]:
        """The last ``count`` events of the ring (at most its length), oldest first."""
        return list(itertools.islice(reversed(self._ring), count))[::-1]

    def _between(self, after: int, upto: int) -> list[Event]:
        """The ring's events with ``after < id <= upto``, oldest first (``upto`` is
        last_id unless gated)."""
        newer = self.last_id - upto
        if not newer:
            return self._newest(upto - after)
        return list(itertools.islice(reversed(self._ring), newer, newer + upto - after))[::-1]

    def _wake(self, subscriber: Subscription) -> None:
        del self._delegates[subscriber]
        task, subscriber._task = subscriber._task, None
        if task is PARKED:
            sink = subscriber._sink
            assert sink is not None and sink.on_wake is not None
            sink.on_wake()
        else:
            assert isinstance(task, trio.lowlevel.Task)
            trio.lowlevel.reschedule(task)

    def _wake_delegates(self) -> None:
        for subscriber in list(self._delegates):
            self._wake(subscriber)

    def _want_wakeup(self) -> None:
        self._wakeup_wanted = True
        self._pacer_lot.unpark_all()  # nothing to do while the pacer sleeps

    def heartbeat(self) -> None:
        """Wake every waiting subscriber with ``HEARTBEAT``; those waiting for their
        sink get ``SSE_KEEPALIVE`` offered at the next paced wake-up instead.

        One periodic call replaces a timeout around every subscriber's receive (a cancel
        scope per event on the hot path); streams turn it into keep-alive comments.
        """
        self._beat += 1
        self._live_lot.unpark_all()
        self._follower_lot.unpark_all()
        if self._delegates:
            self._want_wakeup()

    def close(self, final_status: str) -> None:
        """No more events: subscribers end once they have taken what was published."""
        if self.closed:
            return
        self.visible_id = self.last_id  # the end: whatever a gate held goes out too
        self.closed = True
        self.final_status = final_status
        self._subscribers.clear()
        self._live_lot.unpark_all()
        self._follower_lot.unpark_all()
        self._wake_delegates()
        self._pending_lot.unpark_all()
        self._status_lot.unpark_all()
        self.storing_wanted.set()

    async def wait_for_status_change(self) -> None:
        """Return at the next lifecycle event (or at once if the log is closed)."""
        if not self.closed:
            await self._status_lot.park()

    # -- the writer's side ----------------------------------------------------------

    async def take_pending(self, max_batch: int, max_bytes: int = BATCH_BYTES) -> list[Event]:
        """Next batch for the writer (waits for one); ``[]`` once closed and drained."""
        while not self._pending:
            if self.closed:
                return []
            await self._pending_lot.park()
        return self.take_pending_nowait(max_batch, max_bytes)

    def take_pending_nowait(self, max_batch: int, max_bytes: int = BATCH_BYTES) -> list[Event]:
        """Up to ``max_batch`` waiting events and about ``max_bytes``, possibly none."""
        # What a reader waits for is in this batch: the writer stores it at once.
        self.batch_wanted = self.storing_wanted.is_set()
        if self.batch_wanted and not self.closed:
            self.storing_wanted = trio.Event()
        pending = self._pending
        count = min(max_batch, len(pending))
        if self._pending_cost <= max_bytes:  # the common case: short lines
            if count == len(pending):  # the writer keeps up: it takes everything
                batch, self._pending = list(pending), deque()
                self._pending_cost = 0
            else:
                batch = [pending.popleft() for _ in range(count)]
                self._pending_cost -= sum(map(_cost, batch))
        else:
            batch, taken = [], 0
            while len(batch) < count and (not batch or taken < max_bytes):
                event = pending.popleft()
                batch.append(event)
                taken += _cost(event)
            self._pending_cost -= taken
        if not self.writer_full():
            self._space_lot.unpark_all()  # producers resume while the batch is written
        return batch

    def mark_persisted(self, last_id: int) -> None:
        self.persisted_id = max(self.persisted_id, last_id)
        self._persisted_lot.unpark_all()
        if not self.writer_full():
            self._space_lot.unpark_all()

    async def wait_persisted(self, seq: int) -> None:
        """Return once every event up to ``seq`` is in the database."""
        while self.persisted_id < seq:
            self.storing_wanted.set()
            await self._persisted_lot.park()
