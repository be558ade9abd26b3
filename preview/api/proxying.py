"""Calling the running app through the service: the JSON envelope, and a transparent
HTTP / WebSocket reverse proxy under ``/api/generations/{gid}/preview/proxy/``."""

from __future__ import annotations

import urllib.parse
from collections.abc import AsyncIterator, Iterable
from typing import Any

import httpx
import trio
import trio_websocket
from quart import Blueprint, Response, jsonify, redirect, request, websocket

from ..app import Services, services
from ..auth import User, preview_token_matches
from ..clock import utcnow
from ..errors import Forbidden, PreviewError, Unavailable
from ..proxy import (
    PREVIEW_TOKEN_COOKIE,
    EnvelopeRequest,
    Forwarded,
    body_too_large,
    new_request_id,
    parse_envelope,
    read_envelope_response,
    request_headers,
    response_headers,
    translate_upstream_error,
    upstream_url,
    validate_path,
)
from ..runtime import PreviewRuntime
from ..supervisor import proxy_prefix
from .common import json_body, owned_generation

__all__ = [
    "authorised_envelope",
    "authorised_target",
    "blueprint",
    "call_envelope",
    "open_upstream",
]

blueprint = Blueprint("proxying", __name__, url_prefix="/api/generations/<gid>/preview")
_METHODS = ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"]
_WS_HEADERS = ("user-agent", "origin", "accept-language")


def _running(state: Services, gid: str) -> PreviewRuntime:
    assert state.supervisor is not None
    runtime = state.supervisor.for_generation(gid)
    if runtime is None or runtime.status != "running":
        raise Unavailable(
            "The preview is not running.",
            code="preview_not_running",
            details={"status": runtime.status if runtime else None},
        )
    return runtime


def _check_token(runtime: PreviewRuntime, token: str | None) -> None:
    if not token:
        raise Forbidden("Send the preview token (X-Preview-Token).", code="missing_preview_token")
    if not preview_token_matches(token, runtime.spec.token_hash):
        raise Forbidden(
            "The preview token is not valid for this preview.", code="invalid_preview_token"
        )
    if runtime.spec.token_expires_at and utcnow() > runtime.spec.token_expires_at:
        raise Forbidden("The preview token has expired.", code="preview_token_expired")


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
    await owned_generation(gid, state.user())
    runtime, call = authorised_envelope(
        state, gid, await json_body(), request.headers.get("X-Preview-Token")
    )
    return jsonify(await call_envelope(state, runtime, call, _forwarded(request)))


def authorised_envelope(
    state: Services, gid: str, data: dict[str, Any], header_token: str | None
) -> tuple[PreviewRuntime, EnvelopeRequest]:
    """The envelope call of an owner's request body, and the running preview it goes to
    once its preview token is checked."""
    call = parse_envelope(data, max_body=state.settings.proxy_max_body_bytes)
    runtime = _running(state, gid)
    _check_token(runtime, header_token or call.preview_token)
    return runtime, call


async def call_envelope(
    state: Services, runtime: PreviewRuntime, call: EnvelopeRequest, forwarded: Forwarded
) -> dict[str, Any]:
    """Make the call and shape the app's answer; recorded in the preview's log either
    way. httpx's errors become 502 / 504 here."""
    settings = state.settings
    assert state.http is not None
    outgoing = state.http.build_request(
        call.method,
        upstream_url(runtime.spec.port, call.path, call.query),
        headers=request_headers(call.headers, forwarded),
        content=call.body,
        timeout=settings.proxy_timeout,
    )
    shown_path = call.path + (f"?{call.query}" if call.query else "")
    began = trio.current_time()
    try:
        upstream = await state.http.send(outgoing, stream=True)
        try:
            result = await read_envelope_response(
                upstream, max_bytes=settings.proxy_max_response_bytes
            )
        finally:
            await upstream.aclose()
    except (httpx.HTTPError, PreviewError) as error:
        elapsed = (trio.current_time() - began) * 1000
        await runtime.record_proxy_call(
            call.method, shown_path, None, elapsed, forwarded.request_id, type(error).__name__
        )
        if isinstance(error, httpx.HTTPError):
            raise translate_upstream_error(error, settings.proxy_timeout) from None
        raise
    elapsed = (trio.current_time() - began) * 1000
    await runtime.record_proxy_call(
        call.method, shown_path, result["statusCode"], elapsed, forwarded.request_id
    )
    result["elapsedMs"] = round(elapsed, 2)
    result["requestId"] = forwarded.request_id
    return result


def _split_target(gid: str, raw_path: bytes, query_string: bytes) -> tuple[str, str, str | None]:
    """(path for the child, query without our token, the token from the query if any)."""
    prefix = proxy_prefix(gid).encode()
    rest = raw_path[len(prefix) :] if raw_path.startswith(prefix) else b"/"
    path = validate_path(rest.decode("latin-1") or "/")
    pairs = urllib.parse.parse_qsl(query_string.decode("latin-1"), keep_blank_values=True)
    token = next((value for name, value in pairs if name == "previewToken"), None)
    if token is None:
        return path, query_string.decode("latin-1"), None
    kept = [(name, value) for name, value in pairs if name != "previewToken"]
    return path, urllib.parse.urlencode(kept), token


async def authorised_target(
    state: Services,
    gid: str,
    user: User,
    raw_path: bytes,
    query_string: bytes,
    header_token: str | None,
    cookie_token: str | None,
) -> tuple[PreviewRuntime, str, str, str | None]:
    """Check the owner and the preview token of a proxied call; where it goes.

    Returns the runtime, the child's path, the query without our token, and the token
    if it came in the query (to be traded for a cookie).
    """
    await owned_generation(gid, user, state)
    runtime = _running(state, gid)
    child_path, query, query_token = _split_target(gid, raw_path, query_string)
    _check_token(runtime, header_token or query_token or cookie_token)
    return runtime, child_path, query, query_token


async def _authorised(
    state: Services, gid: str, source: Any
) -> tuple[PreviewRuntime, str, str, str | None]:
    """:func:`authorised_target` for Quart's request or WebSocket."""
    return await authorised_target(
        state,
        gid,
        state.user(allow_cookie=True),
        source.scope.get("raw_path") or source.path.encode(),
        source.query_string,
        source.headers.get("X-Preview-Token"),
        source.cookies.get(PREVIEW_TOKEN_COOKIE),
    )


def _token_cookie(response: Response, gid: str, token: str, runtime: PreviewRuntime) -> None:
    lifetime = None
    if runtime.spec.token_expires_at:
        lifetime = max(int((runtime.spec.token_expires_at - utcnow()).total_seconds()), 0)
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
    async for chunk in request.body:
        size += len(chunk)
        if size > limit:
            raise body_too_large(limit)
        yield chunk


@blueprint.route("/proxy", defaults={"path": ""}, methods=_METHODS, provide_automatic_options=False)
@blueprint.route("/proxy/<path:path>", methods=_METHODS, provide_automatic_options=False)
async def transparent(gid: str, path: str) -> Response:
    """Forward any call to the app and stream its answer back as it comes."""
    state = services()
    runtime, child_path, query, query_token = await _authorised(state, gid, request)
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
    upstream = await open_upstream(
        state, runtime, request.method, child_path, query, request.headers.items(), content,
        forwarded,
    )  # fmt: skip

    async def body() -> AsyncIterator[bytes]:
        try:
            async for chunk in upstream.aiter_raw():
                yield chunk
        finally:
            with trio.CancelScope(shield=True), trio.move_on_after(2):
                await upstream.aclose()

    response = Response(
        body(),
        status=upstream.status_code,
        headers=response_headers(upstream.headers, relayed=True),
    )
    response.headers["X-Request-ID"] = forwarded.request_id
    response.timeout = None
    return response


async def open_upstream(
    state: Services,
    runtime: PreviewRuntime,
    method: str,
    child_path: str,
    query: str,
    headers: Iterable[tuple[str, str]],
    content: AsyncIterator[bytes] | None,
    forwarded: Forwarded,
) -> httpx.Response:
    """Send a transparent call to the child; its response with the body still to read.

    The call is recorded in the preview's log, answered or not; httpx's errors become
    502 / 504 here. The caller closes the response.
    """
    settings = state.settings
    assert state.http is not None
    outgoing = state.http.build_request(
        method,
        upstream_url(runtime.spec.port, child_path, query),
        headers=request_headers(headers, forwarded),
        content=content,
        timeout=settings.proxy_timeout,
    )
    began = trio.current_time()
    shown_path = child_path + (f"?{query}" if query else "")
    try:
        upstream = await state.http.send(outgoing, stream=True)
    except httpx.HTTPError as error:
        elapsed = (trio.current_time() - began) * 1000
        await runtime.record_proxy_call(
            method, shown_path, None, elapsed, forwarded.request_id, type(error).__name__
        )
        raise translate_upstream_error(error, settings.proxy_timeout) from None
    try:
        elapsed = (trio.current_time() - began) * 1000
        await runtime.record_proxy_call(
            method, shown_path, upstream.status_code, elapsed, forwarded.request_id
        )
    except BaseException:
        with trio.CancelScope(shield=True), trio.move_on_after(2):
            await upstream.aclose()
        raise
    return upstream


@blueprint.websocket("/proxy", defaults={"path": ""})
@blueprint.websocket("/proxy/<path:path>")
async def transparent_websocket(gid: str, path: str) -> Response | None:
    """Proxy a WebSocket to the app, both directions, close codes passed through."""
    state = services()
    runtime, child_path, query, _ = await _authorised(state, gid, websocket)
    forwarded = _forwarded(websocket)
    headers = [
        (name, value) for name, value in websocket.headers.items() if name.lower() in _WS_HEADERS
    ]
    headers += request_headers([], forwarded)
    target = f"ws://127.0.0.1:{runtime.spec.port}{child_path}" + (f"?{query}" if query else "")
    began = trio.current_time()
    try:
        async with trio_websocket.open_websocket_url(
            target,
            subprotocols=websocket.requested_subprotocols,
            extra_headers=[(name.encode(), value.encode()) for name, value in headers],
            connect_timeout=state.settings.proxy_timeout,
        ) as upstream:
            await runtime.record_proxy_call(
                "WS", child_path, 101, (trio.current_time() - began) * 1000, forwarded.request_id
            )
            await websocket.accept(subprotocol=upstream.subprotocol)
            await _pump(upstream)
    except (trio_websocket.HandshakeError, OSError, trio.TooSlowError) as error:
        await runtime.record_proxy_call(
            "WS",
            child_path,
            None,
            (trio.current_time() - began) * 1000,
            forwarded.request_id,
            type(error).__name__,
        )
        await websocket.close(1011, "the preview refused the WebSocket")
    return None


async def _pump(upstream: trio_websocket.WebSocketConnection) -> None:
    async def to_client() -> None:
        try:
            while True:
                await websocket.send(await upstream.get_message())
        except trio_websocket.ConnectionClosed as closed:
            reason = closed.reason
            code = reason.code if reason and reason.code not in (1005, 1006) else 1000
            await websocket.close(code, (reason.reason or "") if reason else "")
            nursery.cancel_scope.cancel()

    async with trio.open_nursery() as nursery:
        nursery.start_soon(to_client)
        while True:
            message = await websocket.receive()
            try:
                await upstream.send_message(message)
            except trio_websocket.ConnectionClosed:
                break
