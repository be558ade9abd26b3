"""``/api/generations/{gid}/preview/snapshots``: its preview's data saved, listed,
restored, compared and deleted (``preview.snapshots``)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from quart import Blueprint, Response, jsonify, request

from ..errors import BadRequest, Conflict, NotFound
from ..services import services
from ..services.audit import record_action
from ..services.callers import json_body, owned_generation
from ..snapshots import Snapshots, describe

if TYPE_CHECKING:
    from ..runtime import PreviewRuntime

__all__ = ["blueprint", "snapshot_name"]

blueprint = Blueprint("snapshots", __name__, url_prefix="/api/generations/<gid>/preview/snapshots")
_MAX_NAME = 200


def snapshot_name(value: object) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str) or not 1 <= len(value) <= _MAX_NAME or not value.isprintable():
        raise BadRequest(
            f"name must be a text of 1 to {_MAX_NAME} printable characters.",
            code="invalid_snapshot_name",
        )
    return value


def _keeper() -> Snapshots:
    keeper = services().snapshots
    assert keeper is not None
    return keeper


def _running(gid: str) -> PreviewRuntime:
    supervisor = services().supervisor
    assert supervisor is not None
    runtime = supervisor.for_generation(gid)
    if runtime is None:
        raise NotFound(
            "This generation has no active preview.",
            code="no_active_preview",
            details={"generationId": gid},
        )
    if runtime.status != "running":
        raise Conflict(
            f"Its preview is {runtime.status}: its data can be saved or restored once it runs.",
            code="preview_not_running",
            details={"previewInstanceId": runtime.id, "status": runtime.status},
            retry_after=2.0,
        )
    return runtime


@blueprint.post("")
async def take(gid: str) -> tuple[Response, int]:
    state = services()
    user = state.user()
    generation = await owned_generation(gid, user)
    body = await json_body(required=False)
    name = snapshot_name(body.get("name"))
    runtime = _running(gid)
    row = await _keeper().take(runtime, user.id, name)
    await record_action(
        state,
        user,
        "snapshot_take",
        owner=generation.user_id,
        generation_id=gid,
        preview_id=runtime.id,
        snapshotId=row.id,
        name=name,
    )
    return jsonify(describe(row)), 201


@blueprint.get("")
async def listing(gid: str) -> Response:
    state = services()
    await owned_generation(gid, state.user())
    rows = await _keeper().listing(gid)
    return jsonify({"generationId": gid, "snapshots": [describe(row) for row in rows]})


@blueprint.delete("/<sid>")
async def delete(gid: str, sid: str) -> Response:
    state = services()
    user = state.user()
    generation = await owned_generation(gid, user)
    row = await _keeper().get(sid, user.id, gid)
    await _keeper().delete(row)
    await record_action(
        state,
        user,
        "snapshot_delete",
        owner=generation.user_id,
        generation_id=gid,
        snapshotId=row.id,
    )
    return jsonify({"status": "deleted", "snapshotId": row.id})


@blueprint.post("/<sid>/restore")
async def restore(gid: str, sid: str) -> Response:
    state = services()
    user = state.user()
    generation = await owned_generation(gid, user)
    row = await _keeper().get(sid, user.id, gid)
    runtime = _running(gid)
    restored = await _keeper().restore(runtime, row)
    await record_action(
        state,
        user,
        "snapshot_restore",
        owner=generation.user_id,
        generation_id=gid,
        preview_id=runtime.id,
        snapshotId=row.id,
    )
    return jsonify({"snapshotId": row.id, "previewInstanceId": runtime.id, "restored": restored})


@blueprint.get("/<sid>/diff")
async def diff(gid: str, sid: str) -> Response:
    """From snapshot ``sid`` to snapshot ``with``: per table, the rows added, removed
    and changed."""
    state = services()
    user = state.user()
    await owned_generation(gid, user)
    other = request.args.get("with")
    if not other:
        raise BadRequest("with must name the snapshot to compare with.", code="invalid_with")
    first = await _keeper().get(sid, user.id, gid)
    second = await _keeper().get(other, user.id, gid)
    tables = await _keeper().diff(first, second)
    return jsonify({"from": first.id, "with": second.id, "tables": tables})
