"""``/api/generations/{gid}/preview/...``: launch, status, stop, config."""

from __future__ import annotations

import json
import string
from datetime import datetime, timedelta
from typing import Any

import trio
from quart import Blueprint, Response, jsonify, request

from ..app import Services, services
from ..auth import hash_preview_token, new_preview_token
from ..clock import isoformat, utcnow
from ..errors import BadRequest, NotFound
from ..runtime import PreviewRuntime
from ..store import PreviewInstance
from .common import json_body, owned_generation
from .endpoints import discover_endpoints

__all__ = ["blueprint", "preview_for"]

blueprint = Blueprint("previews", __name__, url_prefix="/api/generations/<gid>/preview")
_STOP_WAIT_MARGIN = 60.0


def _uptime(started: datetime | None, stopped: datetime | None) -> float | None:
    if started is None:
        return None
    return round(((stopped or utcnow()) - started).total_seconds(), 3)


def _from_runtime(runtime: PreviewRuntime) -> dict[str, Any]:
    spec = runtime.spec
    return {
        "previewInstanceId": runtime.id,
        "generationId": spec.generation_id,
        "projectId": spec.project_id,
        "status": runtime.status,
        "healthStatus": runtime.health_status,
        "baseUrl": f"http://127.0.0.1:{spec.port}",
        "port": spec.port,
        "processId": runtime.process.pid if runtime.process else None,
        "uptime": _uptime(runtime.started_at, runtime.stopped_at),
        "lastHealthCheck": isoformat(runtime.last_health_check),
        "createdAt": isoformat(spec.created_at),
        "startedAt": isoformat(runtime.started_at),
        "stoppedAt": isoformat(runtime.stopped_at),
        "expiresAt": isoformat(spec.expires_at),
        "exitCode": runtime.exit_code,
        "errorMessage": runtime.error_message,
        "errorLines": runtime.error_lines,
        "stopReason": runtime.stop_reason,
        "lastEventId": runtime.broadcast.last_id,
        "subscribers": runtime.broadcast.subscriber_count,
        "droppedSubscribers": runtime.broadcast.dropped_count,
    }


def _from_row(row: PreviewInstance) -> dict[str, Any]:
    return {
        "previewInstanceId": row.id,
        "generationId": row.generation_id,
        "projectId": row.project_id,
        "status": row.status,
        "healthStatus": row.health_status,
        "baseUrl": row.base_url,
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
        "stopReason": row.stop_reason,
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
        "This generation has no preview.", code="no_preview", details={"generationId": gid}
    )


async def _status(preview: PreviewRuntime | PreviewInstance) -> dict[str, Any]:
    if isinstance(preview, PreviewInstance):
        return _from_row(preview)
    data = _from_runtime(preview)
    usage = await preview.usage()
    data["memoryMb"] = round(usage[0], 1) if usage else None
    data["cpuPercent"] = round(usage[1], 1) if usage else None
    return data


_PLACEHOLDERS = ("python", "port", "root_path")  # what Supervisor._argv fills in


def _only_known_placeholders(part: str) -> bool:
    """``part`` names no placeholder but plain ``{python}``, ``{port}``, ``{root_path}`` (the
    supervisor fills them in with ``str.format_map``, which raises on anything else)."""
    try:
        fields = list(string.Formatter().parse(part))
    except ValueError:  # a lone brace
        return False
    return all(
        name is None or (name in _PLACEHOLDERS and not spec and conversion is None)
        for _, name, spec, conversion in fields
    )


def _launch_options(body: dict[str, Any]) -> tuple[list[str] | None, str]:
    command = body.get("command")
    if command is not None and (
        not isinstance(command, list)
        or not 1 <= len(command) <= 64
        or not all(
            isinstance(part, str) and part and "\x00" not in part and _only_known_placeholders(part)
            for part in command
        )
    ):
        raise BadRequest(
            "command must be a list of 1 to 64 non-empty strings; the only placeholders are "
            "{python}, {port} and {root_path} (write {{ and }} for literal braces).",
            code="invalid_command",
        )
    health_path = body.get("healthPath", "/")
    if (
        not isinstance(health_path, str)
        or not health_path.startswith("/")
        or len(health_path) > 512
        or not health_path.isprintable()
        or " " in health_path
    ):
        raise BadRequest("healthPath must be an absolute URL path.", code="invalid_health_path")
    return command, health_path


@blueprint.post("/launch")
async def launch(gid: str) -> Response:
    state = services()
    user = state.user()
    generation = await owned_generation(gid, user)
    body = await json_body(required=False)
    command, health_path = _launch_options(body)
    assert state.supervisor is not None
    launched = await state.supervisor.launch(
        user, generation, command=command, health_path=health_path
    )
    runtime = launched.runtime
    if body.get("wait") or request.args.get("wait") in ("1", "true"):
        with trio.move_on_after(state.settings.startup_timeout + state.settings.stop_grace + 10):
            await runtime.wait_settled()
    data = _from_runtime(runtime)
    data.update(
        previewToken=launched.preview_token,
        healthCheckUrl=f"{data['baseUrl']}{health_path}",
    )
    return jsonify(data)


@blueprint.get("/status")
async def status(gid: str) -> Response:
    state = services()
    await owned_generation(gid, state.user())
    preview = await preview_for(gid, request.args.get("previewId"))
    data = await _status(preview)
    discovered = await discover_endpoints(state, gid)
    data["generatedEndpoints"] = discovered["endpoints"]
    return jsonify(data)


@blueprint.delete("")
async def stop(gid: str) -> Response:
    state = services()
    await owned_generation(gid, state.user())
    assert state.supervisor is not None
    runtime = state.supervisor.for_generation(gid)
    if runtime is None:
        raise NotFound(
            "This generation has no active preview.",
            code="no_active_preview",
            details={"generationId": gid},
        )
    runtime.request_stop("stopped by the user")
    with trio.move_on_after(state.settings.stop_grace + _STOP_WAIT_MARGIN):
        await runtime.finished.wait()
    return jsonify(
        {
            "status": runtime.status,
            "previewInstanceId": runtime.id,
            "message": "Preview instance stopped."
            if runtime.finished.is_set()
            else "Preview instance is stopping.",
            "stoppedAt": isoformat(runtime.stopped_at),
            "exitCode": runtime.exit_code,
        }
    )


@blueprint.post("/token")
async def rotate_token(gid: str) -> Response:
    """A new preview token for the owner (the old one stops working at once).

    The token is shown only at launch; a browser that lost it (a reload) gets a new one
    here instead of restarting the preview.
    """
    state = services()
    await owned_generation(gid, state.user())
    assert state.supervisor is not None and state.store is not None
    runtime = state.supervisor.for_generation(gid)
    if runtime is None or runtime.status not in ("starting", "running"):
        raise NotFound(
            "This generation has no active preview.",
            code="no_active_preview",
            details={"generationId": gid},
        )
    token = new_preview_token()
    runtime.spec.token_hash = hash_preview_token(token)
    runtime.spec.token_expires_at = utcnow() + timedelta(seconds=state.settings.session_timeout)
    await state.store.update_preview(
        runtime.id,
        preview_token_hash=runtime.spec.token_hash,
        token_expires_at=runtime.spec.token_expires_at,
    )
    return jsonify(
        {
            "previewInstanceId": runtime.id,
            "previewToken": token,
            "tokenExpiresAt": isoformat(runtime.spec.token_expires_at),
        }
    )


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
            "maxLogLines": settings.max_log_lines,
            "portRange": [settings.port_min, settings.port_max],
            "limitations": {
                "tier": user.tier,
                "maxConcurrentPreviews": limit,
                "maxSessionDuration": settings.max_uptime,
                "features": {
                    "sseLogs": True,
                    "logHistory": True,
                    "websocketLogs": False,
                    "advancedMetrics": True,
                },
            },
        }
    )
