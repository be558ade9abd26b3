"""The port pool: which ports of ``PREVIEW_PORT_MIN..MAX`` previews may listen on; and
``free_port_block``, the port range a harness (tests, benchmarks) gives a service."""

from __future__ import annotations

import os
import socket
from pathlib import Path

from .errors import Unavailable

__all__ = ["PortPool", "free_port_block"]


def _port_is_free(port: int, *, past_time_wait: bool = True) -> bool:
    # A bind test fails while anything listens on the port, on 127.0.0.1 or a wildcard
    # address, so a foreign server is never handed out. SO_REUSEADDR only lets it past
    # connections in TIME_WAIT, which a just-stopped preview leaves behind.
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        if past_time_wait:
            probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


class PortPool:
    """Allocation and release are plain synchronous calls: atomic under trio."""

    def __init__(self, first: int, last: int) -> None:
        self._ports = range(first, last + 1)
        self._taken: set[int] = set()

    @property
    def size(self) -> int:
        return len(self._ports)

    @property
    def in_use(self) -> frozenset[int]:
        return frozenset(self._taken)

    def allocate(self) -> int:
        """The lowest port that is neither ours nor in use on the machine; 503 if none."""
        for port in self._ports:
            if port not in self._taken and _port_is_free(port):
                self._taken.add(port)
                return port
        raise Unavailable(
            "No preview port is free; stop a preview or try again later.",
            code="port_pool_exhausted",
            details={"portMin": self._ports.start, "portMax": self._ports.stop - 1},
        )

    def release(self, port: int) -> None:
        self._taken.discard(port)


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
        if all(_port_is_free(port, past_time_wait=False) for port in range(start, start + size)):
            return start
    raise RuntimeError("no free port block")
