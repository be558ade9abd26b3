"""What one process of a preview is, once ready to spawn: :class:`ProcessRecipe`; and what
reads its output to diagnose it: :class:`Diagnoses`.

A launch (``lifecycle.runtime``), its relaunch with a fix and a revision's swap
(``swaps``) each make a recipe and hand it to a :class:`~.supervision.ChildSupervision`,
which spawns it and watches it to its end. Before, each assembled the supervision's
seventeen arguments itself, and the two had drifted apart: a revision got none of the
launch's diagnoses, and ran without the fixes the launch had needed. One record makes
what a process is the same wherever it is made; the launch's diagnoses are given to its
revisions (:meth:`Diagnoses.for_revision`).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # (annotations only: an idle service imports none of what launches use)
    from ..apps.spec import LaunchSpec
    from ..sandbox import ChildLimits, Confinement
    from .processes import AppWorkers
    from .upstream import Upstream

__all__ = ["NO_DIAGNOSES", "Diagnoses", "ProcessRecipe", "startup_allowed"]


@dataclass(frozen=True)
class ProcessRecipe:
    """A process ready to spawn: what to run (``spec.argv``, on ``spec.port``), where
    (``app_dir``), with what environment and limits, in what sandbox (``confinement``)
    and reached how (``upstream``); its workers, started once it answers; where a
    missing module should be listed (hints); the fixes in force ("+ PyYAML")."""

    spec: LaunchSpec
    app_dir: Path
    env: dict[str, str]
    limits: ChildLimits
    confinement: Confinement | None
    upstream: Upstream
    workers: AppWorkers | None = None
    listed_in: str = "requirements.txt"
    fixes: tuple[str, ...] = ()
    startup_timeout: float | None = None  # else the settings' (see startup_allowed)


@dataclass(frozen=True)
class Diagnoses:
    """What reads a process's output and answers, the preview's for all its processes:
    ``watch`` is given the app's lines (missing tables, calls its sandbox refuses,
    routes' tracebacks), ``needed`` the variables it is known to lack (said when it
    fails for one), ``on_failing_routes`` the smoke check's 500s (True: a fix is known,
    and the process ends for its relaunch)."""

    watch: Callable[[list[str]], Awaitable[None]] | None = None
    needed: Sequence[str] = ()
    on_failing_routes: Callable[[dict[str, Any]], Awaitable[bool]] | None = None

    def for_revision(self) -> Diagnoses:
        """A revision's: all but the relaunch for a route's fix. A revision that took
        over serves; ending it for a relaunch would take down what serves (its routes'
        500s are still told, by ``watch``)."""
        return replace(self, on_failing_routes=None)


NO_DIAGNOSES = Diagnoses()


def startup_allowed(timeout: float, uncompiled: bool) -> float:
    """The start-up time a process is given: twice the settings' ``timeout`` for a
    first start on an uncompiled environment (``builds.preparation.uncompiled_environment``:
    a pandas app's imports took 18-21 s uncompiled, 3-8 s compiled, on a loaded machine)."""
    return timeout * (2 if uncompiled else 1)
