"""The service's one exception tree, and its mapping to the JSON error shape.

Every error a client can see is a :class:`PreviewError`. Lower layers (SQLAlchemy,
httpx, the OS) are translated into one of these at the boundary where they happen;
``preview.app`` turns any of them into::

    {"status": "failed", "error": "<code>", "message": "<sentence>", "details": {...}}

with the class's HTTP status.
"""

from __future__ import annotations

import json
import math
from typing import Any

__all__ = [
    "BadGateway",
    "BadRequest",
    "Conflict",
    "Forbidden",
    "InsufficientStorage",
    "NotFound",
    "PreviewError",
    "RequestTimeout",
    "StoreError",
    "StoreFull",
    "StoreUnavailable",
    "TimedOut",
    "TooLarge",
    "TooManyRequests",
    "Unauthorized",
    "Unavailable",
    "body_stalled",
    "error_response",
    "head_refused",
    "malformed_request",
    "owner_unreachable",
]


class PreviewError(Exception):
    """Base of every error that reaches a client. ``code`` is snake_case."""

    status_code: int = 500
    default_code: str = "internal_error"
    retry_after: float | None = None  # seconds, sent as Retry-After when set

    def __init__(
        self,
        message: str,
        *,
        code: str | None = None,
        details: dict[str, Any] | None = None,
        retry_after: float | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.code = code or self.default_code
        self.details = details or {}
        if retry_after is not None:
            self.retry_after = retry_after

    def to_json(self) -> dict[str, Any]:
        return {
            "status": "failed",
            "error": self.code,
            "message": self.message,
            "details": self.details,
        }


def error_response(error: PreviewError) -> tuple[int, list[tuple[str, str]], bytes]:
    """Status, headers and body of the response for ``error``, wherever it is sent from
    (Quart's error handler, the ASGI fast paths)."""
    headers = [("Content-Type", "application/json")]
    if error.status_code == 401:
        headers.append(("WWW-Authenticate", 'Bearer realm="preview"'))
    if error.retry_after is not None:
        headers.append(("Retry-After", str(max(1, math.ceil(error.retry_after)))))
    if error.status_code in (408, 413) or error.code == "malformed_request":
        # The body was not read to its end (or where it ends is lost): the connection
        # cannot carry another request.
        headers.append(("Connection", "close"))
    elif error.code == "too_many_streams":
        # Closed at once: a client refused a stream (an EventSource retrying) asks again
        # on a new connection, and a thousand refused ones held a thousand sockets until
        # their keep-alive ran out.
        headers.append(("Connection", "close"))
    body = json.dumps(error.to_json(), separators=(",", ":")).encode()
    return error.status_code, headers, body + b"\n"


class BadRequest(PreviewError):
    status_code = 400
    default_code = "bad_request"


def malformed_request() -> BadRequest:
    """A request that is not HTTP/1.1 (Hypercorn's h11 refusing it, or a body the hot
    path relays chunk by chunk)."""
    return BadRequest(
        "The request is not valid HTTP/1.1 (its request line, a header or the"
        " framing of its body).",
        code="malformed_request",
    )


class _HeadRefused(PreviewError):
    """A request head past a limit (414, 431): its status is the limit's."""

    def __init__(self, status: int, message: str, code: str, limit: int) -> None:
        super().__init__(message, code=code, details={"limit": limit})
        self.status_code = status


def head_refused(status: int, *, line_limit: int, head_limit: int) -> PreviewError:
    """The answer to a request head refused with ``status`` (400, 414 or 431), on
    either path that reads heads (the hot path's, Hypercorn's)."""
    if status == 414:
        return _HeadRefused(
            414, "The request line is too long.", "request_line_too_long", line_limit
        )
    if status == 431:
        message = "The request line and headers are too large."
        return _HeadRefused(431, message, "request_head_too_large", head_limit)
    return malformed_request()


def body_stalled(timeout: float) -> RequestTimeout:
    """A caller that stopped sending its request's body mid-way (nginx's
    ``client_body_timeout``): it held its connection, and one to the app, for ever."""
    return RequestTimeout(
        f"The request's body stopped coming: nothing of it for {timeout:g} s.",
        code="request_body_timeout",
        details={"timeout": timeout},
    )


class Unauthorized(PreviewError):
    status_code = 401
    default_code = "unauthorized"


class Forbidden(PreviewError):
    status_code = 403
    default_code = "forbidden"


class NotFound(PreviewError):
    status_code = 404
    default_code = "not_found"


class Conflict(PreviewError):
    status_code = 409
    default_code = "conflict"


class RequestTimeout(PreviewError):
    status_code = 408
    default_code = "request_timeout"


class TooLarge(PreviewError):
    status_code = 413
    default_code = "too_large"


class TooManyRequests(PreviewError):
    """A per-user bound (streams held open at once) is reached; one ends, and it passes."""

    status_code = 429
    default_code = "too_many_requests"
    retry_after = 5


class BadGateway(PreviewError):
    status_code = 502
    default_code = "bad_gateway"


class Unavailable(PreviewError):
    status_code = 503
    default_code = "unavailable"
    retry_after = 5  # a 503 always says when to try again (capacity, a preview starting)


class TimedOut(PreviewError):
    status_code = 504
    default_code = "timed_out"


class InsufficientStorage(PreviewError):
    status_code = 507
    default_code = "insufficient_storage"


class StoreError(PreviewError):
    """The database could not do its part for a reason of the world (down, busy beyond
    its timeout, out of space), not of the request: the same call may succeed later.
    ``preview.store`` raises only its subclasses, from the driver's error."""


class StoreUnavailable(StoreError, Unavailable):
    default_code = "store_unavailable"
    retry_after = 2.0


class StoreFull(StoreError, InsufficientStorage):
    pass


def owner_unreachable(node: str) -> Unavailable:
    """A cluster node that runs the preview a call is for cannot be reached (the ASGI
    forwarder's and the hot path's answer alike)."""
    return Unavailable(
        "The node that runs this preview cannot be reached; try again shortly.",
        code="owner_unreachable",
        details={"node": node},
    )
