"""Routes that answer 500 for a cause a fix is known for: :class:`RouteFixes`.

An app can start and answer, yet fail in a route: its unpinned dependency's newest major
rejects a call made only there (PyYAML 6's ``yaml.load()`` without ``Loader`` under a
2017 flask-swagger's Swagger route), a module imported only inside a view. The smoke
check calls the routes once the app runs; where some answered 500 and the app's
traceback names a cause the remedies know (:mod:`preview.builds.remedies`), the app is
ended for its relaunch with the fix, as a launch that failed would be
(:func:`preview.builds.relaunch_with_fix`, :data:`~preview.builds.relaunch.ROUTE_FAILED`),
and goes back to what it ran with if that does not make it run. Where none is known and
the app served none of its routes, the next plan may serve
(:mod:`preview.builds.plantries`).
"""

from __future__ import annotations

from collections import deque
from typing import Any

import trio

from ...builds import PLAN_DID_NOT_SERVE, ROUTE_FAILED, Preparation
from ..state import PreviewState

__all__ = ["RouteFixes"]

_RECENT = 400  # the app's last lines kept, for the tracebacks of its failing routes
_MOST_LINES = 200  # of them, read for a cause
_TRACEBACK = "Traceback (most recent call last)"


class RouteFixes:
    """:meth:`lines` sees the app's output; :meth:`wanted` is asked after a smoke check
    whose routes failed, answering 500 or not at all (once per attempt)."""

    def __init__(self, state: PreviewState, preparation: Preparation) -> None:
        self._state = state
        self._preparation = preparation
        self._recent: deque[str] = deque(maxlen=_RECENT)

    def lines(self, texts: list[str]) -> None:
        self._recent.extend(texts)

    def attempt_starts(self) -> None:
        """The lines read from here on are the new attempt's own: an earlier attempt's
        traceback is no cause of this one's 500s (Vitaliiir16's gym API, running on its
        third attempt, was "fixed" for the ImportError its first had died of)."""
        self._recent.clear()

    async def wanted(self, result: dict[str, Any]) -> bool:
        """True when the smoke check's 500s (``result``) have a fix: said as the failure
        that ends the app, for its relaunch."""
        preparation, state = self._preparation, self._state
        remedies = preparation.remedies
        remedies.ran()  # the fixes it runs with: what a fix that fails goes back to
        tracebacks = _tracebacks(list(self._recent))
        self._recent.clear()  # the next attempt's lines are its own
        detection = preparation.spec.detection
        failing = [f"GET {f['path']}" for f in result["failing"] if (f["status"] or 0) >= 500]
        silent = [f"GET {f['path']}" for f in result["failing"] if f["status"] is None]
        said = [f"{', '.join(failing)} answered 500"] if failing else []
        said += [f"{', '.join(silent)} gave no answer"] if silent else []
        message = f"{' and '.join(said)} at the smoke check"
        fixable = False
        if tracebacks and detection is not None and detection.language == "python":
            installed = await preparation.python_versions()
            await preparation.read_era(tracebacks)  # for a dated install
            files = preparation.spec.files
            fixable = await trio.to_thread.run_sync(
                remedies.has_fix, message, tracebacks, files, installed
            )
        if fixable:
            state.error_message, state.error_lines = message, tracebacks
            state.set_reason(ROUTE_FAILED)
            return True
        if not failing:  # no answer alone (a slow machine's, perhaps): no plan judged by it
            return False
        # Started without its failing data set-up, it serves none of its routes: the
        # set-up's failure stands (plantries), before any other plan is tried.
        if preparation.plans.served_nothing_without_data(result):
            state.error_message = f"it served none of its routes: {message}"
            state.error_lines = tracebacks
            state.set_reason(PLAN_DID_NOT_SERVE)
            return True
        # No fix, and it serves none of its routes: perhaps another plan does.
        if preparation.plans.wants_next(detection, result):
            state.error_message = f"it served none of its routes: {message}"
            state.error_lines = tracebacks
            state.set_reason(PLAN_DID_NOT_SERVE)
            return True
        return False


def _tracebacks(lines: list[str]) -> list[str]:
    """The app's last lines from its first traceback among them on (none: [])."""
    lines = lines[-_MOST_LINES:]
    first = next((i for i, line in enumerate(lines) if _TRACEBACK in line), None)
    return [] if first is None else lines[first:]
