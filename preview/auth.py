"""Authentication: bearer JWTs (HS256, PyJWT), session cookies, preview tokens.

A host that embeds the service may pass its own ``Authenticator`` to ``create_app``;
the default one, :class:`JWTAuthenticator`, verifies ``Authorization: Bearer <JWT>``
with ``sub`` and ``exp`` required and an optional ``tier`` (``free`` or ``pro``). Every
route also accepts the session cookie that ``POST /api/session`` sets (a
browser's ``EventSource`` cannot send headers, and the web UI keeps no token a page's
script could read), where no other site's page can have made the browser send it:
:func:`cookie_may_authenticate`. Over HTTPS it is ``__Host-preview_session``, and only that
name is read there (:func:`session_cookie_name`); over HTTP ``preview_session``. No token
is ever taken from a URL.
"""

from __future__ import annotations

import time
import unicodedata
from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass, field
from typing import Protocol, TypeGuard

import jwt

from .errors import Forbidden, Unauthorized

__all__ = [
    "CSRF_HEADER",
    "SECURE_SESSION_COOKIE",
    "SESSION_COOKIE",
    "Authenticator",
    "JWTAuthenticator",
    "User",
    "authenticate_request",
    "cookie_may_authenticate",
    "session_cookie_name",
]

MAX_SUBJECT = 200  # characters of a user id (a token's sub): the store's user_id columns hold 200


def valid_subject(subject: object) -> TypeGuard[str]:
    """A user id the service takes: a string of 1 to MAX_SUBJECT characters, no control
    character (a newline in it named a user apart from the same id without), no space
    at either end."""
    return (
        isinstance(subject, str)
        and 0 < len(subject) <= MAX_SUBJECT
        and subject == subject.strip()
        and not any(unicodedata.category(ch) == "Cc" for ch in subject)
    )


SESSION_COOKIE = "preview_session"
# Over HTTPS the __Host- prefix: browsers take it only host-only, Secure and with Path=/,
# so a preview's page under a sibling subdomain of the same site cannot plant one of that
# name for their parent domain (its owner's session in a victim's browser: login CSRF).
SECURE_SESSION_COOKIE = "__Host-" + SESSION_COOKIE
CSRF_HEADER = "X-Preview-CSRF"
TIERS = ("free", "pro")
_SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


@dataclass(frozen=True)
class User:
    id: str
    tier: str = "free"
    # An operator (the token's ``admin`` claim, true): sees every user's audit trail.
    admin: bool = False
    # When the credential of this request ends, if known (a session cookie's: that of the
    # bearer token it was opened with): a session opened or renewed never outlives it.
    valid_until: float | None = field(default=None, compare=False)


class Authenticator(Protocol):
    """Who a request is from. ``create_app(authenticator=...)`` takes a host's own.

    ``authenticate`` gets the ``Authorization`` header, our session cookie, whether it
    may count for this request (:func:`cookie_may_authenticate`), and all the request's
    cookies,
    so that an embedding host can recognise its own session (see
    ``examples/embedding``); it returns the :class:`User` or raises ``Unauthorized``.
    It runs on the event loop for every request: no blocking I/O.
    ``session_token`` makes the value of our cookie for ``POST /api/session``.
    """

    def authenticate(
        self,
        authorization: str | None,
        session_cookie: str | None,
        *,
        allow_cookie: bool,
        cookies: Mapping[str, str],
    ) -> User: ...

    def session_token(self, user: User) -> tuple[str, int]: ...


_VERIFIED_MAX = 4096  # tokens whose verification is remembered (then forgotten at once)
MAX_LIFETIME = 30 * 86400  # s: PREVIEW_JWT_MAX_LIFETIME's default
_CLOCK_SKEW = 60  # s: an issuer's clock ahead of ours by this much still counts its iat
_LATEST_TIME = 2**53  # seconds: beyond, a float (the cache's clock) no longer holds them exactly


def _numeric_date(value: object) -> bool:
    """A JSON number of seconds we can compare and keep (RFC 7519 NumericDate): PyJWT
    accepts a string or a bool too, and an integer too large for a float (``exp``
    10**400) made the remembered expiry raise ``OverflowError``."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return False
    return -_LATEST_TIME <= value <= _LATEST_TIME  # False for NaN and infinities


class JWTAuthenticator:
    """HS256 JWTs signed with the service's secret.

    A token that verified is remembered until its ``exp``: every API call, proxied call
    and stream carries one, and verifying costs ~70 µs of CPU each time. ``clock`` is
    the time source of that memory (``time.time``; tests pass their own).

    ``max_lifetime`` (``PREVIEW_JWT_MAX_LIFETIME``) bounds what a token may claim: one
    leaked with ``exp`` in a thousand years could not be outlived, only the secret
    rotated, so tokens living longer are refused rather than trusted until then.
    """

    def __init__(
        self,
        secret: str,
        *,
        session_timeout: float,
        max_lifetime: float = MAX_LIFETIME,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._secret = secret
        self._session_timeout = session_timeout
        self._max_lifetime = max_lifetime
        self._clock = clock
        # A plain dict: its get / set / clear are atomic, so threads may share it.
        self._verified: dict[tuple[str, bool], tuple[User, float]] = {}

    def issue(
        self, user_id: str, *, tier: str = "free", lifetime: float = 86400, admin: bool = False
    ) -> str:
        if not valid_subject(user_id):
            raise ValueError(
                f"a user id is 1 to {MAX_SUBJECT} characters, none of them a control"
                " character, with no space at either end"
            )
        if tier not in TIERS:
            raise ValueError(f"tier must be one of {TIERS}")
        if lifetime > self._max_lifetime:  # the service would refuse it
            raise ValueError(
                f"a token may live at most {self._max_lifetime:.0f} s (PREVIEW_JWT_MAX_LIFETIME)"
            )
        now = int(time.time())
        claims: dict[str, object] = {"sub": user_id, "tier": tier, "iat": now}
        claims["exp"] = now + int(lifetime)
        if admin:
            claims["admin"] = True
        return jwt.encode(claims, self._secret, algorithm="HS256")

    def decode(self, token: str, *, session: bool = False) -> User:
        known = self._verified.get((token, session))
        if known is not None:
            user, expires = known
            if self._clock() < expires:
                return user
            raise Unauthorized("The token has expired.", code="token_expired")
        user, expires = self._verify(token, session)
        if len(self._verified) >= _VERIFIED_MAX:
            self._verified.clear()
        self._verified[(token, session)] = (user, expires)
        return user

    def _verify(self, token: str, session: bool) -> tuple[User, float]:
        try:
            claims = jwt.decode(
                token,
                self._secret,
                algorithms=["HS256"],
                options={"require": ["sub", "exp"]},
            )
        except jwt.ExpiredSignatureError:
            raise Unauthorized("The token has expired.", code="token_expired") from None
        except jwt.InvalidTokenError as error:
            raise Unauthorized(f"The token is not valid: {error}.", code="invalid_token") from None
        for name in ("exp", "iat", "nbf"):
            if name in claims and not _numeric_date(claims[name]):
                raise Unauthorized(f"The token's {name} is not a valid time.", code="invalid_token")
        self._check_lifetime(claims)
        if session != (claims.get("typ") == "session"):
            raise Unauthorized("This kind of token is not accepted here.", code="invalid_token")
        subject, tier = claims.get("sub"), claims.get("tier", "free")
        if not valid_subject(subject) or tier not in TIERS:
            raise Unauthorized("The token's sub or tier is not valid.", code="invalid_token")
        until = claims.get("until", claims["exp"]) if session else claims["exp"]
        if not _numeric_date(until):
            raise Unauthorized("The token's until is not a valid time.", code="invalid_token")
        admin = claims.get("admin") is True  # (a JSON true: no other value makes one)
        return User(subject, tier, valid_until=float(until), admin=admin), float(claims["exp"])

    def _check_lifetime(self, claims: Mapping[str, object]) -> None:
        """Refuse a token that lives longer than ``max_lifetime``: ``exp - iat``, or
        ``exp - now`` without ``iat``. An ``iat`` in the future counts from now (give or
        take another node's clock), so a token cannot shorten its lifetime by claiming
        to be issued later."""
        now = self._clock()
        issued = min(float(claims.get("iat", now)), now + _CLOCK_SKEW)  # type: ignore[arg-type]
        lifetime = float(claims["exp"]) - issued  # type: ignore[arg-type]
        if lifetime > self._max_lifetime:
            raise Unauthorized(
                f"The token would be valid for {lifetime:.0f} s (exp - iat), longer than"
                f" the {self._max_lifetime:.0f} s this service accepts; use a shorter-lived"
                " token.",
                code="token_lifetime_too_long",
                details={"maxLifetime": self._max_lifetime},
            )

    def authenticate(
        self,
        authorization: str | None,
        session_cookie: str | None,
        *,
        allow_cookie: bool,
        cookies: Mapping[str, str] | None = None,
    ) -> User:
        """Bearer header first, else (where allowed) our session cookie. Never a token
        from the URL: URLs end up in logs, histories and Referer headers."""
        if authorization:
            scheme, _, token = authorization.partition(" ")
            if scheme.lower() != "bearer" or not token.strip():
                raise Unauthorized(
                    "Use 'Authorization: Bearer <token>'.", code="invalid_authorization"
                )
            return self.decode(token.strip())
        if allow_cookie and session_cookie:
            return self.decode(session_cookie, session=True)
        raise Unauthorized("Sign in: no bearer token was sent.", code="missing_credentials")

    def session_token(self, user: User) -> tuple[str, int]:
        """A session JWT for the cookie, and its lifetime in seconds: the session timeout
        (never beyond what ``decode`` accepts), and never past the credential it is opened
        (or renewed) with."""
        now = int(time.time())
        expires = now + int(min(self._session_timeout, self._max_lifetime))
        claims: dict[str, object] = {"sub": user.id, "tier": user.tier, "typ": "session"}
        if user.admin:
            claims["admin"] = True
        if user.valid_until is not None:
            until = int(user.valid_until)
            expires = min(expires, until)
            claims["until"] = until
        claims |= {"iat": now, "exp": expires}
        return jwt.encode(claims, self._secret, algorithm="HS256"), max(expires - now, 0)


def cookie_may_authenticate(
    method: str, header: Callable[[str], str | None], trusted_origins: Collection[str]
) -> bool:
    """Whether our session cookie may authenticate this request. A browser adds it to
    whatever a page of this site asks for, so it counts only where no other origin's page
    can have asked: no ``Origin``, or the service's own (that of the ``Host`` called) or
    one of ``trusted_origins`` (``PREVIEW_CORS_ORIGINS``), which also keeps WebSockets
    (no CORS) to our pages; and for a method that changes something, the
    ``X-Preview-CSRF`` header too, which another origin's page cannot send without a
    CORS preflight that only trusted origins pass. ``header`` reads a request header."""
    origin = header("origin")
    if origin is not None and origin not in trusted_origins:
        authority = origin.partition("://")[2]
        if not authority or authority.lower() != (header("host") or "").lower():
            return False
    return method.upper() in _SAFE_METHODS or bool(header(CSRF_HEADER))


def session_cookie_name(scheme: str) -> str:
    """The session cookie's name for a request of ``scheme`` (``http``, ``wss`` …)."""
    return SECURE_SESSION_COOKIE if scheme in ("https", "wss") else SESSION_COOKIE


def authenticate_request(
    authenticator: Authenticator,
    method: str,
    header: Callable[[str], str | None],
    cookies: Mapping[str, str],
    trusted_origins: Collection[str],
    *,
    scheme: str,
) -> User:
    """Who sent this request (``method``, ``header`` reads its headers; ``scheme``: how
    it came): the bearer header, else our session cookie (of the scheme's name) where
    :func:`cookie_may_authenticate`; 401, or 403 ``session_cookie_refused`` when only a
    cookie came and it may not count here."""
    session = cookies.get(session_cookie_name(scheme))
    allowed = cookie_may_authenticate(method, header, trusted_origins)
    try:
        return authenticator.authenticate(
            header("authorization"), session, allow_cookie=allowed, cookies=cookies
        )
    except Unauthorized as error:
        if session and not allowed and error.code == "missing_credentials":
            raise Forbidden(
                "The session cookie counts for a call that changes something only with the "
                f"{CSRF_HEADER} header, and never for a page of another origin; send "
                "'Authorization: Bearer <token>' instead.",
                code="session_cookie_refused",
            ) from None
        raise
