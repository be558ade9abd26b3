"""All the workers of one spawn of a preview's app: :class:`AppWorkers`."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any

import trio

from ...apps.processes import WorkerProcess
from ...apps.spec import LaunchSpec
from ...logs import LogBroadcast, report_fault
from ...sandbox.entered import can_enter_sandbox
from .worker import System, WorkerRun, WorkerSetting

__all__ = ["AppWorkers"]

_log = logging.getLogger(__name__)


class AppWorkers:
    """The workers its detection found, less those the launch turned off, run from when
    the web process answers to its end (``ChildSupervision`` runs :meth:`run` in the
    nursery of its checks, so a stop ends them before the web process: each its whole
    group, SIGTERM then SIGKILL after the grace)."""

    def __init__(
        self,
        workers: Sequence[WorkerProcess],
        *,
        values: dict[str, str],
        broadcast: LogBroadcast,
        system: System,
        setting: WorkerSetting,
        turned_off: Sequence[str] = (),
    ) -> None:
        self._system = system
        self._setting = setting
        self.turned_off = list(turned_off)  # their names: listed as "off"
        self.runs = [
            WorkerRun(
                w.name,
                [part.format_map(values) for part in w.argv],
                w.detected_from,
                shown=w.describe()["command"],
                broadcast=broadcast,
                system=system,
                setting=setting,
                check=w.check,
            )
            for w in workers
        ]

    @classmethod
    def of(
        cls,
        spec: LaunchSpec,
        python: str,
        broadcast: LogBroadcast,
        system: System,
        setting: WorkerSetting,
    ) -> AppWorkers:
        """The workers of the app ``spec`` launches, run with ``python``, and the checks
        its preparation left to run beside it."""
        detected = spec.detection.workers if spec.detection is not None else ()
        return cls(
            [*detected, *spec.checks],
            values={"python": python, "port": str(spec.port)},
            broadcast=broadcast,
            system=system,
            setting=setting,
            turned_off=spec.workers_off,
        )

    def describe(self) -> list[dict[str, Any]]:
        off = [{"name": name, "role": "worker", "status": "off"} for name in self.turned_off]
        return [run.describe() for run in self.runs] + off

    def end_checks(self) -> None:
        """Stop the checks still running (a type check of code a revision replaces:
        what it would find is about code that no longer serves, and it takes a core from
        that revision's build)."""
        for run in self.runs:
            if run.check:
                run.stop()

    async def ready(self) -> None:
        """Return once each worker that says when it is ready has said so, or ended
        (PaskarRules' drf-orders-platform's /api/health/ pings its Celery workers: called
        before they were ready, ten seconds after the web process, it answered 503 "no
        workers"). The caller bounds the wait."""
        for run in self.runs:
            if run.says_ready and run.status != "not started":
                await run.ready.wait()

    async def run(self, sandbox_pid: int | None) -> None:
        """Every worker, until cancelled; ``sandbox_pid``: the web process's (its outer
        sandbox process, when sandboxed)."""
        if not self.runs:
            return
        confinement = self._setting.confinement
        why_not = can_enter_sandbox(confinement) if confinement is not None else None
        if why_not is not None:
            for run in self.runs:
                run.status = "not started"
                run.ready.set()
            names = ", ".join(run.name for run in self.runs)
            await self._system("WARN", f"workers not started ({names}): {why_not}")
            return
        async with trio.open_nursery() as nursery:
            for run in self.runs:
                nursery.start_soon(self._guarded, run, sandbox_pid)

    async def _guarded(self, run: WorkerRun, sandbox_pid: int | None) -> None:
        """``run``'s life; a failure of the service's own in it ends that worker alone,
        said in the log: a worker never fails the preview its web process serves."""
        try:
            await run.run(sandbox_pid)
        except Exception as error:
            said = report_fault(_log, error, f"worker {run.name}: the service failed to run it")
            run.status = "failed"
            with trio.move_on_after(5):
                await self._system("ERROR", said)
