"""One subscriber's feed of a preview's events, shared by the SSE and WebSocket streams.

``event_feed`` yields, in order: batches of events after ``after`` (from the database
when older than the ring, then the ring, then live), ``KEEPALIVE`` at each heartbeat of
the running preview (every ``PREVIEW_KEEPALIVE_INTERVAL``), and finally one ``End``
when the preview is over and everything was sent. If the subscriber fell behind and
was dropped, or the database fails to give events it needs, the feed stops *without*
``End``: the client reconnects and resumes from its last id. With a sink that parks
(``Sink.on_wake``), ``PARKED`` passes through where the feed would wait: the caller may
put the feed aside and resume it from any task once woken.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncGenerator
from dataclasses import dataclass
from typing import TYPE_CHECKING, final

import trio

from ..errors import StoreError
from ..logs import HEARTBEAT, PARKED, Event, Gap, Parked, Sink
from ..store import ALL_LINES, LogFilter, PreviewInstance, Store

if TYPE_CHECKING:
    from ..cluster import TailRelays
    from ..runtime import PreviewRuntime
    from ..services import Services

__all__ = [
    "KEEPALIVE",
    "PAGE_BYTES",
    "PARKED",
    "End",
    "event_feed",
    "stored_events",
    "tail_relays",
]

_PAGE = 2000
# Bytes of messages a page read from the store should hold: 2,000 pieces of an over-long
# line are 32 MiB (and their encodings twice that again) per reader, not ~0.5 MiB.
PAGE_BYTES = 2 * 1024 * 1024
_MIN_PAGE = 16
_FIRST_PAGE = 256  # events, when their size is not known yet
KEEPALIVE = HEARTBEAT  # the broadcast's heartbeat passes through as is
_log = logging.getLogger("preview")


@final  # so that `type(item) is End` narrows a feed's item for the type checker
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
    store: Store,
    preview_id: str,
    after: int,
    before: int | None = None,
    *,
    event_bytes: int = 0,
    first_page: int = _PAGE,
    where: LogFilter = ALL_LINES,
) -> AsyncGenerator[list[Event], None]:
    """Stored events with ``after < id < before`` that ``where`` wants, a page at a
    time. Pages hold about ``PAGE_BYTES`` of messages: the first is sized by
    ``event_bytes`` (a known mean size; else ``_FIRST_PAGE`` events) and at most
    ``first_page`` events, the next by what the last one held."""
    limit = min(first_page, _page_size(event_bytes) if event_bytes else _FIRST_PAGE)
    while True:
        if where.narrows:
            rows = await store.log_events(
                preview_id, after=after, before=before, limit=limit, where=where
            )
            page = [Event.from_row(row) for row in rows]
        else:  # a subscriber catching up: the fast path
            values = await store.log_event_values(
                preview_id, after=after, before=before, limit=limit
            )
            page = [Event(*value) for value in values]
        if not page:
            return
        after = page[-1].id
        yield page
        if len(page) < limit:
            return
        limit = _page_size(sum([len(event.message) for event in page]) // len(page))


def _page_size(event_bytes: int) -> int:
    return max(_MIN_PAGE, min(_PAGE, PAGE_BYTES // max(event_bytes, 1)))


async def _live(
    store: Store, runtime: PreviewRuntime, after: int, sink: Sink | None
) -> AsyncGenerator[list[Event] | End | Parked | None, None]:
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
                mean = broadcast.mean_message_bytes
                try:
                    async for page in stored_events(
                        store, runtime.id, item.after, item.before, event_bytes=mean
                    ):
                        broadcast.stats.delivered += len(page)
                        yield page
                except StoreError as error:
                    _unreadable(runtime.id, error)
                    return
            else:
                yield item  # a batch, KEEPALIVE or PARKED
        if subscription.dropped:
            return
    yield End(runtime.id, broadcast.final_status, broadcast.last_id)


def event_feed(
    store: Store,
    preview: PreviewRuntime | PreviewInstance,
    after: int,
    sink: Sink | None = None,
    relays: TailRelays | None = None,
) -> AsyncGenerator[list[Event] | End | Parked | None, None]:
    """See the module doc. ``preview`` is live (a runtime) or over (its row), or, in
    cluster mode, live on another node (its row), whose events ``relays`` gives. A
    ``sink`` may write live events itself (``LogBroadcast.subscribe``); the feed then
    yields an empty batch when the sink has a remainder for the caller to write."""
    if not isinstance(preview, PreviewInstance):
        return _live(store, preview, after, sink)
    if relays is not None and relays.serves(preview):
        return _relayed(relays, preview.id, after)
    return _over(store, preview, after)


def tail_relays(state: Services) -> TailRelays | None:
    """This node's relays of other nodes' previews (cluster mode, relaying streams)."""
    cluster = state.supervisor.cluster if state.supervisor is not None else None
    return cluster.relays if cluster is not None else None


async def _relayed(
    relays: TailRelays, preview_id: str, after: int
) -> AsyncGenerator[list[Event] | End | None, None]:
    """A preview another node runs, from this node's relay of its live tail: what is
    older than the relay's ring from PostgreSQL and the tail (``TailRelays.fill``)."""
    cursor = after
    with relays.join(preview_id) as relay:
        await relay.started.wait()
        while True:
            if cursor < relay.base:  # older than the ring (a resume, a new stream)
                moved = cursor
                try:
                    async for page in relays.fill(preview_id, cursor, relay.base + 1):
                        cursor = page[-1].id
                        yield page
                except StoreError as error:
                    _unreadable(preview_id, error)
                    return
                if cursor == moved:
                    cursor = relay.base  # in neither store (past the log quota)
                continue
            events = relay.after(cursor)
            if events:
                cursor = events[-1].id
                yield events
                continue
            if relay.ended is not None:
                break
            if relay.stopped:
                return  # no end to tell: the client resumes, from any node
            before = relay.last
            await relay.wait(cursor, relays.keepalive_interval)
            if relay.last == before and relay.ended is None and not relay.stopped:
                yield KEEPALIVE
    yield End(preview_id, relay.ended, cursor)


async def _over(
    store: Store, preview: PreviewInstance, after: int
) -> AsyncGenerator[list[Event] | End, None]:
    last_id = after
    try:
        async for page in stored_events(store, preview.id, after):
            last_id = page[-1].id
            yield page
    except StoreError as error:
        _unreadable(preview.id, error)
        return
    yield End(preview.id, preview.status, last_id)


def _unreadable(preview_id: str, error: StoreError) -> None:
    """The database failed to give events a subscriber still needs (down, or busy
    beyond its timeout). The feed stops without ``End``, like a dropped subscriber's: a
    response has begun, so no error can be sent, and the client resumes from its last
    id once it reconnects (``EventSource`` does after the ``retry:`` hint)."""
    _log.warning(
        "a log stream of %s ended early: its stored events could not be read (%s)",
        preview_id,
        error.code,
    )
