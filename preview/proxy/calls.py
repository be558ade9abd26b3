"""The calls to a running app: the JSON envelope (:func:`call_envelope`, answered by us)
and a transparent call whose answer streams back (:func:`open_upstream`).

Shared by the routes (``api.proxying``), the fast path and the previews' own origins:
each call is recorded (``services.CallRecorder``), answered or not, and httpx's errors
become 502 / 504 here, in one place.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Iterable
from typing import TYPE_CHECKING, Any

import httpx
import trio

from ..errors import PreviewError, error_response
from ..services import CallOutcome, CallRecorder, ProxiedCall, Services
from .failures import call_failure
from .policy import (
    EnvelopeRequest,
    Forwarded,
    read_envelope_response,
    request_headers,
)

if TYPE_CHECKING:
    from ..runtime import PreviewRuntime

__all__ = ["call_envelope", "envelope_ended", "envelope_error_response", "open_upstream"]


def envelope_error_response(error: PreviewError) -> tuple[int, list[tuple[str, str]], bytes]:
    """``errors.error_response`` with the envelope's own ``statusCode`` in the body too, so
    a client reads every envelope answer's status from the same field."""
    status, headers, body = error_response(error)
    data = {**json.loads(body), "statusCode": status}
    return status, headers, json.dumps(data, separators=(",", ":")).encode() + b"\n"


async def call_envelope(
    state: Services, runtime: PreviewRuntime, call: EnvelopeRequest, forwarded: Forwarded
) -> dict[str, Any]:
    """Make the call and shape the app's answer; recorded in the preview's log either
    way. httpx's errors become 502 / 504 here."""
    settings = state.settings
    assert state.http is not None
    outgoing = state.http.build_request(
        call.method,
        runtime.upstream.url(call.path, call.query),
        headers=request_headers(call.headers, forwarded),
        content=call.body,
        timeout=settings.proxy_timeout,
        extensions=runtime.upstream.extensions,
    )
    _, recorder = state.calls.start(runtime, call.body)
    began = trio.current_time()
    try:
        upstream = await state.http.send(outgoing, stream=True)
        try:
            result = await read_envelope_response(
                upstream,
                max_bytes=settings.proxy_max_response_bytes,
                sample=recorder.capture.answer,
            )
        finally:
            await upstream.aclose()
    except (httpx.HTTPError, PreviewError) as error:
        await envelope_ended(recorder, call, forwarded.request_id, began, error=error)
        if isinstance(error, httpx.HTTPError):
            raise await call_failure(error, settings.proxy_timeout, runtime, began) from None
        raise
    return await envelope_ended(
        recorder,
        call,
        forwarded.request_id,
        began,
        upstream.status_code,
        upstream.headers.raw,
        result,
    )


async def envelope_ended(
    recorder: CallRecorder,
    call: EnvelopeRequest,
    request_id: str,
    began: float,
    status: int | None = None,
    response_headers: Any = None,
    result: dict[str, Any] | None = None,
    error: BaseException | None = None,
) -> dict[str, Any]:
    """An envelope call's end, whichever way it went (the route's, the hot path's):
    answered (``status``, its ``result`` shaped) or failed (``error``), recorded
    (``recorder``); ``result`` with its ``elapsedMs`` and ``requestId``."""
    elapsed = (trio.current_time() - began) * 1000
    failure = None if error is None else type(error).__name__
    path = call.path + (f"?{call.query}" if call.query else "")
    await recorder.complete(
        ProxiedCall("envelope", call.method, path, call.headers, request_id, began),
        CallOutcome(status, response_headers, elapsed, failure),
    )
    result = {} if result is None else result
    result["elapsedMs"] = round(elapsed, 2)
    result["requestId"] = request_id
    return result


async def open_upstream(
    state: Services,
    runtime: PreviewRuntime,
    method: str,
    child_path: str,
    query: str,
    headers: Iterable[tuple[str, str]],
    content: AsyncIterator[bytes] | None,
    forwarded: Forwarded,
    recorder: CallRecorder,
    *,
    app_origin: bool = False,
) -> httpx.Response:
    """Send a transparent call to the child; its response with the body still to read.

    The call is recorded (``recorder``, from ``state.calls.start``), answered or not: a
    call never answered completes here; an answered one has its event at its head here,
    and the caller completes it once relayed (``recorder.complete()``). httpx's errors
    become 502 / 504 here. The caller closes the response. ``app_origin``: the call came
    to the preview's own origin (``policy.request_headers``).
    """
    if type(headers) is not list:
        headers = list(headers)  # read twice when the call fails: passed on and kept
    settings = state.settings
    assert state.http is not None
    outgoing = state.http.build_request(
        method,
        runtime.upstream.url(child_path, query),
        headers=request_headers(headers, forwarded, app_origin=app_origin),
        content=content,
        timeout=settings.proxy_timeout,
        extensions=runtime.upstream.extensions,
    )
    began = trio.current_time()
    path = child_path + (f"?{query}" if query else "")
    way = "origin" if app_origin else "proxy"
    call = ProxiedCall(way, method, path, headers, forwarded.request_id, began)
    try:
        upstream = await state.http.send(outgoing, stream=True)
    except httpx.HTTPError as error:
        elapsed = (trio.current_time() - began) * 1000
        await recorder.complete(call, CallOutcome(None, None, elapsed, type(error).__name__))
        raise await call_failure(error, settings.proxy_timeout, runtime, began) from None
    try:
        elapsed = (trio.current_time() - began) * 1000
        await recorder.event(call, CallOutcome(upstream.status_code, upstream.headers.raw, elapsed))
    except BaseException:
        with trio.CancelScope(shield=True), trio.move_on_after(2):
            await upstream.aclose()
        raise
    return upstream
