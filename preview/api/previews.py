"""``/api/generations/{gid}/preview/...``: launch, status, stop, config."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import datetime, timedelta
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Any

import trio
from quart import Blueprint, Response, jsonify, request

from ..clock import isoformat, utcnow
from ..errors import BadRequest, Conflict, NotFound, StoreError
from ..logs import missing_env, truncation
from ..previewtokens import MAX_LABEL, MAX_LIVE_TOKENS, PreviewToken, TooManyTokens
from ..runtime import BY_THE_USER
from ..sandbox import child_environment
from ..services import Services, services
from ..services.audit import record_action
from ..services.callers import (
    generation_access,
    generation_not_found,
    json_body,
    owned_generation,
)
from ..store import GenerationGone, PreviewInstance
from .alerts import arm_alerts
from .endpoints import discover_endpoints
from .origins import app_origin_url
from .presets import MAX_VARIABLES, preset_env
from .revisions import tree_of_revision

if TYPE_CHECKING:
    from ..runtime import PreviewRuntime

__all__ = ["blueprint", "log_gaps", "preview_for"]

blueprint = Blueprint("previews", __name__, url_prefix="/api/generations/<gid>/preview")
_STOP_WAIT_MARGIN = 60.0
# What /config shows of the environment every preview runs with: no paths, no PORT (each
# preview's own), values from child_environment itself so the two cannot disagree.
_SHOWN_ENVIRONMENT = ("NODE_ENV", "HOST", "LANG", "PYTHONUNBUFFERED")


def _uptime(started: datetime | None, stopped: datetime | None) -> float | None:
    if started is None:
        return None
    return round(((stopped or utcnow()) - started).total_seconds(), 3)


def _health(status: str, health: str) -> str:
    """Health is a running preview's alone: ``unknown`` before it answers and once it
    stops (a stopped preview is never ``healthy``)."""
    return health if status == "running" else "unknown"


def _missing(status: str, error_message: str | None) -> list[str]:
    """The variables a failure names as needed (the UI's form asks for them)."""
    return missing_env(error_message) if status == "failed" else []


def _processes(runtime: PreviewRuntime) -> list[dict[str, Any]]:
    """Its web process and its workers (``runtime.processes``), each with its state."""
    process = runtime.process
    web = {"name": "web", "role": "web", "status": runtime.status, "pid": process and process.pid}
    supervision = runtime.supervision
    if supervision is not None and supervision.workers is not None:
        return [web, *supervision.workers.describe()]
    detection, spec = runtime.spec.detection, runtime.spec
    status = "waiting" if runtime.status == "starting" else "stopped"
    found = detection.workers if detection is not None else ()
    workers = [w.describe() | {"role": "worker", "status": status} for w in found]
    off = [{"name": name, "role": "worker", "status": "off"} for name in spec.workers_off]
    return [web, *workers, *off]


def _from_runtime(runtime: PreviewRuntime) -> dict[str, Any]:
    spec = runtime.spec
    state = services()
    return {
        "previewInstanceId": runtime.id,
        "generationId": spec.generation_id,
        "projectId": spec.project_id,
        "status": runtime.status,
        "healthStatus": _health(runtime.status, runtime.state.health_status),
        "health": runtime.state.smoke,  # the smoke check's {ok, checked, failing}, once done
        "baseUrl": app_origin_url(state, runtime.id),
        "port": spec.port,
        "processId": runtime.process.pid if runtime.process else None,
        "uptime": _uptime(runtime.state.started_at, runtime.state.stopped_at),
        "lastHealthCheck": isoformat(runtime.state.last_health_check),
        "createdAt": isoformat(spec.created_at),
        "startedAt": isoformat(runtime.state.started_at),
        "stoppedAt": isoformat(runtime.state.stopped_at),
        "expiresAt": isoformat(spec.expires_at),
        "exitCode": runtime.state.exit_code,
        "errorMessage": runtime.state.error_message,
        "errorLines": runtime.state.error_lines,
        "missingEnv": _missing(runtime.status, runtime.state.error_message),
        "stopReason": runtime.state.stop_reason,
        "healthPath": spec.health_path,
        "phase": runtime.state.phase,
        "phases": runtime.state.phase_times(),
        "runtime": runtime.runtime_info,
        "revision": spec.revision,  # the one its process runs (swaps move it)
        "lastApply": runtime.swaps.last.describe() if runtime.swaps.last else None,
        "lastEventId": runtime.broadcast.last_id,
        "subscribers": runtime.broadcast.subscriber_count,
        "droppedSubscribers": runtime.broadcast.dropped_count,
        "isolation": runtime.confinement.isolation.kind if runtime.confinement else "none",
        "processes": _processes(runtime),
    }


def _stored(row: PreviewInstance) -> dict[str, Any]:
    """The row's runtime JSON, read once (rows from before it was stored: none)."""
    try:
        stored = json.loads(row.runtime) if row.runtime else {}
    except ValueError:
        return {}
    return stored if isinstance(stored, dict) else {}


def _stored_runtime(row: PreviewInstance, stored: dict[str, Any]) -> dict[str, Any]:
    """The status's ``runtime`` of the row (rows from before it was stored have the
    command alone)."""
    keys = ("framework", "command", "detectedFrom", "python", "revision")
    found = {key: stored.get(key) for key in keys} | {"command": row.command}
    workers = stored.get("workers") if isinstance(stored.get("workers"), list) else []
    return found | {
        "generatedEnv": stored.get("generatedEnv") or [],
        "standInEnv": stored.get("standInEnv") or [],
        "workers": workers,
    }


def _from_row(row: PreviewInstance) -> dict[str, Any]:
    stored = _stored(row)
    runtime = _stored_runtime(row, stored)
    health_path = stored.get("healthPath")
    return {
        "previewInstanceId": row.id,
        "generationId": row.generation_id,
        "projectId": row.project_id,
        "status": row.status,
        "healthStatus": _health(row.status, row.health_status),
        "baseUrl": app_origin_url(services(), row.id),
        "port": row.port,
        "processId": row.process_id,
        "uptime": _uptime(row.started_at, row.stopped_at),
        "lastHealthCheck": isoformat(row.last_health_check),
        "createdAt": isoformat(row.created_at),
        "startedAt": isoformat(row.started_at),
        "stoppedAt": isoformat(row.stopped_at),
        "expiresAt": isoformat(row.expires_at),
        "exitCode": row.exit_code,
        "errorMessage": row.error_message,
        "errorLines": json.loads(row.error_lines) if row.error_lines else [],
        "missingEnv": _missing(row.status, row.error_message),
        "stopReason": row.stop_reason,
        "runtime": runtime,
        "revision": runtime.get("revision") or 1,
        # What it was checked on: its log's lines of those checks (hidden by the page and
        # `preview logs`) are told by it after the end too.
        "healthPath": health_path if isinstance(health_path, str) else None,
        "processes": [
            {"name": "web", "role": "web", "status": row.status, "pid": row.process_id},
            *(
                {**worker, "role": "worker", "status": "stopped"}
                for worker in runtime["workers"]
                if isinstance(worker, dict)
            ),
        ],
        "memoryMb": None,
        "cpuPercent": None,
    }


async def preview_for(
    gid: str, preview_id: str | None = None, state: Services | None = None
) -> PreviewRuntime | PreviewInstance:
    """The live preview of ``gid`` (or the one named), else its latest row; 404 if none."""
    state = state or services()
    assert state.supervisor is not None and state.store is not None
    if preview_id:
        runtime = state.supervisor.get(preview_id)
        if runtime is not None and runtime.spec.generation_id == gid:
            return runtime
        row = await state.store.get_preview(preview_id)
        if row is not None and row.generation_id == gid:
            return state.supervisor.get(row.id) or row
    else:
        runtime = state.supervisor.for_generation(gid)
        if runtime is not None:
            return runtime
        row = await state.store.latest_preview(gid)
        if row is not None:
            return state.supervisor.get(row.id) or row
    raise NotFound(
        "This generation has no preview.", code="no_active_preview", details={"generationId": gid}
    )


def log_gaps(preview: PreviewRuntime | PreviewInstance) -> dict[str, Any]:
    """What its stored log lacks: ``logsTruncated`` (past PREVIEW_LOG_QUOTA_MB, the lines
    streamed but not stored) and ``logsRemovedAt`` (PREVIEW_LOG_RETENTION_DAYS)."""
    if not isinstance(preview, PreviewInstance):
        return {"logsTruncated": preview.log_quota.summary(), "logsRemovedAt": None}
    since, lines = preview.log_dropped_since, preview.log_dropped_lines
    truncated = None
    if since is not None:  # lines None: the service stopped before it counted them
        until, at = preview.log_dropped_until, preview.log_dropped_since_at
        truncated = truncation(lines, since, at, until, final=lines is not None)
    return {"logsTruncated": truncated, "logsRemovedAt": isoformat(preview.logs_removed_at)}


async def _status(preview: PreviewRuntime | PreviewInstance) -> dict[str, Any]:
    if isinstance(preview, PreviewInstance):
        return _from_row(preview) | log_gaps(preview)
    data = _from_runtime(preview) | log_gaps(preview)
    usage = await preview.usage()
    data["memoryMb"] = round(usage[0], 1) if usage else None
    data["cpuPercent"] = round(usage[1], 1) if usage else None
    return data


@blueprint.post("/launch")
async def launch(gid: str) -> Response:
    state = services()
    user = state.user()
    generation = await owned_generation(gid, user)
    body = await json_body(required=False)
    assert state.supervisor is not None
    await state.supervisor.env_builder()  # what only launches use, imported (in a thread)
    from ..apps.spec import launch_options  # (came with them)

    options = launch_options(body)
    env = options.env
    preset = body.get("preset")
    if preset is not None:  # its variables under the launch's own: the launch's win
        env = {**await preset_env(state, gid, preset), **env}
        if len(env) > MAX_VARIABLES:
            raise BadRequest(
                f"The preset's variables and env together are more than {MAX_VARIABLES}.",
                code="invalid_env",
            )
    wait, asked = body.get("wait", False), request.args.get("wait", "")
    if not isinstance(wait, bool) or asked not in ("", "0", "1", "false", "true"):
        raise BadRequest("wait must be true or false.", code="invalid_wait")  # ("yes": waited)
    revision = body.get("revision")
    if revision is not None and (type(revision) is not int or revision < 1):
        raise BadRequest("revision must be a revision number (1, 2 …).", code="invalid_revision")
    tree = (revision, await tree_of_revision(gid, revision)) if revision is not None else None
    assert state.snapshots is not None
    seed = None
    if (snapshot := body.get("snapshot")) is not None:  # its data put in before it starts
        if not isinstance(snapshot, str):
            raise BadRequest("snapshot must be a snapshot's id.", code="invalid_snapshot")
        seed = partial(state.snapshots.seed, await state.snapshots.get(snapshot, user.id))
    try:
        launched = await state.supervisor.launch(
            user, generation, replace(options, env=env, revision=tree, seed=seed)
        )
    except GenerationGone:  # deleted while it was being launched
        raise generation_not_found(gid) from None
    runtime = launched.runtime
    await arm_alerts(state, runtime)  # the generation's alert rules, from its first line
    await record_action(
        state,
        user,
        "launch",
        owner=generation.user_id,
        generation_id=gid,
        preview_id=runtime.id,
        revision=runtime.spec.revision,
        snapshot=snapshot,
        preset=preset,
    )
    if wait or asked in ("1", "true"):
        settings = state.settings
        building = settings.build_timeout if settings.build == "on" else 0
        with trio.move_on_after(settings.startup_timeout + building + settings.stop_grace + 10):
            await runtime.wait_settled()
    data = _from_runtime(runtime)
    data.update(
        previewToken=launched.preview_token,
        healthCheckUrl=f"{data['baseUrl']}{runtime.spec.health_path}"
        if runtime.spec.health_path
        else None,
    )
    return jsonify(data)


@blueprint.get("/status")
async def status(gid: str) -> Response:
    state = services()
    access = await generation_access(gid, state.user())
    preview = await preview_for(gid, request.args.get("previewId"))
    data = await _status(preview)
    data["access"] = access.role  # the UI shows a shared user the preview read-only
    data["viewers"] = sorted(state.streams.watching(gid))  # who watches now (any node)
    if state.settings.cluster:  # the node that runs it, for operators
        mine = not isinstance(preview, PreviewInstance)
        data["node"] = state.settings.node if mine else preview.node_id
    try:
        discovered = await discover_endpoints(state, gid)
    except StoreError:
        if isinstance(preview, PreviewInstance):
            raise
        # A live preview's state is in memory: it answers through a database outage,
        # without the endpoints if they would have to come from the stored source.
        data["generatedEndpoints"] = data["docsPath"] = None
    else:
        data["generatedEndpoints"] = discovered["endpoints"]
        data["docsPath"] = discovered["docsPath"]
    return jsonify(data)


@blueprint.delete("")
async def stop(gid: str) -> Response:
    state = services()
    runtime = await _active(state, gid, ending_too=True)  # a second stop waits too
    runtime.request_stop(BY_THE_USER)
    await _record(state, runtime, "stop")
    with trio.move_on_after(state.settings.stop_grace + _STOP_WAIT_MARGIN):
        await runtime.finished.wait()
    return jsonify(
        {
            "status": runtime.status,
            "previewInstanceId": runtime.id,
            "message": "Preview instance stopped."
            if runtime.finished.is_set()
            else "Preview instance is stopping.",
            "stoppedAt": isoformat(runtime.state.stopped_at),
            "exitCode": runtime.state.exit_code,
            "stopReason": runtime.state.stop_reason,
        }
    )


@blueprint.post("/token")
async def new_token(gid: str) -> Response:
    """One more preview token for the owner's running preview; the others keep working.

    Body (optional): ``{"label": "ci script", "revokeOthers": false}``. ``revokeOthers``
    makes it the only one (a token that leaked). Past the limit of live tokens the oldest
    of the same label is retired (``retired`` names it), else 409. The token is shown
    only here; a browser that lost it (a reload) asks for another.
    """
    state = services()
    runtime = await _active(state, gid)
    body = await json_body(required=False)
    label = body.get("label", "")
    if not isinstance(label, str) or len(label) > MAX_LABEL:
        raise BadRequest(
            f"label must be a string of at most {MAX_LABEL} characters.", code="invalid_label"
        )
    revoke_others = body.get("revokeOthers", False)
    if not isinstance(revoke_others, bool):
        raise BadRequest("revokeOthers must be true or false.", code="invalid_revoke_others")
    now = utcnow()
    tokens = runtime.spec.tokens
    value, token = tokens.make(label, now, now + timedelta(seconds=state.settings.session_timeout))
    retiring = None
    if not revoke_others:
        try:
            retiring = tokens.to_retire(token, now)
        except TooManyTokens:
            raise Conflict(
                f"This preview has {MAX_LIVE_TOKENS} live preview tokens, none labelled "
                f"{label!r} to retire: revoke one first (DELETE …/preview/tokens/<id>).",
                code="too_many_preview_tokens",
                details={"limit": MAX_LIVE_TOKENS},
            ) from None
    tokens.add(token, retiring=retiring)
    revoked = tokens.revoke_all_but(token) if revoke_others else []
    await _record(
        state,
        runtime,
        "token_create",
        tokenId=token.id,
        label=token.label,
        retired=retiring.id if retiring is not None else None,
        revoked=[each.id for each in revoked],
    )
    return jsonify(
        {
            "previewInstanceId": runtime.id,
            "previewToken": value,
            "tokenId": token.id,
            "label": token.label,
            "tokenExpiresAt": isoformat(token.expires_at),
            "retired": retiring.id if retiring is not None else None,
            "revoked": [each.id for each in revoked],
        }
    )


@blueprint.get("/tokens")
async def list_tokens(gid: str) -> Response:
    """The running preview's live preview tokens (never their values), oldest first."""
    state = services()
    runtime = await _active(state, gid)
    return jsonify(
        {
            "previewInstanceId": runtime.id,
            "limit": MAX_LIVE_TOKENS,
            "tokens": [_token_json(token) for token in runtime.spec.tokens.listed(utcnow())],
        }
    )


@blueprint.delete("/tokens/<token_id>")
async def revoke_token(gid: str, token_id: str) -> Response:
    """Revoke one preview token: calls carrying it are refused from now on (the hot
    path's cache of checked credentials included), the app's origin signed in with it
    too; the preview and its other tokens go on."""
    state = services()
    runtime = await _active(state, gid)
    revoked = runtime.spec.tokens.revoke(token_id)
    if revoked is None:
        raise NotFound(
            "This preview has no such preview token.",
            code="preview_token_not_found",
            details={"tokenId": token_id},
        )
    await _record(
        state,
        runtime,
        "token_revoke",
        tokenId=revoked.id,
    )
    return jsonify({"previewInstanceId": runtime.id, "revoked": _token_json(revoked)})


async def _record(state: Services, runtime: PreviewRuntime, action: str, **details: Any) -> None:
    """The audit trail's entry of the caller's ``action`` on ``runtime``."""
    await record_action(
        state,
        state.user(),
        action,
        owner=runtime.spec.user_id,
        generation_id=runtime.spec.generation_id,
        preview_id=runtime.id,
        **details,
    )


async def _active(state: Services, gid: str, *, ending_too: bool = False) -> PreviewRuntime:
    """The owner's starting or running preview of ``gid`` (404 if none); with
    ``ending_too``, whatever its status while the service still holds it (stopping, or
    ended and not yet let go)."""
    await owned_generation(gid, state.user())
    assert state.supervisor is not None
    runtime = state.supervisor.for_generation(gid)
    if runtime is None or (not ending_too and runtime.status not in ("starting", "running")):
        raise NotFound(
            "This generation has no active preview.",
            code="no_active_preview",
            details={"generationId": gid},
        )
    return runtime


def _token_json(token: PreviewToken) -> dict[str, Any]:
    return {
        "id": token.id,
        "label": token.label,
        "createdAt": isoformat(token.created_at),
        "expiresAt": isoformat(token.expires_at),
    }


@blueprint.get("/config")
async def config(gid: str) -> Response:
    state = services()
    user = state.user()
    await owned_generation(gid, user)
    settings = state.settings
    limit = settings.max_instances(user.tier)
    return jsonify(
        {
            "previewTimeout": settings.max_uptime,
            "maxInstances": limit,
            "sessionExpiry": settings.session_timeout,
            "autoStopInactiveAfter": settings.inactive_timeout,
            "startupTimeout": settings.startup_timeout,
            "stopGrace": settings.stop_grace,
            "memoryLimitMb": settings.memory_limit_mb,
            "pidsLimit": settings.pids_limit,
            "cpuLimit": settings.cpu_limit,
            "sandbox": state.supervisor.isolation.describe() if state.supervisor else None,
            "maxLogLines": settings.max_log_lines,
            "portRange": [settings.port_min, settings.port_max],
            "environment": _environment(settings.python),
            "limitations": {
                "tier": user.tier,
                "maxConcurrentPreviews": limit,
                "maxSessionDuration": settings.max_uptime,
                "features": {
                    "sseLogs": True,
                    "logHistory": True,
                    "websocketLogs": True,  # GET .../logs/ws
                    "advancedMetrics": True,
                },
            },
        }
    )


def _environment(python: str) -> dict[str, str]:
    env = child_environment(cwd=Path("preview"), port=0, python=python)
    return {name: env[name] for name in _SHOWN_ENVIRONMENT if name in env}
