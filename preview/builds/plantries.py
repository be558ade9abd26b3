"""A launch's plans tried in order, judged by health: :class:`PlanTries` (and
``relaunch.try_next_plan``, which puts the next in force).

The detection ranks the ways an upload declares to start it (``preview.apps.plans``);
the launch starts the first. Where it does not serve — a set-up step fails (not the
dependency install, which every plan shares), the app exits before it answers, never
answers within the start-up timeout, or answers none of its routes but with a 5xx at the
smoke check — and the remedies know no fix (``relaunch``), the next plan is started: a
``system`` line names it and where it came from ("plan 2 of 3: `npm run dev`
(package.json script dev, named in the README)"). At most ``MOST_PLANS`` plans, and none
begun once :data:`PLAN_BUDGET` seconds have passed since the launch began. Where no later
plan serves and one before answered (its smoke check failed), the launch goes back to
that one, as the remedies go back to what ran: a launch is never left worse than its
first plan made it.

Where a plan's data set-up (migrations, seeds: the detection's ``data_setup``) fails and
no fix is known, the plans after it would fail the same way (they share that set-up):
the same plan starts once more with every step of it optional (:meth:`PlanTries.drops_data`)
— a history that creates a table twice, a migration its tool cannot run, where the app
serves all the same. A smoke check judges it: where the app then answers every route it
checks with a 5xx (or not at all), the launch fails with the set-up's failure and nothing
more is tried (:meth:`PlanTries.served_nothing_without_data`); with the smoke check off,
nothing could judge it, and the failure stands as it is.

The plan that serves is kept: for the preview's relaunches (the same detection), its
revisions (:meth:`PlanTries.carried`, as the fixes are carried) and the generation's
later launches (the builder's :attr:`learned_plans`, by generation).
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

import trio

from ..metrics import PREPARATION_FAILED

if TYPE_CHECKING:
    from ..apps.detect import Detection
    from ..apps.spec import LaunchSpec

__all__ = [
    "PLAN_BUDGET",
    "PLAN_DID_NOT_SERVE",
    "TRIED_AFTER",
    "PlanTries",
    "put_in_force",
    "with_own_code_verdict",
]

PLAN_BUDGET = 420.0  # s from the launch's start: no plan is begun after it
PLAN_DID_NOT_SERVE = "it answered none of its routes but with a 5xx at the smoke check"
# The ends after which the next plan is tried (a set-up step's only: see _plan_failed).
TRIED_AFTER = (
    PREPARATION_FAILED,
    "the process exited during start-up",
    "start-up timeout",
    PLAN_DID_NOT_SERVE,
)


class PlanTries:
    """Which plans a launch tried and how each ended; the one that served, kept."""

    def __init__(self, learned: dict[str, str] | None = None, *, judged: bool = True) -> None:
        self.outcomes: dict[int, str] = {}  # plan index -> why it was left
        self.judged = judged  # a smoke check judges a start: its data set-up may be dropped
        # Its data set-up's failure, where the start went on without that set-up.
        self.data_failure: str | None = None
        self.answered: int | None = None  # a plan that answered, its smoke check failed
        self.settled = False  # gone back to the one that answered: nothing more is tried
        self.ran_once_more = False  # a first run's set-up ended it: started again (relaunch)
        # The first plan's failure (its message, lines, stop reason): the launch's where no
        # later plan serves nor answered (relaunch.try_next_plan).
        self.first_failure: tuple[str | None, list[str], str | None] | None = None
        self._learned = learned  # the builder's: generation id -> the command that served
        self.began = trio.current_time()

    def describe(self, detection: Detection | None) -> dict[str, Any] | None:
        """The status's ``runtime.plan``: the plan in force, where it and each of its
        steps came from, and every plan with how it ended (None: no plans)."""
        if detection is None or not detection.plans:
            return None
        plans = []
        for index, plan in enumerate(detection.plans):
            if index == detection.plan:
                outcome = "in force"
            elif index in self.outcomes:
                outcome = f"left: {self.outcomes[index]}"
            else:
                outcome = "not tried"
            plans.append({"number": index + 1, **plan.describe(), "outcome": outcome})
        return {"inForce": detection.plan + 1, "of": len(detection.plans), "plans": plans}

    def adopt(self, spec: LaunchSpec) -> str | None:
        """At a launch's start: the plan an earlier launch of this generation kept, put in
        force, and its line; None where there is none (or it is the first)."""
        detection = spec.detection
        kept = self._learned.get(spec.generation_id) if self._learned is not None else None
        if detection is None or kept is None:
            return None
        index = next((i for i, p in enumerate(detection.plans) if p.command == kept), None)
        if not index:
            return None
        put_in_force(spec, detection.with_plan(index))
        plan = detection.plans[index]
        said = plan.said(index + 1, len(detection.plans))
        return f"with the plan an earlier launch of this generation kept: {said}"

    def keep(self, spec: LaunchSpec) -> None:
        """The plan in force served: its later launches start with it."""
        detection = spec.detection
        if self._learned is None or detection is None or not detection.plans:
            return
        self._learned.pop(spec.generation_id, None)  # the latest last: the oldest go
        self._learned[spec.generation_id] = detection.plans[detection.plan].command
        while len(self._learned) > 1000:
            self._learned.pop(next(iter(self._learned)))

    def wants_next(self, detection: Detection | None, result: dict[str, Any]) -> bool:
        """After a smoke check that had failures: whether the app answered none of its
        routes but with a 5xx (or not at all) and a next plan may be tried."""
        if detection is None or self.settled or self.next(detection) is None:
            return False
        if not _served_none(result):
            return False
        if self.answered is None:
            self.answered = detection.plan
        return True

    def drops_data(self, detection: Detection | None) -> bool:
        """After a failure of its data set-up that no fix is known for: whether the plan
        in force is to start once more without it (module doc): once a launch, where a
        smoke check judges it and a step of that set-up is not optional already."""
        if detection is None or not self.judged or self.data_failure is not None:
            return False
        return any(step not in detection.optional for step in detection.data_setup)

    def served_nothing_without_data(self, result: dict[str, Any]) -> bool:
        """After a smoke check with failures (``result``): whether the start that went on
        without its data set-up answered none of its routes but with a 5xx (or not at
        all); then nothing more is tried."""
        if self.data_failure is None or self.settled or not _served_none(result):
            return False
        self.settled = True
        return True

    def explained(self, message: str | None) -> str | None:
        """A failed launch's ``message``, led by its data set-up's failure where the start
        went on without that set-up: the cause a user fixes first."""
        failure = self.data_failure
        if failure is None or message is None or message.startswith(failure):
            return message
        return f"{failure} (then, started without it: {message})"

    def carried(self) -> PlanTries:
        """A revision's: the same memory, nothing tried yet (its detection is its own,
        the plan in force applied to it by :meth:`applied`)."""
        return PlanTries(self._learned, judged=self.judged)

    @staticmethod
    def applied(detection: Detection, running: Detection | None) -> tuple[Detection, str | None]:
        """``detection`` (a revision's) started as the running one is, where it declares
        the same start; and the line saying so (None: the first plan, as detected)."""
        if running is None or not running.plans or not running.plan:
            return detection, None
        command = running.plans[running.plan].command
        index = next((i for i, p in enumerate(detection.plans) if p.command == command), None)
        if not index:
            return detection, None
        said = detection.plans[index].said(index + 1, len(detection.plans))
        return detection.with_plan(index), f"with the plan in force: {said}"

    def next(self, detection: Detection) -> int | None:
        """The next plan not tried yet, within the budget; None: none."""
        if trio.current_time() - self.began > PLAN_BUDGET:
            return None
        later = range(detection.plan + 1, len(detection.plans))
        return next((i for i in later if i not in self.outcomes), None)


# The verdict a failure's cause ends with where a module of the app's own requires one of
# its own it never committed (``logs.causes.failure``): the module it names, by its path.
_ABSENT_OWN_MODULE = re.compile(
    r" — (\S+ requires (\S+), and the upload has no .*: the app's own code)$"
)


def with_own_code_verdict(
    first: tuple[str | None, list[str], str | None], later: str | None
) -> tuple[str | None, list[str], str | None]:
    """The first plan's failure (its message, lines, stop reason), the launch's where no
    plan served, with a later plan's verdict that the app's own code requires a module
    of its own it never committed, where the first's failure names that module too: the
    app fails so whatever starts it. nodeexcel's expressPaymentGateway: its build's 32
    TypeScript errors began with "Cannot find module './admin.delete'" (TS2307), and its
    dev script's ts-node died on the same require, which src/controllers/admins/index.ts
    makes and no file answers; the launch said the build's errors alone."""
    message, lines, reason = first
    found = _ABSENT_OWN_MODULE.search(later or "")
    if message is None or found is None or found.group(1) in message:
        return first
    quoted = (f"'{found.group(2)}'", f'"{found.group(2)}"')
    if not any(q in text for text in (message, *lines) for q in quoted):
        return first
    return f"{message} — {found.group(1)}", lines, reason


def _served_none(result: dict[str, Any]) -> bool:
    """Whether a smoke check's ``result`` is every checked route answering 5xx or not at all."""
    checked, failing = result["checked"], result["failing"]
    if not checked or len(failing) < checked:
        return False
    return all((f["status"] or 500) >= 500 for f in failing)


def put_in_force(spec: LaunchSpec, detection: Detection) -> None:
    """``detection`` the spec's, its command filled in as a launch fills it."""
    spec.detection = detection
    shown = {"python": "{python}", "port": str(spec.port), "root_path": spec.root_path}
    spec.argv = [part.format_map(shown) for part in detection.argv]
