"""The port pool: which ports of ``PREVIEW_PORT_MIN..MAX`` previews may listen on."""

from __future__ import annotations

import socket

from .errors import Unavailable

__all__ = ["PortPool"]


def _port_is_free(port: int) -> bool:
    # A bind test fails while anything listens on the port, on 127.0.0.1 or a wildcard
    # address, so a foreign server is never handed out. SO_REUSEADDR only lets it past
    # connections in TIME_WAIT, which a just-stopped preview leaves behind.
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
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
