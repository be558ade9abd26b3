"""Dependencies whose names npm refuses, left out of what it installs
(:func:`without_refused_names`).

A typo in an install command becomes a dependency: ``npm i - D`` (for ``-D``) wrote
``"-": "^0.0.1"`` and ``"D": "^1.0.0"`` into fcbento's nodejs-fastify-knex-sqlite-render.
npm 10.9 and later refuse the first ("name cannot start with a hyphen") before installing
anything, so the app never starts, though it imports neither. A name npm refuses
cannot be imported by the app either (a module's name is its package's), so leaving it
out of package.json and its lockfile, saying so, changes nothing the app runs. A name
npm only warns about (capitals: ``D``, ``JSONStream``) stays.
"""

from __future__ import annotations

import json
import re

__all__ = ["without_refused_names"]

_TABLES = ("dependencies", "devDependencies", "optionalDependencies", "peerDependencies")
# npm's rule (validate-npm-package-name): URL-safe, not starting with a dot, an
# underscore or a hyphen; a scope's name likewise.
_PART = r"[A-Za-z0-9~][A-Za-z0-9._~-]*"
_VALID = re.compile(rf"(?:@{_PART}/)?{_PART}")
_LOCKFILES = ("npm-shrinkwrap.json", "package-lock.json")


def _refused(name: str) -> bool:
    return len(name) > 214 or _VALID.fullmatch(name) is None


def without_refused_names(files: dict[str, bytes]) -> tuple[dict[str, bytes], str | None]:
    """``files`` with package.json's (and its lockfile's) dependencies npm refuses the
    names of left out, and the note saying so; ``files`` itself and None when none is."""
    try:
        package = json.loads(files["package.json"])
    except (KeyError, ValueError, RecursionError):
        return files, None
    if not isinstance(package, dict):
        return files, None
    refused: list[str] = []
    for key in _TABLES:
        table = package.get(key)
        for name in [n for n in table if _refused(n)] if isinstance(table, dict) else ():
            del table[name]
            refused.append(name)
    if not refused:
        return files, None
    changed = {**files, "package.json": json.dumps(package, indent=2).encode()}
    for lockname in _LOCKFILES:
        if lockname in files:
            lock = _without(files[lockname], set(refused))
            if lock is not None:
                changed[lockname] = lock
    names = ", ".join(json.dumps(n) for n in dict.fromkeys(refused))
    return changed, f"package.json: left out {names}, a dependency npm refuses the name of"


def _without(content: bytes, names: set[str]) -> bytes | None:
    """The lockfile with ``names`` taken out of its root's dependencies and packages (both
    formats: ``packages`` of v2/v3, ``dependencies`` of v1), so that ``npm ci`` still
    finds it in step with package.json; None when it does not parse."""
    try:
        lock = json.loads(content)
    except (ValueError, RecursionError):
        return None
    if not isinstance(lock, dict):
        return None
    packages = lock.get("packages")
    if isinstance(packages, dict):
        root = packages.get("")
        for key in _TABLES:
            table = root.get(key) if isinstance(root, dict) else None
            for name in names & set(table) if isinstance(table, dict) else ():
                del table[name]
        for name in names:
            packages.pop(f"node_modules/{name}", None)
    v1 = lock.get("dependencies")
    if isinstance(v1, dict):
        for name in names:
            v1.pop(name, None)
    return json.dumps(lock, indent=2).encode()
