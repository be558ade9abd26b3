"""Which requests the hot path serves (``path``), and where each goes: the path proxy's
and a preview origin's authorised calls, the envelope's, and the trade of a ticket for a
preview origin's session; None for every other request (Hypercorn's)."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import TYPE_CHECKING, final

from ...errors import PreviewError
from ...runtime import proxy_prefix
from ...services import ENTER_PATH, Services
from ...services.callers import AsgiCaller
from ..access import CheckedCredentials, _split_target, authorised_target
from ..browser import API_ORIGIN_HEADERS, ApiOrigin, AppOrigin, is_navigating_head
from ..origin_router import _check_session, _child_path, _preview_at
from ..policy import PREVIEW_TOKEN_COOKIE
from .envelope import EnvelopeTarget
from .head import CallTarget, RequestHead
from .relay import VARY_ORIGIN

if TYPE_CHECKING:
    from ...runtime import PreviewRuntime

__all__ = ["Enter", "Routes"]

_PATH = re.compile(rb"/api/generations/([^/?]{1,40})/preview/proxy(?:/[^?]*)?(?:\?.*)?", re.S)
_ENVELOPE = re.compile(rb"/api/generations/([^/?]{1,40})/preview/request")
_HANDED = frozenset({b"upgrade", b"expect"})
_CREDENTIALS = (b"authorization", b"cookie", b"x-preview-token", b"x-preview-csrf", b"host")
_ENTER = ENTER_PATH.encode()
_APP_ORIGIN = AppOrigin()


@final  # narrowed by `type(x) is` on the hot path
class Enter:
    """A ticket to trade for the origin's session (``origin_router._enter``)."""

    __slots__ = ("runtime",)

    def __init__(self, runtime: PreviewRuntime) -> None:
        self.runtime = runtime


class Routes:
    """The hot path's routing (see the module doc), with its credential cache;
    ``takes_envelope``: whether an envelope request's body may be read there."""

    def __init__(
        self,
        state: Services,
        checked: CheckedCredentials,
        takes_envelope: Callable[[RequestHead], bool],
    ) -> None:
        self._state, self._checked, self._takes_envelope = state, checked, takes_envelope
        # Ours on the API's origin; with CORS origins configured, an answer there varies
        # by Origin (``transport.cors``: a call with one is the ASGI path's).
        self._api_origin_headers = API_ORIGIN_HEADERS
        if state.settings.cors_origin_set:
            self._api_origin_headers = (*API_ORIGIN_HEADERS, VARY_ORIGIN)

    async def route(self, request: RequestHead) -> CallTarget | Enter | EnvelopeTarget | None:
        """Where an authorised call goes, or None for Hypercorn to answer. What follows
        from the head's bytes alone (which route, the credentials' key) is worked out
        once per head (``RequestHead.memo``); the credentials' check (cached) and the
        preview's state, at every call."""
        state = self._state
        if state.supervisor is None or state.store is None:
            return None
        try:
            head_route = self.head_route(request)
            if head_route is None or type(head_route) is EnvelopeTarget:
                return head_route
            if head_route[0]:
                return self._at_origin(request, *head_route[1:])
            return await self._on_path(request, *head_route[1:])
        except PreviewError:
            return None

    def head_route(self, request: RequestHead) -> tuple | EnvelopeTarget | None:
        """:meth:`_head_route`, once per head (``RequestHead.memo``)."""
        memo = request.memo
        try:
            return memo["head_route"]
        except KeyError:
            found = memo["head_route"] = self._head_route(request)
            return found

    def _head_route(self, request: RequestHead) -> tuple | EnvelopeTarget | None:
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
        if b"origin" in named:
            return None  # CORS: the ASGI path's
        if match is None:
            match = _ENVELOPE.fullmatch(request.target)
            if match is None or request.method != b"POST" or not self._takes_envelope(request):
                return None
            gid = match.group(1).decode("latin-1")
            return EnvelopeTarget(gid, (gid, b"envelope", *(named.get(n) for n in _CREDENTIALS)))
        method = request.method
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
        browser_origin = ApiOrigin("http", host, prefix, child_path)
        target = CallTarget(
            runtime,
            request,
            child_path,
            query,
            browser_origin,
            "http",
            host,
            self._api_origin_headers,
        )
        request.memo["target"] = target
        return target

    def _at_origin(
        self, request: RequestHead, host: str, raw_path: bytes, query_string: bytes, key: tuple
    ) -> CallTarget | Enter | None:
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
                return Enter(runtime) if bodiless and request.method in (b"GET", b"HEAD") else None
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
