"""``Services``: what the request handlers and fast paths share, set up when serving starts.

Lives apart from ``app`` so that the routes (``api``) and the fast paths (``transport``)
import it without importing the module that imports them.
"""

from __future__ import annotations

from collections.abc import AsyncGenerator
from dataclasses import dataclass, field
from typing import Any, Protocol

import httpx
import trio
from quart import current_app, has_websocket_context, request, websocket

from ..auth import Authenticator, User, authenticate_request
from ..cache import BoundedCache
from ..metrics import Metrics
from ..runtime import Supervisor
from ..settings import Settings
from ..store import Generation, Store
from .origins import AppOrigins

__all__ = ["Services", "StreamParking", "services"]


class StreamParking(Protocol):
    """What is asked of the parked streams through :class:`Services`:
    ``transport.ParkedStreams`` (the fast stream path parks, the app serves and closes
    it). A protocol, so that this module, which ``transport`` imports, imports nothing
    of it."""

    def prepare(self, writer: Any) -> Any: ...
    def adopt(self, parked: Any, body: AsyncGenerator[Any, None]) -> bool: ...
    async def serve(self, *, task_status: trio.TaskStatus[None] = ...) -> None: ...
    async def aclose(self, grace: float) -> None: ...


@dataclass
class Services:
    """What request handlers use; set up in ``before_serving``."""

    settings: Settings
    authenticator: Authenticator
    store: Store | None = None
    supervisor: Supervisor | None = None
    parked_streams: StreamParking | None = None
    metrics: Metrics = field(default_factory=Metrics)

    http: httpx.AsyncClient | None = None
    origins: AppOrigins = field(init=False)  # each preview's own origin (its hosts, tickets)
    # Both hold immutable values: a generation never changes once uploaded, nor does
    # the endpoint list of a generation's source or of one running app.
    generations: BoundedCache[str, Generation] = field(default_factory=lambda: BoundedCache(4096))
    discovery_cache: BoundedCache[str, list] = field(default_factory=lambda: BoundedCache(256))

    def __post_init__(self) -> None:
        settings = self.settings
        self.origins = AppOrigins(
            settings.app_domain,
            settings.app_origin_template,
            ticket_timeout=settings.app_ticket_timeout,
            session_timeout=settings.session_timeout,
        )

    def user(self) -> User:
        """The caller of this request or WebSocket (``auth.authenticate_request``); 401
        if unauthenticated."""
        if has_websocket_context():
            source, method = websocket, "GET"  # a WebSocket's handshake
        else:
            source, method = request, request.method
        return authenticate_request(
            self.authenticator,
            method,
            source.headers.get,
            source.cookies,
            self.settings.cors_origin_set,
        )


def services() -> Services:
    return current_app.extensions["preview"]
