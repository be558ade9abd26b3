"""Writing a long response's body chunks straight to the client's socket, under Hypercorn.

An SSE stream is one chunk per write for as long as the client stays, so what a write
costs bounds fan-out. Through ASGI, each chunk passes Hypercorn's stream state checks,
its protocol's event dispatch, h11's state machine and writer, a lock and trio's
``send_all`` with its two checkpoints: 54–95 µs of CPU per write on this project's
2-vCPU machine, against 9–17 µs for one non-blocking ``send()`` of the same framed
chunk (``python -m benchmarks.floor --mode asgi`` / ``direct``). :class:`DirectBodyWriter`
does the latter once Hypercorn has sent the response head, from the stream's task
(:meth:`~DirectBodyWriter.write`) or, while that task waits, from the broadcast's paced
wake-up (:meth:`~DirectBodyWriter.offer`, a ``broadcast.Sink``), and gives the
connection back to Hypercorn for anything unusual:

* It attaches only when ``send`` is Hypercorn's trio HTTP/1.1 stream over a plain TCP
  socket and h11 chose chunked framing; otherwise :meth:`DirectBodyWriter.attach` gives
  None and the caller keeps using ``send`` (another server, TLS, HTTP/2, an HTTP/1.0
  client). ``tests/transport/test_direct_body.py`` fails if a Hypercorn upgrade makes it stop
  attaching, rather than letting the stream fall back silently.
* A chunk the socket does not take at once is finished by the stream's task under
  Hypercorn's own send lock, shielded as Hypercorn shields it: a chunk is never cut by a
  cancellation. What an offer could not send is kept and sent first by the task's next
  ``write``. A client that takes no byte for ``send_timeout`` seconds has stopped
  reading (or its host is gone): its connection is closed, as nginx's ``send_timeout``
  does, so it no longer pins a task, a subscription and the socket's buffers.
* A chunk that meets a broken or closed socket is sent again through ``send``, so the
  client's departure is handled by Hypercorn exactly as without this writer (it marks
  the stream closed and the app receives ``http.disconnect``); it never reaches a client.
* The end of the body (h11's last chunk) and everything after it go through ``send``.
  h11 keeps no count of chunked data, so its state stays right.
* :meth:`DirectBodyWriter.detach` takes the connection from Hypercorn for good, so that
  a waiting stream can be kept without Hypercorn's per-connection tasks
  (``preview.transport.parked_streams``); the writer then writes the rest of the body,
  including its end, to a socket of its own, and a write stuck on a client that
  stopped reading can be cancelled (no shield: the connection is closed after it).
"""

from __future__ import annotations

import fcntl
import math
import socket
import struct
import termios
from collections.abc import Callable
from typing import Any

import trio

# Hypercorn's and h11's internals (preview.seams): if they moved, the writer never attaches.
from ..seams.h11 import ChunkedWriter
from ..seams.hypercorn import H11Protocol, HTTPStream, TCPServer

__all__ = ["DirectBodyWriter"]


_RESET_ON_CLOSE = struct.pack("ii", 1, 0)  # SO_LINGER on, 0 s
_SIOCOUTQ: int | None = getattr(termios, "TIOCOUTQ", None)  # the same request on Linux


def _unacknowledged(sock: socket.socket) -> int | None:
    """Bytes in the socket's send queue that the peer has not acknowledged (Linux's
    ``SIOCOUTQ``); None where the system cannot tell (then no send timeout applies)."""
    if _SIOCOUTQ is None:
        return None
    try:
        return struct.unpack("i", fcntl.ioctl(sock.fileno(), _SIOCOUTQ, b"\0" * 4))[0]
    except OSError:
        return None


def _chunk(data: bytes) -> bytes:
    """``data`` framed as one HTTP/1.1 chunk."""
    return b"%x\r\n%b\r\n" % (len(data), data)


class DirectBodyWriter:
    """Writes HTTP/1.1 chunks of one streaming response (see the module doc)."""

    __slots__ = (
        "_h11",
        "_hot",
        "_lock",
        "_send",
        "_send_timeout",
        "_socket",
        "_stream",
        "_unsent",
        "on_wake",
    )

    def __init__(
        self,
        send: Any,
        stream: trio.SocketStream,
        lock: trio.Lock,
        sock: socket.socket,
        h11_connection: Any,
        send_timeout: float = math.inf,
    ) -> None:
        self._send: Any = send  # None once detached
        self._stream = stream
        self._lock = lock
        self._socket: socket.socket | None = sock
        self._h11: Any = h11_connection
        self._send_timeout = send_timeout
        self._unsent: memoryview | None = None  # the rest of an offered chunk
        self._hot = False  # the hot path's connection, not yet detached (on_connection)
        self.on_wake: Callable[[], None] | None = None  # broadcast.Sink: None, or parking

    @classmethod
    def on_connection(
        cls, stream: trio.SocketStream, head: bytes, *, send_timeout: float = math.inf
    ) -> DirectBodyWriter:
        """A writer for a response the hot path answers on its own connection
        (``proxy.hot.path``: no Hypercorn state at all), whose ``head`` (a chunked
        response's, not sent yet) goes out with the first chunk, in one ``send``.
        Written to as a detached writer is; :meth:`detach` moves it to a duplicate of the
        socket, so that the hot path closing its own leaves the client's connection open."""
        sock = stream.socket._sock  # type: ignore[attr-defined]
        writer = cls(None, stream, trio.Lock(), sock, None, send_timeout)
        writer._unsent = memoryview(head)
        writer._hot = True
        return writer

    @classmethod
    def attach(cls, send: Any, *, send_timeout: float = math.inf) -> DirectBodyWriter | None:
        """A writer for the response ``send`` belongs to, once its head was sent by
        ``send``; None unless that is Hypercorn's trio HTTP/1.1 chunked body on TCP.
        ``send_timeout``: seconds a client may take no byte before it is cut off."""
        http_stream = getattr(send, "__self__", None)
        if HTTPStream is None or type(http_stream) is not HTTPStream:
            return None
        protocol = getattr(http_stream.send, "__self__", None)
        if type(protocol) is not H11Protocol:
            return None
        server = getattr(protocol.send, "__self__", None)
        if type(server) is not TCPServer:
            return None
        stream = getattr(server, "stream", None)
        lock = getattr(server, "send_lock", None)
        connection = getattr(protocol, "connection", None)
        writer = getattr(connection, "_writer", None)
        if (
            type(stream) is not trio.SocketStream
            or type(lock) is not trio.Lock
            or type(writer) is not ChunkedWriter
            or not isinstance(getattr(connection, "trailing_data", None), tuple)
        ):
            return None
        sock = getattr(stream.socket, "_sock", None)
        if not isinstance(sock, socket.socket) or sock.type != socket.SOCK_STREAM:
            return None
        return cls(send, stream, lock, sock, connection, send_timeout)

    @property
    def pending(self) -> bool:
        """Part of an offered chunk waits for :meth:`write`."""
        return self._unsent is not None

    def offer(self, payload: bytes) -> bool:
        """Send ``payload`` (not empty) as one chunk now, without waiting, for the paced
        wake-up of a waiting stream (``broadcast.Sink``): what the socket does not take
        at once is kept for the stream's next :meth:`write` (``pending``). False, with
        nothing sent, if the stream's task has to send it (a write is under way, the
        connection is broken)."""
        if self._socket is None or self._unsent is not None or self._lock.locked():
            return False
        frame = _chunk(payload)
        try:
            sent = self._socket.send(frame)
        except BlockingIOError:
            sent = 0
        except OSError:
            return False
        if sent < len(frame):
            self._unsent = memoryview(frame)[sent:]
        return True

    async def write(self, data: bytes) -> None:
        """Send what :meth:`offer` left, then ``data`` as one chunk (none if empty)."""
        if self._socket is None:
            if data:
                await self._give_back(data)
            return
        frame = _chunk(data) if data else b""
        sent = 0
        if self._unsent is not None:
            frame, self._unsent = bytes(self._unsent) + frame, None
        elif not frame:
            return
        elif not self._lock.locked():
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
                # Hypercorn's connection must not be left with half a chunk; once
                # detached, a cancelled write ends in closing the connection anyway,
                # and a client that stopped reading must not pin the task.
                with trio.CancelScope(shield=self._send is not None):
                    await self._send_rest(memoryview(frame)[sent:])
            except (trio.BrokenResourceError, trio.ClosedResourceError):
                pass  # possibly cut mid-chunk, but on a connection that is gone
            else:
                return
        await self._give_back(data)  # outside the lock: Hypercorn's write takes it

    async def _send_rest(self, rest: memoryview) -> None:
        """Send ``rest`` as the socket takes it; close the connection if the client
        takes nothing for ``send_timeout`` seconds (``trio.BrokenResourceError``)."""
        raw = self._socket
        if raw is None:
            raise trio.ClosedResourceError
        while True:
            try:
                rest = rest[raw.send(rest) :]
            except BlockingIOError:
                pass
            except OSError as error:  # broken, or closed by close()
                raise trio.BrokenResourceError from error
            if not rest:
                return
            queued = _unacknowledged(raw)
            with trio.move_on_after(self._send_timeout):
                await trio.lowlevel.wait_writable(raw)
                continue
            # The socket becomes writable only once half its buffer has drained: a
            # client that reads, however slowly, has taken some of the queue.
            if queued is None or _unacknowledged(raw) != queued:
                continue
            # A reset rather than a close: the kernel drops the queue instead of
            # keeping it for a client that takes nothing.
            raw.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, _RESET_ON_CLOSE)
            if self._send is not None:
                # Hypercorn's: closed through trio's socket, so that its reader learns
                # of it. A detached writer's owner closes the connection.
                self._socket = None
                self._stream.socket.close()
            raise trio.BrokenResourceError(f"the client took nothing for {self._send_timeout:g} s")

    def detach(self) -> trio.SocketStream | None:
        """Take the connection from Hypercorn and return it; None, changing nothing, if
        a write is under way or unfinished, or the client sent more than its request.

        The writer keeps a duplicate of the socket and closes Hypercorn's: Hypercorn
        sees a closed connection (its reader stops, the app gets ``http.disconnect``)
        and frees its state, while the client's connection stays open on the
        duplicate. From then on the writer writes to that socket alone, ``send`` is
        never called again, and a broken connection raises ``trio.BrokenResourceError``
        from :meth:`write`. The body's end is the new owner's to write (``finish``).
        """
        if self._socket is None or self._unsent is not None or self._lock.locked():
            return None
        if self._hot:  # the hot path's connection (on_connection): it closes its own
            self._hot = False
        elif self._send is None:  # detached already
            return None
        else:
            trailing, closed = self._h11.trailing_data
            if trailing or closed:
                return None
        hypercorns = self._stream.socket
        own = hypercorns.dup()
        hypercorns.close()  # wakes Hypercorn's reader with ClosedResourceError
        self._stream = trio.SocketStream(own)
        self._lock = trio.Lock()
        self._socket = own._sock  # type: ignore[attr-defined]
        self._send = self._h11 = None
        return self._stream

    async def finish(self) -> None:
        """Once detached: what an offer left, then the body's last chunk."""
        await self.write(b"")
        await self._stream.send_all(b"0\r\n\r\n")

    def drain(self) -> bool:
        """Once detached: read what the client sent and drop it (a request pipelined
        behind an endless response); False if it closed or broke the connection."""
        if self._socket is None:
            return False
        try:
            return self._socket.recv(65536) != b""
        except BlockingIOError:
            return True
        except OSError:
            return False

    def close(self) -> None:
        """Once detached: close the connection (a write under way fails at once)."""
        self._socket = None
        self._stream.socket.close()

    async def _give_back(self, data: bytes) -> None:
        """From now on, chunks go through ``send``: the connection is broken or closed,
        and Hypercorn's own write reports it (see the module doc)."""
        self._socket = None
        if self._send is None:
            raise trio.BrokenResourceError("the client's connection is gone")
        if data:
            await self._send({"type": "http.response.body", "body": data, "more_body": True})
