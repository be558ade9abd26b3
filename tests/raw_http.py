"""Raw-socket helpers: what a client that is not httpx sends and sees."""

from __future__ import annotations

import contextlib

import trio

from .conftest import Service


class Closed(Exception):
    """The server closed the connection before a whole response."""


def address(service: Service) -> tuple[str, int]:
    host, port = service.url.removeprefix("http://").rsplit(":", 1)
    return host, int(port)


async def until_closed(stream: trio.SocketStream) -> bytes:
    """Everything the server sends until it closes the connection."""
    received = b""
    while chunk := await stream.receive_some(65536):
        received += chunk
    return received


async def read_response(stream: trio.SocketStream, buffered: bytes = b"") -> tuple[bytes, bytes]:
    """One response with a Content-Length body: (head and body, bytes read past it)."""
    received = buffered
    while b"\r\n\r\n" not in received:
        chunk = await stream.receive_some(65536)
        if not chunk:
            raise Closed(received)
        received += chunk
    head, _, rest = received.partition(b"\r\n\r\n")
    length = 0
    for line in head.split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            length = int(value)
    while len(rest) < length:
        chunk = await stream.receive_some(65536)
        if not chunk:
            raise Closed(received + rest)
        rest += chunk
    return head + b"\r\n\r\n" + rest[:length], rest[length:]


async def answers(service: Service) -> None:
    """A new connection is answered (the server is still there)."""
    stream = await trio.open_tcp_stream(*address(service))
    async with stream:
        await stream.send_all(b"GET /api/health HTTP/1.1\r\nHost: x\r\n\r\n")
        response, _ = await read_response(stream)
        assert response.startswith(b"HTTP/1.1 200 "), response


async def send_endless_body(
    service: Service, head: bytes, start: bytes, filler: bytes, *, chunked: bool, at_most: int
) -> tuple[bytes, int]:
    """Send ``head`` (its framing header included), then a body of ``start`` and
    ``filler`` until ``at_most`` bytes or the server stops reading; what the server
    answered (up to its close) and the bytes sent."""
    piece_size = 64 << 10
    stream = await trio.open_tcp_stream(*address(service))
    sent = 0
    answer = b""
    async with stream:
        await stream.send_all(head)

        async def send_body() -> None:
            nonlocal sent
            piece = start
            while sent < at_most:
                data = b"%x\r\n%b\r\n" % (len(piece), piece) if chunked else piece
                await stream.send_all(data)
                sent += len(piece)
                piece = filler * piece_size

        async def read_answer(cancel_scope: trio.CancelScope) -> None:
            nonlocal answer
            try:
                while chunk := await stream.receive_some(65536):
                    answer += chunk
            except trio.BrokenResourceError:
                pass  # reset: the server closed with our body unread
            cancel_scope.cancel()

        async with trio.open_nursery() as nursery:
            nursery.start_soon(read_answer, nursery.cancel_scope)
            # A reset: the server closed the connection, it reads no more.
            with contextlib.suppress(trio.BrokenResourceError):
                await send_body()
    return answer, sent
