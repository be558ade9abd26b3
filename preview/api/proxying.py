"""Calling the running app through the service: the JSON envelope, and a transparent
HTTP / WebSocket reverse proxy under ``/api/generations/{gid}/preview/proxy/``.

Thin: who may call, the calls themselves and the WebSocket pump are the ``proxy``
package's, shared with its fast path and the previews' own origins.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import TYPE_CHECKING, Any

import trio
from quart import Blueprint, Response, jsonify, redirect, request, websocket
from werkzeug.datastructures import Headers
from werkzeug.exceptions import RequestEntityTooLarge
from werkzeug.wrappers import Response as WerkzeugResponse

from ..auth import User
from ..clock import utcnow
from ..errors import PreviewError
from ..previewtokens import hash_preview_token
from ..proxy import (
    API_ORIGIN_HEADERS,
    PREVIEW_TOKEN_COOKIE,
    ApiOrigin,
    Forwarded,
    authorised_envelope,
    authorised_target,
    body_too_large,
    call_envelope,
    envelope_error_response,
    is_navigation,
    new_request_id,
    open_upstream,
    presented_token,
    proxy_websocket,
    response_headers,
    shared_target,
    ticket_redirect,
)
from ..runtime import proxy_prefix
from ..services import Services, services
from ..services.bodies import envelope_limit
from ..services.callers import generation_access, json_body

if TYPE_CHECKING:
    from ..runtime import PreviewRuntime

__all__ = ["blueprint"]

blueprint = Blueprint("proxying", __name__, url_prefix="/api/generations/<gid>/preview")
_METHODS = ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"]
_WS_HEADERS = ("user-agent", "origin", "accept-language")
_ROUTE: dict[str, Any] = {"methods": _METHODS, "provide_automatic_options": False}


def _forwarded(source) -> Forwarded:
    return Forwarded(
        client_ip=source.remote_addr or "",
        proto=source.scheme,
        host=source.host,
        request_id=new_request_id(),
    )


@blueprint.post("/request")
async def envelope(gid: str) -> Response:
    """``{method, path, query, headers, body}`` → ``{statusCode, headers, data, elapsedMs}``."""
    state = services()
    access = await generation_access(gid, state.user(), "caller")
    body = await json_body(limit=envelope_limit(state.settings))
    try:
        runtime, call = authorised_envelope(
            state, gid, body, request.headers.get("X-Preview-Token"), shared=not access.owner
        )
        result = await call_envelope(state, runtime, call, _forwarded(request))
    except PreviewError as error:
        await _with_last_status(state, gid, error)
        status, headers, body = envelope_error_response(error)
        return Response(body, status=status, headers=Headers(headers))
    return jsonify(result)


async def _authorised(
    state: Services, gid: str, source: Any
) -> tuple[PreviewRuntime, User, str, str, str | None, bool]:
    """:func:`authorised_target` for Quart's request or WebSocket, who called, and
    whether it is a user the generation is shared with (as a caller: no preview token,
    and no page of the app's origin for them)."""
    user = state.user()
    try:
        access = await generation_access(gid, user, "caller")
        if not access.owner:
            raw_path = source.scope.get("raw_path") or source.path.encode()
            runtime, child_path, query = shared_target(state, gid, raw_path, source.query_string)
            return runtime, user, child_path, query, None, True
        runtime, child_path, query, query_token = await authorised_target(
            state,
            gid,
            user,
            source.scope.get("raw_path") or source.path.encode(),
            source.query_string,
            source.headers.get("X-Preview-Token"),
            source.cookies.get(PREVIEW_TOKEN_COOKIE),
        )
    except PreviewError as error:
        await _with_last_status(state, gid, error)
        raise
    return runtime, user, child_path, query, query_token, False


async def _with_last_status(state: Services, gid: str, error: PreviewError) -> None:
    """A 503 ``preview_not_running`` with nothing live says how the last preview ended
    (``details.status``: "failed", "stopped"), whichever way the call came."""
    if error.code == "preview_not_running" and error.details.get("status") is None:
        assert state.store is not None
        row = await state.store.latest_preview(gid)
        error.details["status"] = row.status if row is not None else None


@blueprint.after_request
async def _sandboxed(response: Response) -> Response:
    """Every answer of the path proxy (the app's, a redirect, an error) is data on the
    API's origin: sandboxed, never sniffed, not for other origins (``proxy.browser``)."""
    if (request.endpoint or "").startswith("proxying.transparent"):
        for name, value in API_ORIGIN_HEADERS:
            response.headers[name] = value
    return response


def _token_cookie(
    response: WerkzeugResponse, gid: str, token: str, runtime: PreviewRuntime
) -> None:
    lifetime = None
    live = runtime.spec.tokens.match(token, utcnow())
    if live is not None:  # it is: the call was authorised with it
        lifetime = max(int((live.expires_at - utcnow()).total_seconds()), 0)
    response.set_cookie(
        PREVIEW_TOKEN_COOKIE,
        token,
        max_age=lifetime,
        httponly=True,
        samesite="Strict",
        path=proxy_prefix(gid) + "/",
        secure=request.scheme == "https",
    )


async def _request_body(limit: int) -> AsyncIterator[bytes]:
    size = 0
    try:
        async for chunk in request.body:
            size += len(chunk)
            if size > limit:
                raise body_too_large(limit)
            yield chunk
    except RequestEntityTooLarge:  # past the limit while the route looked it up
        raise body_too_large(limit) from None


# "/proxy/" too: the app's root, where the token-for-cookie redirect sends "/proxy?…".
@blueprint.route("/proxy", defaults={"path": ""}, **_ROUTE)
# "/proxy/" (the app's root, where the token-for-cookie redirect sends "/proxy?…") matches
# neither of the others (an empty <path>): it was a 404 before the token check. An
# endpoint of its own, or Werkzeug redirects between the two rules with the same defaults.
@blueprint.route("/proxy/", defaults={"path": ""}, endpoint="transparent_root", **_ROUTE)
@blueprint.route("/proxy/<path:path>", **_ROUTE)
async def transparent(gid: str, path: str) -> Response | WerkzeugResponse:
    """Forward any call to the app and stream its answer back as it comes."""
    state = services()
    runtime, user, child_path, query, query_token, shared = await _authorised(state, gid, request)
    named = {name.lower(): value for name, value in request.headers.items()}
    if is_navigation(request.method, named) and not shared:
        # No app page on the API's origin: the browser goes to the preview's own.
        presented = presented_token(
            request.headers.get("X-Preview-Token"),
            query_token,
            request.cookies.get(PREVIEW_TOKEN_COOKIE),
        )
        headers = ticket_redirect(
            state,
            runtime,
            user.id,
            hash_preview_token(presented or ""),  # authorised: a token was presented
            child_path,
            query,
            scheme=request.scheme,
            host=request.host,
        )
        return Response(b"", status=303, headers=Headers(headers))
    if query_token is not None and request.method in ("GET", "HEAD"):
        # Trade the token in the URL for a cookie, so it leaves the address bar and logs.
        clean = proxy_prefix(gid) + child_path + (f"?{query}" if query else "")
        response = redirect(clean, 303)
        _token_cookie(response, gid, query_token, runtime)
        return response
    forwarded = _forwarded(request)
    has_body = (
        request.method not in ("GET", "HEAD", "OPTIONS")
        or "content-length" in request.headers
        or "transfer-encoding" in request.headers
    )
    content = _request_body(state.settings.proxy_max_body_bytes) if has_body else None
    content, recorder = state.calls.start(runtime, content)  # recorded once it ends
    upstream = await open_upstream(
        state,
        runtime,
        request.method,
        child_path,
        query,
        list(request.headers.items()),
        content,
        forwarded,
        recorder,
    )

    async def body() -> AsyncIterator[bytes]:
        try:
            async for chunk in recorder.capture.answering(upstream.aiter_raw()):
                yield chunk
            await recorder.complete()  # relayed: kept as its head's event said
        finally:
            with trio.CancelScope(shield=True), trio.move_on_after(2):
                await upstream.aclose()

    browser_origin = ApiOrigin(request.scheme, request.host, proxy_prefix(gid), child_path)
    response = Response(
        body(),
        status=upstream.status_code,
        headers=Headers(
            response_headers(upstream.headers, relayed=True, browser_origin=browser_origin)
        ),
    )
    response.headers["X-Request-ID"] = forwarded.request_id
    response.timeout = None
    return response


@blueprint.websocket("/proxy", defaults={"path": ""})
@blueprint.websocket("/proxy/", defaults={"path": ""}, endpoint="transparent_websocket_root")
@blueprint.websocket("/proxy/<path:path>")
async def transparent_websocket(gid: str, path: str) -> Response | None:
    """Proxy a WebSocket to the app, both directions, close codes passed through."""
    state = services()
    runtime, _, child_path, query, _, _ = await _authorised(state, gid, websocket)
    headers = [
        (name, value) for name, value in websocket.headers.items() if name.lower() in _WS_HEADERS
    ]
    await proxy_websocket(
        state,
        runtime,
        child_path,
        query,
        headers,
        websocket.requested_subprotocols,
        _forwarded(websocket),
        websocket,
    )
    return None
