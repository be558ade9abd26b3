""":class:`ClusterNode`: this node's lease, the reaping of lost nodes, its own fencing,
and launches admitted under cluster-wide limits."""

from __future__ import annotations

import logging
import math
import threading
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

import trio
from sqlalchemy import Engine, create_engine
from sqlalchemy.engine import make_url
from sqlalchemy.exc import IntegrityError, SQLAlchemyError

from ..auth import User
from ..clock import utcnow
from ..errors import Conflict, StoreError, Unavailable
from ..logs import Event
from ..store import GenerationGone, PreviewInstance, Store
from .admission import AlreadyLive, AtLimit, live_preview_of, place_preview
from .leases import (
    LEASE_TTL,
    RENEW_INTERVAL,
    declare_dead,
    lease_holder,
    leave,
    live_nodes,
    lost_previews,
    reap_lost_nodes,
    register,
    renew,
    store_salvaged,
)
from .livelog import LiveLog, LiveLogDown, RedisLiveLog, StaleAppend
from .tail import TailRelays

__all__ = ["ClusterNode", "NodeIdInUse"]

_T = TypeVar("_T")
_log = logging.getLogger(__name__)
# s: a node that has not renewed for this long (from the time it sent its last renewal
# that succeeded) stops its previews and ends: before the others may reap it (TTL), so
# a generation never runs on two nodes at once.
FENCE_AFTER = LEASE_TTL - RENEW_INTERVAL
_REAP_INTERVAL = 0.5  # s
# s: a renewal not done this long after it was sent is late: the watch starts counting
# the other nodes' renewals from here.
_LATE = 0.5
# s: no node renewing for this long (more than a renewal's interval, for every node)
# means none can: PostgreSQL is down for all of them, not cut off from this one.
_QUIET = RENEW_INTERVAL + 1.0
_WATCH_POLL = 0.25  # s: the other nodes' renewals read this often while this one's fail
# s: after an outage of the database for every node, the time this node has to renew
# once the others do again before it fences itself, as a cut-off node has: a reaper
# waits for a whole TTL of its own renewals after the outage.
_CATCH_UP = FENCE_AFTER
# s: a renewal that failed is tried again this soon, not a whole interval later: after a
# restart of the database shorter than the lease, a node whose renewal fell in it while
# another's fell after it renews within this of the database's return, before its watch
# would take the others' renewals for evidence that it alone is cut off.
_RENEW_RETRY = 0.5
# s: once the others renewed while this node could not, it fences when a renewal of its
# own that began after theirs failed too (it is cut off), or at this past FENCE_AFTER
# (a renewal still under way then): still a second before the others may reap it.
_LAST_CHANCE = 1.0
_CALL_TIMEOUT = 2.0  # s: one lease statement; a database slower than this is not there
_LEAVE_TIMEOUT = 3.0  # s
_RETRY_AT_LIMIT = 30  # s, as a single node's (a limit frees up when a preview ends)
_RETRY_WHEN_FULL = 10  # s: a slot frees up when any preview of any node ends


class NodeIdInUse(RuntimeError):
    """Another live node renews this node's id: two nodes were given one PREVIEW_NODE_ID."""


class ClusterNode:
    """This node in the cluster; :meth:`run` in the app's nursery, :meth:`aclose` once its
    previews ended. ``on_fenced`` stops them when the lease is lost."""

    def __init__(
        self,
        node: str,
        internal_url: str,
        store: Store,
        *,
        on_fenced: Callable[[], Awaitable[None]],
        capacity: int | None = None,
    ) -> None:
        self.node = node
        self.internal_url = internal_url
        self.store = store
        self.capacity = capacity  # previews it runs at most (its ports), for placement
        self.epoch: int | None = None
        self._on_fenced = on_fenced
        self.fenced = trio.Event()
        self.fenced_because = ""
        # The live tail (cluster.livelog), set by the app: the reaper salvages a lost
        # node's into PostgreSQL and ends it.
        self.live_log: RedisLiveLog | None = None
        self.relays: TailRelays | None = None  # streams of other nodes' previews
        self.reaped = 0  # previews failed by this node's reaper ("node lost")
        self.reap_rounds = 0  # rounds its reaper ran (after a whole TTL of renewals)
        self.live_nodes = 0  # nodes holding a lease, as of this node's last renewal
        # True while no node renews (PostgreSQL down for all): previews run on, unreaped.
        self.database_down = False
        # The lease's statements on a connection of their own, off the store's threads
        # and pool: a store busy writing logs must never delay a renewal past the TTL.
        self._engine = _lease_engine(store.url, connections=2)  # a reap and a leave
        # The renewals' own connection: a reap held up by the database (its statements
        # wait on the rows launches lock) must never keep a renewal waiting for one.
        self._renewals = _lease_engine(store.url, connections=1)
        self._limiter = trio.CapacityLimiter(2)  # a reap and a leave at once
        self._renewer = trio.CapacityLimiter(1)  # the renewing thread (_renew_forever)
        self._heard = trio.Event()  # set (in the loop) by each renewal the thread made
        self._renewed = trio.current_time()  # when the last good renewal was sent
        self._unbroken_since = trio.current_time()  # renewals without a miss since then
        self._failed_began = -math.inf  # when the last renewal that failed was sent
        self._closing = trio.Event()
        self._done = trio.Event()

    # -- lifetime -------------------------------------------------------------------

    async def run(self, *, task_status: trio.TaskStatus[None] = trio.TASK_STATUS_IGNORED) -> None:
        """Register (waiting out this node's previous lease, at most its TTL), then renew
        and reap until :meth:`aclose`, or until fenced; :class:`NodeIdInUse` if another
        live node holds the id."""
        try:
            self.epoch = await self._register()
            self.store.owner = (self.node, self.epoch)
            _log.warning("cluster: node %s joined (epoch %d)", self.node, self.epoch)
            self._renewed = self._unbroken_since = trio.current_time()
            task_status.started()
            async with trio.open_nursery() as nursery:
                nursery.start_soon(self._renew_forever)
                nursery.start_soon(self._reap_forever)
                nursery.start_soon(self._watch_lease)
                await self._closing.wait()
                nursery.cancel_scope.cancel()
        finally:
            if self.epoch is not None and not self.fenced.is_set():
                with trio.CancelScope(shield=True), trio.move_on_after(_LEAVE_TIMEOUT):
                    await self._call(leave, self.node, self.epoch)
            self._engine.dispose()
            self._renewals.dispose()
            self._done.set()

    async def aclose(self) -> None:
        """Leave the cluster (``stopped``) and return once left: after this node's
        previews ended, so that no reaper fails a row this node was still to write."""
        self._closing.set()
        if self.epoch is not None:
            await self._done.wait()

    @property
    def holds_lease(self) -> bool:
        return self.epoch is not None and not self.fenced.is_set()

    @property
    def lease_age(self) -> float:
        """Seconds since this node sent its last renewal that succeeded (its
        registration, at first): past ``FENCE_AFTER`` it fences itself."""
        return trio.current_time() - self._renewed

    def full(self) -> Unavailable:
        """The refusal of a launch that found no free slot: this node is full, and the
        placement that sent the launch here found none elsewhere (cluster.placement)."""
        return Unavailable(
            "Every node of the cluster runs as many previews as it can; stop one or try"
            " again shortly.",
            code="cluster_full",
            retry_after=_RETRY_WHEN_FULL,
            details={"liveNodes": self.live_nodes},
        )

    async def _register(self) -> int:
        deadline = trio.current_time() + LEASE_TTL + RENEW_INTERVAL
        first_seen = await self._call(lease_holder, self.node)
        while True:
            epoch = await self._call(register, self.node, self.internal_url, self.capacity)
            if epoch is not None:
                return epoch
            seen = await self._call(lease_holder, self.node)
            if (seen is not None and seen != first_seen) or trio.current_time() > deadline:
                raise NodeIdInUse(
                    f"another live node renews the node id {self.node!r}: give each node"
                    " its own PREVIEW_NODE_ID"
                )
            # This node's previous run (killed): its lease runs out within the TTL.
            await trio.sleep(RENEW_INTERVAL / 4)

    # -- the lease ------------------------------------------------------------------

    async def _renew_forever(self) -> None:
        """Renew the lease every ``RENEW_INTERVAL`` from a thread of its own, and fence
        once the others declared this node dead. A renewal is a statement on the lease's
        own connection; the event loop only hears of it (``_renewed``, counted in Redis).
        Renewed from the loop, a burst of work on it (600 launches at once through three
        nodes on two cores) took each renewal's result seconds late, and two nodes of three
        fenced themselves, their renewals done and their previews stopped. (The thread
        keeps real time: the loop's clock is read for the times it compares.)"""
        assert self.epoch is not None
        clock = trio.lowlevel.current_clock()
        token = trio.lowlevel.current_trio_token()
        node, epoch = self.node, self.epoch
        stop = threading.Event()

        def renewed_now() -> None:  # in the loop (run_sync_soon): count it in Redis
            self._heard.set()

        def renew_in_thread() -> bool:
            """Renew until told to stop (False) or declared dead (True)."""
            failing = False
            while not stop.is_set():
                began = clock.current_time()
                try:
                    with self._renewals.begin() as connection:
                        seen = _renew_and_count(connection, node, epoch)
                except Exception as error:  # the database away, or slower than its timeout
                    self._unbroken_since = clock.current_time() + RENEW_INTERVAL
                    self._failed_began = began
                    if not failing:  # once a series: it is tried again every _RENEW_RETRY
                        _log.warning("cluster: the lease was not renewed: %s", _first_line(error))
                    failing = True
                else:
                    if seen is None:
                        return True
                    # The others count this lease from no earlier than ``began``.
                    self._renewed = max(self._renewed, began)
                    self.live_nodes = seen
                    token.run_sync_soon(renewed_now, idempotent=True)
                    if failing:
                        _log.warning("cluster: the lease was renewed again")
                    failing = False
                pause = _RENEW_RETRY if failing else RENEW_INTERVAL
                stop.wait(max(0.0, began + pause - clock.current_time()))
            return False

        async with trio.open_nursery() as nursery:
            nursery.start_soon(self._count_renewals)
            try:
                dead = await trio.to_thread.run_sync(
                    renew_in_thread, limiter=self._renewer, abandon_on_cancel=True
                )
            finally:
                stop.set()  # (abandoned when cancelled: it ends at its next wait)
            if dead:
                await self._fence("the other nodes declared it dead (its lease expired)")
            nursery.cancel_scope.cancel()

    async def _count_renewals(self) -> None:
        while True:
            await self._heard.wait()
            self._heard = trio.Event()
            await self._count_renewal()

    async def _watch_lease(self) -> None:
        """Fence once this node's renewals fail while the other nodes' succeed: it is cut
        off, and they will reap it once its lease expires, so it stops its previews first
        (``FENCE_AFTER`` from its last good renewal, once a renewal of its own sent after
        theirs failed too: theirs alone say nothing of a short outage that took this
        node's renewal and not theirs; ``_LAST_CHANCE`` later at most). While no node
        renews (PostgreSQL is down for all of them, so nobody can reap), its previews run
        on; once the others renew again it has ``_CATCH_UP`` to renew too. Redis, which
        counts every node's renewals (``_count_renewal``), cannot be read: it may be this
        node that is cut off, so it fences."""
        while True:
            renewed = self._renewed
            await trio.sleep_until(renewed + RENEW_INTERVAL + _LATE)
            if self._renewed != renewed:
                continue
            because = await self._judge_late_renewal(renewed)
            if because is not None:
                await self._fence(because)
                return

    async def _judge_late_renewal(self, renewed: float) -> str | None:
        """Watch the renewal due after ``renewed`` until it succeeds (None), or until this
        node must fence itself (why)."""
        first_read = trio.current_time()
        seen = await self._renewals_by_any()
        quiet_until = max(renewed + LEASE_TTL - _LATE, first_read + _QUIET)
        last_chance = renewed + FENCE_AFTER + _LAST_CHANCE
        # When the count first moved past ``seen``: the others renewed (back after an
        # outage of the database, once it is declared: it is declared only before this).
        others_renewed_at: float | None = None
        counted_at = first_read  # the last read of the count that answered (or the first)
        unanswered_in_a_row = 0
        while self._renewed == renewed:
            now = trio.current_time()
            count = await self._renewals_by_any()
            if count is None:
                unanswered_in_a_row += 1
            else:
                unanswered_in_a_row = 0
                counted_at = now
                if seen is not None and count != seen and others_renewed_at is None:
                    others_renewed_at = now
            if now >= renewed + FENCE_AFTER and not self.database_down:
                if seen is None or count is None:
                    # One read slower than its limit on a busy Redis says nothing when the
                    # read before it answered: the next, made at once, still ends by the
                    # last chance's own read would. Two in a row: Redis is unreachable.
                    one_slow_read = (
                        seen is not None and unanswered_in_a_row == 1 and now + _LATE <= last_chance
                    )
                    if not one_slow_read:
                        return f"it could not renew its lease for {FENCE_AFTER:g} s nor reach Redis"
                elif others_renewed_at is not None and (
                    self._failed_began >= others_renewed_at or now >= last_chance
                ):
                    return (
                        f"it could not renew its lease for {FENCE_AFTER:g} s while the other"
                        " nodes did"
                    )
                elif others_renewed_at is None and now >= quiet_until:
                    self.database_down = True
                    _log.error(
                        "cluster: no node renewed its lease for %g s: PostgreSQL is down for"
                        " every node; previews keep running and nobody is reaped until it is"
                        " back",
                        now - renewed,
                    )
            elif self.database_down:
                if count is None and now >= counted_at + _CATCH_UP:
                    # One slow read of a busy Redis says nothing: the others, were they
                    # back just after the last read that answered, reap no earlier than a
                    # TTL after it, and this node fences at that read + _CATCH_UP.
                    return (
                        "it could not renew its lease nor reach Redis for"
                        f" {_CATCH_UP:g} s during an outage"
                    )
                if others_renewed_at is not None and now >= others_renewed_at + _CATCH_UP:
                    return (
                        "the other nodes renewed their leases after an outage of the"
                        f" database and this one could not within {_CATCH_UP:g} s"
                    )
            # Reads begin this often: one that went unanswered waited its limit, longer.
            await trio.sleep_until(now + _WATCH_POLL)
        if self.database_down:
            self.database_down = False
            _log.warning("cluster: node %s renewed its lease again after the outage", self.node)
        return None

    async def _count_renewal(self) -> None:
        """Count this renewal in Redis, where every node's renewals are counted: a node
        whose own renewals fail tells from it whether the others' succeed."""
        if self.live_log is None:
            return
        try:
            await self.live_log.call("incr", self._renewals_key, limit=_LATE)
        except LiveLogDown as error:
            _log.debug("cluster: renewal not counted in Redis: %s", error)

    async def _renewals_by_any(self) -> int | None:
        """Every node's renewals counted so far; None when Redis cannot say."""
        if self.live_log is None:
            return None
        try:
            raw = await self.live_log.call("get", self._renewals_key, limit=_LATE)
        except LiveLogDown:
            return None
        return int(raw or 0)

    @property
    def _renewals_key(self) -> str:
        assert self.live_log is not None
        return self.live_log.prefixed("cluster:renewals")

    async def _fence(self, because: str) -> None:
        if self.fenced.is_set():
            return
        self.fenced_because = because
        self.fenced.set()
        self.store.fenced = True  # its lines of reaped previews are refused from now
        _log.error("cluster: node %s fenced itself: %s; stopping its previews", self.node, because)
        await self._on_fenced()

    # -- reaping --------------------------------------------------------------------

    async def _reap_forever(self) -> None:
        while True:
            await trio.sleep(_REAP_INTERVAL)
            # Only a node that has renewed without a miss for a whole TTL reaps: after an
            # outage of the database every node has renewed again before anyone may.
            if trio.current_time() - self._unbroken_since < LEASE_TTL:
                continue
            try:
                with trio.fail_after(_CALL_TIMEOUT * 2):
                    told = await self._salvage()
                with trio.fail_after(_CALL_TIMEOUT * 2):
                    reaped = await self._call(reap_lost_nodes, self.node, told)
            except (StoreError, SQLAlchemyError, trio.TooSlowError) as error:
                _log.warning("cluster: could not reap lost nodes: %s", _first_line(error))
                continue
            self.reaped += len(reaped)
            self.reap_rounds += 1
            for lost in reaped:
                _log.warning(
                    "cluster: preview %s failed: node %s that ran it was lost",
                    lost.preview_id,
                    lost.node,
                )
                if told and lost.preview_id in told:
                    await self._end_reaped(lost.preview_id)

    async def _end_reaped(self, preview_id: str) -> None:
        """The end of a salvaged tail, now that its row says failed: a subscriber told
        the end finds the row final (and may launch again at once). Not written, its
        relays end by the row a moment later (``tail.TailRelays``)."""
        assert self.live_log is not None
        try:
            with trio.fail_after(_CALL_TIMEOUT):
                await self.live_log.end_reaped(preview_id, "failed")
        except (LiveLogDown, StaleAppend, trio.TooSlowError) as error:
            _log.warning("cluster: the live tail of %s not ended: %s", preview_id, error)

    async def _salvage(self) -> frozenset[str] | None:
        """Before a lost node's previews are reaped: each one's live tail stored in
        PostgreSQL, then fenced with the reaper's last line (after the highest seq either
        store has; a zombie's appends are refused from then on, and the tail's end waits
        for the row: :meth:`_end_reaped`), and what came between and that line stored
        too, so every line any client saw is there. The previews whose last line this
        stored; none while Redis is down (then the reaper writes that line in
        PostgreSQL alone); None without a tail."""
        live_log = self.live_log
        if live_log is None:
            return None  # no tail: the reaper declares the dead nodes itself
        await self._call(declare_dead, self.node)  # renews no more: its previews are ours
        told = set()
        for lost in await self._call(lost_previews):
            pid = lost.preview_id
            last = Event(0, utcnow(), "ERROR", lost.message, "system", None, "failed")
            try:
                # The bulk first: a subscriber told the end finds its lines stored.
                top = await self._store_tail(live_log, pid, lost.stored_top)
                await live_log.end_lost(pid, top, last, "failed")
                await self._store_tail(live_log, pid, top)
            except LiveLogDown as error:
                _log.warning("cluster: the live tail of %s not salvaged: %s", pid, error)
                continue
            told.add(pid)
        return frozenset(told)

    async def _store_tail(self, live_log: LiveLog, preview_id: str, after: int) -> int:
        """The tail's events after ``after`` stored (those stored already left alone);
        the last seq stored."""
        while read := (await live_log.read_after(preview_id, after)).events:
            await self._call(store_salvaged, preview_id, [e.row() for e in read])
            after = read[-1].id
        return after

    # -- launches -------------------------------------------------------------------

    async def add_preview(self, row: PreviewInstance, user: User, limit: int) -> None:
        """Insert a launch's row as this node's, under the cluster-wide limits: 409
        ``preview_already_running`` (its generation has a live preview on any node) or
        ``preview_limit_reached`` (the user's tier), shaped as a single node's."""
        assert self.epoch is not None
        row.node_id, row.owner_epoch = self.node, self.epoch
        try:
            await self.store.run_sync(place_preview, self.store.engine, row.values(), limit)
        except AlreadyLive as live:
            raise _already_running(live.preview_id, live.status) from None
        except AtLimit as full:
            raise Conflict(
                f"Your {user.tier} tier allows {limit} concurrent preview(s); stop one first.",
                code="preview_limit_reached",
                retry_after=_RETRY_AT_LIMIT,
                details={
                    "tier": user.tier,
                    "limit": limit,
                    "running": [
                        {
                            "previewInstanceId": pid,
                            "generationId": gid,
                            "projectId": project,
                            "status": status,
                        }
                        for pid, gid, project, status in full.running
                    ],
                },
            ) from None
        except IntegrityError:
            live = await self.store.run_sync(live_preview_of, self.store.engine, row.generation_id)
            if live is None:
                if await self.store.get_generation(row.generation_id) is None:
                    raise GenerationGone(row.generation_id) from None
                raise
            raise _already_running(live[0], live[1]) from None

    # -- helpers --------------------------------------------------------------------

    async def _call(self, fn: Callable[..., _T], *args: Any) -> _T:
        def unit() -> _T:
            with self._engine.begin() as connection:  # one transaction a call
                return fn(connection, *args)

        # Abandoned when cancelled (the caller's time limit): a hung connection must not
        # hold the fencing; its statement_timeout ends it in the database.
        return await trio.to_thread.run_sync(unit, limiter=self._limiter, abandon_on_cancel=True)


def _renew_and_count(connection: Any, node: str, epoch: int) -> int | None:
    """The lease renewed, and the nodes holding one counted (metrics), in one
    transaction; None if it could not be renewed (declared dead)."""
    return live_nodes(connection) if renew(connection, node, epoch) else None


def _already_running(preview_id: str, status: str) -> Conflict:
    return Conflict(
        "A preview of this generation is already running; stop it first.",
        code="preview_already_running",
        details={"previewInstanceId": preview_id, "status": status},
    )


def _lease_engine(url: str, *, connections: int) -> Engine:
    options = make_url(url).query.get("options", "")
    timeout_ms = int(_CALL_TIMEOUT * 1000)
    return create_engine(
        url,
        pool_size=connections,
        max_overflow=0,
        pool_timeout=_CALL_TIMEOUT,  # a connection not free by then: said, not waited for
        pool_pre_ping=True,
        connect_args={
            "connect_timeout": int(_CALL_TIMEOUT) + 1,
            "options": f"{options} -c statement_timeout={timeout_ms}".strip(),
        },
    )


def _first_line(error: BaseException) -> str:
    said = str(getattr(error, "orig", None) or error).strip().splitlines()
    return said[0] if said else type(error).__name__
