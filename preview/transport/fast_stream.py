"""A lean ASGI path for the SSE log stream, the service's most frequent long request.

Hundreds of browsers may hold a stream each, so per-stream overhead is what limits
fan-out. :class:`StreamFastPath` wraps the Quart app and serves a *valid* stream request
itself: one task for the response and one watching for the client's disconnect, no
Quart request object or app context. Anything else (unauthenticated, unknown
generation, bad ``Last-Event-ID``, a finished stream's 204, another path) goes to the
Quart app, whose route for the same path answers it; so the error shape stays defined
in one place.

Under Hypercorn the body's chunks go straight to the socket (``DirectBodyWriter``), and
the writer is the subscription's sink: while the stream waits, the preview's paced
wake-ups send it its events without waking its task. Once the stream has written its
backlog and would wait, it is parked (``ParkedStreams``): the request's task returns
and the stream waits with no task and none of Hypercorn's state.
"""

from __future__ import annotations

import contextlib
import re
import urllib.parse
from email.utils import formatdate
from typing import TYPE_CHECKING, Any

import trio

from ..api.feed import tail_relays
from ..api.previews import preview_for
from ..api.streams import resume_point, sse_body, sse_headers
from ..errors import PreviewError
from ..logs import Parked
from ..services import Services, StreamParking, StreamSlot
from ..services.callers import AsgiCaller, cancel_on_disconnect, owned_generation
from ..store import PreviewInstance
from .cors import unwrap_send
from .direct_body import DirectBodyWriter

if TYPE_CHECKING:
    from ..runtime import PreviewRuntime

__all__ = ["HotStreams", "StreamFastPath"]

_PATH = re.compile(r"/api/generations/([^/]{1,40})/preview/logs/stream")


class StreamFastPath:
    """ASGI middleware in front of the Quart app (see the module doc)."""

    def __init__(self, app: Any, state: Services) -> None:
        self._app = app
        self._state = state

    async def __call__(self, scope: dict, receive: Any, send: Any) -> None:
        if scope["type"] == "http" and scope["method"] == "GET":
            match = _PATH.fullmatch(scope["path"])
            if match is not None:
                resolved = await self._resolve(scope, match.group(1))
                if resolved is not None:
                    preview, after, slot = resolved
                    adopted = False
                    try:
                        adopted = await self._stream(preview, after, slot, receive, send)
                    finally:
                        if not adopted:  # else the parked stream's body releases it
                            slot.release()
                    return
        await self._app(scope, receive, send)

    async def _resolve(
        self, scope: dict, gid: str
    ) -> tuple[PreviewRuntime | PreviewInstance, int, StreamSlot] | None:
        return await _resolve(self._state, scope, gid)

    async def _stream(
        self,
        preview: PreviewRuntime | PreviewInstance,
        after: int,
        slot: StreamSlot,
        receive: Any,
        send: Any,
    ) -> bool:
        """Serve the stream; True if it was parked (its body, holding ``slot``, is then
        the parked streams' to end)."""
        # Hypercorn's own send (the direct writer and parking need it), CORS added here.
        send, cors = unwrap_send(send)
        await send(
            {
                "type": "http.response.start",
                "status": 200,
                "headers": [
                    (name.lower().encode(), value.encode())
                    for name, value in sse_headers(preview.id).items()
                ]
                + cors,
            }
        )
        writer = DirectBodyWriter.attach(
            send, send_timeout=self._state.settings.stream_send_timeout
        )
        async with trio.open_nursery() as nursery:
            nursery.start_soon(cancel_on_disconnect, receive, nursery.cancel_scope)
            if writer is None:
                chunks = sse_body(self._state, preview, after, slot=slot)
                async with contextlib.aclosing(chunks) as body:
                    async for chunk in body:
                        assert type(chunk) is bytes
                        await send({"type": "http.response.body", "body": chunk, "more_body": True})
            elif await self._write_direct(preview, after, writer, slot):
                nursery.cancel_scope.cancel()
                return True  # parked: the rest of the body is the parked streams'
            await send({"type": "http.response.body", "body": b"", "more_body": False})
            nursery.cancel_scope.cancel()
        return False

    async def _write_direct(
        self,
        preview: PreviewRuntime | PreviewInstance,
        after: int,
        writer: DirectBodyWriter,
        slot: StreamSlot,
    ) -> bool:
        """Write the body through ``writer``; True if it parked and was adopted."""
        parked_streams = self._state.parked_streams
        parked = parked_streams.prepare(writer) if parked_streams is not None else None
        body = sse_body(self._state, preview, after, writer, slot=slot)
        slot.bind(body)
        adopted = False
        try:
            async for chunk in body:
                if isinstance(chunk, Parked):  # PARKED, its one instance
                    assert parked is not None and parked_streams is not None
                    if parked_streams.adopt(parked, body):
                        adopted = True
                        return True
                    await parked.wait_woken()
                else:
                    await writer.write(chunk)
            # What an offer left unsent (a drop can end the feed before the task saw
            # it) goes before h11's last chunk.
            await writer.write(b"")
            return False
        finally:
            if not adopted:
                await body.aclose()


async def _resolve(
    state: Services, scope: dict, gid: str
) -> tuple[PreviewRuntime | PreviewInstance, int, StreamSlot] | None:
    """The preview, the id to resume after and the user's stream slot, or None to let
    Quart answer (its 401, 404, 204, and its 429 past the user's bound). The same checks
    for the fast path and the hot path (``HotStreams``)."""
    if state.store is None or state.supervisor is None:
        return None
    caller = AsgiCaller(scope)
    query = dict(urllib.parse.parse_qsl(scope["query_string"].decode("latin-1")))
    try:
        user = caller.user(state)
        state.streams.check(user.id)  # past the bound: the route's 429, no lookup
        await owned_generation(gid, user, state)
        raw_after = caller.named.get("last-event-id") or query.get("lastEventId")
        preview = await preview_for(gid, query.get("previewId"), state)
        relays = tail_relays(state)
        after, nothing_left = await resume_point(
            state.store, preview, raw_after, query.get("tail"), relays
        )
        if nothing_left:
            return None  # the route answers 204 (the same decision, made again there)
        return preview, after, state.streams.reserve(user.id, gid)
    except PreviewError:
        return None


# A stream's request as the hot path reads it (the target as sent: a generation id with a
# percent escape, a path parameter or a fragment is Hypercorn's, whose route decodes it).
_HOT_TARGET = re.compile(rb"/api/generations/([^/?%;#]{1,40})/preview/logs/stream(?:\?(.*))?", re.S)
# What makes a request the ASGI path's: CORS or a preview page's call (an Origin), an
# upgrade, a body announced, a close asked for (Hypercorn's answer then says so).
_NOT_HOT = frozenset({b"origin", b"upgrade", b"expect", b"content-length", b"transfer-encoding"})
# Hypercorn's own lines after the app's headers, as it writes them (h11's framing last).
_HOT_HEAD_END = b"date: %s\r\nserver: hypercorn-h11\r\nTransfer-Encoding: chunked\r\n\r\n"


class HotStreams:
    """The SSE log stream served on the hot path's own connection (``proxy.hot.path``,
    below Hypercorn), where it would be parked at once anyway.

    Accepting a stream through Hypercorn cost the service 2.1-2.5 ms of CPU (against the
    peer's 1.1) on the 2-core machine, in small parts: Hypercorn's connection tasks and
    cancel scopes, h11's state machine for the head, the ASGI middlewares, a task for
    the disconnect, a send for the head and another for the first chunk, then taking
    the connection back from Hypercorn to park it (benchmarks/HISTORY.md, issue 70).
    Here the hot path's parsed head is checked by the same function as the fast path's
    (``_resolve``: the caller's credentials, the user's stream bound, the generation's
    owner, the preview, the resume point), the head goes out with the first chunk in
    one ``send`` (``DirectBodyWriter.on_connection``) and the stream is parked when it
    would wait (``ParkedStreams``), as the fast path's. Anything else, and any request
    the checks refuse, goes to Hypercorn unchanged, whose route answers it: the error
    shapes, the 204 and the 429 stay defined in one place.
    """

    def __init__(self, state: Services) -> None:
        self._state = state

    async def __call__(
        self, stream: trio.SocketStream, method: bytes, target: bytes, headers: list, rest: bytes
    ) -> bool:
        """Serve the stream if it is one taken here (``rest``: the bytes read after its
        head, none); False, having written nothing, for Hypercorn to answer it."""
        state = self._state
        parked_streams = state.parked_streams
        match = _HOT_TARGET.fullmatch(target) if method == b"GET" else None
        if match is None or rest or parked_streams is None or not parked_streams.adopting:
            return False
        host = None
        for name, value in headers:
            if name in _NOT_HOT or (name == b"connection" and b"close" in value.lower()):
                return False
            if name == b"host":
                if host is not None:
                    return False  # two: the origin router's 400
                host = value.decode("latin-1")
        if host is None or state.origins.is_app_host(host):
            return False
        scope = {"method": "GET", "headers": headers, "query_string": match.group(2) or b""}
        resolved = await _resolve(state, scope, match.group(1).decode("latin-1"))
        if resolved is None:
            return False
        preview, after, slot = resolved
        if isinstance(preview, PreviewInstance):
            # Over (its stored events, then its end), or in cluster mode running on
            # another node, which the ASGI path's forwarder reaches: Hypercorn's.
            slot.release()
            return False
        # A client that left: its slot was released with the body.
        with contextlib.suppress(trio.BrokenResourceError, trio.ClosedResourceError):
            await self._stream(stream, preview, after, slot, parked_streams)
        return True

    async def _stream(
        self,
        stream: trio.SocketStream,
        preview: PreviewRuntime | PreviewInstance,
        after: int,
        slot: StreamSlot,
        parked_streams: StreamParking,
    ) -> None:
        head = [b"HTTP/1.1 200 \r\n"]
        for name, value in sse_headers(preview.id).items():
            head.append(b"%s: %s\r\n" % (name.lower().encode(), value.encode("latin-1")))
        if self._state.settings.cors_origin_set:
            head.append(b"vary: Origin\r\n")  # as CorsMiddleware adds to every /api answer
        head.append(_HOT_HEAD_END % formatdate(usegmt=True).encode())
        writer = DirectBodyWriter.on_connection(
            stream, b"".join(head), send_timeout=self._state.settings.stream_send_timeout
        )
        parked = parked_streams.prepare(writer)
        body = sse_body(self._state, preview, after, writer, slot=slot)
        slot.bind(body)
        try:
            async for chunk in body:
                if isinstance(chunk, Parked):  # PARKED, its one instance
                    assert parked is not None
                    if parked_streams.adopt(parked, body):
                        body = None  # the parked streams' now, with the connection
                        return
                    await parked.wait_woken()  # the service stops: this task goes on
                else:
                    await writer.write(chunk)
            await writer.finish()
        finally:
            if body is not None:
                await body.aclose()
