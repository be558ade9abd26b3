"""``/api/generations`` (upload, list, show, rename, delete) and ``/api/session`` (cookie for
browsers)."""

from __future__ import annotations

import re
import secrets
from functools import partial
from typing import Any

import trio
from quart import Blueprint, Response, jsonify, request

from ..auth import SECURE_SESSION_COOKIE, SESSION_COOKIE, session_cookie_name, valid_subject
from ..clock import isoformat, utcnow
from ..errors import BadRequest, Conflict, Forbidden, NotFound
from ..generations import UploadLimits, files_from_archive, files_from_json
from ..services import Services, services
from ..services.audit import record_action
from ..services.bodies import json_object, read_body
from ..services.callers import (
    generation_access,
    generation_not_found,
    json_body,
    owned_generation,
)
from ..store import Generation, GenerationGone, Store
from ..store.audit import list_audit
from ..store.usage import check_storage

__all__ = ["blueprint"]

blueprint = Blueprint("generations", __name__)
_DELETE_STOP_MARGIN = 30.0  # s beyond the stop grace for a running preview to end
_RETRY_STILL_STOPPING = 10.0  # s: its teardown goes on; the delete can be sent again

_ARCHIVE_TYPES = (
    "application/zip",
    "application/x-zip-compressed",
    "application/gzip",
    "application/x-gzip",
    "application/x-tar",
    "application/x-gtar",
    "application/octet-stream",
)


def _describe(generation: Generation, files: list[tuple[str, int]] | None = None) -> dict:
    data: dict[str, Any] = {
        "generationId": generation.id,
        "projectId": generation.project_id,
        "name": generation.project_id or generation.id,
        "createdAt": isoformat(generation.created_at),
        "fileCount": generation.file_count,
        "totalBytes": generation.total_bytes,
    }
    if files is not None:
        data["files"] = [{"path": path, "size": size} for path, size in files]
    return data


async def _read_upload() -> tuple[str | None, dict[str, bytes]]:
    settings = services().settings
    limits = UploadLimits.from_settings(settings)
    mimetype = request.mimetype
    if mimetype not in ("application/json", "multipart/form-data", *_ARCHIVE_TYPES):
        raise BadRequest(
            "Send JSON {projectId, files} or a zip / tar.gz archive.",
            code="unsupported_media_type",
            details={"contentType": mimetype},
        )
    raw = await read_body(settings.max_upload_bytes, settings.body_timeout)
    if mimetype == "application/json":
        body = await json_object(raw)
        project_id = body.get("projectId")
        files = await trio.to_thread.run_sync(files_from_json, body.get("files"), limits)
        return _project(project_id), files
    if mimetype == "multipart/form-data":
        form = await request.form
        uploads = await request.files
        upload = uploads.get("file") or uploads.get("archive")
        if upload is None:
            raise BadRequest(
                "Send the archive in a form field named 'file'.", code="missing_archive"
            )
        data = upload.read()
        files = await trio.to_thread.run_sync(
            lambda: files_from_archive(
                data, limits, filename=upload.filename, content_type=upload.mimetype
            )
        )
        return _project(form.get("projectId")) or _archive_name(upload.filename), files
    files = await trio.to_thread.run_sync(
        lambda: files_from_archive(raw, limits, content_type=mimetype)
    )
    return _project(request.args.get("projectId")), files


def _archive_name(filename: str | None) -> str | None:
    """A generation's default name: its archive's file name without the extension
    (``todo-app.tar.gz`` -> ``todo-app``), as its folder's would be."""
    name = (filename or "").replace("\\", "/").rsplit("/", 1)[-1]
    name = re.sub(r"\.(zip|tar\.gz|tgz|tar)$", "", name, flags=re.IGNORECASE)
    return name[:200] if name and name.isprintable() else None


def _project(value: object) -> str | None:
    if value is None or value == "":
        return None
    if not isinstance(value, str) or len(value) > 200 or not value.isprintable():
        raise BadRequest("projectId must be a short printable string.", code="invalid_project_id")
    return value


async def _same_files(store: Store, user_id: str, files: dict[str, bytes]) -> Generation | None:
    """The user's newest generation whose files (its latest revision's) are exactly
    ``files``, or None. Only those of the same count and size are read."""
    total = sum(len(content) for content in files.values())
    for generation in await store.list_generations(user_id):
        if generation.file_count != len(files) or generation.total_bytes != total:
            continue
        if await store.generation_files(generation.id) == files:
            return generation
    return None


@blueprint.post("/api/generations")
async def upload_generation() -> tuple[Response, int]:
    state = services()
    user = state.user()
    project_id, files = await _read_upload()
    assert state.store is not None
    if request.args.get("existing") == "reuse":
        # Asked by `preview push`: the same folder pushed again is the generation it
        # already made (200, `existing: true`), not a copy; the user is told to send
        # changes with `preview watch` instead.
        same = await _same_files(state.store, user.id, files)
        if same is not None:
            listing = sorted((path, len(content)) for path, content in files.items())
            return jsonify(_describe(same, listing) | {"existing": True}), 200
    generation = Generation(
        id="gen_" + secrets.token_hex(8),
        user_id=user.id,
        project_id=project_id,
        created_at=utcnow(),
        file_count=len(files),
        total_bytes=sum(len(content) for content in files.values()),
    )
    limit = state.settings.user_storage_mb
    await check_storage(state.store, limit, user.id, generation.total_bytes)
    await state.store.add_generation(generation, files)
    listing = sorted((path, len(content)) for path, content in files.items())
    await record_action(
        state,
        user,
        "upload",
        owner=user.id,
        generation_id=generation.id,
        projectId=project_id,
        files=generation.file_count,
        bytes=generation.total_bytes,
    )
    return jsonify(_describe(generation, listing)), 201


@blueprint.get("/api/generations")
async def list_generations() -> Response:
    state = services()
    user = state.user()
    assert state.store is not None
    generations = await state.store.list_generations(user.id)
    listed = []
    for generation in generations:
        data = _describe(generation)
        data.update(await _last_launch(generation.id))
        listed.append(data)
    return jsonify({"generations": listed})


async def _last_launch(gid: str) -> dict[str, Any]:
    """``status``, ``lastLaunchAt`` and ``previewInstanceId`` of the generation's latest
    preview (None if never): a client knows whether there is one to ask about."""
    state = services()
    assert state.supervisor is not None and state.store is not None
    runtime = state.supervisor.for_generation(gid)
    if runtime is not None:
        at, status, pid = runtime.spec.created_at, runtime.status, runtime.id
    elif (row := await state.store.latest_preview(gid)) is not None:
        at, status, pid = row.created_at, row.status, row.id
    else:
        return {"status": None, "lastLaunchAt": None, "previewInstanceId": None}
    return {"status": status, "lastLaunchAt": isoformat(at), "previewInstanceId": pid}


@blueprint.get("/api/generations/<gid>")
async def show_generation(gid: str) -> Response:
    state = services()
    access = await generation_access(gid, state.user())
    generation = access.generation
    if not access.owner:  # a shared user: its name and state, not its source's files
        shared = {"access": access.role, "owner": generation.user_id}
        return jsonify(_describe(generation) | await _last_launch(gid) | shared)
    assert state.store is not None
    files = await state.store.generation_file_list(gid)
    return jsonify(_describe(generation, files) | await _last_launch(gid) | {"access": "owner"})


@blueprint.get("/api/generations/<gid>/files/<path:path>")
async def show_file(gid: str, path: str) -> Response:
    """One file's text, for the UI's read-only viewer (``binary`` and no text otherwise)."""
    state = services()
    await owned_generation(gid, state.user())
    assert state.store is not None
    content = (await state.store.generation_files(gid)).get(path)
    if content is None:
        raise NotFound(
            f"No file {path!r} in this generation.",
            code="file_not_found",
            details={"generationId": gid, "path": path},
        )
    try:
        text: str | None = content.decode("utf-8")
    except UnicodeDecodeError:
        text = None
    return jsonify({"path": path, "size": len(content), "binary": text is None, "text": text})


@blueprint.patch("/api/generations/<gid>")
async def rename_generation(gid: str) -> Response:
    """A new name (stored as its projectId); ``null`` or "" goes back to the id."""
    state = services()
    user = state.user()
    generation = await owned_generation(gid, user)
    body = await json_body()
    if "name" not in body:
        raise BadRequest("Send {name}.", code="missing_name")
    name = _project(body["name"].strip() if isinstance(body["name"], str) else body["name"])
    assert state.store is not None
    try:
        await state.store.rename_generation(gid, name)
    except GenerationGone:  # deleted meanwhile: renaming it answered 200
        raise generation_not_found(gid) from None
    generation.project_id = name
    state.forget_generation(gid)
    await record_action(
        state, user, "rename", owner=generation.user_id, generation_id=gid, projectId=name
    )
    return jsonify(_describe(generation))


@blueprint.delete("/api/generations/<gid>")
async def delete_generation(gid: str) -> Response:
    """Stop its preview (if one runs), then remove its files, previews and their logs."""
    state = services()
    user = state.user()
    generation = await owned_generation(gid, user)
    assert state.supervisor is not None and state.store is not None
    # From here no launch of it is admitted: one admitted before is the runtime found
    # next, stopped; one admitted after could start a preview its rows' delete would
    # leave running without them (one admitted once it is gone: GenerationGone, 404).
    deleting = state.supervisor.deleting
    first = gid not in deleting  # a second delete at once: the first one's mark
    deleting.add(gid)
    try:
        await _stop_and_delete(state, gid)
    finally:
        if first:
            deleting.discard(gid)
    if state.snapshots is not None:  # its rows went with it; their files now
        await state.snapshots.remove_generation(gid)
    state.discovery_cache.discard(f"source:{gid}")
    state.discovery_cache.discard(f"docs:{gid}")
    await record_action(state, user, "delete", owner=generation.user_id, generation_id=gid)
    return jsonify({"status": "deleted", "generationId": gid})


async def _stop_and_delete(state: Services, gid: str) -> None:
    assert state.supervisor is not None and state.store is not None
    runtime = state.supervisor.for_generation(gid)
    if runtime is not None:
        runtime.request_stop("the generation is being deleted")
        with trio.move_on_after(state.settings.stop_grace + _DELETE_STOP_MARGIN):
            await runtime.finished.wait()
        if not runtime.finished.is_set():
            raise Conflict(
                "Its preview is still stopping; try again in a moment.",
                code="preview_still_stopping",
                details={"generationId": gid, "previewInstanceId": runtime.id},
                retry_after=_RETRY_STILL_STOPPING,
            )
    await state.store.delete_generation(gid)
    state.forget_generation(gid)
    state.supervisor.failed_launch(gid, forget=True)


_GENERATION_ID = re.compile(r"[A-Za-z0-9_-]{1,40}")
_MAX_AUDIT_PAGE = 500


@blueprint.get("/api/audit")
async def audit_trail() -> Response:
    """The actions taken on the caller's generations and their previews, newest first:
    ``generation`` (one of them), ``limit`` (1-500, 100), ``before`` (an id: the next
    page). The owner's alone: nobody else's entries are ever listed, but to an operator
    (a token with the ``admin`` claim) asking for ``all=true`` (everyone's) or ``owner=ID``
    (one user's)."""
    state = services()
    user = state.user()
    args = request.args
    generation = args.get("generation") or None
    if generation is not None and not _GENERATION_ID.fullmatch(generation):
        raise BadRequest("generation must be a generation's id.", code="invalid_generation")
    owner: str | None = user.id
    if args.get("all") is not None or args.get("owner") is not None:
        if not user.admin:
            raise Forbidden(
                "Only an operator (a token with the admin claim) sees other users' audit trail.",
                code="admin_required",
            )
        if args.get("all") not in (None, "true", "1"):
            raise BadRequest("all is true or absent.", code="invalid_all")
        owner = args.get("owner") or None
        if owner is not None and not valid_subject(owner):
            raise BadRequest("owner must be a user's id.", code="invalid_owner")
    limit = _whole(args.get("limit"), 100, _MAX_AUDIT_PAGE, "limit")
    before = _whole(args.get("before"), 0, 2**62, "before") or None
    assert state.store is not None
    rows = await state.store.run_sync(
        partial(list_audit, generation_id=generation, before=before, limit=limit),
        state.store.engine,
        owner,
    )
    more = len(rows) > limit
    rows = rows[:limit]
    return jsonify(
        {
            "entries": [
                {
                    "id": row["id"],
                    "at": isoformat(row["at"]),
                    "owner": row["owner_id"],
                    "actor": row["actor_id"],
                    "action": row["action"],
                    "generationId": row["generation_id"],
                    "previewId": row["preview_id"],
                    "details": row["details"],
                    "source": row["source"],
                }
                for row in rows
            ],
            "hasMore": more,
            "nextBefore": rows[-1]["id"] if more else None,
        }
    )


def _whole(raw: str | None, default: int, high: int, name: str) -> int:
    if raw is None or raw == "":
        return default
    if not raw.isdigit() or not 1 <= int(raw) <= high:
        raise BadRequest(
            f"{name} must be a whole number from 1 to {high}.",
            code=f"invalid_{name}",
            details={name: raw[:40]},
        )
    return int(raw)


@blueprint.get("/api/session")
async def current_session() -> Response:
    """Who the caller is (by the cookie, or a bearer token): the UI asks at start."""
    user = services().user()
    return jsonify({"userId": user.id, "tier": user.tier})


@blueprint.post("/api/session")
async def open_session() -> Response:
    """Exchange a bearer token for an HttpOnly session cookie (or renew the cookie with
    itself), which every route accepts where no other site can have sent it
    (``auth.cookie_may_authenticate``); a session never outlives the token it was
    opened with."""
    state = services()
    user = state.user()
    token, lifetime = state.authenticator.session_token(user)
    response = jsonify({"userId": user.id, "tier": user.tier, "expiresIn": lifetime})
    secure = request.scheme == "https"
    response.set_cookie(
        session_cookie_name(request.scheme),
        token,
        max_age=lifetime,
        httponly=True,
        samesite="Strict",
        secure=secure,
        # Same-site pages (any port of this host, or a sibling subdomain of the same
        # site) send it with their EventSource; a host mounting us under a prefix too.
        # Over HTTPS Path=/, which its __Host- name requires.
        path="/" if secure else f"{request.root_path}/api",
    )
    return response


@blueprint.delete("/api/session")
async def close_session() -> Response:
    response = jsonify({"status": "signed_out"})
    if request.scheme == "https":
        response.delete_cookie(SECURE_SESSION_COOKIE, path="/", secure=True, httponly=True)
    else:
        response.delete_cookie(SESSION_COOKIE, path=f"{request.root_path}/api")
    return response
