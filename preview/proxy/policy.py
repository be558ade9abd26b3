"""Forwarding calls to a preview: what crosses and where it goes.

The upstream is always ``http://127.0.0.1:<the preview's port>``: URLs are built from
fixed parts plus a validated path and query, so nothing a user sends (path, query,
headers) can change the scheme, host or port contacted. Headers of the service
(``Authorization``, its cookies, ``X-Preview-Token``) and hop-by-hop headers never reach
the child (at a preview's own origin, ``Host`` and ``Authorization`` are the app's);
``X-Forwarded-*`` and ``X-Request-ID`` are added. How a call fails (502, 504) is
``failures``'.
"""

from __future__ import annotations

import base64
import json
import re
import secrets
import urllib.parse
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any, Protocol

import httpx

from ..auth import SECURE_SESSION_COOKIE, SESSION_COOKIE
from ..errors import BadGateway, BadRequest, TooLarge
from ..services.origins import APP_SESSION_COOKIES

__all__ = [
    "CLUSTER_CLIENT_HEADER",
    "CLUSTER_SCHEME_HEADER",
    "CLUSTER_SECRET_HEADER",
    "PREVIEW_TOKEN_COOKIE",
    "SERVICE_COOKIES",
    "BrowserOrigin",
    "EnvelopeRequest",
    "Forwarded",
    "body_too_large",
    "caller_headers",
    "new_request_id",
    "parse_envelope",
    "read_envelope_response",
    "request_headers",
    "response_headers",
    "response_too_large",
    "validate_path",
]

PREVIEW_TOKEN_COOKIE = "preview_token"
_HOP_BY_HOP = frozenset(
    {
        "connection",
        "keep-alive",
        "proxy-authenticate",
        "proxy-authorization",
        "te",
        "trailer",
        "trailers",
        "transfer-encoding",
        "upgrade",
        "proxy-connection",
    }
)
# A cluster node's own headers on a call it forwards to the node that runs the preview
# (``cluster.forwarding``, ``hot.onward``): the cluster's secret and the caller's address
# and scheme, vouched for by it. The owner takes them off; they never reach an app.
CLUSTER_SECRET_HEADER = "x-preview-cluster-secret"
CLUSTER_CLIENT_HEADER = "x-preview-cluster-client"
CLUSTER_SCHEME_HEADER = "x-preview-cluster-scheme"
_NEVER_FORWARDED = frozenset(
    {
        CLUSTER_SECRET_HEADER,
        CLUSTER_CLIENT_HEADER,
        CLUSTER_SCHEME_HEADER,
        "remote-addr",  # Quart's own (the peer's address), never the caller's
        "authorization",
        "x-preview-token",
        "host",
        "content-length",
        "forwarded",
        "x-forwarded-for",
        "x-forwarded-proto",
        "x-forwarded-host",
        "x-request-id",
    }
)
SERVICE_COOKIES = frozenset(
    {SESSION_COOKIE, SECURE_SESSION_COOKIE, PREVIEW_TOKEN_COOKIE, *APP_SESSION_COOKIES}
)
# At a preview's own origin the service's credential is only ever its cookie: the Host
# the browser used and an Authorization header are the app's, and cross.
_APP_OWN = frozenset({"authorization", "host"})
_STAMPED_BY_SERVER = frozenset({"date", "server"})
_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})
_TOKEN = re.compile(r"[!#$%&'*+\-.^_`|~0-9A-Za-z]+")  # fullmatch: "$" lets a "\n" end it
_BAD_VALUE = re.compile(r"[\x00-\x08\x0a-\x1f\x7f]")
# What an envelope header value may hold: visible ASCII, spaces and tabs. Anything past
# ASCII has no one encoding on the wire (httpx sends ASCII only; as Latin-1, U+0085 is a
# control and U+2028 is not there at all), so it is refused, not guessed.
_ENVELOPE_VALUE = re.compile(r"[\t\x20-\x7e]*")
_PATH_SAFE = "/:@!$&'()*+,;=-._~%"
_TEXT_TYPES = ("text/", "application/xml", "application/javascript", "application/x-www-form")


@dataclass(frozen=True)
class Forwarded:
    """Who called, for the ``X-Forwarded-*`` headers."""

    client_ip: str
    proto: str
    host: str
    request_id: str


def new_request_id() -> str:
    return "req_" + secrets.token_hex(8)


_MAX_PATH = 8192


def validate_path(path: object) -> str:
    """An origin-form path (``/a/b``), percent-encoded; 400 for anything else."""
    if not isinstance(path, str) or not path.startswith("/") or path.startswith("//"):
        raise BadRequest(
            "path must be a string starting with a single '/'.",
            code="invalid_path",
            details={"path": str(path)[:200]},
        )
    if len(path) > _MAX_PATH:  # said as such: it was "characters that are not allowed"
        raise BadRequest(
            f"path is longer than {_MAX_PATH} characters.",
            code="invalid_path",
            details={"path": path[:200], "limit": _MAX_PATH},
        )
    if _BAD_VALUE.search(path) or "\\" in path or "\t" in path:
        raise BadRequest(
            "path contains characters that are not allowed.",
            code="invalid_path",
            details={"path": path[:200]},
        )
    path = path.split("#", 1)[0]
    return urllib.parse.quote(path, safe=_PATH_SAFE + "?")


def _connection_named(headers: Iterable[tuple[str, str]]) -> set[str]:
    named: set[str] = set()
    for name, value in headers:
        if name.lower() == "connection":
            named.update(part.strip().lower() for part in value.split(","))
    return named


def _without_service_cookies(value: str) -> str:
    kept = []
    for part in value.split(";"):
        name = part.split("=", 1)[0].strip()
        if name and name not in SERVICE_COOKIES:
            kept.append(part.strip())
    return "; ".join(kept)


def request_headers(
    incoming: Iterable[tuple[str, str]], forwarded: Forwarded, *, app_origin: bool = False
) -> list[tuple[bytes, bytes]]:
    """Headers for the child: the caller's, minus ours and hop-by-hop, plus forwarding.

    ``app_origin``: the call came to the preview's own origin, where ``Host`` and
    ``Authorization`` are the app's (see ``_APP_OWN``). As bytes: the caller's headers
    are the bytes it sent, read as Latin-1 (ASGI's, Werkzeug's), and go on as they came;
    httpx would encode a str as ASCII and fail (a 500) on any byte past it.
    """
    headers = caller_headers(incoming, app_origin=app_origin)
    headers += [
        ("X-Forwarded-For", forwarded.client_ip),
        ("X-Forwarded-Proto", forwarded.proto),
        ("X-Forwarded-Host", forwarded.host),
        ("X-Request-ID", forwarded.request_id),
    ]
    return [(name.encode("latin-1"), value.encode("latin-1")) for name, value in headers]


def caller_headers(
    incoming: Iterable[tuple[str, str]], *, app_origin: bool = False
) -> list[tuple[str, str]]:
    """What of the caller's headers goes on to the child (:func:`request_headers`
    without the forwarding ones that follow them)."""
    incoming = list(incoming)
    dropped = _HOP_BY_HOP | _NEVER_FORWARDED | _connection_named(incoming)
    if app_origin:
        dropped -= _APP_OWN
    headers: list[tuple[str, str]] = []
    for name, value in incoming:
        lower = name.lower()
        if lower in dropped:
            continue
        if lower == "cookie":
            value = _without_service_cookies(value)
            if not value:
                continue
        headers.append((name, value))
    return headers


class BrowserOrigin(Protocol):
    """Where a browser sees the app's answer (``browser.ApiOrigin``, ``browser.AppOrigin``):
    what of its headers it may see there."""

    def headers(self, items: list[tuple[str, str]]) -> list[tuple[str, str]]: ...


def response_headers(
    upstream: httpx.Headers,
    *,
    relayed: bool = False,
    as_sent: bool = False,
    browser_origin: BrowserOrigin | None = None,
) -> list[tuple[str, str]]:
    """The child's response headers minus hop-by-hop ones (and those named in Connection).

    ``relayed``: for a response our server sends on, which stamps its own Date and
    Server; the child's would make them appear twice. ``as_sent``: each value is the
    child's bytes read as Latin-1, for an ASGI ``send`` that encodes them so (the fast
    paths): httpx's reading (ASCII, else UTF-8) would not encode back past U+00FF.
    ``browser_origin``: the origin a browser sees it at (None: the envelope's JSON, where
    headers are data).
    """
    if as_sent:
        items = [(name.decode("latin-1"), value.decode("latin-1")) for name, value in upstream.raw]
    else:
        items = upstream.multi_items()
    dropped = _HOP_BY_HOP | _connection_named(items)
    if relayed:
        dropped |= _STAMPED_BY_SERVER
    kept = [(name, value) for name, value in items if name.lower() not in dropped]
    return browser_origin.headers(kept) if browser_origin is not None else kept


@dataclass
class EnvelopeRequest:
    method: str
    path: str
    query: str
    headers: list[tuple[str, str]]
    body: bytes | None
    preview_token: str | None


def _query_string(query: object) -> str:
    if query is None or query == "":
        return ""
    if isinstance(query, str):
        if _BAD_VALUE.search(query) or " " in query or "#" in query:
            raise BadRequest(
                "query contains characters that are not allowed.", code="invalid_query"
            )
        return urllib.parse.quote(query.removeprefix("?"), safe="=&+%-._~!$'()*,;:@/?")
    if not isinstance(query, dict):
        raise BadRequest("query must be an object or a string.", code="invalid_query")
    pairs: list[tuple[str, str]] = []
    for key, value in query.items():
        values = value if isinstance(value, list) else [value]
        for item in values:
            if isinstance(item, bool):
                item = "true" if item else "false"
            elif item is None:
                item = ""
            elif not isinstance(item, (str, int, float)):
                raise BadRequest(
                    f"query value of {key!r} must be a scalar or a list.", code="invalid_query"
                )
            pairs.append((str(key), str(item)))
    return urllib.parse.urlencode(pairs)


def _envelope_headers(headers: object) -> tuple[list[tuple[str, str]], str | None]:
    if headers is None:
        return [], None
    if not isinstance(headers, dict):
        raise BadRequest("headers must be an object of strings.", code="invalid_header")
    result: list[tuple[str, str]] = []
    token = None
    for name, value in headers.items():
        if not isinstance(value, (str, int, float)) or isinstance(value, bool):
            raise BadRequest(f"header {name!r} must have a string value.", code="invalid_header")
        value = str(value)
        if not _TOKEN.fullmatch(name) or len(name) > 256:
            raise BadRequest(
                "A header name contains characters that are not allowed.",
                code="invalid_header",
                details={"header": name[:100]},
            )
        if not _ENVELOPE_VALUE.fullmatch(value) or len(value) > 16384:
            raise BadRequest(
                f"The value of header {name!r} may hold only visible ASCII characters,"
                " spaces and tabs.",
                code="invalid_header",
                details={"header": name},
            )
        if name.lower() == "x-preview-token":
            token = value
        else:
            result.append((name, value))
    return result, token


def parse_envelope(data: dict[str, Any], *, max_body: int) -> EnvelopeRequest:
    """Validate ``{method, path, query, headers, body}``; 400 / 413 on anything off."""
    method = data.get("method", "GET")
    if not isinstance(method, str) or method.upper() not in _METHODS:
        raise BadRequest(
            f"method must be one of {', '.join(sorted(_METHODS))}.",
            code="invalid_method",
            details={"method": str(method)[:20]},
        )
    path = validate_path(data.get("path"))
    query = _query_string(data.get("query"))
    if "?" in path:
        path, inline = path.split("?", 1)
        query = "&".join(part for part in (inline, query) if part)
    headers, token = _envelope_headers(data.get("headers"))
    body_value = data.get("body")
    names = {name.lower() for name, _ in headers}
    body: bytes | None = None
    if data.get("bodyEncoding") == "base64" and isinstance(body_value, str):
        try:
            body = base64.b64decode(body_value, validate=True)
        except ValueError:
            raise BadRequest("body is not valid base64.", code="invalid_body") from None
    elif isinstance(body_value, str):
        body = body_value.encode()
        if "content-type" not in names:
            headers.append(("Content-Type", "text/plain; charset=utf-8"))
    elif body_value is not None:
        body = json.dumps(body_value).encode()
        if "content-type" not in names:
            headers.append(("Content-Type", "application/json"))
    if body is not None and len(body) > max_body:
        raise body_too_large(max_body)
    return EnvelopeRequest(method.upper(), path, query, headers, body, token)


async def read_envelope_response(
    response: httpx.Response, *, max_bytes: int, sample: Any = None
) -> dict[str, Any]:
    """Read the body (bounded) and shape ``{statusCode, headers, data}``; the bytes
    also go to ``sample`` (the request history's ``BodySample``) if given."""
    chunks: list[bytes] = []
    size = 0
    async for chunk in response.aiter_bytes():
        if sample is not None:
            sample.add(chunk)
        size += len(chunk)
        if size > max_bytes:
            raise response_too_large(max_bytes)
        chunks.append(chunk)
    content = b"".join(chunks)
    headers: dict[str, Any] = {}
    # ``data`` is the body decoded (aiter_bytes undoes a Content-Encoding): the headers
    # that describe the encoded bytes would not be true of it.
    encoded = "content-encoding" in response.headers
    for name, value in response_headers(response.headers):
        key = name.lower()
        if encoded and key in ("content-encoding", "content-length"):
            continue
        if key == "set-cookie":
            headers.setdefault(key, []).append(value)
        else:
            headers[key] = f"{headers[key]}, {value}" if key in headers else value
    content_type = response.headers.get("content-type", "").lower()
    result: dict[str, Any] = {"statusCode": response.status_code, "headers": headers}
    data, is_binary = _shape_body(content, content_type, response.encoding)
    result["data"] = data
    if is_binary:
        result["dataEncoding"] = "base64"
    return result


def _shape_body(content: bytes, content_type: str, encoding: str | None) -> tuple[Any, bool]:
    """(data, base64?): parsed JSON, else text when declared or valid UTF-8, else base64."""
    if "json" in content_type and content:
        try:
            return json.loads(content), False
        except (ValueError, RecursionError):  # nested past the decoder's limit: text
            pass
    if not content:
        return None, False
    if (
        content_type.startswith(_TEXT_TYPES)
        or "charset=" in content_type
        or "json" in (content_type)
    ):
        return content.decode(encoding or "utf-8", errors="replace"), False
    if not content_type:
        try:
            return content.decode("utf-8"), False
        except UnicodeDecodeError:
            pass
    return base64.b64encode(content).decode("ascii"), True


def response_too_large(limit: int) -> BadGateway:
    message = "The preview's response is over the proxy's limit."
    return BadGateway(message, code="response_too_large", details={"limit": limit})


def body_too_large(limit: int) -> TooLarge:
    return TooLarge(
        "The request body is over the proxy's limit.",
        code="request_body_too_large",
        details={"limit": limit},
    )
