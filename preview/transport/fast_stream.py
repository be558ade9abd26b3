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
from typing import TYPE_CHECKING, Any

import trio

from ..api.previews import preview_for
from ..api.streams import resume_point, sse_body, sse_headers
from ..errors import PreviewError
from ..logs import PARKED
from ..services import Services, StreamSlot
from ..services.callers import AsgiCaller, cancel_on_disconnect, owned_generation
from ..store import PreviewInstance
from .cors import unwrap_send
from .direct_body import DirectBodyWriter

if TYPE_CHECKING:
    from ..runtime import PreviewRuntime

__all__ = ["StreamFastPath"]

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
        """The preview, the id to resume after and the user's stream slot, or None to
        let Quart answer (its 429 too, past the user's bound)."""
        state = self._state
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
            after, nothing_left = await resume_point(
                state.store, preview, raw_after, query.get("tail")
            )
            if nothing_left:
                return None  # the route answers 204 (the same decision, made again there)
            return preview, after, state.streams.take(user.id)
        except PreviewError:
            return None

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
                if chunk is PARKED:
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
