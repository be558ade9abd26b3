"""The WebSocket of Neon's ``Pool`` and ``Client``, as a byte stream: :class:`WebSocketStream`.

The driver's ``Pool`` (Drizzle's ``neon-serverless``, Prisma's ``adapter-neon``) speaks
PostgreSQL's own protocol, unencrypted inside ``wss://<its host>/v2?address=…``: each
binary message a piece of it. Accepted on the upgrade request the endpoint read
(``wsproto``'s handshake on h11's parsed request), the messages are the bytes of a
``trio.abc.Stream``, which the PostgreSQL relay serves as any client's connection.
"""

from __future__ import annotations

import trio
from wsproto import ConnectionType, WSConnection
from wsproto.events import (
    AcceptConnection,
    BytesMessage,
    CloseConnection,
    Ping,
    Request,
    TextMessage,
)
from wsproto.utilities import LocalProtocolError, RemoteProtocolError

__all__ = ["WebSocketStream", "accept_websocket"]

_RECEIVED = 64 * 1024


async def accept_websocket(
    transport: trio.abc.Stream,
    headers: list[tuple[bytes, bytes]],
    target: bytes,
    received: bytes,
) -> WebSocketStream | None:
    """The WebSocket the request (``headers``, ``target``: h11's) asks for, accepted on
    ``transport``; ``received``: what the client sent after its request. None (nothing
    answered) where the request is no WebSocket's."""
    connection = WSConnection(ConnectionType.SERVER)
    try:
        connection.initiate_upgrade_connection(headers, target)
    except (LocalProtocolError, RemoteProtocolError):
        return None
    if not any(isinstance(event, Request) for event in connection.events()):
        return None
    await transport.send_all(connection.send(AcceptConnection()))
    if received:
        connection.receive_data(received)  # its events read by the stream's first receive
    return WebSocketStream(transport, connection)


class WebSocketStream(trio.abc.Stream):
    """The binary messages of an accepted WebSocket as a stream of bytes (text messages
    dropped, pings answered, a close request answered and read as the end)."""

    def __init__(self, transport: trio.abc.Stream, connection: WSConnection) -> None:
        self._transport = transport
        self._connection = connection
        self._buffer = bytearray()
        self._ended = False
        self._sending = trio.Lock()

    async def send_all(self, data: bytes | bytearray | memoryview) -> None:
        if self._ended:
            raise trio.BrokenResourceError("the WebSocket is closed")
        async with self._sending:
            await self._transport.send_all(self._connection.send(BytesMessage(data=bytes(data))))

    async def wait_send_all_might_not_block(self) -> None:
        await self._transport.wait_send_all_might_not_block()

    async def receive_some(self, max_bytes: int | None = None) -> bytes:
        await self._answer_events()  # those of what came with the upgrade request, first
        while not self._buffer and not self._ended:
            data = await self._transport.receive_some(_RECEIVED)
            if not data:
                self._ended = True
                break
            self._connection.receive_data(bytes(data))
            await self._answer_events()
        size = len(self._buffer) if max_bytes is None else max_bytes
        chunk = bytes(self._buffer[:size])
        del self._buffer[:size]
        return chunk

    async def _answer_events(self) -> None:
        for event in self._connection.events():
            if isinstance(event, BytesMessage):
                self._buffer += event.data
            elif isinstance(event, Ping):
                async with self._sending:
                    await self._transport.send_all(self._connection.send(event.response()))
            elif isinstance(event, CloseConnection):
                self._ended = True
                async with self._sending:
                    await self._transport.send_all(self._connection.send(event.response()))
            elif isinstance(event, TextMessage):
                continue  # the driver sends none: PostgreSQL's protocol is binary

    async def aclose(self) -> None:
        await self._transport.aclose()
