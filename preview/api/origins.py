"""A preview's own origin, seen from the API: its URL, and one-time tickets that open it
in a browser (``proxy.origin_router`` serves the origin itself)."""

from __future__ import annotations

from datetime import timedelta

from quart import Blueprint, Response, jsonify, request

from ..clock import isoformat, utcnow
from ..errors import BadRequest
from ..previewtokens import hash_preview_token
from ..proxy import validate_path
from ..proxy.access import authorised_runtime
from ..services import ENTER_PATH, Services, services
from ..services.callers import json_body

__all__ = ["app_origin_url", "blueprint"]

blueprint = Blueprint("origins", __name__, url_prefix="/api/generations/<gid>/preview")


def app_origin_url(state: Services, preview_id: str) -> str:
    """The origin of a preview as the public sees it, for this API request."""
    return state.origins.url(preview_id, scheme=request.scheme, host=request.host)


@blueprint.post("/ticket")
async def ticket(gid: str) -> Response:
    """A one-time URL that opens the running preview's origin in a browser, signed in.

    Body (optional): ``{"path": "/docs"}``, where the browser lands (default ``/``).
    Needs the owner and the preview token (``X-Preview-Token``, or ``previewToken`` in the
    body), as every call to the app does.
    """
    state = services()
    user = state.user()
    body = await json_body(required=False)
    path = body.get("path", "/")
    if not isinstance(path, str) or len(path) > 2048:
        raise BadRequest("path must be a URL path starting with '/'.", code="invalid_path")
    path = validate_path(path)
    body_token = body.get("previewToken")
    token = request.headers.get("X-Preview-Token") or (
        body_token if isinstance(body_token, str) else None
    )
    runtime = await authorised_runtime(state, gid, user, token)
    assert token is not None  # authorised_runtime refuses a call without one
    value, lifetime = state.origins.issue_ticket(
        runtime.id, user.id, hash_preview_token(token), path
    )
    origin = app_origin_url(state, runtime.id)
    return jsonify(
        {
            "previewInstanceId": runtime.id,
            "origin": origin,
            "url": f"{origin}{ENTER_PATH}?ticket={value}",
            "expiresAt": isoformat(utcnow() + timedelta(seconds=lifetime)),
        }
    )
