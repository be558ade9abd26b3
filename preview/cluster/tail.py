"""The live tail through a :class:`~.livelog.LiveLog`: the owner writes it
(:func:`write_tail`), every other node relays it to its own subscribers
(:class:`TailRelays`).

**The owner** appends what its broadcast published as soon as the last append is done
(one entry, one round trip: what came meanwhile is the next batch), and trims the tail
only at or below what PostgreSQL stored (less a margin for readers between the two), so
the tail and PostgreSQL together always hold ``1..top``. An append Redis refuses (the
reaper took the preview over) ends the writing: a zombie adds nothing. While Redis is
down the owner goes on alone (its writer stores every line in PostgreSQL); once Redis is
back, the first batch after the hole is appended only once PostgreSQL holds every line
before it, so a relay that sees a hole in the tail finds it in PostgreSQL.

**A non-owner node** runs one relay a preview its clients stream (one task, ``XREAD
BLOCK`` after the last seq it has), holding the newest events in a ring its subscribers
read; a subscriber behind the ring (a resume, a new stream) reads PostgreSQL then the
tail (:meth:`TailRelays.fill`). Redis down, the relay tails PostgreSQL (polled) and the
preview's row until Redis answers again. The relay ends at the tail's end entry, or when
the row is over and PostgreSQL has nothing more (the preview ended while Redis was down).
"""

from __future__ import annotations

import bisect
import logging
from collections.abc import AsyncIterator, Iterator
from contextlib import contextmanager

import trio

from ..errors import StoreError
from ..logs import Event, Gap, LogBroadcast
from ..store import Store
from ..store.models import ACTIVE_STATUSES, PreviewInstance
from .livelog import LiveLog, LiveLogDown, StaleAppend, TailRead

__all__ = ["Relay", "TailRelays", "write_tail"]

_log = logging.getLogger(__name__)
# Events kept in the tail below what PostgreSQL stored: a reader that read PostgreSQL a
# moment ago finds the rest in the tail, though the owner stored (and trimmed) meanwhile.
TRIM_MARGIN = 10_000
_RETRY_AFTER = 1.0  # s: Redis failed; the next append tried after this
_STORED_PATIENCE = 5.0  # s: Redis down, the owner's subscribers wait this long for PostgreSQL
_BLOCK = 1.0  # s: a relay's XREAD BLOCK; between two, it checks the row
_POLL = 0.2  # s: a relay tailing PostgreSQL (Redis down)
_RING = 4096  # events a relay keeps for its subscribers
_PAGE = 2000
_LINGER = 5.0  # s: a relay with no subscriber left stays this long (a reconnect)


async def write_tail(
    live_log: LiveLog,
    preview_id: str,
    broadcast: LogBroadcast,
    stored_patience: float = _STORED_PATIENCE,
) -> None:
    """The owner's writer of ``preview_id``'s tail: every batch ``broadcast`` publishes,
    then the end (see the module doc). Runs beside the preview; returns after its end.
    A failure of its own is logged, never raised: the preview runs on without a tail
    (its relays then tail PostgreSQL).

    The broadcast is gated meanwhile: this node's own subscribers take a batch once the
    tail (or, while Redis is down, PostgreSQL) has it, so that every line any client saw
    outlives this node's death (the reaper salvages the tail). The gate opens when the
    writing ends, however it ends. ``stored_patience``: see :func:`_reveal_once_stored`."""
    broadcast.gate()
    try:
        await _write_tail(live_log, preview_id, broadcast, stored_patience)
    except Exception:
        _log.exception(
            "preview %s: its live tail failed; the other nodes read PostgreSQL", preview_id
        )
    finally:
        broadcast.ungate()


async def _write_tail(
    live_log: LiveLog, preview_id: str, broadcast: LogBroadcast, stored_patience: float
) -> None:
    expected = 1  # the seq the tail should get next: more is a hole
    trimmed = 0
    down_until = -1.0
    with broadcast.follow() as subscription:
        while True:
            try:
                item = await subscription.receive()
            except trio.EndOfChannel:
                break
            if item is None or type(item) is Gap:
                continue  # a heartbeat; events that left the ring: PostgreSQL has them
            events = item
            assert isinstance(events, list)
            if not events:
                continue
            if trio.current_time() < down_until:
                await _reveal_once_stored(broadcast, events[-1].id, stored_patience)
                continue
            if events[0].id > expected:
                # A hole (Redis was down, or this writer fell behind the ring): the
                # relays fill it from PostgreSQL, which must hold it first.
                await broadcast.wait_persisted(events[0].id - 1)
            try:
                await live_log.append(preview_id, events)
            except StaleAppend:
                _log.warning("preview %s: its live tail was taken over", preview_id)
                return
            except LiveLogDown as error:
                if not await _taken(live_log, preview_id, events[-1].id):
                    _log.warning("preview %s: the live tail is down (%s)", preview_id, error)
                    down_until = trio.current_time() + _RETRY_AFTER
                    await _reveal_once_stored(broadcast, events[-1].id, stored_patience)
                    continue
            broadcast.reveal(events[-1].id)
            expected = events[-1].id + 1
            stored = broadcast.persisted_id - TRIM_MARGIN
            if stored - trimmed >= TRIM_MARGIN:
                try:
                    await live_log.trim_below(preview_id, stored)
                    trimmed = stored
                except LiveLogDown:
                    pass
    if broadcast.final_status is not None:
        try:
            await live_log.end(preview_id, broadcast.final_status)
        except (LiveLogDown, StaleAppend) as error:
            # Relays then end by the row and PostgreSQL (see the module doc).
            _log.warning("preview %s: its live tail's end not written (%s)", preview_id, error)


async def _taken(live_log: LiveLog, preview_id: str, seq: int) -> bool:
    """Whether the tail has ``seq`` though its append failed: a reply that came too late
    (a loaded machine: the call's bound ran out after Redis took the entry) says nothing
    of the entry. Taken, it is revealed as any appended batch; treated as not taken, it
    was shown after ``_STORED_PATIENCE`` though PostgreSQL had not stored it yet, and a
    subscriber saw lines that did not outlive the node's death (75, at load 21)."""
    try:
        return await live_log.top(preview_id) >= seq
    except LiveLogDown:
        return False


async def _reveal_once_stored(broadcast: LogBroadcast, seq: int, patience: float) -> None:
    """The events up to ``seq`` shown to subscribers once PostgreSQL holds them (the
    tail does not), or after ``patience`` s when it does not either: a stream that
    stopped for an outage of both would be worse than a line that may not outlive this
    node."""
    with trio.move_on_after(patience):
        await broadcast.wait_persisted(seq)
    broadcast.reveal(seq)


class Relay:
    """One preview's events as this node relays them: the newest in ``ring`` (ids
    increasing, holes possible where neither store has a line), after ``base``."""

    def __init__(self, preview_id: str) -> None:
        self.preview_id = preview_id
        self.ring: list[Event] = []
        self.base = 0  # the ring holds what this relay took after this seq
        self.last = 0  # the newest seq taken
        self.ended: str | None = None  # the final status, once the tail ended
        self.started = trio.Event()
        self.users = 0
        self.degraded = False  # tailing PostgreSQL (Redis down)
        self.stopped = False  # ended without the tail's end: subscribers resume elsewhere
        self._lot = trio.lowlevel.ParkingLot()
        self._joined = trio.Event()

    def after(self, cursor: int) -> list[Event]:
        """The ring's events after ``cursor`` (at or above ``base``)."""
        ring = self.ring
        return ring[bisect.bisect_right(ring, cursor, key=_seq) :]

    async def wait(self, cursor: int, patience: float) -> None:
        """Until there is something after ``cursor`` or the end, or ``patience`` s."""
        if self.last > cursor or self.ended is not None or self.stopped:
            return
        with trio.move_on_after(patience):
            await self._lot.park()

    def _push(self, events: list[Event]) -> None:
        if events:
            self.ring.extend(events)
            self.last = events[-1].id
            if len(self.ring) > _RING:
                cut = len(self.ring) - _RING // 2
                self.base = self.ring[cut - 1].id
                del self.ring[:cut]
        self._lot.unpark_all()

    def _end(self, status: str) -> None:
        self.ended = status
        self._lot.unpark_all()


def _seq(event: Event) -> int:
    return event.id


class TailRelays:
    """This node's relays of previews other nodes run (see the module doc); ``serve``
    in the app's nursery. ``node`` is this node's id."""

    def __init__(
        self, live_log: LiveLog, store: Store, node: str, *, keepalive_interval: float
    ) -> None:
        self.live_log = live_log
        self.store = store
        self.node = node
        self.keepalive_interval = keepalive_interval
        self._relays: dict[str, Relay] = {}
        self._nursery: trio.Nursery | None = None
        self.relayed = 0  # events relayed (metrics, the tests' evidence)

    async def serve(self, *, task_status: trio.TaskStatus[None] = trio.TASK_STATUS_IGNORED) -> None:
        """The relays' nursery, until :meth:`aclose` (their subscribers then resume
        elsewhere: no end is told)."""
        async with trio.open_nursery() as nursery:
            self._nursery = nursery
            task_status.started()
            await trio.sleep_forever()

    def close(self) -> None:
        if self._nursery is not None:
            self._nursery.cancel_scope.cancel()

    @property
    def running(self) -> int:
        """Relays running now (one a preview of another node streamed here)."""
        return len(self._relays)

    def serves(self, row: PreviewInstance) -> bool:
        """Whether a stream of ``row`` is relayed here: live, on another node."""
        return row.status in ACTIVE_STATUSES and bool(row.node_id) and row.node_id != self.node

    async def top(self, preview_id: str) -> int:
        """The newest seq of a preview another node runs (the tail's, else stored)."""
        try:
            top = await self.live_log.top(preview_id)
        except LiveLogDown:
            top = 0
        return max(top, await self.store.last_log_seq(preview_id))

    @contextmanager
    def join(self, preview_id: str) -> Iterator[Relay]:
        """The preview's relay, started if none runs, for as long as the block."""
        relay = self._relays.get(preview_id)
        if relay is None:
            assert self._nursery is not None
            relay = self._relays[preview_id] = Relay(preview_id)
            self._nursery.start_soon(self._follow, relay)
        relay.users += 1
        relay._joined.set()
        try:
            yield relay
        finally:
            relay.users -= 1
            if relay.users == 0:
                relay._joined = trio.Event()

    async def fill(self, preview_id: str, after: int, before: int) -> AsyncIterator[list[Event]]:
        """The events with ``after < seq < before``, PostgreSQL's first, then the tail's,
        as long as either gives more: what neither has (lines past the log quota) is
        left out. ``StoreError`` if PostgreSQL fails."""
        while after < before - 1:
            moved = after
            while True:
                values = await self.store.log_event_values(
                    preview_id, after=after, before=before, limit=_PAGE
                )
                if not values:
                    break
                page = [Event(*value) for value in values]
                after = page[-1].id
                yield page
            try:
                read = await self.live_log.read_after(preview_id, after)
            except LiveLogDown:
                read = TailRead([])
            page = [event for event in read.events if event.id < before]
            if page:
                after = page[-1].id
                yield page
            if after == moved:
                return

    async def _follow(self, relay: Relay) -> None:
        pid = relay.preview_id
        try:
            relay.base = relay.last = await self.top(pid)
        except StoreError:
            relay.base = relay.last = 0
        relay.started.set()
        try:
            while relay.ended is None:
                if relay.users == 0:
                    with trio.move_on_after(_LINGER):
                        await relay._joined.wait()
                    if relay.users == 0:
                        return
                try:
                    await self._step(relay)
                except StoreError as error:
                    _log.warning("relay of %s: PostgreSQL failed (%s)", pid, error.code)
                    await trio.sleep(_POLL)
        finally:
            if relay.ended is None:  # cancelled (the service stops): no end to tell
                relay.stopped = True
                relay._lot.unpark_all()
            if self._relays.get(pid) is relay:
                del self._relays[pid]

    async def _step(self, relay: Relay) -> None:
        """One read of the tail (or of PostgreSQL while Redis is down) into the ring."""
        pid = relay.preview_id
        try:
            read = await self.live_log.read_after(pid, relay.last, block=_BLOCK)
        except LiveLogDown as error:
            if not relay.degraded:
                _log.warning("relay of %s: the tail is down (%s); PostgreSQL's", pid, error)
                relay.degraded = True
            await self._step_stored(relay)
            return
        if relay.degraded:
            _log.warning("relay of %s: the live tail is back", pid)
            relay.degraded = False
        events = read.events
        if events and events[0].id > relay.last + 1:  # a hole: PostgreSQL has it
            hole = [e async for page in self.fill(pid, relay.last, events[0].id) for e in page]
            events = hole + events
        self._take(relay, events)
        if read.ended is not None:
            relay._end(read.ended)
        elif not events:
            await self._check_row(relay)

    async def _step_stored(self, relay: Relay) -> None:
        values = await self.store.log_event_values(
            relay.preview_id, after=relay.last, before=None, limit=_PAGE
        )
        self._take(relay, [Event(*value) for value in values])
        if not values:
            await self._check_row(relay)
            if relay.ended is None:
                await trio.sleep(_POLL)

    async def _check_row(self, relay: Relay) -> None:
        """The preview is over (the row says so) and PostgreSQL has nothing more: the
        end, as the tail would have said (its owner or the reaper could not write it)."""
        row = await self.store.get_preview(relay.preview_id)
        if row is not None and row.status in ACTIVE_STATUSES:
            return
        values = await self.store.log_event_values(
            relay.preview_id, after=relay.last, before=None, limit=_PAGE
        )
        if values:
            self._take(relay, [Event(*value) for value in values])
            return
        relay._end(row.status if row is not None else "unknown")

    def _take(self, relay: Relay, events: list[Event]) -> None:
        fresh = [event for event in events if event.id > relay.last]
        self.relayed += len(fresh)
        relay._push(fresh)
