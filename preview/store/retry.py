"""Writes that must land: :func:`until_stored` retries a store call through an outage.

What a preview's life records (its log lines, its row) is true whatever the database
does meanwhile, so it is written again, with backoff, until the database takes it.
The one bound is the service's own end: past its shutdown grace the caller sets
``give_up``, and what could not be written is reconciled at the next start (rows left
active are closed out by ``Supervisor._reconcile``).
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import TypeVar

import trio

from ..errors import StoreError

__all__ = ["until_stored"]

_log = logging.getLogger(__name__)
_T = TypeVar("_T")
_FIRST_DELAY = 0.05
_MAX_DELAY = 2.0


async def until_stored(
    attempt: Callable[[], Awaitable[_T]], *, what: str, give_up: trio.Event | None = None
) -> _T:
    """``await attempt()`` until it raises no :class:`StoreError`, waiting between tries
    from 50 ms doubling to 2 s. Once ``give_up`` is set, the last
    ``StoreError`` is raised instead of another wait. Any other error passes at once."""
    delay = _FIRST_DELAY
    failures = 0
    while True:
        try:
            result = await attempt()
        except StoreError as error:
            if failures == 0:
                _log.warning("storing %s failed (%s); retrying until it lands", what, error.code)
            failures += 1
            if give_up is not None and give_up.is_set():
                raise
            with trio.move_on_after(delay):
                if give_up is None:
                    await trio.sleep_forever()
                else:
                    await give_up.wait()
            delay = min(delay * 2, _MAX_DELAY)
            continue
        if failures:
            _log.warning("stored %s after %d failed attempts", what, failures)
        return result
