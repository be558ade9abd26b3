"""The hot path (``hot_path``) in front of Hypercorn's handling of each connection.

:func:`install` wraps Hypercorn's ``TCPServer.run`` (once per process, as
``transport.connection_guard`` does; what it serves is each app's own, found on the app
Hypercorn serves, :func:`attach`): a plain-TCP connection is the app's ``HotPath``'s
first; the bytes it read and did not serve (the first request it cannot, and all after)
go to Hypercorn's protocol before anything else read from the connection
(``TCPServer._read_data``), so Hypercorn sees the connection as the client sent it.
``tests/proxy/test_hot_path.py`` fails if these internals move.
"""

from __future__ import annotations

import functools
import logging
import socket
from typing import Any

import trio

try:  # Hypercorn's internals: if they move, nothing is installed (the ASGI path serves)
    from hypercorn.events import RawData
    from hypercorn.trio.tcp_server import TCPServer
except ImportError:  # pragma: no cover - depends on the installed version
    RawData = TCPServer = None  # type: ignore[assignment,misc]

from ..services import Services
from .hot_path import HotPath

__all__ = ["EXTENSION", "attach", "install", "installed"]

_log = logging.getLogger("preview")
_MARK = "_preview_hot_path"
EXTENSION = "preview.hot_path"


def attach(app: Any, state: Services) -> HotPath:
    """Give ``app`` (the Quart app Hypercorn serves) its hot path."""
    hot = HotPath(state)
    app.extensions[EXTENSION] = hot
    return hot


def installed() -> bool:
    return TCPServer is not None and getattr(TCPServer.run, _MARK, False)


def install() -> bool:
    """Wrap ``TCPServer.run`` and ``_read_data`` (once); whether the hot path is on."""
    if TCPServer is None or RawData is None or installed():
        return installed()
    if not hasattr(TCPServer, "_read_data") or not hasattr(TCPServer, "run"):
        _log.warning("Hypercorn's internals moved: proxied calls take the ASGI path")
        return False
    run, read_data = TCPServer.run, TCPServer._read_data

    @functools.wraps(run)
    async def hot_run(self: Any) -> None:
        hot = _hot_of(self)
        stream = self.stream
        if (
            hot is None
            or type(stream) is not trio.SocketStream
            or stream.socket.family not in (socket.AF_INET, socket.AF_INET6)
        ):
            return await run(self)
        try:
            peer = stream.socket.getpeername()
            terminated = getattr(self.context, "terminated", None)
            idle = self.config.keep_alive_timeout
            left = await hot.serve(stream, str(peer[0]), idle, terminated)
        except Exception:
            _log.exception("a proxied connection failed; it was closed")
            left = None
        if left is None:
            with trio.CancelScope(shield=True):
                await trio.aclose_forcefully(stream)
            return None
        self._preview_pending = left
        return await run(self)

    @functools.wraps(read_data)
    async def hot_read_data(self: Any) -> None:
        pending = getattr(self, "_preview_pending", b"")
        if pending:
            self._preview_pending = b""
            await self.protocol.handle(RawData(pending))
        return await read_data(self)

    setattr(hot_run, _MARK, True)
    TCPServer.run = hot_run
    TCPServer._read_data = hot_read_data
    return True


def _hot_of(server: Any) -> HotPath | None:
    app = getattr(getattr(server, "app", None), "app", None)
    extensions = getattr(app, "extensions", None)
    return extensions.get(EXTENSION) if isinstance(extensions, dict) else None
