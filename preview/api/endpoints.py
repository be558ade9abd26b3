"""``GET /api/generations/{gid}/endpoints``: the app's endpoints, live or from source, and
where its docs page is (``docsPath``, for the UI's "Open app"); ``…/endpoints/stats``: the
latency of each, from the recorded calls (``services.latency``)."""

from __future__ import annotations

import importlib
import sys
from typing import Any

import trio
from quart import Blueprint, Response, jsonify, request

from ..clock import isoformat
from ..errors import BadRequest
from ..services import Services, services
from ..services.callers import generation_access
from ..services.latency import RouteMatcher, endpoint_latency

__all__ = ["blueprint", "discover_endpoints"]

blueprint = Blueprint("endpoints", __name__)
_OPENAPI_TIMEOUT = 5.0
# Every place the app's OpenAPI may be, in all: where the listing is a by-product (the
# status's, the stats'), and where it is what was asked for. A loaded machine's capped
# app took over 2 s for three 404s; the endpoints panel would then list its route table.
_LIVE_BUDGET = 2.0
_LISTING_BUDGET = 15.0
_DISCOVERY = "preview.runtime.smoke"  # with the endpoints' discovery


async def discover_endpoints(
    state: Services, gid: str, *, from_source: bool = False, budget: float = _LIVE_BUDGET
) -> dict[str, Any]:
    """Endpoints from the live OpenAPI when the app runs and has one (with the routes of
    its own route table the document leaves out), else from its own
    route table (``apps.routes``), else its last run's of
    either, else from source (``from_source``: from source whatever runs). ``budget``:
    the seconds the running app is given to answer where its document is.

    All are cached: under the running process's revision (a revision applied live keeps
    the preview's id, not its routes or docs page), else under the generation (its latest
    files; a new revision discards them).
    """
    if _DISCOVERY not in sys.modules:  # not held by an idle service: imported in a thread
        await trio.to_thread.run_sync(importlib.import_module, _DISCOVERY)
    from ..discovery import (
        endpoints_beyond_openapi,
        endpoints_from_openapi,
        endpoints_from_routes,
    )
    from ..runtime.smoke import live_openapi, live_routes, openapi_in_table

    assert state.supervisor is not None and state.store is not None
    runtime = state.supervisor.for_generation(gid)
    files, code = None, gid  # the files read, and what names them in the cache
    if runtime is not None:  # the code its process serves: a swap's revision's
        files = runtime.swaps.serving_tree[1]
        code = f"{gid}@{runtime.id}:{runtime.swaps.serving_revision}"
    if from_source:
        pass
    elif runtime is not None and runtime.status == "running":
        assert files is not None  # the running process's, read above
        cached = state.discovery_cache.get(code)
        none_key = f"no-openapi:{code}"  # probed once: it serves none
        if cached is None and state.discovery_cache.get(none_key) is None:
            # A busy app must not hold the status up: past the budget, the source's
            # endpoints answer this time, and the next call asks the app again.
            spec = None
            with trio.move_on_after(budget) as probing:
                assert state.http is not None
                spec = await live_openapi(state.http, runtime.upstream, files, _OPENAPI_TIMEOUT)
            if spec is not None:
                found = await trio.to_thread.run_sync(endpoints_from_openapi, spec)
                cached = state.discovery_cache.put(code, found)
                # Kept for when it has stopped: the app's own list beats the source's.
                state.discovery_cache.put(f"last-live:{gid}", found)
            elif not probing.cancelled_caught:
                state.discovery_cache.put(none_key, [])
        # The app's own route table: read each time (routes may come later).
        table = await live_routes(runtime.upstream)
        if cached is not None:
            if table is not None:  # the routes its document leaves out as well
                known = state.beyond_openapi.get(code)  # (the table, its listing) while it holds
                if known is None or known[0] != table:
                    listed = await trio.to_thread.run_sync(endpoints_beyond_openapi, cached, *table)
                    known = state.beyond_openapi.put(code, (table, listed))
                    state.discovery_cache.put(f"last-live:{gid}", listed)
                cached = known[1]
            return await _listing(state, gid, code, files, "openapi", cached)
        tried = f"table-openapi:{code}"  # its table's documents, asked for once
        if table is not None and state.discovery_cache.get(tried) is None:
            state.discovery_cache.put(tried, [])
            spec = None
            with trio.move_on_after(budget):
                assert state.http is not None
                spec = await openapi_in_table(
                    state.http, runtime.upstream, table, files, _OPENAPI_TIMEOUT
                )
            if spec is not None:
                found = await trio.to_thread.run_sync(endpoints_from_openapi, spec)
                state.discovery_cache.put(code, found)
                found = await trio.to_thread.run_sync(endpoints_beyond_openapi, found, *table)
                state.discovery_cache.put(f"last-live:{gid}", found)
                return await _listing(state, gid, code, files, "openapi", found)
        if table is not None and table[1]:
            source = await _from_source(state, gid, code, files)
            found = await trio.to_thread.run_sync(endpoints_from_routes, *table, source)
            state.discovery_cache.put(f"last-routes:{gid}", found)
            return await _listing(state, gid, code, files, "app", found)
    else:
        last_live = state.discovery_cache.get(f"last-live:{gid}")
        if last_live is not None:  # its last run's OpenAPI, not the thinner source's
            return await _listing(state, gid, code, files, "openapi", last_live, live=False)
        last_routes = state.discovery_cache.get(f"last-routes:{gid}")
        if last_routes is not None:  # its last run's own routes, as well
            return await _listing(state, gid, code, files, "app", last_routes, live=False)
    source = await _from_source(state, gid, code, files)
    return await _listing(state, gid, code, files, "source", source)


async def _from_source(
    state: Services, gid: str, code: str, files: dict[str, bytes] | None
) -> list:
    """The endpoints read from ``files`` (``None``: the generation's latest), cached
    under ``code`` (see :func:`discover_endpoints`)."""
    from ..discovery import endpoints_from_source  # imported by discover_endpoints

    key = f"source:{code}"
    cached = state.discovery_cache.get(key)
    if cached is None:
        assert state.store is not None
        files = files if files is not None else await state.store.generation_files(gid)
        found = await trio.to_thread.run_sync(endpoints_from_source, files)
        cached = state.discovery_cache.put(key, found)
    return cached


async def _docs_path(
    state: Services, gid: str, code: str, files: dict[str, bytes] | None
) -> str | None:
    """The app's own docs page from its source (FastAPI's ``docs_url``; its docs routes
    are not in its OpenAPI document), cached as the endpoints are."""
    key = f"docs:{code}"
    cached = state.discovery_cache.get(key)
    if cached is None:
        from ..discovery import docs_location  # imported by discover_endpoints

        if files is None:
            assert state.store is not None
            files = await state.store.generation_files(gid)
        cached = state.discovery_cache.put(
            key, [await trio.to_thread.run_sync(docs_location, files)]
        )
    return cached[0]


async def _listing(
    state: Services,
    gid: str,
    code: str,
    files: dict[str, bytes] | None,
    origin: str,
    found: list,
    *,
    live: bool | None = None,
) -> dict[str, Any]:
    """``origin``: ``openapi``, ``app`` (its route table) or ``source``; ``live``: from
    the running app (True), its last run's (False), or the source's. /metrics' latency
    by route matches the generation's calls to these routes from now on."""
    routes = tuple((e["method"], e["path"]) for e in found)
    state.metrics.routes.learn(gid, routes, RouteMatcher)
    return {
        "generationId": gid,
        "discoveredFrom": origin,
        "live": origin != "source" if live is None else live,
        "endpoints": found,
        "count": len(found),
        "docsPath": await _docs_path(state, gid, code, files),
    }


@blueprint.get("/api/generations/<gid>/endpoints")
@blueprint.get("/api/generations/<gid>/preview/endpoints")
async def endpoints(gid: str) -> Response:
    state = services()
    await generation_access(gid, state.user())
    source = request.args.get("from") == "source"  # the source's, with files and lines
    listing = await discover_endpoints(state, gid, from_source=source, budget=_LISTING_BUDGET)
    return jsonify(listing)


@blueprint.get("/api/generations/<gid>/preview/endpoints/stats")
async def endpoint_stats(gid: str) -> Response:
    """Per route: count, errors, p50/p95/p99 and max of the recorded calls' times, of
    the generation's previews, or of one (``previewId``)."""
    state = services()
    await generation_access(gid, state.user())
    preview_id = request.args.get("previewId") or None
    if preview_id is not None and (len(preview_id) > 40 or not preview_id.isprintable()):
        raise BadRequest("previewId is not a preview's id.", code="invalid_preview_id")
    # The routes the app declares (cached by discovery: a running app's OpenAPI is asked
    # once per process, within its budget), else each path with its ids collapsed.
    listing = await discover_endpoints(state, gid)
    routes = [(e["method"], e["path"]) for e in listing["endpoints"]]
    assert state.store is not None
    history = state.history
    settled = getattr(history, "settled", None)
    if settled is not None:  # what was proxied before this call is counted
        await settled()
    stats = await state.store.run_sync(
        endpoint_latency, state.store.engine, gid, preview_id, routes
    )
    stats["since"] = isoformat(stats["since"])
    stats["routesFrom"] = listing["discoveredFrom"]
    return jsonify(stats)
