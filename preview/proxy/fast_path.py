"""A lean ASGI path for calls to a preview: the transparent proxy's HTTP calls and the
JSON envelope (``POST …/preview/request``).

Every call a user makes to their app goes through one of them, so Quart's per-request
work (request context, routing, response object, about 1 ms in all) is most of what
the proxy adds to the app's own latency. :class:`ProxyFastPath` wraps the Quart app and
makes an *authorised* call itself, through the same ``open_upstream`` /
``call_envelope`` as the Quart routes. Anything else (unauthenticated, not running, a
bad or missing preview token, a token in the query to trade for a cookie, a body that
is not a JSON object, WebSockets, other paths) goes to the Quart app, with the body
it had read replayed, and the route for the same path answers it; so those answers
stay defined in one place. Errors after the call has left (body over the limit, the
app refused or timed out) are answered here, in the shape of ``errors.error_response``.
:func:`forward_call` is also how ``origin_router`` serves a preview's own origin.
"""

from __future__ import annotations

import json
import re
from collections.abc import AsyncIterator
from contextvars import ContextVar
from typing import TYPE_CHECKING, Any

import httpx
import trio

from ..auth import User
from ..errors import PreviewError, body_stalled, error_response
from ..previewtokens import hash_preview_token
from ..runtime import proxy_prefix
from ..services import Services
from ..services.bodies import envelope_limit, json_object
from ..services.callers import AsgiCaller, cancel_on_disconnect, owned_generation
from .access import authorised_envelope, authorised_target, presented_token
from .browser import API_ORIGIN_HEADERS, ApiOrigin, AppOrigin, is_navigation, ticket_redirect
from .calls import call_envelope, envelope_error_response, open_upstream
from .policy import (
    PREVIEW_TOKEN_COOKIE,
    Forwarded,
    body_too_large,
    new_request_id,
    response_headers,
)

if TYPE_CHECKING:
    from ..runtime import PreviewRuntime

__all__ = [
    "CONNECTION_MARK",
    "ConnectionMark",
    "ProxyFastPath",
    "answer_error",
    "asgi_forwarded",
    "forward_call",
]


class ConnectionMark:
    """Set on the Hypercorn connection a call came on (``hot.front``): ``proxied`` once
    a proxied call went through this ASGI path there, so that the hot path takes the
    connection back from Hypercorn when it is next idle."""

    __slots__ = ("proxied",)

    def __init__(self) -> None:
        self.proxied = False


CONNECTION_MARK: ContextVar[ConnectionMark | None] = ContextVar(
    "preview_connection_mark", default=None
)

_PATH = re.compile(r"/api/generations/([^/]{1,40})/preview/proxy(?:/.*)?", re.S)
_ENVELOPE_PATH = re.compile(r"/api/generations/([^/]{1,40})/preview/request")
_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})
_NO_BODY = frozenset({"GET", "HEAD", "OPTIONS"})  # unless these headers announce one:
_BODY_HEADERS = ("content-length", "transfer-encoding")


class _ClientGone(Exception):
    """The caller hung up while its request body was being forwarded."""


class ProxyFastPath:
    """ASGI middleware in front of the Quart app (see the module doc)."""

    def __init__(self, app: Any, state: Services) -> None:
        self._app = app
        self._state = state

    async def __call__(self, scope: dict, receive: Any, send: Any) -> None:
        state = self._state
        if (
            scope["type"] == "http"
            and scope["method"] in _METHODS
            and state.store is not None
            and state.supervisor is not None
        ):
            match = _PATH.fullmatch(scope["path"])
            if match is not None:
                caller = AsgiCaller(scope)
                target = await self._resolve(scope, match.group(1), caller)
                if target is not None:
                    runtime, user, child_path, query, query_token = target
                    host = caller.named.get("host", "")
                    if is_navigation(scope["method"], caller.named):
                        # No app page on the API's origin: to the preview's own.
                        presented = presented_token(
                            caller.named.get("x-preview-token"),
                            query_token,
                            caller.cookies.get(PREVIEW_TOKEN_COOKIE),
                        )
                        headers = ticket_redirect(
                            state,
                            runtime,
                            user.id,
                            # authorised: a token was presented
                            hash_preview_token(presented or ""),
                            child_path,
                            query,
                            scheme=scope["scheme"],
                            host=host,
                        )
                        await _answer(send, 303, [*headers, ("Content-Length", "0")], b"")
                        return
                    if query_token is None:  # else Quart trades it for a cookie
                        forwarded = asgi_forwarded(scope, host)
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
                        )
                        return
            elif scope["method"] == "POST":
                match = _ENVELOPE_PATH.fullmatch(scope["path"])
                if match is not None:
                    caller = AsgiCaller(scope)
                    receive = await self._envelope(scope, match.group(1), caller, receive, send)
                    if receive is None:
                        return
        await self._app(scope, receive, send)

    async def _envelope(
        self, scope: dict, gid: str, caller: AsgiCaller, receive: Any, send: Any
    ) -> Any:
        """Answer an envelope call; if Quart should, the ``receive`` to give it."""
        mark = CONNECTION_MARK.get()
        if mark is not None:  # the hot path takes the connection back when idle
            mark.proxied = True
        state = self._state
        named = caller.named
        try:
            await owned_generation(gid, caller.user(state), state)
        except PreviewError:
            return receive
        limit = envelope_limit(state.settings)
        if not named.get("content-length", "0").isdigit() or (
            int(named.get("content-length", "0")) > limit
        ):
            return receive
        try:
            read, complete = await _read_body(receive, limit, state.settings.body_timeout)
        except PreviewError as error:  # its body stopped coming
            await answer_error(send, error)
            return None
        replay = _replaying(read, receive)
        if not complete:
            return replay  # over the limit, or the caller left: Quart's answer
        try:
            data = await json_object(b"".join(message.get("body", b"") for message in read))
            runtime, call = authorised_envelope(state, gid, data, named.get("x-preview-token"))
        except PreviewError:
            return replay
        forwarded = asgi_forwarded(scope, named.get("host", ""))
        try:
            result = await call_envelope(state, runtime, call, forwarded)
        except PreviewError as error:
            await _answer(send, *envelope_error_response(error))
            return None
        body = json.dumps(result, separators=(",", ":")).encode() + b"\n"
        await _answer(send, 200, [("Content-Type", "application/json")], body)
        return None

    async def _resolve(
        self, scope: dict, gid: str, caller: AsgiCaller
    ) -> tuple[PreviewRuntime, User, str, str, str | None] | None:
        """The running preview, who calls it, path and query to call and the preview
        token if it came in the query; None to let Quart answer."""
        state = self._state
        try:
            user = caller.user(state)
            runtime, child_path, query, query_token = await authorised_target(
                state,
                gid,
                user,
                scope.get("raw_path") or scope["path"].encode(),
                scope["query_string"],
                caller.named.get("x-preview-token"),
                caller.cookies.get(PREVIEW_TOKEN_COOKIE),
            )
        except PreviewError:
            return None
        return runtime, user, child_path, query, query_token


async def forward_call(
    state: Services,
    runtime: PreviewRuntime,
    scope: dict,
    caller: AsgiCaller,
    child_path: str,
    query: str,
    forwarded: Forwarded,
    receive: Any,
    send: Any,
    *,
    app_origin: bool = False,
) -> None:
    """Make an authorised HTTP call to the app and stream its answer to the ASGI caller,
    both ways as the bytes come; the proxy's path and each preview's origin
    (``origin_router``) share it. ``app_origin`` as in ``open_upstream``; what the
    browser may see of the answer is ``browser``'s (``AppOrigin`` or ``ApiOrigin``)."""
    mark = CONNECTION_MARK.get()
    if mark is not None:
        mark.proxied = True
    method = scope["method"]
    host = caller.named.get("host", "")
    browser_origin = (
        AppOrigin()
        if app_origin
        else ApiOrigin(scope["scheme"], host, proxy_prefix(runtime.spec.generation_id), child_path)
    )
    added_headers = [] if app_origin else list(API_ORIGIN_HEADERS)
    has_body = method not in _NO_BODY or not caller.named.keys().isdisjoint(_BODY_HEADERS)
    settings = state.settings
    content = (
        _request_body(receive, settings.proxy_max_body_bytes, settings.body_timeout)
        if has_body
        else None
    )
    content, recorder = state.calls.start(runtime, content)  # recorded once it ends
    try:
        upstream = await open_upstream(
            state,
            runtime,
            method,
            child_path,
            query,
            caller.headers,
            content,
            forwarded,
            recorder,
            app_origin=app_origin,
        )
    except _ClientGone:
        return
    except PreviewError as error:
        await answer_error(send, error, added_headers)
        return
    try:
        answer = [
            *response_headers(
                upstream.headers, relayed=True, as_sent=True, browser_origin=browser_origin
            ),
            ("X-Request-ID", forwarded.request_id),
        ]
        await _start(send, upstream.status_code, answer)
        async with trio.open_nursery() as nursery:
            nursery.start_soon(cancel_on_disconnect, receive, nursery.cancel_scope)
            try:
                async for chunk in recorder.capture.answering(upstream.aiter_raw()):
                    await send({"type": "http.response.body", "body": chunk, "more_body": True})
            except httpx.HTTPError:
                # The app broke off mid-answer: the caller gets it cut short too
                # (the response is left unfinished, so the connection is closed).
                nursery.cancel_scope.cancel()
                return
            await send({"type": "http.response.body", "body": b"", "more_body": False})
            nursery.cancel_scope.cancel()
        await recorder.complete()  # relayed: kept as its head's event said
    finally:
        with trio.CancelScope(shield=True), trio.move_on_after(2):
            await upstream.aclose()


def asgi_forwarded(scope: dict, host: str, *, proto: str | None = None) -> Forwarded:
    """The ``X-Forwarded-*`` of an ASGI call; ``proto`` if the public scheme differs."""
    client = scope.get("client")
    return Forwarded(
        client_ip=client[0] if client else "",
        proto=proto or scope["scheme"],
        host=host,
        request_id=new_request_id(),
    )


async def answer_error(
    send: Any, error: PreviewError, added_headers: list[tuple[str, str]] | None = None
) -> None:
    """Answer an ASGI call with the service's error JSON (and ``added_headers`` headers)."""
    status, headers, body = error_response(error)
    await _answer(send, status, [*headers, *(added_headers or ())], body)


async def _read_body(receive: Any, limit: int, each_read_s: float) -> tuple[list[dict], bool]:
    """The request's messages as read, and whether that is the whole body within
    ``limit`` bytes (False: over it, or the caller left); 408 once none of it came for
    ``each_read_s``."""
    read: list[dict] = []
    size = 0
    while True:
        message = await _received(receive, each_read_s)
        read.append(message)
        if message["type"] != "http.request":
            return read, False
        size += len(message.get("body", b""))
        if size > limit:
            return read, False
        if not message.get("more_body", False):
            return read, True


async def _received(receive: Any, each_read_s: float) -> dict:
    """The caller's next message; 408 once none came for ``each_read_s`` (its body
    stopped coming: nginx's ``client_body_timeout``)."""
    with trio.move_on_after(each_read_s):
        return await receive()
    raise body_stalled(each_read_s)


def _replaying(read: list[dict], receive: Any) -> Any:
    """A ``receive`` that gives ``read`` again, then what is left."""
    pending = list(read)

    async def replayed() -> dict:
        if pending:
            return pending.pop(0)
        return await receive()

    return replayed


async def _answer(send: Any, status: int, headers: list[tuple[str, str]], body: bytes) -> None:
    await _start(send, status, headers)
    await send({"type": "http.response.body", "body": body, "more_body": False})


async def _start(send: Any, status: int, headers: list[tuple[str, str]]) -> None:
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [
                (name.lower().encode("latin-1"), value.encode("latin-1")) for name, value in headers
            ],
        }
    )


async def _request_body(receive: Any, limit: int, each_read_s: float) -> AsyncIterator[bytes]:
    """The caller's body as it arrives, for the upstream call; 413 past ``limit``, 408
    once none of it came for ``each_read_s``."""
    size = 0
    while True:
        message = await _received(receive, each_read_s)
        if message["type"] == "http.disconnect":
            raise _ClientGone
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > limit:
            raise body_too_large(limit)
        if chunk:
            yield chunk
        if not message.get("more_body", False):
            return
