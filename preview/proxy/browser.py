"""What a browser may make of an app's answer, by where it is served.

Under the API's path prefix (``/api/generations/{gid}/preview/proxy/…``) the app's answer
is on the service's own origin, beside ``/api`` and the UI, and the app's code is
untrusted: there it is data for API clients, never a page nor a policy of that origin.
So (:class:`ApiOrigin`) every answer is sandboxed (``Content-Security-Policy: sandbox``: no
script runs, the document has an opaque origin), never sniffed into another type, not
readable by other origins' pages, and the app's headers that act on the whole origin
(cookies, ``Clear-Site-Data``, HSTS, ``Alt-Svc``, reporting, CORS grants, ``Refresh``)
are dropped; a ``Location`` on the service's host stays under the preview's prefix. A
browser *navigation* there is not answered with the app's page at all: it is sent to the
preview's own origin through a one-time ticket (:func:`is_navigation`,
:func:`ticket_redirect`).

At a preview's own origin (:class:`AppOrigin`) the app's answer is its own, cookies
included, except that it cannot set the service's cookies there, nor a cookie for other
hosts (a ``Domain`` attribute, which under a wildcard domain would reach the API's host
and the other previews): the cookie stays host-only.
"""

from __future__ import annotations

import urllib.parse
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING

from ..services import ENTER_PATH, Services
from .policy import SERVICE_COOKIES

if TYPE_CHECKING:
    from ..runtime import PreviewRuntime

__all__ = [
    "API_ORIGIN_HEADERS",
    "ApiOrigin",
    "AppOrigin",
    "is_navigating_head",
    "is_navigation",
    "ticket_redirect",
]

# On every answer of the path proxy, ours or the app's.
API_ORIGIN_HEADERS = (
    ("Content-Security-Policy", "sandbox"),
    ("X-Content-Type-Options", "nosniff"),
    ("Cross-Origin-Resource-Policy", "same-origin"),
)
# The app's headers that would act on the API's whole origin (or that ours replace).
_NOT_ON_API_ORIGIN = frozenset(
    {
        "set-cookie",
        "set-cookie2",
        "clear-site-data",
        "refresh",
        "strict-transport-security",
        "alt-svc",
        "nel",
        "report-to",
        "reporting-endpoints",
        "service-worker-allowed",
        "origin-agent-cluster",
        "accept-ch",
        "critical-ch",
        "content-security-policy",
        "content-security-policy-report-only",
        "x-content-type-options",
        "cross-origin-resource-policy",
    }
)
_COOKIE_PREFIXES = ("__secure-", "__host-")
_SERVICE_COOKIE_NAMES = frozenset(
    name.lower().removeprefix("__host-").removeprefix("__secure-") for name in SERVICE_COOKIES
)
_DOCUMENT_DESTINATIONS = frozenset({"document", "iframe", "frame", "embed", "object"})
_NAVIGATING_MODES = frozenset({"navigate", "nested-navigate"})


@dataclass(frozen=True)
class ApiOrigin:
    """A call through the path proxy, as the browser made it: ``scheme://host`` +
    ``prefix`` + ``path`` (the app's path)."""

    scheme: str
    host: str
    prefix: str
    path: str

    def headers(self, items: list[tuple[str, str]]) -> list[tuple[str, str]]:
        kept = []
        for name, value in items:
            lower = name.lower()
            if lower in _NOT_ON_API_ORIGIN or lower.startswith("access-control-"):
                continue
            if lower == "location":
                value = self.location(value)
            kept.append((name, value))
        return [*kept, *API_ORIGIN_HEADERS]

    def location(self, value: str) -> str:
        """The app's ``Location``, kept under this preview's prefix when it points at the
        service's own host (``/login`` is the app's ``/login``; ``../../..`` does not
        climb out): an API client following it must not be sent to another API route
        with its credentials."""
        here = f"{self.scheme}://{self.host}{self.prefix}{self.path}"
        try:
            target = urllib.parse.urlsplit(urllib.parse.urljoin(here, value.strip()))
        except ValueError:
            return self.prefix + "/"
        if target.scheme not in ("http", "https") or target.netloc.lower() != self.host.lower():
            return value  # another origin: the app's own business
        if target.path == self.prefix or target.path.startswith(self.prefix + "/"):
            return value
        path = self.prefix + (target.path if target.path.startswith("/") else "/" + target.path)
        return urllib.parse.urlunsplit(("", "", path, target.query, target.fragment))


@dataclass(frozen=True)
class AppOrigin:
    """A call at a preview's own origin: the app's answer is its own, but for cookies of
    the service's names and cookies for other hosts."""

    def headers(self, items: list[tuple[str, str]]) -> list[tuple[str, str]]:
        kept = []
        for name, value in items:
            if name.lower() == "set-cookie":
                cookie = _own_cookie(value)
                if cookie is None:
                    continue
                value = cookie
            kept.append((name, value))
        return kept


def _own_cookie(value: str) -> str | None:
    """The app's ``Set-Cookie`` value made host-only; None if it names one of ours."""
    first, *attributes = value.split(";")
    name = first.split("=", 1)[0].strip().lower()
    for prefix in _COOKIE_PREFIXES:
        name = name.removeprefix(prefix)
    if name in _SERVICE_COOKIE_NAMES:
        return None
    kept = [part for part in attributes if part.split("=", 1)[0].strip().lower() != "domain"]
    return ";".join([first, *kept])


def is_navigation(method: str, headers: Mapping[str, str]) -> bool:
    """Whether a GET (or HEAD) is a browser loading a page (``headers``: lower-case names):
    its Fetch Metadata say so, or, from a browser that sends none, it asks for HTML."""
    if method not in ("GET", "HEAD"):
        return False
    if headers.get("sec-fetch-mode", "").lower() in _NAVIGATING_MODES:
        return True
    if headers.get("sec-fetch-dest", "").lower() in _DOCUMENT_DESTINATIONS:
        return True
    if any(name.startswith("sec-fetch-") for name in headers):
        return False
    return "text/html" in headers.get("accept", "").lower()


def is_navigating_head(method: bytes, named: dict[bytes, bytes]) -> bool:
    """:func:`is_navigation` of a request head as the hot path reads it (``named``:
    lower-case names, values as sent)."""
    said = {
        name.decode("latin-1"): value.decode("latin-1")
        for name, value in named.items()
        if name == b"accept" or name.startswith(b"sec-fetch-")
    }
    return is_navigation(method.decode(), said)


def ticket_redirect(
    state: Services,
    runtime: PreviewRuntime,
    user_id: str,
    token_hash: str,
    path: str,
    query: str,
    *,
    scheme: str,
    host: str,
) -> list[tuple[str, str]]:
    """The headers of a 303 that opens ``path?query`` at the preview's own origin, signed
    in by a one-time ticket (as ``POST …/preview/ticket`` does), bound to the preview
    token (``token_hash``) the navigation was authorised with."""
    target = path + (f"?{query}" if query else "")
    ticket, _ = state.origins.issue_ticket(runtime.id, user_id, token_hash, target)
    origin = state.origins.url(runtime.id, scheme=scheme, host=host)
    return [
        ("Location", f"{origin}{ENTER_PATH}?ticket={ticket}"),
        ("Cache-Control", "no-store"),
        ("Referrer-Policy", "no-referrer"),
        *API_ORIGIN_HEADERS,
    ]
