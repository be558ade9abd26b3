"""One subscriber's feed of a preview's events, shared by the SSE and WebSocket streams.

``event_feed`` yields, in order: batches of events after ``after`` (from the database
when older than the ring, then the ring, then live), ``KEEPALIVE`` at each heartbeat of
the running preview (every ``PREVIEW_KEEPALIVE_INTERVAL``), and finally one ``End``
when the preview is over and everything was sent. If the subscriber fell behind and
was dropped, the feed stops *without* ``End``: the client reconnects and resumes from
its last id. With a sink that parks (``Sink.on_wake``), ``PARKED`` passes through where
the feed would wait: the caller may put the feed aside and resume it from any task
once woken.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import trio

from ..broadcast import HEARTBEAT, Event, Gap, Sink
from ..runtime import PreviewRuntime
from ..store import PreviewInstance, Store
from ..subscription import PARKED, Parked

__all__ = ["KEEPALIVE", "PARKED", "End", "event_feed", "stored_events"]

_PAGE = 2000
KEEPALIVE = HEARTBEAT  # the broadcast's heartbeat passes through as is


@dataclass(frozen=True)
class End:
    preview_id: str
    status: str | None
    last_id: int

    def to_dict(self) -> dict:
        return {
            "previewInstanceId": self.preview_id,
            "status": self.status,
            "lastEventId": self.last_id,
        }


async def stored_events(
    store: Store, preview_id: str, after: int, before: int | None = None, **filters: Any
) -> AsyncIterator[list[Event]]:
    """Stored events with ``after < id < before`` (and ``Store.log_events`` filters),
    a page at a time."""
    while True:
        if filters:
            rows = await store.log_events(
                preview_id, after=after, before=before, limit=_PAGE, **filters
            )
            page = [Event.from_row(row) for row in rows]
        else:  # a subscriber catching up: the fast path
            values = await store.log_event_values(
                preview_id, after=after, before=before, limit=_PAGE
            )
            page = [Event(*value) for value in values]
        if not page:
            return
        after = page[-1].id
        yield page
        if len(page) < _PAGE:
            return


async def _live(
    store: Store, runtime: PreviewRuntime, after: int, sink: Sink | None
) -> AsyncIterator[list[Event] | End | Parked | None]:
    broadcast = runtime.broadcast
    with broadcast.subscribe(after, sink) as subscription:
        receive = subscription.receive
        while True:
            try:
                item = await receive()
            except trio.EndOfChannel:
                break
            if type(item) is Gap:  # older than the ring: from the database
                await broadcast.wait_persisted(item.before - 1)
                async for page in stored_events(store, runtime.id, item.after, item.before):
                    yield page
            else:
                yield item  # a batch, KEEPALIVE or PARKED
        if subscription.dropped:
            return
    yield End(runtime.id, broadcast.final_status, broadcast.last_id)


def event_feed(
    store: Store, preview: PreviewRuntime | PreviewInstance, after: int, sink: Sink | None = None
) -> AsyncIterator[list[Event] | End | Parked | None]:
    """See the module doc. ``preview`` is live (a runtime) or over (its row). A ``sink``
    may write live events itself (``LogBroadcast.subscribe``); the feed then yields an
    empty batch when the sink has a remainder for the caller to write."""
    if isinstance(preview, PreviewRuntime):
        return _live(store, preview, after, sink)
    return _over(store, preview, after)


async def _over(
    store: Store, preview: PreviewInstance, after: int
) -> AsyncIterator[list[Event] | End]:
    last_id = after
    async for page in stored_events(store, preview.id, after):
        last_id = page[-1].id
        yield page
    yield End(preview.id, preview.status, last_id)
