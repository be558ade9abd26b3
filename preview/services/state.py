"""``Services``: what the request handlers and fast paths share, set up when serving starts.

Lives apart from ``app`` so that the routes (``api``) and the fast paths (``transport``)
import it without importing the module that imports them.
"""

from __future__ import annotations

import weakref
from collections.abc import AsyncGenerator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol

import httpx
import trio
from quart import current_app, has_websocket_context, request, websocket

from ..auth import Authenticator, User, authenticate_request
from ..cache import BoundedCache
from ..errors import TooManyRequests
from ..metrics import Metrics
from ..runtime import Supervisor
from ..settings import Settings
from ..snapshots import Snapshots
from ..store import Generation, Store
from .calls import Calls, RequestRecording
from .origins import AppOrigins
from .sharewatch import ShareWatch
from .webhooks import WebhookSender

if TYPE_CHECKING:  # a type only: the route tables' readers load when first used
    from ..apps.routes import RouteTable

__all__ = ["Services", "StreamParking", "StreamSlot", "StreamSlots", "services"]


class StreamParking(Protocol):
    """What is asked of the parked streams through :class:`Services`:
    ``transport.ParkedStreams`` (the fast stream path parks, the app serves and closes
    it). A protocol, so that this module, which ``transport`` imports, imports nothing
    of it."""

    @property
    def adopting(self) -> bool: ...
    def prepare(self, writer: Any) -> Any: ...
    def adopt(self, parked: Any, body: AsyncGenerator[Any, None]) -> bool: ...
    async def serve(self, *, task_status: trio.TaskStatus[None] = ...) -> None: ...
    async def aclose(self, grace: float) -> None: ...


class StreamSlot:
    """One log stream a user holds open, counted until :meth:`release` (idempotent)."""

    __slots__ = ("_gid", "_owner", "_user_id")

    def __init__(self, owner: StreamSlots, user_id: str, gid: str | None = None) -> None:
        self._owner: StreamSlots | None = owner
        self._user_id = user_id
        self._gid = gid

    def release(self) -> None:
        owner, self._owner = self._owner, None
        if owner is not None:
            owner._release(self._user_id, self._gid)

    def bind(self, body: object) -> None:
        """Release once ``body`` (a stream's generator) is gone too, however it went:
        one never started (its caller left first) runs no ``finally`` of its own."""
        weakref.finalize(body, self.release)


class StreamsElsewhere(Protocol):
    """The other nodes' log streams, as this node last read them (cluster mode:
    ``preview.cluster.ClusterStreamCounts``)."""

    def held(self, user_id: str) -> int: ...

    def watching(self, gid: str) -> dict[str, int]: ...


class StreamSlots:
    """Log streams (SSE, WebSocket) each user holds open, at most
    ``PREVIEW_MAX_STREAMS_PER_USER``: one user's 5,000 streams would hold 5,000 sockets,
    subscriptions and pacer wake-ups. The bound is read at each :meth:`reserve`, so it
    applies to a running service. In a cluster the other nodes' streams count too, as
    each node last published them (every 2 s: ``count_elsewhere``), so the bound holds
    cluster-wide within those seconds."""

    def __init__(self, settings: Settings) -> None:
        self._settings = settings
        self._held: dict[str, int] = {}
        # Per generation, its streams' users and how many each holds: who is watching
        # (``GET …/preview/viewers``).
        self._watching: dict[str, dict[str, int]] = {}
        self._elsewhere: StreamsElsewhere | None = None

    def count_elsewhere(self, elsewhere: StreamsElsewhere) -> None:
        """Count the other nodes' streams too (cluster mode)."""
        self._elsewhere = elsewhere

    def here(self) -> tuple[dict[str, int], dict[str, dict[str, int]]]:
        """This node's own streams: per user, and per generation its watchers (what it
        publishes to the others)."""
        return dict(self._held), {gid: dict(users) for gid, users in self._watching.items()}

    def held(self, user_id: str) -> int:
        """How many log streams ``user_id`` holds open (on every node, in a cluster)."""
        elsewhere = self._elsewhere.held(user_id) if self._elsewhere is not None else 0
        return self._held.get(user_id, 0) + elsewhere

    def watching(self, gid: str) -> dict[str, int]:
        """The users with a log stream of ``gid``'s previews open (on any node, in a
        cluster), and how many each."""
        users = dict(self._watching.get(gid, {}))
        if self._elsewhere is not None:
            for user, count in self._elsewhere.watching(gid).items():
                users[user] = users.get(user, 0) + count
        return users

    def reserve(self, user_id: str, gid: str | None = None) -> StreamSlot:
        """A slot for a new stream of ``user_id`` (on ``gid``'s preview: counted among its
        watchers); 429 ``too_many_streams`` beyond the bound."""
        self.check(user_id)
        self._held[user_id] = self._held.get(user_id, 0) + 1
        if gid is not None:
            users = self._watching.setdefault(gid, {})
            users[user_id] = users.get(user_id, 0) + 1
        return StreamSlot(self, user_id, gid)

    def check(self, user_id: str) -> None:
        """429 ``too_many_streams`` if ``user_id`` holds the most streams allowed: asked
        first, before a stream's request costs a lookup of its preview (a client that
        retries at once sent thousands)."""
        limit = self._settings.max_streams_per_user
        held = self.held(user_id)
        if held >= limit:
            raise TooManyRequests(
                f"You have {held} log streams open, the most allowed; close one (or wait"
                " for one to end) before opening another.",
                code="too_many_streams",
                details={"limit": limit},
            )

    def _release(self, user_id: str, gid: str | None = None) -> None:
        held = self._held.get(user_id, 0) - 1
        if held > 0:
            self._held[user_id] = held
        else:
            self._held.pop(user_id, None)
        if gid is None or gid not in self._watching:
            return
        users = self._watching[gid]
        left = users.get(user_id, 0) - 1
        if left > 0:
            users[user_id] = left
        else:
            users.pop(user_id, None)
            if not users:
                del self._watching[gid]


@dataclass
class Services:
    """What request handlers use; set up in ``before_serving``."""

    settings: Settings
    authenticator: Authenticator
    history: RequestRecording  # the proxied requests kept (``history``)
    store: Store | None = None
    supervisor: Supervisor | None = None
    snapshots: Snapshots | None = None
    parked_streams: StreamParking | None = None
    metrics: Metrics = field(default_factory=Metrics)

    http: httpx.AsyncClient | None = None
    origins: AppOrigins = field(init=False)  # each preview's own origin (its hosts, tickets)
    calls: Calls = field(init=False)  # where each call to an app starts and is recorded
    streams: StreamSlots = field(init=False)  # the log streams each user holds open
    webhooks: WebhookSender = field(init=False)  # alert rules' webhooks, delivered
    shares: ShareWatch = field(default_factory=ShareWatch)  # the shared users' open streams
    # Both hold immutable values: a generation never changes once uploaded, nor does
    # the endpoint list of a generation's source or of one running app.
    generations: BoundedCache[str, Generation] = field(default_factory=lambda: BoundedCache(4096))
    discovery_cache: BoundedCache[str, list] = field(default_factory=lambda: BoundedCache(256))
    # A running app's route table and its endpoints beyond its OpenAPI document, under
    # the running code (``api.endpoints``): kept while the app's table stays the same.
    beyond_openapi: BoundedCache[str, tuple[RouteTable, list[dict[str, Any]]]] = field(
        default_factory=lambda: BoundedCache(256)
    )
    # Writes of a generation's row so far (renames, revisions, deletes): a copy read from
    # the store before one is not cached after it (``callers.owned_generation``).
    generation_writes: int = 0

    def __post_init__(self) -> None:
        settings = self.settings
        self.origins = AppOrigins(
            settings.app_domain,
            settings.app_origin_template,
            ticket_timeout=settings.app_ticket_timeout,
            session_timeout=settings.session_timeout,
        )
        self.streams = StreamSlots(settings)
        self.calls = Calls(self.history, self.metrics.calls)
        self.webhooks = WebhookSender(settings, self.metrics.alerts)

    def forget_generation(self, gid: str) -> None:
        """After a write of ``gid``'s row: no copy read before it stays cached, or is
        cached later. (A read that raced a delete cached the deleted generation, which
        then answered 200 with no files, and its DELETE 200 again, until evicted.)"""
        self.generation_writes += 1
        self.generations.discard(gid)

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
            scheme=source.scheme,
        )


def services() -> Services:
    return current_app.extensions["preview"]
