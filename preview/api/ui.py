"""The web UI: ``/`` (the page) and ``/static/<path>`` (its ES modules, CSS and icon); the
API's description (``openapi.py``) at ``/api/openapi.json`` and its docs page, ``/api/docs``
(Swagger UI, its files from the ``swagger-ui-py`` package under ``/static/swagger-ui/``).

The files live in the package (``preview/static``), are written by hand and need no
build step; nothing is fetched from elsewhere at run time. The page is sent with a
strict Content-Security-Policy: scripts, styles and connections only from this origin,
no inline script or style, no framing. Everything is sent with ``Cache-Control:
no-cache`` and an ETag, so an upgraded service is picked up at the next load.
"""

from __future__ import annotations

import hashlib
import importlib
from pathlib import Path

import trio
from quart import Blueprint, Response, jsonify, request
from werkzeug.security import safe_join

from ..errors import NotFound

__all__ = ["CONTENT_SECURITY_POLICY", "STATIC_DIR", "blueprint", "send_static"]

blueprint = Blueprint("ui", __name__)

STATIC_DIR = Path(__file__).resolve().parent.parent / "static"

CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'; "
    "object-src 'none'"
)
# Explicit, because Python's mimetypes table varies by version and platform (an ES
# module must be served as JavaScript or the browser refuses to run it).
_TYPES = {
    ".html": "text/html; charset=utf-8",
    ".js": "text/javascript; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".svg": "image/svg+xml",
    ".png": "image/png",
    ".ico": "image/x-icon",
    ".json": "application/json",
}


def _not_found(name: str) -> NotFound:
    return NotFound(f"No static file {name!r}.", code="not_found", details={"path": name[:200]})


async def send_static(name: str) -> Response:
    """A file of ``preview/static`` with its type, ETag and, for a page, the CSP."""
    joined = safe_join(str(STATIC_DIR), name)  # None for "..", absolute paths and the like
    suffix = Path(name).suffix.lower()
    if joined is None or suffix not in _TYPES:
        raise _not_found(name)
    try:
        content = await trio.Path(joined).read_bytes()
    except (FileNotFoundError, IsADirectoryError, NotADirectoryError):
        raise _not_found(name) from None
    etag = hashlib.sha256(content).hexdigest()[:32]
    headers = {
        "Content-Type": _TYPES[suffix],
        "Cache-Control": "no-cache",
        "X-Content-Type-Options": "nosniff",
        "ETag": f'"{etag}"',
    }
    if suffix == ".html":
        headers["Content-Security-Policy"] = CONTENT_SECURITY_POLICY
        headers["Referrer-Policy"] = "no-referrer"  # the sign-in URL carries a token
        headers["X-Frame-Options"] = "DENY"
    if etag in request.headers.get("If-None-Match", ""):
        return Response(b"", status=304, headers=headers)
    return Response(content, status=200, headers=headers)


@blueprint.get("/")
async def index() -> Response:
    return await send_static("index.html")


@blueprint.get("/static/<path:name>")
async def static_file(name: str) -> Response:
    return await send_static(name)


def _swagger_dir() -> Path:
    import swagger_ui  # the package's files only: its handlers are not used

    return Path(swagger_ui.__file__).resolve().parent / "static"


_SWAGGER_FILES = {
    "swagger-ui.css": "text/css; charset=utf-8",
    "swagger-ui-bundle.js": "text/javascript; charset=utf-8",
}
# The page's own policy, but Swagger UI sets style attributes.
_DOCS_POLICY = CONTENT_SECURITY_POLICY.replace(
    "style-src 'self'", "style-src 'self' 'unsafe-inline'"
)


@blueprint.get("/api/openapi.json")
async def document() -> Response:
    # The table (openapi.py, ~0.5 MiB) is imported at the first request, in a worker
    # thread: an idle service does not hold it, and its import does not stall the loop.
    await trio.to_thread.run_sync(importlib.import_module, "preview.api.openapi")
    from .openapi import openapi_document  # (imported: no import here)

    return jsonify(openapi_document())


@blueprint.get("/api/docs")
async def docs_page() -> Response:
    response = await send_static("docs.html")
    response.headers["Content-Security-Policy"] = _DOCS_POLICY
    return response


@blueprint.get("/static/swagger-ui/<name>")
async def swagger_file(name: str) -> Response:
    """Swagger UI's own files, as the swagger-ui-py package ships them."""
    if name not in _SWAGGER_FILES:
        raise NotFound(f"No static file {name!r}.", code="not_found", details={"path": name[:200]})
    content = await trio.Path(_swagger_dir() / name).read_bytes()
    headers = {
        "Content-Type": _SWAGGER_FILES[name],
        "Cache-Control": "max-age=86400",
        "X-Content-Type-Options": "nosniff",
    }
    return Response(content, headers=headers)
