"""The request history's routes: list and search, one whole, HAR 1.2, replay.

A generation's history spans its previews (a relaunch on a new revision keeps the
requests of the one before, which is what a replay compares against). Reads wait for
what was proxied before them to be stored (``RequestHistory.settled``), as the log's do.
"""

from __future__ import annotations

import json
import re
from typing import Any

from quart import Blueprint, Response, jsonify, request

from ..clock import utcnow
from ..errors import BadRequest, NotFound
from ..proxy import authorised_runtime
from ..services import services
from ..services.audit import record_action
from ..services.callers import generation_access, json_body, owned_generation
from .capture import RequestHistory
from .compare import MAX_VOLATILE_PATHS, VolatilePaths
from .har import har_document, request_json, summary_json
from .reads import RequestQuery, list_requests, read_request, read_requests
from .replay import MAX_REPLAYED, replay
from .volatile import mark_paths, marked_paths

__all__ = ["blueprint"]

blueprint = Blueprint("history", __name__, url_prefix="/api/generations/<gid>/preview")
_MAX_PAGE = 1000
_HAR_LIMIT = 1000  # requests one HAR export holds (the newest)
_METHOD = re.compile(r"[A-Za-z]{1,16}")
_STATUS = re.compile(r"([1-5])(?:xx|XX)|([1-5][0-9]{2})")


async def _settled() -> None:
    history = services().history
    if isinstance(history, RequestHistory):
        await history.settled()


def _integer(name: str, default: int | None, low: int, high: int) -> int | None:
    raw = request.args.get(name)
    if raw is None or raw == "":
        return default
    if not raw.isdigit() or not low <= int(raw) <= high:
        raise BadRequest(
            f"{name} must be a whole number from {low} to {high}.",
            code=f"invalid_{name}",
            details={name: raw[:40]},
        )
    return int(raw)


def _query(gid: str) -> RequestQuery:
    args = request.args
    method = args.get("method") or None
    if method is not None and not _METHOD.fullmatch(method):
        raise BadRequest("method must be an HTTP method.", code="invalid_method")
    status = args.get("status") or None
    matched = _STATUS.fullmatch(status) if status is not None else None
    if status is not None and matched is None:
        raise BadRequest("status must be a status (404) or a class (4xx).", code="invalid_status")
    replays = args.get("replays", "true")
    if replays not in ("true", "false"):
        raise BadRequest("replays must be true or false.", code="invalid_replays")
    path = args.get("path") or None
    if path is not None and len(path) > 1000:
        raise BadRequest("path is too long (1,000 characters at most).", code="invalid_path")
    return RequestQuery(
        generation_id=gid,
        limit=_integer("limit", 100, 1, _MAX_PAGE) or 100,
        before=_integer("before", None, 1, 2**62),
        method=method,
        path=path,
        status=int(matched.group(2)) if matched and matched.group(2) else None,
        status_class=int(matched.group(1)) if matched and matched.group(1) else None,
        replays=replays == "true",
    )


async def _har(gid: str) -> Response:
    state = services()
    assert state.store is not None
    await _settled()
    rows = await state.store.run_sync(read_requests, state.store.engine, gid, None, _HAR_LIMIT)
    for row in rows:  # each at its preview's origin, as the public sees it
        row["base_url"] = state.origins.url(
            row["preview_id"], scheme=request.scheme, host=request.host
        )
    body = json.dumps(har_document(rows, created=utcnow()), separators=(",", ":"))
    return Response(
        body,
        mimetype="application/json",
        headers={"Content-Disposition": f'attachment; filename="requests-{gid}.har"'},
    )


@blueprint.get("/requests")
async def list_page(gid: str) -> Response:
    """A page of the requests, newest first; ``format=har`` exports them."""
    state = services()
    await generation_access(gid, state.user())
    form = request.args.get("format", "json")
    if form not in ("json", "har"):
        raise BadRequest("format must be json or har.", code="invalid_format")
    if form == "har":
        return await _har(gid)
    query = _query(gid)
    await _settled()
    assert state.store is not None
    rows = await state.store.run_sync(list_requests, state.store.engine, query)
    more = len(rows) > query.limit
    rows = rows[: query.limit]
    return jsonify(
        {
            "requests": [summary_json(row) for row in rows],
            "hasMore": more,
            "nextBefore": rows[-1]["id"] if more else None,
        }
    )


@blueprint.get("/requests.har")
async def har_export(gid: str) -> Response:
    """The generation's kept requests (the newest 1,000) as HAR 1.2."""
    await generation_access(gid, services().user())
    return await _har(gid)


@blueprint.get("/requests/<rid>")
async def one(gid: str, rid: str) -> Response:
    """One request whole: heads and bodies."""
    state = services()
    await generation_access(gid, state.user())
    await _settled()
    assert state.store is not None
    row = None
    if rid.isdigit() and len(rid) < 19:
        row = await state.store.run_sync(read_request, state.store.engine, gid, int(rid))
    if row is None:
        raise NotFound(
            f"No request {rid[:40]!r}.", code="request_not_found", details={"id": rid[:40]}
        )
    return jsonify(request_json(row))


def _replay_ids(value: Any) -> list[int] | None:
    if value == "all":
        return None
    if (
        isinstance(value, list)
        and 0 < len(value) <= MAX_REPLAYED
        and all(isinstance(item, int) and not isinstance(item, bool) for item in value)
    ):
        return value
    raise BadRequest(
        f'ids must be "all" or a list of 1 to {MAX_REPLAYED} request ids.', code="invalid_ids"
    )


def _given_headers(value: Any) -> dict[str, str]:
    """The headers a replay's caller gives (its body's ``headers``), sent instead of the
    kept request's of the same names."""
    if value is None:
        return {}
    if isinstance(value, dict) and all(
        isinstance(k, str) and isinstance(v, str) and k.strip() and "\n" not in k + v
        for k, v in value.items()
    ):
        return value
    raise BadRequest("headers must be an object of strings.", code="invalid_headers")


@blueprint.post("/requests/replay")
async def replay_requests(gid: str) -> Response:
    """Replay kept requests against the current preview or another generation's, compared."""
    state = services()
    user = state.user()
    generation = await owned_generation(gid, user)
    body = await json_body()
    ids = _replay_ids(body.get("ids"))
    given_headers = _given_headers(body.get("headers"))
    target = body.get("target", "current")
    token = request.headers.get("X-Preview-Token")
    if target == "current":
        target_gid = gid
    elif isinstance(target, dict) and isinstance(target.get("generation"), str):
        target_gid = target["generation"]
        token = target.get("previewToken") if isinstance(target.get("previewToken"), str) else token
    else:
        raise BadRequest(
            'target must be "current" or {"generation": id, "previewToken": …}.',
            code="invalid_target",
        )
    runtime = await authorised_runtime(state, target_gid, user, token)
    await _settled()
    assert state.store is not None
    rows = await state.store.run_sync(read_requests, state.store.engine, gid, ids, MAX_REPLAYED)
    if ids is not None and len(rows) < len(set(ids)):
        missing = sorted(set(ids) - {row["id"] for row in rows})
        raise NotFound(
            f"No request {missing[0]}.", code="request_not_found", details={"ids": missing[:20]}
        )
    # The generation's marked paths: those of the answers kept (its own requests).
    marked = await state.store.run_sync(marked_paths, state.store.engine, gid)
    results = await replay(state, runtime, rows, given_headers, marked)
    await record_action(
        state,
        user,
        "replay",
        owner=generation.user_id,
        generation_id=gid,
        preview_id=runtime.id,
        target=target_gid,
        requests=len(rows),
    )
    return jsonify(
        {
            "target": {
                "generationId": target_gid,
                "previewId": runtime.id,
                "revision": runtime.spec.revision,
            },
            "replayed": sum(1 for item in results if "after" in item),
            "same": sum(1 for item in results if item["same"] is True),
            "different": sum(1 for item in results if item["same"] is False),
            "skipped": sum(1 for item in results if "skipped" in item),
            "results": results,
        }
    )


def _volatile_json(gid: str, marked: VolatilePaths) -> Response:
    return jsonify({"generationId": gid, "paths": list(marked.paths)})


@blueprint.get("/requests/volatile")
async def volatile_paths(gid: str) -> Response:
    """The JSON paths a replay's comparison ignores for this generation."""
    state = services()
    await generation_access(gid, state.user())
    assert state.store is not None
    return _volatile_json(gid, await state.store.run_sync(marked_paths, state.store.engine, gid))


@blueprint.put("/requests/volatile")
async def mark_volatile_paths(gid: str) -> Response:
    """``{paths: ["$.meta.requestedAt", "$.items[*].token"]}``: the generation's marked
    paths, replaced whole (``[]`` marks none)."""
    state = services()
    user = state.user()
    generation = await owned_generation(gid, user)
    paths = (await json_body()).get("paths")
    problem = (
        f"paths must be a list of at most {MAX_VOLATILE_PATHS} JSON paths"
        if not isinstance(paths, list) or len(paths) > MAX_VOLATILE_PATHS
        else next(filter(None, map(VolatilePaths.problem, paths)), None)
    )
    if problem is not None:
        raise BadRequest(f"{problem}.", code="invalid_volatile_paths")
    assert state.store is not None
    marked = await state.store.run_sync(mark_paths, state.store.engine, gid, paths)
    await record_action(
        state,
        user,
        "volatile_paths",
        owner=generation.user_id,
        generation_id=gid,
        paths=len(marked.paths),
    )
    return _volatile_json(gid, marked)
