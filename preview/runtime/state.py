"""What users see of one preview, as it changes: :class:`PreviewState`.

Its status and phase, its health, when it started and stopped, and how it ended (the
exit code, the reason, the error and the lines that show why), with the ``system``
events and row changes that tell them. One object that both the preview's life
(``lifecycle``) and the watch of its child (``supervision``) write to, so that neither
reaches into the other.
"""

from __future__ import annotations

import time
from datetime import datetime
from typing import Any

from ..logs import HostPaths, LogBroadcast
from .rowkeeper import RowKeeper

__all__ = ["BY_THE_USER", "PreviewState"]

BY_THE_USER = "stopped by the user"  # the stop reason of DELETE …/preview


class PreviewState:
    """One preview's state as users see it (see the module doc).

    Made with its :class:`~.lifecycle.PreviewRuntime` and owned by it; its
    :class:`~.supervision.ChildSupervision` writes to it while the child runs. It
    outlives both the child and the teardown: the API reads it until the runtime leaves
    the supervisor's registry.
    """

    def __init__(self, broadcast: LogBroadcast, row: RowKeeper, host_paths: HostPaths) -> None:
        self.broadcast = broadcast
        self.row = row
        self.host_paths = host_paths
        self.status = "starting"
        self._phase = "preparing"
        # Each phase and when it began (monotonic): where a launch's time went.
        self._phase_began: list[tuple[str, float]] = [("preparing", time.monotonic())]
        self._phases_ended: float | None = None  # when it began to stop or failed
        # Per phase, whether all it did came from a cache (phase_cached).
        self._cached: dict[str, bool] = {}
        self.health_status = "unknown"
        self.last_health_check: datetime | None = None
        self.started_at: datetime | None = None
        self.stopped_at: datetime | None = None
        self.exit_code: int | None = None
        self.stop_reason: str | None = None
        # Its process killed at its stop with no SIGTERM grace (a node that fenced itself:
        # the other nodes reap its previews within seconds).
        self.kill_at_stop = False
        self._error_message: str | None = None
        self._error_lines: list[str] = []
        # Once running: the smoke check's outcome, {ok, checked, failing} (see ``smoke``).
        self.smoke: dict | None = None

    @property
    def phase(self) -> str:
        """How far its start got: ``preparing``, ``installing dependencies``, ``build``
        and ``data init`` (its set-up steps), ``waiting to start``, ``starting``,
        ``running``."""
        return self._phase

    @phase.setter
    def phase(self, phase: str) -> None:
        if phase != self._phase:
            self._phase = phase
            self._phase_began.append((phase, time.monotonic()))

    def phase_cached(self, phase: str, cached: bool) -> None:
        """What ``phase`` did came from a cache (an environment reused, a step's output
        or the data kept) or not; the phase is ``cached`` when all it did was."""
        self._cached[phase] = self._cached.get(phase, True) and cached

    def phase_times(self) -> list[dict[str, Any]]:
        """``[{phase, seconds, cached?}]`` in the order they came: each phase's time to
        the next; the one it is in, so far (``current``), unless it is ``running``, whose
        time is the uptime; ``cached`` where all the phase did came from a cache. A
        relaunch reads where its time went (issue 68: a cached launch's install should be
        nothing; its set-up steps and start are what is left)."""
        now = self._phases_ended or time.monotonic()
        times: list[dict[str, Any]] = []
        for at, (phase, began) in enumerate(self._phase_began):
            last = at == len(self._phase_began) - 1
            if last and phase == "running":
                break
            ended = now if last else self._phase_began[at + 1][1]
            entry: dict[str, Any] = {"phase": phase, "seconds": round(ended - began, 2)}
            if self._cached.get(phase):
                entry["cached"] = True
            if last and self.status in ("starting", "running"):
                entry["current"] = True
            times.append(entry)
        return times

    @property
    def error_message(self) -> str | None:
        """Why it failed, as users see it (no host path: set through ``host_paths``)."""
        return self._error_message

    @error_message.setter
    def error_message(self, message: str | None) -> None:
        self._error_message = self.host_paths(message) if message else message

    @property
    def error_lines(self) -> list[str]:
        """The last lines that show why, as users see them."""
        return self._error_lines

    @error_lines.setter
    def error_lines(self, lines: list[str]) -> None:
        self._error_lines = self.host_paths.lines(lines)

    def stopping_message(self) -> str:
        """``stopping (by the user)``: the status event while it stops."""
        reason = self.stop_reason or "asked to"
        return f"stopping ({reason.removeprefix('stopped ')})"

    def stopped_message(self) -> str:
        """``stopped by the user``, ``stopped: idle for 600 s``: its end, said once."""
        reason = self.stop_reason or "asked to"
        return reason if reason.startswith("stopped ") else f"stopped: {reason}"

    def end_message(self, final_status: str) -> str:
        """The last status event's message: the failure's cause, or the stop's words."""
        if final_status == "failed":
            return f"failed: {self.error_message}"
        return self.stopped_message()

    def set_reason(self, reason: str) -> None:
        """Why it ends; the first reason given wins."""
        if self.stop_reason is None:
            self.stop_reason = reason

    async def system(self, level: str, message: str) -> None:
        """The service's own narration, as a ``system`` event of the preview's log."""
        await self.broadcast.publish(level, message, "system")

    def proxy_event(
        self,
        method: str,
        path: str,
        status: int | None,
        elapsed_ms: float,
        request_id: str,
        error: str | None = None,
    ) -> int | None:
        """A proxied request, as a ``proxy`` event between the app's own lines; its id
        (the request history's link to the log), None once the log is closed. Added
        without waiting for the writer's room: the caller waits for it
        (``LogBroadcast.wait_for_writer``)."""
        if self.broadcast.closed:
            return None
        outcome = str(status) if status is not None else f"failed ({error})"
        level = "ERROR" if status is None or status >= 500 else "WARN" if status >= 400 else "INFO"
        message = f"{method} {path} -> {outcome} in {elapsed_ms:.1f} ms [{request_id}]"
        return self.broadcast.add(level, message, "proxy").id

    async def publish_status(self, status: str, message: str) -> None:
        self.status = status
        if status not in ("starting", "running") and self._phases_ended is None:
            self._phases_ended = time.monotonic()
        level = "ERROR" if status == "failed" else "INFO"
        await self.broadcast.publish(level, message, "system", status=status)
