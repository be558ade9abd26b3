"""How the service reaches one running app: :class:`Upstream`, used by every caller
(readiness probe, health checks, the proxy, the envelope, live OpenAPI, WebSockets).

A sandboxed app listens on 127.0.0.1:$PORT inside a network namespace of its own. Where
the service may enter that namespace (``sandbox.netns``; readiness hands it over with
:meth:`Upstream.use_netns`), it makes its TCP connections there itself, as to an app on
the host; elsewhere it goes through the Unix socket its sandbox forwards to that port
(a ``socat`` fork per connection). An app run without a sandbox is reached on the
host's 127.0.0.1:$PORT directly. A sandboxed app's pool of kept-alive connections is
its own (:meth:`Upstream.transport`, up to ``POOL_SIZE``): httpx's transport with its
httpcore pool swapped for one whose network backend is :meth:`Upstream.open_stream`. Either way
the URL is ``http://127.0.0.1:<port>/…`` (what the app sees as its Host), and only the
connection differs: the shared proxy client routes each request by the upstream it
carries in its extensions (:class:`UpstreamRouter`), so one client, with its pool of
kept-alive connections, serves every preview.
"""

from __future__ import annotations

import errno
import math
import os
import stat
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import httpcore
import httpx
import trio

from ..sandbox.netns import socket_in_netns

# httpcore's own trio stream (preview.seams): if it moved, sandboxed calls use the
# socket forwarder.
from ..seams.httpcore import TrioStream, replace_connection_pool
from .clients import (
    client_handshake,
    handshake_error,
    local_client,
    sent_again_if_stale,
    shared_tls_context,
)

if TYPE_CHECKING:  # trio-websocket: imported where used (runtime.clients says why)
    import trio_websocket

__all__ = ["POOL_SIZE", "Upstream", "UpstreamRouter", "pin_socket", "upstream_url"]

_EXTENSION = "preview_upstream"
POOL_SIZE = 100  # kept-alive connections to one sandboxed app, at most
_KEEPALIVE_EXPIRY = 5.0  # s, httpx's default
_CLIENT_POOL_SIZE = 4  # a client of its own makes one call at a time, mostly


def upstream_url(port: int, path: str, query: str = "") -> httpx.URL:
    """``http://127.0.0.1:port`` + path (+ query): host and port come only from us."""
    raw = path.encode("ascii")
    if query:
        raw += b"?" + query.encode("ascii")
    return httpx.URL(scheme="http", host="127.0.0.1", port=port, raw_path=raw)


def pin_socket(path: str) -> int:
    """An ``O_PATH`` descriptor of the socket at ``path`` itself, never of what a
    symlink there points to; connect through ``/proc/self/fd/<it>``. Raises
    ``FileNotFoundError`` while there is none yet, ``ConnectionRefusedError`` for
    anything but a socket."""
    fd = os.open(path, os.O_PATH | os.O_NOFOLLOW | os.O_CLOEXEC)
    if not stat.S_ISSOCK(os.fstat(fd).st_mode):
        os.close(fd)
        raise ConnectionRefusedError(errno.ECONNREFUSED, "not the forwarder's socket")
    return fd


@dataclass(eq=False)
class Upstream:
    """One app's address: its port, and the Unix socket that leads to it (sandboxed)."""

    port: int
    socket_path: str | None = None
    # The forwarder's one-use socket: its one connection waits inside the sandbox until
    # the app's port opens (for readiness; see ``runtime.readiness``). None beside a
    # socket_path: the service probes from inside the sandbox's namespace instead.
    ready_path: str | None = None
    _transport: httpx.AsyncHTTPTransport | None = field(default=None, init=False, repr=False)
    _pinned: int | None = field(default=None, init=False, repr=False)
    _netns: int | None = field(default=None, init=False, repr=False)
    _closed: bool = field(default=False, init=False, repr=False)
    _calls: int = field(default=0, init=False, repr=False)  # under way (call_began)
    _quiet: trio.Event | None = field(default=None, init=False, repr=False)
    open_websockets: int = field(default=0, init=False)  # of the calls under way

    def call_began(self) -> None:
        """A call to the app is under way until :meth:`call_ended` (the proxy's: a
        revision that replaces this process waits for them, ``runtime.swaps``)."""
        self._calls += 1

    def call_ended(self) -> None:
        self._calls -= 1
        if self._quiet is not None:
            self._quiet.set()

    async def wait_quiet(self, *, websockets: bool = True) -> None:
        """Until no call to the app is under way (``websockets`` False: but its open
        WebSockets)."""
        while self._calls - (0 if websockets else self.open_websockets) > 0:
            self._quiet = trio.Event()
            await self._quiet.wait()

    def use_netns(self, netns_fd: int) -> None:
        """Connect from inside the network namespace ``netns_fd`` names (the sandbox's,
        entered by readiness): this object owns the descriptor from now on."""
        if self._closed:
            os.close(netns_fd)
            return
        if self._netns is not None:
            os.close(self._netns)
        self._netns = netns_fd

    @property
    def in_netns(self) -> bool:
        """Connections are made inside the sandbox's namespace (no forwarder)."""
        return self._netns is not None

    async def open_stream(self) -> trio.SocketStream:
        """A new connection to the app: from inside its namespace, else through its
        forwarder's socket, else over the host's 127.0.0.1. Raises ``OSError``."""
        if self._closed:
            raise ConnectionRefusedError(errno.ECONNREFUSED, "the preview has ended")
        if self._netns is not None:
            sock = await socket_in_netns(self._netns)
            try:
                await sock.connect(("127.0.0.1", self.port))
            except BaseException:
                sock.close()
                raise
            return trio.SocketStream(sock)
        if self.socket_path is not None:
            return await trio.open_unix_socket(self.connect_path())
        return await trio.open_tcp_stream("127.0.0.1", self.port)

    def connect_path(self) -> str:
        """The path to connect to: the socket the sandbox's forwarder made, pinned.

        The socket's directory is writable from inside the sandbox, so the app could
        replace the socket with a symlink to any socket of the host (a database's, the
        Docker daemon's, another preview's), and ``connect`` follows symlinks. The first
        call opens the entry itself (``O_PATH | O_NOFOLLOW``), refuses anything but a
        socket, and keeps it open: every later connection goes to that inode through
        ``/proc/self/fd``, whatever the directory holds by then.
        """
        assert self.socket_path is not None
        if self._closed:
            raise ConnectionRefusedError(errno.ECONNREFUSED, "the preview has ended")
        if self._pinned is None:
            self._pinned = pin_socket(self.socket_path)
        return f"/proc/self/fd/{self._pinned}"

    async def retarget(self, socket_path: str) -> None:
        """Connect through ``socket_path`` from now on (a forwarder to the port the app
        really listens on: see ``anyport``); connections made before are closed."""
        transport, self._transport = self._transport, None
        if self._pinned is not None:
            os.close(self._pinned)
            self._pinned = None
        if self._netns is not None:  # its namespace's $PORT is not where the app is
            os.close(self._netns)
            self._netns = None
        self.socket_path, self.ready_path = socket_path, None
        if transport is not None:
            await transport.aclose()

    def url(self, path: str, query: str = "") -> httpx.URL:
        return upstream_url(self.port, path, query)

    @property
    def extensions(self) -> dict[str, object]:
        """For ``build_request(extensions=…)`` on a client with an :class:`UpstreamRouter`."""
        return {_EXTENSION: self}

    def transport(self) -> httpx.AsyncHTTPTransport:
        """This app's pool of kept-alive connections (made on first use): httpx's
        transport over httpcore's pool, whose connections :meth:`open_stream` makes."""
        assert self.socket_path is not None
        if self._transport is None:
            self._transport = self._new_transport(POOL_SIZE)
        return self._transport

    def client(self, timeout: float) -> httpx.AsyncClient:
        """A client of its own (readiness, health checks, the smoke check): its
        connections are made as the proxy's are (inside the sandbox's namespace once
        readiness entered it, whether or not the forwarder has made its socket yet)."""
        if self.socket_path is None:
            return local_client(timeout)
        return local_client(timeout, transport=self._new_transport(_CLIENT_POOL_SIZE))

    def _new_transport(self, size: int) -> httpx.AsyncHTTPTransport:
        """httpx's transport over httpcore's pool of up to ``size`` connections, each
        made by :meth:`open_stream` when it is needed."""
        limits = httpx.Limits(max_connections=size, max_keepalive_connections=size)
        if TrioStream is None:  # pragma: no cover - httpcore moved: the forwarder
            return httpx.AsyncHTTPTransport(
                uds=self._connect_path_or_error(), verify=shared_tls_context(), limits=limits
            )
        transport = httpx.AsyncHTTPTransport(verify=shared_tls_context(), limits=limits)
        pool = httpcore.AsyncConnectionPool(
            max_connections=size,
            max_keepalive_connections=size,
            keepalive_expiry=_KEEPALIVE_EXPIRY,
            network_backend=_UpstreamBackend(self),
        )
        replace_connection_pool(transport, pool)
        return transport

    @asynccontextmanager
    async def websocket(
        self,
        resource: str,
        *,
        subprotocols: list[str],
        extra_headers: list[tuple[bytes, bytes]],
        connect_timeout: float,
    ) -> AsyncIterator[trio_websocket.WebSocketConnection]:
        """A WebSocket to ``resource`` (path and query) of the app, a call under way
        while it is open."""
        self.call_began()
        self.open_websockets += 1
        try:
            opening = self._websocket(resource, subprotocols, extra_headers, connect_timeout)
            async with opening as ws:
                yield ws
        finally:
            self.open_websockets -= 1
            self.call_ended()

    @asynccontextmanager
    async def _websocket(
        self,
        resource: str,
        subprotocols: list[str],
        extra_headers: list[tuple[bytes, bytes]],
        connect_timeout: float,
    ) -> AsyncIterator[trio_websocket.WebSocketConnection]:
        opened = False
        try:
            async with trio.open_nursery() as nursery:
                with trio.fail_after(connect_timeout):
                    stream = await self.open_stream()
                    try:
                        connection = await client_handshake(
                            nursery,
                            stream,
                            f"127.0.0.1:{self.port}",
                            resource,
                            subprotocols,
                            extra_headers,
                        )
                    except BaseException:
                        await trio.aclose_forcefully(stream)
                        raise
                opened = True
                try:
                    yield connection
                finally:
                    with trio.CancelScope(shield=True), trio.move_on_after(2):
                        await connection.aclose()
                    nursery.cancel_scope.cancel()
        except BaseExceptionGroup as group:
            # The app refused the handshake: its reader task raised it in the nursery.
            # Raised alone.
            refused = None if opened else handshake_error(group)
            if refused is None:
                raise
            raise refused from None

    def _connect_path_or_error(self) -> str:
        try:
            return self.connect_path()
        except OSError as error:
            raise httpx.ConnectError(f"the preview's socket: {error.strerror}") from None

    async def aclose(self) -> None:
        """Idempotent; no connection is made afterwards."""
        self._closed = True
        try:
            if self._transport is not None:
                await self._transport.aclose()
                self._transport = None
        finally:
            if self._pinned is not None:
                os.close(self._pinned)
                self._pinned = None
            if self._netns is not None:
                os.close(self._netns)
                self._netns = None


class _UpstreamBackend(httpcore.AsyncNetworkBackend):
    """httpcore's network backend for one app: every connection is
    :meth:`Upstream.open_stream`'s (host and port of the URL are the app's anyway)."""

    def __init__(self, upstream: Upstream) -> None:
        self._upstream = upstream

    async def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,  # noqa: ASYNC109 - httpcore calls it so
        local_address: str | None = None,
        socket_options: object = None,
    ) -> httpcore.AsyncNetworkStream:
        try:
            with trio.fail_after(timeout if timeout is not None else math.inf):
                stream = await self._upstream.open_stream()
        except trio.TooSlowError:
            raise httpcore.ConnectTimeout("connecting to the preview timed out") from None
        except OSError as error:
            raise httpcore.ConnectError(f"the preview's socket: {error.strerror}") from None
        assert TrioStream is not None  # else this transport is not made (see above)
        return TrioStream(stream)

    async def connect_unix_socket(
        self,
        path: str,
        timeout: float | None = None,  # noqa: ASYNC109 - httpcore calls it so
        socket_options: object = None,
    ) -> httpcore.AsyncNetworkStream:  # pragma: no cover - never asked: no uds= here
        raise httpcore.ConnectError("not used")

    async def sleep(self, seconds: float) -> None:
        await trio.sleep(seconds)


class _CountedStream(httpx.AsyncByteStream):
    """An answer's body; its call ends when it is closed (once)."""

    def __init__(self, inner: httpx.AsyncByteStream, upstream: Upstream) -> None:
        self._inner = inner
        self._upstream: Upstream | None = upstream

    async def __aiter__(self) -> AsyncIterator[bytes]:
        async for chunk in self._inner:
            yield chunk

    async def aclose(self) -> None:
        upstream, self._upstream = self._upstream, None
        try:
            await self._inner.aclose()
        finally:
            if upstream is not None:
                upstream.call_ended()


class UpstreamRouter(httpx.AsyncBaseTransport):
    """Sends a request over its upstream's socket when it has one, else over
    ``default`` (TCP to 127.0.0.1); a call under way at the upstream until its answer
    is read or closed."""

    def __init__(self, default: httpx.AsyncBaseTransport) -> None:
        self._default = default

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        upstream = request.extensions.get(_EXTENSION)
        if not isinstance(upstream, Upstream):
            return await self._default.handle_async_request(request)
        transport = upstream.transport() if upstream.socket_path is not None else self._default
        upstream.call_began()
        try:
            response = await sent_again_if_stale(transport, request)
        except BaseException:
            upstream.call_ended()
            raise
        stream = response.stream
        assert isinstance(stream, httpx.AsyncByteStream)  # an async transport's answer
        response.stream = _CountedStream(stream, upstream)
        return response

    async def aclose(self) -> None:
        await self._default.aclose()
