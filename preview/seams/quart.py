"""Quart's internals the service reads (pinned: ``tests/seams``): the ASGI ``send`` under
a WebSocket route's ``websocket`` object, so that the log stream's frames can be written
a batch at a time (``transport.ws_frames``)."""

from __future__ import annotations

from functools import partial
from typing import Any

__all__ = ["websocket_asgi_send"]


def websocket_asgi_send(websocket: Any) -> Any | None:
    """The ASGI ``send`` a Quart ``Websocket`` sends its messages through (its ``_send`` is
    ``partial(send_data, send)``), or None if Quart holds it otherwise."""
    current = getattr(websocket, "_get_current_object", None)
    target = current() if callable(current) else websocket
    sender = getattr(target, "_send", None)
    if type(sender) is not partial or len(sender.args) != 1:
        return None
    return sender.args[0]
