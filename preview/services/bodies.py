"""Request bodies the API reads whole: bounded as they arrive, and parsed as JSON in one
place, by the Quart routes and the ASGI fast paths alike.

Two mistakes this module exists to keep from coming back. Quart's ``get_json(silent=True)``
catches ``ValueError`` only, so a deeply nested document (``[[[[…``) raised
``RecursionError`` out of the handler: a 500 for a few bytes any client can send. And a
body that is awaited is capped only by ``MAX_CONTENT_LENGTH`` (the upload limit, 20 MiB),
so a small JSON call (a rename, a launch's options) could make the service buffer
megabytes; each kind of body gets its own limit here, and reading stops there (413).
Quart also takes in a body as it arrives, whether or not the route reads it yet: while a
route awaits something first (its generation's owner, from the store), a body arrived up
to Quart's cap, 20 MiB for a rename. :func:`bounded_request_class` gives each request its
route's limit from the start, so Quart keeps no more than that.
"""

from __future__ import annotations

import json
import re
from typing import Any

import trio
from quart import request
from quart_trio.wrappers.request import TrioRequest
from werkzeug.exceptions import RequestEntityTooLarge

from ..errors import BadRequest, TooLarge, body_stalled
from ..generations import MAX_DEPTH, nests_deeper
from ..settings import Settings

__all__ = [
    "JSON_BODY_LIMIT",
    "body_limit",
    "bounded_request_class",
    "envelope_limit",
    "json_object",
    "parse_json_object",
    "read_body",
    "too_large",
]

JSON_BODY_LIMIT = 64 * 1024  # options, a name, a path: far above any real call
_ENVELOPE_OVERHEAD = 64 * 1024  # method, path, query and headers around the body
_INLINE_PARSE = 64 * 1024  # larger documents are parsed off the event loop


def envelope_limit(settings: Settings) -> int:
    """The largest ``POST …/preview/request`` body: the largest body it may carry,
    base64-encoded (4/3 of its size, the way a binary body comes), and the rest."""
    return -(-settings.proxy_max_body_bytes * 4 // 3) + _ENVELOPE_OVERHEAD


_UPLOADS = re.compile(r"/api/generations(?:/[^/]+/revisions)?")
_ENVELOPE = re.compile(r"/api/generations/[^/]+/preview/request")
_PROXIED = re.compile(r"/api/generations/[^/]+/preview/proxy(?:/.*)?", re.DOTALL)


def body_limit(settings: Settings, path: str) -> int:
    """The most a request to ``path`` may send (its route's): an upload's files, a
    proxied call's body, an envelope, else a JSON call's."""
    if _UPLOADS.fullmatch(path):
        return settings.max_upload_bytes
    if _PROXIED.fullmatch(path):
        return settings.proxy_max_body_bytes
    if _ENVELOPE.fullmatch(path):
        return envelope_limit(settings)
    return JSON_BODY_LIMIT


def bounded_request_class(settings: Settings) -> type[TrioRequest]:
    """Quart's request class, each request's body bounded by its route's limit
    (:func:`body_limit`) as it arrives: past it, Quart keeps nothing more."""

    class BoundedRequest(TrioRequest):
        def __init__(self, method: str, scheme: str, path: str, *args: Any, **kwargs: Any):
            kwargs["max_content_length"] = body_limit(settings, path)
            super().__init__(method, scheme, path, *args, **kwargs)

    return BoundedRequest


def too_large(limit: int) -> TooLarge:
    # Werkzeug's name for it, which a Content-Length over MAX_CONTENT_LENGTH also gets.
    return TooLarge(
        f"The request body is larger than {limit} bytes.",
        code="request_entity_too_large",
        details={"limit": limit},
    )


def parse_json_object(raw: bytes) -> dict[str, Any]:
    """``raw`` as a JSON object; 400 ``invalid_json`` for anything else.

    ``RecursionError`` is bad input like any other: the decoder recurses once per level
    of nesting, so ``[`` repeated a thousand times is enough. And how deep it gets
    depends on the stack it runs on: a large body is parsed in a thread, whose stack is
    shallow, so a document nested just under the decoder's limit there broke the next
    recursive walk over it on the request's own, deeper stack (the envelope encodes its
    ``body`` again: an empty 500). A body nesting deeper than ``MAX_DEPTH`` is refused
    wherever it is parsed, as JSON others wrote is (``generations.loads_bounded``).
    """
    try:
        data = json.loads(raw, object_pairs_hook=_unique_keys)
    except (ValueError, RecursionError):  # UnicodeDecodeError is a ValueError
        raise BadRequest("The body is not valid JSON.", code="invalid_json") from None
    if nests_deeper(data, MAX_DEPTH):
        raise BadRequest(
            f"The body nests arrays and objects more than {MAX_DEPTH} levels deep.",
            code="invalid_json",
            details={"maxDepth": MAX_DEPTH},
        )
    if not isinstance(data, dict):
        raise BadRequest("The body must be a JSON object.", code="invalid_json")
    return data


def _unique_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    """An object whose keys are each named once: a key named twice (an upload's file
    listed twice) is refused, where the decoder kept the last and said nothing."""
    found = dict(pairs)
    if len(found) != len(pairs):
        seen: set[str] = set()
        for key, _ in pairs:
            if key in seen:
                shown = key if len(key) <= 200 else key[:200] + "…"
                raise BadRequest(
                    f"The body names {shown!r} twice in one object.",
                    code="invalid_json",
                    details={"key": shown},
                )
            seen.add(key)
    return found


async def json_object(raw: bytes) -> dict[str, Any]:
    """:func:`parse_json_object`, in a thread for a document large enough to stall the
    event loop (an upload of many megabytes takes a good part of a second)."""
    if len(raw) <= _INLINE_PARSE:
        return parse_json_object(raw)
    return await trio.to_thread.run_sync(parse_json_object, raw)


async def read_body(limit: int, each_read_s: float) -> bytes:
    """The current request's whole body, refused (413) as soon as it passes ``limit``,
    and (408) once none of it came for ``each_read_s``: a caller that stopped sending
    held its connection for ever (Quart's ``BODY_TIMEOUT`` bounds only an awaited body).

    Read here with the count kept rather than awaited: Quart caps an awaited body only
    at ``MAX_CONTENT_LENGTH``, and an iterated one (how its form parser reads multipart)
    not at all, so a chunked body was read whole (or for ever, unterminated) before
    anything looked at its size. The 413 closes the connection (``errors``), so nothing
    more of the body is read. The complete body is put back for Quart's own parsers.
    """
    if request.content_length is not None and request.content_length > limit:
        raise too_large(limit)
    received = bytearray()
    try:
        chunks = request.body.__aiter__()
        while True:
            with trio.move_on_after(each_read_s) as waited:
                try:
                    chunk = await chunks.__anext__()
                except StopAsyncIteration:
                    break
            if waited.cancelled_caught:
                raise body_stalled(each_read_s)
            received += chunk
            if len(received) > limit:
                raise too_large(limit)
    except RequestEntityTooLarge:  # past the route's limit before it read (above)
        raise too_large(limit) from None
    data = bytes(received)
    complete = request.body_class(len(data), None)
    complete.set_result(data)
    request.body = complete
    return data
