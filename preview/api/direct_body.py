"""Writing a long response's body chunks straight to the client's socket, under Hypercorn.

An SSE stream is one chunk per write for as long as the client stays, so what a write
costs bounds fan-out. Through ASGI, each chunk passes Hypercorn's stream state checks,
its protocol's event dispatch, h11's state machine and writer, a lock and trio's
``send_all`` with its two checkpoints: about 55 µs per write on this project's 2-vCPU
machine, against 9–12 µs for one non-blocking ``send()`` of the same framed chunk
(``python -m benchmarks.floor``). :class:`DirectBodyWriter` does the latter once
Hypercorn has sent the response head, and gives the connection back to Hypercorn for
anything unusual:

* It attaches only when ``send`` is Hypercorn's trio HTTP/1.1 stream over a plain TCP
  socket and h11 chose chunked framing; otherwise :meth:`DirectBodyWriter.attach` gives
  None and the caller keeps using ``send`` (another server, TLS, HTTP/2, an HTTP/1.0
  client). ``tests/test_direct_body.py`` fails if a Hypercorn upgrade makes it stop
  attaching, rather than letting the stream fall back silently.
* A chunk the socket does not take at once is finished by trio's ``send_all`` under
  Hypercorn's own send lock, shielded as Hypercorn shields it: a chunk is never cut.
* A chunk that meets a broken or closed socket is sent again through ``send``, so the
  client's departure is handled by Hypercorn exactly as without this writer (it marks
  the stream closed and the app receives ``http.disconnect``); it never reaches a client.
* The end of the body (h11's last chunk) and everything after it go through ``send``.
  h11 keeps no count of chunked data, so its state stays right.
"""

from __future__ import annotations

import socket
from typing import Any

import trio
from h11._writers import ChunkedWriter
from hypercorn.protocol.h11 import H11Protocol
from hypercorn.protocol.http_stream import HTTPStream
from hypercorn.trio.tcp_server import TCPServer

__all__ = ["DirectBodyWriter"]


class DirectBodyWriter:
    """Writes HTTP/1.1 chunks of one streaming response (see the module doc)."""

    __slots__ = ("_lock", "_send", "_socket", "_stream")

    def __init__(
        self, send: Any, stream: trio.SocketStream, lock: trio.Lock, sock: socket.socket
    ) -> None:
        self._send = send
        self._stream = stream
        self._lock = lock
        self._socket: socket.socket | None = sock

    @classmethod
    def attach(cls, send: Any) -> DirectBodyWriter | None:
        """A writer for the response ``send`` belongs to, once its head was sent by
        ``send``; None unless that is Hypercorn's trio HTTP/1.1 chunked body on TCP."""
        http_stream = getattr(send, "__self__", None)
        if type(http_stream) is not HTTPStream:
            return None
        protocol = getattr(http_stream.send, "__self__", None)
        if type(protocol) is not H11Protocol:
            return None
        server = getattr(protocol.send, "__self__", None)
        if type(server) is not TCPServer:
            return None
        stream = getattr(server, "stream", None)
        lock = getattr(server, "send_lock", None)
        writer = getattr(getattr(protocol, "connection", None), "_writer", None)
        if (
            type(stream) is not trio.SocketStream
            or type(lock) is not trio.Lock
            or type(writer) is not ChunkedWriter
        ):
            return None
        sock = getattr(stream.socket, "_sock", None)
        if not isinstance(sock, socket.socket) or sock.type != socket.SOCK_STREAM:
            return None
        return cls(send, stream, lock, sock)

    async def write(self, data: bytes) -> None:
        """Send ``data`` (not empty) as one chunk of the body."""
        if self._socket is None:
            return await self._give_back(data)
        frame = b"%x\r\n%b\r\n" % (len(data), data)
        sent = 0
        if not self._lock.locked():
            try:
                sent = self._socket.send(frame)
            except BlockingIOError:
                pass
            except OSError:
                return await self._give_back(data)
            if sent == len(frame):
                return
        async with self._lock:
            try:
                with trio.CancelScope(shield=True):
                    await self._stream.send_all(memoryview(frame)[sent:])
            except (trio.BrokenResourceError, trio.ClosedResourceError):
                # Possibly cut mid-chunk, but on a connection that is gone.
                await self._give_back(data)

    async def _give_back(self, data: bytes) -> None:
        """From now on, chunks go through ``send``: the connection is broken or closed,
        and Hypercorn's own write reports it (see the module doc)."""
        self._socket = None
        await self._send({"type": "http.response.body", "body": data, "more_body": True})
