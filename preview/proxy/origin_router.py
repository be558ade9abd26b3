"""Each running preview at an origin of its own, routed by ``Host`` in front of everything.

A request whose ``Host`` is ``<label>.<PREVIEW_APP_DOMAIN>`` (``proxy.AppOrigins``; any
case, any port, with or without the trailing dot of DNS's absolute form) is a
call to that preview's app, whatever its path: it goes to the app with the path as sent
(no prefix, no ``--root-path`` needed), through the same ``forward_call`` /
``proxy_websocket`` as the path proxy, so it is logged, counted as activity and limited
the same way. Nothing of the service's API is served on such a host, nor on any other
name under the previews' domain (404).

Auth at an origin is its session cookie, host-only and HttpOnly, obtained by following a
one-time ticket URL the API issues (``POST …/preview/ticket``, for the owner with the
preview token): ``GET /__preview/enter?ticket=…`` sets it and redirects to the wanted path
without the ticket. Every other header and cookie is the app's own, ``Host`` and
``Authorization`` included.

The other way round, a request to the service that a preview's page sent (its ``Origin``
is an app origin) is refused: under a production wildcard domain the API's cookies may be
same-site with the previews, and a preview's script must not use them.
"""

from __future__ import annotations

import urllib.parse
from datetime import timedelta
from typing import TYPE_CHECKING, Any

import trio
from werkzeug.http import dump_cookie

from ..clock import utcnow
from ..errors import (
    BadRequest,
    Forbidden,
    NotFound,
    PreviewError,
    Unauthorized,
    Unavailable,
    error_response,
)
from ..runtime import proxy_prefix
from ..services import (
    APP_SESSION_COOKIES,
    ENTER_PATH,
    AppOrigins,
    OriginSession,
    Services,
    Ticket,
    origin_label,
    preview_id_of_label,
)
from ..services.callers import AsgiCaller
from .fast_path import answer_error, asgi_forwarded, forward_call
from .policy import validate_path
from .websocket import proxy_websocket

if TYPE_CHECKING:
    from ..previewtokens import PreviewToken
    from ..runtime import PreviewRuntime

__all__ = ["OriginRouter"]

_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})
# What of a browser's WebSocket handshake reaches the app (trio-websocket sets Host).
_WS_HEADERS = frozenset({"user-agent", "origin", "accept-language", "cookie", "authorization"})


class OriginRouter:
    """ASGI middleware in front of the whole app (see the module doc)."""

    def __init__(self, app: Any, state: Services) -> None:
        self._app = app
        self._state = state

    async def __call__(self, scope: dict, receive: Any, send: Any) -> None:
        if scope["type"] in ("http", "websocket"):
            hosts: list[bytes] = []
            origin = b""
            for name, value in scope["headers"]:
                if name == b"host":
                    hosts.append(value)
                elif name == b"origin":
                    origin = value
            if len(hosts) > 1:
                # RFC 9112 §3.2: a 400. This router and Quart would each read another.
                await _refuse(
                    scope, receive, send, BadRequest("Send one Host header.", code="invalid_host")
                )
                return
            origins = self._state.origins
            host = hosts[0].decode("latin-1") if hosts else ""
            if host and origins.is_app_host(host):
                label = origins.label_of_host(host)
                if label is None:  # below a preview's origin, or no label at all
                    await _refuse(scope, receive, send, _no_preview_here())
                    return
                await self._serve_origin(scope, receive, send, label)
                return
            if origin and origins.is_app_origin(origin.decode("latin-1")):
                await _refuse(
                    scope,
                    receive,
                    send,
                    Forbidden(
                        "The service does not answer calls made by a preview's page.",
                        code="cross_origin_refused",
                    ),
                )
                return
        await self._app(scope, receive, send)

    async def _serve_origin(self, scope: dict, receive: Any, send: Any, label: str) -> None:
        state = self._state
        try:
            runtime = _preview_at(state, label)
            if scope["type"] == "http" and scope["path"] == ENTER_PATH:
                await _enter(state.origins, scope, send, runtime)
                return
            caller = AsgiCaller(scope)
            _check_session(state.origins, runtime, caller.cookies.getlist)
            if runtime.status != "running":
                raise Unavailable(
                    "The preview is not running.",
                    code="preview_not_running",
                    details={"status": runtime.status},
                )
            child_path = _child_path(runtime, scope)
            if scope["type"] == "http" and scope["method"] not in _METHODS:
                raise BadRequest(
                    f"The method {scope['method']} is not proxied.", code="invalid_method"
                )
        except PreviewError as error:
            await _refuse(scope, receive, send, error)
            return
        query = scope["query_string"].decode("latin-1")
        forwarded = asgi_forwarded(
            scope,
            caller.named.get("host", ""),
            proto=state.origins.public_scheme(scope["scheme"]),
        )
        if scope["type"] == "http":
            await forward_call(
                state,
                runtime,
                scope,
                caller,
                child_path,
                query,
                forwarded,
                receive,
                send,
                app_origin=True,
            )
            return
        await receive()  # websocket.connect
        headers = [(name, value) for name, value in caller.headers if name.lower() in _WS_HEADERS]
        with trio.CancelScope() as gone:
            try:
                await proxy_websocket(
                    state,
                    runtime,
                    child_path,
                    query,
                    headers,
                    list(scope.get("subprotocols", [])),
                    forwarded,
                    _AsgiWebSocket(receive, send, gone),
                    app_origin=True,
                )
            except PreviewError as error:  # the app did not open it: not accepted yet
                await _reject_handshake(scope, send, error)


def _preview_at(state: Services, label: str) -> PreviewRuntime:
    runtime = state.supervisor.get(preview_id_of_label(label)) if state.supervisor else None
    if runtime is None or origin_label(runtime.id) != label:
        raise _no_preview_here()
    return runtime


def _no_preview_here() -> NotFound:
    return NotFound("No preview is served at this address.", code="preview_not_found")


def _check_session(origins: AppOrigins, runtime: PreviewRuntime, cookies: Any) -> None:
    """The caller's origin cookie must be this preview's, opened with its current token."""
    values = [value for name in APP_SESSION_COOKIES for value in cookies(name)]
    session = origins.read_session(values)
    if session is None:
        raise Unauthorized(
            "Open this preview from the service (its Open app link signs you in here).",
            code="origin_sign_in_required",
        )
    if session.preview_id != runtime.id or session.user_id != runtime.spec.user_id:
        raise Forbidden("This session is not for this preview.", code="wrong_preview_session")
    _check_token_still(origins, runtime, session)


def _check_token_still(
    origins: AppOrigins, runtime: PreviewRuntime, opened: OriginSession | Ticket
) -> PreviewToken:
    """The live preview token this session or ticket was opened with (403: none is)."""
    for token in runtime.spec.tokens.listed(utcnow()):
        if origins.matches_token(opened, token.hash):
            return token
    raise Forbidden(
        "The preview token this was opened with is no longer valid; open the app again.",
        code="preview_token_changed",
    )


def _child_path(runtime: PreviewRuntime, scope: dict) -> str:
    raw = scope.get("raw_path") or scope["path"].encode()
    # An app started with the path proxy's prefix as its root path links under it
    # (its /docs loads <prefix>/openapi.json): at its origin, that is the app's own path.
    prefix = proxy_prefix(runtime.spec.generation_id).encode()
    if raw == prefix or raw.startswith(prefix + b"/"):
        raw = raw[len(prefix) :] or b"/"
    return validate_path(raw.decode("latin-1"))


async def _enter(origins: AppOrigins, scope: dict, send: Any, runtime: PreviewRuntime) -> None:
    """Trade a ticket for the origin's session cookie, and go where the ticket says."""
    if scope["method"] not in ("GET", "HEAD"):
        raise BadRequest("Open this link with GET.", code="invalid_method")
    pairs = urllib.parse.parse_qsl(scope["query_string"].decode("latin-1"))
    value = next((value for name, value in pairs if name == "ticket"), "")
    ticket = origins.redeem_ticket(value) if value else None
    if ticket is None:
        raise Unauthorized(
            "This link was used already or has expired; open the app again from the service.",
            code="invalid_ticket",
        )
    if ticket.preview_id != runtime.id:
        raise Forbidden("This link opens another preview.", code="wrong_preview_ticket")
    token = _check_token_still(origins, runtime, ticket)
    await _send_entered(origins, scope, send, token, ticket)


async def _send_entered(
    origins: AppOrigins, scope: dict, send: Any, token: PreviewToken, ticket: Ticket
) -> None:
    scheme = origins.public_scheme(scope["scheme"])
    lifetime = min(timedelta(seconds=origins.session_timeout), token.expires_at - utcnow())
    cookie = dump_cookie(
        origins.cookie_name(scheme),
        origins.session_cookie(ticket),
        max_age=max(int(lifetime.total_seconds()), 0),
        path="/",  # no domain: host-only, this preview's origin alone
        secure=scheme == "https",
        httponly=True,
        # Lax, not Strict: the tab opening the app comes from the service's site, and
        # a Strict cookie would stay unsent on the first page after this redirect.
        samesite="Lax",
    )
    headers = [
        (b"location", ticket.path.encode("latin-1")),
        (b"set-cookie", cookie.encode("latin-1")),
        (b"cache-control", b"no-store"),
        (b"referrer-policy", b"no-referrer"),
        (b"content-length", b"0"),
    ]
    await send({"type": "http.response.start", "status": 303, "headers": headers})
    await send({"type": "http.response.body", "body": b"", "more_body": False})


async def _refuse(scope: dict, receive: Any, send: Any, error: PreviewError) -> None:
    """The error JSON, for an HTTP call or (when the server can) a WebSocket handshake."""
    if scope["type"] == "http":
        await answer_error(send, error)
        return
    await receive()  # websocket.connect
    await _reject_handshake(scope, send, error)


async def _reject_handshake(scope: dict, send: Any, error: PreviewError) -> None:
    """Answer a WebSocket handshake (its connect received) with the error JSON."""
    if "websocket.http.response" not in scope.get("extensions", {}):
        await send({"type": "websocket.close", "code": 1011 if error.status_code >= 500 else 1008})
        return
    status, headers, body = error_response(error)
    await send(
        {
            "type": "websocket.http.response.start",
            "status": status,
            "headers": [(name.lower().encode(), value.encode()) for name, value in headers],
        }
    )
    await send({"type": "websocket.http.response.body", "body": body})


class _AsgiWebSocket:
    """An ASGI WebSocket with the methods of Quart's ``websocket`` that
    ``proxy_websocket`` uses; the caller leaving cancels ``gone``, as Quart does."""

    def __init__(self, receive: Any, send: Any, gone: trio.CancelScope) -> None:
        self._receive = receive
        self._send = send
        self._gone = gone

    async def accept(self, *, subprotocol: str | None = None) -> None:
        await self._send({"type": "websocket.accept", "subprotocol": subprotocol})

    async def receive(self) -> str | bytes:
        while True:
            message = await self._receive()
            if message["type"] == "websocket.receive":
                text = message.get("text")
                return text if text is not None else message.get("bytes") or b""
            if message["type"] == "websocket.disconnect":
                self._gone.cancel()
                await trio.sleep_forever()

    async def send(self, data: str | bytes) -> None:
        key = "text" if isinstance(data, str) else "bytes"
        await self._send({"type": "websocket.send", key: data})

    async def close(self, code: int, reason: str = "") -> None:
        await self._send({"type": "websocket.close", "code": code, "reason": reason})
