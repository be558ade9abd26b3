"""Two answers to one request compared (a kept one and its replay): :func:`compare_answers`.

The rule, stated once (docs/using.md's *Request history* says it too):

* **status**: compared as is.
* **headers**: compared by name (values of a repeated header joined), except those that
  differ between two identical answers by nature: ``Date``, ``ETag``, ``Last-Modified``,
  ``Expires``, ``Age``, ``Set-Cookie``, ``Content-Length`` (the body is compared
  instead), ``Server``, ``Via``, hop-by-hop ones, and request or trace ids
  (``X-Request-ID``, ``traceparent`` …).
* **bodies**: as JSON when both parse as JSON (after undoing a gzip or deflate
  ``Content-Encoding``), value by value at JSON paths (``$.items[0].name``), else as
  bytes. A difference of two values is *ignored* (listed in ``ignored``, not in
  ``body``) when they are volatile: both strings of one generated shape (an ISO 8601
  date or date-time, a UUID, a ULID, 16 or more hex digits); or, under a key naming a
  time (``created``, ``updatedAt``, ``*_at``, ``timestamp``, ``date`` …: a whole word
  of the key, or a camelCase key's last one; ``version`` or ``update`` names none), both
  strings or both numbers; or, in the answer to a ``POST``, under a key naming an id
  (``id``, ``*_id``, ``*Id``, ``uuid``), both strings or both numbers that the request's
  own path and query do not name (a *generated* id: ``POST /items`` → ``{"id": 8}``;
  whereas ``GET /items`` → ``[{"id": 3}]`` against ``[{"id": 1}]`` is a difference).
  Values added or removed are always differences.
  **Paths the user marked volatile** for the generation (:class:`VolatilePaths`: JSON
  paths as the comparison writes them, ``$.meta.requestedAt``, ``$['x-trace']``,
  ``$.items[0].token``, where ``[*]`` stands for any index) are ignored with all they
  hold, values added or removed there too.
  A body cut at PREVIEW_CAPTURE_BODY_BYTES on either side is not compared
  (``bodyCompared: false``).
"""

from __future__ import annotations

import re
import zlib
from collections.abc import Iterable
from typing import Any

from ..generations import loads_bounded

__all__ = ["MAX_VOLATILE_PATHS", "VOLATILE_HEADERS", "VolatilePaths", "compare_answers"]

VOLATILE_HEADERS = frozenset(
    {
        "date",
        "etag",
        "last-modified",
        "expires",
        "age",
        "set-cookie",
        "content-length",
        "server",
        "via",
        "connection",
        "keep-alive",
        "transfer-encoding",
        "x-request-id",
        "x-correlation-id",
        "request-id",
        "x-trace-id",
        "traceparent",
        "tracestate",
        "x-process-time",
        "x-response-time",
        "x-runtime",
    }
)
_SHAPES = (
    re.compile(
        r"\d{4}-\d{2}-\d{2}(?:[T ]\d{2}:\d{2}(?::\d{2}(?:[.,]\d+)?)?(?:Z|[+-]\d{2}:?\d{2})?)?"
    ),
    re.compile(r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}"),
    re.compile(r"[0-9A-HJKMNP-TV-Z]{26}"),  # ULID
    re.compile(r"[0-9a-fA-F]{16,}"),
)
# A key naming a time or an id: a whole word of a snake_case, kebab-case or lower-case
# key (read lower-cased), or a camelCase key's last word (read as written). Matched case
# blind, `on$` and `at$` named `version`, `description`, `format`, `lat`; `id$` named
# `paid` and `valid`; `date` inside `update`: real differences were reported as none.
_TIME_WORDS = re.compile(
    r"(?:^|[_-])(?:created|updated|modified|deleted|expires?|timestamp|time|date|datetime)"
    r"(?:$|[_-])|[_-](?:at|on|ts)$"
)
_TIME_CAMEL = re.compile(r"[a-z0-9](?:At|On|Time|Date|Timestamp)$")
_ID_WORDS = re.compile(r"^(?:id|uuid|guid|_id)$|[_-](?:id|uuid)$")
_ID_CAMEL = re.compile(r"[a-z0-9](?:Id|ID|Uuid|UUID)$")
# The methods whose answer may name what the request made: their ids are generated.
_CREATING = frozenset({"POST"})
_MAX_LISTED = 50
MAX_VOLATILE_PATHS = 100  # a generation's marked paths
_MAX_PATH = 300  # characters of one
# One step of a JSON path as the comparison writes it: .name, ['name'] or ["name"]
# (Python's repr of a key that is not a word), [index], or [*] (any index: marked only).
_STEP = r"""\.\w+|\[\d+\]|\[\*\]|\['(?:[^'\\]|\\.)*'\]|\["(?:[^"\\]|\\.)*"\]"""
_MARKED_PATH = re.compile(rf"\$(?:{_STEP})*")
_STEPS = re.compile(_STEP)


class VolatilePaths:
    """The JSON paths a user marked volatile (module doc): each covers itself and all
    below it."""

    def __init__(self, paths: Iterable[str] = ()) -> None:
        self.paths = tuple(paths)
        patterns = []
        for path in self.paths:
            steps = _STEPS.findall(path[1:])
            parts = [r"\[\d+\]" if step == "[*]" else re.escape(step) for step in steps]
            patterns.append(r"\$" + "".join(parts))
        # Itself, or anything below it (a step that starts with . or [).
        self._pattern = (
            re.compile("(?:" + "|".join(patterns) + r")(?:[.\[].*)?", re.DOTALL)
            if patterns
            else None
        )

    @staticmethod
    def problem(path: object) -> str | None:
        """Why ``path`` is not a path one may mark; None if it is one."""
        if not isinstance(path, str) or not 1 <= len(path) <= _MAX_PATH:
            return f"a path is a text of 1 to {_MAX_PATH} characters"
        if not _MARKED_PATH.fullmatch(path):
            return (
                "a path is $ and then steps as the comparison writes them: .name, "
                "['name'], [0], or [*] for any index"
            )
        return None

    def covers(self, path: str) -> bool:
        return self._pattern is not None and self._pattern.fullmatch(path) is not None


def _joined(headers: list[list[str]]) -> dict[str, str]:
    named: dict[str, str] = {}
    for name, value in headers:
        key = name.lower()
        named[key] = f"{named[key]}, {value}" if key in named else value
    return named


def _header_differences(before: list[list[str]], after: list[list[str]]) -> list[dict]:
    old, new = _joined(before), _joined(after)
    return [
        {"name": name, "before": old.get(name), "after": new.get(name)}
        for name in sorted(old.keys() | new.keys())
        if name not in VOLATILE_HEADERS and old.get(name) != new.get(name)
    ]


def _decoded(body: bytes, headers: list[list[str]]) -> bytes:
    encoding = _joined(headers).get("content-encoding", "").lower()
    try:
        if "gzip" in encoding and body[:2] == b"\x1f\x8b":
            return zlib.decompress(body, 16 + zlib.MAX_WBITS)
        if "deflate" in encoding:
            return zlib.decompress(body)
    except zlib.error:
        pass
    return body


def _parsed(body: bytes) -> tuple[bool, Any]:
    try:
        return True, loads_bounded(body)
    except ValueError:
        return False, None


def _same_kind(a: Any, b: Any) -> bool:
    numbers = (int, float)
    if isinstance(a, bool) or isinstance(b, bool):
        return False
    return (isinstance(a, str) and isinstance(b, str)) or (
        isinstance(a, numbers) and isinstance(b, numbers)
    )


def _names_a_time(key: str) -> bool:
    return bool(_TIME_CAMEL.search(key) or _TIME_WORDS.search(key.lower()))


def _names_an_id(key: str) -> bool:
    return bool(_ID_CAMEL.search(key) or _ID_WORDS.search(key.lower()))


def _volatile(key: str | None, a: Any, b: Any, named: set[str] | None) -> bool:
    """Whether two differing values are volatile (the module doc); ``named``: the words
    of a creating request's path (its ids are not generated), None for a request that
    creates nothing (its ids are data)."""
    if (
        isinstance(a, str)
        and isinstance(b, str)
        and any(shape.fullmatch(a) and shape.fullmatch(b) for shape in _SHAPES)
    ):
        return True
    if key is None or not _same_kind(a, b):
        return False
    if _names_a_time(key):
        return True
    if named is None or not _names_an_id(key):
        return False
    return str(a) not in named and str(b) not in named


class _Walk:
    def __init__(self, named: set[str] | None, marked: VolatilePaths | None = None) -> None:
        self.named = named
        self.marked = marked if marked is not None and marked.paths else None
        self.differences: list[dict[str, Any]] = []
        self.ignored: list[str] = []
        self.count = 0

    def ignore(self, path: str) -> None:
        if len(self.ignored) < _MAX_LISTED:
            self.ignored.append(path)

    def differ(self, path: str, before: Any, after: Any) -> None:
        self.count += 1
        if len(self.differences) < _MAX_LISTED:
            self.differences.append({"path": path, "before": before, "after": after})

    def walk(self, path: str, key: str | None, a: Any, b: Any) -> None:
        if self.marked is not None and self.marked.covers(path):
            if a != b or type(a) is not type(b):
                self.ignore(path)
            return
        if isinstance(a, dict) and isinstance(b, dict):
            for name in sorted(a.keys() | b.keys()):
                inner = f"{path}.{name}" if re.fullmatch(r"\w+", name) else f"{path}[{name!r}]"
                if self.marked is not None and self.marked.covers(inner):
                    if name not in a or name not in b or a[name] != b[name]:
                        self.ignore(inner)
                elif name not in a or name not in b:
                    self.differ(inner, a.get(name), b.get(name))
                else:
                    self.walk(inner, name, a[name], b[name])
        elif isinstance(a, list) and isinstance(b, list):
            for index in range(max(len(a), len(b))):
                inner = f"{path}[{index}]"
                if index >= len(a) or index >= len(b):
                    if self.marked is not None and self.marked.covers(inner):
                        self.ignore(inner)
                        continue
                    self.differ(
                        inner,
                        a[index] if index < len(a) else None,
                        b[index] if index < len(b) else None,
                    )
                else:
                    self.walk(inner, key, a[index], b[index])
        elif a != b or type(a) is not type(b):
            if _volatile(key, a, b, self.named):
                self.ignore(path)
            else:
                self.differ(path, a, b)


def _named_in(path: str) -> set[str]:
    """The words and numbers of a request's path and query (the ids it names)."""
    return set(re.findall(r"[A-Za-z0-9_\-]+", path))


def compare_answers(
    method: str,
    path: str,
    before: tuple[int | None, list[list[str]], bytes | None, bool],
    after: tuple[int | None, list[list[str]], bytes | None, bool],
    marked: VolatilePaths | None = None,
) -> dict[str, Any]:
    """``{same, status?, headers, body, ignored, bodyCompared}`` of two answers to the
    request ``method`` ``path`` (its path and query), each ``(status, headers, body,
    whole)``; ``marked``: the paths the user marked volatile."""
    status_a, headers_a, body_a, whole_a = before
    status_b, headers_b, body_b, whole_b = after
    result: dict[str, Any] = {
        "status": None if status_a == status_b else {"before": status_a, "after": status_b},
        "headers": _header_differences(headers_a, headers_b),
        "body": [],
        "ignored": [],
        "bodyCompared": whole_a and whole_b,
    }
    if whole_a and whole_b:
        raw_a, raw_b = _decoded(body_a or b"", headers_a), _decoded(body_b or b"", headers_b)
        json_a, value_a = _parsed(raw_a)
        json_b, value_b = _parsed(raw_b)
        walk = _Walk(_named_in(path) if method.upper() in _CREATING else None, marked)
        if json_a and json_b:
            walk.walk("$", None, value_a, value_b)
        elif raw_a != raw_b:
            text_a, text_b = (raw.decode("utf-8", "replace")[:2000] for raw in (raw_a, raw_b))
            walk.differ("$", text_a, text_b)
        result["body"], result["ignored"] = walk.differences, walk.ignored
        result["bodyDifferences"] = walk.count
    result["same"] = result["status"] is None and not result["headers"] and not result["body"]
    return result
