"""Proxied calls served below Hypercorn and httpx: the path proxy's and each preview
origin's HTTP calls, on the connection itself.

Through ASGI a proxied call crossed Hypercorn's HTTP/1.1 server (h11, its stream and
task machinery), the ASGI fast path and httpx's client and pool: about 2 ms of CPU for
a call nginx forwards in 0.1 ms. ``hot_front.install`` puts :class:`HotPath` in front
of Hypercorn's handling of each plain-TCP connection (``TCPServer.run``, as
``transport.connection_guard`` wraps it): it reads a request's head, parses it once
(``hot_head``, stricter than h11: what it does not take is Hypercorn's) and, when
the call is an authorised one it can serve (see :meth:`HotPath._route`),
checks the credential from a cache, writes the head and streams the body to a
kept-alive connection to the app (``hot_upstream``), and relays the answer, its body as
the app framed it. Anything else — the first request it cannot serve, and everything
after it on that connection — goes to Hypercorn with the bytes read so far, unchanged:
WebSocket upgrades, ``Expect``, HTTP/1.0, ``Connection: close``, CORS (an ``Origin``),
a preview token in the query, navigations on the API's origin, errors of auth, every
other route. So the answers of those stay defined once, in the routes.

What a user relies on is the ASGI path's: every call is a ``proxy`` event
(``record_proxy_call``), with the same request and response header policy
(``policy``, ``browser``), body limit (413), timeout and error shapes (502 / 504, by
``translate_upstream_error``). ``tests/proxy/test_hot_path.py`` fails if Hypercorn's
internals it leans on move (then every call would take the ASGI path).
"""

from __future__ import annotations

import logging
import os
import random
import re
from typing import Any

import httpx
import trio

from ..errors import PreviewError
from ..runtime import PreviewRuntime, proxy_prefix
from ..services import ENTER_PATH, Services
from ..services.callers import AsgiCaller
from .access import CheckedCredentials, _split_target, authorised_target
from .browser import API_ORIGIN_HEADERS, ApiOrigin, AppOrigin, is_navigating_head
from .hot_head import CallTarget, HeadWriter, RequestHead
from .hot_relay import ClientGone, RequestBody, answer_error, entered, relay
from .hot_upstream import RawPools, Watch, answer_body, ask, receive_now
from .origin_router import _check_session, _child_path, _preview_at
from .policy import (
    PREVIEW_TOKEN_COOKIE,
    body_too_large,
    translate_upstream_error,
)

__all__ = ["HotPath"]

_log = logging.getLogger("preview")
_PATH = re.compile(rb"/api/generations/([^/?]{1,40})/preview/proxy(?:/[^?]*)?(?:\?.*)?", re.S)
_HANDED = frozenset({b"upgrade", b"expect"})
_HEAD_LIMIT = 65536
_CLOSE_TIMEOUT = 1.0  # s: closing the answer's reader, a few in-memory steps
_CREDENTIALS = (b"authorization", b"cookie", b"x-preview-token", b"x-preview-csrf", b"host")
_ENTER = ENTER_PATH.encode()
_APP_ORIGIN = AppOrigin()


class _Enter:
    """A ticket to trade for the origin's session (``origin_router._enter``)."""

    __slots__ = ("runtime",)

    def __init__(self, runtime: PreviewRuntime) -> None:
        self.runtime = runtime


class HotPath:
    """One service's hot path (see the module doc): its credential cache and pools."""

    def __init__(self, state: Services) -> None:
        self._state = state
        self.pools = RawPools()
        self._checked = CheckedCredentials()
        # X-Request-ID's 64 bits, as ``policy.new_request_id`` makes them (they name a
        # call, they guard nothing): a generator seeded once, not a system call each.
        self._ids = random.Random(os.urandom(32))
        self._heads = HeadWriter()
        self.served = 0  # calls answered here (the tests' evidence that it serves)
        self.taken_back = 0  # connections taken back from Hypercorn (``hot_front``)

    # -- the connection ----------------------------------------------------------------

    async def serve(
        self, stream: trio.SocketStream, client: str, idle: float, terminated: Any
    ) -> bytes | None:
        """Serve the connection's requests while it can; the bytes read and not served,
        for Hypercorn (possibly ``b""``), or None once the connection is done. An idle
        connection is closed after ``idle`` seconds, or at once when the server stops
        (``terminated``, Hypercorn's event), as Hypercorn closes its own."""
        watch = Watch()
        async with trio.open_nursery() as nursery:
            nursery.start_soon(watch.run)
            if terminated is not None:
                nursery.start_soon(watch.stop_when, terminated)
            try:
                return await self._serve(stream, client, idle, watch)
            finally:
                nursery.cancel_scope.cancel()

    async def _serve(
        self, stream: trio.SocketStream, client: str, idle: float, watch: Watch
    ) -> bytes | None:
        buffer = b""
        forwarded_for = b"X-Forwarded-For: %s\r\n" % client.encode("latin-1")
        while True:
            end = buffer.find(b"\r\n\r\n")
            while end < 0:
                if len(buffer) > _HEAD_LIMIT:
                    return buffer  # Hypercorn refuses it
                if watch.closing and not buffer:
                    return None
                try:
                    wait = idle if not buffer else idle + 60
                    data = await receive_now(stream, wait, watch, idle=True, wait_first=True)
                except (trio.TooSlowError, trio.BrokenResourceError, trio.ClosedResourceError):
                    return None  # idle past the keep-alive timeout, or the server stops
                if not data:
                    return None
                buffer += data
                end = buffer.find(b"\r\n\r\n")
            request = self._heads.read_request(buffer, end)
            if request is None:
                return buffer
            target = await self._route(request)
            if target is None:
                return buffer
            if type(target) is _Enter:
                rest = buffer[request.size :]
                left = await entered(self._state, stream, request, rest, target.runtime)
            else:
                left = await self._call(stream, request, buffer, target, watch, forwarded_for)
            if left is None:
                return None
            buffer = left

    # -- which calls are served here -----------------------------------------------------

    async def _route(self, request: RequestHead) -> CallTarget | _Enter | None:
        """Where an authorised call goes, or None for Hypercorn to answer. What follows
        from the head's bytes alone (which way, the credentials' key) is worked out
        once per head (``RequestHead.memo``); the credentials' check (cached) and the
        preview's state, at every call."""
        state = self._state
        if state.supervisor is None or state.store is None:
            return None
        memo = request.memo
        try:
            try:
                way = memo["way"]
            except KeyError:
                way = memo["way"] = self._way(request)
            if way is None:
                return None
            if way[0]:
                return self._at_origin(request, *way[1:])
            return await self._on_path(request, *way[1:])
        except PreviewError:
            return None

    def _way(self, request: RequestHead) -> tuple | None:
        """What a head's bytes say of its call: None for Hypercorn; (True, host, raw
        path, query, key) at a preview's origin; (False, host, generation, key) on the
        path proxy (``key``: of the credentials it carries, ``CheckedCredentials``)."""
        named = request.named
        if not _HANDED.isdisjoint(named):
            return None
        if len(named) == len(request.headers):  # no name repeated
            connection = named.get(b"connection")
            if connection is not None and b"close" in connection.lower():
                return None
        else:
            hosts = 0
            for name, value in request.headers:
                if name == b"host":
                    hosts += 1
                elif name == b"connection" and b"close" in value.lower():
                    return None
            if hosts != 1:
                return None
        host_value = named.get(b"host")
        if host_value is None:
            return None
        host = host_value.decode("latin-1")
        if self._state.origins.is_app_host(host):
            raw_path, _, query_string = request.target.partition(b"?")
            return (True, host, raw_path, query_string, (host, b"origin", named.get(b"cookie")))
        match = _PATH.fullmatch(request.target)
        if match is None:
            return None
        method = request.method
        if b"origin" in named:
            return None  # CORS: the ASGI path's
        if method in (b"GET", b"HEAD") and is_navigating_head(method, named):
            return None  # a 303 to the preview's origin: the ASGI path's
        gid = match.group(1).decode("latin-1")
        return (False, host, gid, (gid, method, *(named.get(name) for name in _CREDENTIALS)))

    async def _on_path(
        self, request: RequestHead, host: str, gid: str, key: tuple
    ) -> CallTarget | None:
        runtime = self._checked.get(key)
        # These credentials passed the owner's and the token's checks within _AUTH_TTL,
        # for this running preview and its current token (else: checked now).
        if runtime is not None:
            target = request.memo.get("target")
            if target is not None and target.runtime is runtime:
                return target
        raw_path, _, query_string = request.target.partition(b"?")
        if runtime is None:
            state = self._state
            caller = AsgiCaller({"method": request.method.decode(), "headers": request.headers})
            runtime, child_path, query, query_token = await authorised_target(
                state,
                gid,
                caller.user(state),
                raw_path,
                query_string,
                caller.named.get("x-preview-token"),
                caller.cookies.get(PREVIEW_TOKEN_COOKIE),
            )
            if query_token is not None:
                return None  # traded for a cookie by the route
            self._checked.remember(key, runtime)
        else:
            child_path, query, query_token = _split_target(gid, raw_path, query_string)
            if query_token is not None:
                return None
        prefix = proxy_prefix(runtime.spec.generation_id)
        exposure = ApiOrigin("http", host, prefix, child_path)
        target = CallTarget(
            runtime, request, child_path, query, exposure, "http", host, API_ORIGIN_HEADERS
        )
        request.memo["target"] = target
        return target

    def _at_origin(
        self, request: RequestHead, host: str, raw_path: bytes, query_string: bytes, key: tuple
    ) -> CallTarget | _Enter | None:
        state = self._state
        runtime = self._checked.get(key) if raw_path != _ENTER else None
        if runtime is None:
            label = state.origins.label_of_host(host)
            if label is None:
                return None
            runtime = _preview_at(state, label)
            if raw_path == _ENTER:
                # A browser's first request at the origin: answered here, or the
                # connection (and the page's requests after it) would be Hypercorn's.
                bodiless = request.length is None and not request.chunked
                return _Enter(runtime) if bodiless and request.method in (b"GET", b"HEAD") else None
            if runtime.status != "running":
                return None
            caller = AsgiCaller({"method": request.method.decode(), "headers": request.headers})
            _check_session(state.origins, runtime, caller.cookies.getlist)
            self._checked.remember(key, runtime)
        target = request.memo.get("target")
        if target is None or target.runtime is not runtime:
            child_path = _child_path(runtime, {"raw_path": raw_path, "path": ""})
            scheme = state.origins.public_scheme("http")
            query = query_string.decode("latin-1")
            target = CallTarget(runtime, request, child_path, query, _APP_ORIGIN, scheme, host, ())
            request.memo["target"] = target
        return target

    def _request_id(self) -> str:
        return f"req_{self._ids.getrandbits(64):016x}"

    # -- one call --------------------------------------------------------------------------

    async def _call(
        self,
        client: trio.SocketStream,
        request: RequestHead,
        buffer: bytes,
        target: CallTarget,
        watch: Watch,
        forwarded_for: bytes,
    ) -> bytes | None:
        """Make the call and relay its answer; the bytes after the request (the next
        one's), or None if the connection must close. The call's end, answered or not,
        is :meth:`_completed`; once relayed or failed, it is kept in the request history."""
        state, runtime = self._state, target.runtime
        upstream = runtime.upstream  # once: a revision's swap moves it (runtime.swaps)
        settings = state.settings
        limit, timeout = settings.proxy_max_body_bytes, settings.proxy_timeout
        if request.length is not None and request.length > limit:
            await answer_error(client, body_too_large(limit), target.extra)
            return None
        request_id = self._request_id()
        rid = request_id.encode()
        heads = self._heads
        forwarded = b"".join((forwarded_for, target.forwarded, rid, b"\r\n"))
        head = heads.request(
            request, target.line, forwarded, upstream.port, app_origin=target.app_origin
        )
        body = RequestBody(client, request, buffer, limit)
        # Kept in the request history (sampled as framed; the history's writer unchunks).
        chunks, capture = state.history.start(
            None if body.empty else body.chunks(), framed=request.chunked
        )
        method, shown = target.method, target.shown
        began = trio.current_time()
        taken = events = None
        # Its access line is taken from the app's pipe once relayed (``ChildOutput``).
        output = runtime.supervision.output if runtime.supervision is not None else None
        under_way = output.call_began() if output is not None else None  # call_answered()
        try:
            taken = await self.pools.take(upstream, timeout)
            response = await ask(
                taken, head, chunks, request.method, timeout, watch, heads.read_response
            )
        except (httpx.HTTPError, ClientGone) as error:
            if under_way is not None:
                under_way.call_answered()
            if taken is not None:
                self.pools.give_back(upstream, taken, keep=False)
            if isinstance(error, ClientGone):
                return None
            if body.over is not None:
                await answer_error(client, body.over, target.extra)
                return None
            elapsed, event_id = await self._completed(
                runtime, method, shown, request_id, began, None, error
            )
            capture.record(  # never answered: kept with its error, no status
                runtime, target.way, method, shown, request.headers, None, None, began,
                elapsed, request_id, event_id, type(error).__name__,
            )  # fmt: skip
            failure = translate_upstream_error(error, timeout)
            assert isinstance(failure, PreviewError)
            await answer_error(client, failure, target.extra)
            return body.rest
        except BaseException:  # cancelled (the server stops): nothing is kept
            if under_way is not None:
                under_way.call_answered()
            if taken is not None:
                self.pools.give_back(upstream, taken, keep=False)
            raise
        kept = False
        try:
            elapsed, event_id = await self._completed(
                runtime, method, shown, request_id, began, response.status, None
            )
            # The exposure has the rest of ours.
            headers = heads.answer(response, target.exposure) + b"X-Request-ID: %s\r\n" % rid
            if response.whole is None:  # more to read: relayed as it comes
                if under_way is not None:  # perhaps for long (a stream): not under way
                    under_way.call_answered()
                    under_way = None
                events = answer_body(taken, response, timeout, watch)
                answered = capture.answering(events, framed=response.chunked)
            else:
                answered = None
                if capture.answer is not None:
                    capture.answer.add(response.whole)
            kept = await relay(client, response, answered, headers)
            capture.record(
                runtime, target.way, method, shown, request.headers, response.status,
                response.headers, began, elapsed, request_id, event_id,
            )  # fmt: skip
        finally:
            if under_way is not None:  # once relayed: the caller does not wait for it
                under_way.call_answered()
            self.pools.give_back(upstream, taken, keep=kept)
            if events is not None and events.ag_frame is not None:  # not read to its end
                with trio.CancelScope(shield=True), trio.move_on_after(_CLOSE_TIMEOUT):
                    await events.aclose()
        if output is not None:  # the lines the calls took, for the runtime
            await output.watched()
        if not kept:
            return None
        return body.rest  # None: a body the app did not wait for (the connection closes)

    async def _completed(
        self,
        runtime: PreviewRuntime,
        method: str,
        shown: str,
        request_id: str,
        began: float,
        status: int | None,
        error: BaseException | None,
    ) -> tuple[float, int | None]:
        """A call's end: answered (``status``, before its body is relayed) or failed
        (``error``): its ``proxy`` event, the one record of each call. (ms, its id)"""
        elapsed = (trio.current_time() - began) * 1000
        event_id = await runtime.record_proxy_call(
            method, shown, status, elapsed, request_id,
            None if error is None else type(error).__name__,
        )  # fmt: skip
        if status is not None:
            self.served += 1
        return elapsed, event_id
