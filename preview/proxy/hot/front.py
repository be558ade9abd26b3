"""The hot path (``hot.path``) in front of Hypercorn's handling of each connection.

:func:`install` wraps Hypercorn's ``TCPServer.run`` (once per process, as
``transport.connection_guard`` does; what it serves is each app's own, found on the app
Hypercorn serves, :func:`attach`): a plain-TCP connection is the app's ``HotPath``'s
first; the bytes it read and did not serve (the first request it cannot, and all after)
go to Hypercorn's protocol before anything else read from the connection
(``TCPServer._read_data``), so Hypercorn sees the connection as the client sent it.
Once a proxied call went through the ASGI path on a connection Hypercorn holds (it
came after another request), the hot path takes the connection back when Hypercorn is
next idle on it (``TCPServer.protocol_send``, ``_take_back``).
``tests/proxy/test_hot_path.py`` fails if these internals move.
"""

from __future__ import annotations

import functools
import logging
import socket
from typing import Any

import h11
import trio

# Hypercorn's internals (preview.seams): if they moved, nothing is installed (the ASGI
# path serves).
from ...seams.hypercorn import H11Protocol, RawData, TCPServer, TrioSingleTask, Updated
from ...services import Services
from ..fast_path import CONNECTION_MARK, ConnectionMark
from .onward import Hop
from .path import HotPath

__all__ = ["EXTENSION", "INTERNAL_EXTENSION", "attach", "attach_internal", "install", "installed"]

_log = logging.getLogger("preview")
_MARK = "_preview_hot_path"
EXTENSION = "preview.hot_path"
INTERNAL_EXTENSION = "preview.hot_path.hop"


def attach(app: Any, state: Services) -> HotPath:
    """Give ``app`` (the Quart app Hypercorn serves) its hot path."""
    hot = HotPath(state)
    app.extensions[EXTENSION] = hot
    return hot


def attach_internal(gate: Any, hot: HotPath, secret: str) -> None:
    """Serve the calls another cluster node sends to ``gate`` (the app a node's internal
    listener serves) on ``hot``, once vouched for by the cluster's ``secret``."""
    gate.extensions[EXTENSION] = hot
    gate.extensions[INTERNAL_EXTENSION] = Hop(secret)


def installed() -> bool:
    return TCPServer is not None and getattr(TCPServer.run, _MARK, False)


def install() -> bool:
    """Wrap ``TCPServer.run``, ``_read_data`` and ``protocol_send`` (once); whether the
    hot path is on."""
    if TCPServer is None or RawData is None or TrioSingleTask is None or installed():
        return installed()
    if not hasattr(TCPServer, "_read_data") or not hasattr(TCPServer, "run"):
        _log.warning("Hypercorn's internals moved: proxied calls take the ASGI path")
        return False
    run, read_data = TCPServer.run, TCPServer._read_data
    # Bound once checked (not None): the closures below read these, not the module's.
    single_task, raw_data = TrioSingleTask, RawData

    @functools.wraps(run)
    async def hot_run(self: Any) -> None:
        hot, hop = _hot_of(self)
        stream = self.stream
        if (
            hot is None
            or type(stream) is not trio.SocketStream
            or stream.socket.family not in (socket.AF_INET, socket.AF_INET6)
        ):
            return await run(self)
        mark = self._preview_mark = ConnectionMark()
        CONNECTION_MARK.set(mark)  # this connection's task, and the app's it starts
        while True:
            try:
                peer = stream.socket.getpeername()
            except OSError:  # the client left before it was served (ENOTCONN): nothing to say
                peer = left = None
            try:
                if peer is not None:
                    terminated = getattr(self.context, "terminated", None)
                    idle = self.config.keep_alive_timeout
                    left = await hot.serve(stream, str(peer[0]), idle, terminated, hop)
            except Exception:
                _log.exception("a proxied connection failed; it was closed")
                left = None
            if left is None:
                with trio.CancelScope(shield=True), trio.move_on_after(1):
                    await trio.aclose_forcefully(stream)
                return None
            self._preview_pending, mark.proxied = left, False
            await run(self)
            taken, self._preview_taken = getattr(self, "_preview_taken", None), None
            if taken is None:
                return None
            # Given back by Hypercorn while idle (see _take_back): ours again.
            self.stream = stream = taken
            self.idle_task = single_task()

    @functools.wraps(read_data)
    async def hot_read_data(self: Any) -> None:
        pending = getattr(self, "_preview_pending", b"")
        if pending:
            self._preview_pending = b""
            await self.protocol.handle(raw_data(pending))
        return await read_data(self)

    protocol_send = TCPServer.protocol_send

    @functools.wraps(protocol_send)
    async def hot_protocol_send(self: Any, event: Any) -> None:
        if type(event) is Updated and event.idle:
            # Before Hypercorn's own handling, which waits (its keep-alive timer) while
            # its reader may take the next request.
            mark = getattr(self, "_preview_mark", None)
            if mark is not None and mark.proxied and _take_back(self):
                return
        await protocol_send(self, event)

    setattr(hot_run, _MARK, True)
    TCPServer.run = hot_run
    TCPServer._read_data = hot_read_data
    TCPServer.protocol_send = hot_protocol_send
    return True


def _take_back(server: Any) -> bool:
    """Take an idle keep-alive connection from Hypercorn, where a proxied call went
        through the ASGI path (it came after another request, which the hot path left to
        Hypercorn): as ``DirectBodyWriter.detach`` does, the socket is duplicated and
        Hypercorn's closed, so its reader stops and ``run`` returns; ``hot_run`` then
        serves the duplicate. Nothing is done unless Hypercorn's HTTP/1.1 state is idle on
        both sides with nothing read ahead: a request the client sent at once behind the
    answer keeps the connection Hypercorn's (for that round; the next idle moment may do)."""
    protocol: Any = getattr(server.protocol, "protocol", None)
    if type(protocol) is not H11Protocol or getattr(protocol, "stream", None) is not None:
        return False
    connection = protocol.connection
    if (
        connection.our_state is not h11.IDLE
        or connection.their_state is not h11.IDLE
        or connection.trailing_data != (b"", False)
        or server.send_lock.locked()
        or type(server.stream) is not trio.SocketStream
    ):
        return False
    hot, _ = _hot_of(server)
    if hot is None:
        return False
    hypercorns = server.stream.socket
    server._preview_taken = trio.SocketStream(hypercorns.dup())
    hot.taken_back += 1
    hypercorns.close()  # wakes Hypercorn's reader with ClosedResourceError
    return True


def _hot_of(server: Any) -> tuple[HotPath | None, Hop | None]:
    """The hot path of the app ``server`` serves, and the cluster's hop where that app is
    a node's internal listener (``cluster.InternalGate``, :func:`attach_internal`)."""
    app = getattr(getattr(server, "app", None), "app", None)
    extensions = getattr(app, "extensions", None)
    if not isinstance(extensions, dict):
        return None, None
    return extensions.get(EXTENSION), extensions.get(INTERNAL_EXTENSION)
