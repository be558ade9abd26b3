"""Any node answers any call: a call that must reach the process of a preview another
node runs is forwarded to that node's internal listener, and its answer streamed back.

:class:`ClusterForwarder` is the app's outermost ASGI layer in cluster mode (a single
node never installs it, so its path gains nothing). It forwards only the calls that need
the owner's memory or its process: a running preview's live log streams (SSE and
WebSocket: its ring is the owner's; for now, until the Redis tail lets every node serve
them, see docs/cluster.md), a stop, the preview's tokens (held in the owner's
memory), the request envelope, the transparent proxy (any method, and WebSocket
upgrades), the preview's own origin and the ticket that opens it (tickets and the
origin's cookie are the owner's), a revision applied, a replay, a snapshot taken or
restored (the app's data is where it runs). Everything else (status,
history, the config) is read from PostgreSQL by the node that got it.

The forwarded call is the caller's, unchanged: its head (``Host``, ``Authorization``,
cookies, ``X-Preview-Token``) and its body, streamed as it comes, never buffered; the
owner authenticates the caller itself, as it would have had the call come straight to
it (every node verifies the same bearer tokens), so the caller's identity is what the
caller sent. The hop itself is vouched for by the cluster's secret
(:data:`SECRET_HEADER`), and with it the caller's address and scheme, which the owner's
:class:`InternalGate` restores. A client cannot tell which node it talks to.

This is the ASGI layer. The calls the hot path takes (``proxy.hot``: a preview's
authorised proxied, origin and envelope calls) never reach it: the hot path sends them
on as raw bytes over a kept-alive connection to the owner's internal listener, where
the hot path serves them too (``proxy.hot.onward``, :func:`serve_internal`'s
``prepare``).
"""

from __future__ import annotations

import hmac
import json
import logging
import re
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any
from urllib.parse import urlsplit

import httpx
import trio
import trio_websocket
from hypercorn.config import Config
from hypercorn.trio import serve as hypercorn_serve

from ..errors import PreviewError, TooLarge, error_response, owner_unreachable
from .owners import Owner

__all__ = [
    "CLIENT_HEADER",
    "SCHEME_HEADER",
    "SECRET_HEADER",
    "ClusterForwarder",
    "InternalGate",
    "Place",
    "forwarded_generation",
    "forwarded_kind",
    "serve_internal",
]

_log = logging.getLogger("preview")

# The same names as proxy.policy's CLUSTER_*_HEADER (which the hot path reads and no app
# is given; a layer above this one: tests/cluster/test_forwarding.py pins them equal).
SECRET_HEADER = b"x-preview-cluster-secret"
CLIENT_HEADER = b"x-preview-cluster-client"  # the caller's address, as the node saw it
SCHEME_HEADER = b"x-preview-cluster-scheme"  # http or https, as the caller came
_OURS = frozenset({SECRET_HEADER, CLIENT_HEADER, SCHEME_HEADER})
# Hop-by-hop (RFC 9110 §7.6.1): each hop's own, never forwarded.
_HOP = frozenset(
    {
        b"connection",
        b"keep-alive",
        b"proxy-connection",
        b"te",
        b"trailer",
        b"transfer-encoding",
        b"upgrade",
    }
)
# The WebSocket handshake's own headers: the forwarding node's client makes its own.
_HANDSHAKE = frozenset(
    {
        b"sec-websocket-key",
        b"sec-websocket-version",
        b"sec-websocket-extensions",
        b"sec-websocket-protocol",
        b"host",
    }
)

# The calls that need the owner: /api/generations/<gid>/ and then ... Each group's
# name is the call's kind, as the metrics count forwarded calls.
_FORWARDED = re.compile(
    r"/api/generations/(?P<gid>[^/]+)/(?:"
    r"preview(?P<stop>)"  # DELETE
    r"|preview/(?:token|tokens|tokens/[^/]+)(?P<tokens>)"
    r"|preview/request(?P<request>)"
    r"|preview/ticket(?P<ticket>)"
    r"|preview/requests/replay(?P<replay>)"
    r"|preview/logs/(?:stream|ws)(?P<logs>)"  # the owner's ring (when not relayed)
    r"|preview/proxy(?:/.*)?(?P<proxy>)"  # any method, and WebSocket upgrades
    r"|preview/snapshots(?:/[^/]+/restore)?(?P<snapshots>)"  # POST: taken or restored live
    r"|preview/annotations(?P<annotations>)"  # POST: said in the owner's log
    r"|revisions(?P<revisions_root>)"  # POST: a new revision, applied live
    r"|revisions/\d+/apply(?P<revision>)"
    r")",
    re.DOTALL,
)
# A launch goes where placement says (cluster.placement), not to an owner.
_LAUNCH = re.compile(r"/api/generations/(?P<gid>[^/]+)/preview/launch")
ORIGIN = "origin"  # the kind of a call to a preview's own origin (<preview>.<domain>)
LAUNCH = "launch"
_WS_MAX_MESSAGE = 16 << 20  # bytes: no smaller than what the owner's own proxy takes
_PLACEMENTS = 3  # nodes a launch is sent to, at most, when the chosen ones were full
_MOST_LAUNCH_BODY = 64 * 1024  # a launch's options (services.bodies.JSON_BODY_LIMIT)
_CONNECT_TIMEOUT = 5.0  # s: an owner's listener that does not accept by then is not there
_CLOSE_TIMEOUT = 2.0  # s: ending a forwarded answer's connection, in a finally


def forwarded_generation(
    method: str, path: str, websocket: bool = False, streams: bool = True
) -> str | None:
    """The generation of a call that must reach the node running its preview, if this
    call is one; a live log stream only with ``streams`` (else this node relays it from
    the live tail: ``cluster.tail``)."""
    match = _FORWARDED.fullmatch(path)
    if match is None:
        return None
    if not streams and match["logs"] is not None:
        return None
    if match["stop"] is not None and method != "DELETE":
        return None
    posted_only = (match["revisions_root"], match["snapshots"], match["annotations"])
    if any(group is not None for group in posted_only) and method != "POST":
        return None
    if websocket and "/preview/proxy" not in path and not path.endswith("/logs/ws"):
        return None
    return match["gid"]


def forwarded_kind(path: str) -> str:
    """What a forwarded call to the API is (``stop``, ``proxy``, ``logs`` …): the label
    the metrics count it under."""
    if _LAUNCH.fullmatch(path):
        return LAUNCH
    match = _FORWARDED.fullmatch(path)
    kind = match.lastgroup if match is not None else None
    return "revision" if kind == "revisions_root" else kind or "other"


# (kind, key) -> the other node that runs it, if any; kind: "generation" or "preview"
FindOwner = Callable[[str, str], Awaitable[Owner | None]]
# (generation id, nodes found full) -> the node a launch goes to; None: here.
Place = Callable[[str, frozenset[str]], Awaitable[Owner | None]]


class ClusterForwarder:
    """The outermost ASGI layer of a cluster node (see the module doc).

    ``runs_generation(gid)`` and ``runs_preview(id)`` say whether this node runs it (then
    the call is answered here, with no lookup); ``preview_of_host(host)`` is the preview
    whose own origin ``host`` names, if any; ``find_owner`` asks the database;
    ``place(gid, full)`` is where a launch goes (cluster.placement), leaving out the
    nodes ``full`` names."""

    def __init__(
        self,
        app: Any,
        *,
        secret: str,
        runs_generation: Callable[[str], bool],
        runs_preview: Callable[[str], bool],
        preview_of_host: Callable[[str], str | None],
        find_owner: FindOwner,
        place: Place,
        forward_streams: bool = True,
    ) -> None:
        self.app = app
        self._place = place
        self._forward_streams = forward_streams
        self._secret = secret.encode()
        self._runs_generation = runs_generation
        self._runs_preview = runs_preview
        self._preview_of_host = preview_of_host
        self._find_owner = find_owner
        self.forwarded: dict[str, int] = {}  # calls sent to another node, by kind (metrics)
        # No read timeout: a forwarded call lasts what the owner's answer lasts (a stream,
        # a long proxied call), and the owner times out what it must.
        self._http = httpx.AsyncClient(
            trust_env=False,
            follow_redirects=False,
            timeout=httpx.Timeout(None, connect=_CONNECT_TIMEOUT, pool=_CONNECT_TIMEOUT),
            limits=httpx.Limits(max_connections=200, max_keepalive_connections=50),
        )

    async def aclose(self) -> None:
        await self._http.aclose()

    async def owner_of(self, kind: str, key: str) -> Owner | None:
        """The other node that runs a preview (``kind``: by ``generation`` or by
        ``preview`` id), if any: the database's word."""
        return await self._find_owner(kind, key)

    async def __call__(self, scope: dict, receive: Any, send: Any) -> None:
        kind = scope["type"]
        if kind not in ("http", "websocket") or scope.get("preview.forwarded"):
            await self.app(scope, receive, send)  # (a forwarded call is never forwarded on)
            return
        owner = await self._owner(scope)
        if owner is None:
            await self.app(scope, receive, send)
            return
        call = self._kind(scope)
        self.forwarded[call] = self.forwarded.get(call, 0) + 1
        if call == LAUNCH:
            await self._forward_launch(scope, receive, send, owner)
        elif kind == "http":
            await self._forward_http(scope, receive, send, owner)
        else:
            await self._forward_websocket(scope, receive, send, owner)

    def _kind(self, scope: dict) -> str:
        """A forwarded call's kind (:func:`forwarded_kind`, or ``origin``)."""
        host = _one_host(scope)
        if host and self._preview_of_host(host) is not None:
            return ORIGIN
        return forwarded_kind(scope["path"])

    async def _owner(self, scope: dict) -> Owner | None:
        host = _one_host(scope)
        preview_id = self._preview_of_host(host) if host else None
        try:
            if preview_id is not None:
                if self._runs_preview(preview_id):
                    return None
                return await self._find_owner("preview", preview_id)
            websocket = scope["type"] == "websocket"
            if not websocket and scope.get("method") == "POST":
                launch = _LAUNCH.fullmatch(scope["path"])
                if launch is not None:
                    gid = launch["gid"]
                    if self._runs_generation(gid):  # refused here: it runs here
                        return None
                    return await self._place(gid, frozenset())
            gid = forwarded_generation(
                scope.get("method", "GET"), scope["path"], websocket, self._forward_streams
            )
            if gid is None or self._runs_generation(gid):
                return None
            return await self._find_owner("generation", gid)
        except PreviewError:
            return None  # the database is away: answered here, as it can be

    def _head(self, scope: dict, *, websocket: bool) -> list[tuple[bytes, bytes]]:
        dropped = _OURS | (_HOP | _HANDSHAKE if websocket else _HOP)
        headers = [(n, v) for n, v in scope["headers"] if n.lower() not in dropped]
        client = scope.get("client")
        scheme = scope.get("scheme", "http")
        headers.append((SECRET_HEADER, self._secret))
        headers.append((CLIENT_HEADER, (client[0] if client else "").encode("latin-1")))
        headers.append((SCHEME_HEADER, scheme.encode("latin-1")))
        return headers

    async def _forward_http(self, scope: dict, receive: Any, send: Any, owner: Owner) -> None:
        framing = (b"content-length", b"transfer-encoding")
        has_body = any(n.lower() in framing for n, _ in scope["headers"])
        response = await self._open(scope, _body(receive) if has_body else None, owner, send)
        if response is not None:
            await self._relay(response, receive, send, owner)

    async def _open(
        self, scope: dict, content: Any, owner: Owner, send: Any
    ) -> httpx.Response | None:
        """The call sent on to ``owner``, its answer's head read (None: ``owner`` could
        not be reached, which the caller was answered)."""
        target = scope.get("raw_path") or scope["path"].encode()
        if scope.get("query_string"):
            target += b"?" + scope["query_string"]
        url = owner.internal_url.rstrip("/") + target.decode("latin-1")
        headers = self._head(scope, websocket=False)
        request = self._http.build_request(scope["method"], url, headers=headers, content=content)
        try:
            return await self._http.send(request, stream=True)
        except httpx.TransportError as error:
            _log.warning("cluster: node %s did not take a call: %r", owner.node, error)
            await _refuse(send, owner_unreachable(owner.node))
            return None

    async def _relay(self, response: httpx.Response, receive: Any, send: Any, owner: Owner) -> None:
        """``response`` streamed to the caller as it comes."""
        try:
            async with trio.open_nursery() as nursery:
                # The caller leaving ends the answer at once (a stream, a download).
                nursery.start_soon(_cancel_on_disconnect, receive, nursery.cancel_scope)
                await send(
                    {
                        "type": "http.response.start",
                        "status": response.status_code,
                        "headers": [
                            (n, v) for n, v in response.headers.raw if n.lower() not in _HOP
                        ],
                    }
                )
                async for chunk in response.aiter_raw():
                    await send({"type": "http.response.body", "body": chunk, "more_body": True})
                await send({"type": "http.response.body", "body": b"", "more_body": False})
                nursery.cancel_scope.cancel()
        except httpx.TransportError as error:  # the owner went away mid-answer: cut, as it was
            _log.warning("cluster: node %s's answer broke off: %r", owner.node, error)
        finally:
            with trio.CancelScope(shield=True), trio.move_on_after(_CLOSE_TIMEOUT):
                await response.aclose()

    async def _forward_launch(self, scope: dict, receive: Any, send: Any, owner: Owner) -> None:
        """A launch placed on another node. Placement reads the nodes' counts, it does not
        reserve a slot: two launches at once may both choose a node's last one, and that
        node then refuses the second as full (503 ``cluster_full``). Such a launch is placed
        again without the nodes found full (at most :data:`_PLACEMENTS` placements), and
        run here where placement then says so; any other answer is the caller's. Its body
        (a launch's options: a few hundred bytes, :data:`_MOST_LAUNCH_BODY` at most) is
        kept to be sent again."""
        body = await _whole(receive, _MOST_LAUNCH_BODY)
        if body is None:
            await _refuse(
                send,
                TooLarge(
                    f"A launch's options are at most {_MOST_LAUNCH_BODY} bytes.",
                    code="request_entity_too_large",
                    details={"limit": _MOST_LAUNCH_BODY},
                ),
            )
            return
        gid = _LAUNCH.fullmatch(scope["path"])["gid"]  # type: ignore[index]  # (a launch)
        full: set[str] = set()
        while True:
            response = await self._open(scope, body, owner, send)
            if response is None:
                return
            if response.status_code != 503 or len(full) + 1 >= _PLACEMENTS:
                await self._relay(response, receive, send, owner)
                return
            try:
                content = await response.aread()
            finally:
                await response.aclose()
            if _error_code(content) != "cluster_full":
                await _answer(send, response, content)
                return
            full.add(owner.node)
            try:
                placed = await self._place(gid, frozenset(full))
            except PreviewError:  # the database is away: that node's refusal is the answer
                await _answer(send, response, content)
                return
            if placed is None:  # here, then (where a full cluster is said as such)
                await self.app(scope, _replayed(body, receive), send)
                return
            owner = placed

    async def _forward_websocket(self, scope: dict, receive: Any, send: Any, owner: Owner) -> None:
        connect = await receive()
        if connect["type"] != "websocket.connect":
            return
        address = urlsplit(owner.internal_url)
        resource = (scope.get("raw_path") or scope["path"].encode()).decode("latin-1")
        if scope.get("query_string"):
            resource += "?" + scope["query_string"].decode("latin-1")
        host = _one_host(scope) or f"{address.hostname}:{address.port}"
        try:
            with trio.fail_after(_CONNECT_TIMEOUT):
                stream = await trio.open_tcp_stream(address.hostname or "", address.port or 80)
        except (OSError, trio.TooSlowError):
            await send({"type": "websocket.close", "code": 1011})
            return
        async with stream, trio.open_nursery() as nursery:
            try:
                upstream = await trio_websocket.wrap_client_stream(
                    nursery,
                    stream,
                    host,
                    resource,
                    subprotocols=scope.get("subprotocols") or None,
                    extra_headers=self._head(scope, websocket=True),
                    max_message_size=_WS_MAX_MESSAGE,
                )
            except trio_websocket.ConnectionRejected as refused:
                # The owner's refusal (401, 404, 503 ...), as the caller would have had it.
                await send(
                    {
                        "type": "websocket.http.response.start",
                        "status": refused.status_code,
                        "headers": [(n, v) for n, v in refused.headers if n.lower() not in _HOP],
                    }
                )
                await send({"type": "websocket.http.response.body", "body": refused.body or b""})
                return
            except (trio_websocket.HandshakeError, OSError):
                await send({"type": "websocket.close", "code": 1011})
                return
            await send({"type": "websocket.accept", "subprotocol": upstream.subprotocol})
            nursery.start_soon(_caller_to_owner, receive, upstream, nursery.cancel_scope)
            try:
                while True:
                    message = await upstream.get_message()
                    key = "text" if isinstance(message, str) else "bytes"
                    await send({"type": "websocket.send", key: message})
            except trio_websocket.ConnectionClosed as closed:
                reason = closed.reason
                code = reason.code if reason is not None else 1000
                await send(
                    {
                        "type": "websocket.close",
                        "code": code,
                        "reason": (reason.reason or "") if reason is not None else "",
                    }
                )
            nursery.cancel_scope.cancel()


async def _caller_to_owner(receive: Any, upstream: Any, done: trio.CancelScope) -> None:
    while True:
        message = await receive()
        if message["type"] == "websocket.disconnect":
            with trio.CancelScope(shield=True), trio.move_on_after(_CLOSE_TIMEOUT):
                await upstream.aclose(message.get("code", 1000))
            done.cancel()
            return
        if message["type"] == "websocket.receive":
            data = message.get("text")
            try:
                await upstream.send_message(data if data is not None else message.get("bytes", b""))
            except trio_websocket.ConnectionClosed:
                return  # the owner closed: the other direction says how


async def _body(receive: Any) -> AsyncIterator[bytes]:
    """The caller's body as it comes (never whole in memory)."""
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            raise trio.BrokenResourceError("the caller left before its body ended")
        chunk = message.get("body", b"")
        if chunk:
            yield chunk
        if not message.get("more_body", False):
            return


async def _whole(receive: Any, most: int) -> bytes | None:
    """The caller's whole body, None past ``most`` bytes."""
    chunks, size = [], 0
    async for chunk in _body(receive):
        size += len(chunk)
        if size > most:
            return None
        chunks.append(chunk)
    return b"".join(chunks)


def _replayed(body: bytes, receive: Any) -> Callable[[], Awaitable[dict]]:
    """An ASGI ``receive`` that gives ``body`` (read already from ``receive``) again, then
    what ``receive`` gives (the caller's leave)."""
    given = False

    async def replayed() -> dict:
        nonlocal given
        if given:
            return await receive()
        given = True
        return {"type": "http.request", "body": body, "more_body": False}

    return replayed


def _error_code(content: bytes) -> str | None:
    """The ``error`` of a refusal in the service's shape (errors.error_response)."""
    try:
        answer = json.loads(content)
    except ValueError:
        return None
    return answer.get("error") if isinstance(answer, dict) else None


async def _answer(send: Any, response: httpx.Response, content: bytes) -> None:
    """A refusal read whole (``content``), given to the caller as it was."""
    headers = [(n, v) for n, v in response.headers.raw if n.lower() not in _HOP]
    headers = [(n, v) for n, v in headers if n.lower() != b"content-length"]
    headers.append((b"content-length", str(len(content)).encode()))
    await send({"type": "http.response.start", "status": response.status_code, "headers": headers})
    await send({"type": "http.response.body", "body": content})


async def _cancel_on_disconnect(receive: Any, scope: trio.CancelScope) -> None:
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            scope.cancel()
            return


def _one_host(scope: dict) -> str | None:
    hosts = [v for n, v in scope["headers"] if n == b"host"]
    return hosts[0].decode("latin-1") if len(hosts) == 1 else None


async def _refuse(send: Any, error: PreviewError) -> None:
    status, headers, body = error_response(error)
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [(n.encode(), v.encode()) for n, v in headers],
        }
    )
    await send({"type": "http.response.body", "body": body})


class InternalGate:
    """What a node's internal listener serves: the same app, to calls that carry the
    cluster's secret alone (compared in constant time); 403 to any other, so the
    public API is never reachable there without it. The forwarding node's word on the
    caller's address and scheme is taken, then; its own headers go no further."""

    def __init__(self, app: Any, secret: str) -> None:
        self.app = app
        self._secret = secret.encode()
        # The hot path's, when it serves here too (``proxy.hot.attach_internal``).
        self.extensions: dict[str, Any] = {}

    async def __call__(self, scope: dict, receive: Any, send: Any) -> None:
        kind = scope["type"]
        if kind == "lifespan":  # the app's start and end are its public listener's
            await _lifespan_of_nothing(receive, send)
            return
        ours = {n: v for n, v in scope["headers"] if n in _OURS}
        proof = ours.get(SECRET_HEADER, b"")
        if not hmac.compare_digest(proof, self._secret):
            refusal = PreviewError(
                "This is a cluster node's internal listener: it answers the other nodes only.",
                code="not_a_cluster_node",
            )
            refusal.status_code = 403
            if kind == "http":
                await _refuse(send, refusal)
            elif kind == "websocket":
                status, headers, body = error_response(refusal)
                await send(
                    {
                        "type": "websocket.http.response.start",
                        "status": status,
                        "headers": [(n.encode(), v.encode()) for n, v in headers],
                    }
                )
                await send({"type": "websocket.http.response.body", "body": body})
            return
        scope = dict(scope)
        scope["headers"] = [(n, v) for n, v in scope["headers"] if n not in _OURS]
        scope["preview.forwarded"] = True
        client = ours.get(CLIENT_HEADER, b"").decode("latin-1")
        scope["client"] = (client, 0) if client else None
        scheme = ours.get(SCHEME_HEADER, b"").decode("latin-1")
        if scheme in ("http", "https", "ws", "wss"):
            scope["scheme"] = scheme
        await self.app(scope, receive, send)


async def _lifespan_of_nothing(receive: Any, send: Any) -> None:
    while True:
        message = await receive()
        if message["type"] == "lifespan.startup":
            await send({"type": "lifespan.startup.complete"})
        elif message["type"] == "lifespan.shutdown":
            await send({"type": "lifespan.shutdown.complete"})
            return


async def serve_internal(
    app: Any,
    internal_url: str,
    secret: str,
    until: trio.Event,
    prepare: Callable[[InternalGate], None] | None = None,
    *,
    task_status: trio.TaskStatus[Any],
) -> None:
    """Serve ``app`` behind :class:`InternalGate` at ``internal_url``'s host and port
    until ``until`` is set (as the app stops: the app's nursery waits for its tasks);
    ``prepare`` is given the gate first (the app's: ``proxy.hot.attach_internal``, so
    that the calls the other nodes' hot paths send on are served on this one's)."""
    address = urlsplit(internal_url)
    config = Config()
    config.bind = [f"{address.hostname}:{address.port or 80}"]
    config.graceful_timeout = _CLOSE_TIMEOUT
    config.keep_alive_timeout = 75  # s: the forwarding nodes keep their connections
    gate: Any = InternalGate(app, secret)
    if prepare is not None:
        prepare(gate)
    await hypercorn_serve(
        gate,
        config,
        shutdown_trigger=until.wait,
        task_status=task_status,
    )
