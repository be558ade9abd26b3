"""Per-endpoint latency: the recorded calls of a generation (or one of its previews)
grouped by route template, with their count, errors and elapsed-time percentiles.

Computed from the stored rows of ``proxied_requests`` (the newest :data:`MAX_CALLS` of
them, one bounded query), not from a digest kept in memory: the table already holds every
call with its time, bounded per preview (PREVIEW_CAPTURE_REQUESTS); reading it costs the
proxied calls nothing (a digest would be one more step on the hot path of every call),
covers stopped previews and service restarts alike, and gives exact percentiles of what
is kept. A read is a few milliseconds per thousand calls, in a worker thread.

A call's route is the app's declared one (``GET /items/{item_id}``) where discovery knows
it, the most specific template that matches; else its path with the segments that look
like ids (numbers, UUIDs, long hex or mixed tokens) collapsed to ``{id}``.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Engine, select

from ..store.models import ProxiedRequest

__all__ = [
    "MAX_CALLS",
    "MAX_ROUTES",
    "RouteMatcher",
    "RouteTimes",
    "collapsed_path",
    "endpoint_latency",
    "percentile",
]

MAX_CALLS = 20_000  # the newest calls read: a bounded query, ~2 MB of rows at most
MAX_ROUTES = 200  # groups beyond it (paths no template matched, collapsed) go to one
_SLOWEST = 3  # the slowest calls' ids given per route, to open their captured request
_OTHER = "(other)"

# A template's parameters, within a segment: {name}, {name:type}, <name>, <conv:name>.
_PARAMETER = re.compile(r"\{[^{}/]*\}|<[^<>/]*>")
_WHOLE_PATH = re.compile(r"\{[^{}/]*:path\}|<path:[^<>/]*>")
_UUID = re.compile(r"[0-9a-fA-F]{8}(?:-?[0-9a-fA-F]{4}){3}-?[0-9a-fA-F]{12}")
_HEX = re.compile(r"[0-9a-fA-F]{12,}")
_TOKEN = re.compile(r"[A-Za-z0-9_-]{16,}")


def _segment_pattern(segment: str) -> tuple[str, int]:
    """(regex, literal characters) of one template segment."""
    if segment.startswith(":"):  # Express's :name (optional ?, a (regex) after it): one segment
        return "[^/]+", 0
    if segment == "*" or segment.startswith("*"):  # Express/Node wildcards: the rest
        return ".*", 0
    parts, literal, at = [], 0, 0
    for found in _PARAMETER.finditer(segment):
        text = segment[at : found.start()]
        parts.append(re.escape(text))
        literal += len(text)
        parts.append(".+" if _WHOLE_PATH.fullmatch(found.group()) else "[^/]+")
        at = found.end()
    rest = segment[at:]
    parts.append(re.escape(rest))
    return "".join(parts), literal + len(rest)


class RouteMatcher:
    """The declared routes (``[(method, template)]``), each as a regex; a path goes to the
    most specific that matches (the most literal characters, then the fewest
    parameters: ``/items/new`` before ``/items/{id}``)."""

    def __init__(self, routes: Iterable[tuple[str, str]]) -> None:
        compiled: list[tuple[int, int, str, str, re.Pattern[str]]] = []
        for method, template in routes:
            if not template.startswith("/"):
                continue
            segments = [_segment_pattern(s) for s in _trimmed(template).split("/")[1:]]
            pattern = "/" + "/".join(regex for regex, _ in segments)
            literal = sum(count for _, count in segments)
            params = sum(1 for regex, _ in segments if "+" in regex or "*" in regex)
            try:
                compiled.append((-literal, params, method.upper(), template, re.compile(pattern)))
            except re.error:  # a template no regex can be made of: left out
                continue
        compiled.sort(key=lambda item: (item[0], item[1]))
        self._routes = [(method, template, regex) for _, _, method, template, regex in compiled]

    def template(self, method: str, path: str) -> str | None:
        """The declared template ``path`` (no query) matches for ``method``, or None."""
        plain = _trimmed(path)
        for declared, template, regex in self._routes:
            if (declared == method or declared in ("ANY", "*", "ALL")) and regex.fullmatch(plain):
                return template
        return None


def _trimmed(path: str) -> str:
    return path.rstrip("/") or "/"


def _looks_like_id(segment: str) -> bool:
    if segment.isdigit() or _UUID.fullmatch(segment):
        return True
    if _HEX.fullmatch(segment) and any(c.isdigit() for c in segment):
        return True
    # A long token of letters and digits (an ObjectId, a slug with a hash, a key).
    return bool(_TOKEN.fullmatch(segment)) and any(c.isdigit() for c in segment)


def collapsed_path(path: str) -> str:
    """``path`` (no query) with the segments that look like ids as ``{id}``."""
    return "/".join("{id}" if _looks_like_id(s) else s for s in _trimmed(path).split("/"))


def percentile(ordered: Sequence[float], share: float) -> float:
    """The nearest-rank percentile of ``ordered`` (ascending, not empty): the smallest
    value at least ``share`` of them are at or below. An actual call's time, never an
    interpolation between two."""
    rank = max(1, math.ceil(share * len(ordered)))
    return ordered[rank - 1]


@dataclass
class RouteTimes:
    """One route's calls, as they are grouped."""

    method: str
    path: str
    declared: bool  # a template the app declares (else a collapsed path)
    times: list[float] = field(default_factory=list)
    errors: int = 0
    slowest: list[tuple[float, int]] = field(default_factory=list)  # (ms, id)

    def add(self, row_id: int, elapsed: float, status: int | None) -> None:
        self.times.append(elapsed)
        if status is None or status >= 500:
            self.errors += 1
        slowest = self.slowest
        if len(slowest) < _SLOWEST or elapsed > slowest[-1][0]:
            slowest.append((elapsed, row_id))
            slowest.sort(key=lambda item: (-item[0], -item[1]))
            del slowest[_SLOWEST:]

    def to_dict(self) -> dict[str, Any]:
        ordered = sorted(self.times)
        return {
            "method": self.method,
            "path": self.path,
            "declared": self.declared,
            "count": len(ordered),
            "errors": self.errors,
            "p50Ms": round(percentile(ordered, 0.50), 1),
            "p95Ms": round(percentile(ordered, 0.95), 1),
            "p99Ms": round(percentile(ordered, 0.99), 1),
            "maxMs": round(ordered[-1], 1),
            "slowest": [row_id for _, row_id in self.slowest],
        }


def endpoint_latency(
    engine: Engine,
    generation_id: str,
    preview_id: str | None,
    routes: Sequence[tuple[str, str]],
    max_calls: int = MAX_CALLS,
) -> dict[str, Any]:
    """The latency of the generation's (or ``preview_id``'s) newest ``max_calls``
    recorded calls per route (``routes``: the app's declared ``(method, template)``).
    Blocking: for ``Store.run_sync``."""
    table = ProxiedRequest
    # No timestamp per row (a DateTime column's parsing was most of the read): the
    # window's start is read once, of its oldest call.
    statement = select(table.id, table.method, table.path, table.status, table.elapsed_ms).where(
        table.generation_id == generation_id
    )
    if preview_id is not None:
        statement = statement.where(table.preview_id == preview_id)
    statement = statement.order_by(table.id.desc()).limit(max_calls + 1)
    with engine.connect() as connection:
        rows = connection.execute(statement).all()
        truncated = len(rows) > max_calls
        rows = rows[:max_calls]
        since = None
        if rows:
            since = connection.scalar(select(table.started_at).where(table.id == rows[-1][0]))
    matcher = RouteMatcher(routes)
    groups: dict[tuple[str, str], RouteTimes] = {}
    named: dict[tuple[str, str], tuple[str, str, bool]] = {}  # a path's group, once worked out
    for row_id, method, path, status, elapsed in rows:
        plain = path.split("?", 1)[0]
        key = named.get((method, plain))
        if key is None:
            template = matcher.template(method, plain)
            if template is not None:
                key = (method, template, True)
            elif len(groups) < MAX_ROUTES:
                key = (method, collapsed_path(plain), False)
            else:
                key = ("*", _OTHER, False)
            if (key[0], key[1]) not in groups and len(groups) >= MAX_ROUTES:
                key = ("*", _OTHER, False)
            named[(method, plain)] = key
        group = groups.get((key[0], key[1]))
        if group is None:
            group = groups[(key[0], key[1])] = RouteTimes(key[0], key[1], key[2])
        group.add(row_id, float(elapsed), status)
    listed = sorted(
        (group.to_dict() for group in groups.values()),
        key=lambda item: (-item["count"], item["path"], item["method"]),
    )
    return {
        "generationId": generation_id,
        "previewId": preview_id,
        "calls": len(rows),
        "truncated": truncated,
        "since": since,
        "routes": listed,
    }
