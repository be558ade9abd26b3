"""Which interpreters an app's environment may be built with: :func:`interpreter_choices`.

uv picks one interpreter for a request (the first on its path that fits: the service's
own, then the newest). That one comes first; where the request is a range that other
present interpreters fit too (``^3.8``, ``>=3.12``), they follow, one per minor version,
newest first (with no request at all, those older than uv's pick, newest first: an app
pinning ``Pillow==5.3.0`` and ``psycopg2==2.7.7`` has wheels on 3.7 and none on 3.11, where
building them takes minutes, and fails; then the newer ones, for a pin that requires
one), so that a build can move on to the next when
the pinned dependencies have no wheels for the first, or when building one from source
fails there (:func:`build_first_fitting`). A ``.python-version`` naming a patch that
is not installed (``3.10.4``) is taken as its minor version when one is (``3.10.13``),
said in a note; one naming a minor version not installed, the range its pyproject
allows where it says one, else the nearest minor version installed, within two
(``3.14`` where 3.13 is the newest here), said too.

Where the package index tells which requirements have wheels for which of them
(:mod:`.wheelindex`), they are tried in the order of what would be built from source
(fewest first; uv's order among equals), and those known to lack a wheel are not tried
with wheels only: ``Flask==0.12.2`` … ``psycopg2==2.7.3`` (wheels up to 3.6) is built on
3.6 at once rather than on 3.11, 3.10 and 3.9 in turn (minutes each, failing).
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TypeVar

import trio
from packaging.specifiers import InvalidSpecifier, SpecifierSet
from packaging.utils import canonicalize_name
from packaging.version import InvalidVersion, Version

from .envcache import BuildFailed, Say
from .installers import (
    ABSENT_FROM_THE_INDEX,
    MACHINE_LACKS,
    NO_WHEEL_ANYWHERE,
    OVERSIZED,
    find_interpreter,
    installed_pythons,
    version_key,
)
from .remedies.pythons import PYTHON2_ONLY, older_python_named, python2_code
from .steps import Publish
from .wheelindex import Gaps

__all__ = ["Choices", "Interpreter", "build_first_fitting", "interpreter_choices"]

T = TypeVar("T")
# (the interpreter, where its output goes, wheels only?) -> the built environment. None:
# from source, after wheels only were just refused on that interpreter (not tried again).
Attempt = Callable[["Interpreter", Publish, bool | None], Awaitable[T]]
_NAMED = re.compile(r"^building ([A-Za-z0-9._-]+) |build `([A-Za-z0-9._-]+?)(?:[=`]|$)")
_SOURCE_BUILDS = 3  # interpreters a build from source is tried with, at most
_SHOWN = 4  # packages named in a line, at most

_MOST = 8  # interpreters tried for one build, at most (wheels only: quick to refuse)
_PATCH = re.compile(r"(\d+)\.(\d+)\.\d+")
_MINOR_PIN = re.compile(r"(?:>=|==|~=)?\s*(\d+)\.(\d+)(?:\.\d+)?")
# Minor versions a pin may be from the nearest installed: a release this machine has not
# got yet (3.14) or no longer has, not one that does not exist (3.99).
_NEAREST_WITHIN = 2
_RANGE = re.compile(r"[<>=!~,]")


@dataclass(frozen=True)
class Interpreter:
    path: str
    version: str

    @property
    def minor(self) -> str:
        return ".".join(self.version.split(".")[:2])


@dataclass(frozen=True)
class Choices:
    interpreters: tuple[Interpreter, ...]  # the first is uv's own pick
    note: str | None = None  # how the choice differs from what the app asked


async def _fallback(
    pin: tuple[str, str], fallback: tuple[str, str], env: dict[str, str]
) -> Choices | None:
    """Where the version ``pin`` (version, .python-version) names is not installed, the
    interpreters ``fallback`` (requires-python, its file) allows; None if none does."""
    allowed, source = fallback
    found = await interpreter_choices(allowed, source, env)
    if isinstance(found, list):
        return None
    if found.note is not None:  # the range's floor not installed either: the nearest
        note = (
            f"{pin[1]} asks for Python {pin[0]} and {source}'s requires-python {allowed!r}, "
            f"neither installed: using {found.interpreters[0].version}, the nearest installed"
        )
        return Choices(found.interpreters, note)
    note = (
        f"{pin[1]} asks for Python {pin[0]}, which is not installed: using "
        f"{found.interpreters[0].version}, which {source}'s requires-python {allowed!r} allows"
    )
    return Choices(found.interpreters, note)


async def interpreter_choices(
    request: str | None,
    source: str | None,
    env: dict[str, str],
    *,
    fallback: tuple[str, str] | None = None,
) -> Choices | list[str]:
    """The interpreters for ``request`` (see the module doc); when none fits, the
    versions present instead. No code of the upload runs."""
    found = await find_interpreter(request, env)
    note = None
    patch = _PATCH.fullmatch(request.strip()) if request else None
    if isinstance(found, list) and patch is not None:
        minor = f"{patch.group(1)}.{patch.group(2)}"
        again = await find_interpreter(minor, env)
        if not isinstance(again, list):
            found = again
            note = (
                f"{source or 'the app'} asks for Python {patch.group(0)}, which is not "
                f"installed: using {again[1]}, another patch of {minor}"
            )
    if isinstance(found, list):  # else what requires-python allows, where a pin is absent
        pin = (request or "", source or "")
        allowed = await _fallback(pin, fallback, env) if fallback else None
        return allowed or await _nearest(pin, env) or found
    first = Interpreter(*found)
    choices = [first]
    if not request:  # any will do: uv's pick, the older ones (old pins' wheels), the newer
        seen = {first.minor}
        newer: list[Interpreter] = []
        for candidate in await _installed(env):
            if candidate.minor in seen or not candidate.version.startswith("3."):
                continue
            seen.add(candidate.minor)
            older = version_key(candidate.version) < version_key(first.version)
            if older:
                choices.append(candidate)
            else:
                newer.insert(0, candidate)
        # Newer ones last, oldest first: a pin of a release that requires a newer Python
        # than uv's pick (AmnaAshraf-2's drf-university-management-system: Django==6.0,
        # Python>=3.12) was tried on 3.11, 3.10 and 3.9 and refused on each.
        choices += newer
    elif _RANGE.search(request):
        try:
            fits = SpecifierSet(request.strip())
        except InvalidSpecifier:
            return Choices(tuple(choices), note)
        seen = {first.minor}
        for candidate in await _installed(env):
            try:
                fitting = fits.contains(Version(candidate.version))
            except InvalidVersion:
                continue
            if fitting and candidate.minor not in seen:
                seen.add(candidate.minor)
                choices.append(candidate)
    return Choices(tuple(choices[:_MOST]), note)


async def _nearest(pin: tuple[str, str], env: dict[str, str]) -> Choices | None:
    """Where the minor version ``pin`` (version, its file) names, or its floor (``>=3.14``),
    is not installed and nothing bounds it otherwise: the nearest installed, within
    ``_NEAREST_WITHIN`` minor versions (the newer of two as near), said; None if none is.
    fastapi-marketplace's ``.python-version`` asked for 3.14 (its requires-python ">=3.14")
    with 3.13 the newest here, and the launch ended there although nothing in it needed
    3.14; ``uv sync`` is told the same (``envcache.patch_floor``)."""
    asked = _MINOR_PIN.fullmatch(pin[0].strip())
    if asked is None:
        return None
    major, minor = asked.group(1), int(asked.group(2))
    present = [i for i in await _installed(env) if i.version.split(".")[0] == major]

    def distance(candidate: Interpreter) -> tuple[int, bool]:
        own = int(candidate.minor.split(".")[1])
        return abs(own - minor), own < minor

    near = [i for i in present if distance(i)[0] <= _NEAREST_WITHIN]
    if not near:
        return None
    chosen = min(near, key=distance)
    note = (
        f"{pin[1] or 'the app'} asks for Python {pin[0]}, which is not installed: using "
        f"{chosen.version}, the nearest installed"
    )
    return Choices((chosen,), note)


async def _installed(env: dict[str, str]) -> list[Interpreter]:
    """CPython interpreters present, newest first (their ``pythonX.Y`` paths)."""
    found: dict[str, Interpreter] = {}
    for entry in await installed_pythons(env):
        if entry.get("implementation") != "cpython":
            continue
        version, path = entry.get("version"), entry.get("path")
        if not isinstance(version, str) or not isinstance(path, str):
            continue
        candidate = Interpreter(path, version)
        if path.endswith(f"python{candidate.minor}") or version not in found:
            found[version] = candidate
    return sorted(found.values(), key=lambda i: version_key(i.version), reverse=True)


async def build_first_fitting(
    interpreters: tuple[Interpreter, ...],
    find_gaps: Callable[[], Awaitable[dict[str, Gaps] | None]],
    attempt: Attempt[T],
    publish: Publish,
    say: Say,
) -> T:
    """The environment built with the first interpreter that fits (see the module doc):
    the first for which every package has a wheel (each tried with wheels only, its
    output streamed as it comes, its errors as warnings: a failed try is followed by a
    line saying so and what comes next); if none has, each is built from source in
    turn until one succeeds. ``find_gaps``: what each lacks, by version, if known; asked
    while uv's pick is tried (when it has every wheel, the answer is not awaited)."""
    first, *others = interpreters
    if not others:
        return await attempt(first, publish, False)
    missing: dict[Interpreter, BuildFailed] = {}  # those wheels only were refused on: why
    found: list[dict[str, Gaps] | None] = []
    async with trio.open_nursery() as nursery:

        async def ask() -> None:
            found.append(await find_gaps())

        nursery.start_soon(ask)
        built = await _wheels_only(first, attempt, publish, say, missing)
        absent = built is None and _found_by_none(missing[first])
        # A download past the size a build may write is as large on every Python, from
        # source too (12345zq's FastapiService: torch's 514 MiB and CUDA's wheels downloaded
        # again on three more Pythons, then once more, until the launch's time ran out):
        # its remedy is next.
        oversized = built is None and OVERSIZED in missing[first].message
        # A package with no wheel for any Python that the app's newer releases need: with
        # wheels only, every Python takes the same older releases (see EnvBuilder).
        sourced = built is None and NO_WHEEL_ANYWHERE in missing[first].message
        if built is not None or absent or oversized or sourced:
            nursery.cancel_scope.cancel()
    if built is not None:
        return built[0]
    if absent or oversized:
        why = "no Python finds it" if absent else "the same size on every Python"
        await say(f"{missing[first].message}: not tried on another Python ({why})")
        raise missing[first]
    gaps = found[0] if found else None
    ranked = interpreters
    if gaps is not None:
        ranked = tuple(sorted(interpreters, key=lambda i: _cost(gaps, i)))
        if ranked[0] != first:
            await say(_why_first(ranked[0], first, gaps))
    for interpreter in () if sourced else ranked:
        lacking = gaps.get(interpreter.version) if gaps is not None else None
        if interpreter == first or (lacking is not None and lacking.cost != (0, 0)):
            continue  # tried, or known to fail with wheels only
        built = await _wheels_only(interpreter, attempt, publish, say, missing)
        if built is not None:
            refused = (f"Python {i.version}: {failed.message}" for i, failed in missing.items())
            await say(
                f"Python {interpreter.version}: wheels for every package "
                f"(not on {'; '.join(refused)})"
            )
            return built[0]
    failures: list[BuildFailed] = []
    tried = ", ".join(f"Python {interpreter.version}" for interpreter in missing)
    await say(
        f"building from source on Python {ranked[0].version}: no Python tried has a wheel "
        f"for every package ({tried})"
    )
    left = _SOURCE_BUILDS  # (one known too new for the build costs none)
    for interpreter in ranked:
        if not left:
            break
        if failures and OVERSIZED in failures[-1].message:
            # A download past the size a build may write is as large for every Python
            # (yaswanthkumarch's fastapi-email-tracker: torch's 783 MiB, and CUDA's
            # wheels, downloaded again on 3.12 until the launch's time ran out): its
            # remedy is next, not another Python.
            await say(f"{failures[-1].message}: not tried on another Python (the same size)")
            break
        if failures and _found_by_none(failures[-1]):
            # A requirement the index lacks is lacked on every Python (poornaonline's
            # FlaskHospitalManagementSystem: a Raspberry Pi's freeze, each pin the index
            # has not tried on three Pythons, its launch out of time by the fifth fix).
            await say(f"{failures[-1].message}: not tried on another Python (no index has it)")
            break
        if failures and python2_code([failures[-1].message, *failures[-1].lines]):
            # Every Python here is 3: each would fail the same, one after another, until the
            # launch's time ran out (jplusplus' arte-world-of-work: boto 2.9.6).
            await say(f"{failures[-1].message}: {PYTHON2_ONLY}: not tried on another Python")
            raise BuildFailed(f"{failures[-1].message}: {PYTHON2_ONLY}", failures[-1].lines)
        if failures and _too_new_for(failures[-1], interpreter):
            await say(
                f"{failures[-1].message}: not tried on Python {interpreter.version}, which "
                "its build's error says is too new for it as well"
            )
            continue
        left -= 1
        if failures and _no_wheel_either(failures[-1], interpreter, gaps):
            await say(
                f"{failures[-1].message}: not tried on Python {interpreter.version}, "
                "which has no wheel of it either"
            )
            continue
        if failures:
            await say(f"{failures[-1].message}: trying Python {interpreter.version}")
        try:
            return await attempt(interpreter, publish, None if interpreter in missing else False)
        except BuildFailed as failed:
            failures.append(failed)
    raise _cause(failures)


def _found_by_none(failed: BuildFailed) -> bool:
    """Whether ``failed`` names a requirement the index lacks altogether, which no other
    Python finds either (a freeze's apt package was tried with wheels only on five Pythons
    and from source on three before its remedy)."""
    return ABSENT_FROM_THE_INDEX in failed.message


def _too_new_for(failed: BuildFailed, interpreter: Interpreter) -> bool:
    """Whether ``failed`` (a build from source) died on an error that Pythons from some
    version on raise in older packages' code (ElementTree's ``getchildren()``, gone in
    3.9), ``interpreter`` being that version or newer: its build fails the same."""
    below = older_python_named([failed.message, *failed.lines])
    return below is not None and version_key(interpreter.version) >= version_key(below)


def _no_wheel_either(
    failed: BuildFailed, interpreter: Interpreter, gaps: dict[str, Gaps] | None
) -> bool:
    """Whether ``failed`` (a build from source) lacked what this machine has for no Python
    (MySQL's or PostgreSQL's client library: :data:`.installers.MACHINE_LACKS`) and the
    index has no wheel of that package for ``interpreter`` either: built from source there
    too, it fails the same (GlazovDaniil's DRF-events-website-API: mysqlclient tried on
    3.11, 3.10 and 3.9, a minute and a half, before its remedy)."""
    if gaps is None or not any(needs in failed.message for needs in MACHINE_LACKS):
        return False
    name = _package(failed.message)
    lacking = gaps.get(interpreter.version)
    if name is None or lacking is None:
        return False
    unbuilt = {canonicalize_name(entry.split("==")[0]) for entry in lacking.unbuilt}
    return canonicalize_name(name) in unbuilt


def _cause(failures: list[BuildFailed]) -> BuildFailed:
    """The failure that is the cause: the first's (a later Python's is only a
    fallback's), unless another package failed on more of the Pythons tried: orjson
    3.6.8 failing on 3.11 alone (no wheel) while mysqlclient fails on 3.10 and 3.9 (no
    MySQL headers, on any Python) is mysqlclient's."""
    named = [_package(failed.message) for failed in failures]
    counts = {name: named.count(name) for name in named if name is not None}
    top = max(counts.values(), default=0)
    if named[0] is None or counts.get(named[0], 0) == top:
        return failures[0]
    return failures[named.index(next(n for n in named if counts.get(n or "") == top))]


def _package(message: str) -> str | None:
    """The package a build's reason names ("building X …", uv's "build `X==1`")."""
    found = _NAMED.search(message)
    return (found.group(1) or found.group(2)).lower() if found is not None else None


async def _wheels_only(
    interpreter: Interpreter,
    attempt: Attempt[T],
    publish: Publish,
    say: Say,
    missing: dict[Interpreter, BuildFailed],
) -> tuple[T] | None:
    """Built with wheels only, else None, why in ``missing`` and a line saying the try
    ended (its lines, streamed as they came, are then those of a try that did not
    count)."""
    try:
        built = await attempt(interpreter, _trying(publish), True)
    except BuildFailed as failure:
        missing[interpreter] = failure
        await say(
            f"the try with prebuilt wheels only on Python {interpreter.version} ended "
            f"(the lines above): {failure.message}; the build goes on"
        )
        return None
    return (built,)


def _cost(gaps: dict[str, Gaps], interpreter: Interpreter) -> tuple[int, int]:
    lacking = gaps.get(interpreter.version)
    return lacking.cost if lacking is not None else (0, 0)


def _why_first(chosen: Interpreter, passed: Interpreter, gaps: dict[str, Gaps]) -> str:
    """A system line: why ``chosen`` comes before uv's pick."""
    mine, theirs = gaps[chosen.version], gaps[passed.version]
    extra = [p for p in (*theirs.excluded, *theirs.unbuilt) if p not in mine.unbuilt]
    said = (
        f"Python {chosen.version}, not {passed.version}: the packages have wheels for it "
        f"where {passed.version} would build them from source or cannot install them "
        f"({_names(extra)})"
    )
    if mine.unbuilt:
        said += f"; built from source either way: {_names(mine.unbuilt)}"
    return said


def _names(items: tuple[str, ...] | list[str]) -> str:
    shown = ", ".join(items[:_SHOWN])
    return shown + (f" and {len(items) - _SHOWN} more" if len(items) > _SHOWN else "")


def _trying(publish: Publish) -> Publish:
    """``publish`` for a try with wheels only: its errors are warnings (a failed try is
    followed by another attempt: the build's own failure, if any, is that one's)."""

    async def trying(lines: list[tuple[str, str]], stream: str) -> None:
        await publish([("WARN" if lvl == "ERROR" else lvl, text) for lvl, text in lines], stream)

    return trying
