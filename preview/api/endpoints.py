"""``GET /api/generations/{gid}/endpoints``: the app's endpoints, live or from source."""

from __future__ import annotations

from typing import Any

import httpx
import trio
from quart import Blueprint, Response, jsonify

from ..app import Services, services
from ..discovery import endpoints_from_openapi, endpoints_from_source
from .common import owned_generation

__all__ = ["blueprint", "discover_endpoints"]

blueprint = Blueprint("endpoints", __name__)
_OPENAPI_PATH = "/openapi.json"
_OPENAPI_TIMEOUT = 5.0
_OPENAPI_MAX_BYTES = 5 * 1024 * 1024


async def _live_openapi(state: Services, port: int) -> dict | None:
    """The running app's OpenAPI document, if it serves one (FastAPI does)."""
    assert state.http is not None
    url = f"http://127.0.0.1:{port}{_OPENAPI_PATH}"
    try:
        async with state.http.stream("GET", url, timeout=_OPENAPI_TIMEOUT) as response:
            if response.status_code != 200:
                return None
            content = b""
            async for chunk in response.aiter_bytes():
                content += chunk
                if len(content) > _OPENAPI_MAX_BYTES:
                    return None
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
        if cached is None:
            spec = await _live_openapi(state, runtime.spec.port)
            if spec is not None:
                found = await trio.to_thread.run_sync(endpoints_from_openapi, spec)
                cached = state.discovery_cache.put(runtime.id, found)
        if cached is not None:
            return {"generationId": gid, "discoveredFrom": "openapi", "endpoints": cached}
    key = f"source:{gid}"
    cached = state.discovery_cache.get(key)
    if cached is None:
        files = await state.store.generation_files(gid)
        found = await trio.to_thread.run_sync(endpoints_from_source, files)
        cached = state.discovery_cache.put(key, found)
    return {"generationId": gid, "discoveredFrom": "source", "endpoints": cached}


@blueprint.get("/api/generations/<gid>/endpoints")
@blueprint.get("/api/generations/<gid>/preview/endpoints")
async def endpoints(gid: str) -> Response:
    state = services()
    await owned_generation(gid, state.user())
    return jsonify(await discover_endpoints(state, gid))
