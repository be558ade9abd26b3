"""Helpers shared by the API blueprints and fast paths: ownership checks, JSON request
bodies, the client's disconnect."""

from __future__ import annotations

from typing import Any

import trio
from quart import request

from ..app import Services, services
from ..auth import User
from ..errors import BadRequest, NotFound
from ..store import Generation

__all__ = ["cancel_on_disconnect", "json_body", "owned_generation"]


async def owned_generation(gid: str, user: User, state: Services | None = None) -> Generation:
    """The generation if it is this user's; another user's is reported as unknown.

    On every request of the hot paths (streams, proxy), so known generations come from
    memory: they never change once uploaded.
    """
    state = state or services()
    generation = state.generations.get(gid)
    if generation is None and len(gid) <= 40:
        assert state.store is not None
        generation = await state.store.get_generation(gid)
        if generation is not None:
            state.generations.put(gid, generation)
    if generation is None or generation.user_id != user.id:
        raise NotFound(
            f"No generation {gid!r}.", code="generation_not_found", details={"generationId": gid}
        )
    return generation


async def json_body(*, required: bool = True) -> dict[str, Any]:
    """The request's JSON object; 400 if it is not one (or absent when required)."""
    raw = await request.get_data()
    if not raw.strip():
        if required:
            raise BadRequest("A JSON body is required.", code="invalid_json")
        return {}
    data = await request.get_json(force=True, silent=True)
    if not isinstance(data, dict):
        raise BadRequest("The body must be a JSON object.", code="invalid_json")
    return data


async def cancel_on_disconnect(receive: Any, scope: trio.CancelScope) -> None:
    """Cancel ``scope`` once the ASGI client goes away, so that a long response (a
    stream, a proxied download) ends at once and frees its task. Call it once the
    request body, if any, has been read: it takes the request's remaining messages."""
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            scope.cancel()
            return
