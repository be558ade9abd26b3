"""The hot path's side toward the caller (``hot_path``): its request body as h11 reads
it, the app's answer relayed as the app framed it (a ``Content-Length`` body byte for
byte; a body of unknown length chunked), and the service's error answers in the shape of
``errors.error_response``; and the one answer of ``origin_router`` it gives itself,
the trade of a ticket for a preview origin's session (:func:`entered`)."""

from __future__ import annotations

import contextlib
import functools
import time
from collections.abc import AsyncIterator
from email.utils import formatdate
from http import HTTPStatus
from typing import Any

import h11
import httpx
import trio

from ..errors import PreviewError, error_response
from ..runtime import PreviewRuntime
from ..services import ENTER_PATH, Services
from .hot_upstream import FLUSH, receive_now, send_now
from .policy import body_too_large, response_headers

__all__ = ["ClientGone", "answer_error", "entered", "relay", "request_body", "rest_of"]

_READ = 65536


class ClientGone(Exception):
    """The caller hung up while its request body was being forwarded."""


async def request_body(
    client: trio.SocketStream, parser: h11.Connection, limit: int, over: list
) -> AsyncIterator[bytes]:
    """The caller's body as h11 reads it; past ``limit``, 413 (kept in ``over``, and
    ``httpx.WriteError`` raised to end the call); ``ClientGone`` if the caller left."""
    size = 0
    while True:
        event = parser.next_event()
        if event is h11.NEED_DATA:
            try:
                data = await receive_now(client)
            except (trio.BrokenResourceError, trio.ClosedResourceError, OSError):
                raise ClientGone from None
            if not data:
                raise ClientGone
            parser.receive_data(data)
            continue
        if type(event) is h11.Data:
            size += len(event.data)
            if size > limit:
                over.append(body_too_large(limit))
                raise httpx.WriteError("over the limit")
            yield event.data
        elif type(event) is h11.EndOfMessage:
            return


async def relay(
    client: trio.SocketStream,
    response: h11.Response,
    events: Any,
    method: bytes,
    exposure: Any,
    extra: list[tuple[str, str]],
) -> bool:
    """Write the answer to the caller, the app's headers as ``policy`` and ``exposure``
    (``browser``) let them through, then ``extra``; True if the connection may carry
    the next call."""
    raw = httpx.Headers([(n, v) for n, v in response.headers])
    kept = [
        (name, value)
        for name, value in response_headers(raw, relayed=True, as_sent=True, exposure=exposure)
        if name.lower() != "content-length"  # the framing is written below, once
    ]
    kept += extra
    length = next((v for n, v in response.headers if n == b"content-length"), None)
    bodiless = method == b"HEAD" or response.status_code in (204, 304) or response.status_code < 200
    chunked = not bodiless and length is None
    head = [b"HTTP/1.1 %d %s\r\n" % (response.status_code, response.reason or b"")]
    for name, value in kept:
        head.append(b"%s: %s\r\n" % (name.encode("latin-1"), value.encode("latin-1")))
    if length is not None:
        head.append(b"content-length: %s\r\n" % length)
    elif chunked:
        head.append(b"transfer-encoding: chunked\r\n")
    head.append(b"date: %s\r\n\r\n" % _date())
    out = b"".join(head)
    try:
        async for event in events:
            if type(event) is h11.Data:
                out += b"%x\r\n%b\r\n" % (len(event.data), event.data) if chunked else event.data
            elif type(event) is h11.EndOfMessage:
                if chunked:
                    out += b"0\r\n\r\n"
                await send_now(client, out)
                return True
            if event is FLUSH or len(out) >= _READ:
                await send_now(client, out)
                out = b""
    except httpx.HTTPError:
        # The app broke off mid-answer: the caller's answer is cut short too.
        if out:
            await send_now(client, out)
        return False
    except (trio.BrokenResourceError, trio.ClosedResourceError):
        return False
    return False


@functools.lru_cache(maxsize=2)
def _date_of(second: int) -> bytes:
    return formatdate(second, usegmt=True).encode()


def _date() -> bytes:
    return _date_of(int(time.time()))


async def answer_error(
    client: trio.SocketStream, error: PreviewError, extra: list[tuple[str, str]]
) -> None:
    status, headers, body = error_response(error)
    head = [b"HTTP/1.1 %d %s\r\n" % (status, HTTPStatus(status).phrase.encode())]
    for name, value in [*headers, *extra]:
        head.append(b"%s: %s\r\n" % (name.lower().encode(), value.encode("latin-1")))
    head.append(b"content-length: %d\r\ndate: %s\r\n\r\n" % (len(body), _date()))
    with contextlib.suppress(trio.BrokenResourceError, trio.ClosedResourceError):
        await send_now(client, b"".join(head) + body)


async def entered(
    state: Services,
    client: trio.SocketStream,
    parser: h11.Connection,
    request: h11.Request,
    runtime: PreviewRuntime,
) -> bytes | None:
    """``origin_router``'s answer to ``GET /__preview/enter?ticket=…``, written here."""
    from .origin_router import _enter

    if type(parser.next_event()) is not h11.EndOfMessage:
        return None
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
        return rest_of(parser)
    start = messages[0]
    head = [b"HTTP/1.1 %d %s\r\n" % (start["status"], HTTPStatus(start["status"]).phrase.encode())]
    head += [b"%s: %s\r\n" % (name, value) for name, value in start["headers"]]
    head.append(b"\r\n")
    body = b"".join(message.get("body", b"") for message in messages[1:])
    try:
        await send_now(client, b"".join(head) + body)
    except trio.BrokenResourceError:
        return None
    return rest_of(parser)


def rest_of(parser: h11.Connection) -> bytes:
    """What the caller sent after the request h11 just read to its end (the next one)."""
    return parser.trailing_data[0]
