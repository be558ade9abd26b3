"""One call to an app, whichever way it came in (the hot path, the ASGI path proxy, a
preview's origin, the envelope, a replay): what left (:class:`ProxiedCall`), how it
ended (:class:`CallOutcome`) and both as its request history keeps it
(:class:`CallRecord`, shaped into a row by ``history.rows.shape_row``).

Each way used to pass a capture twelve to fourteen positional arguments, and the history
read a bare seventeen-field tuple by index; these records name what a call is, once.
Named tuples: a call on the hot path makes two, at a tuple's cost.
"""

from __future__ import annotations

from typing import Any, NamedTuple

__all__ = ["CallOutcome", "CallRecord", "ProxiedCall"]


class ProxiedCall(NamedTuple):
    """A call as it left for the app."""

    way: str  # "proxy", "origin", "envelope", "replay"
    method: str
    path: str  # as shown: the app's path and query
    request_headers: Any  # the caller's, as sent on (pairs)
    request_id: str
    began: float  # trio.current_time() when it left
    replay_of: int | None = None  # the kept request it replays


class CallOutcome(NamedTuple):
    """How it ended: its answer's status and headers (None: no answer, ``error`` says
    why), the time to the answer's head, its ``proxy`` event in the preview's log."""

    status: int | None
    response_headers: Any
    elapsed_ms: float
    event_id: int | None
    error: str | None = None


class CallRecord(NamedTuple):
    """A call as its request history keeps it, before it is shaped into a row."""

    preview_id: str
    generation_id: str
    request_id: str
    event_id: int | None
    way: str
    replay_of: int | None
    started: float  # epoch s
    elapsed_ms: float
    total_ms: float
    method: str
    path: str
    status: int | None
    error: str | None
    request_heads: Any
    request_sample: Any  # history.BodySample, bytes or None
    response_heads: Any
    response_sample: Any
