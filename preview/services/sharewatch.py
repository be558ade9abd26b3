"""The open log streams of shared users, ended when their share ends.

A share's holder reads a preview's log through the same streams as its owner (SSE and
WebSocket); each such stream is held by a :class:`ShareGuard`. The guard ends the stream
when its share is revoked (at once on this node: ``ShareWatch.end``; within
``RECHECK`` s on another, whose revocation this node learns from the store) or expires
(its deadline). The owner's own streams hold no guard and cost nothing here.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncGenerator, AsyncIterator, Callable
from datetime import datetime
from typing import TYPE_CHECKING, Any, TypeVar

import trio

from ..clock import utcnow
from ..errors import StoreError
from .shares import still_valid

if TYPE_CHECKING:
    from ..store import Store

__all__ = ["RECHECK", "ShareGuard", "ShareWatch"]

RECHECK = 0.5  # s between two looks at the store for shares revoked elsewhere
_T = TypeVar("_T")
_log = logging.getLogger(__name__)


class ShareGuard:
    """One stream read under a share: ends when the share does."""

    __slots__ = ("deadline", "ended", "scope", "share_id")

    def __init__(self, share_id: str, expires_at: datetime) -> None:
        self.share_id = share_id
        # trio's clock when the share expires (the wall clock's distance from now)
        left = (expires_at - utcnow()).total_seconds()
        self.deadline = trio.current_time() + max(left, 0.0)
        self.ended = False
        self.scope: trio.CancelScope | None = None

    def end(self) -> None:
        self.ended = True
        if self.scope is not None:
            self.scope.cancel()


class ShareWatch:
    """The guards of this node's open shared streams, by share id."""

    def __init__(self, clock: Callable[[], datetime] = utcnow) -> None:
        self._guards: dict[str, set[ShareGuard]] = {}
        self._clock = clock

    def open(self, share_id: str, expires_at: datetime) -> ShareGuard:
        guard = ShareGuard(share_id, expires_at)
        self._guards.setdefault(share_id, set()).add(guard)
        return guard

    def close(self, guard: ShareGuard) -> None:
        guards = self._guards.get(guard.share_id)
        if guards is not None:
            guards.discard(guard)
            if not guards:
                del self._guards[guard.share_id]

    def end(self, share_ids: list[str] | set[str]) -> None:
        """End the streams of these shares now (revoked)."""
        for share_id in share_ids:
            for guard in list(self._guards.get(share_id, ())):
                guard.end()

    async def guarded(
        self, items: AsyncIterator[_T], guard: ShareGuard
    ) -> AsyncGenerator[_T, None]:
        """``items`` until they end or the guard does (then nothing more: the caller
        says why). Each wait for the next item is cancelled by the guard's end; the
        scope is never held across a ``yield``."""
        try:
            while not guard.ended:
                got: list[_T] = []
                with trio.CancelScope(deadline=guard.deadline) as scope:
                    guard.scope = scope
                    try:
                        got.append(await items.__anext__())
                    except StopAsyncIteration:
                        return
                    finally:
                        guard.scope = None
                if scope.cancelled_caught or not got:
                    guard.ended = True
                    return
                yield got[0]
        finally:
            self.close(guard)
            close: Any = getattr(items, "aclose", None)
            if close is not None:
                with trio.CancelScope(shield=True):
                    await close()

    async def serve(
        self, store: Store, *, task_status: trio.TaskStatus[None] = trio.TASK_STATUS_IGNORED
    ) -> None:
        """Every ``RECHECK`` s, end the streams of shares the store no longer holds
        (revoked on another node)."""
        task_status.started()
        while True:
            await trio.sleep(RECHECK)
            ids = set(self._guards)
            if not ids:
                continue
            try:
                valid = await store.run_sync(still_valid, store.engine, ids, self._clock())
            except StoreError as error:  # unknown: they stay open until the store answers
                _log.debug("shares not rechecked: %s", error)
                continue
            self.end(ids - valid)
