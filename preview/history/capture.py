"""Keeping every proxied request with its answer, off the hot path: :class:`RequestHistory`.

Each way into an app (the envelope, the path proxy, a preview's origin; the ASGI paths
and the hot path below Hypercorn alike) completes each call in one place
(``services.CallRecorder.complete``), which calls :meth:`Capture.record` once its
answer is relayed: what the call holds — its header
lists, the samples of its bodies (:class:`BodySample`, filled as the bytes pass, at most
``PREVIEW_CAPTURE_BODY_BYTES`` each) — is appended to its preview's requests waiting,
as recorded (``waiting``). The writer (:meth:`RequestHistory.serve`, one task of the
service) takes what accumulated, as the log writer does (a trickle waits ``_LINGER``
for company), shapes its rows on the loop in slices (``waiting.shaped``: masked, its
heads as JSON; of a preview past its bounds only its newest), and in the store's worker
thread inserts the batch and cuts each preview's history to its bounds, in one
transaction (``rows``). A preview's oldest waiting requests past its count bound are
let go as newer ones come, so a preview past it has at most one more than the bound
waiting, and the writer may wait longer for it (``_CAPPED_LINGER``): its batch costs
the same however many came.

What waits is bounded too: past ``_MAX_PENDING`` requests or ``_MAX_PENDING_BYTES``
(the database down for a while), new requests are not kept, counted in
:attr:`RequestHistory.not_kept` and said once in the service's log. A request is never
slowed down or refused for its history.
"""

from __future__ import annotations

import functools
import logging
import time
from collections.abc import AsyncIterator
from typing import Any

import trio

from ..errors import StoreError
from ..services import CallOutcome, CallRecord, ProxiedCall
from ..settings import Settings
from ..store import Pace, Store, until_stored
from .rows import write_batch
from .waiting import Waiting, entry, shaped

__all__ = ["BodySample", "Capture", "NoCapture", "RequestHistory", "SampledBody"]

_log = logging.getLogger(__name__)
# A small batch waits this long for company: each transaction costs the same whatever
# its size, and nobody waits for a request's row (a reader cuts the wait short): at a
# hundred requests a second, a batch a second is a fifth of the writer's CPU of four.
_LINGER = 1.0  # s
_SMALL_BATCH = 256
# Past a preview's bound, a batch's work is capped: its older rows all go and only its
# newest nine tenths are inserted, however many came (rows.write_batch), and its rows
# waiting stay at one more than the bound (RequestHistory.keep). So while a preview
# comes fast enough to pass its bound within this long, the writer lingers this long
# (unless half of what may wait has come, or a reader waits): above 250 calls a second,
# a batch every 4 s instead of every second, each costing what one of them did (at one
# connection, each batch of the store's writers is a call or two made a millisecond late).
_CAPPED_LINGER = 4.0  # s
_MAX_PENDING = 4096
_MAX_PENDING_BYTES = 32 * 2**20
_SETTLE_TIMEOUT = 5.0  # s a reader waits for what was recorded before it to be stored
_CLOSE_TIMEOUT = 10.0  # s the service's stop waits for the last batch
_TOTALS_KEPT = 4096  # previews whose totals the writer keeps in memory


class BodySample:
    """The first ``room`` bytes of a body as they pass, and its whole size."""

    __slots__ = ("chunks", "framed", "room", "size")

    def __init__(self, room: int, *, framed: bool = False) -> None:
        self.chunks: list[bytes] = []
        self.room = room
        self.size = 0
        # Chunked framing and all (the hot path relays bodies as framed): the writer
        # keeps only the data.
        self.framed = framed

    def add(self, data: bytes | bytearray | memoryview) -> None:
        self.size += len(data)
        if self.room > 0:
            piece = bytes(data if len(data) <= self.room else data[: self.room])
            self.chunks.append(piece)  # bytes(a bytes) is itself: no copy then
            self.room -= len(piece)

    def kept(self) -> bytes:
        return b"".join(self.chunks)


class SampledBody:
    """An async iterator of body chunks (a request's, an answer's events) passed on
    unchanged, each ``bytes`` chunk — or ``.data`` of an h11 ``Data`` event — sampled."""

    __slots__ = ("_inner", "_sample")

    def __init__(self, inner: AsyncIterator[Any], sample: BodySample) -> None:
        self._inner = inner
        self._sample = sample

    def __aiter__(self) -> SampledBody:
        return self

    async def __anext__(self) -> Any:
        item = await self._inner.__anext__()
        kind = type(item)  # h11 gives a body's bytes as a bytearray
        if kind is bytes or kind is bytearray or kind is memoryview:
            self._sample.add(item)
        else:  # an h11 event: its Data's bytes
            data = getattr(item, "data", None)
            if data is not None:
                self._sample.add(data)
        return item

    async def aclose(self) -> None:
        close = getattr(self._inner, "aclose", None)
        if close is not None:
            await close()


class Capture:
    """One request on its way (``RequestHistory.start``): the samples of its bodies,
    and :meth:`record` once it is answered."""

    __slots__ = ("_history", "answer", "sent")

    def __init__(self, history: RequestHistory) -> None:
        self._history = history
        self.sent: BodySample | None = None
        self.answer: BodySample | None = BodySample(history.body_bytes)

    def answering(self, events: AsyncIterator[Any], *, framed: bool = False) -> AsyncIterator[Any]:
        """The answer's chunks (or h11 events) passed on, sampled (``framed``: as the
        app chunked them)."""
        assert self.answer is not None
        self.answer.framed = framed
        return SampledBody(events, self.answer)

    def record(
        self, runtime: Any, call: ProxiedCall, outcome: CallOutcome, event_id: int | None
    ) -> None:
        """Keep ``call`` of ``runtime`` with its ``outcome`` and its ``proxy`` event's
        id. Never blocks, never raises for it."""
        total_ms = (trio.current_time() - call.began) * 1000
        status = outcome.status
        self._history.keep(
            CallRecord(
                runtime.id,
                runtime.spec.generation_id,
                call.request_id,
                event_id,
                call.way,
                call.replay_of,
                time.time() - total_ms / 1000,
                outcome.elapsed_ms,
                total_ms,
                call.method,
                call.path,
                status,
                outcome.error,
                call.request_headers,
                self.sent,
                outcome.response_headers,
                self.answer if status is not None else None,
            )
        )


class NoCapture:
    """The capture of a request that is not kept: nothing sampled, nothing recorded."""

    answer = None

    def answering(self, events: AsyncIterator[Any], *, framed: bool = False) -> AsyncIterator[Any]:
        return events

    def record(
        self, runtime: Any, call: ProxiedCall, outcome: CallOutcome, event_id: int | None
    ) -> None:
        return None


class RequestHistory:
    """One service's request history: what is recorded, waiting to be stored, and the
    writer that stores it (see the module doc). Owned by the app's ``Services``."""

    def __init__(self, settings: Settings) -> None:
        self.body_bytes = settings.capture_body_bytes
        self.max_requests = settings.capture_requests
        self.max_bytes = settings.capture_mb * 2**20
        self.enabled = self.max_requests > 0
        self.not_kept = 0  # requests past the pending bound, or lost to the database
        self._waiting: dict[str, Waiting] = {}  # by preview
        self._pending = 0  # rows waiting, of all previews
        self._pending_bytes = 0
        self._recorded = 0
        self._stored = 0  # recorded before the last batch stored (or given up) was taken
        self._taken_at = 0.0  # when the writer last took a batch (trio's clock)
        self._stored_lot = trio.lowlevel.ParkingLot()
        self._wake = trio.Event()
        self._hurry = trio.Event()  # set: a reader waits, store without lingering
        self._readers = 0  # readers waiting in settled()
        self._closing = False
        self._serving = False
        self._done = trio.Event()
        self._give_up = trio.Event()
        self._none = NoCapture()
        self._shape_failed = False  # said once in the service's log
        self._capped = False  # the last batch was past a preview's bound (its work capped)
        # Each preview's kept requests and bytes, as the writer last left them (rows).
        self._totals: dict[str, list[int]] = {}

    # -- the hot side: one call per request ----------------------------------------------

    def start(self, body: Any, *, framed: bool = False) -> tuple[Any, Capture | NoCapture]:
        """A request leaves: its body (an async iterator of chunks, bytes or None;
        ``framed``: chunked as it goes to the app) to send instead, sampled as it goes,
        and its :class:`Capture` (a no-op one when requests are not kept)."""
        if not self.enabled:
            return body, self._none
        capture = Capture(self)
        if body is not None:
            capture.sent = BodySample(self.body_bytes, framed=framed)
            if type(body) is bytes:
                capture.sent.add(body)
            else:
                body = SampledBody(body, capture.sent)
        return body, capture

    def keep(self, item: CallRecord) -> None:
        """Queue one request (``Capture.record``'s) for the writer, unshaped unless
        its bodies are large (``waiting.entry``)."""
        if self._pending >= _MAX_PENDING or self._pending_bytes > _MAX_PENDING_BYTES:
            if not self.not_kept:
                _log.warning("request history: the database is behind; requests not kept")
            self.not_kept += 1
            return
        try:
            waiting_entry = entry(self._recorded + 1, item)
        except Exception:  # a bug of ours must not fail the call: the request is lost
            self._not_shaped()
            return
        waiting = self._waiting.get(item.preview_id)
        if waiting is None:
            waiting = self._waiting[item.preview_id] = Waiting()
        self._recorded += 1
        items = waiting.items
        items.append(waiting_entry)
        size = waiting_entry[3]
        waiting.size += size
        self._pending += 1
        self._pending_bytes += size
        if len(items) > self.max_requests + 1:  # the batch's cut would remove it unseen
            oldest = items.popleft()[3]
            waiting.size -= oldest
            self._pending -= 1
            self._pending_bytes -= oldest
        self._wake.set()
        if self._half_full():
            self._hurry.set()  # a linger ends before anything could be dropped

    def _not_shaped(self) -> None:
        if not self._shape_failed:
            _log.exception("request history: a request could not be kept")
        self._shape_failed = True
        self.not_kept += 1

    def _half_full(self) -> bool:
        return self._pending >= _MAX_PENDING // 2 or self._pending_bytes > _MAX_PENDING_BYTES // 2

    def _worth_lingering(self, now: float) -> bool:
        """Whether a preview comes fast enough (since the last batch) to be past its
        bound within ``_CAPPED_LINGER``, or was past it in the last batch: waiting
        longer for it then costs its batch nothing."""
        if self._half_full():
            return False
        if self._capped:
            return True
        span = max(now - self._taken_at, _LINGER) / _CAPPED_LINGER
        return any(
            len(each.items) > self.max_requests * span or each.size > self.max_bytes * span
            for each in self._waiting.values()
        )

    # -- readers ---------------------------------------------------------------------------

    async def settled(self) -> None:
        """Return once what was recorded before this call is stored (bounded: a reader
        answers from what is stored after ``_SETTLE_TIMEOUT``)."""
        target = self._recorded
        self._readers += 1  # the writer does not linger while a reader waits
        self._hurry.set()  # nor goes on lingering
        try:
            with trio.move_on_after(_SETTLE_TIMEOUT):
                while self._serving and self._stored < target:
                    await self._stored_lot.park()
        finally:
            self._readers -= 1

    # -- the writer --------------------------------------------------------------------------

    async def serve(self, store: Store, *, task_status: trio.TaskStatus[None]) -> None:
        """Store what is recorded, in batches, until :meth:`aclose`."""
        self._serving = True
        self._taken_at = trio.current_time()
        task_status.started()
        try:
            while True:
                if not self._pending:
                    if self._closing:
                        return
                    self._wake = trio.Event()
                    await self._wake.wait()
                    continue
                began = trio.current_time()
                if not (self._closing or self._readers):
                    self._hurry = trio.Event()
                    if self._pending < _SMALL_BATCH and not self._half_full():
                        with trio.move_on_at(began + _LINGER):
                            await self._hurry.wait()
                    if not self._hurry.is_set() and self._worth_lingering(trio.current_time()):
                        with trio.move_on_at(began + _CAPPED_LINGER):
                            await self._hurry.wait()
                batch, taken = self._waiting, self._recorded
                self._waiting, self._pending, self._pending_bytes = {}, 0, 0
                self._taken_at = trio.current_time()
                rows = await shaped(batch, self.max_requests, self.max_bytes, self._not_shaped)
                if rows:
                    await self._store(store, rows)
                self._stored = taken  # those let go waiting included: their fate is known
                self._stored_lot.unpark_all()
        finally:
            self._serving = False
            self._stored_lot.unpark_all()
            self._done.set()

    async def _store(self, store: Store, rows: list[tuple]) -> None:
        if len(self._totals) > _TOTALS_KEPT:  # counted again from the table when next seen
            self._totals.clear()

        # In slices (store.Pace): with rests while nobody waits for it, else with a core
        # let go between them.
        pace = Pace(self._hurried)

        count = len(rows)

        def write() -> bool:
            bounds = (self.max_requests, self.max_bytes)
            return write_batch(store.engine, rows, *bounds, self._totals, pace)

        try:
            self._capped = False  # (so while it is stored, and if it fails)
            self._capped = await until_stored(
                functools.partial(store.run_sync, write),
                what=f"{count} requests",
                give_up=self._give_up,
            )
        except StoreError:
            self.not_kept += count
        except Exception:  # a bug of ours must not end the service: the batch is lost
            _log.exception("request history: a batch of %d could not be stored", count)
            self.not_kept += count

    def _hurried(self) -> bool:
        """Whether a batch is wanted at once (read in the writer's thread too)."""
        return self._closing or self._readers > 0 or self._hurry.is_set()

    async def aclose(self) -> None:
        """Store what is left (bounded by ``_CLOSE_TIMEOUT``), then end :meth:`serve`."""
        self._closing = True
        self._wake.set()
        self._hurry.set()
        if not self._serving:
            return
        with trio.CancelScope(shield=True):
            with trio.move_on_after(_CLOSE_TIMEOUT):
                await self._done.wait()
            self._give_up.set()
            with trio.move_on_after(_CLOSE_TIMEOUT):
                await self._done.wait()
