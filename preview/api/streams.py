"""Log streams: SSE live stream with replay, and the JSON / NDJSON / text history."""

from __future__ import annotations

import contextlib
import json
import logging
import re
from collections.abc import AsyncGenerator, AsyncIterator, Awaitable, Callable
from functools import partial
from typing import TYPE_CHECKING, Any

import trio
from quart import Blueprint, Response, jsonify, request, websocket

from ..errors import BadRequest, StoreUnavailable
from ..logs import SSE_KEEPALIVE, Event, Parked, Sink, sse_frames
from ..services import Services, StreamSlot, services
from ..services.callers import owned_generation
from ..store import PreviewInstance, Store
from .feed import KEEPALIVE, PAGE_BYTES, PARKED, End, event_feed, stored_events
from .previews import log_gaps, preview_for

if TYPE_CHECKING:
    from ..runtime import PreviewRuntime

_log = logging.getLogger(__name__)

__all__ = ["blueprint", "int_param", "resume_point", "sse_body", "sse_headers"]

blueprint = Blueprint("streams", __name__, url_prefix="/api/generations/<gid>/preview")

_RETRY_MS = 2000
_LEVELS = ("DEBUG", "INFO", "WARN", "ERROR")
_SOURCES = ("app", "build", "setup", "system", "proxy")
_STREAMS = ("stdout", "stderr")
_PROCESS_NAME = re.compile(r"[A-Za-z0-9_.-]{1,32}")
_MAX_PROCESSES = 20
_HISTORY_CONSISTENCY_WAIT = 5.0


def int_param(name: str, raw: str | None, default: int, *, low: int, high: int) -> int:
    if raw is None or raw.strip() == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        value = low - 1
    if not low <= value <= high:
        raise BadRequest(
            f"{name} must be an integer from {low} to {high}.",
            code=f"invalid_{_snake(name)}",
            details={name: raw[:100]},
        )
    return value


def _snake(name: str) -> str:
    return "".join(f"_{c.lower()}" if c.isupper() else c for c in name)


def _choices(name: str, raw: str | None, allowed: tuple[str, ...]) -> list[str] | None:
    if not raw:
        return None
    values = [
        part.strip().upper() if name == "level" else part.strip().lower()
        for part in raw.split(",")
        if part.strip()
    ]
    if name == "level":
        values = ["WARN" if v == "WARNING" else v for v in values]
    unknown = [v for v in values if v not in allowed]
    if unknown:
        raise BadRequest(
            f"{name} must be among {', '.join(allowed)}.",
            code=f"invalid_{name}",
            details={name: unknown[:10]},
        )
    return values


def sse_headers(preview_id: str) -> dict[str, str]:
    """Response headers of a log stream, for the Quart route and the fast path alike."""
    return {
        "Content-Type": "text/event-stream; charset=utf-8",
        "Cache-Control": "no-cache",
        "X-Accel-Buffering": "no",  # nginx and friends: do not buffer the stream
        "X-Preview-Instance-Id": preview_id,
    }


async def sse_body(
    state: Services,
    preview: PreviewRuntime | PreviewInstance,
    after: int,
    sink: Sink | None = None,
    *,
    slot: StreamSlot | None = None,
) -> AsyncIterator[bytes | Parked]:
    """The whole SSE response. Runs outside the app context: gets what it needs passed.
    With a ``sink`` (see ``event_feed``), an empty chunk asks the caller to let the sink
    finish what it started, and ``PARKED`` passes through (see ``event_feed``).
    ``slot``, the user's count of open streams, is released however the body ends (its
    end, the client leaving, a parked stream closed, the service stopping)."""
    assert state.store is not None
    try:
        yield f"retry: {_RETRY_MS}\n\n".encode()
        async with contextlib.aclosing(event_feed(state.store, preview, after, sink)) as feed:
            async for item in feed:
                if item is KEEPALIVE:
                    yield SSE_KEEPALIVE
                elif item is PARKED:
                    yield item
                elif type(item) is list:
                    yield sse_frames(item)
                else:
                    yield f"event: end\ndata: {json.dumps(item.to_dict())}\n\n".encode()
    finally:
        if slot is not None:
            slot.release()


async def resume_point(
    store: Store,
    preview: PreviewRuntime | PreviewInstance,
    raw_after: str | None,
    raw_tail: str | None,
) -> tuple[int, bool]:
    """Where a subscriber's stream starts: the id to send events after, and whether
    there is nothing to send at all (the preview is over and ``after`` is at or past
    its last event), which the SSE stream answers with 204 so that ``EventSource``
    stops reconnecting. The Quart route and the fast path both decide with this.

    ``raw_after`` is the ``Last-Event-ID`` (a reconnect resumes there); without one,
    ``tail=N`` starts N events before the newest instead of at the first."""
    after = int_param("lastEventId", raw_after, 0, low=0, high=2**62)
    tail = int_param("tail", raw_tail, -1, low=0, high=2**31)
    if not isinstance(preview, PreviewInstance):
        over, last_id = preview.broadcast.closed, preview.broadcast.last_id
    else:
        over, last_id = True, await store.last_log_seq(preview.id)
    if tail >= 0 and (raw_after is None or raw_after.strip() == ""):
        after = max(0, last_id - tail)
    return after, over and after >= last_id


@blueprint.get("/logs/stream")
async def stream_logs(gid: str) -> Response:
    state = services()
    user = state.user()
    state.streams.check(user.id)  # 429 past the user's bound, before any lookup
    await owned_generation(gid, user)
    raw_after = request.headers.get("Last-Event-ID") or request.args.get("lastEventId")
    preview = await preview_for(gid, request.args.get("previewId"))
    assert state.store is not None
    after, nothing_left = await resume_point(
        state.store, preview, raw_after, request.args.get("tail")
    )
    if nothing_left:
        # The WHATWG rule: a 204 makes EventSource stop instead of reconnecting.
        return Response("", status=204, headers={"Cache-Control": "no-cache"})
    slot = state.streams.take(user.id)  # 429 past the user's bound
    body = sse_body(state, preview, after, slot=slot)
    slot.bind(body)
    response = Response(body, headers=sse_headers(preview.id))
    response.timeout = None
    return response


def _history_filters() -> dict[str, Any]:
    args = request.args
    q = args.get("q") or None
    if q is not None and len(q) > 200:
        raise BadRequest("q is limited to 200 characters.", code="invalid_q")
    return {
        "levels": _choices("level", args.get("level"), _LEVELS),
        "sources": _choices("source", args.get("source"), _SOURCES),
        "streams": _choices("stream", args.get("stream"), _STREAMS),
        "processes": _processes(args.get("process")),
        "text": q,
    }


def _processes(raw: str | None) -> list[str] | None:
    """``process=``: worker names (``status.processes``), ``web`` for the lines that are
    not a worker's (the web process's, and the service's own)."""
    if not raw:
        return None
    values = list(dict.fromkeys(part.strip() for part in raw.split(",") if part.strip()))
    wrong = [v for v in values if not _PROCESS_NAME.fullmatch(v)]
    if wrong or len(values) > _MAX_PROCESSES:
        raise BadRequest(
            f"process must be at most {_MAX_PROCESSES} names (letters, digits, '.', '_', "
            "'-'), separated by commas: the workers' (status: processes), or web.",
            code="invalid_process",
            details={"process": wrong[:10]},
        )
    return values or None


def _text_line(event: dict[str, Any]) -> str:
    source = f"{event['source']}:{event['process']}" if event.get("process") else event["source"]
    origin = source if not event["stream"] else f"{source}/{event['stream']}"
    return f"{event['timestamp']} {event['level']:<5} [{origin}] {event['message']}\n"


async def _download(
    first: list[Event],
    rest: AsyncGenerator[list[Event], None],
    fmt: str,
    after: int,
    truncated: dict[str, Any] | None,
) -> AsyncIterator[bytes]:
    """The pages as they are read. The status line is sent by then: a store that fails
    midway ends the download with a last record saying so, and where to resume. Where
    the quota left lines out (``truncated``), a record says so, in its place."""
    gap = truncated["since"]["id"] if truncated and after < truncated["since"]["id"] else None
    async with contextlib.aclosing(rest):
        events, last = first, after
        while events:
            if gap is not None and events[-1].id >= gap:
                cut = next(i for i, event in enumerate(events) if event.id >= gap)
                yield _page(events[:cut], fmt) + _gap_record(fmt, truncated)
                events, gap = events[cut:], None
            yield _page(events, fmt)
            last = events[-1].id
            try:
                events = await anext(rest, [])
            except StoreUnavailable as error:
                _log.warning("a log download was cut: %s", error.message)
                yield _cut_record(fmt, last, error.message)
                return
        if gap is not None:  # the gap is at the end (a preview that runs on)
            yield _gap_record(fmt, truncated)


def _page(events: list[Event], fmt: str) -> bytes:
    if fmt == "ndjson":
        return "".join(event.json + "\n" for event in events).encode()
    return "".join(_text_line(event.to_dict()) for event in events).encode()


def _gap_record(fmt: str, truncated: Any) -> bytes:
    if fmt == "ndjson":
        return (json.dumps({"logsTruncated": truncated}) + "\n").encode()
    lines, since = truncated["droppedLines"], truncated["since"]
    count = f"{lines:,} lines" if lines is not None else "Lines"
    return (
        f"# {count} from id {since['id']} ({since['timestamp']}) on were not stored: the "
        "preview's log passed its storage quota (PREVIEW_LOG_QUOTA_MB).\n"
    ).encode()


def _cut_record(fmt: str, last: int, reason: str) -> bytes:
    message = f"The download is incomplete: {reason} Resume with after={last}."
    if fmt == "ndjson":
        record = {
            "status": "failed",
            "error": "store_unavailable",
            "message": message,
            "details": {"after": last},
        }
        return (json.dumps(record) + "\n").encode()
    return f"# {message}\n".encode()


async def _until_stored(store: Store, preview: PreviewRuntime, seq: int) -> None:
    """Wait (a while) for the writer to store the events up to ``seq``, unless the
    database refuses them (down, or locked by another writer): then 503 at once, not
    after the wait. The writer may be between two tries of a refused batch, so the store
    is asked whether it still refuses; else the next refusal ends the wait."""
    if preview.broadcast.persisted_id >= seq:
        return
    await store.log_writable()
    with trio.move_on_after(_HISTORY_CONSISTENCY_WAIT):
        async with trio.open_nursery() as nursery:

            async def first(wait: Callable[[], Awaitable[None]]) -> None:
                await wait()
                nursery.cancel_scope.cancel()

            nursery.start_soon(first, partial(preview.broadcast.wait_persisted, seq))
            nursery.start_soon(first, store.wait_log_refused)


@blueprint.get("/logs")
async def log_history(gid: str) -> Response:
    state = services()
    await owned_generation(gid, state.user())
    preview = await preview_for(gid, request.args.get("previewId"))
    after = int_param("after", request.args.get("after"), 0, low=0, high=2**62)
    limit = int_param("limit", request.args.get("limit"), 500, low=1, high=5000)
    fmt = (request.args.get("format") or "json").lower()
    if fmt not in ("json", "ndjson", "text"):
        raise BadRequest("format must be json, ndjson or text.", code="invalid_format")
    filters = _history_filters()
    if not isinstance(preview, PreviewInstance):
        # Read-your-writes: what the stream has shown is also in the history.
        shown = preview.broadcast.last_id
        assert state.store is not None
        await _until_stored(state.store, preview, shown)
        if preview.broadcast.persisted_id < shown:  # the database does not take them now
            raise StoreUnavailable(
                "The preview's latest log lines are not stored yet; try again shortly."
            )
    if fmt != "json":
        extension, mimetype = (
            ("ndjson", "application/x-ndjson")
            if fmt == "ndjson"
            else ("log", "text/plain; charset=utf-8")
        )
        # The first page before the status line: a database that fails now is a 503.
        pages = stored_events(state.store, preview.id, after, **filters)
        first = await anext(pages, [])
        response = Response(
            _download(first, pages, fmt, after, log_gaps(preview)["logsTruncated"]),
            content_type=mimetype,  # as it is: a mimetype gets a charset of Werkzeug's too
            headers={"Content-Disposition": f'attachment; filename="{preview.id}.{extension}"'},
        )
        response.timeout = None
        return response
    assert state.store is not None
    # At most `limit` events and about PAGE_BYTES of messages (5,000 pieces of an
    # over-long line would be 80 MiB): hasMore says when either cut the page short.
    events: list[Event] = []
    size, has_more = 0, False
    mean = preview.broadcast.mean_message_bytes if not isinstance(preview, PreviewInstance) else 0
    pages = stored_events(
        state.store, preview.id, after, event_bytes=mean, first_page=limit + 1, **filters
    )
    async with contextlib.aclosing(pages):
        async for page in pages:
            for event in page:
                if len(events) == limit or (events and size + len(event.message) > PAGE_BYTES):
                    has_more = True
                    break
                events.append(event)
                size += len(event.message)
            if has_more:
                break
    return jsonify(
        {
            "previewInstanceId": preview.id,
            "status": preview.status,
            "events": [event.to_dict() for event in events],
            "hasMore": has_more,
            "nextAfter": events[-1].id if events else after,
            **log_gaps(preview),
        }
    )


@blueprint.websocket("/logs/ws")
async def websocket_logs(gid: str) -> None:
    """The SSE stream's events as JSON text frames; same resume and slow-subscriber rules.

    After the preview's ``end`` frame (``{"type": "end", ...}``) the socket closes with
    1000. A subscriber that fell behind (or whose stored events the database cannot give
    now) is closed with 1013 (try again later): reconnect with ``?lastEventId=`` the last
    id received.
    """
    state = services()
    user = state.user()
    state.streams.check(user.id)  # 429 past the user's bound, before any lookup
    await owned_generation(gid, user)
    preview = await preview_for(gid, websocket.args.get("previewId"))
    assert state.store is not None
    after, _ = await resume_point(
        state.store, preview, websocket.args.get("lastEventId"), websocket.args.get("tail")
    )
    slot = state.streams.take(user.id)  # refused (429) before the handshake is accepted
    try:
        await websocket.accept()
        async with contextlib.aclosing(event_feed(state.store, preview, after)) as feed:
            async for item in feed:
                if item is KEEPALIVE:
                    continue
                if isinstance(item, End):
                    await websocket.send(json.dumps({"type": "end", **item.to_dict()}))
                    await websocket.close(1000)
                    return
                for event in item:
                    await websocket.send(event.json)
        await websocket.close(1013, "reconnect with lastEventId")
    finally:
        slot.release()
