"""The batched database writer of one preview's log events."""

from __future__ import annotations

import functools
import logging

import trio
from sqlalchemy.exc import SQLAlchemyError

from ..errors import StoreError
from ..store import Pace, Store, until_stored
from .broadcast import BATCH_BYTES, LogBroadcast
from .quota import LogQuota

__all__ = ["write_log_events"]

_log = logging.getLogger(__name__)
_MAX_BATCH = 5000
_RETRY_DELAYS = (0.05, 0.2, 1.0, 2.0)
_SMALL_BATCH = 64
# A small batch waits this long for company: a proxied call is a request log line of the
# child plus our proxy event, and each transaction costs ~0.3 ms of CPU (more on a busy
# machine), which at 20 ms of linger was most of the service's CPU per proxied call at
# a few hundred calls a second (at 100 ms, still a tenth of it at a hundred calls a
# second on a busy machine). Readers of the history wait for persistence
# (wait_persisted), which ends the linger at once: they see no more of it.
_LINGER = 0.25


async def write_log_events(
    store: Store,
    preview_id: str,
    broadcast: LogBroadcast,
    give_up: trio.Event | None = None,
    quota: LogQuota | None = None,
) -> None:
    """Persist every event of ``broadcast`` in batches until it is closed and drained;
    with a ``quota``, those it admits (past it, the writer only counts the others).

    A batch the database does not take now (down, locked, disk full: ``StoreError``)
    is written again with backoff until it lands, never dropped; meanwhile the
    broadcast's bounded queue fills and the producers wait: the pipe readers stop
    reading and the child blocks on its next write, so a preview outlives an outage
    of its database and loses no line. Only once ``give_up`` is set (the service is
    past its shutdown grace) are the events that could not be stored counted, logged
    and let go, so that the teardown can end. Runs in the preview's nursery; returns
    when everything published has been stored (or let go).
    """
    attempt = 0
    batch: list = []
    values: list = []  # what of the batch is stored: admitted once, retried as it is
    pace = None
    while True:
        if not batch:
            batch = await broadcast.take_pending(_MAX_BATCH)
            if not batch:
                return
            small = len(batch) < _SMALL_BATCH and (
                sum(len(e.message) for e in batch) < BATCH_BYTES // 4
            )  # few lines can be many bytes (an over-long line's pieces): no trickle
            pace = None
            if small and not broadcast.closed and not broadcast.batch_wanted:
                # A trickle: one transaction for what comes within _LINGER, not one each.
                with trio.move_on_after(_LINGER):  # or until a reader waits for it
                    await broadcast.storing_wanted.wait()
                if not broadcast.storing_wanted.is_set():  # nobody waits: in slices
                    pace = Pace(lambda: broadcast.closed or broadcast.storing_wanted.is_set())
                batch += broadcast.take_pending_nowait(_MAX_BATCH - len(batch), BATCH_BYTES // 2)
        if not values:
            # Event.to_values inlined: a method call per line was as much as the tuple.
            values = [
                (p, e.id, e.timestamp, e.level, e.message, e.source, e.stream, e.status, e.process)
                for p in (preview_id,)
                for e in (quota.admit(batch) if quota is not None else batch)
            ]
        try:
            began = trio.current_time()
            if values:  # past the quota, most batches store nothing
                await until_stored(
                    functools.partial(store.add_log_values, values, pace),
                    what=f"{len(values)} log events of {preview_id}",
                    give_up=give_up,
                )
                broadcast.stats.observe_write(trio.current_time() - began)
        except StoreError:
            await _let_go(preview_id, broadcast, len(batch))
            return
        except SQLAlchemyError:
            if give_up is not None and give_up.is_set():
                await _let_go(preview_id, broadcast, len(batch))
                return
            delay = _RETRY_DELAYS[min(attempt, len(_RETRY_DELAYS) - 1)]
            attempt += 1
            _log.exception("storing %d log events of %s failed; retrying", len(batch), preview_id)
            await trio.sleep(delay)
            continue
        attempt = 0
        broadcast.mark_persisted(batch[-1].id)
        batch, values = [], []


async def _let_go(preview_id: str, broadcast: LogBroadcast, unstored: int) -> None:
    """Past the shutdown grace with the database still down: take the rest without
    storing it (the producers must not wait for ever), and say how much was lost."""
    while events := await broadcast.take_pending(_MAX_BATCH):
        unstored += len(events)
    _log.error(
        "preview %s: %d log events could not be stored before the service stopped",
        preview_id,
        unstored,
    )
