"""What one revision's application to a running preview came to: :class:`SwapResult`,
as the API and the status tell it, with when each of its steps ended (``timings``:
from the revision's receipt by the API to the new process's switch, in ms)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import trio

__all__ = ["SwapResult", "changes_said"]


@dataclass(eq=False)
class SwapResult:
    """One revision's application, as the API and the status tell it."""

    revision: int
    changed: tuple[str, ...]
    serving: int  # the revision the preview serves (after the swap, once decided)
    state: str = "applying"  # switched | failed | superseded | not_running
    message: str = ""
    ready_ms: float | None = None
    error: str | None = None
    error_lines: list[str] = field(default_factory=list)
    done: trio.Event = field(default_factory=trio.Event, repr=False)
    # When each step ended (trio time), from the API's receipt of the revision on.
    marks: dict[str, float] = field(default_factory=dict, repr=False)

    def mark(self, step: str, at: float | None = None) -> None:
        self.marks[step] = trio.current_time() if at is None else at

    def decide(self, state: str, message: str) -> None:
        self.state, self.message = state, message
        self.mark(state)
        self.done.set()

    def timings(self) -> dict[str, float]:
        """Each step's end, in ms since the first (the revision's receipt), in order."""
        if not self.marks:
            return {}
        first = min(self.marks.values())
        ordered = sorted(self.marks.items(), key=lambda item: item[1])
        return {step: round((at - first) * 1000, 1) for step, at in ordered}

    def describe(self) -> dict[str, Any]:
        return {
            "revision": self.revision,
            "state": self.state,
            "message": self.message,
            "servingRevision": self.serving,
            "readyMs": round(self.ready_ms) if self.ready_ms is not None else None,
            "errorMessage": self.error,
            "errorLines": self.error_lines,
            "timings": self.timings(),
        }


def changes_said(changed: tuple[str, ...]) -> str:
    """``2 files changed`` / ``1 file changed (main.py)``."""
    count = len(changed)
    said = f"{count} file{'' if count == 1 else 's'} changed"
    return said + (f" ({changed[0]})" if count == 1 else "")
