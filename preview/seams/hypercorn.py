"""Hypercorn's internals the service wraps or reads (pinned: ``tests/seams``).

``TCPServer.run``, ``_read_data``, ``protocol_send`` and ``_close`` are wrapped twice,
in a fixed order: ``transport.connection_guard.install`` first (one connection's error
never ends the server), then ``proxy.hot.front.install`` around the guarded ``run`` (the
hot path takes a connection before Hypercorn reads it). ``H11Protocol``, ``HTTPStream``
and ``WSStream`` are wrapped by the guard and read by ``transport.direct_body`` (which
writes an answer's body on the socket itself).
"""

from __future__ import annotations

try:
    from hypercorn.events import Closed, RawData, Updated
    from hypercorn.protocol.events import Body, Data, EndBody, Response, StreamClosed
    from hypercorn.protocol.h11 import H11Protocol
    from hypercorn.protocol.http_stream import ASGIHTTPState, HTTPStream
    from hypercorn.protocol.ws_stream import ASGIWebsocketState, WSStream
    from hypercorn.trio.tcp_server import TCPServer
    from hypercorn.trio.worker_context import TrioSingleTask
except ImportError:  # pragma: no cover - depends on the installed version
    Closed = RawData = Updated = None  # type: ignore[assignment,misc]
    Body = Data = EndBody = Response = StreamClosed = None  # type: ignore[assignment,misc]
    H11Protocol = HTTPStream = WSStream = TCPServer = TrioSingleTask = None  # type: ignore[assignment,misc]
    ASGIHTTPState = ASGIWebsocketState = None  # type: ignore[assignment,misc]

__all__ = [
    "ASGIHTTPState",
    "ASGIWebsocketState",
    "Body",
    "Closed",
    "Data",
    "EndBody",
    "H11Protocol",
    "HTTPStream",
    "RawData",
    "Response",
    "StreamClosed",
    "TCPServer",
    "TrioSingleTask",
    "Updated",
    "WSStream",
]
