"""Proxied calls served below Hypercorn and httpx: the path proxy's and each preview
origin's HTTP calls, on the connection itself.

Through ASGI a proxied call crossed Hypercorn's HTTP/1.1 server (h11, its stream and
task machinery), the ASGI fast path and httpx's client and pool: about 2 ms of CPU for
a call nginx forwards in 0.1 ms. ``hot.front.install`` puts :class:`HotPath` in front
of Hypercorn's handling of each plain-TCP connection (``TCPServer.run``, as
``transport.connection_guard`` wraps it): it reads a request's head, parses it once
(``hot.head``, stricter than h11: what it does not take is Hypercorn's) and, when
the call is an authorised one it can serve (see :meth:`HotPath._route`),
checks the credential from a cache, writes the head and streams the body to a
kept-alive connection to the app (``hot.upstream``), and relays the answer, its body as
the app framed it. Anything else — the first request it cannot serve, and everything
after it on that connection — goes to Hypercorn with the bytes read so far, unchanged:
WebSocket upgrades, ``Expect``, HTTP/1.0, ``Connection: close``, CORS (an ``Origin``),
a preview token in the query, navigations on the API's origin, errors of auth, every
other route. So the answers of those stay defined once, in the routes.

What a user relies on is the ASGI path's: every call is recorded alike (a ``proxy``
event, its request history, its count: ``services.CallRecorder``), with the same
request and response header policy (``policy``, ``browser``), body limit (413),
timeout and error shapes (502 / 504, by ``translate_upstream_error``).
``tests/proxy/test_hot_path.py`` fails if Hypercorn's internals it leans on move (then
every call would take the ASGI path).
"""

from __future__ import annotations

import logging
import os
import random
from collections.abc import Awaitable, Callable
from typing import Any

import httpx
import trio

from ...errors import PreviewError, head_refused
from ...services import CallOutcome, ProxiedCall, Services
from ..access import CheckedCredentials
from ..failures import call_failure
from ..policy import body_too_large
from .envelope import EnvelopeCalls, EnvelopeTarget
from .head import HEAD_LIMIT, REQUEST_LINE_LIMIT, CallTarget, HeadWriter, RequestHead, head_refusal
from .onward import Hop, Onward, OwnerOf
from .relay import VARY_ORIGIN, ClientGone, RequestBody, answer_error, entered, relay
from .route import Enter, Routes
from .sockets import receive_now
from .upstream import RawPools, answer_body
from .watch import Watch

__all__ = ["HEAD_TIMEOUT", "HotPath", "LogStreams"]

_log = logging.getLogger("preview")
_STREAMS = b"/api/generations/"  # where a log stream's target starts (HotPath.log_streams)
# (connection, method, target, headers, bytes read after the head) -> taken
LogStreams = Callable[
    [trio.SocketStream, bytes, bytes, list[tuple[bytes, bytes]], bytes], Awaitable[bool]
]
HEAD_TIMEOUT = 30.0  # s: a request's whole head, from its first byte (nginx: 60 s)
_CLOSE_TIMEOUT = 1.0  # s: closing the answer's reader, a few in-memory steps
_LINGER, _LINGER_BYTES = 1.0, 1 << 20  # a refused head's rest, read and dropped


class HotPath:
    """One service's hot path (see the module doc): its credential cache and pools."""

    def __init__(self, state: Services) -> None:
        self._state = state
        self.pools = RawPools()
        checked = CheckedCredentials()  # the credentials checked, of every way
        # X-Request-ID's 64 bits, as ``policy.new_request_id`` makes them (they name a
        # call, they guard nothing): a generator seeded once, not a system call each.
        self._ids = random.Random(os.urandom(32))
        self._heads = HeadWriter()
        self._envelopes = EnvelopeCalls(state, self.pools, self._heads, checked)
        self._routes = Routes(state, checked, self._envelopes.takes)
        self.served = 0  # calls answered here (the tests' evidence that it serves)
        # The log stream's server on this connection, set by the app
        # (``transport.fast_stream.HotStreams``, a layer above): True when it took the
        # request, False (nothing written) for Hypercorn. None: every stream is Hypercorn's.
        self.log_streams: LogStreams | None = None
        self.taken_back = 0  # connections taken back from Hypercorn (``hot.front``)
        # A cluster node's: the calls for previews other nodes run, sent on to them
        # (set by the app in cluster mode, with ``onward_to``). None: a single node.
        self.onward: Onward | None = None

    def onward_to(self, secret: str, owner_of: OwnerOf, forwarded: dict[str, int]) -> Onward:
        """Send the calls for other nodes' previews on to them (``hot.onward``)."""
        self.onward = Onward(self._state, self.pools, self._heads, secret, owner_of, forwarded)
        return self.onward

    # -- the connection ----------------------------------------------------------------

    async def serve(
        self,
        stream: trio.SocketStream,
        client: str,
        idle: float,
        terminated: Any,
        hop: Hop | None = None,
    ) -> bytes | None:
        """Serve the connection's requests while it can; the bytes read and not served,
        for Hypercorn (possibly ``b""``), or None once the connection is done. An idle
        connection is closed after ``idle`` seconds, or at once when the server stops
        (``terminated``, Hypercorn's event), as Hypercorn closes its own. ``hop``: the
        connection came to a cluster node's internal listener (only the calls another
        node vouches for are served here, as that node's caller's)."""
        watch = Watch()
        async with trio.open_nursery() as nursery:
            nursery.start_soon(watch.run)
            if terminated is not None:
                nursery.start_soon(watch.stop_when, terminated)
            try:
                return await self._serve(stream, client, idle, watch, hop)
            finally:
                nursery.cancel_scope.cancel()

    async def _serve(
        self, stream: trio.SocketStream, client: str, idle: float, watch: Watch, hop: Hop | None
    ) -> bytes | None:
        buffer = b""
        forwarded_for = b"X-Forwarded-For: %s\r\n" % client.encode("latin-1")
        onward = self.onward if hop is None else None  # a forwarded call goes no further
        while True:
            end = buffer.find(b"\r\n\r\n")
            head_due = None if end >= 0 or not buffer else trio.current_time() + HEAD_TIMEOUT
            while end < 0:
                refused = head_refusal(buffer) if buffer else None
                if refused is not None:  # never a head: refused at once (not in 30 s)
                    await _refuse(stream, refused)
                    return None
                if watch.closing and not buffer:
                    return None
                # Idle until a head begins; then the whole head within HEAD_TIMEOUT,
                # however it trickles in (a byte now and then held a connection for ever).
                wait = idle if head_due is None else head_due - trio.current_time()
                try:
                    if wait <= 0:
                        raise trio.TooSlowError
                    data = await receive_now(stream, wait, watch, idle=True, wait_first=True)
                except (trio.TooSlowError, trio.BrokenResourceError, trio.ClosedResourceError):
                    return None  # idle past the keep-alive timeout, or the server stops
                if not data:
                    return None
                if head_due is None:
                    head_due = trio.current_time() + HEAD_TIMEOUT
                buffer += data
                end = buffer.find(b"\r\n\r\n")
            if end > REQUEST_LINE_LIMIT and (refused := head_refusal(buffer[:end])) is not None:
                await _refuse(stream, refused)
                return None
            request = self._heads.read_request(buffer, end)
            if request is None:
                return buffer
            if hop is not None:  # the forwarding node's word on its caller's address
                vouched = hop.vouched(request)
                if vouched is None:
                    return buffer
                forwarded_for = vouched
            elif onward is not None:
                try:
                    owner = await onward.owner(request, self._routes.head_route(request))
                except PreviewError:
                    owner = None  # the database is away: answered here, as it can be
                if owner is not None:
                    left = await onward.forward(stream, request, buffer, owner, watch, client)
                    if left is None:
                        return None
                    buffer = left
                    continue
            streams = self.log_streams
            if (
                streams is not None
                and request.target.startswith(_STREAMS)
                and await streams(
                    stream, request.method, request.target, request.headers, buffer[end + 4 :]
                )
            ):
                return None  # the stream ended, or its connection is the parked streams'
            target = await self._routes.route(request)
            if target is None:
                return buffer
            if type(target) is Enter:
                rest = buffer[request.size :]
                left = await entered(self._state, stream, request, rest, target.runtime)
            elif type(target) is EnvelopeTarget:
                served, left = await self._envelopes.serve(
                    stream, request, buffer, target, watch, forwarded_for, self._request_id()
                )
                if not served:
                    return left
                self.served += 1
            else:
                left = await self._call(stream, request, buffer, target, watch, forwarded_for)
            if left is None:
                return None
            buffer = left

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
        one's), or None if the connection must close. Recorded once relayed or failed
        (``recorder.complete``: its event, its history entry, its count); an answer that
        streams on has its event at its head."""
        state, runtime = self._state, target.runtime
        upstream = runtime.upstream  # once: a revision's swap moves it (runtime.swaps)
        settings = state.settings
        limit, timeout = settings.proxy_max_body_bytes, settings.proxy_timeout
        if request.length is not None and request.length > limit:
            await answer_error(client, body_too_large(limit), target.added_headers)
            return None
        request_id = self._request_id()
        rid = request_id.encode()
        heads = self._heads
        forwarded = b"".join((forwarded_for, target.forwarded, rid, b"\r\n"))
        head = heads.request(
            request, target.line, forwarded, upstream.port, app_origin=target.app_origin
        )
        body = RequestBody(client, request, buffer, limit, settings.body_timeout)
        # Kept in the request history (sampled as framed; the history's writer unchunks).
        chunks, recorder = state.calls.start(
            runtime, None if body.empty else body.chunks(), framed=request.chunked
        )
        capture = recorder.capture
        began = trio.current_time()
        call = ProxiedCall(
            target.way, target.method, target.path_and_query, request.headers, request_id, began
        )
        taken = events = None
        # Its access line is taken from the app's pipe once relayed (``ChildOutput``).
        output = runtime.supervision.output if runtime.supervision is not None else None
        under_way = output.call_began() if output is not None else None  # call_answered()
        try:
            taken, response = await self.pools.ask(
                upstream, timeout, head, chunks, request.method, watch, heads.read_response
            )
        except (httpx.HTTPError, ClientGone) as error:
            if under_way is not None:
                under_way.call_answered()
            if taken is not None:
                self.pools.give_back(upstream, taken, keep=False)
            rest = None
            if body.refused is not None:
                await answer_error(client, body.refused, target.added_headers)
            elif not isinstance(error, ClientGone):
                elapsed = (trio.current_time() - began) * 1000
                # Never answered: kept with its error.
                await recorder.complete(
                    call, CallOutcome(None, None, elapsed, type(error).__name__)
                )
                failure = await call_failure(error, timeout, runtime, began)
                assert isinstance(failure, PreviewError)
                await answer_error(client, failure, target.added_headers)
                rest = body.rest
            if output is not None:  # the lines the call took: the app's words on why
                await output.forward_to_watch()
            return rest
        except BaseException:  # cancelled (the server stops): nothing is kept
            if under_way is not None:
                under_way.call_answered()
            if taken is not None:
                self.pools.give_back(upstream, taken, keep=False)
            raise
        kept = False
        try:
            elapsed = (trio.current_time() - began) * 1000
            outcome = CallOutcome(response.status, response.headers, elapsed)
            whole = response.whole is not None
            if not whole:  # an answer that may stream for long: its event before it
                await recorder.event(call, outcome)
                self.served += 1
            # The browser's origin adds the rest of ours (``browser.ApiOrigin``).
            headers = heads.answer(response, target.browser_origin) + b"X-Request-ID: %s\r\n" % rid
            if VARY_ORIGIN in target.added_headers:
                headers += b"Vary: Origin\r\n"
            if not whole:  # more to read: relayed as it comes
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
            # Its event once its answer is written (one write, which waits only while the
            # caller's socket is full), if not said at its head: the caller has its answer
            # the event's making sooner (a tenth of a call's CPU), and no task runs
            # between that write and the event (no checkpoint): nobody reads the
            # preview's log or history with the one and without the other.
            await recorder.complete(call, outcome)
            if whole:
                self.served += 1
        finally:
            if under_way is not None:  # once relayed: the caller does not wait for it
                under_way.call_answered()
            self.pools.give_back(upstream, taken, keep=kept)
            # Not read to its end (an async generator's frame goes when it finishes).
            if events is not None and getattr(events, "ag_frame", None) is not None:
                with trio.CancelScope(shield=True), trio.move_on_after(_CLOSE_TIMEOUT):
                    await events.aclose()
        if output is not None:  # the lines the calls took, for the runtime
            await output.forward_to_watch()
        if not kept:
            return None
        return body.rest  # None: a body the app did not wait for (the connection closes)


async def _refuse(stream: trio.SocketStream, status: int) -> None:
    """A head no reader should take, answered in the error shape; the caller closes.
    What the client still sends is read and dropped for a moment first (a lingering
    close, as nginx's): closed with its bytes unread, the socket is reset, and the reset
    can reach the client before the answer does."""
    error = head_refused(status, line_limit=REQUEST_LINE_LIMIT, head_limit=HEAD_LIMIT)
    await answer_error(stream, error, [("connection", "close")])
    with trio.move_on_after(_LINGER):
        try:
            await stream.send_eof()
            drained = 0
            while drained < _LINGER_BYTES and (data := await stream.receive_some(65536)):
                drained += len(data)
        except (trio.BrokenResourceError, trio.ClosedResourceError):
            pass
