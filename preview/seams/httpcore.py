"""httpcore's internals the service uses (pinned: ``tests/seams``): its trio network
stream, wrapped around a stream to a sandboxed app's socket, and the connection pool an
httpx transport holds (replaced by one that opens such streams; read to close the idle
connections to one port)."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import httpcore
    import httpx

try:
    from httpcore._backends.trio import TrioStream
except ImportError:  # pragma: no cover - depends on the installed version
    TrioStream = None  # type: ignore[assignment,misc]

__all__ = ["TrioStream", "connection_pool", "replace_connection_pool"]


def connection_pool(transport: httpx.AsyncHTTPTransport) -> httpcore.AsyncConnectionPool:
    """The pool of a transport the service built (no proxy: an httpcore pool)."""
    return transport._pool  # type: ignore[return-value]


def replace_connection_pool(
    transport: httpx.AsyncHTTPTransport, pool: httpcore.AsyncConnectionPool
) -> None:
    """Give ``transport`` ``pool`` in place of the one it made (httpx has no public way
    to hand a transport a network backend of one's own)."""
    transport._pool = pool
