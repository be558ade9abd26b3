"""httpx clients for calls from the service to its children on 127.0.0.1.

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

import httpcore
import httpx

__all__ = ["LocalTransport", "local_client", "local_transport", "shared_tls_context"]

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
        pool = self._pool  # an httpcore.AsyncConnectionPool: we built it (no proxy)
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
