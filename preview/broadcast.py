"""Log events of one preview: sequence numbers, the ring, fan-out and the writer queue.

:class:`LogBroadcast` is the single producer-side owner of a preview's events. Each
:meth:`LogBroadcast.publish` assigns the next sequence number, encodes the event once
(JSON and SSE frame), keeps it in a ring of recent events, hands it to every subscriber
and queues it for the database writer.

Back-pressure rules:

* Subscribers never slow the producer. Each has a bounded memory channel of
  ``subscriber_buffer`` events; a subscriber whose channel is full is *dropped*: its
  channel is closed, it reads what was buffered, then sees ``dropped`` and ends its
  stream so the client reconnects and resumes by ``Last-Event-ID``. It is never
  silently skipped.
* The database writer is never bypassed. When ``writer_buffer`` events wait for it,
  ``publish`` blocks, which stops the pipe readers, which blocks the child's writes:
  back-pressure all the way to the process rather than loss.
"""

from __future__ import annotations

import contextlib
import itertools
import json.encoder
from collections import deque
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import trio

from .clock import isoformat, utcnow

__all__ = ["HEARTBEAT", "Event", "LogBroadcast", "Subscription"]

HEARTBEAT = None  # what a subscriber's channel carries at each heartbeat, between events

_quote = json.encoder.encode_basestring  # C-accelerated; keeps non-ASCII as is


@dataclass(slots=True, eq=False)
class Event:
    """One log event; ``json`` and ``sse`` are its encodings, computed at most once.

    They are computed on first use, by whichever subscriber comes first, and shared by
    all: an event nobody streams (persistence alone) is never encoded.
    """

    id: int
    timestamp: datetime
    level: str
    message: str
    source: str
    stream: str | None = None
    status: str | None = None
    _json: str | None = field(init=False, default=None, repr=False)
    _sse: bytes | None = field(init=False, default=None, repr=False)

    @property
    def json(self) -> str:
        if self._json is None:
            # Hand-assembled, byte for byte what json.dumps(to_dict()) gives (tested):
            # the C string encoder does the only escaping needed. It escapes CR and LF,
            # so a child's bytes cannot end the SSE data line.
            status = f',"status":{_quote(self.status)}' if self.status else ""
            stream = _quote(self.stream) if self.stream is not None else "null"
            self._json = (
                f'{{"id":{self.id},"timestamp":"{isoformat(self.timestamp)}",'
                f'"level":{_quote(self.level)},"message":{_quote(self.message)},'
                f'"source":{_quote(self.source)},"stream":{stream}{status}}}'
            )
        return self._json

    @property
    def sse(self) -> bytes:
        if self._sse is None:
            kind = "event: status\n" if self.status else ""
            self._sse = f"id: {self.id}\n{kind}data: {self.json}\n\n".encode()
        return self._sse

    def to_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            "id": self.id,
            "timestamp": isoformat(self.timestamp),
            "level": self.level,
            "message": self.message,
            "source": self.source,
            "stream": self.stream,
        }
        if self.status:
            data["status"] = self.status
        return data

    def to_values(self, preview_id: str) -> tuple[Any, ...]:
        """The row as a tuple in ``store.LOG_EVENT_COLUMNS`` order."""
        return (
            preview_id, self.id, self.timestamp, self.level, self.message, self.source,
            self.stream, self.status,
        )  # fmt: skip

    @classmethod
    def from_row(cls, row: Any) -> Event:
        return cls(
            row.seq, row.timestamp, row.level, row.message, row.source, row.stream, row.status
        )


class Subscription:
    """A subscriber's view: ``replay`` (from the ring), then ``receive`` (live).

    If ``gap`` is not None, the events with ``gap[0] < id < gap[1]`` are older than the
    ring and must be read from the database (after ``wait_persisted(gap[1] - 1)``)
    before ``replay``. When ``receive`` ends, ``dropped`` tells whether this subscriber
    fell behind (reconnect and resume) or the preview ended.
    """

    def __init__(
        self,
        broadcast: LogBroadcast,
        replay: list[Event],
        gap: tuple[int, int] | None,
        send: trio.MemorySendChannel[Event | None],
        receive: trio.MemoryReceiveChannel[Event | None],
    ) -> None:
        self._broadcast = broadcast
        self.replay = replay
        self.gap = gap
        self._send = send
        self.receive = receive
        self.dropped = False

    def _drop(self) -> None:
        self.dropped = True
        self._send.close()

    def close(self) -> None:
        """Leave the broadcast; idempotent."""
        self._broadcast._subscribers.discard(self)
        self._send.close()
        self.receive.close()

    def __enter__(self) -> Subscription:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()


class LogBroadcast:
    """Sequence, ring, fan-out and writer queue of one preview (see module doc)."""

    def __init__(
        self, *, ring_size: int, subscriber_buffer: int, writer_buffer: int = 8192
    ) -> None:
        self._ring: deque[Event] = deque(maxlen=ring_size)
        self._subscriber_buffer = subscriber_buffer
        self._subscribers: set[Subscription] = set()
        self._ids = itertools.count(1)
        self.last_id = 0
        self.dropped_count = 0
        self.closed = False
        self.final_status: str | None = None
        self._pending: deque[Event] = deque()
        self._writer_buffer = writer_buffer
        self._pending_lot = trio.lowlevel.ParkingLot()
        self._space_lot = trio.lowlevel.ParkingLot()
        self.persisted_id = 0
        self._persisted_lot = trio.lowlevel.ParkingLot()
        self._status_lot = trio.lowlevel.ParkingLot()

    @property
    def subscriber_count(self) -> int:
        return len(self._subscribers)

    async def publish(
        self,
        level: str,
        message: str,
        source: str,
        stream: str | None = None,
        *,
        status: str | None = None,
        timestamp: datetime | None = None,
    ) -> Event:
        """Add one event. Blocks only while the database writer is ``writer_buffer`` behind."""
        if self.closed:
            raise trio.ClosedResourceError("the preview's log is closed")
        moment = timestamp or utcnow()
        event = Event(next(self._ids), moment, level, message, source, stream, status)
        self.last_id = event.id
        self._ring.append(event)
        for subscriber in tuple(self._subscribers):
            try:
                subscriber._send.send_nowait(event)
            except trio.WouldBlock:
                subscriber._drop()
                self._subscribers.discard(subscriber)
                self.dropped_count += 1
            except trio.ClosedResourceError:
                self._subscribers.discard(subscriber)
        self._pending.append(event)
        if self._pending_lot:  # per line: skip the call when the writer is busy anyway
            self._pending_lot.unpark_all()
        if status is not None:
            self._status_lot.unpark_all()
        while len(self._pending) >= self._writer_buffer:
            await self._space_lot.park()
        return event

    def subscribe(self, after: int = 0) -> Subscription:
        """Subscribe to events with ``id > after``; the ring part comes as ``replay``."""
        send, receive = trio.open_memory_channel[Event | None](self._subscriber_buffer)
        first = self._ring[0].id if self._ring else self.last_id + 1
        after = max(after, 0)
        start = max(after + 1 - first, 0)
        replay = list(itertools.islice(self._ring, start, None)) if after < self.last_id else []
        gap = (after, first) if after + 1 < first else None
        subscription = Subscription(self, replay, gap, send, receive)
        if self.closed:
            send.close()
        else:
            self._subscribers.add(subscription)
        return subscription

    def heartbeat(self) -> None:
        """Put ``HEARTBEAT`` in every subscriber's channel that has room.

        One periodic call replaces a timeout around every subscriber's receive (a cancel
        scope per event on the hot path); streams turn it into keep-alive comments.
        """
        for subscriber in self._subscribers:
            with contextlib.suppress(trio.WouldBlock, trio.ClosedResourceError):
                subscriber._send.send_nowait(HEARTBEAT)

    def close(self, final_status: str) -> None:
        """No more events: live subscribers' channels end after what they hold."""
        if self.closed:
            return
        self.closed = True
        self.final_status = final_status
        for subscriber in tuple(self._subscribers):
            subscriber._send.close()
        self._subscribers.clear()
        self._pending_lot.unpark_all()
        self._status_lot.unpark_all()

    async def wait_for_status_change(self) -> None:
        """Return at the next lifecycle event (or at once if the log is closed)."""
        if not self.closed:
            await self._status_lot.park()

    # -- the writer's side ----------------------------------------------------------

    async def take_pending(self, max_batch: int) -> list[Event]:
        """Next batch for the writer (waits for one); ``[]`` once closed and drained."""
        while not self._pending:
            if self.closed:
                return []
            await self._pending_lot.park()
        return self.take_pending_nowait(max_batch)

    def take_pending_nowait(self, max_batch: int) -> list[Event]:
        """Up to ``max_batch`` waiting events, possibly none."""
        count = min(max_batch, len(self._pending))
        batch = [self._pending.popleft() for _ in range(count)]
        if len(self._pending) < self._writer_buffer:
            self._space_lot.unpark_all()  # producers resume while the batch is written
        return batch

    def mark_persisted(self, last_id: int) -> None:
        self.persisted_id = max(self.persisted_id, last_id)
        self._persisted_lot.unpark_all()
        if len(self._pending) < self._writer_buffer:
            self._space_lot.unpark_all()

    async def wait_persisted(self, seq: int) -> None:
        """Return once every event up to ``seq`` is in the database."""
        while self.persisted_id < seq:
            await self._persisted_lot.park()
