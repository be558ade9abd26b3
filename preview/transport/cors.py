"""CORS for a frontend on another origin: one ASGI middleware around everything.

It wraps the whole app, fast paths included, so every ``/api`` answer (the Quart
routes, the stream and proxy fast paths, errors) gets the same headers. Only the exact
origins of ``PREVIEW_CORS_ORIGINS`` are allowed, always with credentials (our session
cookie, or the host's own): ``Access-Control-Allow-Origin: <origin>``,
``Access-Control-Allow-Credentials: true``, and ``Vary: Origin`` on every ``/api``
answer since it depends on the origin. A preflight from an allowed origin is answered
here (204); any other goes on to the app, which gives no CORS headers, so the browser
refuses.

The SSE fast path writes its body below Hypercorn's ASGI ``send`` and needs that very
``send``: :func:`unwrap_send` gives it back with the headers to add itself.
"""

from __future__ import annotations

from typing import Any

__all__ = ["CorsMiddleware", "CorsSend", "unwrap_send"]

_METHODS = b"GET, POST, PUT, PATCH, DELETE, OPTIONS"
_HEADERS = b"Authorization, Content-Type, Last-Event-ID, X-Preview-Token, X-Preview-CSRF"
# Response headers a cross-origin script may read besides the CORS-safelisted ones.
_EXPOSED = b"Retry-After, Content-Disposition, X-Preview-Instance-Id, X-Request-Id"
_MAX_AGE = b"600"
_OURS = frozenset(
    {
        b"access-control-allow-origin",
        b"access-control-allow-credentials",
        b"access-control-expose-headers",
    }
)


class CorsSend:
    """An ASGI ``send`` that adds ``headers`` to the response's start."""

    __slots__ = ("headers", "inner")

    def __init__(self, inner: Any, headers: list[tuple[bytes, bytes]]) -> None:
        self.inner = inner
        self.headers = headers

    async def __call__(self, message: dict) -> None:
        if message["type"] == "http.response.start":
            message = {**message, "headers": with_cors(message.get("headers", ()), self.headers)}
        await self.inner(message)


def with_cors(headers: Any, cors: list[tuple[bytes, bytes]]) -> list[tuple[bytes, bytes]]:
    """``headers`` with ours: a proxied app's own CORS headers give way (the service's
    policy is the one the browser must see, once)."""
    return [(k, v) for k, v in headers if k.lower() not in _OURS] + cors


def unwrap_send(send: Any) -> tuple[Any, list[tuple[bytes, bytes]]]:
    """The server's own ``send`` and the CORS headers its response must carry."""
    if type(send) is CorsSend:
        return send.inner, send.headers
    return send, []


class CorsMiddleware:
    """ASGI middleware (see the module doc); ``origins`` empty: a plain pass-through."""

    def __init__(self, app: Any, origins: frozenset[str]) -> None:
        self._app = app
        self._origins = origins

    async def __call__(self, scope: dict, receive: Any, send: Any) -> None:
        path = scope.get("path", "") if scope["type"] == "http" else ""
        if not self._origins or not (path == "/api" or path.startswith("/api/")):
            await self._app(scope, receive, send)
            return
        origin = _header(scope, b"origin")  # kept only if it is one allowed
        if origin is not None and origin.decode("latin-1") not in self._origins:
            origin = None
        if (
            origin is not None
            and scope["method"] == "OPTIONS"
            and _header(scope, b"access-control-request-method") is not None
        ):
            await _preflight(send, origin)
            return
        cors = [(b"vary", b"Origin")]
        if origin is not None:
            cors += _allow(origin)
        await self._app(scope, receive, CorsSend(send, cors))


def _header(scope: dict, name: bytes) -> bytes | None:
    for key, value in scope["headers"]:
        if key.lower() == name:
            return value
    return None


def _allow(origin: bytes) -> list[tuple[bytes, bytes]]:
    return [
        (b"access-control-allow-origin", origin),
        (b"access-control-allow-credentials", b"true"),
        (b"access-control-expose-headers", _EXPOSED),
    ]


async def _preflight(send: Any, origin: bytes) -> None:
    headers = [
        *_allow(origin),
        (b"access-control-allow-methods", _METHODS),
        (b"access-control-allow-headers", _HEADERS),
        (b"access-control-max-age", _MAX_AGE),
        (b"vary", b"Origin"),
        (b"content-length", b"0"),
    ]
    await send({"type": "http.response.start", "status": 204, "headers": headers})
    await send({"type": "http.response.body", "body": b"", "more_body": False})
