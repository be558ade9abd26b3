"""Log streams: SSE live stream with replay, and the history: JSON pages, and downloads
as NDJSON, text, CSV or one JSON array (streamed page by page), filtered alike, a JSON
line's fields included (``logs.fields``: parsed as the history is read)."""

from __future__ import annotations

import contextlib
import csv
import io
import json
import logging
import re
from collections.abc import AsyncGenerator, AsyncIterator, Awaitable, Callable
from functools import partial
from typing import TYPE_CHECKING, Any

import trio
from quart import Blueprint, Response, jsonify, request, websocket

from ..clock import isoformat
from ..errors import BadRequest, StoreUnavailable
from ..logs import (
    FIELD_NAME,
    MAX_FIELD_FILTERS,
    MISSING,
    SSE_KEEPALIVE,
    Event,
    FieldFilter,
    Parked,
    Sink,
    field_text,
    field_value,
    line_fields,
    matches_all,
    parse_condition,
    sse_frames,
)
from ..services import Services, StreamSlot, WebsocketFrames, services
from ..services.callers import generation_access
from ..services.shares import Share
from ..store import LogFilter, PreviewInstance, Store
from .feed import PAGE_BYTES, End, event_feed, stored_events, tail_relays
from .previews import log_gaps, preview_for

if TYPE_CHECKING:
    from ..cluster import TailRelays
    from ..runtime import PreviewRuntime

_log = logging.getLogger(__name__)

__all__ = ["blueprint", "int_param", "resume_point", "sse_body", "sse_headers"]

blueprint = Blueprint("streams", __name__, url_prefix="/api/generations/<gid>/preview")

_RETRY_MS = 2000
_LEVELS = ("DEBUG", "INFO", "WARN", "ERROR")
_SOURCES = ("app", "build", "setup", "system", "proxy", "alert", "note")
_STREAMS = ("stdout", "stderr")
_PROCESS_NAME = re.compile(r"[A-Za-z0-9_.-]{1,32}")
_MAX_PROCESSES = 20
_HISTORY_CONSISTENCY_WAIT = 5.0
_FORMATS = ("json", "ndjson", "text", "csv")
# A field's name as a filter or a column takes it: a JSON key, or a dotted path of keys.
_FIELD_NAME = re.compile(FIELD_NAME)
_MAX_COLUMNS = 20
# Candidate lines (those the database's prefilter let through) one page of the JSON
# history reads at most for a field filter: a rare value in a long log is paged to
# (``hasMore``, ``nextAfter``), not searched for in one request.
_FIELD_SCAN = 20_000
_CSV_COLUMNS = ("id", "timestamp", "level", "source", "stream", "process", "message")
# A spreadsheet runs a cell that starts with one of these as a formula: such a cell (not
# a number) is written after a quote mark (OWASP's advice for CSV of untrusted text).
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


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
) -> AsyncGenerator[bytes | Parked, None]:
    """The whole SSE response. Runs outside the app context: gets what it needs passed.
    With a ``sink`` (see ``event_feed``), an empty chunk asks the caller to let the sink
    finish what it started, and ``PARKED`` passes through (see ``event_feed``).
    ``slot``, the user's count of open streams, is released however the body ends (its
    end, the client leaving, a parked stream closed, the service stopping)."""
    assert state.store is not None
    try:
        yield f"retry: {_RETRY_MS}\n\n".encode()
        feed = event_feed(state.store, preview, after, sink, tail_relays(state))
        async with contextlib.aclosing(feed):
            async for item in feed:  # told apart by class (KEEPALIVE is None)
                if type(item) is list:
                    yield sse_frames(item)
                elif type(item) is End:
                    yield f"event: end\ndata: {json.dumps(item.to_dict())}\n\n".encode()
                elif type(item) is Parked:
                    yield item
                else:
                    yield SSE_KEEPALIVE
    finally:
        if slot is not None:
            slot.release()


async def resume_point(
    store: Store,
    preview: PreviewRuntime | PreviewInstance,
    raw_after: str | None,
    raw_tail: str | None,
    relays: TailRelays | None = None,
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
    elif relays is not None and relays.serves(preview):  # live on another node
        over, last_id = False, await relays.top(preview.id)
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
    access = await generation_access(gid, user)
    raw_after = request.headers.get("Last-Event-ID") or request.args.get("lastEventId")
    preview = await preview_for(gid, request.args.get("previewId"))
    assert state.store is not None
    after, nothing_left = await resume_point(
        state.store, preview, raw_after, request.args.get("tail"), tail_relays(state)
    )
    if nothing_left:
        # The WHATWG rule: a 204 makes EventSource stop instead of reconnecting.
        return Response("", status=204, headers={"Cache-Control": "no-cache"})
    slot = state.streams.reserve(user.id, gid)  # 429 past the user's bound
    body = sse_body(state, preview, after, slot=slot)
    slot.bind(body)
    if access.share is not None:
        body = _ended_with_share(state, body, access.share)
    response = Response(body, headers=sse_headers(preview.id))
    response.timeout = None
    return response


async def _ended_with_share(
    state: Services, body: AsyncIterator[Any], share: Share
) -> AsyncIterator[Any]:
    """A shared user's stream: ``body`` until its share is revoked or expires, then a
    last ``revoked`` event (and no ``end``: the stream is over for this user, not the
    preview; a reconnect answers 404)."""
    guard = state.shares.open(share.id, share.expires_at)
    async for chunk in state.shares.guarded(body, guard):
        yield chunk
    if guard.ended:
        yield b'event: revoked\ndata: {"reason":"share_ended"}\n\n'


def _history_filter(fields: list[FieldFilter]) -> LogFilter:
    args = request.args
    q = args.get("q") or None
    if q is not None and len(q) > 200:
        raise BadRequest("q is limited to 200 characters.", code="invalid_q")
    return LogFilter(
        levels=_choices("level", args.get("level"), _LEVELS) or (),
        sources=_choices("source", args.get("source"), _SOURCES) or (),
        streams=_choices("stream", args.get("stream"), _STREAMS) or (),
        processes=_processes(args.get("process")) or (),
        text=q,
        # The database passes only the lines that can match (see LogFilter).
        field_keys=sorted({each.key for each in fields}),
    )


def _field_filters() -> list[FieldFilter]:
    """``field.NAME=value``, ``field.NAME>=n``, ``field.NAME<=n``, ``field.NAME!=value``,
    ``field.NAME>n``, ``field.NAME<n`` (each of them: all must hold). A query string splits
    ``field.status>=500`` at its ``=`` (the key's last character then says the comparison)
    and leaves ``field.status>500`` whole, a key with no value."""
    found = []
    for name, value in request.args.items(multi=True):
        if not name.startswith("field."):
            continue
        condition = name[len("field.") :]
        if value or not ("<" in condition or ">" in condition):
            condition = f"{condition}={value}"
        try:
            found.append(parse_condition(condition))
        except ValueError as error:
            raise BadRequest(
                f"field.NAME=value filters by a JSON or logfmt line's field (also >=, <=, >, <"
                f" for numbers, !=): {error}.",
                code="invalid_field",
                details={"field": name[:100]},
            ) from None
    if len(found) > MAX_FIELD_FILTERS:
        raise BadRequest(
            f"At most {MAX_FIELD_FILTERS} field filters.",
            code="invalid_field",
            details={"count": len(found)},
        )
    return found


def _columns() -> list[str]:
    """``fields=a,b``: the JSON lines' fields a CSV download has as columns."""
    raw = request.args.get("fields") or ""
    names = list(dict.fromkeys(part.strip() for part in raw.split(",") if part.strip()))
    wrong = [name for name in names if not _FIELD_NAME.fullmatch(name)]
    if wrong or len(names) > _MAX_COLUMNS:
        raise BadRequest(
            f"fields must be at most {_MAX_COLUMNS} field names, separated by commas.",
            code="invalid_fields",
            details={"fields": wrong[:10]},
        )
    return names


def _history_dict(event: Event) -> dict[str, Any]:
    """An event as the history gives it: with ``fields`` when the line is a JSON object
    or a logfmt record (``logs.fields``)."""
    data = event.to_dict()
    fields = line_fields(event.message)
    if fields is not None:
        data["fields"] = fields
    return data


async def _matching(
    pages: AsyncGenerator[list[Event], None], fields: list[FieldFilter]
) -> AsyncGenerator[list[Event], None]:
    """``pages`` with only the lines whose fields meet ``fields``; empty pages left out."""
    async with contextlib.aclosing(pages):
        async for page in pages:
            kept = [event for event in page if matches_all(event.message, fields)]
            if kept:
                yield kept


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


_DOWNLOADS = {
    "ndjson": ("ndjson", "application/x-ndjson"),
    "text": ("log", "text/plain; charset=utf-8"),
    "csv": ("csv", "text/csv; charset=utf-8"),
    "json": ("json", "application/json"),
}


def _text_line(event: dict[str, Any]) -> str:
    source = f"{event['source']}:{event['process']}" if event.get("process") else event["source"]
    origin = source if not event["stream"] else f"{source}/{event['stream']}"
    return f"{event['timestamp']} {event['level']:<5} [{origin}] {event['message']}\n"


async def _download(
    first: list[Event],
    rest: AsyncGenerator[list[Event], None],
    form: _Form,
    after: int,
    truncated: dict[str, Any] | None,
) -> AsyncIterator[bytes]:
    """The pages as they are read. The status line is sent by then: a store that fails
    midway ends the download with a last record saying so, and where to resume. Where
    the quota left lines out (``truncated``), a record says so, in its place."""
    gap = truncated["since"]["id"] if truncated and after < truncated["since"]["id"] else None
    yield form.opening()
    async with contextlib.aclosing(rest):
        events, last = first, after
        while events:
            if gap is not None and events[-1].id >= gap:
                cut = next(i for i, event in enumerate(events) if event.id >= gap)
                yield form.page(events[:cut]) + form.gap(truncated)
                events, gap = events[cut:], None
            yield form.page(events)
            last = events[-1].id
            try:
                events = await anext(rest, [])
            except StoreUnavailable as error:
                _log.warning("a log download was cut: %s", error.message)
                yield form.cut(last, error.message) + form.closing()
                return
        if gap is not None:  # the gap is at the end (a preview that runs on)
            yield form.gap(truncated)
    yield form.closing()


def _gap_text(truncated: Any) -> str:
    lines, since = truncated["droppedLines"], truncated["since"]
    count = f"{lines:,} lines" if lines is not None else "Lines"
    return (
        f"{count} from id {since['id']} ({since['timestamp']}) on were not stored: the "
        "preview's log passed its storage quota (PREVIEW_LOG_QUOTA_MB)."
    )


def _cut_error(last: int, reason: str) -> dict[str, Any]:
    return {
        "status": "failed",
        "error": "store_unavailable",
        "message": f"The download is incomplete: {reason} Resume with after={last}.",
        "details": {"after": last},
    }


def _cell(text: str) -> str:
    if text.startswith(_FORMULA_START) and _not_number(text):
        return "'" + text
    return text


def _not_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return True
    return False


class _Form:
    """A download's encoding (``format=``): its opening, pages, records of a gap or a
    cut, and closing, each as bytes to send as they come."""

    def __init__(self, fmt: str, columns: list[str]) -> None:
        self.fmt = fmt
        self.columns = columns
        self._first = True  # a JSON array's first element (no comma before it)

    def opening(self) -> bytes:
        if self.fmt == "json":
            return b"["
        if self.fmt == "csv":
            return self._rows([[*_CSV_COLUMNS, *self.columns]])
        return b""

    def closing(self) -> bytes:
        return b"]\n" if self.fmt == "json" else b""

    def page(self, events: list[Event]) -> bytes:
        fmt = self.fmt
        if fmt == "ndjson":
            return "".join(event.json + "\n" for event in events).encode()
        if fmt == "json":
            return self._elements([json.dumps(_history_dict(event)) for event in events])
        if fmt == "csv":
            return self._rows([self._csv_row(event) for event in events])
        return "".join(_text_line(event.to_dict()) for event in events).encode()

    def gap(self, truncated: Any) -> bytes:
        if self.fmt == "ndjson":
            return (json.dumps({"logsTruncated": truncated}) + "\n").encode()
        if self.fmt == "json":
            return self._elements([json.dumps({"logsTruncated": truncated})])
        if self.fmt == "csv":  # a row of its own: no id, the service's words
            return self._rows([self._note("WARN", _gap_text(truncated))])
        return f"# {_gap_text(truncated)}\n".encode()

    def cut(self, last: int, reason: str) -> bytes:
        error = _cut_error(last, reason)
        if self.fmt == "ndjson":
            return (json.dumps(error) + "\n").encode()
        if self.fmt == "json":
            return self._elements([json.dumps(error)])
        if self.fmt == "csv":
            return self._rows([self._note("ERROR", error["message"])])
        return f"# {error['message']}\n".encode()

    def _elements(self, encoded: list[str]) -> bytes:
        if not encoded:
            return b""
        lead = "\n" if self._first else ",\n"
        self._first = False
        return (lead + ",\n".join(encoded)).encode()

    def _csv_row(self, event: Event) -> list[str]:
        row = [
            str(event.id),
            isoformat(event.timestamp) or "",
            event.level,
            event.source,
            event.stream or "",
            event.process or "",
            _cell(event.message),
        ]
        if self.columns:
            fields = line_fields(event.message) or {}
            for name in self.columns:
                value = field_value(fields, name)
                row.append("" if value is MISSING else _cell(field_text(value)))
        return row

    def _note(self, level: str, message: str) -> list[str]:
        return ["", "", level, "system", "", "", message] + [""] * len(self.columns)

    @staticmethod
    def _rows(rows: list[list[str]]) -> bytes:
        out = io.StringIO()
        csv.writer(out, lineterminator="\r\n").writerows(rows)
        return out.getvalue().encode()


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
    await generation_access(gid, state.user())
    preview = await preview_for(gid, request.args.get("previewId"))
    after = int_param("after", request.args.get("after"), 0, low=0, high=2**62)
    limit = int_param("limit", request.args.get("limit"), 500, low=1, high=5000)
    fmt = (request.args.get("format") or "").lower()
    if fmt and fmt not in _FORMATS:
        raise BadRequest("format must be json, ndjson, text or csv.", code="invalid_format")
    fields = _field_filters()
    where = _history_filter(fields)
    columns = _columns()
    assert state.store is not None
    if not isinstance(preview, PreviewInstance):
        # Read-your-writes: what the stream has shown is also in the history.
        shown = preview.broadcast.last_id
        await _until_stored(state.store, preview, shown)
        if preview.broadcast.persisted_id < shown:  # the database does not take them now
            raise StoreUnavailable(
                "The preview's latest log lines are not stored yet; try again shortly."
            )
    if fmt:  # a download of everything (after ``after``), as it is read
        extension, mimetype = _DOWNLOADS[fmt]
        pages = stored_events(state.store, preview.id, after, where=where)
        if fields:
            pages = _matching(pages, fields)
        # The first page before the status line: a database that fails now is a 503.
        first = await anext(pages, [])
        form = _Form(fmt, columns)
        response = Response(
            _download(first, pages, form, after, log_gaps(preview)["logsTruncated"]),
            content_type=mimetype,  # as it is: a mimetype gets a charset of Werkzeug's too
            headers={"Content-Disposition": f'attachment; filename="{preview.id}.{extension}"'},
        )
        response.timeout = None
        return response
    # At most `limit` events and about PAGE_BYTES of messages (5,000 pieces of an
    # over-long line would be 80 MiB): hasMore says when either cut the page short.
    events: list[Event] = []
    size, has_more = 0, False
    mean = preview.broadcast.mean_message_bytes if not isinstance(preview, PreviewInstance) else 0
    pages = stored_events(
        state.store, preview.id, after, event_bytes=mean, first_page=limit + 1, where=where
    )
    scanned, next_after = 0, None
    async with contextlib.aclosing(pages):
        async for page in pages:
            for event in page:
                if fields and not matches_all(event.message, fields):
                    continue
                if len(events) == limit or (events and size + len(event.message) > PAGE_BYTES):
                    has_more = True
                    break
                events.append(event)
                size += len(event.message)
            if has_more:
                break
            scanned += len(page)
            if fields and scanned >= _FIELD_SCAN:  # the rest on the next page's request
                has_more, next_after = True, page[-1].id
                break
    return jsonify(
        {
            "previewInstanceId": preview.id,
            "status": preview.status,
            "events": [_history_dict(event) for event in events],
            "hasMore": has_more,
            "nextAfter": next_after or (events[-1].id if events else after),
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
    access = await generation_access(gid, user)
    preview = await preview_for(gid, websocket.args.get("previewId"))
    assert state.store is not None
    relays = tail_relays(state)
    after, _ = await resume_point(
        state.store, preview, websocket.args.get("lastEventId"), websocket.args.get("tail"), relays
    )
    slot = state.streams.reserve(user.id, gid)  # refused (429) before the handshake is accepted
    guard = None
    try:
        await websocket.accept()
        frames = WebsocketFrames.attach(websocket)  # a batch a write; None: frame by frame
        feed = event_feed(state.store, preview, after, None, relays)
        if access.share is not None:  # ends with the share (1008, then no reconnect)
            guard = state.shares.open(access.share.id, access.share.expires_at)
            feed = state.shares.guarded(feed, guard)
        async with contextlib.aclosing(feed):
            async for item in feed:  # KEEPALIVE sends nothing; no sink: never PARKED
                if type(item) is list:
                    if frames is not None:
                        await frames.send_texts([event.json for event in item])
                    else:
                        for event in item:
                            await websocket.send(event.json)
                elif type(item) is End:
                    await websocket.send(json.dumps({"type": "end", **item.to_dict()}))
                    await websocket.close(1000)
                    return
        if guard is not None and guard.ended:
            await websocket.close(1008, "share ended")
            return
        await websocket.close(1013, "reconnect with lastEventId")
    finally:
        slot.release()
