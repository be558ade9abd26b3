"""The hot path's side toward the app: kept-alive HTTP/1.1 connections, no httpx.

:class:`RawPools` keeps, per running app (its ``Upstream``), the connections the hot path
(``hot.path``) made to it, up to ``POOL_SIZE`` at once: made by ``Upstream.open_stream``
(inside the sandbox's network namespace where the service may enter it).
:func:`ask` writes one request on one of them and reads the answer's head
(``hot.head.ResponseHead``), its whole body with it when it came in the same reads;
:func:`answer_body` gives the rest of a longer one as the app framed it. Errors are
httpx's, shaped by ``policy.translate_upstream_error`` as for every other call (502
``upstream_unavailable``, 504 ``upstream_timeout``) and named so by the ``proxy`` event.
"""

from __future__ import annotations

import math
import select
import socket
import struct
import weakref
from collections.abc import AsyncGenerator, AsyncIterator, Callable
from typing import Any, Protocol

import httpx
import trio

from ...runtime.clients import SAFE_METHODS
from ...runtime.upstream import POOL_SIZE
from ..failures import CUT_SHORT, UNANSWERED
from .head import ChunkedScanner, ResponseHead, parse_response
from .sockets import receive_now, send_now
from .watch import Watch

__all__ = [
    "FLUSH",
    "Dialled",
    "RawConnection",
    "RawPools",
    "answer_body",
    "ask",
    "went_stale",
]

FLUSH = object()  # given by answer_body() before it waits for more of the answer
Reader = Callable[[bytes, bytes], ResponseHead | str]  # how an answer's head is read

_IDLE_EXPIRY = 4.0  # s: below the 5 s after which uvicorn (and others) close an idle one
_READ = 65536
_HEAD_LIMIT = 65536
_LINGER_0 = struct.pack("ii", 1, 0)  # close with a reset: no TIME_WAIT on the app's port
_SAFE = frozenset(method.encode() for method in SAFE_METHODS)  # sent again when stale


class Dialled(Protocol):
    """What the pools connect to: an app (``runtime.upstream.Upstream``), or another
    cluster node's internal listener (``hot.onward.Node``)."""

    port: int

    async def open_stream(self) -> trio.SocketStream: ...

    def call_began(self) -> None: ...

    def call_ended(self) -> None: ...


class RawConnection:
    """One connection to the app; ``reusable`` once an answer was read to its end and
    the connection may carry the next call."""

    __slots__ = ("answered", "idle_since", "reusable", "reused", "stream")

    def __init__(self, stream: trio.SocketStream) -> None:
        self.stream, self.idle_since, self.reused, self.reusable = stream, 0.0, False, False
        self.answered = False  # a byte of the current call's answer came

    def closed_by_peer(self) -> bool:  # or sent something unasked, while it was idle
        try:
            readable, _, _ = select.select([self.stream.socket.fileno()], [], [], 0)
        except (OSError, ValueError):
            return True
        return bool(readable)  # an end of file, a reset, or bytes nobody asked for


class _Pool:
    def __init__(self) -> None:
        self.idle: list[RawConnection] = []
        self.slots = trio.Semaphore(POOL_SIZE)


class RawPools:
    """Every app's kept-alive connections (owned by the hot path of one service), and a
    cluster node's to the other nodes."""

    def __init__(self) -> None:
        self._pools: weakref.WeakKeyDictionary[Dialled, _Pool] = weakref.WeakKeyDictionary()
        self.opened = 0  # connections made (the tests' evidence that they are kept)

    def _pool(self, upstream: Dialled) -> _Pool:
        pool = self._pools.get(upstream)
        if pool is None:
            pool = self._pools[upstream] = _Pool()
        return pool

    async def borrow(
        self, upstream: Dialled, each_op_s: float, *, fresh: bool = False, retried: bool = False
    ) -> RawConnection:
        """An idle connection to the app (unless ``fresh``; checked for a close by the app
        unless the call would go again if it met one: ``retried``, :func:`went_stale`),
        else a new one (waits while ``POOL_SIZE`` are in use). Raises
        ``httpx.ConnectError`` / ``ConnectTimeout``."""
        pool = self._pool(upstream)
        upstream.call_began()  # until give_back: a revision's swap waits for it
        try:
            pool.slots.acquire_nowait()  # no scheduler round trip while one is free
        except trio.WouldBlock:
            try:
                await self._wait_for_slot(pool, each_op_s)
            except BaseException:
                upstream.call_ended()
                raise
        try:
            now = trio.current_time()
            while pool.idle and not fresh:
                connection = pool.idle.pop()
                fresh_enough = now - connection.idle_since < _IDLE_EXPIRY
                if fresh_enough and (retried or not connection.closed_by_peer()):
                    connection.reused = True
                    return connection
                connection.stream.socket.close()
            try:
                with trio.fail_after(each_op_s):
                    stream = await upstream.open_stream()
                if stream.socket.family == socket.AF_INET:  # closed with a reset: see
                    stream.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, _LINGER_0)  # below
                self.opened += 1
                return RawConnection(stream)
            except trio.TooSlowError:
                raise httpx.ConnectTimeout("connecting to the preview timed out") from None
            except OSError as error:
                raise httpx.ConnectError(f"the preview's socket: {error.strerror}") from None
        except BaseException:
            pool.slots.release()
            upstream.call_ended()
            raise

    async def close_idle_to(self, port: int) -> None:
        """Close the idle connections to the app on ``127.0.0.1:port`` (the port pool's
        closer, as ``runtime.clients``'): else the stopped app's end of each stays on the
        port (FIN_WAIT2, then TIME_WAIT) and the next preview's bind there fails."""
        for upstream, pool in list(self._pools.items()):
            if upstream.port == port:
                idle, pool.idle = pool.idle, []
                for connection in idle:
                    connection.stream.socket.close()

    @staticmethod
    async def _wait_for_slot(pool: _Pool, each_op_s: float) -> None:
        try:
            with trio.fail_after(each_op_s):
                await pool.slots.acquire()
        except trio.TooSlowError:
            raise httpx.PoolTimeout("no connection to the preview came free") from None

    def give_back(self, upstream: Dialled, connection: RawConnection, *, keep: bool) -> None:
        """Return a taken connection: kept for the next call if ``keep`` and the answer
        was read to its end on a connection that may go on (``reusable``), else closed."""
        pool = self._pool(upstream)
        pool.slots.release()
        upstream.call_ended()
        if keep and connection.reusable:
            connection.reusable = False
            connection.idle_since = trio.current_time()
            pool.idle.append(connection)
            return
        connection.stream.socket.close()

    async def ask(
        self,
        upstream: Dialled,
        each_op_s: float,
        head: bytes,
        body: AsyncIterator[bytes] | None,
        method: bytes,
        watch: Watch | None,
        read: Reader,
    ) -> tuple[RawConnection, ResponseHead]:
        """:func:`ask` on a connection taken here: a safe body-less call whose kept-alive
        connection the app had closed goes once more on a new one (:func:`went_stale`).
        The connection and the answer's head; on a failure, the connection is closed."""
        retried = body is None and method in _SAFE  # went_stale's calls
        taken: RawConnection | None = await self.borrow(upstream, each_op_s, retried=retried)
        try:
            try:
                return taken, await ask(taken, head, body, method, each_op_s, watch, read)
            except httpx.HTTPError as error:
                if body is not None or not went_stale(taken, error, method):
                    raise
            self.give_back(upstream, taken, keep=False)
            taken = None
            taken = await self.borrow(upstream, each_op_s, fresh=True)
            return taken, await ask(taken, head, None, method, each_op_s, watch, read)
        except BaseException:
            if taken is not None:
                self.give_back(upstream, taken, keep=False)
            raise


async def ask(
    connection: RawConnection,
    head: bytes,
    body: AsyncIterator[bytes] | None,
    method: bytes,
    each_op_s: float,
    watch: Watch | None = None,
    read: Reader = parse_response,
) -> ResponseHead:
    """Send the request ``head`` (and ``body``'s bytes, framed as the head says) and read
    the answer's head (``read``: how): its ``ResponseHead``, ``rest`` the bytes read past
    it. When they hold its whole body (or it has none), ``whole`` is that body and the
    connection's ``reusable`` is set; else :func:`answer_body` reads the rest. A small
    ``Content-Length`` body written apart from its head (uvicorn does) is read once
    more, so that it goes on in one write with it (that read's error is the body's:
    ``failed``). httpx's errors for the app's faults."""
    stream = connection.stream
    connection.reusable = connection.answered = False
    out = head
    if body is not None:
        async for chunk in body:
            await _send(stream, out + chunk, each_op_s)
            out = b""
    if out:
        await _send(stream, out, each_op_s)
    buffer = b""
    while True:
        end = buffer.find(b"\r\n\r\n")
        if end < 0:
            if len(buffer) > _HEAD_LIMIT:
                raise httpx.RemoteProtocolError("the preview's answer has an over-long head")
            buffer += await _receive(stream, each_op_s, watch, answered=bool(buffer))
            connection.answered = True
            continue
        response = read(buffer[:end], method)
        if isinstance(response, str):
            raise httpx.RemoteProtocolError(response)
        buffer = buffer[end + 4 :]
        if response.status >= 200:
            break  # an interim answer (100 Continue, 103 Early Hints) is not relayed
    length = response.length
    if length is not None and len(buffer) < length <= _READ and not response.bodiless:
        try:  # the body, written apart from the head: one more read (it may be in)
            buffer += await _receive(stream, each_op_s, watch, first=False)
        except httpx.HTTPError as error:
            response.failed = error
    response.rest = buffer
    if response.bodiless:  # HEAD, 204, 304
        response.whole, left_over = b"", bool(buffer)
    elif length is not None and len(buffer) >= length and not response.chunked:
        response.whole, left_over = buffer[:length], len(buffer) > length
    else:
        return response
    # Bytes past the answer that nobody asked for: the connection is not used again.
    connection.reusable = response.reusable and not left_over
    return response


def went_stale(connection: RawConnection, error: Exception, method: bytes) -> bool:
    """Whether a body-less call that failed with ``error`` may go again on a new
    connection: it went on a kept-alive one, which the app closed or reset before a
    byte of an answer (its keep-alive timeout ran out as the call went: a server that
    closes idle connections sooner than ``_IDLE_EXPIRY``, or after every answer without
    saying ``Connection: close``), and it is safe (RFC 9110 9.2.2). Not after a timeout:
    the app may be working on it."""
    if not connection.reused or connection.answered or method not in _SAFE:
        return False
    if isinstance(error, httpx.RemoteProtocolError):
        return str(error) == UNANSWERED
    return isinstance(error, httpx.ReadError | httpx.WriteError)


async def answer_body(
    connection: RawConnection,
    response: ResponseHead,
    each_op_s: float,
    watch: Watch | None = None,
) -> AsyncGenerator[Any, None]:
    """The body of an answer :func:`ask` did not read whole: its bytes as the app framed
    them (``FLUSH`` before each wait for more); httpx's errors for the app's faults."""
    stream = connection.stream
    buffer = response.rest
    if response.chunked:
        scanner = ChunkedScanner()
        while True:
            try:
                taken = scanner.feed(buffer)
            except ValueError as error:
                raise httpx.RemoteProtocolError(str(error)) from None
            if taken:
                yield buffer[:taken]
            if scanner.done:
                left_over = taken < len(buffer)
                break
            yield FLUSH
            buffer = await _receive(stream, each_op_s, watch)
    elif response.length is not None:
        left = response.length
        while True:
            piece = buffer[:left]
            if piece:
                yield piece
                left -= len(piece)
            if not left:
                left_over = len(buffer) > len(piece)
                break
            yield FLUSH
            if response.failed is not None:  # ask's read after the head failed
                raise response.failed
            buffer = await _receive(stream, each_op_s, watch)
    else:  # to the end of the connection
        while True:
            if buffer:
                yield buffer
            yield FLUSH
            buffer = await _receive(stream, each_op_s, watch, end_ok=True)
            if not buffer:
                break
        left_over = True
    # Bytes past the answer that nobody asked for: the connection is not used again.
    connection.reusable = response.reusable and not left_over


async def _receive(
    stream: trio.SocketStream,
    each_op_s: float,
    watch: Watch | None,
    *,
    end_ok: bool = False,
    first: bool = True,
    answered: bool = True,
) -> bytes:
    """The next bytes from the app; at its end of file ``b""`` if ``end_ok`` (an answer
    delimited so), else the error of an answer cut short, or of none if not ``answered``
    yet (``first``: wait first)."""
    try:
        data = await receive_now(stream, each_op_s, watch, wait_first=first)
    except trio.TooSlowError:
        raise httpx.ReadTimeout("the preview did not answer in time") from None
    except (trio.BrokenResourceError, OSError) as error:
        raise httpx.ReadError(str(error)) from None
    if not data and not end_ok:
        if not answered:
            raise httpx.RemoteProtocolError(UNANSWERED)
        raise httpx.RemoteProtocolError(CUT_SHORT)
    return data


async def _send(stream: trio.SocketStream, data: bytes, each_op_s: float) -> None:
    try:
        await send_now(stream, data, each_op_s if each_op_s > 0 else math.inf)
    except trio.TooSlowError:
        raise httpx.WriteTimeout("the preview took no more of the request") from None
    except (trio.BrokenResourceError, trio.ClosedResourceError, OSError) as error:
        raise httpx.WriteError(str(error)) from None
