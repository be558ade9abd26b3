"""One call to an app, whichever way it came in (the hot path, the ASGI path proxy, a
preview's origin, the envelope, a replay, a WebSocket): what left (:class:`ProxiedCall`),
how it ended (:class:`CallOutcome`), both as its request history keeps it
(:class:`CallRecord`, shaped into a row by ``history.rows.shape_row``), and the one
place that decides what a call leaves behind (:class:`CallRecorder`, made by
:meth:`Calls.start`).

A call leaves three things: its ``proxy`` event among the app's lines (with what the
runtime does at each call: the idle deadline moved, the app known alive, a 5xx's
diagnosis), its entry in the request history (its bodies sampled as they passed), and
its count in ``preview_proxied_calls_total``. Each way used to compose the three itself,
slightly differently (the event in nine places, the history entry in seven); each now
calls :meth:`CallRecorder.complete`, and :meth:`CallRecorder.event` where an answer
streams on past its head (its event then, as the answer starts: an event stream may last
for hours).

Named tuples: a call on the hot path makes two, at a tuple's cost.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, NamedTuple, Protocol

from ..metrics import CallStats

if TYPE_CHECKING:
    from ..runtime import PreviewRuntime

__all__ = [
    "CallOutcome",
    "CallRecord",
    "CallRecorder",
    "Calls",
    "ProxiedCall",
    "RequestRecording",
]


class ProxiedCall(NamedTuple):
    """A call as it left for the app."""

    way: str  # "proxy", "origin", "envelope", "replay", "websocket"
    method: str
    path: str  # as shown: the app's path and query
    request_headers: Any  # the caller's, as sent on (pairs)
    request_id: str
    began: float  # trio.current_time() when it left
    replay_of: int | None = None  # the kept request it replays


class CallOutcome(NamedTuple):
    """How it ended: its answer's status and headers (None: no answer, ``error`` says
    why) and the time to the answer's head."""

    status: int | None
    response_headers: Any
    elapsed_ms: float
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


class RequestRecording(Protocol):
    """What a call asks of the request history (``history.RequestHistory``):
    ``start(body)`` when a request leaves gives the body to send (sampled as it goes)
    and a capture whose ``answering(chunks)`` samples the answer and whose
    ``record(runtime, call, outcome, event_id)`` keeps the request once answered. A
    protocol, so that this package, which ``history`` imports, imports nothing of it."""

    def start(self, body: Any, *, framed: bool = False) -> tuple[Any, Any]: ...


class _NotKept:
    """The capture of a call the history does not keep (a WebSocket)."""

    answer = None

    def answering(self, events: Any, *, framed: bool = False) -> Any:
        return events

    def record(self, runtime: Any, call: Any, outcome: Any, event_id: Any) -> None:
        return None


_NOT_KEPT = _NotKept()
# The outcome label of preview_proxied_calls_total, by status // 100 (bounded).
_STATUS_CLASSES = {1: "1xx", 2: "2xx", 3: "3xx", 4: "4xx", 5: "5xx"}


class CallRecorder:
    """One call to a preview's app, from when it leaves to its end (:meth:`Calls.start`):
    ``capture`` samples its bodies as they pass (``capture.answer``,
    ``capture.answering``); :meth:`complete` records it once it ended."""

    __slots__ = ("_counts", "_head", "_runtime", "capture", "event_id")

    def __init__(self, runtime: PreviewRuntime, capture: Any, stats: CallStats) -> None:
        self._runtime = runtime
        self.capture = capture
        self._counts = stats.counts
        self._head: tuple[ProxiedCall, CallOutcome] | None = None  # its first event's
        self.event_id: int | None = None  # its proxy event's (None: the log was closed)

    async def event(self, call: ProxiedCall, outcome: CallOutcome) -> int | None:
        """Its ``proxy`` event among the app's lines, now: at its answer's head, for an
        answer that streams on (:meth:`complete` keeps the call later, with this event's
        id), or a WebSocket's break after it opened (an event of its own). The first
        event counts the call. Waits only while the log's writer is behind, or to say a
        diagnosis (a 5xx); no checkpoint otherwise (the hot path relies on it)."""
        event_id = await self._runtime.record_proxy_call(
            call.method,
            call.path,
            outcome.status,
            outcome.elapsed_ms,
            call.request_id,
            outcome.error,
        )
        if self._head is None:
            self._head, self.event_id = (call, outcome), event_id
            status = outcome.status
            label = "failed" if status is None else _STATUS_CLASSES.get(status // 100, "other")
            key = (call.way, label)
            self._counts[key] = self._counts.get(key, 0) + 1
        return event_id

    async def complete(
        self, call: ProxiedCall | None = None, outcome: CallOutcome | None = None
    ) -> int | None:
        """The call ended (answered and relayed, or failed): its event unless
        :meth:`event` recorded it, and the call kept in the request history with its
        bodies' samples. No ``call`` and ``outcome``: those of its event (an answer
        that streamed on past its head). Its event's id (None once the preview's log
        is closed)."""
        if self._head is None:
            assert call is not None and outcome is not None
            await self.event(call, outcome)
        elif call is None or outcome is None:
            call, outcome = self._head
        self.capture.record(self._runtime, call, outcome, self.event_id)
        return self.event_id


class Calls:
    """Where every way into an app starts a call (:meth:`start`), one per service
    (``Services.calls``): the request history it keeps them in and the counts they add to."""

    __slots__ = ("_history", "stats")

    def __init__(self, history: RequestRecording, stats: CallStats) -> None:
        self._history = history
        self.stats = stats

    def start(
        self, runtime: PreviewRuntime, body: Any = None, *, framed: bool = False, kept: bool = True
    ) -> tuple[Any, CallRecorder]:
        """A call leaves for ``runtime``'s app: its body to send instead (an async
        iterator of chunks, bytes or None; ``framed``: chunked as it goes), sampled as it
        goes, and its :class:`CallRecorder`. ``kept=False``: not kept in the request
        history (a WebSocket), its event and count all the same."""
        if not kept:
            return body, CallRecorder(runtime, _NOT_KEPT, self.stats)
        body, capture = self._history.start(body, framed=framed)
        return body, CallRecorder(runtime, capture, self.stats)
