"""``/api/generations`` (upload, list, show) and ``/api/session`` (cookie for browsers)."""

from __future__ import annotations

import secrets
from typing import Any

import trio
from quart import Blueprint, Response, jsonify, request

from ..app import services
from ..auth import SESSION_COOKIE
from ..clock import isoformat, utcnow
from ..errors import BadRequest
from ..store import Generation
from ..uploads import UploadLimits, files_from_archive, files_from_json
from .common import owned_generation

__all__ = ["blueprint"]

blueprint = Blueprint("generations", __name__)

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
        "createdAt": isoformat(generation.created_at),
        "fileCount": generation.file_count,
        "totalBytes": generation.total_bytes,
    }
    if files is not None:
        data["files"] = [{"path": path, "size": size} for path, size in files]
    return data


async def _read_upload() -> tuple[str | None, dict[str, bytes]]:
    limits = UploadLimits.from_settings(services().settings)
    mimetype = request.mimetype
    if mimetype == "application/json":
        body = await request.get_json(force=True, silent=True)
        if not isinstance(body, dict):
            raise BadRequest("The body must be a JSON object.", code="invalid_json")
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
        return _project(form.get("projectId")), files
    if mimetype in _ARCHIVE_TYPES:
        data = await request.get_data()
        files = await trio.to_thread.run_sync(
            lambda: files_from_archive(data, limits, content_type=mimetype)
        )
        return _project(request.args.get("projectId")), files
    raise BadRequest(
        "Send JSON {projectId, files} or a zip / tar.gz archive.",
        code="unsupported_media_type",
        details={"contentType": mimetype},
    )


def _project(value: object) -> str | None:
    if value is None or value == "":
        return None
    if not isinstance(value, str) or len(value) > 200 or not value.isprintable():
        raise BadRequest("projectId must be a short printable string.", code="invalid_project_id")
    return value


@blueprint.post("/api/generations")
async def upload_generation() -> tuple[Response, int]:
    state = services()
    user = state.user()
    project_id, files = await _read_upload()
    generation = Generation(
        id="gen_" + secrets.token_hex(8),
        user_id=user.id,
        project_id=project_id,
        created_at=utcnow(),
        file_count=len(files),
        total_bytes=sum(len(content) for content in files.values()),
    )
    assert state.store is not None
    await state.store.add_generation(generation, files)
    listing = sorted((path, len(content)) for path, content in files.items())
    return jsonify(_describe(generation, listing)), 201


@blueprint.get("/api/generations")
async def list_generations() -> Response:
    state = services()
    user = state.user()
    assert state.store is not None
    generations = await state.store.list_generations(user.id)
    return jsonify({"generations": [_describe(g) for g in generations]})


@blueprint.get("/api/generations/<gid>")
async def show_generation(gid: str) -> Response:
    state = services()
    generation = await owned_generation(gid, state.user())
    assert state.store is not None
    files = await state.store.generation_file_list(gid)
    return jsonify(_describe(generation, files))


@blueprint.post("/api/session")
async def open_session() -> Response:
    """Exchange a bearer token for an HttpOnly cookie the read-only streams accept."""
    state = services()
    user = state.user()
    token, lifetime = state.authenticator.session_token(user)
    response = jsonify({"userId": user.id, "tier": user.tier, "expiresIn": lifetime})
    response.set_cookie(
        SESSION_COOKIE,
        token,
        max_age=lifetime,
        httponly=True,
        samesite="Strict",
        secure=request.scheme == "https",
        path="/api",
    )
    return response


@blueprint.delete("/api/session")
async def close_session() -> Response:
    response = jsonify({"status": "signed_out"})
    response.delete_cookie(SESSION_COOKIE, path="/api")
    return response
