"""Who may call a preview's app, and where the call goes: the rule every path to the app
shares (the envelope, the path proxy and its WebSocket, the fast paths, tickets).

The caller must own the generation (else 404, as for an unknown one), its preview must
be running (else 503 ``preview_not_running``) and the call must carry the preview's
token (else 403). A proxied call's token may come once in the query (``previewToken``),
which the path proxy trades for a cookie; it is never passed on to the app.
"""

from __future__ import annotations

import time
import urllib.parse
from typing import TYPE_CHECKING, Any

from ..auth import User
from ..clock import utcnow
from ..errors import BadRequest, Forbidden, Unavailable
from ..previewtokens import PreviewToken
from ..runtime import proxy_prefix
from ..services import Services
from ..services.callers import owned_generation
from .policy import EnvelopeRequest, parse_envelope, validate_path

if TYPE_CHECKING:
    from ..runtime import PreviewRuntime

__all__ = [
    "CheckedCredentials",
    "authorised_envelope",
    "authorised_runtime",
    "authorised_target",
    "checked_token",
    "owned_runtime",
    "presented_token",
    "shared_target",
]

_AUTH_TTL = 5.0  # s a checked credential is taken as checked
_AUTH_ENTRIES = 4096


class CheckedCredentials:
    """Credentials (a key of what a call carries) that passed a running preview's
    checks, taken as checked for ``_AUTH_TTL`` (the hot path's cache), never past the
    expiry of any of its tokens, a token's revocation, nor the preview's stop."""

    def __init__(self) -> None:
        self._checked: dict[tuple, tuple[float, PreviewRuntime, int]] = {}

    def get(self, key: tuple) -> PreviewRuntime | None:
        """The running preview these credentials were checked for, if still valid."""
        found = self._checked.get(key)
        if found is None:
            return None
        expires, runtime, version = found
        if (
            time.monotonic() > expires
            or runtime.status != "running"
            or runtime.spec.tokens.version != version
        ):
            del self._checked[key]
            return None
        return runtime

    def remember(self, key: tuple, runtime: PreviewRuntime) -> None:
        if len(self._checked) >= _AUTH_ENTRIES:
            self._checked.clear()
        expires = time.monotonic() + _AUTH_TTL
        soonest = runtime.spec.tokens.soonest_expiry(utcnow())
        if soonest is not None:
            left = soonest.timestamp() - time.time()
            expires = min(expires, time.monotonic() + max(left, 0))
        self._checked[key] = (expires, runtime, runtime.spec.tokens.version)


def _running(state: Services, gid: str) -> PreviewRuntime:
    assert state.supervisor is not None
    runtime = state.supervisor.for_generation(gid)
    if runtime is None or runtime.status != "running":
        raise Unavailable(
            "The preview is not running.",
            code="preview_not_running",
            details={"status": runtime.status if runtime else None},
        )
    return runtime


def checked_token(runtime: PreviewRuntime, token: str | None) -> PreviewToken:
    """The live token of ``runtime`` that ``token`` is (403 if none)."""
    if not token:
        raise Forbidden("Send the preview token (X-Preview-Token).", code="missing_preview_token")
    tokens = runtime.spec.tokens
    found = tokens.match(token, utcnow())
    if found is None:
        if tokens.expired(token):
            raise Forbidden("The preview token has expired.", code="preview_token_expired")
        raise Forbidden(
            "The preview token is not valid for this preview.", code="invalid_preview_token"
        )
    return found


def _split_target(gid: str, raw_path: bytes, query_string: bytes) -> tuple[str, str, str | None]:
    """(path for the child, query without our token, the token from the query if any)."""
    if not raw_path.startswith(b"/"):
        # The absolute form (``GET http://host/path``), which a server must accept
        # (RFC 9112 §3.2.2): its path is the target.
        raw_path = urllib.parse.urlsplit(raw_path).path
    prefix = proxy_prefix(gid).encode()
    rest = raw_path[len(prefix) :]
    if not raw_path.startswith(prefix) or rest[:1] not in (b"", b"/"):
        # Routed here by its decoded path, but written otherwise (say, %-encoded): the
        # child's path cannot be told apart from ours, so it is not guessed.
        raise BadRequest(
            f"Write the proxy path as the service gave it: {proxy_prefix(gid)}/<path of the app>.",
            code="invalid_proxy_path",
        )
    path = validate_path(rest.decode("latin-1") or "/")
    if b"previewToken" not in query_string and b"%" not in query_string:
        return path, query_string.decode("latin-1"), None  # no token (even %-encoded)
    pairs = urllib.parse.parse_qsl(query_string.decode("latin-1"), keep_blank_values=True)
    token = next((value for name, value in pairs if name == "previewToken"), None)
    if token is None:
        return path, query_string.decode("latin-1"), None
    kept = [(name, value) for name, value in pairs if name != "previewToken"]
    return path, urllib.parse.urlencode(kept), token


async def authorised_target(
    state: Services,
    gid: str,
    user: User,
    raw_path: bytes,
    query_string: bytes,
    header_token: str | None,
    cookie_token: str | None,
) -> tuple[PreviewRuntime, str, str, str | None]:
    """Check the owner and the preview token of a proxied call; where it goes.

    Returns the runtime, the child's path, the query without our token, and the token
    if it came in the query (to be traded for a cookie).
    """
    await owned_generation(gid, user, state)
    runtime = _running(state, gid)
    child_path, query, query_token = _split_target(gid, raw_path, query_string)
    checked_token(runtime, presented_token(header_token, query_token, cookie_token))
    return runtime, child_path, query, query_token


def shared_target(
    state: Services, gid: str, raw_path: bytes, query_string: bytes
) -> tuple[PreviewRuntime, str, str]:
    """Where a proxied call of a user the generation is shared with as a ``caller`` goes
    (``services.callers.generation_access`` checked that): the running preview (503),
    the child's path and the query without a preview token. The share stands for the
    preview token, which only the owner holds."""
    runtime = _running(state, gid)
    child_path, query, _ = _split_target(gid, raw_path, query_string)
    return runtime, child_path, query


def presented_token(header: str | None, query: str | None, cookie: str | None) -> str | None:
    """Which of the tokens a proxied call carries counts: the header's, then the query's,
    then the cookie's."""
    return header or query or cookie


async def authorised_runtime(
    state: Services, gid: str, user: User, token: str | None
) -> PreviewRuntime:
    """The running preview of ``gid`` if ``user`` owns it and ``token`` is its preview
    token: the rule of every call to the app (404, then 503, then 403)."""
    runtime = await owned_runtime(state, gid, user)
    checked_token(runtime, token)
    return runtime


async def owned_runtime(state: Services, gid: str, user: User) -> PreviewRuntime:
    """The running preview of ``gid`` if ``user`` owns it (404, then 503); its preview
    token still to check."""
    await owned_generation(gid, user, state)
    return _running(state, gid)


def authorised_envelope(
    state: Services,
    gid: str,
    data: dict[str, Any],
    header_token: str | None,
    *,
    shared: bool = False,
) -> tuple[PreviewRuntime, EnvelopeRequest]:
    """The envelope call of an owner's request body, and the running preview it goes to
    once its preview token is checked; ``shared``: a caller the generation is shared
    with, whose share stands for the token (checked by the route)."""
    call = parse_envelope(data, max_body=state.settings.proxy_max_body_bytes)
    runtime = _running(state, gid)
    if not shared:
        checked_token(runtime, header_token or call.preview_token)
    return runtime, call
