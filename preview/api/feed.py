"""One subscriber's feed of a preview's events, shared by the SSE and WebSocket streams.

``event_feed`` yields, in order: batches of events after ``after`` (from the database
when older than the ring, then the ring, then live), ``KEEPALIVE`` at each heartbeat of
the running preview (every ``PREVIEW_KEEPALIVE_INTERVAL``), and finally one ``End``
when the preview is over and everything was sent. If the subscriber fell behind and
was dropped, the feed stops *without* ``End``: the client reconnects and resumes from
its last id.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import trio

from ..broadcast import HEARTBEAT, Event
from ..runtime import PreviewRuntime
from ..store import PreviewInstance, Store

__all__ = ["KEEPALIVE", "End", "event_feed", "stored_events"]

_PAGE = 2000
_COALESCE = 8192  # events one write may carry: a whole backlog, at the service's limits
KEEPALIVE = None


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
        rows = await store.log_events(
            preview_id, after=after, before=before, limit=_PAGE, **filters
        )
        if not rows:
            return
        after = rows[-1].seq
        yield [Event.from_row(row) for row in rows]
        if len(rows) < _PAGE:
            return


async def _live(
    store: Store, runtime: PreviewRuntime, after: int
) -> AsyncIterator[list[Event] | End | None]:
    broadcast = runtime.broadcast
    with broadcast.subscribe(after) as subscription:
        if subscription.gap is not None:
            low, high = subscription.gap
            await broadcast.wait_persisted(high - 1)
            async for page in stored_events(store, runtime.id, low, high):
                yield page
        if subscription.replay:
            yield subscription.replay
        receive = subscription.receive
        while True:
            try:
                event = await receive.receive()
            except trio.EndOfChannel:
                break
            if event is HEARTBEAT:
                yield KEEPALIVE
                continue
            batch = [event]
            try:
                while len(batch) < _COALESCE:
                    more = receive.receive_nowait()
                    if more is not HEARTBEAT:
                        batch.append(more)
            except (trio.WouldBlock, trio.EndOfChannel):
                pass
            yield batch
        if subscription.dropped:
            return
    yield End(runtime.id, broadcast.final_status, broadcast.last_id)


async def event_feed(
    store: Store, preview: PreviewRuntime | PreviewInstance, after: int
) -> AsyncIterator[list[Event] | End | None]:
    """See the module doc. ``preview`` is live (a runtime) or over (its row)."""
    if isinstance(preview, PreviewRuntime):
        async for item in _live(store, preview, after):
            yield item
        return
    last_id = after
    async for page in stored_events(store, preview.id, after):
        last_id = page[-1].id
        yield page
    yield End(preview.id, preview.status, last_id)
