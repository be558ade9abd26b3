"""One build or set-up command, its output streamed as events: :func:`run_logged`.

The command starts through :func:`spawn_child` like the app itself (so whatever isolation
wraps the app wraps builds and set-up steps too), its two pipes are read into lines, and
each batch of lines goes to ``publish`` (which puts them in the preview's log as ``build``
events). The last lines are kept for the failure's reason, each stream's apart
(``logs.OutputTails``): the cause is looked for in stderr first.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import trio

from ..logs import LevelClassifier, LineSplitter, OutputTails, failure_cause
from ..sandbox.isolation import Confinement
from ..sandbox.outbound import Outbound, open_outbound
from ..sandbox.process import ChildLimits, spawn_child, terminate_group

__all__ = ["Publish", "StepResult", "run_logged"]

# publish(lines as (level, text), stream): awaited for each batch, in order.
Publish = Callable[[list[tuple[str, str]], str], Awaitable[None]]
_KEPT = 200
_DRAIN = 2.0
_GRACE = 2.0
_MAX_LINE = 16_384
_NOTHING_OUT = Outbound()


@dataclass
class StepResult:
    returncode: int | None
    tail: list[str]  # the last lines of both streams, as they came
    timed_out: bool
    tails: OutputTails = field(default_factory=OutputTails)  # each stream's, apart

    @property
    def ok(self) -> bool:
        return self.returncode == 0 and not self.timed_out

    def cause(self, needed: Sequence[str] = (), **hints: Any) -> tuple[str | None, list[str]]:
        """Why it failed (a traceback's exception, else the last line it said), from
        stderr first, and the lines of the stream that tell it; ``needed``: the
        variables required and unset, named when it died for want of one; ``hints``:
        :func:`~preview.logs.failure_cause`'s (the upload's files, its dependency file),
        so that a module of the upload is not told to be installed."""
        return self.tails.cause(lambda lines: _cause(lines, needed, hints))


def _cause(lines: list[str], needed: Sequence[str], hints: dict[str, Any]) -> str | None:
    last = next((line.strip() for line in reversed(lines) if line.strip()), None)
    return failure_cause(lines, needed=needed, **hints) or last


async def run_logged(
    argv: Sequence[str],
    *,
    cwd: Path,
    env: dict[str, str],
    limits: ChildLimits,
    publish: Publish,
    time_limit: float,
    confinement: Confinement | None = None,
) -> StepResult:
    """Run ``argv`` to its end (or ``time_limit`` seconds), streaming its lines to ``publish``.

    With a ``confinement`` (see :meth:`.Isolation.confine_step`), in its sandbox and
    cgroup, reaching out only by the ways its ``outbound`` opens (the egress proxy's
    refusals are lines of the output). Raises ``OSError`` when it cannot start; on
    cancellation the whole group is killed.
    """
    tail = OutputTails(interleaved=_KEPT)

    async def refused(message: str) -> None:
        await publish([("WARN", message)], "stderr")

    outbound_dir = confinement.outbound_dir if confinement is not None else None
    outbound = confinement.outbound if confinement is not None else _NOTHING_OUT
    try:
        async with open_outbound(outbound_dir, outbound, refused):
            process = await spawn_child(
                argv, cwd=cwd, env=env, limits=limits, confinement=confinement
            )
            timed_out = False
            async with trio.open_nursery() as nursery:
                nursery.start_soon(_read, process.stdout, "stdout", publish, tail)
                nursery.start_soon(_read, process.stderr, "stderr", publish, tail)
                try:
                    with trio.move_on_after(time_limit) as deadline:
                        await process.wait()
                    timed_out = deadline.cancelled_caught
                finally:
                    with trio.CancelScope(shield=True), trio.move_on_after(_GRACE + 5):
                        await terminate_group(process, _GRACE, confinement)
                    # Pipes held open by an escaped grandchild must not hold the step up.
                    nursery.cancel_scope.deadline = trio.current_time() + _DRAIN
    finally:
        if confinement is not None:
            with trio.CancelScope(shield=True), trio.move_on_after(_GRACE + 5):
                await trio.to_thread.run_sync(confinement.release)
    returncode = process.returncode
    if confinement is not None and returncode is not None:
        returncode = confinement.exit_status(returncode)
    return StepResult(returncode, list(tail.lines), timed_out, tail)


async def _read(
    pipe: trio.abc.ReceiveStream | None, stream: str, publish: Publish, tail: OutputTails
) -> None:
    if pipe is None:
        return
    splitter = LineSplitter(_MAX_LINE)
    classify = LevelClassifier().classify
    async with pipe:
        async for chunk in pipe:
            lines = [line.text for line in splitter.feed(chunk)]
            if lines:
                tail.extend(stream, lines)
                await publish([(classify(text), text) for text in lines], stream)
        rest = [line.text for line in splitter.finish()]
        if rest:
            tail.extend(stream, rest)
            await publish([(classify(text), text) for text in rest], stream)
