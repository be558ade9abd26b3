"""What of a request is never kept: credentials, masked before a row is written.

Masked, keeping the shape a reader needs: ``Authorization`` and ``Proxy-Authorization``
keep their scheme (``Bearer [masked]``); ``Cookie`` keeps each cookie's name and
``Set-Cookie`` its name and attributes, their values masked; the service's own
``X-Preview-Token`` / ``X-Preview-Csrf`` and any header named like a token, key, secret
or password are masked whole; and so is the value of each query parameter named so
(``?api_key=…``, ``access_token``, ``password``). In a JSON, form or multipart form
body, the value of each field named like a password, secret, token, API key or
authorization, at any depth, is masked (:func:`mask_body`); the rest of a body is kept
as sent. The body of a page's asset (:func:`is_asset`: a script, a style sheet, an
image …) is not kept at all, only its size.
"""

from __future__ import annotations

import functools
import importlib
import json
import re
import urllib.parse
from collections.abc import Iterable
from typing import Any

from ..generations import loads_bounded

__all__ = [
    "MASK",
    "is_asset",
    "mask_answer",
    "mask_body",
    "mask_headers",
    "mask_query",
    "masked_path",
    "may_name_credentials",
]

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


# A body's field named like a credential: ``password``, ``new_password``, ``passwd``,
# ``client_secret``, ``accessToken``, ``refresh_token``, ``apiKey``, ``authorization``
# (not ``max_tokens`` nor ``token_type``: named by their end, one of these, any case).
_KEY_WORDS = (
    b"password",
    b"passwd",
    b"pwd",
    b"secret",
    b"token",
    b"apikey",
    b"api-key",
    b"api_key",
    b"authorization",
)
_BODY_SECRET = re.compile(
    "(?:{})$".format("|".join(re.escape(word.decode()) for word in _KEY_WORDS)), re.I
)
# A word of such a name in a body (the words of _BODY_SECRET, each way of writing them).
_HINT_WORDS = (
    b"passw",
    b"pwd",
    b"secret",
    b"token",
    b"apikey",
    b"api-key",
    b"api_key",
    b"authorization",
)
# A printable ASCII character written as an escape (``\\u0077``), and a key holding one.
_ESCAPED_ASCII = rb"\\u00[2-7][0-9a-fA-F]"
_ESCAPED_KEY = re.compile(_ESCAPED_ASCII + rb'(?:[^"\\]|\\.)*"\s*:')
_SCANNER = "re2"  # ~3 MiB: imported at its first use (a launch imports it: runtime.supervisor)
# Bodies this long and longer are searched by RE2, shorter ones lowered and searched for
# each word (a few µs): RE2's binding lets the GIL go for each search, and taking it back
# on the event loop, while a writer thread holds it, cost more than the search.
_SCANNED_FROM = 4096


@functools.cache
def _scans() -> tuple[Any, Any]:
    """The searches for the end of a key named like a credential (or an escaped letter:
    ``_ESCAPED_ASCII``) and for a word of such a name, each one pass over a body, ASCII
    case ignored: RE2's automaton reads a 64 KiB sample in ~60 µs, where lowering it and
    finding each word took ~400 µs (a pass a word, at ~1.5 GB/s where the word's last
    byte, a quote, is frequent) and Python's case-insensitive search 4 ms. Latin-1: a
    byte is a character (no Unicode folding: ``ſ`` is not an ``s``)."""
    re2 = importlib.import_module(_SCANNER)
    options = re2.Options()
    options.encoding = re2.Options.Encoding.LATIN1
    words = b"|".join(re.escape(word) for word in _KEY_WORDS)
    hints = b"|".join(re.escape(word) for word in _HINT_WORDS)
    return (
        re2.compile(b"(?i)(?:" + words + b')"|' + _ESCAPED_ASCII, options),
        re2.compile(b"(?i)" + hints, options),
    )


def may_name_credentials(body: bytes) -> bool:
    """Whether ``body`` holds a word a credential's name has (``_HINT_WORDS``, ASCII case
    ignored)."""
    if len(body) >= _SCANNED_FROM:
        return _scans()[1].search(body) is not None
    lowered = body.lower()
    return any(word in lowered for word in _HINT_WORDS)


# The ends of those keys (lowered, with the key's closing quote), found where one is.
_KEY_ENDS = tuple(word + b'"' for word in _KEY_WORDS)
# After such a key: its colon and its value, a string (perhaps cut), a scalar, or the
# start of an object or an array.
_JSON_VALUE = re.compile(rb'\s*:\s*("(?:[^"\\]|\\.)*(?:"|\\?$)|[^\s,\[\]{}"]+|[\[{])')
_MASKED_VALUE = b'"' + MASK.encode() + b'"'
_FORM_PAIR = re.compile(r"(?:^|(?<=&))([^=&]*)=([^&]*)")
_BOUNDARY = re.compile(r'boundary=(?:"([^"]+)"|([^;\s]+))', re.I)
# A part's field name (``name="…"``, not ``filename="…"``) in its headers.
_PART_NAME = re.compile(rb'content-disposition:[^\r\n]*?[;\s]name="((?:[^"\\]|\\.)*)"', re.I)


# An answer whose body is a page's asset: a script, a style sheet, an image, a font, a
# sound or a film, WebAssembly. Its body is not kept (``rows.shape_row``): nobody reads a
# bundle in a request's history, and 64 KiB samples of them cost more than the proxying
# (two thirds of a 200 KB script's CPU a call, in the store's thread) and crowded a
# preview's API calls out of its bytes' bound within a few page loads.
_ASSET = re.compile(
    r"\s*(?:text/(?:css|javascript)|application/(?:x-)?(?:javascript|ecmascript|wasm)"
    r"|application/(?:x-)?font|application/vnd\.ms-fontobject|image/|font/|audio/|video/)",
    re.I,
)


def is_asset(heads: Iterable[tuple[Any, Any]]) -> bool:
    """Whether an answer with these heads is a page's asset (``_ASSET``), by its type."""
    return _ASSET.match(_body_type(heads)[0]) is not None


def _body_type(heads: Iterable[tuple[Any, Any]]) -> tuple[str, str]:
    """A message's ``Content-Type`` (as sent) and ``Content-Encoding``, each its first,
    ``""`` if none: one pass over its heads (an answer's kept body reads both)."""
    found: dict[str, str] = {}
    for name, value in heads:
        name = name.decode("latin-1") if type(name) is bytes else name
        key = name.lower()
        if key in _TYPE_HEADS and key not in found:
            found[key] = value.decode("latin-1") if type(value) is bytes else value
    return found.get("content-type", ""), found.get("content-encoding", "")


_TYPE_HEADS = frozenset({"content-type", "content-encoding"})


def _masked_json(value: Any) -> tuple[Any, bool]:
    """(the value with each credential field's value masked, whether any was)."""
    if isinstance(value, dict):
        masked, found = {}, False
        for key, item in value.items():
            if _BODY_SECRET.search(key):
                masked[key], found = MASK, True
            else:
                masked[key], inner = _masked_json(item)
                found = found or inner
        return masked, found
    if isinstance(value, list):
        items = [_masked_json(item) for item in value]
        return [item for item, _ in items], any(found for _, found in items)
    return value, False


def _credential_values(body: bytes) -> tuple[list[tuple[int, int]], bool]:
    """Where the values of a JSON text's keys named like a credential are (strings or
    scalars, in order), and whether the text must be parsed to mask them: one of them
    is an object or an array, or a key is written with an ASCII letter escaped
    (``"pass\\u0077ord"``: no encoder writes one so, a key hiding its name would)."""
    if len(body) >= _SCANNED_FROM and _scans()[0].search(body) is None:
        return [], False  # the common case: one pass
    # Found by ``bytes.find`` in the lowered text: RE2's ``finditer`` costs ~3 µs a match
    # (a list of users with a hashed password each: 600 in 64 KiB).
    lowered, spans, nested = body.lower(), [], _ESCAPED_KEY.search(body) is not None
    for end in _KEY_ENDS:
        at = lowered.find(end)
        while at >= 0:
            at += len(end)
            value = _JSON_VALUE.match(body, at)
            if value is not None:
                if value.group(1) in (b"[", b"{"):
                    nested = True
                else:
                    spans.append(value.span(1))
            at = lowered.find(end, at)
    return sorted(spans), nested


def _masked_at(body: bytes, spans: list[tuple[int, int]]) -> bytes:
    pieces, last = [], 0
    for start, end in spans:
        pieces += (body[last:start], _MASKED_VALUE)
        last = end
    pieces.append(body[last:])
    return b"".join(pieces)


def _form_pair(match: re.Match[str]) -> str:
    if not _BODY_SECRET.search(urllib.parse.unquote_plus(match.group(1))):
        return match.group(0)
    return f"{match.group(1)}={MASK}"


def _masked_multipart(body: bytes, boundary: bytes) -> bytes:
    """Each part of a ``multipart/form-data`` body whose field is named like a
    credential with its content masked (a part cut short: to the end), the rest as it
    is, byte for byte."""
    delimiter = b"--" + boundary
    pieces = body.split(delimiter)
    for i, piece in enumerate(pieces[1:], 1):
        for blank in (b"\r\n\r\n", b"\n\n"):
            head, found, content = piece.partition(blank)
            if found:
                break
        if not found:
            continue  # the closing delimiter's "--", or headers cut short
        named = _PART_NAME.search(head)
        if named is None or not _BODY_SECRET.search(named.group(1).decode("utf-8", "replace")):
            continue
        ending = next((end for end in (b"\r\n", b"\n") if content.endswith(end)), b"")
        pieces[i] = head + found + MASK.encode() + ending
    return delimiter.join(pieces)


def mask_body(body: bytes, size: int, heads: Iterable[tuple[Any, Any]]) -> tuple[bytes, int]:
    """(body, size) with the credentials of a JSON or form body masked (``heads``: its
    message's, for its type): in a JSON text, the value of each key named like one, in
    place (a string or a scalar; the text around it byte for byte, cut short — ``size``
    beyond it — or not parsing); a whole one where such a value is an object or an
    array, or a key is written with escapes, parsed and written again, that value
    masked whole. A form body pair by pair, a multipart one part by part (its field's
    name in its headers), the rest byte for byte. A whole body's size becomes the size
    of what is kept (it is still whole)."""
    if not body:
        return body, size
    return _masked(body, size, *_body_type(heads))


def mask_answer(
    body: bytes, size: int, heads: Iterable[tuple[Any, Any]]
) -> tuple[bytes | None, int]:
    """An answer's body as kept: None for a page's asset (:func:`is_asset`: its size
    alone), else :func:`mask_body`'s; its heads read once for both."""
    content_type, encoding = _body_type(heads)
    if _ASSET.match(content_type) is not None:
        return None, size
    return _masked(body, size, content_type, encoding) if body else (body, size)


def _masked(body: bytes, size: int, content_type: str, encoding: str) -> tuple[bytes, int]:
    """:func:`mask_body` of a (non-empty) body of this type and encoding."""
    kind = content_type.lower()
    if encoding.lower() not in ("", "identity"):
        return body, size  # compressed: nothing to read without inflating it
    json_body = "json" in kind or (not kind and body.lstrip()[:1] in (b"{", b"["))
    if not (json_body or "x-www-form-urlencoded" in kind or "multipart/" in kind):
        return body, size  # a page, a script, an image: not read (before any search)
    whole = len(body) == size
    if json_body:
        spans, nested = _credential_values(body)
        if nested and whole:  # an object or an array to mask, or an escaped key: parsed
            try:
                parsed, found = _masked_json(loads_bounded(body))
            except ValueError:  # not JSON after all: its strings and scalars
                parsed = None
            if parsed is not None:
                masked = json.dumps(parsed, ensure_ascii=False).encode() if found else body
                return masked, len(masked)
        if not spans:
            return body, size
        masked = _masked_at(body, spans)
        return masked, len(masked) if whole else max(size, len(masked) + 1)
    if not may_name_credentials(body):
        return body, size
    if "x-www-form-urlencoded" in kind:
        text = _FORM_PAIR.sub(_form_pair, body.decode("latin-1"))
    else:  # multipart (the only kind left past the checks above)
        boundary = _BOUNDARY.search(content_type)
        if boundary is None:
            return body, size
        masked = _masked_multipart(body, (boundary.group(1) or boundary.group(2)).encode())
        return masked, len(masked) if whole else max(size, len(masked) + 1)
    masked = text.encode("latin-1")
    return masked, len(masked) if whole else max(size, len(masked) + 1)
