"""One launch's fixes: :class:`Remedies` (see the package's doc)."""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, replace
from pathlib import Path

from packaging.specifiers import InvalidSpecifier, SpecifierSet

from ...apps.depspec import PythonDeps
from ..installers import ABSENT_FROM_THE_INDEX, version_key
from .candidates import candidates
from .fixes import Fix, Tried, name, norm
from .resolution import unresolvable
from .stacks import companions

__all__ = ["MOST", "MOST_IDLE", "Held", "Remedies"]

MOST = 8  # fixes tried for one launch, at most
MOST_IDLE = 4  # of them, fixes after which the same failure came back, at most
_LEARNED = 1000  # dependency sets whose fixes are remembered, at most
_HOLD_LINE = re.compile(r"^[A-Za-z0-9][\w.-]*\s*<\s*\d+(?:\.\d+)*$")  # "fastapi<0.165"


@dataclass(frozen=True)
class Held:
    """Holds put on the companions of an old release (``stacks``), said once."""

    why: str  # the requirement line that asks for them ("Flask_SQLAlchemy==2.2")
    holds: tuple[str, ...]  # ("Flask<2.2", "Werkzeug<2.1")

    @property
    def said(self) -> str:
        return (
            f"{self.why} runs only with releases of its time, which it does not bound: "
            f"holding {', '.join(self.holds)} (unpinned by the app; their newest break it)"
        )


class Remedies:
    """One launch's fixes (see the package doc): :meth:`next_fix` after a failure,
    :meth:`apply` to the dependency set of the next attempt."""

    def __init__(self, learned: dict[str, list[Fix]] | None = None) -> None:
        self.fixes: list[Fix] = []
        self.idle = 0  # fixes after which the failure they were for came back
        self.tried = Tried()
        # The fixes earlier launches of a dependency set needed, by its key: the
        # builder's, shared by the service's launches (a relaunch then starts fixed).
        self._learned = learned
        self._key: str | None = None
        self.build_cache: Path | None = None  # what its builds from source built, kept
        # (message, lines, reason) of the failure the last fix was for.
        self.failure_before: tuple[str | None, list[str], str | None] | None = None
        self.held: list[Held] = []  # the companions' holds of the last apply
        self._said: set[Held] = set()
        self.ran_with: list[Fix] | None = None  # the fixes it last ran with (see ran)
        self.refused: list[Fix] = []  # fixes taken back: never tried again
        self.went_back = 0
        # The last attempt's build was TypeScript's emit without type check (set by the
        # preparation): where it then did not start, its own build is the fix.
        self.transpiled = False

    def adopt(self, files: dict[str, bytes]) -> list[Fix]:
        """The fixes an earlier launch of the same upload needed, taken as this launch's
        first ones (on its first attempt only); blocking (hashes the upload)."""
        if self._key is not None or self._learned is None:
            return []
        digest = hashlib.sha256()
        for path in sorted(files):
            digest.update(path.encode() + b"\0" + hashlib.sha256(files[path]).digest())
        self._key = digest.hexdigest()
        if self.fixes:
            return []
        self.fixes = list(self._learned.get(self._key, []))
        return list(self.fixes)

    def apply(self, deps: PythonDeps, own: PythonDeps | None = None) -> PythonDeps:
        """``deps`` with the fixes, and the holds the old releases among them need. ``own``:
        the app's list before the service added its lines to it (``deps`` where none)."""
        own = deps if own is None else own
        self.tried.listed = own
        self.tried.added = tuple(line for line in deps.requirements if line not in own.requirements)
        # A replacement goes with any line of its own name (psycopg2-binary==2.9.9 read
        # from psycopg2==2.9.9, whose wheels stop below this Python): unpinned, then.
        drop = {
            norm(n)
            for f in self.fixes
            if f.drop
            for n in (*f.drop.split(","), name(f.add or ""))
            if n
        }
        lines = [line for line in deps.requirements if name(line) not in drop]
        # (a fix relaxing several pins adds a line for each: ``resolution``). A later fix's
        # drop takes an earlier one's line of that name too: Smirl's teaflask had its
        # Flask==1.0 relaxed to Flask>=1.0,<2, then held below 1 for its flask.ext, and
        # both lines asked for nothing uv could resolve.
        added: list[str] = []
        for fix in self.fixes:
            gone = {norm(n) for n in (fix.drop or "").split(",") if n}
            added = [line for line in added if name(line) not in gone]
            added += fix.add.split("\n") if fix.add else []
        lines += [line for line in dict.fromkeys(added) if line not in lines]
        held = companions(lines, deps.requirements) if deps.lock is None else []
        lines += [hold for hold, _ in held]
        self.held = [
            Held(why, tuple(h for h, w in held if w == why))
            for why in dict.fromkeys(w for _, w in held)
        ]
        belows = [f.python_below for f in self.fixes if f.python_below]
        froms = [f.python_from for f in self.fixes if f.python_from]
        request, source = deps.python_request, deps.python_source
        if belows:
            below = min(belows, key=version_key)
            request, source = _narrowed(request, f"<{below}"), f"{source or 'the app'} and a fix"
        if froms:
            least = max(froms, key=version_key)
            request, source = _narrowed(request, f">={least}"), f"{source or 'the app'} and a fix"
        if not self.fixes and not held:
            return deps
        if deps.lock is not None:  # what the lock installs stays; left out by name
            locked = deps.names()
            left = {norm(n) for n in drop if norm(n) in locked}
            return replace(
                deps,
                requirements=tuple(lines),
                not_installed=tuple(sorted({*deps.not_installed, *left})),
            )
        builds = tuple(f.build for f in self.fixes if f.build)
        before = next((f.before for f in self.fixes if f.before), deps.exclude_newer)
        beyond = {name(f.add) for f in self.fixes if f.beyond_era and f.add}
        # Left out also where a listed package brings it (uv's overrides).
        kept_out = {norm(n) for f in self.fixes if f.keep_out and f.drop for n in f.drop.split(",")}
        return replace(
            deps,
            requirements=tuple(lines),
            # (a lock's pin of what a fix replaces goes with its line: poetry.lock's)
            constraints=tuple(c for c in deps.constraints if name(c) not in drop),
            python_request=request,
            python_source=source,
            build_constraints=(*deps.build_constraints, *builds),
            exclude_newer=before,
            beyond_era=tuple(sorted({*deps.beyond_era, *beyond})),
            # (with what the app's list already kept out: dlib beside dlib-bin)
            not_installed=tuple(sorted({*deps.not_installed, *kept_out})),
        )

    def carried(self) -> Remedies:
        """A revision's own, starting with the fixes in force here: a revision's files
        are another upload, which the fixes learned by upload (:meth:`adopt`) would miss,
        and it reuses this launch's environment, which has them (every revision under
        ``watch`` failed "No module named 'httpx'" where a launch had added it)."""
        carried = Remedies(self._learned)
        carried.fixes, carried.refused = list(self.fixes), list(self.refused)
        carried.ran_with = list(self.fixes) if self.ran_with is not None else None
        return carried

    def news(self) -> list[str]:
        """What the last :meth:`apply` held that was not said yet (once each)."""
        new = [held for held in self.held if held not in self._said]
        self._said.update(new)
        return [held.said for held in new]

    def withdraw_unknown(self, message: str, lines: list[str]) -> Fix | None:
        """The last fix, taken back, when the distribution it added is not in the package
        registry (the module it was for is no distribution's): then it was no fix, and
        the failure before it stands."""
        last = self.fixes[-1] if self.fixes else None
        if last is None or not last.add or last.drop:
            return None
        unknown = f"{name(last.add)} {ABSENT_FROM_THE_INDEX}"
        if not any(unknown in norm(line) for line in [message, *lines]):
            return None
        self.fixes.pop()
        if self._learned is not None and self._key is not None:
            self._learned[self._key] = list(self.fixes)
        return last

    def instead_of_unknown(self, taken: list[Fix], lines: list[str]) -> list[Fix]:
        """``taken`` with each fix whose added distribution the package registry lacks
        (as ``lines`` say) and that names another (:attr:`Fix.instead`) replaced, in force
        too, by one adding that; [] where there is no such fix."""
        said = [norm(line) for line in lines]
        unknown = [
            fix
            for fix in taken
            if fix.add
            and fix.instead
            and any(f"{name(fix.add)} {ABSENT_FROM_THE_INDEX}" in line for line in said)
        ]
        if not unknown:
            return []
        switched = {fix: fix.in_its_place() for fix in unknown}
        self.fixes = [switched.get(fix, fix) for fix in self.fixes]
        self._learn()
        return [switched.get(fix, fix) for fix in taken]

    def withdraw_dated(self) -> Fix | None:
        """The last fix, taken back and refused, when it is the install of the app's era
        (``era``) and no fix is known for how the attempt with it failed (no wheel of those
        versions for this Python …); None where the last fix is another."""
        last = self.fixes[-1] if self.fixes else None
        if last is None or not (last.before or last.floors):
            return None
        self.fixes.pop()
        self.refused.append(last)
        self._learn()
        return last

    def next_fix(
        self, message: str, lines: list[str], files: dict[str, bytes], installed: list[str]
    ) -> Fix | None:
        """The fix for a failure that says ``message`` (and ``lines``), or None; blocking
        (reads the environment's metadata). ``installed``: the Python versions present.
        A fix after which the failure it was for came back made no progress: at most
        :data:`MOST_IDLE` of those, :data:`MOST` in all."""
        came_back = self._came_back(message, lines)
        if came_back:
            self.idle += 1
        last = self.fixes[-1] if self.fixes else None
        if came_back and last is not None and last.add and last.instead:
            # It installed, yet the module is still missing: a package of another's by
            # that name (drf-gis is no rest_framework_gis): the other name in its place.
            switched = last.in_its_place("installed no module the app imports")
            self.fixes[-1] = switched
            self._learn()
            return switched
        fix = self._untried(message, lines, files, installed, came_back=came_back)
        if fix is not None:
            self.fixes.append(fix)
            self._learn()
        return fix

    def take(self, fix: Fix) -> None:
        """A fix found outside :meth:`next_fix` (a Node app's era: ``npmera``), in force
        from the next attempt, and remembered by the upload."""
        self.fixes.append(fix)
        self._learn()

    def replace_last(self, fix: Fix) -> None:
        """The last fix taken back and ``fix`` in force in its place (a package it added,
        at another release: ``npmmissing.older_major_fix``), remembered by the upload."""
        if self.fixes:
            self.fixes.pop()
        self.take(fix)

    def take_back(self, fixes: list[Fix]) -> None:
        """``fixes`` out of force and refused from then on (taken before a start, they
        did not build), forgotten by the upload."""
        self.fixes = [fix for fix in self.fixes if fix not in fixes]
        self.refused += fixes
        self._learn()

    def typechecked(self) -> bool:
        """Whether the app's own TypeScript build is in force (no transpile)."""
        return any(f.typechecked for f in self.fixes)

    def tried_era(self) -> bool:
        """Whether an install as of the app's era is in force, or was taken back."""
        return any(f.before or f.floors for f in (*self.fixes, *self.refused))

    def has_fix(
        self, message: str, lines: list[str], files: dict[str, bytes], installed: list[str]
    ) -> bool:
        """Whether :meth:`next_fix` would find one for this failure (nothing changes);
        blocking."""
        came_back = self._came_back(message, lines)
        return self._untried(message, lines, files, installed, came_back=came_back) is not None

    def ran(self) -> None:
        """The app ran with the fixes it has: :meth:`back_to_what_ran` returns to them."""
        self.ran_with = list(self.fixes)

    def back_to_what_ran(self) -> list[Fix] | None:
        """The fixes taken since the app last ran (for a route's failure, then for what
        the first one broke: none of them made it run again), taken back and refused
        from then on; None where there are none, or it never ran."""
        ran_with = self.ran_with
        if ran_with is None or len(self.fixes) <= len(ran_with) or self.went_back >= MOST_IDLE:
            return None
        undone = self.fixes[len(ran_with) :]
        self.refused += undone
        self.fixes, self.idle, self.failure_before = list(ran_with), 0, None
        self.went_back += 1
        self._learn()
        return undone

    def _came_back(self, message: str, lines: list[str]) -> bool:
        """Whether the failure the last fix was for came back after it (no progress)."""
        before = self.failure_before
        return (
            bool(self.fixes)
            and before is not None
            and (_failure(before[0], before[1]) == _failure(message, lines))
        )

    def _untried(
        self,
        message: str,
        lines: list[str],
        files: dict[str, bytes],
        installed: list[str],
        *,
        came_back: bool,
    ) -> Fix | None:
        tried = self.tried
        if self.idle >= MOST_IDLE or len(self.fixes) >= MOST:
            return None
        if tried.deps is None:
            return None
        text = [message, *lines]
        found = [*candidates(text, tried, files, installed), *unresolvable(text, tried, self.fixes)]
        if came_back and self.fixes and _hold(self.fixes[-1]):
            # The API went more than one release before the one it was held below (a
            # route type FastAPI 0.1xx added, which fastapi-versioning 0.10 cannot read:
            # held a minor lower four times, each the same failure): the app's era,
            # all of it as of its day, before a further step down.
            found.sort(key=lambda fix: fix.before is None)
        for fix in found:
            if tried.deps.lock is not None and not _for_a_lock(fix, tried.deps):
                continue  # a lock's pins are the app's: only a package left out, another added
            if fix not in self.fixes and fix not in self.refused and not _same(fix, self.fixes):
                return fix
        return None

    def _learn(self) -> None:
        """The fixes of this upload's dependency set, remembered for its next launch."""
        if self._learned is not None and self._key is not None:
            self._learned.pop(self._key, None)  # the latest last: the oldest go
            self._learned[self._key] = list(self.fixes)
            while len(self._learned) > _LEARNED:
                self._learned.pop(next(iter(self._learned)))


def _hold(fix: Fix) -> bool:
    """Whether ``fix`` holds a dependency below a release (``fastapi<0.165``) and no more."""
    return fix.add is not None and not fix.drop and bool(_HOLD_LINE.match(fix.add))


def _failure(message: str | None, lines: list[str]) -> tuple[str | None, str]:
    """What tells one failure from another: its message and its last line."""
    return message, lines[-1] if lines else ""


def _narrowed(request: str | None, bound: str) -> str:
    """The app's Python request with ``bound`` added (``<3.10``, ``>=3.12``); one that is
    no range (an exact one, which cannot run it) is left for the bound alone."""
    if request and re.search(r"[<>=!~,]", request):
        try:
            SpecifierSet(request)
            return f"{request.strip()},{bound}"
        except InvalidSpecifier:
            pass
    return bound


def _same(fix: Fix, fixes: list[Fix]) -> bool:
    """A fix that would change nothing: the same line, or no older Python than one tried."""
    for done in fixes:
        if fix.add is not None and fix.add == done.add:
            return True
        if fix.before and done.before:  # one era: resolved as of it once
            return True
        older = fix.python_below and done.python_below
        if older and version_key(fix.python_below or "") >= version_key(done.python_below or ""):
            return True
        newer = fix.python_from and done.python_from
        if newer and version_key(fix.python_from or "") <= version_key(done.python_from or ""):
            return True
    return False


def _for_a_lock(fix: Fix, deps: PythonDeps) -> bool:
    """Whether ``fix`` applies to an app whose lock (uv.lock) says what it installs: one
    that leaves out a locked package and adds another in its place (PyMySQL for
    mysqlclient, which cannot be built here: pjesus22's simple-drf-blog), or adds only a
    package the lock lacks (rentbest's Fastapi-Websockets-Chat: FastAPI's own 'Form data
    requires "python-multipart" to be installed', its lock without it), and changes
    nothing else: a locked package's pin stays the app's."""
    python = fix.python_below or fix.python_from
    if python or fix.build or fix.before or fix.floors or fix.typechecked:
        return False
    if not fix.drop:
        added = [name(line) for line in (fix.add or "").split("\n") if name(line)]
        return bool(added) and not any(norm(n) in deps.names() for n in added)
    return all(norm(n) in deps.names() for n in fix.drop.split(","))
