"""The JSON envelope (``POST /api/generations/{gid}/preview/request``) on the hot path.

Through ASGI an envelope call crossed Hypercorn, the ASGI fast path and httpx: about
2.3 ms of CPU, eight times a proxied call's on the hot path. Here the request's body is
read whole on the connection (bodies up to ``_LARGEST``; a larger one is Hypercorn's,
parsed off the event loop), parsed and checked by the same functions as the route's
(``parse_json_object``, ``parse_envelope``, ``owned_runtime``, ``authorised_envelope``,
the owner's check kept in the hot path's ``CheckedCredentials``), the call goes out on
a kept-alive connection (``upstream``) with the head httpx would have written for it
(:func:`envelope_head`; ``tests/proxy/test_hot_envelope.py`` compares them) and the
answer, read whole within the proxy's limit, is shaped by ``read_envelope_response``
from an ``httpx.Response`` over the bytes read (so a compressed body is decoded as
before). Anything the checks refuse goes to Hypercorn with the bytes read, and the
route answers it; errors after the call left are answered here as the route's
(``envelope_error_response``). Each call is a ``proxy`` event and a request kept in
the history, as every call.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import TYPE_CHECKING, Any, final

import httpx
import trio

from ...errors import PreviewError, body_stalled
from ...services import Services
from ...services.bodies import envelope_limit, parse_json_object
from ...services.callers import AsgiCaller
from ..access import CheckedCredentials, authorised_envelope, owned_runtime
from ..calls import envelope_ended, envelope_error_response
from ..failures import call_failure
from ..policy import (
    EnvelopeRequest,
    caller_headers,
    parse_envelope,
    read_envelope_response,
    response_too_large,
)
from .head import ChunkedScanner, HeadWriter, RequestHead
from .relay import VARY_ORIGIN, answer, answer_error
from .sockets import receive_now
from .upstream import FLUSH, RawPools, answer_body
from .watch import Watch

if TYPE_CHECKING:
    from ...runtime import PreviewRuntime

__all__ = ["EnvelopeCalls", "EnvelopeTarget", "envelope_head"]

_LARGEST = 64 * 1024  # a larger body is parsed off the event loop: Hypercorn's
_BODILESS_BUT_SENT = frozenset({"POST", "PUT", "PATCH"})  # httpx sends Content-Length: 0
_PIECE = 65536  # the body given to httpx's decoders a read's size at a time, as before
_CLOSE_TIMEOUT = 1.0


@final  # narrowed by `type(x) is` on the hot path
class EnvelopeTarget:
    """What an envelope request's head says (``Routes._head_route``): its generation, and the
    key of the credentials it carries (``CheckedCredentials``)."""

    __slots__ = ("gid", "key")

    def __init__(self, gid: str, key: tuple) -> None:
        self.gid, self.key = gid, key


def envelope_head(
    call: EnvelopeRequest, port: int, defaults: list[tuple[bytes, bytes]], forwarded: bytes
) -> bytes:
    """The request to the app as httpx writes it for ``call`` (``calls.call_envelope``):
    ``Host`` and an empty POST's ``Content-Length`` first, the client's ``defaults`` the
    call does not name, the call's headers that go on, the ``forwarded`` lines, then
    its body's ``Content-Length``."""
    target = call.path + ("?" + call.query if call.query else "")
    lines = [
        b"%s %s HTTP/1.1\r\nHost: 127.0.0.1:%d\r\n" % (call.method.encode(), target.encode(), port)
    ]
    if not call.body and call.method in _BODILESS_BUT_SENT:  # httpx: b"" is none
        lines.append(b"Content-Length: 0\r\n")
    kept = caller_headers(call.headers)
    named = {name.lower().encode() for name, _ in kept}
    lines += [
        b"%s: %s\r\n" % (name, value) for name, value in defaults if name.lower() not in named
    ]
    lines += [b"%s: %s\r\n" % (name.encode(), value.encode("latin-1")) for name, value in kept]
    lines.append(forwarded)
    if call.body:
        lines.append(b"Content-Length: %d\r\n" % len(call.body))
    lines.append(b"\r\n")
    return b"".join(lines)


class _Read(httpx.AsyncByteStream):
    """An answer's body as read, for ``httpx.Response``'s decoders."""

    def __init__(self, body: bytes) -> None:
        self._body = body

    async def __aiter__(self) -> AsyncIterator[bytes]:
        for at in range(0, len(self._body), _PIECE):
            yield self._body[at : at + _PIECE]


class EnvelopeCalls:
    """The envelope's calls of one hot path (its pools, heads and credential cache)."""

    def __init__(
        self, state: Services, pools: RawPools, heads: HeadWriter, checked: CheckedCredentials
    ) -> None:
        self._state, self._pools, self._heads, self._checked = state, pools, heads, checked
        self._defaults: list[tuple[bytes, bytes]] | None = None
        self._vary = [VARY_ORIGIN] if state.settings.cors_origin_set else []  # as the routes

    def takes(self, request: RequestHead) -> bool:
        """Whether the head's body may be read here (else Hypercorn's: chunked, none,
        or over the envelope's or the inline parse's limit)."""
        length = request.length
        limit = min(_LARGEST, envelope_limit(self._state.settings))
        return not request.chunked and length is not None and 0 < length <= limit

    async def serve(
        self,
        client: trio.SocketStream,
        request: RequestHead,
        buffer: bytes,
        envelope: EnvelopeTarget,
        watch: Watch,
        forwarded_for: bytes,
        request_id: str,
    ) -> tuple[bool, bytes | None]:
        """(served, bytes): answered here and the bytes after the request (None: the
        connection closes), or not (False) and the bytes read, for Hypercorn."""
        runtime = await self._owned(request, envelope)
        if runtime is None:
            return False, buffer  # refused before its body is read, as the route does
        end = request.size + (request.length or 0)
        timeout = self._state.settings.body_timeout
        while len(buffer) < end:
            try:
                data = await receive_now(client, timeout, watch)
            except trio.TooSlowError:  # the body stopped coming: 408, as the path's
                await answer_error(client, body_stalled(timeout), self._vary)
                return True, None
            except (trio.BrokenResourceError, trio.ClosedResourceError):
                return True, None
            if not data:
                return True, None
            buffer += data
        try:
            data = parse_json_object(buffer[request.size : end])
            runtime, call = self._authorised(request, envelope, runtime, data)
        except PreviewError:
            return False, buffer
        forwarded = b"%sX-Forwarded-Proto: http\r\nX-Forwarded-Host: %s\r\nX-Request-ID: %s\r\n" % (
            forwarded_for,
            request.named.get(b"host", b""),
            request_id.encode(),
        )
        output = runtime.supervision.output if runtime.supervision is not None else None
        # Its access line is taken from the app's pipe once answered (``ChildOutput``).
        under_way = output.call_began() if output is not None else None
        try:
            status, headers, answered = await self._call(
                runtime, call, watch, forwarded, request_id
            )
            sent = await answer(client, status, [*headers, *self._vary], answered)
        finally:
            if under_way is not None:
                under_way.call_answered()
        if output is not None:  # the lines the call took, for the runtime
            await output.forward_to_watch()
        return True, buffer[end:] if sent else None

    async def _owned(self, request: RequestHead, envelope: EnvelopeTarget) -> PreviewRuntime | None:
        """The running preview of the caller's generation (the owner's check kept for
        these credentials as the path proxy's are); None for the route to answer."""
        runtime = self._checked.get(envelope.key)
        if runtime is not None:
            return runtime
        state = self._state
        caller = AsgiCaller({"method": "POST", "headers": request.headers})
        try:
            runtime = await owned_runtime(state, envelope.gid, caller.user(state))
        except PreviewError:
            return None
        self._checked.remember(envelope.key, runtime)
        return runtime

    def _authorised(
        self, request: RequestHead, envelope: EnvelopeTarget, runtime: PreviewRuntime, data: dict
    ) -> tuple[PreviewRuntime, EnvelopeRequest]:
        """The call, once the preview token it carries is checked (``authorised_envelope``,
        the route's check), kept for these credentials and token."""
        state = self._state
        call = parse_envelope(data, max_body=state.settings.proxy_max_body_bytes)
        header_token = request.named.get(b"x-preview-token")
        key = (*envelope.key, call.preview_token if header_token is None else None)
        if self._checked.get(key) is runtime:
            return runtime, call
        token = None if header_token is None else header_token.decode("latin-1")
        runtime, call = authorised_envelope(state, envelope.gid, data, token)
        self._checked.remember(key, runtime)
        return runtime, call

    async def _call(
        self,
        runtime: PreviewRuntime,
        call: EnvelopeRequest,
        watch: Watch,
        forwarded: bytes,
        request_id: str,
    ) -> tuple[int, list[tuple[str, str]], bytes]:
        """Make the call; the answer to give (the envelope, or the error's). Kept as
        ``calls.call_envelope`` keeps it, answered or not."""
        state = self._state
        settings = state.settings
        timeout = settings.proxy_timeout
        upstream = runtime.upstream  # once: a revision's swap moves it
        if self._defaults is None:
            assert state.http is not None
            self._defaults = [(n, v) for n, v in state.http.headers.raw if n.lower() != b"host"]
        head = envelope_head(call, upstream.port, self._defaults, forwarded)
        if call.body is not None:
            head += call.body
        _, recorder = state.calls.start(runtime, call.body)
        began = trio.current_time()
        taken = events = None
        kept = False
        try:
            method = call.method.encode()
            # Its body is in ``head``: a call on a stale connection goes again whole.
            taken, response = await self._pools.ask(
                upstream, timeout, head, None, method, watch, self._heads.read_response
            )
            body = response.whole
            if body is None:
                events = answer_body(taken, response, timeout, watch)
                body = await _whole(events, response.chunked, settings.proxy_max_response_bytes)
            kept = True
            read = httpx.Response(response.status, headers=response.headers, stream=_Read(body))
            result = await read_envelope_response(
                read,
                max_bytes=settings.proxy_max_response_bytes,
                sample=recorder.capture.answer,
            )
        except (httpx.HTTPError, PreviewError) as error:
            await envelope_ended(recorder, call, request_id, began, error=error)
            if isinstance(error, httpx.HTTPError):
                error = await call_failure(error, timeout, runtime, began)
            assert isinstance(error, PreviewError)
            return envelope_error_response(error)
        finally:
            if taken is not None:
                self._pools.give_back(upstream, taken, keep=kept)
            # Not read to its end (an async generator's frame goes when it finishes).
            if events is not None and getattr(events, "ag_frame", None) is not None:
                with trio.CancelScope(shield=True), trio.move_on_after(_CLOSE_TIMEOUT):
                    await events.aclose()
        result = await envelope_ended(
            recorder, call, request_id, began, response.status, response.headers, result
        )
        answered = json.dumps(result, separators=(",", ":")).encode() + b"\n"
        return 200, [("Content-Type", "application/json")], answered


async def _whole(events: AsyncIterator[Any], chunked: bool, limit: int) -> bytes:
    """The rest of an answer's body, its chunks' data if ``chunked``; 502
    ``response_too_large`` once it is past ``limit`` (as ``read_envelope_response``)."""
    pieces: list[bytes] = []
    scanner = ChunkedScanner(pieces) if chunked else None
    size = 0
    async for piece in events:
        if piece is FLUSH:
            continue
        if scanner is not None:
            scanner.feed(piece)
            size = scanner.size
        else:
            pieces.append(piece)
            size += len(piece)
        if size > limit:
            raise response_too_large(limit)
    return b"".join(pieces)
