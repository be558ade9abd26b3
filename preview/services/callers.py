"""Helpers shared by the API blueprints and fast paths: ownership checks, JSON request
bodies, the client's disconnect."""

from __future__ import annotations

from typing import Any

import trio
from werkzeug.http import parse_cookie

from ..auth import User, authenticate_request
from ..errors import BadRequest, NotFound
from ..store import Generation
from . import Services, services
from .bodies import JSON_BODY_LIMIT, json_object, read_body

__all__ = [
    "AsgiCaller",
    "cancel_on_disconnect",
    "generation_not_found",
    "json_body",
    "owned_generation",
]


async def owned_generation(gid: str, user: User, state: Services | None = None) -> Generation:
    """The generation if it is this user's; another user's is reported as unknown.

    On every request of the hot paths (streams, proxy), so known generations come from
    memory: they never change once uploaded.
    """
    state = state or services()
    generation = state.generations.get(gid)
    if generation is None and len(gid) <= 40:
        assert state.store is not None
        writes = state.generation_writes
        generation = await state.store.get_generation(gid)
        if generation is not None and state.generation_writes == writes:  # (else outdated)
            state.generations.put(gid, generation)
    if generation is None or generation.user_id != user.id:
        raise generation_not_found(gid)
    return generation


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
