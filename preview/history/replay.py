"""Kept requests sent again to a running preview, each answer compared with the kept one:
:func:`replay`.

One at a time, oldest first (a ``POST`` before the ``GET`` that reads what it made),
each as the app first received it: its method, path and query, body and headers, less
what was masked (credentials are never kept, so never sent again: the call's ``headers``
option adds those it needs; a body's masked fields go as ``[masked]``; the new answer's
body is masked as a kept one is before it is compared) and less ``Host`` (the target's
own). Each goes through the same policy as a proxied call (``proxy.policy``: forwarding
headers, the proxy's timeout and response limit), is a ``proxy`` line in the target's
log like any call, and is kept in the request history as a replay (``way: "replay"``,
``replayOf``: the id it replays), so it is never taken for a request of the user's and
``all`` never replays a replay. A request whose body was cut at
PREVIEW_CAPTURE_BODY_BYTES is not sent (it would not be the same request): its result
says ``skipped``.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

import httpx
import trio

from ..errors import PreviewError
from ..proxy import Forwarded, new_request_id, request_headers, translate_upstream_error
from ..services import CallOutcome, ProxiedCall, Services
from .capture import BodySample
from .compare import VolatilePaths, compare_answers
from .har import body_json
from .masking import MASK, mask_body, mask_headers

if TYPE_CHECKING:
    from ..runtime import PreviewRuntime

__all__ = ["MAX_REPLAYED", "replay"]

MAX_REPLAYED = 200  # requests one call replays
_SHOWN_BODY = 16384  # characters of each body a result shows (the UI's side by side)


def _outgoing_headers(row: dict[str, Any], given_headers: dict[str, str]) -> list[tuple[str, str]]:
    kept = [
        (name, value)
        for name, value in json.loads(row["request_headers"])
        if MASK not in value
        and name.lower() not in ("host", "content-length")
        and name.lower() not in {key.lower() for key in given_headers}
    ]
    return kept + list(given_headers.items())


def _shown(body: bytes | None, size: int) -> dict[str, Any] | None:
    shown = body_json(body, size)
    if shown is not None and shown["text"] is not None and len(shown["text"]) > _SHOWN_BODY:
        shown["text"] = shown["text"][:_SHOWN_BODY]
        shown["truncated"] = True
    return shown


async def _send(
    state: Services, runtime: PreviewRuntime, row: dict[str, Any], given_headers: dict[str, str]
) -> dict[str, Any]:
    settings = state.settings
    assert state.http is not None
    path, _, query = row["path"].partition("?")
    forwarded = Forwarded("", "http", "", new_request_id())
    headers = request_headers(_outgoing_headers(row, given_headers), forwarded)
    body = row["request_body"]
    outgoing = state.http.build_request(
        row["method"],
        runtime.upstream.url(path, query),
        headers=headers,
        content=body,
        timeout=settings.proxy_timeout,
        extensions=runtime.upstream.extensions,
    )
    _, recorder = state.calls.start(runtime, body)
    whole = BodySample(settings.capture_body_bytes)
    began = trio.current_time()
    status: int | None = None
    answer_headers: list[list[str]] = []
    error: str | None = None
    elapsed = 0.0
    try:
        response = await state.http.send(outgoing, stream=True)
        try:
            elapsed = (trio.current_time() - began) * 1000
            status, answer_headers = response.status_code, mask_headers(response.headers.raw)
            async for chunk in recorder.capture.answering(response.aiter_raw()):
                whole.add(chunk)
                if whole.size > settings.proxy_max_response_bytes:
                    break
        finally:
            await response.aclose()
    except httpx.HTTPError as failure:
        translated = translate_upstream_error(failure, settings.proxy_timeout)
        error = translated.code if isinstance(translated, PreviewError) else type(failure).__name__
        elapsed = (trio.current_time() - began) * 1000
    call = ProxiedCall(
        "replay",
        row["method"],
        row["path"],
        _outgoing_headers(row, given_headers),
        forwarded.request_id,
        began,
        replay_of=row["id"],
    )
    raw_headers = response.headers.raw if status is not None else None
    event_id = await recorder.complete(call, CallOutcome(status, raw_headers, elapsed, error))
    kept, size = whole.kept(), whole.size
    if status is not None:  # shown and compared as the kept answer is: credentials masked
        kept, size = mask_body(kept, size, response.headers.raw)
    return {
        "status": status,
        "headers": answer_headers,
        "kept": kept,
        "size": size,
        "error": error,
        "elapsedMs": round(elapsed, 2),
        "requestId": forwarded.request_id,
        "eventId": event_id,
        "previewId": runtime.id,
    }


async def replay(
    state: Services,
    runtime: PreviewRuntime,
    rows: list[dict[str, Any]],
    given_headers: dict[str, str],
    marked: VolatilePaths | None = None,
) -> list[dict[str, Any]]:
    """Replay ``rows`` (whole, oldest first) against ``runtime``; a result each, its
    comparison ignoring what differs at the ``marked`` paths."""
    results = []
    for row in rows:
        kept = row["response_body"] or b""
        before = {
            "status": row["status"],
            "headers": json.loads(row["response_headers"]),
            "body": _shown(row["response_body"], row["response_size"]),
            "elapsedMs": row["elapsed_ms"],
        }
        result: dict[str, Any] = {
            "id": row["id"],
            "method": row["method"],
            "path": row["path"],
            "before": before,
        }
        if row["request_size"] > len(row["request_body"] or b""):
            results.append(result | {"skipped": "request_body_cut", "same": None})
            continue
        sent = await _send(state, runtime, row, given_headers)
        after = {
            "status": sent["status"],
            "headers": sent["headers"],
            "body": _shown(sent["kept"], sent["size"]),
            "elapsedMs": sent["elapsedMs"],
            "error": sent["error"],
            "requestId": sent["requestId"],
            "eventId": sent["eventId"],
            "previewId": sent["previewId"],
        }
        comparison = compare_answers(
            row["method"],
            row["path"],
            (row["status"], before["headers"], kept, len(kept) == row["response_size"]),
            (sent["status"], sent["headers"], sent["kept"], len(sent["kept"]) == sent["size"]),
            marked,
        )
        results.append(result | {"after": after, "same": comparison.pop("same")} | comparison)
    return results
