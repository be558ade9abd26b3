"""Which interpreters an app's environment may be built with: :func:`interpreter_choices`.

uv picks one interpreter for a request (the first on its path that fits: the service's
own, then the newest). That one comes first; where the request is a range that other
present interpreters fit too (``^3.8``, ``>=3.12``), they follow, one per minor version,
newest first (with no request at all, those older than uv's pick: an app pinning
``Pillow==5.3.0`` and ``psycopg2==2.7.7`` has wheels on 3.7 and none on 3.11, where
building them takes minutes, and fails), so that a build can move on to the next when
the pinned dependencies have no wheels for the first, or when building one from source
fails there (see ``EnvBuilder.python_env``). A ``.python-version`` naming a patch that
is not installed (``3.10.4``) is taken as its minor version when one is (``3.10.13``),
said in a note.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from packaging.specifiers import InvalidSpecifier, SpecifierSet
from packaging.version import InvalidVersion, Version

from .installers import find_interpreter, installed_pythons, version_key

__all__ = ["Choices", "Interpreter", "interpreter_choices"]

_MOST = 6  # interpreters tried for one build, at most (wheels only: quick to refuse)
_PATCH = re.compile(r"(\d+)\.(\d+)\.\d+")
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


async def interpreter_choices(
    request: str | None, source: str | None, env: dict[str, str]
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
                f"{source or 'the app'} asks for Python {request.strip()}, which is not "
                f"installed: using {again[1]}, another patch of {minor}"
            )
    if isinstance(found, list):
        return found
    first = Interpreter(*found)
    choices = [first]
    if not request:  # any will do: uv's pick, then the older ones (old pins' wheels)
        seen = {first.minor}
        for candidate in await _installed(env):
            older = version_key(candidate.version) < version_key(first.version)
            if older and candidate.minor not in seen and candidate.version.startswith("3."):
                seen.add(candidate.minor)
                choices.append(candidate)
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
