"""The batched database writer of one preview's log events."""

from __future__ import annotations

import logging

import trio
from sqlalchemy.exc import SQLAlchemyError

from .broadcast import LogBroadcast
from .store import Store

__all__ = ["write_log_events"]

_log = logging.getLogger(__name__)
_MAX_BATCH = 5000
_RETRY_DELAYS = (0.05, 0.2, 1.0, 2.0)
_SMALL_BATCH = 64
# A small batch waits this long for company: a proxied call is a request log line of the
# child plus our proxy event, each transaction costs ~0.3 ms of CPU, and readers of the
# history wait for persistence (wait_persisted) rather than miss a line.
_LINGER = 0.02


async def write_log_events(store: Store, preview_id: str, broadcast: LogBroadcast) -> None:
    """Persist every event of ``broadcast`` in batches until it is closed and drained.

    A batch that fails is retried (with backoff) rather than dropped; meanwhile the
    broadcast's bounded queue fills and the producers wait. Runs in the preview's
    nursery; returns only when everything published has been stored.
    """
    attempt = 0
    batch: list = []
    while True:
        if not batch:
            batch = await broadcast.take_pending(_MAX_BATCH)
            if not batch:
                return
            if len(batch) < _SMALL_BATCH and not broadcast.closed:
                # A trickle: one transaction for what comes within _LINGER, not one each.
                await trio.sleep(_LINGER)
                batch += broadcast.take_pending_nowait(_MAX_BATCH - len(batch))
        try:
            await store.add_log_values([event.to_values(preview_id) for event in batch])
        except SQLAlchemyError:
            delay = _RETRY_DELAYS[min(attempt, len(_RETRY_DELAYS) - 1)]
            attempt += 1
            _log.exception("storing %d log events of %s failed; retrying", len(batch), preview_id)
            await trio.sleep(delay)
            continue
        attempt = 0
        broadcast.mark_persisted(batch[-1].id)
        batch = []
