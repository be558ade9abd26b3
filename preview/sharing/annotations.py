"""Notes pinned to a preview's output: ``POST|GET /api/generations/{gid}/preview/annotations``,
``DELETE …/annotations/{id}``.

Anyone with access to the generation (its owner, a viewer or a caller of a share) pins a
note to a line of a preview's log (``seq``, of ``previewId``: the latest preview when not
given) or to a kept request (``requestId``: of whichever preview answered it). Notes are
stored with the generation (listed per preview, kept as long as its history) and said
live: while the preview runs, a ``note`` line in its log (``alice on line 42: …``) reaches
every terminal watching it, and stays in its history. A note is deleted by its author or
the generation's owner.
"""

from __future__ import annotations

import secrets
from typing import Any

from quart import Blueprint, Response, jsonify, request

from ..clock import isoformat, utcnow
from ..errors import BadRequest, Conflict, Forbidden, NotFound
from ..services import Services, services
from ..services.audit import record_action
from ..services.callers import generation_access, json_body
from ..store.models import Annotation
from .annotation_rows import (
    MAX_ANNOTATIONS,
    add_annotation,
    annotation_count,
    delete_annotation,
    get_annotation,
    kept_request_preview,
    list_annotations,
)

__all__ = ["NOTE_SOURCE", "blueprint"]

blueprint = Blueprint(
    "annotations", __name__, url_prefix="/api/generations/<gid>/preview/annotations"
)
NOTE_SOURCE = "note"  # the source of a note's line in the preview's log
_MAX_TEXT = 2000


def _note_json(note: Annotation) -> dict[str, Any]:
    return {
        "id": note.id,
        "generationId": note.generation_id,
        "previewInstanceId": note.preview_id,
        "seq": note.seq,
        "requestId": note.request_id,
        "author": note.author,
        "text": note.text,
        "createdAt": isoformat(note.created_at),
    }


def _text(value: object) -> str:
    if (
        not isinstance(value, str)
        or not 1 <= len(value.strip()) <= _MAX_TEXT
        or not all(c.isprintable() or c in "\n\t" for c in value)
    ):
        raise BadRequest(
            f"text must be 1 to {_MAX_TEXT} printable characters.", code="invalid_annotation"
        )
    return value.strip()


async def _preview_of_line(state: Services, gid: str, body: dict[str, Any]) -> tuple[str, int]:
    """(preview, seq) of a note pinned to a log line: the line must have been printed."""
    seq, preview_id = body.get("seq"), body.get("previewId")
    if type(seq) is not int or seq < 1:
        raise BadRequest("seq must be a log line's sequence number.", code="invalid_annotation")
    assert state.store is not None and state.supervisor is not None
    if preview_id is None:
        latest = await state.store.latest_preview(gid)
        preview_id = latest.id if latest is not None else None
    if not isinstance(preview_id, str) or len(preview_id) > 40:
        raise _line_not_found(seq)
    runtime = state.supervisor.for_generation(gid)
    last = (
        runtime.broadcast.last_id
        if runtime is not None and runtime.id == preview_id
        else await state.store.last_log_seq(preview_id)
    )
    if seq > last:
        raise _line_not_found(seq)
    return preview_id, seq


def _line_not_found(seq: int) -> NotFound:
    return NotFound(
        "This preview's log has no such line.", code="line_not_found", details={"seq": seq}
    )


@blueprint.post("")
async def pin(gid: str) -> tuple[Response, int]:
    """``{seq, previewId?, text}`` or ``{requestId, text}``: the note, 201."""
    state = services()
    user = state.user()
    access = await generation_access(gid, user)
    body = await json_body()
    text = _text(body.get("text"))
    assert state.store is not None and state.supervisor is not None
    seq: int | None = None
    request_id = body.get("requestId")
    if request_id is not None:
        if not isinstance(request_id, str) or len(request_id) > 40:
            raise BadRequest("requestId must be a kept request's id.", code="invalid_annotation")
        found = await state.store.run_sync(
            kept_request_preview, state.store.engine, gid, request_id
        )
        if found is None:
            raise NotFound(
                f"No kept request {request_id}.",
                code="request_not_found",
                details={"requestId": request_id},
            )
        preview_id = found
    else:
        preview_id, seq = await _preview_of_line(state, gid, body)
    count = await state.store.run_sync(annotation_count, state.store.engine, gid)
    if count >= MAX_ANNOTATIONS:
        raise Conflict(
            f"This generation has {MAX_ANNOTATIONS} notes, the most kept; delete one first.",
            code="too_many_annotations",
            details={"limit": MAX_ANNOTATIONS},
        )
    note = Annotation(
        id="note_" + secrets.token_hex(8),
        generation_id=gid,
        preview_id=preview_id,
        seq=seq,
        request_id=request_id,
        author=user.id,
        text=text,
        created_at=utcnow(),
    )
    await state.store.run_sync(add_annotation, state.store.engine, note)
    runtime = state.supervisor.for_generation(gid)
    if runtime is not None and runtime.id == preview_id and not runtime.broadcast.closed:
        where = f"line {seq}" if seq is not None else f"request {request_id}"
        await runtime.broadcast.publish("INFO", f"{user.id} on {where}: {text}", NOTE_SOURCE)
    await record_action(
        state,
        user,
        "annotation_add",
        owner=access.generation.user_id,
        generation_id=gid,
        preview_id=preview_id,
        annotationId=note.id,
    )  # its id: never its text
    return jsonify(_note_json(note)), 201


@blueprint.get("")
async def listing(gid: str) -> Response:
    """The generation's notes, oldest first (``?previewId=``: one preview's)."""
    state = services()
    await generation_access(gid, state.user())
    preview_id = request.args.get("previewId") or None
    assert state.store is not None
    notes = await state.store.run_sync(list_annotations, state.store.engine, gid, preview_id)
    return jsonify({"generationId": gid, "annotations": [_note_json(n) for n in notes]})


@blueprint.delete("/<nid>")
async def remove(gid: str, nid: str) -> Response:
    state = services()
    user = state.user()
    access = await generation_access(gid, user)
    assert state.store is not None
    note = await state.store.run_sync(get_annotation, state.store.engine, gid, nid[:40])
    if note is None:
        raise NotFound("No such note.", code="annotation_not_found", details={"id": nid[:40]})
    if user.id not in (note.author, access.generation.user_id):
        raise Forbidden(
            "A note is deleted by its author or the generation's owner.",
            code="not_the_author",
            details={"id": note.id},
        )
    await state.store.run_sync(delete_annotation, state.store.engine, note.id)
    await record_action(
        state,
        user,
        "annotation_delete",
        owner=access.generation.user_id,
        generation_id=gid,
        annotationId=note.id,
    )
    return jsonify({"status": "deleted", "id": note.id})
