"""``GET /api/generations/{gid}/endpoints``: the app's endpoints, live or from source."""

from __future__ import annotations

from typing import Any

import httpx
import trio
from quart import Blueprint, Response, jsonify

from ..discovery import endpoints_from_openapi, endpoints_from_source, openapi_locations
from ..proxy import Upstream
from ..services import Services, services
from .common import owned_generation

__all__ = ["blueprint", "discover_endpoints"]

blueprint = Blueprint("endpoints", __name__)
_OPENAPI_TIMEOUT = 5.0
_OPENAPI_MAX_BYTES = 5 * 1024 * 1024


async def _live_openapi(
    state: Services, upstream: Upstream, files: dict[str, bytes]
) -> dict | None:
    """The running app's OpenAPI document, if it serves one: at the ``openapi_url`` its
    source gives, else at the first of the common places that answers with one."""
    for path in await trio.to_thread.run_sync(openapi_locations, files):
        spec = await _openapi_at(state, upstream, path)
        if spec is not None:
            return spec
    return None


async def _openapi_at(state: Services, upstream: Upstream, path: str) -> dict | None:
    assert state.http is not None
    request = state.http.build_request(
        "GET", upstream.url(path), timeout=_OPENAPI_TIMEOUT, extensions=upstream.extensions
    )
    try:
        response = await state.http.send(request, stream=True)
        try:
            if response.status_code != 200:
                return None
            content = b""
            async for chunk in response.aiter_bytes():
                content += chunk
                if len(content) > _OPENAPI_MAX_BYTES:
                    return None
        finally:
            await response.aclose()
        spec = httpx.Response(200, content=content).json()
    except (httpx.HTTPError, ValueError):
        return None
    return spec if isinstance(spec, dict) and isinstance(spec.get("paths"), dict) else None


async def discover_endpoints(state: Services, gid: str) -> dict[str, Any]:
    """Endpoints from the live OpenAPI when the app runs and has one, else from source.

    Both are cached: a generation's files never change, nor does a running app's spec.
    """
    assert state.supervisor is not None and state.store is not None
    runtime = state.supervisor.for_generation(gid)
    if runtime is not None and runtime.status == "running":
        cached = state.discovery_cache.get(runtime.id)
        none_key = f"no-openapi:{runtime.id}"  # probed once: it serves none
        if cached is None and state.discovery_cache.get(none_key) is None:
            spec = await _live_openapi(state, runtime.upstream, runtime.spec.files)
            if spec is not None:
                found = await trio.to_thread.run_sync(endpoints_from_openapi, spec)
                cached = state.discovery_cache.put(runtime.id, found)
            else:
                state.discovery_cache.put(none_key, [])
        if cached is not None:
            return _listing(gid, "openapi", cached)
    key = f"source:{gid}"
    cached = state.discovery_cache.get(key)
    if cached is None:
        files = await state.store.generation_files(gid)
        found = await trio.to_thread.run_sync(endpoints_from_source, files)
        cached = state.discovery_cache.put(key, found)
    return _listing(gid, "source", cached)


def _listing(gid: str, origin: str, found: list) -> dict[str, Any]:
    return {"generationId": gid, "discoveredFrom": origin, "endpoints": found, "count": len(found)}


@blueprint.get("/api/generations/<gid>/endpoints")
@blueprint.get("/api/generations/<gid>/preview/endpoints")
async def endpoints(gid: str) -> Response:
    state = services()
    await owned_generation(gid, state.user())
    return jsonify(await discover_endpoints(state, gid))
