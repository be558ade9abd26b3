"""A failed launch tried again with a fix: :func:`relaunch_with_fix`.

When a Python app's build, a set-up step or its start fails for a cause the service
recognises (see :mod:`preview.builds.remedies`), the fix is said as a ``system`` line,
what the failure left is cleared (its message, its lines, its reason, its sandbox), and
the preview prepares and starts again in the same directory, its databases emptied of
what the failed attempt left (its migrations and seeds run again: ``reset_data``): at
most ``MOST`` fixes per launch, ``MOST_IDLE`` of them after which the same failure came
back. A stop requested meanwhile is never undone.

A running app whose routes answered 500 at the smoke check, for a cause a fix is known
for (a call an unpinned dependency's newest major rejects, say), is relaunched the same
way (:data:`ROUTE_FAILED`): where the fix, and the fixes for what it broke in turn, end
without the app running, the preview goes back to the fixes it ran with, and the route's
500 stands.

A Node app with no lockfile whose build or start fails in its dependencies is installed
once more as of its era (``remedies.npmera``: npm's ``--before``, or its ranges at their
floors where the registry gives no release times), said as a fix likewise, and taken back
where that install fails, or fails as today's did.

Where no fix is known for a failure, the next of the plans the upload declares may
serve (:func:`try_next_plan`, :mod:`.plantries`); where it was the app's data set-up that
failed, the same plan first starts once more without the steps of it that fail, judged by
the smoke check.
"""

from __future__ import annotations

import json
import re
from collections.abc import Awaitable
from typing import Any, Protocol

import trio

from ..metrics import PREPARATION_FAILED
from ..sandbox import Containment
from .plantries import TRIED_AFTER, put_in_force, with_own_code_verdict
from .preparation import BUILD, DATA_INIT, INSTALL, Preparation
from .remedies import Fix
from .remedies.npmera import dependency_failure, node_era_fix
from .remedies.npmmissing import missing_module_fix, older_major_fix, peer_placement_fix

__all__ = [
    "RELAUNCHED_AFTER",
    "ROUTE_FAILED",
    "Relaunchable",
    "relaunch_with_fix",
    "run_once_more",
    "start_again",
    "try_next_plan",
]

ROUTE_FAILED = "its routes answered 500 at the smoke check"
_EXITED = "the process exited during start-up"
# The ends a fix may undo: a failed build or set-up step, an exit during start-up, a
# route's failure at the smoke check (stopped for its fix by the supervision).
RELAUNCHED_AFTER = (PREPARATION_FAILED, _EXITED, ROUTE_FAILED)


class _State(Protocol):
    stop_reason: str | None
    exit_code: int | None
    smoke: dict | None
    row: Any

    # Properties of the state (each keeps its row in step, or its phases' times): read
    # and set as attributes.
    @property
    def phase(self) -> str: ...

    @phase.setter
    def phase(self, phase: str) -> None: ...

    @property
    def error_message(self) -> str | None: ...

    @error_message.setter
    def error_message(self, message: str | None) -> None: ...

    @property
    def error_lines(self) -> list[str]: ...

    @error_lines.setter
    def error_lines(self, lines: list[str]) -> None: ...

    def system(self, level: str, message: str) -> Awaitable[None]: ...
    def publish_status(self, status: str, message: str) -> Awaitable[None]: ...


class Relaunchable(Protocol):
    """What of a preview a relaunch resets (a ``PreviewRuntime``)."""

    # Read-only here: a relaunch changes what they hold, never which they are.
    @property
    def state(self) -> _State: ...

    @property
    def preparation(self) -> Preparation: ...

    @property
    def containment(self) -> Containment: ...

    def fresh_scopes(self) -> bool: ...
    def reset_data(self) -> Awaitable[None]: ...


async def relaunch_with_fix(runtime: Relaunchable) -> bool:
    """After a failed attempt: True when a fix was found and the preview was made
    ready to prepare and start again with it (its scopes fresh), else False."""
    state, preparation = runtime.state, runtime.preparation
    detection = preparation.spec.detection
    if state.stop_reason not in RELAUNCHED_AFTER or detection is None:
        return False
    if detection.language == "node":
        return (
            await _node_older_major(runtime)
            or await _node_missing(runtime)
            or await _node_own_build(runtime)
            or await _node_peers(runtime)
            or await _node_era(runtime)
        )
    if detection.language != "python":
        return False
    remedies = preparation.remedies
    withdrawn = remedies.withdraw_unknown(state.error_message or "", list(state.error_lines))
    if withdrawn is not None and remedies.failure_before is not None:
        state.error_message, state.error_lines, state.stop_reason = remedies.failure_before
        if withdrawn.instead is not None:  # the module's other likely distribution
            remedies.take(switched := withdrawn.in_its_place())
            await state.system("WARN", f"fix {len(remedies.fixes)}: {switched.said}")
            return await start_again(runtime, "starting again, with the fix above")
        # No such distribution: the module was the app's mistake, as the failure before said.
        await state.system("WARN", f"{withdrawn.add} is not in the package registry: no fix")
        return await _back_to_what_ran(runtime)
    installed = await preparation.python_versions()
    await preparation.read_era([state.error_message or "", *state.error_lines])
    await preparation.read_releases([state.error_message or "", *state.error_lines])
    fix = await trio.to_thread.run_sync(
        preparation.remedies.next_fix,
        state.error_message or "",
        list(state.error_lines),
        preparation.spec.files,
        installed,
    )
    if fix is None:
        dated = remedies.withdraw_dated() if remedies.ran_with is None else None
        if dated is not None and remedies.failure_before is not None:
            # It never ran: what it failed with before the dated install stands.
            if state.error_message:
                await state.system("ERROR", state.error_message)
            await state.system("WARN", f"{dated.change} did not make it run: no fix")
            state.error_message, state.error_lines, state.stop_reason = remedies.failure_before
            return False
        return await _back_to_what_ran(runtime)
    return await _start_with(runtime, fix)


async def _start_with(runtime: Relaunchable, fix: Fix) -> bool:
    """The failure remembered (where the ``fix`` taken for it does not help, it stands
    again), said once with the fix, and the preview made ready to start again."""
    state, remedies = runtime.state, runtime.preparation.remedies
    remedies.failure_before = (state.error_message, list(state.error_lines), state.stop_reason)
    if state.stop_reason != PREPARATION_FAILED and state.error_message:
        await state.system("ERROR", state.error_message)  # said once: what the fix is for
    await state.system("WARN", f"fix {len(remedies.fixes)}: {fix.said}")
    return await start_again(runtime, "starting again, with the fix above")


async def _node_missing(runtime: Relaunchable) -> bool:
    """A Node app whose own module requires a package it does not list: that package
    added (``remedies.npmmissing``), at most :data:`_MOST_ADDED` a launch, each once."""
    state, preparation = runtime.state, runtime.preparation
    remedies = preparation.remedies
    if sum(1 for f in (*remedies.fixes, *remedies.refused) if f.add) >= _MOST_ADDED:
        return False
    files = preparation.spec.files
    listed = set(_listed_names(files))
    # (an added package's name, its release range left: ``koa-body@<6``)
    listed |= {
        re.sub(r"(?<=.)@.*$", "", line)
        for f in remedies.fixes
        if f.add
        for line in f.add.split("\n")
    }
    message, lines = state.error_message or "", list(state.error_lines)
    fix = await missing_module_fix(files, message, lines, listed)
    if fix is None or fix in remedies.refused:
        return False
    remedies.take(fix)
    return await _start_with(runtime, fix)


_MOST_ADDED = 3  # packages added to one Node launch (npmmissing)


async def _node_older_major(runtime: Relaunchable) -> bool:
    """The package the last fix added (its newest release: ``_node_missing``) taken below
    its newest major, where the app's module then called its default export and found
    no function (``remedies.npmmissing.older_major_fix``); once a package."""
    state, preparation = runtime.state, runtime.preparation
    remedies = preparation.remedies
    last = remedies.fixes[-1] if remedies.fixes else None
    if last is None or not last.add or last.drop:
        return False
    message, lines = state.error_message or "", list(state.error_lines)
    fix = await older_major_fix(preparation.spec.files, message, lines, last.add)
    if fix is None or fix in remedies.refused:
        return False
    remedies.replace_last(fix)
    return await _start_with(runtime, fix)


async def _node_own_build(runtime: Relaunchable) -> bool:
    """A TypeScript app built by TypeScript's emit without type check
    (``builds.typescript``) that exited during start-up: started again from its own
    build, once (the two emits differ where a file is not self-contained)."""
    state, remedies = runtime.state, runtime.preparation.remedies
    if not remedies.transpiled or state.stop_reason != _EXITED or remedies.typechecked():
        return False
    fix = Fix(
        said="its own TypeScript build run (type check and all): built by TypeScript's "
        "emit without type check, it exited during start-up",
        typechecked=True,
    )
    remedies.take(fix)
    return await _start_with(runtime, fix)


async def _node_peers(runtime: Relaunchable) -> bool:
    """A yarn-locked app whose package could not find another's module: installed again
    honouring its packages' peer dependencies (``remedies.npmmissing.peer_placement_fix``),
    once."""
    state, preparation = runtime.state, runtime.preparation
    remedies = preparation.remedies
    if any(f.peers for f in (*remedies.fixes, *remedies.refused)):
        return False
    message, lines = state.error_message or "", list(state.error_lines)
    fix = peer_placement_fix(preparation.spec.files, message, lines)
    if fix is None:
        return False
    remedies.take(fix)
    return await _start_with(runtime, fix)


def _listed_names(files: dict[str, bytes]) -> list[str]:
    """The packages the upload's package.json lists (any table)."""
    try:
        package = json.loads(files.get("package.json", b"{}"))
    except ValueError:
        return []
    if not isinstance(package, dict):
        return []
    tables = ("dependencies", "devDependencies", "optionalDependencies", "peerDependencies")
    return [n for t in tables if isinstance(package.get(t), dict) for n in package[t]]


async def _node_era(runtime: Relaunchable) -> bool:
    """A Node app with no lockfile whose failure points at its dependencies: installed
    again as of its era (``remedies.npmera``), once; where that install fails, or fails
    as today's did, it is taken back and the failure before stands."""
    state, preparation = runtime.state, runtime.preparation
    remedies = preparation.remedies
    message, lines = state.error_message or "", list(state.error_lines)
    last = remedies.fixes[-1] if remedies.fixes else None
    if last is not None and (last.before or last.floors):
        again = dependency_failure(message, lines) is not None or state.phase == INSTALL
        if not again or remedies.failure_before is None:
            return False  # it went further: the failure is a later one, no fix for it
        remedies.withdraw_dated()
        if state.error_message:
            await state.system("ERROR", state.error_message)
        await state.system("WARN", f"{last.change} did not make it run: no fix")
        state.error_message, state.error_lines, state.stop_reason = remedies.failure_before
        return False
    if remedies.tried_era():
        return False
    fix = await node_era_fix(preparation.spec.files, message, lines)
    if fix is None:
        return False
    remedies.take(fix)
    return await _start_with(runtime, fix)


async def _back_to_what_ran(runtime: Relaunchable) -> bool:
    """No fix for this failure: where fixes taken since the app last ran led to it, the
    preview starts again without them; else False (the failure stands)."""
    state = runtime.state
    undone = runtime.preparation.remedies.back_to_what_ran()
    if undone is None:
        return False
    if state.stop_reason != PREPARATION_FAILED and state.error_message:
        await state.system("ERROR", state.error_message)
    changes = ", ".join(f.change for f in undone)
    said = f"{changes} did not make it run: starting again as it ran before, without it"
    await state.system("WARN", said)
    return await start_again(runtime, "starting again, as it ran before")


# A start that exited cleanly having said what it did, nothing of a failure: a first run's
# set-up (its database made, its migrations applied) after which the app ends itself.
_DONE_QUIETLY = "exited with code 0 before it served: "
_SAYS_FAILURE = re.compile(
    r"error|exception|fail|cannot|can't|could not|unable|denied|refused|not found|missing|usage",
    re.IGNORECASE,
)


async def run_once_more(runtime: Relaunchable) -> bool:
    """After an attempt whose app exited with code 0 before it served, having printed
    what it did and no failure: True when it was made ready to start once more (once a
    launch), its data as that run left it, as its author runs it a second time
    (peterdee's fastify-pg: its first start makes its database, applies its migrations,
    says "-- migrations: done" and calls ``process.exit(0)``; the next one serves)."""
    state, tries = runtime.state, runtime.preparation.plans
    message = state.error_message or ""
    if state.stop_reason != _EXITED or tries.ran_once_more:
        return False
    if not message.startswith(_DONE_QUIETLY) or _SAYS_FAILURE.search(message):
        return False
    tries.ran_once_more = True
    await state.system(
        "WARN",
        f"it {message}, saying no failure: a first run's set-up, which ends it; "
        "started once more, its data as that run left it",
    )
    return await start_again(runtime, "starting once more", keep_data=True)


async def start_again(runtime: Relaunchable, said: str, *, keep_data: bool = False) -> bool:
    """What the failed attempt left cleared, for the next one (its data too, unless
    ``keep_data``); False: stopped meanwhile."""
    state = runtime.state
    await trio.to_thread.run_sync(runtime.containment.release)
    if not runtime.fresh_scopes():
        return False  # stopped meanwhile
    if not keep_data:
        await runtime.reset_data()  # its migrations run again on empty databases
    runtime.containment.confinement = None
    state.stop_reason, state.error_message, state.error_lines = None, None, []
    state.exit_code, state.smoke = None, None
    await state.publish_status("starting", said)
    state.row.update(status="starting")
    return True


async def try_next_plan(runtime: Relaunchable) -> bool:
    """After a failed attempt no fix was found for: True when the next plan (else the
    one that answered before) was put in force and the preview made ready to start
    again with it (its scopes fresh); False: the failure stands."""
    state = runtime.state
    preparation = runtime.preparation
    spec = preparation.spec
    tries = preparation.plans
    detection = spec.detection
    if detection is None or tries.settled or not _plan_failed(state):
        return False
    data_failed = state.phase == DATA_INIT and state.stop_reason == PREPARATION_FAILED
    if data_failed and tries.drops_data(detection):
        return await _without_failing_data(runtime)
    if len(detection.plans) < 2:
        return False
    why = state.error_message or state.stop_reason or "it failed"
    tries.outcomes[detection.plan] = why
    if detection.plan == 0 and tries.first_failure is None:
        tries.first_failure = (state.error_message, list(state.error_lines), state.stop_reason)
    index = tries.next(detection)
    if index is None:
        back = tries.answered
        if back is None and detection.plan and tries.first_failure is not None:
            # No plan answered: the detection's own start's cause is the user's to see
            # (a later plan is what else the upload declares, its failure a guess's:
            # markov500's README `flask run` found no app, where its own start had died
            # on its database's URL).
            await state.system(
                "WARN",
                f"no plan served ({len(tries.outcomes)} tried): the first plan's failure "
                "is the launch's",
            )
            first = with_own_code_verdict(tries.first_failure, state.error_message)
            state.error_message, state.error_lines, state.stop_reason = first
            return False
        if back is None or back == detection.plan:
            return False
        tries.settled = True
        put_in_force(spec, detection.with_plan(back))
        plan = detection.plans[back]
        await state.system(
            "WARN",
            f"no later plan served: back to {plan.said(back + 1, len(detection.plans))}, "
            "which answered",
        )
        return await start_again(runtime, f"starting again, with plan {back + 1}")
    if state.stop_reason != PREPARATION_FAILED and state.error_message:
        await state.system("ERROR", state.error_message)  # said once: why it is left
    chosen = detection.with_plan(index)
    # (the data set-up every plan shares failed before: not fatal in this one either)
    put_in_force(spec, chosen.with_data_optional() if tries.data_failure else chosen)
    await state.system("WARN", detection.plans[index].said(index + 1, len(detection.plans)))
    return await start_again(runtime, f"starting again, with plan {index + 1}")


async def _without_failing_data(runtime: Relaunchable) -> bool:
    """The plan in force started once more, the steps of its data set-up that fail
    dropped (:mod:`.plantries`); False: stopped meanwhile."""
    state, preparation = runtime.state, runtime.preparation
    spec, tries = preparation.spec, preparation.plans
    assert spec.detection is not None
    tries.data_failure = state.error_message or "its data set-up failed"
    put_in_force(spec, spec.detection.with_data_optional())
    await state.system(
        "WARN",
        "no fix is known for its data set-up's failure: started once more without the "
        "steps of it that fail, judged by whether it then serves its routes",
    )
    return await start_again(runtime, "starting again, without its data set-up's failures")


def _plan_failed(state: _State) -> bool:
    """Whether the attempt ended as a plan's failure: not a stop, a limit, nor the
    dependency install every plan shares."""
    if state.stop_reason not in TRIED_AFTER:
        return False
    return state.stop_reason != PREPARATION_FAILED or state.phase in (BUILD, DATA_INIT)
