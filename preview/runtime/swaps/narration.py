"""What a process that is not the preview's current one tells: :func:`side_state`.

A revision's process starting beside the running one, and the one it replaced while it
drains, are watched by a :class:`~..supervision.ChildSupervision` like any; what that
writes to its state must not become the preview's (the preview is ``running`` all
along: no ``starting``, no ``stopping``, no error of a candidate in its status, no row
change). Each writes to a state of its own whose log is the preview's, narrated: its
``system`` lines carry ``revision N:`` in front, its status changes are told as plain
lines (no ``status`` event), and its row changes are held (:class:`HeldRow`) until it
takes over. The app's own lines go to the preview's log as they are, in its sequence.
"""

from __future__ import annotations

from typing import Any

from ...logs import Event, HostPaths, LogBroadcast
from ..state import PreviewState

__all__ = ["HeldRow", "NarratedLog", "side_state"]


class HeldRow:
    """A row's changes kept, not written (see the module doc)."""

    def __init__(self) -> None:
        self.values: dict[str, Any] = {}

    def update(self, **values: Any) -> None:
        self.values.update(values)


class NarratedLog:
    """The preview's log as a side process tells it (see the module doc); everything
    but :meth:`publish` is the log's own."""

    def __init__(self, log: LogBroadcast, prefix: str) -> None:
        self._log = log
        self._prefix = prefix

    async def publish(
        self, level: str, message: str, source: str, stream: str | None = None, **_: Any
    ) -> Event | None:
        if self._log.closed:
            return None  # the preview ended: what its side process says is moot
        if source == "system":
            message = self._prefix + message
        return await self._log.publish(level, message, source, stream)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._log, name)


def side_state(
    log: LogBroadcast, host_paths: HostPaths, revision: int, *, status: str
) -> tuple[PreviewState, HeldRow]:
    """A state for revision ``revision``'s side process (its row held), in ``status``."""
    row = HeldRow()
    narrated: Any = NarratedLog(log, f"revision {revision}: ")
    state = PreviewState(narrated, row, host_paths)  # type: ignore[arg-type]
    state.status = status
    return state, row
