"""Helpers shared by the API blueprints: ownership checks and JSON request bodies."""

from __future__ import annotations

from typing import Any

from quart import request

from ..app import Services, services
from ..auth import User
from ..errors import BadRequest, NotFound
from ..store import Generation

__all__ = ["json_body", "owned_generation"]


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
