"""trio-websocket's internals the service uses (pinned: ``tests/seams``): a client
connection's reader task, run by the service in a nursery of its own (so that an error
of the handshake's answer is the service's to handle, not its nursery's)."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from trio_websocket import WebSocketConnection

__all__ = ["run_reader"]


async def run_reader(connection: WebSocketConnection) -> None:
    """Read ``connection`` until it closes (trio-websocket's own reader task)."""
    await connection._reader_task()
