"""The hot path's side toward the app: kept-alive HTTP/1.1 connections with h11, no httpx.

:class:`RawPools` keeps, per running app (its ``Upstream``), the connections the hot path
(``hot_path``) made to it, up to ``POOL_SIZE`` at once: made by ``Upstream.open_stream``
(inside the sandbox's network namespace where the service may enter it), each with its
``h11.Connection`` in client mode. :func:`exchange` writes one request on one of them
and gives the answer's events as they are read; the caller relays them. Errors are
httpx's exception types, so that ``policy.translate_upstream_error`` shapes them as for
every other call (502 ``upstream_unavailable``, 504 ``upstream_timeout``) and the
``proxy`` event names them the same.
"""

from __future__ import annotations

import math
import select
import socket
import weakref
from collections.abc import AsyncIterator
from typing import Any

import h11
import httpx
import trio

from ..runtime.upstream import POOL_SIZE, Upstream

__all__ = ["FLUSH", "RawConnection", "RawPools", "exchange", "receive_now", "send_now"]

FLUSH = object()  # given by exchange() before it waits for more of the answer

_IDLE_EXPIRY = 4.0  # s: below the 5 s after which uvicorn (and others) close an idle one
_READ = 65536


class RawConnection:
    """One connection to the app, with h11's client state of it."""

    __slots__ = ("h11", "idle_since", "reused", "stream")

    def __init__(self, stream: trio.SocketStream) -> None:
        self.stream = stream
        self.h11 = h11.Connection(h11.CLIENT)
        self.idle_since = 0.0
        self.reused = False

    def closed_by_peer(self) -> bool:
        """The app closed it (or sent something unasked) while it was idle."""
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
    """Every app's kept-alive connections (owned by the hot path of one service)."""

    def __init__(self) -> None:
        self._pools: weakref.WeakKeyDictionary[Upstream, _Pool] = weakref.WeakKeyDictionary()
        self.opened = 0  # connections made (the tests' evidence that they are kept)

    def _pool(self, upstream: Upstream) -> _Pool:
        pool = self._pools.get(upstream)
        if pool is None:
            pool = self._pools[upstream] = _Pool()
        return pool

    async def take(self, upstream: Upstream, each_op_s: float) -> RawConnection:
        """An idle connection to the app, else a new one (waits while ``POOL_SIZE``
        are in use). Raises ``httpx.ConnectError`` / ``httpx.ConnectTimeout``."""
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
            while pool.idle:
                connection = pool.idle.pop()
                if now - connection.idle_since < _IDLE_EXPIRY and not connection.closed_by_peer():
                    connection.reused = True
                    return connection
                connection.stream.socket.close()
            try:
                with trio.fail_after(each_op_s):
                    stream = await upstream.open_stream()
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

    @staticmethod
    async def _wait_for_slot(pool: _Pool, each_op_s: float) -> None:
        try:
            with trio.fail_after(each_op_s):
                await pool.slots.acquire()
        except trio.TooSlowError:
            raise httpx.PoolTimeout("no connection to the preview came free") from None

    def give_back(self, upstream: Upstream, connection: RawConnection, *, keep: bool) -> None:
        """Return a taken connection: kept for the next call if ``keep`` and both sides
        finished their message cleanly, else closed."""
        pool = self._pool(upstream)
        pool.slots.release()
        upstream.call_ended()
        state = connection.h11
        if keep and state.our_state is h11.DONE and state.their_state is h11.DONE:
            state.start_next_cycle()
            connection.idle_since = trio.current_time()
            pool.idle.append(connection)
            return
        connection.stream.socket.close()


async def exchange(
    connection: RawConnection,
    request: h11.Request,
    body: AsyncIterator[bytes] | None,
    each_op_s: float,
) -> AsyncIterator[Any]:
    """Send ``request`` (and ``body``'s chunks) and give the answer's h11 events, its
    ``Response`` first and ``EndOfMessage`` last; httpx's errors for the app's faults."""
    state, stream = connection.h11, connection.stream
    try:
        out = state.send(request)
        if body is not None:
            async for chunk in body:
                await _send(stream, out + state.send(h11.Data(data=chunk)), each_op_s)
                out = b""
        out += state.send(h11.EndOfMessage())
    except h11.LocalProtocolError as error:  # a body longer or shorter than announced
        raise httpx.LocalProtocolError(str(error)) from None
    await _send(stream, out, each_op_s)
    answering = False
    while True:
        try:
            event = state.next_event()
        except h11.RemoteProtocolError as error:
            raise httpx.RemoteProtocolError(str(error)) from None
        if event is h11.NEED_DATA:
            if answering:
                yield FLUSH
            try:
                data = await receive_now(stream, each_op_s)
            except trio.TooSlowError:
                raise httpx.ReadTimeout("the preview did not answer in time") from None
            except (trio.BrokenResourceError, OSError) as error:
                raise httpx.ReadError(str(error)) from None
            try:
                state.receive_data(data)
            except h11.RemoteProtocolError as error:
                raise httpx.RemoteProtocolError(str(error)) from None
            continue
        if type(event) is h11.InformationalResponse:
            continue
        if type(event) is h11.ConnectionClosed:
            raise httpx.RemoteProtocolError("the preview closed the connection mid-answer")
        answering = True
        yield event
        if type(event) is h11.EndOfMessage:
            return


def _raw(stream: trio.SocketStream) -> socket.socket:
    return stream.socket._sock  # type: ignore[attr-defined]  # trio's own; see the test


async def send_now(stream: trio.SocketStream, data: bytes, each_op_s: float = math.inf) -> None:
    """``stream.send_all(data)`` without trio's checkpoints when the socket takes it at
    once (a scheduler round trip each, the larger part of a small call's cost): only a
    socket that is full is waited for, at most ``each_op_s`` at a time
    (``trio.TooSlowError``). ``trio.BrokenResourceError`` when the peer is gone."""
    raw = _raw(stream)
    view = memoryview(data)
    while view:
        try:
            view = view[raw.send(view) :]
        except BlockingIOError:
            with trio.fail_after(each_op_s):
                await trio.lowlevel.wait_writable(raw)
        except OSError as error:
            raise trio.BrokenResourceError(str(error)) from None


async def receive_now(stream: trio.SocketStream, each_op_s: float = math.inf) -> bytes:
    """``stream.receive_some()``, as :func:`send_now`: waits only when nothing came yet."""
    raw = _raw(stream)
    while True:
        try:
            return raw.recv(_READ)
        except BlockingIOError:
            with trio.fail_after(each_op_s):
                await trio.lowlevel.wait_readable(raw)
        except OSError as error:
            raise trio.BrokenResourceError(str(error)) from None


async def _send(stream: trio.SocketStream, data: bytes, each_op_s: float) -> None:
    try:
        await send_now(stream, data, each_op_s if each_op_s > 0 else math.inf)
    except trio.TooSlowError:
        raise httpx.WriteTimeout("the preview took no more of the request") from None
    except (trio.BrokenResourceError, trio.ClosedResourceError, OSError) as error:
        raise httpx.WriteError(str(error)) from None
