"""The port pool: which ports of ``PREVIEW_PORT_MIN..MAX`` previews may listen on; and
``free_port_block``, the port range a harness (tests, benchmarks) gives a service."""

from __future__ import annotations

import logging
import os
import socket
from collections.abc import Awaitable, Callable
from pathlib import Path

from ..errors import Unavailable

__all__ = ["PortPool", "free_port_block"]

_log = logging.getLogger(__name__)


def _port_is_free(port: int, *, reuse_address: bool = False) -> bool:
    """Whether a fresh bind takes ``port`` on 127.0.0.1, as a child's own bind would.

    Without SO_REUSEADDR, any bind can take a port the probe took. With it, the probe
    also passes the TIME_WAIT and FIN_WAIT2 connections a stopped server that used
    SO_REUSEADDR left on its port, which a child binding without it cannot (it fails
    with "address already in use"). Neither passes a port anything listens on (on
    127.0.0.1 or a wildcard address)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        if reuse_address:
            probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


class PortPool:
    """Allocation and release are plain synchronous calls: atomic under trio.

    Free ports are handed out least recently released first: the connections of a
    stopped preview may keep its port unbindable for a while (TIME_WAIT lasts 60 s on
    Linux), and meanwhile the other ports serve."""

    def __init__(self, first: int, last: int) -> None:
        self._ports = range(first, last + 1)
        self._order: dict[int, None] = dict.fromkeys(self._ports)  # free, oldest first
        self._taken: set[int] = set()
        self._closers: list[Callable[[int], Awaitable[None]]] = []

    @property
    def size(self) -> int:
        return len(self._ports)

    @property
    def in_use(self) -> frozenset[int]:
        return frozenset(self._taken)

    def allocate(self) -> int:
        """The free port released longest ago that any fresh bind takes; 503 if none.

        Failing that, the one where only a stopped server's connections remain (nothing
        listens; TIME_WAIT after a client's direct visit to the app, which the service
        cannot close): servers that bind with SO_REUSEADDR (uvicorn, http.server,
        gunicorn, Node) take it, and a launch answered 503 for a minute would help none.
        The service's own connections never leave such sockets (``runtime.clients``).
        """
        for reuse_address in (False, True):
            for port in self._order:
                if _port_is_free(port, reuse_address=reuse_address):
                    del self._order[port]
                    self._taken.add(port)
                    return port
        raise Unavailable(
            "No preview port is free; stop a preview or try again later.",
            code="port_pool_exhausted",
            details={"portMin": self._ports.start, "portMax": self._ports.stop - 1},
        )

    def add_connection_closer(self, closer: Callable[[int], Awaitable[None]]) -> None:
        """``closer(port)`` closes the service's own idle connections to ``port``."""
        self._closers.append(closer)

    async def close_connections(self, port: int) -> None:
        """Before :meth:`release`: connections of ours that the stopped child's end closed
        keep its socket on the port (FIN_WAIT2) until we close ours. Never raises: the
        port is released whatever happens here."""
        for closer in self._closers:
            try:
                await closer(port)
            except Exception:
                _log.exception("closing the connections to port %d failed", port)

    def still_free(self, port: int) -> bool:
        """Whether nothing else took ``port`` since it was allocated (a build takes time)."""
        return _port_is_free(port)

    def release(self, port: int) -> None:
        if port in self._taken:
            self._taken.discard(port)
            self._order[port] = None


def _ephemeral_floor() -> int:
    """Outgoing connections get local ports from here up (``ip_local_port_range``)."""
    try:
        return int(Path("/proc/sys/net/ipv4/ip_local_port_range").read_text().split()[0])
    except (OSError, ValueError, IndexError):
        return 32768  # Linux's default


def free_port_block(size: int, *, lowest: int) -> int:
    """The first of ``size`` consecutive ports free on 127.0.0.1 right now (not even in
    TIME_WAIT), from ``lowest`` up and below the ephemeral range: there a client socket
    could take a preview's port between this probe and the child's bind. The search
    starts at a place that depends on the process id, so parallel runs rarely meet."""
    base = lowest + (os.getpid() % 100) * 100
    ceiling = max(_ephemeral_floor(), base + size)
    for start in [*range(base, ceiling - size + 1, size), *range(lowest, base, size)]:
        if all(_port_is_free(port) for port in range(start, start + size)):
            return start
    raise RuntimeError("no free port block")
