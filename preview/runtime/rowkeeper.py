"""A preview's row, kept true to its runtime through database outages: :class:`RowKeeper`.

The runtime never waits for the database to go on living: each change of its state
(``process_id``, ``running``, a health check, ``stopping``) is handed to the keeper,
which merges it into the values not yet written and writes them in the background,
with backoff until the database takes them (:func:`preview.store.until_stored`). A
failed write therefore never tears a preview down. The final values are written by
:meth:`RowKeeper.flush`, which the teardown awaits: the runtime stays in the
supervisor's registry (and the API answers from it) until its row is final, so the
service never holds a row that contradicts its process. The one bound is the
service's shutdown grace (``give_up``); a row left active then is closed out by the
next start's reconciliation.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

import trio

from ..clock import utcnow
from ..errors import StoreError
from ..sandbox.process import kill_stale_group
from ..store import Store, until_stored

__all__ = ["RowKeeper", "close_out_interrupted"]

_log = logging.getLogger(__name__)


class RowKeeper:
    """Writes of one preview's row (see the module doc). One writer at a time."""

    def __init__(
        self,
        store: Store,
        preview_id: str,
        *,
        give_up: trio.Event,
        on_error: Callable[[Exception], None],
    ) -> None:
        self._store = store
        self._id = preview_id
        self._give_up = give_up
        self._on_error = on_error
        self._unwritten: dict[str, Any] = {}
        self._changed = trio.Event()
        self._lock = trio.Lock()  # writes in order: a later value is never overwritten
        self._keeping = trio.CancelScope()

    def update(self, **values: Any) -> None:
        """Set columns of the row: written soon, in the background (:meth:`keep`)."""
        self._unwritten.update(values)
        self._changed.set()

    async def keep(self) -> None:
        """Write changes as they come, until :meth:`stop_keeping`; in the preview's nursery.

        Never raises: an error that is not the database's "not now" (a bug, a schema
        that is not ours) goes to ``on_error`` (the runtime stops the preview: its row
        cannot be kept true), and the keeper stops; :meth:`flush` tries once more."""
        with self._keeping:
            while True:
                await self._changed.wait()
                self._changed = trio.Event()
                try:
                    await self._write()
                except StoreError:  # given up: flush says what is left
                    return
                except Exception as error:
                    _log.exception("preview %s: its row could not be written", self._id)
                    self._on_error(error)
                    return

    def stop_keeping(self) -> None:
        self._keeping.cancel()

    async def flush(self) -> bool:
        """Write what is left, retrying until it lands; False if the service gave up
        first (logged: the next start reconciles the row)."""
        try:
            await self._write()
        except StoreError:
            _log.error(
                "preview %s: its row could not be updated (%s) before the service stopped; "
                "the next start closes it out",
                self._id,
                ", ".join(f"{name}={value!r}" for name, value in self._unwritten.items()),
            )
            return False
        return True

    async def _write(self) -> None:
        async with self._lock:
            while self._unwritten:
                written: dict[str, Any] = {}

                async def attempt() -> None:
                    nonlocal written
                    written = dict(self._unwritten)  # the newest values at each try
                    await self._store.update_preview(self._id, **written)

                await until_stored(attempt, what=f"the row of {self._id}", give_up=self._give_up)
                for name, value in written.items():
                    if self._unwritten.get(name, written) is value:
                        del self._unwritten[name]


async def close_out_interrupted(store: Store, *, node: str | None = None) -> None:
    """At a start, the rows a previous run left active (its crash, or a shutdown past its
    grace): each closed out as failed, its process group killed if it still runs.
    ``node`` (cluster mode): only that node's rows; every other node's previews run on."""
    for row in await store.unfinished_previews(node=node):
        killed = False
        if row.process_id:
            killed = await trio.to_thread.run_sync(
                kill_stale_group, row.process_id, row.process_started_at
            )
        reason = "interrupted by a restart of the service"
        if killed:
            reason += f"; its process {row.process_id} was killed"
        _log.warning("preview %s: %s", row.id, reason)
        await store.update_preview(
            row.id,
            any_owner=True,  # its own rows of an earlier epoch (cluster mode)
            status="failed",
            stopped_at=utcnow(),
            stop_reason="the service restarted",
            error_message=reason,
            health_status="unknown",
        )
