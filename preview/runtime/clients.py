"""httpx clients for calls from the service to its children on 127.0.0.1, a safe call
sent again on a new connection when a kept-alive one turned out closed under it
(:func:`sent_again_if_stale`), and the client side of a WebSocket's handshake with one
(:func:`client_handshake`).

Building an ``httpx.AsyncClient`` builds an ``ssl.SSLContext`` and loads the CA bundle
into it: 15-60 ms of CPU on the event loop on the 2-core machines we run on, twice per
launch (readiness probe, health checks), while every stream and request of the service
waits. Our clients never speak TLS (children answer plain HTTP on 127.0.0.1), but httpx
builds the context anyway, so they all share one, built once, which trusts no
authority: loading the system's CA bundle into it cost 1.3 MiB of the idle service's
RSS and 60 ms, and a TLS call, were one ever made, fails its verification.

Their connections end with a reset (SO_LINGER 0) rather than a FIN: a connection the
child closed first (HTTP/1.0, ``Connection: close``, its shutdown) would otherwise stay
on the child's port in FIN_WAIT2 or TIME_WAIT, and no fresh bind takes that port for up
to a minute after the preview stopped (``runtime.ports``). We never have unsent data
at close, which is all a reset could lose. The idle keep-alive connections of the
service's shared client to a stopped preview (closed by the child's end, still in the
pool) are closed when its port is released (:meth:`LocalTransport.close_idle_to`).
"""

from __future__ import annotations

import functools
import socket
import ssl
import struct
from typing import TYPE_CHECKING

import h11
import httpcore
import httpx
import trio
from wsproto import ConnectionType, WSConnection

from ..seams.httpcore import connection_pool
from ..seams.trio_websocket import run_reader

# trio-websocket (0.2 MiB) loads with a preview's first WebSocket, or with the first launch
# (runtime.supervisor's launch parts, in a thread): an idle service does not hold it.
if TYPE_CHECKING:
    import trio_websocket

__all__ = [
    "HTTPCORE_UNANSWERED",
    "SAFE_METHODS",
    "LocalTransport",
    "client_handshake",
    "handshake_error",
    "local_client",
    "local_transport",
    "sent_again_if_stale",
    "shared_tls_context",
]

# Calls sent again when a kept-alive connection turns out closed under them (as Go's
# net/http does), here and on the hot path: safe ones (RFC 9110 9.2.2), which the app
# may have seen without harm.
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "TRACE"})
_STALE_TRIES = 3  # a stale kept-alive connection, perhaps another, then a new one
HTTPCORE_UNANSWERED = "without sending a response"  # httpcore's words for an EOF before any
_RESET_ON_CLOSE = [(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))]


@functools.cache
def shared_tls_context() -> ssl.SSLContext:
    """The one TLS context of the service's httpx clients (built on first use): it
    verifies, and trusts no authority (the module doc)."""
    return ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)


class LocalTransport(httpx.AsyncHTTPTransport):
    """httpx's transport, plus closing the idle connections to one port."""

    async def close_idle_to(self, port: int) -> None:
        """Close (reset) the pooled idle connections to ``127.0.0.1:port``."""
        origin = httpcore.Origin(b"http", b"127.0.0.1", port)
        pool = connection_pool(self)  # an httpcore.AsyncConnectionPool: we built it
        for connection in pool.connections:
            if connection.is_idle() and connection.can_handle_request(origin):
                await connection.aclose()  # the pool drops closed ones on its next use


def local_transport(limits: httpx.Limits = httpx.Limits()) -> LocalTransport:  # noqa: B008 (immutable)
    """The transport of a client of the children: shared TLS context, resets on close."""
    return LocalTransport(
        verify=shared_tls_context(),
        trust_env=False,
        limits=limits,
        socket_options=_RESET_ON_CLOSE,
    )


def local_client(
    timeout: float, transport: httpx.AsyncBaseTransport | None = None
) -> httpx.AsyncClient:
    """A client for plain HTTP to a child on 127.0.0.1 (no proxies from the environment),
    or over ``transport`` (a sandboxed child's Unix socket)."""
    return httpx.AsyncClient(
        timeout=timeout, trust_env=False, transport=transport or local_transport()
    )


async def client_handshake(
    nursery: trio.Nursery,
    stream: trio.abc.Stream,
    host: str,
    resource: str,
    subprotocols: list[str],
    extra_headers: list[tuple[bytes, bytes]],
) -> trio_websocket.WebSocketConnection:
    """``trio_websocket.wrap_client_stream``, which also returns when the app's refusal
    ends with its connection: a page an HTTP/1.0 server delimits by closing. Its reader
    stops at the end of the stream without telling wsproto, so the refusal's body never
    ends and the handshake was waited for until its deadline (then a 500). Leans on
    trio-websocket's internals (``tests/proxy/test_websocket_failures.py`` fails if
    they move)."""
    import trio_websocket

    connection = trio_websocket.WebSocketConnection(
        stream,
        WSConnection(ConnectionType.CLIENT),
        host=host,
        path=resource,
        client_subprotocols=subprotocols,
        client_extra_headers=extra_headers,
    )
    ended = trio.Event()

    async def read() -> None:
        try:
            await run_reader(connection)
        except h11.LocalProtocolError:
            # An answer wsproto refuses (a 101 with a wrong Sec-WebSocket-Accept, an
            # Upgrade it did not ask for): trio-websocket then tries to send a server's
            # refusal on the client's connection, which h11 refuses in turn, and that
            # error came out of the nursery as a 500. The app did not open it.
            if connection._open_handshake.is_set():
                raise
        finally:
            ended.set()

    async def first_of(event: trio.Event, scope: trio.CancelScope) -> None:
        await event.wait()
        scope.cancel()

    nursery.start_soon(read)
    async with trio.open_nursery() as race:
        race.start_soon(first_of, connection._open_handshake, race.cancel_scope)
        race.start_soon(first_of, ended, race.cancel_scope)
    if not connection._open_handshake.is_set():
        status = connection._reject_status
        if status:  # its answer, whole once the connection ended
            body = bytes(connection._reject_body)
            raise trio_websocket.ConnectionRejected(status, connection._reject_headers, body)
        raise trio_websocket.HandshakeError("the app ended the handshake without opening it")
    return connection


def handshake_error(group: BaseExceptionGroup) -> trio_websocket.HandshakeError | None:
    import trio_websocket

    for error in group.exceptions:
        if isinstance(error, trio_websocket.HandshakeError):
            return error
        if isinstance(error, BaseExceptionGroup) and (found := handshake_error(error)):
            return found
    return None


async def sent_again_if_stale(
    transport: httpx.AsyncBaseTransport, request: httpx.Request
) -> httpx.Response:
    """``transport``'s answer to ``request``; a safe call without a body that went on a
    kept-alive connection the app closed or reset before answering goes again (on
    another, at most ``_STALE_TRIES`` in all), as the hot path's does
    (``proxy.hot.upstream.went_stale``): its keep-alive timeout raced the call, the
    caller did nothing to earn a 502. Whether the connection was new is told by
    httpcore's trace of the call (a connect among its steps)."""
    headers = request.headers
    safe = request.method in SAFE_METHODS and headers.get("content-length", "0") == "0"
    if not safe or "transfer-encoding" in headers:
        return await transport.handle_async_request(request)
    given = request.extensions.get("trace")
    for attempt in range(_STALE_TRIES):
        connected = False

        async def trace(event: str, info: dict) -> None:
            nonlocal connected
            connected = connected or event.startswith("connection.connect_")
            if given is not None:
                await given(event, info)

        request.extensions = {**request.extensions, "trace": trace}
        try:
            return await transport.handle_async_request(request)
        except (httpx.RemoteProtocolError, httpx.ReadError) as error:
            unanswered = isinstance(error, httpx.ReadError) or HTTPCORE_UNANSWERED in str(error)
            if connected or not unanswered or attempt + 1 == _STALE_TRIES:
                raise
    raise AssertionError("unreachable")  # the last attempt returned or raised
