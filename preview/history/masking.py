"""What of a request is never kept: credentials, masked before a row is written.

Masked, keeping the shape a reader needs: ``Authorization`` and ``Proxy-Authorization``
keep their scheme (``Bearer [masked]``); ``Cookie`` keeps each cookie's name and
``Set-Cookie`` its name and attributes, their values masked; the service's own
``X-Preview-Token`` / ``X-Preview-Csrf`` and any header named like a token, key, secret
or password are masked whole; and so is the value of each query parameter named so
(``?api_key=…``, ``access_token``, ``password``). Bodies are kept as sent.
"""

from __future__ import annotations

import functools
import re
import urllib.parse
from collections.abc import Iterable

__all__ = ["MASK", "mask_headers", "mask_query", "masked_path"]

MASK = "[masked]"
_WITH_SCHEME = frozenset({"authorization", "proxy-authorization"})
_WHOLE = frozenset({"x-preview-token", "x-preview-csrf"})
# Names of credentials: ``access_token``, ``X-Api-Key``, ``client_secret``, ``key``, ``sig``.
_SECRET_NAME = re.compile(
    r"token|secret|passw|pwd|api[-_]?key|(?:^|[-_])key$|signature|^sig$|credential|^auth$", re.I
)


def _masked_cookie_pairs(value: str) -> str:
    parts = []
    for pair in value.split(";"):
        name, equals, _ = pair.strip().partition("=")
        parts.append(f"{name}={MASK}" if equals else name)
    return "; ".join(part for part in parts if part)


def _masked_set_cookie(value: str) -> str:
    first, semicolon, attributes = value.partition(";")
    name = first.split("=", 1)[0].strip()
    return f"{name}={MASK}" + (semicolon + attributes if semicolon else "")


@functools.lru_cache(maxsize=1024)
def _kind(name: str) -> int:
    """How a header so named is masked: 0 not, 1 its scheme kept, 2 cookie pairs,
    3 a set-cookie, 4 whole (remembered: a service sees few names, again and again)."""
    key = name.lower()
    if key in _WITH_SCHEME:
        return 1
    if key == "cookie":
        return 2
    if key == "set-cookie":
        return 3
    return 4 if key in _WHOLE or _SECRET_NAME.search(key) else 0


def mask_headers(headers: Iterable[tuple[str | bytes, str | bytes]]) -> list[list[str]]:
    """``[[name, value], …]`` as sent, credentials masked (names as sent, for HAR)."""
    kept = []
    for raw_name, raw_value in headers:
        name = raw_name.decode("latin-1") if type(raw_name) is bytes else raw_name
        value = raw_value.decode("latin-1") if type(raw_value) is bytes else raw_value
        kind = _kind(name)  # type: ignore[arg-type]
        if kind == 1:
            scheme, space, _ = value.partition(" ")  # type: ignore[union-attr]
            value = f"{scheme} {MASK}" if space else MASK
        elif kind == 2:
            value = _masked_cookie_pairs(value)  # type: ignore[arg-type]
        elif kind == 3:
            value = _masked_set_cookie(value)  # type: ignore[arg-type]
        elif kind == 4:
            value = MASK
        kept.append([name, value])
    return kept


def mask_query(query: str) -> str:
    """The query with the value of each parameter named like a credential masked."""
    if not query or not _SECRET_NAME.search(query):
        return query
    pairs = urllib.parse.parse_qsl(query, keep_blank_values=True)
    if not any(_SECRET_NAME.search(name) for name, _ in pairs):
        return query
    return urllib.parse.urlencode(
        [(name, MASK if _SECRET_NAME.search(name) else value) for name, value in pairs],
        safe="[]",
    )


def masked_path(path_and_query: str) -> str:
    """``/path?query`` with :func:`mask_query` applied to its query."""
    path, question, query = path_and_query.partition("?")
    return path + question + mask_query(query) if question else path
