"""What of a request is never kept: credentials, masked before a row is written.

Masked, keeping the shape a reader needs: ``Authorization`` and ``Proxy-Authorization``
keep their scheme (``Bearer [masked]``); ``Cookie`` keeps each cookie's name and
``Set-Cookie`` its name and attributes, their values masked; the service's own
``X-Preview-Token`` / ``X-Preview-Csrf`` and any header named like a token, key, secret
or password are masked whole; and so is the value of each query parameter named so
(``?api_key=…``, ``access_token``, ``password``). Bodies are kept as sent.
"""

from __future__ import annotations

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


def _text(value: str | bytes) -> str:
    return value.decode("latin-1") if isinstance(value, bytes) else value


def mask_headers(headers: Iterable[tuple[str | bytes, str | bytes]]) -> list[list[str]]:
    """``[[name, value], …]`` as sent, credentials masked (names as sent, for HAR)."""
    kept = []
    for raw_name, raw_value in headers:
        name, value = _text(raw_name), _text(raw_value)
        key = name.lower()
        if key in _WITH_SCHEME:
            scheme, space, _ = value.partition(" ")
            value = f"{scheme} {MASK}" if space else MASK
        elif key == "cookie":
            value = _masked_cookie_pairs(value)
        elif key == "set-cookie":
            value = _masked_set_cookie(value)
        elif key in _WHOLE or _SECRET_NAME.search(key):
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
