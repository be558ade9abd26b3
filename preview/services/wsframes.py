"""Writing many WebSocket text frames in one write, under Hypercorn.

The WebSocket log stream sends one JSON text frame per event. Through ASGI each frame
passes Quart's send (and its signal), Hypercorn's ``app_send`` dispatch, wsproto's
framing, the protocol's event, a lock and trio's ``send_all``: about 100 µs of CPU per
frame on this project's 2-vCPU machine, 60 times an SSE line's (which the stream writes
a batch at a time, ``direct_body``), so a WebSocket subscriber fell behind a preview
printing a few thousand lines a second and was closed (1013) while SSE ones kept up.
:class:`WebsocketFrames` frames a batch of messages with the connection's own wsproto
state and hands the bytes to Hypercorn as one ``Data`` event: one trip through the
protocol, one ``send_all``, the same lock and the same handling of a closed socket.

It attaches only to Hypercorn's ``WSStream`` once the handshake is accepted (the ASGI
``send`` under Quart's ``websocket``: ``seams.quart``); otherwise
:meth:`WebsocketFrames.attach` gives None and the caller sends frame by frame.
``tests/services/test_wsframes.py`` fails if an upgrade makes it stop attaching, rather
than letting the stream fall back silently.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from wsproto.connection import ConnectionState
from wsproto.events import TextMessage
from wsproto.utilities import LocalProtocolError

# Hypercorn's internals (preview.seams): if they moved, the writer never attaches.
from ..seams.hypercorn import ASGIWebsocketState, Data, WSStream
from ..seams.quart import websocket_asgi_send

__all__ = ["WebsocketFrames"]

# Bytes of frames per write: a subscriber far behind gets its backlog in writes of this
# size, each a checkpoint, so that it does not hold the loop for one huge write.
_WRITE_BYTES = 64 * 1024


class WebsocketFrames:
    """Sends text frames a batch per write on one accepted WebSocket (module doc)."""

    __slots__ = ("_stream",)

    def __init__(self, stream: Any) -> None:
        self._stream = stream

    @classmethod
    def attach(cls, websocket: Any) -> WebsocketFrames | None:
        """A writer for Quart's accepted ``websocket``; None unless Hypercorn's
        ``WSStream`` serves it."""
        stream = getattr(websocket_asgi_send(websocket), "__self__", None)
        if WSStream is None or type(stream) is not WSStream:
            return None
        if getattr(stream, "state", None) is not ASGIWebsocketState.CONNECTED:
            return None
        if not hasattr(getattr(stream, "connection", None), "send"):
            return None
        return cls(stream)

    @property
    def open(self) -> bool:
        """Neither side has closed the WebSocket (frames sent now would be dropped)."""
        stream = self._stream
        return (
            stream.state is ASGIWebsocketState.CONNECTED
            and stream.connection.state is ConnectionState.OPEN
        )

    async def send_texts(self, texts: Sequence[str]) -> None:
        """``texts`` as text frames, in order, in writes of about ``_WRITE_BYTES``. Like
        Hypercorn's own send, frames for a connection already closing are dropped."""
        stream = self._stream
        connection = stream.connection
        parts: list[bytes] = []
        size = 0
        for text in texts:
            if stream.state is not ASGIWebsocketState.CONNECTED:
                return
            try:
                frame = connection.send(TextMessage(data=text))
            except LocalProtocolError:
                return  # the connection is closing: as Hypercorn's _send_wsproto_event
            parts.append(frame)
            size += len(frame)
            if size >= _WRITE_BYTES:
                await stream.send(Data(stream_id=stream.stream_id, data=b"".join(parts)))
                parts, size = [], 0
        if parts:
            await stream.send(Data(stream_id=stream.stream_id, data=b"".join(parts)))
