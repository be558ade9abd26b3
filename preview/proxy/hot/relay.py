"""The hot path's side toward the caller (``hot.path``): its request body, the app's
answer relayed as the app framed it (a ``Content-Length`` body byte for byte, a chunked
one chunk for chunk; a body delimited by the end of the connection is chunked here), and
the service's error answers in the shape of ``errors.error_response``; and the one
answer of ``origin_router`` it gives itself, the trade of a ticket for a preview
origin's session (:func:`entered`)."""

from __future__ import annotations

import functools
import time
from collections.abc import AsyncIterator, Sequence
from email.utils import formatdate
from http import HTTPStatus
from typing import TYPE_CHECKING, Any

import h11
import httpx
import trio

from ...errors import PreviewError, body_stalled, error_response, malformed_request
from ...services import ENTER_PATH, Services
from ..policy import body_too_large
from .head import RequestHead, ResponseHead
from .sockets import receive_now, send_now
from .upstream import FLUSH

if TYPE_CHECKING:
    from ...runtime import PreviewRuntime

__all__ = ["VARY_ORIGIN", "ClientGone", "RequestBody", "answer", "answer_error", "entered", "relay"]

_READ = 65536
# What Hypercorn (its default ``include_server_header``) stamps on every answer, so
# that an answer is the same whichever side of it served the call.
_STAMP = b"server: hypercorn-h11\r\ndate: "
_FRAMING = "relay"  # ResponseHead.memo's key of what relay() makes of the head
# Ours on the API's origin once CORS origins are configured (``transport.cors``).
VARY_ORIGIN = ("Vary", "Origin")


class ClientGone(Exception):
    """The caller hung up while its request body was being forwarded."""


class RequestBody:
    """The caller's request body after ``head``, as it goes on to the app (framed as it
    came: a ``Content-Length`` body as is, a chunked one chunked again); ``rest``: what
    the caller sent after it (the next request), once it was read to its end."""

    __slots__ = ("_after", "_client", "_head", "_limit", "_timeout", "refused", "rest")

    def __init__(
        self,
        client: trio.SocketStream,
        head: RequestHead,
        buffer: bytes,
        limit: int,
        timeout: float,
    ) -> None:
        self._client, self._head, self._limit, self._timeout = client, head, limit, timeout
        self._after = buffer  # the bytes read so far, the head's included
        # Its answer, ours: 413 once past ``limit``, 400 a chunked body not HTTP/1.1's,
        # 408 none of it for ``timeout`` (``body_stalled``).
        self.refused: PreviewError | None = None
        self.rest: bytes | None = None
        if not head.chunked and not head.length:
            self.rest = buffer[head.size :]

    @property
    def empty(self) -> bool:
        return self.rest is not None

    async def _more(self) -> bytes:
        try:
            data = await receive_now(self._client, self._timeout)
        except trio.TooSlowError:
            self.refused = body_stalled(self._timeout)
            raise httpx.WriteError("the request's body stopped coming") from None
        except (trio.BrokenResourceError, trio.ClosedResourceError, OSError):
            raise ClientGone from None
        if not data:
            raise ClientGone
        return data

    async def chunks(self) -> AsyncIterator[bytes]:
        """The body's bytes for the app; ``ClientGone`` if the caller left, and past
        ``limit`` 413, a malformed chunk 400, a body stalled 408 (kept in ``refused``)
        and ``httpx.WriteError`` to end the call (not the app's fault: no 502)."""
        if self._head.chunked:
            async for chunk in self._chunked():
                yield chunk
            return
        left = self._head.length or 0  # over the limit: refused before the call
        data = self._after[self._head.size :]
        while True:
            piece = data[:left]
            if piece:
                yield piece
                left -= len(piece)
            if not left:
                self.rest = data[len(piece) :]
                return
            data = await self._more()

    async def _chunked(self) -> AsyncIterator[bytes]:
        # Rare on the hot path: h11 reads it (decoded, then chunked again for the app).
        parser = h11.Connection(h11.SERVER)
        parser.receive_data(self._after)
        parser.next_event()  # the request, parsed again
        size = 0
        while True:
            try:
                event = parser.next_event()
            except h11.RemoteProtocolError as error:
                self.refused = malformed_request()
                raise httpx.WriteError(f"the request's body: {error}") from None
            if event is h11.NEED_DATA:
                parser.receive_data(await self._more())
            elif isinstance(event, h11.Data):
                size += len(event.data)
                if size > self._limit:
                    self.refused = body_too_large(self._limit)
                    raise httpx.WriteError("over the limit")
                yield b"%x\r\n%b\r\n" % (len(event.data), event.data)
            elif type(event) is h11.EndOfMessage:
                yield b"0\r\n\r\n"
                self.rest = parser.trailing_data[0]
                return


async def relay(
    client: trio.SocketStream, response: ResponseHead, events: Any, headers: bytes
) -> bool:
    """Write the answer to the caller: its status, ``headers`` (the app's that the
    caller gets, as ``HeadWriter.answer`` writes them, and ours), the framing and the
    date, then the body (``response.whole``, else ``events``'); True if the
    connection may carry the next call."""
    found = response.memo.get(_FRAMING)  # the same for every copy of the head
    if found is None:
        length = next((v for n, v in response.headers if n == b"content-length"), None)
        # A body delimited by the end of the app's connection goes on chunked.
        rechunk = not response.bodiless and not response.chunked and response.length is None
        framing = b""
        if length is not None and not response.chunked:
            framing = b"content-length: %s\r\n" % length
        elif response.chunked or rechunk:
            framing = b"transfer-encoding: chunked\r\n"
        status = b"HTTP/1.1 %d %s\r\n" % (response.status, response.reason)
        found = response.memo[_FRAMING] = (status, framing + _STAMP, rechunk)
    status, framing, rechunk = found
    if response.whole is not None:  # read with the head: one write
        out = b"".join((status, headers, framing, _date(), b"\r\n\r\n", response.whole))
        try:
            await send_now(client, out)
        except (trio.BrokenResourceError, trio.ClosedResourceError):
            return False
        return True
    out = b"".join((status, headers, framing, _date(), b"\r\n\r\n"))
    try:
        async for event in events:
            if event is FLUSH:
                if out:
                    await send_now(client, out)
                    out = b""
            elif rechunk:
                out += b"%x\r\n%b\r\n" % (len(event), event)
            else:
                out += event
            if len(out) >= _READ:
                await send_now(client, out)
                out = b""
        if rechunk:
            out += b"0\r\n\r\n"
        if out:
            await send_now(client, out)
        return True
    except httpx.HTTPError:
        # The app broke off mid-answer: the caller's answer is cut short too.
        if out:
            await send_now(client, out)
        return False
    except (trio.BrokenResourceError, trio.ClosedResourceError):
        return False


@functools.lru_cache(maxsize=2)
def _date_of(second: int) -> bytes:
    return formatdate(second, usegmt=True).encode()


def _date() -> bytes:
    return _date_of(int(time.time()))


async def answer_error(
    client: trio.SocketStream, error: PreviewError, added_headers: Sequence[tuple[str, str]]
) -> None:
    status, headers, body = error_response(error)
    await answer(client, status, [*headers, *added_headers], body)


async def answer(
    client: trio.SocketStream, status: int, headers: Sequence[tuple[str, str]], body: bytes
) -> bool:
    """Answer with a whole body of ours; False if the caller is gone."""
    head = [b"HTTP/1.1 %d %s\r\n" % (status, HTTPStatus(status).phrase.encode())]
    for name, value in headers:
        head.append(b"%s: %s\r\n" % (name.lower().encode(), value.encode("latin-1")))
    head.append(b"content-length: %d\r\n%s%s\r\n\r\n" % (len(body), _STAMP, _date()))
    try:
        await send_now(client, b"".join(head) + body)
    except (trio.BrokenResourceError, trio.ClosedResourceError):
        return False
    return True


async def entered(
    state: Services,
    client: trio.SocketStream,
    request: RequestHead,
    rest: bytes,
    runtime: PreviewRuntime,
) -> bytes | None:
    """``origin_router``'s answer to ``GET /__preview/enter?ticket=…`` (bodiless), written
    here; ``rest``: the bytes after the request, returned for the next one."""
    from ..origin_router import _enter

    _, _, query = request.target.partition(b"?")
    scope = {
        "type": "http",
        "method": request.method.decode(),
        "scheme": "http",
        "path": ENTER_PATH,
        "query_string": query,
        "headers": request.headers,
    }
    messages: list[dict[str, Any]] = []

    async def send(message: dict[str, Any]) -> None:
        messages.append(message)

    try:
        await _enter(state.origins, scope, send, runtime)
    except PreviewError as error:
        await answer_error(client, error, [])
        return rest
    start = messages[0]
    head = [b"HTTP/1.1 %d %s\r\n" % (start["status"], HTTPStatus(start["status"]).phrase.encode())]
    head += [b"%s: %s\r\n" % (name, value) for name, value in start["headers"]]
    head.append(b"%s%s\r\n\r\n" % (_STAMP, _date()))
    body = b"".join(message.get("body", b"") for message in messages[1:])
    try:
        await send_now(client, b"".join(head) + body)
    except trio.BrokenResourceError:
        return None
    return rest
