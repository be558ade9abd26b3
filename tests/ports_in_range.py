"""A real service whose previews' ports lie in a range given to one set of tests, for
tests run beside others on a shared machine (the ``service`` fixture of conftest.py gives
its previews ports from 20000 up). Its Hypercorn binds an ephemeral port, as the
fixture's does: a port found free and then bound by another process meanwhile (an xdist
worker picking the same one) made the bind fail, "Address already in use"."""

from __future__ import annotations

import os
import socket
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from preview.settings import Settings

from .conftest import Service, running_service

PREVIEW_PORTS = 8


def _free(port: int) -> bool:
    with socket.socket() as probe:
        try:
            probe.bind(("127.0.0.1", port))
        except OSError:
            return False
        return True


def free_block(size: int, lowest: int, highest: int) -> int:
    """The first of ``size`` consecutive ports free now, within [lowest, highest]."""
    for first in range(lowest, highest - size + 2, size):
        if all(_free(port) for port in range(first, first + size)):
            return first
    raise RuntimeError(f"no {size} free ports in {lowest}-{highest}")


@asynccontextmanager
async def service_in_range(settings: Settings, lowest: int, highest: int) -> AsyncIterator[Service]:
    """``running_service``, with the previews' ports in a block of the range free now
    (each xdist worker looks from a place of its own; the supervisor skips a port taken
    meanwhile)."""
    worker = int(os.environ.get("PYTEST_XDIST_WORKER", "gw0").removeprefix("gw") or 0)
    start = lowest + (worker * 4 * PREVIEW_PORTS) % max(1, highest - lowest - PREVIEW_PORTS)
    first = free_block(PREVIEW_PORTS, start, highest)
    object.__setattr__(settings, "port_min", first)
    object.__setattr__(settings, "port_max", first + PREVIEW_PORTS - 1)
    async with running_service(settings) as running:
        yield running
