"""Pins that uv cannot resolve together, relaxed: :func:`unresolvable`.

uv explains why no set of versions fits ("Because httpcore==1.0.7 depends on
h11>=0.13,<0.15 and you require h11>=0.16.0 …"). A human reading that relaxes the pins it
names, no more: a pin that a package the app pins needs elsewhere takes the range that
package needs (Ridmovies' fastapi-pet-social-network: dependabot raised ``h11>=0.16.0``
and left ``httpcore==1.0.7``, which needs h11 below 0.15: httpcore is relaxed within its
major, to a release that takes h11 0.16; blaise789's fastapi-music-streaming, a Kali
machine's freeze: ``starlette==0.39.1`` beside ``fastapi==0.110.0``, which needs
starlette 0.36: starlette takes fastapi's range); a pin to a version the index never had
(ajmaln's DRF-Chat: ``python-memcached==1.11.0``, whose releases go from 1.31 to 1.62) takes
the releases nearest it (within its major, the newest of those: the resolver's choice).
Where the pins it named were relaxed already and the resolution still fails, every exact
pin of the app is relaxed within its major, once. Each change is said in the fix's system
line.
"""

from __future__ import annotations

import re

from packaging.requirements import Requirement
from packaging.specifiers import InvalidSpecifier, SpecifierSet
from packaging.version import InvalidVersion, Version

from ..installers import ABSENT_FROM_THE_INDEX
from .fixes import Fix, Tried, norm, requirement

__all__ = [
    "ABSENT_NAME",
    "RELAXED",
    "explanation",
    "nearest_release",
    "no_such_versions",
    "unresolvable",
]

RELAXED = "relaxing pins uv cannot resolve together"  # how each such fix's line starts
_EVERY = f"{RELAXED}: every exact pin of the app within its major,"
_NO_SOLUTION = "No solution found when resolving"
_NAME = r"[A-Za-z0-9][A-Za-z0-9._-]*"
# uv's explanation, read as one text (it wraps its lines): what depends on what.
_SPEC = r"(?:(?:==|>=|<=|!=|~=|<|>)[^\s,]*[^\s,.](?:,(?:==|>=|<=|!=|~=|<|>)[^\s,]*[^\s,.])*)"
_DEPENDS = re.compile(
    rf"(?<![\w.-])(?:all versions of )?({_NAME})({_SPEC})? depends? on ({_NAME})({_SPEC})"
)
_NO_VERSION = re.compile(rf"there is no version of ({_NAME})==([^\s,]+)")
_BOX = re.compile(r"^[\s│╰─▶×]+")
# uv's resolution failing on a name the index does not have at all: group 1 the name.
ABSENT_NAME = re.compile(rf"Because ({_NAME}) {ABSENT_FROM_THE_INDEX}")


def no_such_versions(text: list[str]) -> list[tuple[str, str]]:
    """The (distribution, version) pins uv's explanation says no release has."""
    if not any(_NO_SOLUTION in line for line in text):
        return []
    return list(dict.fromkeys(_NO_VERSION.findall(explanation(text))))


def nearest_release(version: str, releases: list[str]) -> str | None:
    """The range of releases nearest ``version`` among ``releases``: those above it within
    its major (the resolver takes the newest: the lowest above may be far older, as
    python-memcached 1.31 is, for Python 2 alone), else those below it within its major,
    else the one release nearest it; None where there is none (or ``version`` is none)."""
    try:
        wanted = Version(version)
    except InvalidVersion:
        return None
    known = sorted(v for r in releases if (v := _version(r)) is not None and not v.is_prerelease)
    major = [v for v in known if v.major == wanted.major]
    if any(v > wanted for v in major):
        return f">={wanted.public},<{wanted.major + 1}"
    if major:
        return f">={wanted.major},<{wanted.public}"
    above = [v for v in known if v > wanted]
    below = [v for v in known if v < wanted]
    found = above[0] if above else below[-1] if below else None
    return f"=={found}" if found is not None else None


def unresolvable(text: list[str], tried: Tried, fixes: list[Fix]) -> list[Fix]:
    """The fix for uv's failure to resolve the app's pins together (see the module doc):
    ``text`` is the failure's message, then its lines; [] where it is not that, or nothing
    of the app's is an exact pin to relax."""
    if tried.deps is None or tried.deps.lock is not None:
        return []
    if not text or _NO_SOLUTION not in text[0]:  # (its message: not a try's, passed by)
        return []
    said = explanation(text)
    if ABSENT_NAME.search(said):
        # A name the index does not have at all: no pin relaxed brings it (Jxck007's
        # flask-resume-builder freezes ``webencoding==0.5.1``, a typo: every pin was
        # relaxed, and the launch failed on it still). Its own rule says what to do
        # (remedies.candidates: left out where nothing imports it).
        return []
    pins = _exact_pins(tried.deps.requirements)
    changes: dict[str, tuple[str, str]] = {}  # distribution → (its new line, why)
    for name, version in _NO_VERSION.findall(said):
        key = norm(name)
        if key not in pins:
            continue
        near = nearest_release(version, tried.releases.get(key, []))
        if near is not None:
            changes[key] = (_with(pins[key][0], near), f"it has no release {version}")
    lines = {_line_name(line): line for line in tried.deps.requirements}
    for match in _DEPENDS.finditer(said):
        dependent, needed, needs = norm(match.group(1)), norm(match.group(3)), match.group(4)
        if needed in pins and needed not in changes and not _allows(needs, pins[needed][1]):
            why = f"{match.group(1)}{match.group(2) or ''} needs {match.group(3)}{needs}"
            changes[needed] = (_with(pins[needed][0], needs), why)
        elif dependent in pins and dependent not in changes and needed not in pins:
            if needed not in lines:
                continue  # the dependency's range is no line of the app's
            line, version = pins[dependent]
            why = f"{dependent} {version} needs {match.group(3)}{needs}, the app {lines[needed]}"
            changes[dependent] = (_with(line, _within_major(version)), why)
    if any(f.said.startswith(RELAXED) for f in fixes):
        # What it named was relaxed and it still does not resolve: every exact pin of the
        # app within its major, once.
        if any(f.said.startswith(_EVERY) for f in fixes):
            return []
        for key, (line, version) in pins.items():
            changes.setdefault(key, (_with(line, _within_major(version)), ""))
        head = _EVERY
    else:
        head = f"{RELAXED}:"
    if not changes:
        return []
    shown = ", ".join(f"{line} ({why})" if why else line for line, why in changes.values())
    return [
        Fix(
            f"{head} {shown}",
            add="\n".join(line for line, _ in changes.values()),
            drop=",".join(changes),
        )
    ]


def _line_name(line: str) -> str:
    return norm(parsed.name) if (parsed := requirement(line)) is not None else ""


def explanation(text: list[str]) -> str:
    """uv's lines as one text, without its box drawing (it wraps them at its width: a long
    name's "was" and "not found" fall on two lines)."""
    return " ".join(_BOX.sub("", line).strip() for line in text)


def _exact_pins(requirements: tuple[str, ...]) -> dict[str, tuple[str, str]]:
    """The app's lines that pin one version (``==``): distribution → (line, version)."""
    pins = {}
    for line in requirements:
        if line.startswith("-"):
            continue
        if (parsed := requirement(line)) is None:
            continue
        specs = list(parsed.specifier)
        exact = len(specs) == 1 and specs[0].operator == "==" and "*" not in specs[0].version
        if parsed.url is None and exact:
            pins[norm(parsed.name)] = (line, specs[0].version)
    return pins


def _allows(spec: str, version: str) -> bool:
    try:
        return Version(version) in SpecifierSet(spec)
    except (InvalidSpecifier, InvalidVersion):
        return True  # not understood: left alone


def _with(line: str, spec: str) -> str:
    """``line`` with ``spec`` for its version (its extras and marker kept)."""
    parsed = Requirement(line)
    extras = f"[{','.join(sorted(parsed.extras))}]" if parsed.extras else ""
    marker = f"; {parsed.marker}" if parsed.marker else ""
    return f"{parsed.name}{extras}{spec}{marker}"


def _within_major(version: str) -> str:
    """``>=version,<next major``: the pin's compatible releases. A local version's label
    is left out (``torch==1.9.0+cpu``: ``>=1.9.0,<2``): uv refuses it in a range
    ("Operator >= is incompatible with versions containing non-empty local segments")."""
    parsed = _version(version)
    if parsed is None:
        return f">={version}"
    return f">={parsed.public},<{parsed.major + 1}"


def _version(text: str) -> Version | None:
    try:
        return Version(text)
    except InvalidVersion:
        return None
