"""Helpers shared by the API blueprints and fast paths: ownership checks, JSON request
bodies, the client's disconnect."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import trio
from werkzeug.http import parse_cookie

from ..auth import User, authenticate_request
from ..clock import utcnow
from ..errors import BadRequest, Forbidden, NotFound
from ..store import Generation
from . import Services, services
from .bodies import JSON_BODY_LIMIT, json_object, read_body
from .shares import ROLES, Share, access_of

__all__ = [
    "Access",
    "AsgiCaller",
    "cancel_on_disconnect",
    "generation_access",
    "generation_not_found",
    "json_body",
    "owned_generation",
]


@dataclass(frozen=True, slots=True)
class Access:
    """Who may do what with a generation: its owner (``share`` None), or another user
    through a live share (``role`` ``viewer`` or ``caller``)."""

    generation: Generation
    role: str  # "owner", "caller", "viewer"
    share: Share | None = None

    @property
    def owner(self) -> bool:
        return self.share is None


async def _known_generation(gid: str, state: Services) -> Generation | None:
    """On every request of the hot paths (streams, proxy), so known generations come
    from memory: they never change once uploaded."""
    generation = state.generations.get(gid)
    if generation is None and len(gid) <= 40:
        assert state.store is not None
        writes = state.generation_writes
        generation = await state.store.get_generation(gid)
        if generation is not None and state.generation_writes == writes:  # (else outdated)
            state.generations.put(gid, generation)
    return generation


async def _share_of(state: Services, gid: str, user: User) -> Share | None:
    assert state.store is not None
    return await state.store.run_sync(access_of, state.store.engine, gid, user.id, utcnow())


async def owned_generation(gid: str, user: User, state: Services | None = None) -> Generation:
    """The generation if it is this user's. Another user's is reported as unknown (404),
    unless shared with this user: then what is asked is the owner's alone (403
    ``owner_only``)."""
    state = state or services()
    generation = await _known_generation(gid, state)
    if generation is None:
        raise generation_not_found(gid)
    if generation.user_id != user.id:
        share = await _share_of(state, gid, user)
        if share is None:
            raise generation_not_found(gid)
        raise Forbidden(
            f"Only the generation's owner may do this; it is shared with you as a {share.role}.",
            code="owner_only",
            details={"generationId": gid, "role": share.role},
        )
    return generation


async def generation_access(
    gid: str, user: User, need: str = "viewer", state: Services | None = None
) -> Access:
    """The generation and what this user may do with it, if at least ``need``
    (``viewer`` or ``caller``): its owner, or a holder of a live share (403
    ``share_role`` if the share gives less); anyone else 404, as an unknown one."""
    state = state or services()
    generation = await _known_generation(gid, state)
    if generation is None:
        raise generation_not_found(gid)
    if generation.user_id == user.id:
        return Access(generation, "owner")
    share = await _share_of(state, gid, user)
    if share is None:
        raise generation_not_found(gid)
    if ROLES.index(share.role) < ROLES.index(need):
        raise Forbidden(
            f"The generation is shared with you as a {share.role}; this needs a {need}.",
            code="share_role",
            details={"generationId": gid, "role": share.role, "needed": need},
        )
    return Access(generation, share.role, share)


def generation_not_found(gid: str) -> NotFound:
    """The 404 of an unknown generation: another user's, or one deleted meanwhile (the
    store's ``GenerationGone``: a launch, a revision or a rename that raced its delete)."""
    return NotFound(
        f"No generation {gid!r}.", code="generation_not_found", details={"generationId": gid}
    )


async def json_body(*, required: bool = True, limit: int = JSON_BODY_LIMIT) -> dict[str, Any]:
    """The request's JSON object, read up to ``limit`` bytes (413 past it); 400 if it is
    not one (or absent when required)."""
    raw = await read_body(limit, services().settings.body_timeout)
    if not raw.strip():
        if required:
            raise BadRequest("A JSON body is required.", code="invalid_json")
        return {}
    return await json_object(raw)


class AsgiCaller:
    """Who sent an ASGI request and with what headers, for the fast paths: what
    ``Services.user`` and Quart's request give the blueprints."""

    __slots__ = ("_cookies", "headers", "named", "scope_method", "scope_scheme")

    def __init__(self, scope: dict) -> None:
        self.scope_method = scope.get("method", "GET")  # a WebSocket's handshake: GET
        self.scope_scheme = scope.get("scheme", "http")  # ws, wss for a WebSocket
        self.headers = [
            (name.decode("latin-1"), value.decode("latin-1")) for name, value in scope["headers"]
        ]  # as sent, repeats included
        self.named = {name.lower(): value for name, value in self.headers}
        self._cookies: Any = None

    @property
    def cookies(self) -> Any:
        """The ``Cookie`` header parsed (Werkzeug's ``MultiDict``), on first use: a call
        with a cached credential (``proxy.hot.path``) never needs it."""
        if self._cookies is None:
            self._cookies = parse_cookie(self.named.get("cookie", ""))
        return self._cookies

    def user(self, state: Services) -> User:
        """The authenticated caller; raises like ``Services.user``."""
        method = self.scope_method
        return authenticate_request(
            state.authenticator,
            method,
            lambda name: self.named.get(name.lower()),
            self.cookies,
            state.settings.cors_origin_set,
            scheme=self.scope_scheme,
        )


async def cancel_on_disconnect(receive: Any, scope: trio.CancelScope) -> None:
    """Cancel ``scope`` once the ASGI client goes away, so that a long response (a
    stream, a proxied download) ends at once and frees its task. Call it once the
    request body, if any, has been read: it takes the request's remaining messages."""
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            scope.cancel()
            return
