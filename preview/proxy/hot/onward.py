"""A cluster's calls on the hot path (``hot.path``): a call for a preview that another
node runs, sent on to that node as raw bytes (:class:`Onward`), and the other side of
it, a call another node sent here, vouched for by the cluster's secret (:class:`Hop`).

Through ASGI a forwarded call crossed two Hypercorn + httpx hops (the forwarding node's
``cluster.forwarding.ClusterForwarder`` and the owner's internal listener, then its ASGI
fast path): about 10 ms and 8 times the CPU of a call to the owner itself. Here the
node that gets the call writes its head as the caller sent it, with the cluster's three
headers (``policy.CLUSTER_*_HEADER``: its secret, the caller's address and scheme), on
a kept-alive connection to the owner's internal listener (``upstream.RawPools``, as to
an app), streams its body as it came and relays the owner's answer as the owner framed
it. The owner's internal listener runs the same hot path (``hot.front``), which checks
the secret (:meth:`Hop.vouched`), takes the caller's address from it and serves the
call as its own: the owner authenticates the caller, records the call and answers every
refusal, so an answer is the same whichever node the call came to.

What the hot path does not take (WebSocket upgrades, CORS, navigations, a token in the
query, a caller that sent the cluster's headers itself) goes to Hypercorn and the ASGI
forwarder as before. A node that cannot be reached is 503 ``owner_unreachable``; where a
preview runs is asked of the database once per :data:`OWNER_TTL` at most
(``cluster`` gives :class:`Onward` its lookup).
"""

from __future__ import annotations

import hmac
import re
from collections.abc import Awaitable, Callable
from typing import Any, final
from urllib.parse import urlsplit

import httpx
import trio

from ...errors import owner_unreachable
from ...services import Services
from ...services.origins import preview_id_of_label
from ..policy import (
    CLUSTER_CLIENT_HEADER,
    CLUSTER_SCHEME_HEADER,
    CLUSTER_SECRET_HEADER,
    body_too_large,
)
from .envelope import EnvelopeTarget
from .head import HeadWriter, RequestHead, ResponseHead
from .relay import ClientGone, RequestBody, answer_error, relay
from .upstream import RawPools, answer_body
from .watch import Watch

__all__ = ["OWNER_TTL", "Hop", "Node", "Onward", "OwnerOf"]

_SECRET = CLUSTER_SECRET_HEADER.encode()
_CLIENT = CLUSTER_CLIENT_HEADER.encode()
_SCHEME = CLUSTER_SCHEME_HEADER.encode()
_OURS = (_SECRET, _CLIENT, _SCHEME)
# An address as a node writes it (IPv4 or IPv6, nothing else: it goes into a header).
_ADDRESS = re.compile(rb"[0-9A-Fa-f:.]{1,64}")
# Not relayed from the owner's answer: its framing (``relay`` writes the framing anew),
# and what the forwarding node's own server stamps on every answer.
_OWNERS_OWN = frozenset(
    {b"content-length", b"transfer-encoding", b"connection", b"keep-alive", b"server", b"date"}
)
_ANSWER = "onward"  # ResponseHead.memo's key of the owner's headers relayed
_VOUCHED = "vouched"  # RequestHead.memo's key of what Hop.vouched found
OWNER_TTL = 1.0  # s: where a preview runs, as the database said it, trusted this long
_MARGIN = 5.0  # s past the proxy's timeout: the owner times a call out, not the hop
_CLOSE_TIMEOUT = 1.0

# ("generation" or "preview", its id) -> (node, internal URL) of the other node that
# runs it, or None (here, or nowhere: answered here).
OwnerOf = Callable[[str, str], Awaitable[tuple[str, str] | None]]


@final
class Node:
    """Another node's internal listener, as the pools connect to it (``Dialled``)."""

    __slots__ = ("__weakref__", "host", "name", "port")

    def __init__(self, name: str, internal_url: str) -> None:
        address = urlsplit(internal_url)
        self.name = name
        self.host = address.hostname or "127.0.0.1"
        self.port = address.port or 80

    async def open_stream(self) -> trio.SocketStream:
        return await trio.open_tcp_stream(self.host, self.port)

    def call_began(self) -> None:  # (an app's revision waits for its calls; a node's not)
        pass

    def call_ended(self) -> None:
        pass


class Hop:
    """A node's internal listener's side of a forwarded call (see the module doc)."""

    __slots__ = ("_secret",)

    def __init__(self, secret: str) -> None:
        self._secret = secret.encode()

    def vouched(self, request: RequestHead) -> bytes | None:
        """The ``X-Forwarded-For`` line of the caller the forwarding node vouches for, if
        the request carries the cluster's secret (compared in constant time), once, and a
        plain-HTTP caller's address; None for Hypercorn (``cluster.InternalGate``: 403,
        or an HTTPS caller's call). Remembered with the head's bytes (``memo``)."""
        memo = request.memo
        try:
            return memo[_VOUCHED]
        except KeyError:
            pass
        found = None
        ours = [(n, v) for n, v in request.headers if n in _OURS]
        named = dict(ours)
        client = named.get(_CLIENT, b"")
        if (
            len(ours) == len(named) == len(_OURS)
            and hmac.compare_digest(named[_SECRET], self._secret)
            and named[_SCHEME] == b"http"
            and _ADDRESS.fullmatch(client)
        ):
            found = b"X-Forwarded-For: %s\r\n" % client
        memo[_VOUCHED] = found
        return found


class Onward:
    """The calls this node's hot path sends on to the node that runs their preview (see
    the module doc); ``forwarded``: the count by kind (``proxy``, ``origin``,
    ``request``), shared with the ASGI forwarder's for the metrics."""

    def __init__(
        self,
        state: Services,
        pools: RawPools,
        heads: HeadWriter,
        secret: str,
        owner_of: OwnerOf,
        forwarded: dict[str, int],
    ) -> None:
        self._state, self._pools, self._heads = state, pools, heads
        self._secret = b"%s: %s\r\n" % (_SECRET, secret.encode())
        self._owner_of = owner_of
        self._nodes: dict[tuple[str, str], Node] = {}
        self._owners: dict[tuple[str, str], tuple[Node | None, float]] = {}
        self.forwarded = forwarded
        self.sent = 0  # calls sent on here (the tests' evidence that the hot path did)

    async def owner(self, request: RequestHead, head_route: Any) -> tuple[Node, str] | None:
        """The node that runs the preview the call is for and the call's kind, if not
        this one (``head_route``: what ``Routes.head_route`` read of the head)."""
        if head_route is None:
            return None
        supervisor = self._state.supervisor
        if supervisor is None:
            return None
        if type(head_route) is EnvelopeTarget:
            kind, key, what = "generation", head_route.gid, "request"
            if supervisor.for_generation(key) is not None:
                return None
        elif head_route[0]:  # at a preview's own origin
            label = self._state.origins.label_of_host(head_route[1])
            if label is None:
                return None
            kind, key, what = "preview", preview_id_of_label(label), "origin"
            if supervisor.get(key) is not None:
                return None
        else:
            kind, key, what = "generation", head_route[2], "proxy"
            if supervisor.for_generation(key) is not None:
                return None
        named = request.named
        if _SECRET in named or _CLIENT in named or _SCHEME in named:
            return None  # the ASGI forwarder takes the caller's own off
        now = trio.current_time()
        found = self._owners.get((kind, key))
        if found is None or found[1] <= now:
            owner = await self._owner_of(kind, key)
            node = None
            if owner is not None:
                node = self._nodes.get(owner)
                if node is None:
                    node = self._nodes[owner] = Node(*owner)
            found = self._owners[(kind, key)] = (node, now + OWNER_TTL)
            if len(self._owners) > 10_000:  # keys of previews long gone: dropped at times
                self._owners = {k: v for k, v in self._owners.items() if v[1] > now}
        node = found[0]
        return None if node is None else (node, what)

    def forget(self, node: Node) -> None:
        """``node`` did not answer: where its previews run is asked again."""
        self._owners = {k: v for k, v in self._owners.items() if v[0] is not node}

    async def forward(
        self,
        client: trio.SocketStream,
        request: RequestHead,
        buffer: bytes,
        owner: tuple[Node, str],
        watch: Watch,
        address: str,
    ) -> bytes | None:
        """Send the call on to ``owner`` and relay its answer; the bytes after the request
        (the next one's), or None if the connection must close."""
        node, kind = owner
        settings = self._state.settings
        limit = settings.proxy_max_body_bytes
        if request.length is not None and request.length > limit:
            await answer_error(client, body_too_large(limit), [])
            return None
        self.forwarded[kind] = self.forwarded.get(kind, 0) + 1
        ours = b"%s%s: %s\r\n%s: http\r\n\r\n" % (
            self._secret,
            _CLIENT,
            address.encode("latin-1"),
            _SCHEME,
        )
        head = buffer[: request.size - 2] + ours  # the caller's head, ours added
        body = RequestBody(client, request, buffer, limit, settings.body_timeout)
        timeout = settings.proxy_timeout + _MARGIN
        pools = self._pools
        taken = events = None
        try:
            taken, response = await pools.ask(
                node,
                timeout,
                head,
                None if body.empty else body.chunks(),
                request.method,
                watch,
                self._heads.read_response,
            )
        except (httpx.HTTPError, ClientGone) as error:
            if taken is not None:
                pools.give_back(node, taken, keep=False)
            if body.refused is not None:
                await answer_error(client, body.refused, [])
            elif not isinstance(error, ClientGone):
                self.forget(node)
                await answer_error(client, owner_unreachable(node.name), [])
            return None
        except BaseException:
            if taken is not None:
                pools.give_back(node, taken, keep=False)
            raise
        self.sent += 1
        kept = False
        try:
            if response.whole is None:
                events = answer_body(taken, response, timeout, watch)
            kept = await relay(client, response, events, _owners_headers(response))
        finally:
            pools.give_back(node, taken, keep=kept)
            if events is not None and getattr(events, "ag_frame", None) is not None:
                with trio.CancelScope(shield=True), trio.move_on_after(_CLOSE_TIMEOUT):
                    await events.aclose()
        return body.rest if kept else None


def _owners_headers(response: ResponseHead) -> bytes:
    """The owner's answer's headers as ``relay`` writes them (the framing and the stamp
    are its own), remembered with the head."""
    block = response.memo.get(_ANSWER)
    if block is None:
        block = response.memo[_ANSWER] = b"".join(
            b"%s: %s\r\n" % (name, value)
            for name, value in response.headers
            if name not in _OWNERS_OWN
        )
    return block
