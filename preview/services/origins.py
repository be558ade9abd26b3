"""Each running preview at an origin of its own: ``http://<label>.localhost:<port>/``, or
``<label>.<PREVIEW_APP_DOMAIN>`` in production.

What lives here is the bookkeeping of those origins, apart from any transport: which
``Host`` names a preview (:meth:`AppOrigins.label_of_host`), the public URL of a
preview's origin, the one-time *tickets* the API issues to open an origin in a browser,
and the signed session cookie a ticket is traded for on that origin.

Why tickets: a browser that opens the origin in a new tab carries none of the API's
credentials there (the API's session cookie is host-only on the service's host, and must
stay so: the app's own JavaScript runs at its origin). So the API, which knows the user
and checks the preview token, issues a ticket that opens exactly one preview, once,
within ``PREVIEW_APP_TICKET_TIMEOUT`` seconds; the origin trades it for a host-only
HttpOnly cookie and redirects to a URL without it, so no token stays in the address bar,
the history or a ``Referer``.

Tickets are random and held here (one process serves every preview), which is also what
makes them single-use. The cookie is stateless, signed with a key of this process
(itsdangerous), and names the preview and the preview token it was opened with: a new
token (``POST …/preview/token``) or the preview's end invalidates it.
"""

from __future__ import annotations

import hashlib
import re
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import NamedTuple

from itsdangerous import BadSignature, TimestampSigner, URLSafeTimedSerializer

__all__ = [
    "APP_SESSION_COOKIES",
    "ENTER_PATH",
    "AppOrigins",
    "OriginSession",
    "Ticket",
    "origin_label",
    "preview_id_of_label",
]

ENTER_PATH = "/__preview/enter"
# Over HTTPS the cookie takes the __Host- prefix: browsers then refuse it unless it is
# host-only, Secure and Path=/, so a sibling preview under the same wildcard domain cannot
# plant one of that name (with Domain=<the wildcard domain>) to shadow ours.
_COOKIE = "preview_app_session"
_SECURE_COOKIE = "__Host-" + _COOKIE
APP_SESSION_COOKIES = frozenset({_COOKIE, _SECURE_COOKIE})

_LABEL = re.compile(r"[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?")
_MAX_TICKETS = 10_000  # outstanding; each lives a minute, so only a flood reaches it
_MAX_VERIFIED = 4096  # cookies whose verification is remembered (then forgotten at once)
_TOKEN_MARK_CHARS = 16  # of the preview token's hash: enough to tell two tokens apart


def origin_label(preview_id: str) -> str:
    """The DNS label of a preview's origin (``preview_1a2b…`` → ``preview-1a2b…``)."""
    label = preview_id.lower().replace("_", "-")
    if not _LABEL.fullmatch(label):
        raise ValueError(f"preview id {preview_id!r} has no DNS-safe label")
    return label


def preview_id_of_label(label: str) -> str:
    """The preview id a label names (inverse of :func:`origin_label` for our ids)."""
    return label.replace("-", "_")


@dataclass(frozen=True)
class Ticket:
    """A one-time pass onto one preview's origin, for one user, landing on ``path``."""

    preview_id: str
    user_id: str
    token_mark: str
    path: str
    expires: float  # on the clock of AppOrigins


class OriginSession(NamedTuple):
    """What a valid origin cookie says."""

    preview_id: str
    user_id: str
    token_mark: str


class AppOrigins:
    """Origins of previews: their hosts and URLs, tickets and session cookies.

    ``domain``: previews are served at ``<label>.<domain>``. ``template``: their public
    URL, ``{preview}`` standing for the label (e.g. ``https://{preview}.preview.example.com``);
    empty means the scheme and port the API itself was called with. ``clock`` measures
    ticket lifetimes (``time.monotonic``), ``wall_clock`` those of remembered cookies
    (``time.time``, as their signatures'); tests pass their own.
    """

    def __init__(
        self,
        domain: str,
        template: str,
        *,
        ticket_timeout: float,
        session_timeout: float,
        clock: Callable[[], float] = time.monotonic,
        wall_clock: Callable[[], float] = time.time,
    ) -> None:
        self.domain = domain.lower().strip(".")
        self._suffix = "." + self.domain
        self._template = template
        self._ticket_timeout = ticket_timeout
        self.session_timeout = session_timeout
        self._clock = clock
        self._wall_clock = wall_clock
        self._tickets: dict[str, Ticket] = {}
        # Cookies that verified, until they expire (wall clock, as their signature's):
        # every call at an origin carries one, and verifying costs ~30 µs of CPU.
        self._verified: dict[str, tuple[OriginSession, float]] = {}
        self._signer = URLSafeTimedSerializer(
            secrets.token_bytes(32), salt="preview-app-origin", signer=_signer_on(wall_clock)
        )

    # -- hosts and URLs ---------------------------------------------------------------

    def label_of_host(self, host: str) -> str | None:
        """The preview label of a ``Host`` header value, or None if it is not an app origin."""
        name = _host_name(host)
        if not name.endswith(self._suffix):
            return None
        label = name[: -len(self._suffix)]
        return label if _LABEL.fullmatch(label) else None

    def is_app_host(self, host: str) -> bool:
        """Whether a ``Host`` header value is under the previews' domain: a preview's
        origin, or a name below one (``x.<label>.<domain>``), which a preview's page
        could plant cookies for and which no part of the API may be served at."""
        return _host_name(host).endswith(self._suffix)

    def is_app_origin(self, origin: str) -> bool:
        """Whether an ``Origin`` header value is a page under the previews' domain."""
        _, _, authority = origin.partition("://")
        return bool(authority) and self.is_app_host(authority)

    def public_scheme(self, request_scheme: str) -> str:
        """The scheme browsers use for app origins (the template's, else the request's)."""
        if self._template:
            return self._template.partition("://")[0]
        return request_scheme

    def url(self, preview_id: str, *, scheme: str, host: str) -> str:
        """The origin of a preview as the public sees it; ``scheme`` and ``host`` are
        those of the API call asking, used when no template is configured."""
        label = origin_label(preview_id)
        if self._template:
            return self._template.replace("{preview}", label).rstrip("/")
        port = host.rpartition(":")[2] if ":" in host else ""
        return f"{scheme}://{label}.{self.domain}" + (f":{port}" if port.isdigit() else "")

    # -- tickets ----------------------------------------------------------------------

    def issue_ticket(
        self, preview_id: str, user_id: str, token_hash: str, path: str
    ) -> tuple[str, float]:
        """A new ticket and its lifetime in seconds."""
        now = self._clock()
        if len(self._tickets) >= _MAX_TICKETS:
            self._tickets = {k: t for k, t in self._tickets.items() if t.expires > now}
            while len(self._tickets) >= _MAX_TICKETS:  # a flood: the oldest go first
                del self._tickets[next(iter(self._tickets))]
        ticket = "tkt_" + secrets.token_urlsafe(32)
        self._tickets[ticket] = Ticket(
            preview_id, user_id, _token_mark(token_hash), path, now + self._ticket_timeout
        )
        return ticket, self._ticket_timeout

    def redeem_ticket(self, ticket: str) -> Ticket | None:
        """The ticket's content, once: a used, unknown or expired ticket gives None."""
        found = self._tickets.pop(ticket, None)
        if found is None or self._clock() >= found.expires:
            return None
        return found

    # -- the session cookie -------------------------------------------------------------

    def cookie_name(self, scheme: str) -> str:
        return _SECURE_COOKIE if scheme == "https" else _COOKIE

    def session_cookie(self, ticket: Ticket) -> str:
        """The signed cookie value a redeemed ticket is traded for."""
        return self._signer.dumps([ticket.preview_id, ticket.user_id, ticket.token_mark])

    def read_session(self, values: list[str]) -> OriginSession | None:
        """The first of ``values`` (every cookie of our names sent) that is validly signed
        and younger than the session timeout."""
        for value in values:
            known = self._verified.get(value)
            if known is not None:
                if self._wall_clock() < known[1]:
                    return known[0]
                del self._verified[value]
                continue
            session = self._verify(value)
            if session is not None:
                return session
        return None

    def _verify(self, value: str) -> OriginSession | None:
        try:
            data, signed_at = self._signer.loads(
                # itsdangerous compares ages as numbers: a float (a test's 0.5 s) is fine.
                value,
                max_age=self.session_timeout,  # pyright: ignore[reportArgumentType]
                return_timestamp=True,
            )
        except BadSignature:  # also SignatureExpired
            return None
        if not (
            isinstance(data, list) and len(data) == 3 and all(isinstance(d, str) for d in data)
        ):
            return None
        session = OriginSession(*data)
        if len(self._verified) >= _MAX_VERIFIED:
            self._verified.clear()
        self._verified[value] = (session, signed_at.timestamp() + self.session_timeout)
        return session

    @staticmethod
    def matches_token(session_or_ticket: OriginSession | Ticket, token_hash: str) -> bool:
        """Whether it was opened with the preview's current token."""
        return secrets.compare_digest(session_or_ticket.token_mark, _token_mark(token_hash))


def _host_name(host: str) -> str:
    """The host name of a ``Host`` (or an origin's authority): no port, lower case, no
    trailing dot. ``preview-1.localhost.`` is the same host as ``preview-1.localhost``
    (DNS's absolute form), but browsers make it an origin of its own: compared without
    the dot, it is a preview's origin and never the API's."""
    name = host.strip().lower()
    if name.startswith("["):  # an IPv6 literal, never under a domain
        return name.partition("]")[0] + "]"
    return name.partition(":")[0].rstrip(".")


def _signer_on(wall_clock: Callable[[], float]) -> type[TimestampSigner]:
    """itsdangerous's timestamp signer, dating and ageing signatures by ``wall_clock``."""

    class _Signer(TimestampSigner):
        def get_timestamp(self) -> int:
            return int(wall_clock())

    return _Signer


def _token_mark(token_hash: str) -> str:
    # A digest of the stored hash rather than a slice of it: the cookie reveals nothing
    # the database holds.
    return hashlib.sha256(b"origin:" + token_hash.encode()).hexdigest()[:_TOKEN_MARK_CHARS]
